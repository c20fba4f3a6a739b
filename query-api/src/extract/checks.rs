//! Checking query parameters one by one, collecting every invalid field into one problem.

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use platform::Problem;
use serde::de::DeserializeOwned;

use crate::page;
use crate::ApiError;

/// Collects field violations; [`Checks::finish`] fails with all of them at once.
#[derive(Default)]
pub(crate) struct Checks {
    violations: Vec<(String, String)>,
}

impl Checks {
    pub(crate) fn fail(&mut self, field: &str, reason: impl Into<String>) {
        self.violations.push((field.to_owned(), reason.into()));
    }

    /// The parsed value of an optional parameter; `None` when absent or invalid (invalid
    /// values are recorded, so [`Checks::finish`] fails before the `None` is used).
    pub(crate) fn optional<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match parse(raw?) {
            Ok(value) => Some(value),
            Err(reason) => {
                self.fail(field, reason);
                None
            }
        }
    }

    /// `?limit=`: 1–200, default 50.
    pub(crate) fn limit(&mut self, raw: Option<&str>) -> i64 {
        self.optional("limit", raw, page::parse_limit)
            .unwrap_or(page::DEFAULT_LIMIT)
    }

    /// `?cursor=`: the key after which the page starts, for the query named `tag`.
    pub(crate) fn cursor<K: DeserializeOwned>(
        &mut self,
        raw: Option<&str>,
        tag: &str,
    ) -> Option<K> {
        self.optional("cursor", raw, |text| page::decode_cursor(tag, text))
    }

    /// A range whose upper bound (`high_field`) lies before its lower one (`low_field`).
    pub(crate) fn ordered<T: PartialOrd>(
        &mut self,
        (low_field, low): (&str, Option<&T>),
        (high_field, high): (&str, Option<&T>),
    ) {
        if let (Some(low), Some(high)) = (low, high) {
            if low > high {
                self.fail(high_field, format!("must not be before {low_field}"));
            }
        }
    }

    /// # Errors
    /// A 400 problem listing every violation, if there was any.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.violations.is_empty() {
            return Ok(());
        }
        let problem = Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            "Invalid query parameters",
        );
        Err(ApiError::bad_request(
            self.violations
                .into_iter()
                .fold(problem, |problem, (field, reason)| {
                    problem.field(field, reason)
                }),
        ))
    }
}

pub(crate) fn uuid(text: &str) -> Result<uuid::Uuid, String> {
    uuid::Uuid::parse_str(text).map_err(|_| "must be a UUID".to_owned())
}

/// RFC 3339; a `+` offset that arrived unencoded (decoded as a space) is forgiven.
pub(crate) fn timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_rfc3339(&text.replace(' ', "+")))
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "must be an RFC 3339 timestamp, e.g. 2025-01-31T12:00:00Z".to_owned())
}

pub(crate) fn date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| "must be a date, e.g. 2025-01-31".to_owned())
}

/// A parser accepting exactly one of `allowed`.
pub(crate) fn one_of(
    allowed: &'static [&'static str],
) -> impl Fn(&str) -> Result<&'static str, String> {
    move |text| {
        allowed
            .iter()
            .find(|a| **a == text)
            .copied()
            .ok_or_else(|| format!("must be one of {}", allowed.join(", ")))
    }
}
