//! The API's one error type and its one translation into `application/problem+json`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mcpreg_api::problem::{FieldIssue, PROBLEM_JSON, Problem, ProblemCode};

/// Every way a request can fail. Expected failures carry what the client needs to fix them;
/// unexpected ones ([`ApiError::Internal`]) are logged once and answered with an opaque 500.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The client's request is wrong; `problem` says what and where.
    #[error("{}", .0.detail)]
    Client(Box<Problem>, Option<HeaderValue>),
    /// The database or an identity provider cannot answer right now.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or an outage. Never shown to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn client(status: StatusCode, code: ProblemCode, detail: impl Into<String>) -> Self {
        let title = status.canonical_reason().unwrap_or("Error");
        ApiError::Client(
            Box::new(Problem::new(status.as_u16(), code, title, detail)),
            None,
        )
    }

    /// 400: the request is malformed.
    pub fn bad_request(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 400 with the location of each problem.
    pub fn invalid_parameters(detail: impl Into<String>, errors: Vec<FieldIssue>) -> Self {
        Self::bad_request(ProblemCode::InvalidParameter, detail).with_errors(errors)
    }

    /// 422: the request is well-formed but its content breaks the rules.
    pub fn unprocessable(
        code: ProblemCode,
        detail: impl Into<String>,
        errors: Vec<FieldIssue>,
    ) -> Self {
        Self::client(StatusCode::UNPROCESSABLE_ENTITY, code, detail).with_errors(errors)
    }

    /// 404 `version_not_found`: the server has no such version.
    pub fn version_not_found(name: &mcpreg_api::ServerName, version: &str) -> Self {
        Self::not_found(
            ProblemCode::VersionNotFound,
            format!(
                "server {name} has no version {}",
                version.chars().take(100).collect::<String>()
            ),
        )
    }

    /// 400 unless `version` is an exact version (not `latest`): what is attached to or decided
    /// on a version is never carried over to whatever `latest` becomes. `why` ends the detail.
    pub fn require_exact_version(version: &str, why: &str) -> Result<(), Self> {
        if version != "latest" && mcpreg_api::Version::parse(version).is_ok() {
            return Ok(());
        }
        Err(Self::invalid_parameters(
            format!("name the exact version {why}"),
            vec![FieldIssue::new(
                "path.version",
                "an exact version is required (not `latest`)",
                "parameter",
            )],
        ))
    }

    /// 413 naming the limit: the request carries more than the registry takes at once.
    pub fn payload_too_large(detail: impl Into<String>, errors: Vec<FieldIssue>) -> Self {
        ApiError::Client(
            Box::new(Problem::new(
                413,
                ProblemCode::PayloadTooLarge,
                "Content Too Large",
                detail,
            )),
            None,
        )
        .with_errors(errors)
    }

    /// 404.
    pub fn not_found(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::client(StatusCode::NOT_FOUND, code, detail)
    }

    /// 409: the request conflicts with what the registry holds.
    pub fn conflict(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::client(StatusCode::CONFLICT, code, detail)
    }

    /// 401 with a `WWW-Authenticate` challenge naming what failed (RFC 6750).
    pub fn unauthorized(code: ProblemCode, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let challenge = if code == ProblemCode::MissingCredentials {
            "Bearer realm=\"mcpreg\"".to_owned()
        } else {
            format!(
                "Bearer realm=\"mcpreg\", error=\"invalid_token\", error_description=\"{}\"",
                // A header value must be visible ASCII; quotes would end the parameter.
                detail
                    .chars()
                    .map(|c| match c {
                        '"' | '\\' => '\'',
                        ' '..='~' => c,
                        _ => '?',
                    })
                    .collect::<String>()
            )
        };
        let mut err = Self::client(StatusCode::UNAUTHORIZED, code, detail);
        if let ApiError::Client(_, header) = &mut err {
            *header = HeaderValue::from_str(&challenge).ok();
        }
        err
    }

    /// 403 naming the permission that is missing.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::client(StatusCode::FORBIDDEN, ProblemCode::Forbidden, detail)
    }

    /// 403 with a code of its own: which check of trusted publishing failed.
    pub fn forbidden_because(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::client(StatusCode::FORBIDDEN, code, detail)
    }

    /// Attaches the list of problems to a client error.
    pub fn with_errors(mut self, errors: Vec<FieldIssue>) -> Self {
        if let ApiError::Client(problem, _) = &mut self {
            problem.errors = errors;
        }
        self
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            // The database is unreachable (or went away mid-request): retry later.
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => ApiError::Unavailable(e.to_string()),
            other => ApiError::Internal(other.into()),
        }
    }
}

/// Writes a problem as a response.
pub fn problem_response(
    problem: &Problem,
    extra: Option<(header::HeaderName, HeaderValue)>,
) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if let Some((name, value)) = extra {
        response.headers_mut().insert(name, value);
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Client(problem, challenge) => {
                problem_response(&problem, challenge.map(|v| (header::WWW_AUTHENTICATE, v)))
            }
            ApiError::Unavailable(reason) => {
                tracing::warn!(error = %reason, "a dependency is unavailable");
                let mut response = problem_response(
                    &Problem::new(
                        503,
                        ProblemCode::Unavailable,
                        "Service Unavailable",
                        "a service the registry depends on (its database or an identity provider) is busy or unreachable; retry shortly",
                    ),
                    None,
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                response
            }
            ApiError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed unexpectedly");
                problem_response(
                    &Problem::new(
                        500,
                        ProblemCode::Internal,
                        "Internal Server Error",
                        "the registry failed unexpectedly; the error was logged",
                    ),
                    None,
                )
            }
        }
    }
}
