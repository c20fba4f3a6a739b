//! Bounded text checks shared by the value objects.

/// Checks a length in characters (not bytes), after trimming surrounding blanks.
///
/// # Errors
/// A sentence naming the bounds.
pub fn bounded(text: &str, min: usize, max: usize) -> Result<String, String> {
    reject_nul(text)?;
    let trimmed = text.trim();
    let count = trimmed.chars().count();
    if count < min || count > max {
        return Err(if min == max {
            format!("must be exactly {min} characters")
        } else if min == 0 {
            format!("must be at most {max} characters (got {count})")
        } else {
            format!("must be {min}-{max} characters (got {count})")
        });
    }
    Ok(trimmed.to_owned())
}

/// NUL is no character of any language, and PostgreSQL's `jsonb` (the read models, the
/// sagas' data) cannot hold it: refused up front instead of breaking a consumer later.
///
/// # Errors
/// When the text contains U+0000.
pub fn reject_nul(text: &str) -> Result<(), String> {
    if text.contains('\0') {
        Err("must not contain NUL (U+0000) characters".to_owned())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_refused() {
        assert!(bounded("fine", 1, 10).is_ok());
        assert_eq!(
            bounded("bad\0title", 1, 100).unwrap_err(),
            "must not contain NUL (U+0000) characters"
        );
    }
}
