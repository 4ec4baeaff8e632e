//! Server and namespace names in the official reverse-DNS form (`com.acme/github`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest server name the official schema allows.
pub const MAX_SERVER_NAME_LEN: usize = 200;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NameError(String);

/// A namespace: the reverse-DNS part of a server name before the `/` (`com.acme`, `io.github.org`).
///
/// At least two dot-separated labels of ASCII letters, digits and `-` (not at either end of a label).
/// Compared and stored in its original case, but unique case-insensitively (see the migrations),
/// so `Com.Acme` cannot impersonate `com.acme`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "com.acme")]
pub struct NamespaceName(String);

impl NamespaceName {
    /// Parses a namespace, saying what is wrong with it when it is not one.
    pub fn parse(s: &str) -> Result<Self, NameError> {
        if s.is_empty() {
            return Err(NameError("namespace is empty".into()));
        }
        let labels: Vec<&str> = s.split('.').collect();
        if labels.len() < 2 {
            return Err(NameError(format!(
                "namespace `{s}` is not in reverse-DNS form: it needs at least two dot-separated labels, such as `com.example` or `io.github.user`"
            )));
        }
        for label in labels {
            if label.is_empty() {
                return Err(NameError(format!("namespace `{s}` has an empty label")));
            }
            if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(NameError(format!(
                    "namespace label `{label}` may hold only ASCII letters, digits and `-`"
                )));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(NameError(format!(
                    "namespace label `{label}` may not start or end with `-`"
                )));
            }
        }
        Ok(Self(s.to_owned()))
    }

    /// The namespace as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for NamespaceName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<NamespaceName> for String {
    fn from(n: NamespaceName) -> String {
        n.0
    }
}

impl fmt::Display for NamespaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A server name: `namespace/name`, exactly one `/`, at most 200 characters, as the official
/// server.json schema requires (`^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$`), with a reverse-DNS namespace.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "io.github.acme/weather")]
pub struct ServerName(String);

impl ServerName {
    /// Parses a server name, saying what is wrong with it when it is not one.
    pub fn parse(s: &str) -> Result<Self, NameError> {
        if s.len() < 3 || s.len() > MAX_SERVER_NAME_LEN {
            return Err(NameError(format!(
                "server name must be 3 to {MAX_SERVER_NAME_LEN} characters long, `{}` has {}",
                truncate(s),
                s.len()
            )));
        }
        let slash = match (s.find('/'), s.rfind('/')) {
            (Some(a), Some(b)) if a == b => a,
            (None, _) => {
                return Err(NameError(format!(
                    "server name `{}` must have the form `namespace/name`, such as `io.github.user/weather`",
                    truncate(s)
                )));
            }
            _ => {
                return Err(NameError(format!(
                    "server name `{}` must contain exactly one `/`",
                    truncate(s)
                )));
            }
        };
        NamespaceName::parse(&s[..slash])?;
        let local = &s[slash + 1..];
        if local.is_empty() {
            return Err(NameError(format!(
                "server name `{s}` has nothing after the `/`"
            )));
        }
        if let Some(bad) = local
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(NameError(format!(
                "server name `{}` has `{}` after the `/`; only ASCII letters, digits, `.`, `_` and `-` are allowed",
                truncate(s),
                bad.escape_default()
            )));
        }
        if !(local.starts_with(|c: char| c.is_ascii_alphanumeric())
            && local.ends_with(|c: char| c.is_ascii_alphanumeric()))
        {
            return Err(NameError(format!(
                "server name `{s}`: the part after the `/` must start and end with a letter or digit"
            )));
        }
        Ok(Self(s.to_owned()))
    }

    /// The whole name, `namespace/name`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The namespace part, before the `/`.
    pub fn namespace(&self) -> NamespaceName {
        let (namespace, _) = self.0.split_once('/').unwrap_or((&self.0, ""));
        NamespaceName(namespace.to_owned())
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_owned()
    }
}

impl TryFrom<String> for ServerName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ServerName> for String {
    fn from(n: ServerName) -> String {
        n.0
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_official_forms() {
        for ok in [
            "io.github.user/weather",
            "com.example/server-1.0_beta2",
            "com.acme-corp.eu/x",
        ] {
            let n = ServerName::parse(ok).unwrap();
            assert_eq!(n.as_str(), ok);
        }
        assert_eq!(
            ServerName::parse("io.github.user/weather")
                .unwrap()
                .namespace()
                .as_str(),
            "io.github.user"
        );
    }

    #[test]
    fn rejects_with_reason() {
        let cases = [
            ("weather", "namespace/name"),
            ("a/b/c", "exactly one"),
            ("localhost/x", "reverse-DNS"),
            ("com.example/", "nothing after"),
            ("com..example/x", "empty label"),
            ("com.exa_mple/x", "only ASCII"),
            ("com.example/wea ther", "after the `/`"),
            ("com.-example/x", "start or end"),
            ("com.example/-x", "start and end"),
            ("io.github.u/ѡeather", "after the `/`"),
        ];
        for (input, why) in cases {
            let err = ServerName::parse(input).unwrap_err().to_string();
            assert!(err.contains(why), "{input}: {err}");
        }
        let long = format!("com.example/{}", "x".repeat(200));
        assert!(
            ServerName::parse(&long)
                .unwrap_err()
                .to_string()
                .contains("3 to 200")
        );
    }
}
