//! Unsigned counts read from whichever integer a format offers. The Avro schemas carry counts
//! as `int`, so a serde reader of Avro offers an `i32` where JSON offers a `u64`; serde's own
//! `u32` asks for a `u32` and a strict reader of Avro refuses to widen. Both read the same
//! values here, range-checked; serialising is unchanged.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

struct CountVisitor;

impl Visitor<'_> for CountVisitor {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a count from 0 to 4294967295")
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<u32, E> {
        u32::try_from(n).map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<u32, E> {
        u32::try_from(n).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))
    }
}

/// `#[serde(deserialize_with = "crate::counts::count")]`
pub(crate) fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    deserializer.deserialize_any(CountVisitor)
}

struct OptionalCountVisitor;

impl<'de> Visitor<'de> for OptionalCountVisitor {
    type Value = Option<u32>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a count or nothing")
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<u32>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<u32>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<u32>, D::Error> {
        count(deserializer).map(Some)
    }
}

/// `#[serde(default, deserialize_with = "crate::counts::optional_count")]`
pub(crate) fn optional_count<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u32>, D::Error> {
    deserializer.deserialize_option(OptionalCountVisitor)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Counted {
        #[serde(deserialize_with = "super::count")]
        n: u32,
        #[serde(default, deserialize_with = "super::optional_count")]
        m: Option<u32>,
    }

    #[test]
    fn json_counts_read_as_before() {
        let read: Counted = serde_json::from_str(r#"{"n": 4294967295, "m": 7}"#).unwrap();
        assert_eq!(
            read,
            Counted {
                n: u32::MAX,
                m: Some(7)
            }
        );
        let read: Counted = serde_json::from_str(r#"{"n": 0, "m": null}"#).unwrap();
        assert_eq!(read, Counted { n: 0, m: None });
        let read: Counted = serde_json::from_str(r#"{"n": 1}"#).unwrap();
        assert_eq!(read.m, None);
    }

    #[test]
    fn out_of_range_or_other_types_are_refused() {
        for json in [
            r#"{"n": -1}"#,
            r#"{"n": 4294967296}"#,
            r#"{"n": "3"}"#,
            r#"{"n": 1.5}"#,
        ] {
            assert!(serde_json::from_str::<Counted>(json).is_err(), "{json}");
        }
    }
}
