//! Cursor pagination: `?limit=`, an opaque `?cursor=` and the `{items, next_cursor}` envelope.
//!
//! A cursor is base64url (no padding) of JSON `{"q": <query tag>, "k": <last row's sort key>}`.
//! The tag names the endpoint and ordering, so a cursor is refused by any other query.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub(crate) const DEFAULT_LIMIT: i64 = 50;
pub(crate) const MAX_LIMIT: i64 = 200;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` were fetched with `limit + 1`: the extra row only says that a next page exists.
    pub(crate) fn from_rows<K: Serialize>(
        mut rows: Vec<T>,
        limit: i64,
        tag: &str,
        key: impl Fn(&T) -> K,
    ) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = rows
            .last()
            .filter(|_| more)
            .map(|last| encode_cursor(tag, &key(last)));
        Self {
            items: rows,
            next_cursor,
        }
    }
}

/// What a query fetches for a page of `limit` rows.
pub(crate) fn fetch_size(limit: i64) -> i64 {
    limit + 1
}

/// # Errors
/// Unless `text` is an integer from 1 to 200.
pub(crate) fn parse_limit(text: &str) -> Result<i64, String> {
    text.parse::<i64>()
        .ok()
        .filter(|limit| (1..=MAX_LIMIT).contains(limit))
        .ok_or_else(|| format!("must be an integer from 1 to {MAX_LIMIT}"))
}

#[derive(Serialize)]
struct CursorOut<'a, K> {
    q: &'a str,
    k: &'a K,
}

#[derive(Deserialize)]
struct CursorIn<K> {
    q: String,
    k: K,
}

pub(crate) fn encode_cursor<K: Serialize>(tag: &str, key: &K) -> String {
    let cursor = CursorOut { q: tag, k: key };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).expect("sort keys serialize"))
}

/// # Errors
/// Unless `text` is a cursor this query (`tag`) handed out.
pub(crate) fn decode_cursor<K: DeserializeOwned>(tag: &str, text: &str) -> Result<K, String> {
    const INVALID: &str = "must be a next_cursor returned by this query";
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| INVALID.to_owned())?;
    let cursor: CursorIn<K> = serde_json::from_slice(&bytes).map_err(|_| INVALID.to_owned())?;
    if cursor.q != tag {
        return Err(INVALID.to_owned());
    }
    Ok(cursor.k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn cursors_round_trip_and_belong_to_their_query() {
        let key = ("b".to_owned(), Uuid::now_v7());
        let text = encode_cursor("agents:name", &key);
        assert_eq!(
            decode_cursor::<(String, Uuid)>("agents:name", &text),
            Ok(key)
        );
        assert!(decode_cursor::<(String, Uuid)>("tasks:created_at", &text).is_err());
        assert!(decode_cursor::<(String, Uuid)>("agents:name", "%%").is_err());
        assert!(decode_cursor::<(String, Uuid)>("agents:name", "e30").is_err());
    }

    #[test]
    fn pages_cut_the_extra_row_and_point_past_the_last_one() {
        let page = Page::from_rows(vec![1, 2, 3], 2, "n", |n| *n);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(decode_cursor::<i32>("n", &page.next_cursor.unwrap()), Ok(2));
        let last = Page::from_rows(vec![1, 2], 2, "n", |n| *n);
        assert!(last.next_cursor.is_none());
    }

    #[test]
    fn limits_are_one_to_two_hundred() {
        assert_eq!(parse_limit("1"), Ok(1));
        assert_eq!(parse_limit("200"), Ok(200));
        for bad in ["0", "201", "-1", "x", ""] {
            assert!(parse_limit(bad).is_err(), "{bad}");
        }
    }
}
