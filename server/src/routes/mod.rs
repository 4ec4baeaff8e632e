//! HTTP handlers, one file per resource. `crate::router` lists every route.

pub mod allowlists;
pub mod audit;
pub mod auth;
pub mod namespaces;
pub mod official;
pub mod ops;
pub mod policies;
pub mod publish;
pub mod reviews;
pub mod scans;
pub mod server_tags;
pub mod signatures;
pub mod status;
pub mod tokens;
pub mod tools;
pub mod trusted_publishers;
pub mod trusted_signers;

/// OpenAPI tag of the official MCP registry API.
pub const TAG_OFFICIAL: &str = "official";
/// OpenAPI tag of the publishing endpoints.
pub const TAG_PUBLISH: &str = "publish";
/// OpenAPI tag of the administration endpoints.
pub const TAG_ADMIN: &str = "admin";
/// OpenAPI tag of the supply-chain trust endpoints: digests, signatures, trusted signers.
pub const TAG_TRUST: &str = "trust";
/// OpenAPI tag of the tool manifest and scan report endpoints.
pub const TAG_SCANS: &str = "scans";
/// OpenAPI tag of the review endpoints.
pub const TAG_REVIEW: &str = "review";
/// OpenAPI tag of the access policy endpoints: the policy, its diff, decisions.
pub const TAG_POLICY: &str = "policy";
/// OpenAPI tag of the allowlist endpoints: documents, keys, and each allowlist's view of the
/// official API.
pub const TAG_ALLOWLISTS: &str = "allowlists";
/// OpenAPI tag of the operations endpoints.
pub const TAG_OPS: &str = "operations";
