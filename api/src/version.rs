//! Server versions and the official "which version is latest" order.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest version string accepted.
pub const MAX_VERSION_LEN: usize = 255;

/// Why a version string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VersionError(String);

/// A published version: a specific version (ideally semver), never `latest` and never a range.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "1.4.2")]
pub struct Version(String);

impl Version {
    /// Parses a version, saying why it is not a specific version when it is not one.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        if s.is_empty() {
            return Err(VersionError("version is empty".into()));
        }
        if s.len() > MAX_VERSION_LEN {
            return Err(VersionError(format!(
                "version is {} characters long, at most {MAX_VERSION_LEN} are allowed",
                s.len()
            )));
        }
        if s.eq_ignore_ascii_case("latest") {
            return Err(VersionError(
                "version `latest` is reserved: publish a specific version such as `1.0.0`".into(),
            ));
        }
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(VersionError(format!(
                "version `{}` contains whitespace or a control character ({})",
                s.escape_default(),
                c.escape_unicode()
            )));
        }
        if is_range(s) {
            return Err(VersionError(format!(
                "version `{s}` looks like a range; publish one specific version such as `1.0.0`"
            )));
        }
        if s.contains('/') {
            return Err(VersionError(format!("version `{s}` may not contain `/`")));
        }
        Ok(Self(s.to_owned()))
    }

    /// The version as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The version as semver, when it is one. Like the official registry, a version with build
    /// metadata (`1.0.0+abc`) does not count as semver for ordering.
    pub fn semver(&self) -> Option<semver::Version> {
        semver::Version::parse(&self.0)
            .ok()
            .filter(|v| v.build.is_empty())
    }
}

/// Range syntax from npm, Cargo and PyPI: `^1`, `~1.2`, `>=1`, `<2`, `=1`, `1.x`, `*`, `1 - 2`, `a || b`.
fn is_range(s: &str) -> bool {
    if s.starts_with(['^', '~', '>', '<', '=', '!']) || s.contains("||") || s == "*" {
        return true;
    }
    // Wildcard components such as `1.x`, `1.*`, `1.2.X`.
    let core = s.split(['-', '+']).next().unwrap_or(s);
    core.split('.')
        .skip(1)
        .any(|part| matches!(part, "x" | "X" | "*"))
}

impl TryFrom<String> for Version {
    type Error = VersionError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Version> for String {
    fn from(v: Version) -> String {
        v.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The order the official registry uses to pick the latest version: a valid semver beats a
/// non-semver; two semvers compare by semver precedence (build metadata ignored); two
/// non-semvers compare by publication time (the later wins). Returns how `a` compares to `b`.
pub fn compare_for_latest(
    a: &Version,
    a_published: DateTime<Utc>,
    b: &Version,
    b_published: DateTime<Utc>,
) -> Ordering {
    match (a.semver(), b.semver()) {
        (Some(x), Some(y)) => x.cmp_precedence(&y),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => a_published.cmp(&b_published),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn rejects_latest_and_ranges() {
        for bad in [
            "latest", "LATEST", "^1.2.3", "~1.2", ">=1.0", "<2", "=1.0.0", "1.x", "1.2.*", "*",
            "1 - 2", "1||2", "", "a/b",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad:?} accepted");
        }
        for ok in [
            "1.0.0",
            "1.0.0-rc.1+build.5",
            "2025.10.01",
            "v2",
            "0.1.0-beta",
        ] {
            assert_eq!(Version::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn latest_order() {
        let t1 = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let t2 = Utc.with_ymd_and_hms(2025, 2, 1, 0, 0, 0).unwrap();
        assert_eq!(
            compare_for_latest(&v("1.10.0"), t1, &v("1.9.0"), t2),
            Ordering::Greater
        );
        assert_eq!(
            compare_for_latest(&v("1.0.0"), t1, &v("1.0.0-rc.1"), t2),
            Ordering::Greater
        );
        assert_eq!(
            compare_for_latest(&v("0.0.1"), t1, &v("snapshot"), t2),
            Ordering::Greater
        );
        assert_eq!(
            compare_for_latest(&v("snapshot"), t2, &v("0.0.1"), t1),
            Ordering::Less
        );
        assert_eq!(
            compare_for_latest(&v("nightly-b"), t2, &v("nightly-a"), t1),
            Ordering::Greater
        );
        assert_eq!(
            compare_for_latest(&v("1.0.0+a"), t1, &v("1.0.0+b"), t2),
            Ordering::Less
        );
        assert_eq!(
            compare_for_latest(&v("1.0.0-alpha.10"), t1, &v("1.0.0-alpha.2"), t2),
            Ordering::Greater
        );
    }
}
