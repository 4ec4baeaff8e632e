//! What can go wrong talking to the registry, as a type a caller can match on.

use mcpreg_api::Problem;
use mcpreg_api::problem::ProblemCode;
use reqwest::{StatusCode, Url};

/// A request the registry answered with an error.
#[derive(Debug, thiserror::Error)]
#[error("{problem}")]
pub struct ApiFailure {
    /// The HTTP status.
    pub status: StatusCode,
    /// The problem document (synthesised when the body was not one).
    pub problem: Problem,
    /// The request's URL, for messages that say what was asked.
    pub url: Url,
}

impl ApiFailure {
    /// The registry's answer to a failed request: its problem document, or one made from the
    /// status and the start of the body when the body is not one (a proxy's HTML page).
    pub fn decode(status: StatusCode, url: Url, bytes: &[u8]) -> Self {
        let problem = serde_json::from_slice::<Problem>(bytes).unwrap_or_else(|_| {
            Problem::new(
                status.as_u16(),
                ProblemCode::HttpError,
                status.canonical_reason().unwrap_or("Error"),
                String::from_utf8_lossy(bytes)
                    .chars()
                    .take(500)
                    .collect::<String>(),
            )
        });
        Self {
            status,
            problem,
            url,
        }
    }
}

/// Why a call to the registry failed.
///
/// The messages are the CLI's: it prints them as they are, so they say what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The registry's URL does not parse.
    #[error("invalid registry URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The registry's URL is not `http` or `https`.
    #[error("the registry URL must be http or https, not `{0}`")]
    UnsupportedScheme(String),
    /// No answer: the connection failed or timed out.
    #[error("cannot reach the registry at {base}: {cause}")]
    Unreachable {
        /// The registry's base URL.
        base: Url,
        /// The innermost cause (`connection refused`, `operation timed out`).
        cause: String,
    },
    /// The registry answered with an error status (boxed: a problem document is large, and
    /// every `Result` of this crate would carry its size).
    #[error(transparent)]
    Api(Box<ApiFailure>),
    /// A successful answer whose body is not the type the endpoint returns: the registry and
    /// this client disagree about the contract.
    #[error("the registry's answer to {request} is not what this CLI expects: {reason}")]
    UnexpectedAnswer {
        /// `METHOD URL`.
        request: String,
        /// The decoding error.
        reason: String,
    },
    /// The HTTP client failed otherwise (building it, reading a body).
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

impl From<ApiFailure> for ClientError {
    fn from(f: ApiFailure) -> Self {
        Self::Api(Box::new(f))
    }
}

impl ClientError {
    /// The registry's refusal, when that is what this is.
    pub fn api_failure(&self) -> Option<&ApiFailure> {
        match self {
            Self::Api(f) => Some(f),
            _ => None,
        }
    }

    /// The HTTP status the registry answered with, when it answered with an error.
    pub fn status(&self) -> Option<StatusCode> {
        self.api_failure().map(|f| f.status)
    }
}

/// The innermost cause of an error: what a person can act on (`connection refused`), without
/// the layers of the HTTP stack above it.
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("http://registry.test/api/v1/publish").expect("a valid URL")
    }

    #[test]
    fn a_problem_document_is_decoded_as_sent() {
        let body = serde_json::to_vec(&Problem::new(
            409,
            ProblemCode::VersionExists,
            "Conflict",
            "com.acme/x 1.0.0 is already published",
        ))
        .expect("serialisable");
        let f = ApiFailure::decode(StatusCode::CONFLICT, url(), &body);
        assert_eq!(f.problem.code, "version_exists");
        assert!(ProblemCode::VersionExists == f.problem.code.as_str());
        assert_eq!(f.problem.detail, "com.acme/x 1.0.0 is already published");
        assert_eq!(f.status, StatusCode::CONFLICT);
    }

    #[test]
    fn a_body_that_is_no_problem_becomes_one_with_its_start() {
        let body = format!("<html>{}</html>", "x".repeat(1000));
        let f = ApiFailure::decode(StatusCode::BAD_GATEWAY, url(), body.as_bytes());
        assert_eq!(f.problem.code, "http_error");
        assert_eq!(f.problem.status, 502);
        assert_eq!(f.problem.title, "Bad Gateway");
        assert_eq!(f.problem.detail.chars().count(), 500);
        assert!(f.problem.detail.starts_with("<html>xxx"));
    }

    #[test]
    fn a_failure_reads_as_its_problem() {
        let f = ApiFailure::decode(StatusCode::NOT_FOUND, url(), b"");
        let e = ClientError::from(f);
        assert_eq!(e.status(), Some(StatusCode::NOT_FOUND));
        assert_eq!(
            e.to_string(),
            e.api_failure()
                .map(|f| f.problem.to_string())
                .unwrap_or_default()
        );
    }
}
