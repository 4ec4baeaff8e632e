//! Publishing many documents in one request: `POST /api/v1/publish/batch`.
//!
//! Each document is what `POST /api/v1/publish` accepts (a server.json, or a
//! [`PublishRequest`](crate::trust::PublishRequest) envelope) and is accepted or refused on its
//! own, with the problem the single endpoint would have answered; the accepted ones are stored in
//! one transaction.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::problem::Problem;

/// Most documents one batch may carry.
pub const MAX_PUBLISH_BATCH: usize = 500;

/// The body of `POST /api/v1/publish/batch`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishBatch {
    /// At most 500 documents, each a server.json or a `PublishRequest`.
    #[schema(value_type = Vec<Object>)]
    pub documents: Vec<Value>,
}

/// What became of one document of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PublishOutcome {
    /// Stored as a new version.
    Published,
    /// That version was published already (`version_exists`); nothing stored.
    Exists,
    /// Refused: `problem` says why, as `POST /api/v1/publish` would have.
    Refused,
}

/// One document's result, at its place in the batch.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishBatchItem {
    /// The document's position in `documents`, from 0.
    pub index: usize,
    /// The document's `name`, as sent (absent when it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The document's `version`, as sent (absent when it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What became of it.
    pub result: PublishOutcome,
    /// The problem document `POST /api/v1/publish` would have answered for it (when it exists
    /// or was refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

/// The answer to `POST /api/v1/publish/batch`: every document's result, in request order, and
/// the counts.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishBatchResults {
    /// One per document, in request order.
    pub results: Vec<PublishBatchItem>,
    /// How many were stored.
    pub published: usize,
    /// How many were published already.
    pub exists: usize,
    /// How many were refused.
    pub refused: usize,
}

impl PublishBatchItem {
    /// The `name` and `version` a document states, whatever else is wrong with it (the
    /// envelope's `server`, for a `PublishRequest`).
    pub fn stated_identity(document: &Value) -> (Option<String>, Option<String>) {
        let server = match document.get("server") {
            Some(s) if s.is_object() && document.get("name").is_none() => s,
            _ => document,
        };
        let field = |key: &str| {
            server
                .get(key)
                .and_then(Value::as_str)
                .map(|s| s.chars().take(200).collect())
        };
        (field("name"), field("version"))
    }
}
