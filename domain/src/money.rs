//! Money as integer minor units with an ISO-4217 currency; never floating point.

use std::fmt;

use serde::{Deserialize, Serialize};

/// ISO-4217 currencies the platform bills in, with their minor-unit exponent.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AUD", 2),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("INR", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("MXN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("PLN", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("USD", 2),
    ("ZAR", 2),
    ("KWD", 3),
    ("BHD", 3),
];

/// An ISO-4217 currency code from the supported list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Currency(String);

impl Currency {
    /// # Errors
    /// When the code is not a supported ISO-4217 code.
    pub fn parse(code: &str) -> Result<Self, String> {
        if CURRENCIES.iter().any(|(known, _)| *known == code) {
            Ok(Self(code.to_owned()))
        } else {
            Err(format!(
                "'{code}' is not a supported ISO-4217 currency code"
            ))
        }
    }

    pub fn code(&self) -> &str {
        &self.0
    }

    /// Digits after the decimal point (2 for EUR, 0 for JPY).
    pub fn minor_unit_exponent(&self) -> u8 {
        CURRENCIES
            .iter()
            .find(|(known, _)| *known == self.0)
            .map_or(2, |(_, exp)| *exp)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A non-negative amount in minor units (cents for EUR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MinorUnits(i64);

impl MinorUnits {
    pub const ZERO: Self = Self(0);

    /// # Errors
    /// When the amount is negative.
    pub fn parse(amount: i64) -> Result<Self, String> {
        if amount < 0 {
            Err("must not be negative".to_owned())
        } else {
            Ok(Self(amount))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    pub fn checked_mul(self, factor: u32) -> Option<Self> {
        self.0.checked_mul(i64::from(factor)).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes_are_checked_against_iso_4217() {
        assert_eq!(
            Currency::parse("EUR").map(|c| c.minor_unit_exponent()),
            Ok(2)
        );
        assert_eq!(
            Currency::parse("JPY").map(|c| c.minor_unit_exponent()),
            Ok(0)
        );
        assert!(Currency::parse("eur").is_err());
        assert!(Currency::parse("XXX").is_err());
    }

    #[test]
    fn amounts_are_never_negative_and_never_overflow() {
        assert!(MinorUnits::parse(-1).is_err());
        assert_eq!(
            MinorUnits::parse(i64::MAX)
                .unwrap()
                .checked_add(MinorUnits(1)),
            None
        );
        assert_eq!(MinorUnits(250).checked_mul(4), Some(MinorUnits(1000)));
    }
}
