//! A version's tool manifest as the registry serves it: the manifest, its tools pin and its
//! estimated context cost (`GET /api/v1/servers/{name}/versions/{version}/tools`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::scans::FindingSeverity;

/// The vendor key under which the official API's response `_meta` carries a version's tools pin.
pub const TOOLS_META_KEY: &str = "dev.mcpreg/tools";

/// The tool manifest of a version, with what the registry derived from it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionTools {
    /// Server name.
    pub name: String,
    /// Version.
    pub version: String,
    /// The manifest: lists sorted, `toolsPin`, `toolDigests` and `contextCost` computed by the
    /// registry (see `docs/tool-manifests.md` for the format).
    #[schema(value_type = Object)]
    pub manifest: Box<RawValue>,
    /// `sha256:` over the manifest's pinned content: what a client compares the live server with.
    pub tools_pin: String,
    /// Estimated context cost of enabling the server.
    pub context_cost: ContextCost,
    /// How many tools the manifest lists.
    pub tool_count: u32,
    /// What the server calls itself (`serverInfo.name`).
    pub server_info_name: String,
    /// The highest severity among the version's unsuppressed scan findings (every report, the
    /// built-in scan included); absent when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highest_severity: Option<FindingSeverity>,
    /// Who attached the manifest.
    pub attached_by: String,
    /// When.
    pub attached_at: DateTime<Utc>,
}

/// What enabling a server costs a client in context tokens (an estimate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContextCost {
    /// The tokenizer the estimate used (`o200k_base`).
    pub encoding: String,
    /// Tool definitions plus instructions.
    pub total_tokens: u64,
    /// All tool definitions.
    #[serde(default)]
    pub tools_tokens: u64,
    /// The server's instructions.
    #[serde(default)]
    pub instructions_tokens: u64,
    /// Per tool, in manifest order.
    #[serde(default)]
    pub tools: Vec<ToolCost>,
}

/// The estimated context cost of one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolCost {
    /// The tool's name.
    pub name: String,
    /// Tokens of its definition.
    pub tokens: u64,
}

/// The tools pin of a version in the official API, under
/// `_meta["dev.mcpreg/tools"]` of a server response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolsMeta {
    /// `sha256:` over the manifest's pinned content.
    pub tools_pin: String,
    /// Estimated context cost.
    pub context_cost: ContextCostTotal,
}

/// The total of a context cost estimate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContextCostTotal {
    /// The tokenizer the estimate used (`o200k_base`).
    pub encoding: String,
    /// Tool definitions plus instructions.
    pub total_tokens: u64,
}
