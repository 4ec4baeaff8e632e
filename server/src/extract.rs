//! Request extractors whose rejections are problem documents naming what was wrong and where.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use mcpreg_api::problem::FieldIssue;
use mcpreg_api::problem::ProblemCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON request body, parsed into `T`. Rejects a wrong media type (415), an oversized body
/// (413) and malformed or mistyped JSON (400, with line and column).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !(essence.eq_ignore_ascii_case("application/json")
            || essence.to_ascii_lowercase().ends_with("+json"))
        {
            return Err(crate::error::ApiError::Client(
                Box::new(mcpreg_api::Problem::new(
                    415,
                    ProblemCode::UnsupportedMediaType,
                    "Unsupported Media Type",
                    format!(
                        "the body must be JSON with `Content-Type: application/json`{}",
                        if content_type.is_empty() {
                            String::new()
                        } else {
                            format!(
                                ", not `{}`",
                                content_type.chars().take(80).collect::<String>()
                            )
                        }
                    ),
                )),
                None,
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::Client(
                    Box::new(mcpreg_api::Problem::new(
                        413,
                        ProblemCode::PayloadTooLarge,
                        "Content Too Large",
                        "the request body is larger than this registry accepts",
                    )),
                    None,
                )
            } else {
                ApiError::bad_request(ProblemCode::UnreadableBody, rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON bytes into `T`, naming where the problem is.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| malformed(&e))
}

fn malformed(e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let (code, what) = match e.classify() {
        Category::Data => (
            ProblemCode::InvalidBody,
            "the body does not have the expected shape",
        ),
        Category::Eof => (ProblemCode::MalformedJson, "the body is not complete JSON"),
        _ => (ProblemCode::MalformedJson, "the body is not valid JSON"),
    };
    ApiError::bad_request(code, format!("{what}: {e}")).with_errors(vec![FieldIssue::new(
        format!("body (line {}, column {})", e.line(), e.column()),
        e.to_string(),
        "syntax",
    )])
}

/// A query parameter that could not be parsed, located as `query.<name>`.
pub fn query_issue(name: &str, message: impl Into<String>) -> FieldIssue {
    FieldIssue::new(format!("query.{name}"), message, "parameter")
}

/// Parses an optional boolean query parameter (`true` / `false`).
pub fn parse_bool(name: &str, value: Option<&str>) -> Result<Option<bool>, FieldIssue> {
    match value {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(query_issue(
            name,
            format!(
                "expected `true` or `false`, got `{}`",
                other.chars().take(40).collect::<String>()
            ),
        )),
    }
}

/// Whether `s` is a label: 1–63 lower-case ASCII letters, digits and `-`, not starting with `-`
/// (allowlist names, server tags; the same rule as the database checks).
pub fn is_label(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}
