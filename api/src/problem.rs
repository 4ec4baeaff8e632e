//! RFC 9457 problem details: the body of every error mcpreg sends.

use serde::{Deserialize, Serialize};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error as the API sends it (`application/problem+json`, RFC 9457).
///
/// `type` is a stable URN (`urn:mcpreg:problem:<code>`) and `code` the same short code, so that
/// clients branch on them rather than on the human text in `title` and `detail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem: `urn:mcpreg:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short, stable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this request, for a human.
    pub detail: String,
    /// Stable machine-readable code, such as `invalid_server_json` or `version_exists`.
    pub code: String,
    /// The request path the problem arose on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Every problem found in the input, each with where it is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldIssue>,
}

/// One problem in the input and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldIssue {
    /// Where: a JSON pointer into the body (`/packages/0/version`), or `query.limit`, `path.version`, `header.authorization`.
    pub location: String,
    /// What is wrong there.
    pub message: String,
    /// Which check found it: `schema` (the JSON Schema named by `$schema`), `semantic` (registry
    /// rules), `syntax`, `parameter`, or `signature` (a signature's verification).
    pub source: String,
}

impl FieldIssue {
    /// A new issue.
    pub fn new(location: impl Into<String>, message: impl Into<String>, source: &str) -> Self {
        Self {
            location: location.into(),
            message: message.into(),
            source: source.to_owned(),
        }
    }
}

impl Problem {
    /// A problem with the given status, code and detail; `title` comes from the code.
    pub fn new(status: u16, code: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("urn:mcpreg:problem:{code}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            code: code.to_owned(),
            instance: None,
            errors: Vec::new(),
        }
    }

    /// Adds the list of issues found in the input.
    pub fn with_errors(mut self, errors: Vec<FieldIssue>) -> Self {
        self.errors = errors;
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.title, self.status, self.detail)?;
        for e in &self.errors {
            write!(f, "\n  {}: {}", e.location, e.message)?;
        }
        Ok(())
    }
}
