//! The two kinds of pattern a policy may hold: case-insensitive globs on names and hosts, and
//! anchored regular expressions on signer identities.

use std::fmt;

/// Longest glob accepted (server names are at most 200 characters).
pub const MAX_GLOB_LEN: usize = 256;

/// Longest regular expression accepted, in bytes of source.
pub const MAX_REGEX_LEN: usize = 1024;

/// Most memory a compiled regular expression may take (the `regex` crate's size limit).
pub const MAX_REGEX_COMPILED_BYTES: usize = 256 * 1024;

/// What a glob is matched against, which decides the characters it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobKind {
    /// A full server name, `namespace/name`: exactly one `/`.
    Server,
    /// A namespace: no `/`.
    Namespace,
    /// A host name of a remote URL: letters, digits, `.` and `-`.
    Host,
}

impl GlobKind {
    fn allows(self, c: char) -> bool {
        match self {
            GlobKind::Server => c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'),
            GlobKind::Namespace => c.is_ascii_alphanumeric() || matches!(c, '.' | '-'),
            GlobKind::Host => c.is_ascii_alphanumeric() || matches!(c, '.' | '-'),
        }
    }

    fn allowed_description(self) -> &'static str {
        match self {
            GlobKind::Server => "ASCII letters, digits, `.`, `-`, `_`, one `/`",
            GlobKind::Namespace | GlobKind::Host => "ASCII letters, digits, `.`, `-`",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `*`: any run of characters, possibly empty.
    Any,
    /// `?`: exactly one character.
    One,
    Char(u8),
}

/// A glob: `*` matches any run of characters (possibly none, `/` and `.` included), `?`
/// matches one character, every other character matches itself ignoring ASCII case.
///
/// Names in the registry are unique ignoring case, so a pattern must not be defeated by
/// `Com.Acme/x`.
#[derive(Clone)]
pub struct Glob {
    source: String,
    tokens: Vec<Token>,
}

impl Glob {
    /// Compiles a glob for `kind`, saying what is wrong with it when it is not one.
    pub fn parse(source: &str, kind: GlobKind) -> Result<Self, String> {
        if source.is_empty() {
            return Err("pattern is empty".to_owned());
        }
        if source.len() > MAX_GLOB_LEN {
            return Err(format!(
                "pattern is {} characters long, at most {MAX_GLOB_LEN} are allowed",
                source.len()
            ));
        }
        if let Some(bad) = source
            .chars()
            .find(|&c| !(c == '*' || c == '?' || kind.allows(c)))
        {
            return Err(format!(
                "pattern `{source}` contains `{}`; a pattern may hold {}, and the wildcards `*` and `?`",
                bad.escape_default(),
                kind.allowed_description()
            ));
        }
        match kind {
            GlobKind::Server if source.matches('/').count() != 1 => {
                return Err(format!(
                    "server pattern `{source}` must have the form `namespace/name` with exactly one `/` (such as `com.acme/*`); to match a whole namespace use `namespace:`"
                ));
            }
            GlobKind::Namespace | GlobKind::Host | GlobKind::Server => {}
        }
        let mut tokens: Vec<Token> = Vec::with_capacity(source.len());
        for b in source.bytes() {
            let token = match b {
                b'*' => Token::Any,
                b'?' => Token::One,
                other => Token::Char(other.to_ascii_lowercase()),
            };
            // `**` means the same as `*`; collapsing keeps matching linear.
            if !(token == Token::Any && tokens.last() == Some(&Token::Any)) {
                tokens.push(token);
            }
        }
        Ok(Self {
            source: source.to_owned(),
            tokens,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `text` matches, ignoring ASCII case.
    pub fn matches(&self, text: &str) -> bool {
        // The classic two-pointer wildcard match: on a mismatch, go back to the last `*` and
        // let it swallow one more character. Linear in practice, O(n·m) at worst.
        let text = text.as_bytes();
        let (mut t, mut p) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(Token::Any) => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(Token::One) => {
                    t += 1;
                    p += 1;
                }
                Some(Token::Char(c)) if *c == text[t].to_ascii_lowercase() => {
                    t += 1;
                    p += 1;
                }
                _ => match star {
                    Some((star_p, star_t)) => {
                        p = star_p + 1;
                        t = star_t + 1;
                        star = Some((star_p, star_t + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[p..].iter().all(|token| *token == Token::Any)
    }
}

impl PartialEq for Glob {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Glob {}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.source)
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A regular expression written `^…$` that matches whole strings only.
///
/// The source must start with `^` and end with an unescaped `$`, so that the intent is visible
/// to a reader; it is compiled as `^(?:source)$` so that a top-level alternation such as
/// `^a|b$` cannot match `a…` or `…b` by accident.
#[derive(Clone)]
pub struct AnchoredRegex {
    source: String,
    regex: regex::Regex,
}

impl AnchoredRegex {
    /// Compiles an anchored pattern, saying what is wrong with it when it is not one.
    pub fn parse(source: &str) -> Result<Self, String> {
        if source.len() > MAX_REGEX_LEN {
            return Err(format!(
                "pattern is {} bytes long, at most {MAX_REGEX_LEN} are allowed",
                source.len()
            ));
        }
        let escaped_dollar = source
            .strip_suffix('$')
            .is_some_and(|rest| rest.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1);
        if !source.starts_with('^') || !source.ends_with('$') || escaped_dollar || source.len() < 2
        {
            return Err(format!(
                "pattern `{source}` must be anchored: start with `^` and end with `$`, so that it cannot match a longer identity by accident"
            ));
        }
        let regex = regex::RegexBuilder::new(&format!("^(?:{source})$"))
            .size_limit(MAX_REGEX_COMPILED_BYTES)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(_) => format!(
                    "pattern `{source}` is too complex: compiled, it would exceed {MAX_REGEX_COMPILED_BYTES} bytes"
                ),
                other => format!("pattern `{source}` is not a valid regular expression: {other}"),
            })?;
        Ok(Self {
            source: source.to_owned(),
            regex,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl PartialEq for AnchoredRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for AnchoredRegex {}

impl fmt::Debug for AnchoredRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnchoredRegex({:?})", self.source)
    }
}

impl fmt::Display for AnchoredRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(s: &str, kind: GlobKind) -> Glob {
        Glob::parse(s, kind).expect("valid glob")
    }

    #[test]
    fn globs_match_case_insensitively_with_star_and_question_mark() {
        let cases: &[(&str, GlobKind, &str, bool)] = &[
            ("com.acme/*", GlobKind::Server, "com.acme/github", true),
            ("com.acme/*", GlobKind::Server, "COM.Acme/GitHub", true),
            ("com.acme/*", GlobKind::Server, "com.acme/", true),
            ("com.acme/*", GlobKind::Server, "com.acme.evil/x", false),
            ("com.acme/*", GlobKind::Server, "org.com.acme/x", false),
            ("*/github", GlobKind::Server, "io.github.x/github", true),
            ("*/github", GlobKind::Server, "io.github.x/github-2", false),
            ("com.acme/git?ub", GlobKind::Server, "com.acme/github", true),
            ("com.acme/git?ub", GlobKind::Server, "com.acme/gitub", false),
            ("Com.Acme/X", GlobKind::Server, "com.acme/x", true),
            ("io.github.*", GlobKind::Namespace, "io.github.acme", true),
            ("io.github.*", GlobKind::Namespace, "io.github", false),
            (
                "io.github.acme",
                GlobKind::Namespace,
                "IO.GITHUB.ACME",
                true,
            ),
            (
                "io.github.acme",
                GlobKind::Namespace,
                "io.github.acme2",
                false,
            ),
            ("*.acme.internal", GlobKind::Host, "mcp.acme.internal", true),
            ("*.acme.internal", GlobKind::Host, "a.b.acme.internal", true),
            ("*.acme.internal", GlobKind::Host, "acme.internal", false),
            (
                "*.acme.internal",
                GlobKind::Host,
                "evilacme.internal",
                false,
            ),
            (
                "*.acme.internal",
                GlobKind::Host,
                "x.acme.internal.evil",
                false,
            ),
            ("a*b*c", GlobKind::Host, "aXbYbZc", true),
            ("a*b*c", GlobKind::Host, "aXbYbZ", false),
            ("a**", GlobKind::Host, "a", true),
        ];
        for &(pattern, kind, text, expected) in cases {
            assert_eq!(
                glob(pattern, kind).matches(text),
                expected,
                "{pattern} against {text}"
            );
        }
    }

    #[test]
    fn bad_globs_are_refused_with_a_reason() {
        let cases: &[(&str, GlobKind, &str)] = &[
            ("", GlobKind::Server, "pattern is empty"),
            (
                "com.acme",
                GlobKind::Server,
                "server pattern `com.acme` must have the form `namespace/name` with exactly one `/` (such as `com.acme/*`); to match a whole namespace use `namespace:`",
            ),
            (
                "com.acme/[ab]",
                GlobKind::Server,
                "pattern `com.acme/[ab]` contains `[`; a pattern may hold ASCII letters, digits, `.`, `-`, `_`, one `/`, and the wildcards `*` and `?`",
            ),
            (
                "com/acme",
                GlobKind::Namespace,
                "pattern `com/acme` contains `/`; a pattern may hold ASCII letters, digits, `.`, `-`, and the wildcards `*` and `?`",
            ),
            (
                "host:443",
                GlobKind::Host,
                "pattern `host:443` contains `:`; a pattern may hold ASCII letters, digits, `.`, `-`, and the wildcards `*` and `?`",
            ),
        ];
        for &(pattern, kind, message) in cases {
            assert_eq!(
                Glob::parse(pattern, kind).err().as_deref(),
                Some(message),
                "{pattern}"
            );
        }
        let long = format!("com.acme/{}", "a".repeat(MAX_GLOB_LEN));
        assert_eq!(
            Glob::parse(&long, GlobKind::Server).err().as_deref(),
            Some("pattern is 265 characters long, at most 256 are allowed")
        );
    }

    #[test]
    fn regexes_must_be_anchored_and_match_whole_strings() {
        for unanchored in ["abc", "^abc", "abc$", "^abc\\$", "$", "^"] {
            assert_eq!(
                AnchoredRegex::parse(unanchored).err(),
                Some(format!(
                    "pattern `{unanchored}` must be anchored: start with `^` and end with `$`, so that it cannot match a longer identity by accident"
                )),
                "{unanchored}"
            );
        }
        // An escaped backslash before `$` leaves the `$` an anchor.
        assert!(AnchoredRegex::parse("^a\\\\$").is_ok());
        let alternation = AnchoredRegex::parse("^a|b$").expect("valid");
        assert!(alternation.matches("a"));
        assert!(alternation.matches("b"));
        assert!(!alternation.matches("a-and-more"));
        assert!(!alternation.matches("more-then-b"));
        let bad = AnchoredRegex::parse("^(a$").err().unwrap_or_default();
        assert!(
            bad.starts_with("pattern `^(a$` is not a valid regular expression"),
            "{bad}"
        );
        let huge = AnchoredRegex::parse("^(\\w{1,100}){1,100}$")
            .err()
            .unwrap_or_default();
        assert_eq!(
            huge,
            "pattern `^(\\w{1,100}){1,100}$` is too complex: compiled, it would exceed 262144 bytes"
        );
        let long = format!("^{}$", "a".repeat(MAX_REGEX_LEN));
        assert_eq!(
            AnchoredRegex::parse(&long).err().as_deref(),
            Some("pattern is 1026 bytes long, at most 1024 are allowed")
        );
    }
}
