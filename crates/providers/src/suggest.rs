//! Did-you-mean suggestions for mistyped names.

/// The closest candidate to `input`, if any is close enough to be a typo.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let input = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&input, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("hiku", ["opus", "sonnet", "haiku"]),
            Some("haiku".into())
        );
        assert_eq!(did_you_mean("gpt-4", ["opus", "sonnet", "haiku"]), None);
    }
}
