//! The access policy as the registry stores it: applied versions, the current one
//! (`/api/v1/policy`). The document format and the decisions it makes are the `mcpreg-policy`
//! crate's (`docs/policies.md`); the wire types that embed its decisions and diffs are defined
//! next to their users, because this crate does not depend on it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a policy document is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PolicyFormat {
    /// YAML 1.2.
    Yaml,
    /// JSON.
    Json,
}

impl PolicyFormat {
    /// `yaml` or `json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yaml => "yaml",
            Self::Json => "json",
        }
    }

    /// Parses one of the names [`Self::as_str`] gives.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Yaml, Self::Json]
            .into_iter()
            .find(|f| f.as_str() == s)
    }

    /// The format a document is read as: JSON when its first character (after a byte order
    /// mark and white space) is `{`, YAML otherwise — as `mcpreg_policy::Policy::parse` reads it.
    pub fn of_source(source: &str) -> Self {
        let text = source.strip_prefix('\u{feff}').unwrap_or(source);
        if text.trim_start().starts_with('{') {
            Self::Json
        } else {
            Self::Yaml
        }
    }
}

impl fmt::Display for PolicyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `PUT /api/v1/policy`: a policy document to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplyPolicyRequest {
    /// The document, YAML or JSON text, as written (comments are kept with the version).
    pub source: String,
}

/// The answer to an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedPolicy {
    /// The policy version now current.
    pub version: i64,
    /// `sha256:` of the RFC 8785 canonical form of the document.
    pub digest: String,
    /// Whether a new version was stored; `false` when the document is the current one.
    pub changed: bool,
    /// How many rules the policy has.
    pub rules: usize,
}

/// `GET /api/v1/policy`: the current policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrentPolicy {
    /// Its version.
    pub version: i64,
    /// `sha256:` of the RFC 8785 canonical form of `document`.
    pub digest: String,
    /// Who applied it.
    pub applied_by: String,
    /// When.
    pub applied_at: DateTime<Utc>,
    /// The document as it was sent.
    pub source: String,
    /// How `source` is written.
    pub format: PolicyFormat,
    /// The policy as canonical JSON: what decisions are made with.
    pub document: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_read_as_the_policy_parser_reads_it() {
        assert_eq!(
            PolicyFormat::of_source("{\"rules\": []}"),
            PolicyFormat::Json
        );
        assert_eq!(
            PolicyFormat::of_source("\u{feff}\n  {\"rules\": []}"),
            PolicyFormat::Json
        );
        assert_eq!(
            PolicyFormat::of_source("# {\nrules: []"),
            PolicyFormat::Yaml
        );
        assert_eq!(PolicyFormat::of_source(""), PolicyFormat::Yaml);
        for f in [PolicyFormat::Yaml, PolicyFormat::Json] {
            assert_eq!(PolicyFormat::parse(f.as_str()), Some(f));
        }
        assert_eq!(PolicyFormat::parse("toml"), None);
    }
}
