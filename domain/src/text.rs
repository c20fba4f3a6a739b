//! Bounded text checks shared by the value objects.

/// Checks a length in characters (not bytes), after trimming surrounding blanks.
///
/// # Errors
/// A sentence naming the bounds.
pub fn bounded(text: &str, min: usize, max: usize) -> Result<String, String> {
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
