//! Bodies of the native administration API (`/api/v1/…`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::NamespaceName;
use crate::problem::FieldIssue;
use crate::registry::Status;

// `GET /healthz`, `GET /readyz`.
/// A health answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` (readiness only: reads are served from the replica's last revision
    /// while the database is unreachable).
    pub status: String,
}

impl Health {
    /// A healthy replica.
    pub fn ok() -> Self {
        Self {
            status: "ok".to_owned(),
        }
    }

    /// A replica that serves reads from its last revision but cannot reach its database
    /// (writes fail with 503 until it can).
    pub fn degraded() -> Self {
        Self {
            status: "degraded".to_owned(),
        }
    }
}

/// Longest status message accepted (the official limit).
pub const MAX_STATUS_MESSAGE_LEN: usize = 500;

/// A request to change the status of a server's versions.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusChange {
    /// The new status.
    pub status: Status,
    /// Why (shown to clients; at most 500 characters).
    #[serde(default)]
    pub status_message: Option<String>,
}

/// What a status change did.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusChangeResult {
    /// The server.
    pub name: String,
    /// The versions whose status changed.
    pub versions: Vec<String>,
    /// The status they now have.
    pub status: Status,
}

/// A namespace: the reverse-DNS prefix that groups servers and carries publish rights.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Namespace {
    /// The namespace, e.g. `com.acme`.
    pub name: NamespaceName,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
    /// How many servers it holds.
    pub server_count: i64,
}

/// A request to create a namespace.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewNamespace {
    /// The namespace, e.g. `com.acme`.
    pub name: NamespaceName,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
}

/// All namespaces.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NamespaceList {
    /// The namespaces, by name.
    pub namespaces: Vec<Namespace>,
}

/// The outcome of validating a server.json document without publishing it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationReport {
    /// Whether the document may be published.
    pub valid: bool,
    /// The `$schema` it was validated against, when it named a known one.
    #[serde(default)]
    pub schema: Option<String>,
    /// Every problem found, each with its JSON pointer.
    pub errors: Vec<FieldIssue>,
}

/// What a credential may do. Issue-by-issue the registry grows finer rights; today every write
/// needs `admin`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Curates the registry: publishes, changes status, manages namespaces and tokens.
    Admin,
    /// Publishes versions.
    Publisher,
    /// Reviews versions.
    Reviewer,
    /// Reads everything, including the audit trail.
    Auditor,
    /// Reads the catalog.
    Reader,
}

impl Role {
    /// The role as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Publisher => "publisher",
            Role::Reviewer => "reviewer",
            Role::Auditor => "auditor",
            Role::Reader => "reader",
        }
    }

    /// Parses a stored or given role.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Role::Admin,
            Role::Publisher,
            Role::Reviewer,
            Role::Auditor,
            Role::Reader,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
