//! Labels: the names of allowlists and the tags of servers.

use std::fmt;

/// A label: 1–63 lower-case ASCII letters, digits and `-`, not starting with `-` (the same rule
/// as the database checks). Parsed once, where it arrives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Label(String);

impl Label {
    /// Parses a label (`None` when `s` is not one).
    pub fn parse(s: &str) -> Option<Self> {
        let ok = (1..=63).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        ok.then(|| Self(s.to_owned()))
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The label as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Label;

    #[test]
    fn labels_are_lower_case_letters_digits_and_inner_dashes() {
        assert!(Label::parse("team-a1").is_some());
        assert!(Label::parse("-a").is_none());
        assert!(Label::parse("A").is_none());
        assert!(Label::parse("").is_none());
        assert!(Label::parse(&"a".repeat(64)).is_none());
    }
}
