//! Query parameters of the list endpoints, as they travel.
//!
//! Values whose checking must name the parameter in a problem (`query.limit`) travel as raw
//! strings: the server parses them into its own filters and says what was wrong and where,
//! rather than failing in deserialization with a message no client can act on. The builder
//! methods take typed values, so a client never writes a malformed one.
//!
//! Each type serializes its parameters in a fixed order that is not the order of its fields:
//! the fields' order is the OpenAPI document's, the serialized order is what clients have
//! always sent, and a replica's cache is keyed by the URL as sent.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Serialize, Serializer};
use utoipa::IntoParams;

/// Serializes the present pairs, in the order given.
fn pairs<S: Serializer, const N: usize>(
    serializer: S,
    pairs: [(&str, Option<&str>); N],
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    for (key, value) in pairs {
        if let Some(value) = value {
            map.serialize_entry(key, value)?;
        }
    }
    map.end()
}

/// Query parameters of `GET /v0.1/servers` (and of each allowlist's copy of it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServerListQuery {
    /// Opaque cursor from `metadata.nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 30).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Case-insensitive substring of the server name.
    pub search: Option<String>,
    /// Only versions whose registry metadata changed after this RFC 3339 instant (deleted ones included).
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<String>,
    /// `latest` for each server's latest version only, or an exact version.
    pub version: Option<String>,
    /// Include deleted versions (default false; true when `updated_since` is given).
    #[param(value_type = Option<bool>)]
    pub include_deleted: Option<String>,
}

impl ServerListQuery {
    /// At most this many entries in the page.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit.to_string());
        self
    }

    /// Only each server's latest version when `latest_only`, else every version.
    #[must_use]
    pub fn latest_only(mut self, latest_only: bool) -> Self {
        self.version = latest_only.then(|| "latest".to_owned());
        self
    }

    /// Deleted versions too when `include`.
    #[must_use]
    pub fn include_deleted(mut self, include: bool) -> Self {
        self.include_deleted = include.then(|| "true".to_owned());
        self
    }

    /// Only names containing this, case-insensitively.
    #[must_use]
    pub fn search(mut self, search: Option<String>) -> Self {
        self.search = search;
        self
    }

    /// Only entries updated after this instant (sent with microseconds).
    #[must_use]
    pub fn updated_since(mut self, since: Option<DateTime<Utc>>) -> Self {
        self.updated_since = since.map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true));
        self
    }

    /// Where the previous page ended (its `metadata.nextCursor`).
    #[must_use]
    pub fn cursor(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }
}

impl Serialize for ServerListQuery {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        pairs(
            serializer,
            [
                ("limit", self.limit.as_deref()),
                ("version", self.version.as_deref()),
                ("include_deleted", self.include_deleted.as_deref()),
                ("search", self.search.as_deref()),
                ("updated_since", self.updated_since.as_deref()),
                ("cursor", self.cursor.as_deref()),
            ],
        )
    }
}

/// Query parameter `include_deleted` of the single-server endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncludeDeleted {
    /// Include deleted versions (default false).
    #[param(value_type = Option<bool>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_deleted: Option<String>,
}

impl From<bool> for IncludeDeleted {
    /// `include_deleted=true`, or nothing (the default, false).
    fn from(include: bool) -> Self {
        Self {
            include_deleted: include.then(|| "true".to_owned()),
        }
    }
}

/// Paging of the audit trail (`GET /api/v1/audit`), newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events older than this id (from `nextBefore`).
    pub before: Option<i64>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

impl Serialize for AuditQuery {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let limit = self.limit.map(|n| n.to_string());
        let before = self.before.map(|n| n.to_string());
        pairs(
            serializer,
            [("limit", limit.as_deref()), ("before", before.as_deref())],
        )
    }
}

/// Query of the review queue (`GET /api/v1/reviews`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// Only versions in this state: `submitted`, `approved`, `rejected`, `revoked`.
    pub state: Option<String>,
    /// At most this many (1–500, default 100).
    pub limit: Option<String>,
}

impl ReviewQuery {
    /// At most this many versions.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit.to_string());
        self
    }

    /// Only versions in this state (the registry refuses names it does not know).
    #[must_use]
    pub fn state(mut self, state: Option<String>) -> Self {
        self.state = state;
        self
    }
}

impl Serialize for ReviewQuery {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        pairs(
            serializer,
            [
                ("limit", self.limit.as_deref()),
                ("state", self.state.as_deref()),
            ],
        )
    }
}
