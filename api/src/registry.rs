//! Bodies of the official MCP registry API (`/v0`, `/v0.1`), wire-compatible with
//! `modelcontextprotocol/registry`'s `openapi.yaml`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::OFFICIAL_META_KEY;

/// Lifecycle status of a server version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "lowercase")
)]
pub enum Status {
    /// Listed and usable.
    Active,
    /// Still listed, but users should move away (see the status message).
    Deprecated,
    /// Hidden from listings unless `include_deleted=true`.
    Deleted,
}

impl Status {
    /// The status as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Deprecated => "deprecated",
            Status::Deleted => "deleted",
        }
    }

    /// Parses a stored or sent status.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Status::Active),
            "deprecated" => Some(Status::Deprecated),
            "deleted" => Some(Status::Deleted),
            _ => None,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Registry-managed metadata of one server version, under
/// `_meta["io.modelcontextprotocol.registry/official"]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfficialMeta {
    /// Lifecycle status.
    pub status: Status,
    /// Why the status was set (at most 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// When this version was published to this registry.
    pub published_at: DateTime<Utc>,
    /// When this version's registry metadata last changed.
    pub updated_at: DateTime<Utc>,
    /// Whether this is the server's latest version.
    pub is_latest: bool,
}

/// The response-level `_meta` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResponseMeta {
    /// Registry-managed metadata.
    #[serde(rename = "io.modelcontextprotocol.registry/official")]
    pub official: OfficialMeta,
    /// mcpreg's addition: the version's tools pin and context cost, when it has a tool manifest
    /// (`GET /api/v1/servers/{name}/versions/{version}/tools` has the manifest).
    #[serde(
        rename = "dev.mcpreg/tools",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tools: Option<crate::tools::ToolsMeta>,
}

/// One server version: the server.json exactly as published, and the registry's metadata.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServerResponse {
    /// The server.json document, byte-for-byte as stored.
    #[schema(value_type = Object)]
    pub server: Box<RawValue>,
    /// Registry-managed metadata.
    #[serde(rename = "_meta")]
    pub meta: ResponseMeta,
}

impl ServerResponse {
    /// The document parsed into a JSON value.
    pub fn server_value(&self) -> serde_json::Value {
        serde_json::from_str(self.server.get()).unwrap_or(serde_json::Value::Null)
    }

    /// `name` and `version` of the document, for display.
    pub fn name_and_version(&self) -> (String, String) {
        #[derive(Deserialize)]
        struct Head {
            #[serde(default)]
            name: String,
            #[serde(default)]
            version: String,
        }
        serde_json::from_str::<Head>(self.server.get())
            .map(|h| (h.name, h.version))
            .unwrap_or_default()
    }
}

/// Paging information of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListMetadata {
    /// Pass this as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// How many servers this page holds.
    pub count: usize,
}

/// A page of server versions.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServerList {
    /// The server versions on this page.
    pub servers: Vec<ServerResponse>,
    /// Paging information.
    pub metadata: ListMetadata,
}

const _: () = {
    // The literals in the serde attributes above must match the shared constants.
    assert!(OFFICIAL_META_KEY.len() == "io.modelcontextprotocol.registry/official".len());
    assert!(crate::tools::TOOLS_META_KEY.len() == "dev.mcpreg/tools".len());
};
