//! Wire types shared by `mcpreg-server` and the `mcpreg` CLI.
//!
//! Everything here is pure: no database, no HTTP client, no file system. Values with rules are
//! newtypes with a fallible constructor (`ServerName::parse`, `Version::parse`), so code that holds
//! one never has to check it again.

pub mod access;
pub mod admin;
pub mod allowlist;
pub mod digest;
pub mod name;
pub mod policy;
pub mod problem;
pub mod publish;
pub mod query;
pub mod registry;
pub mod review;
pub mod scans;
pub mod server_json;
pub mod tools;
pub mod trust;
pub mod version;

pub use digest::{DigestError, Sha256Digest, canonical_json};
pub use name::{NamespaceName, ServerName};
pub use problem::{FieldIssue, Problem};
pub use registry::{ListMetadata, OfficialMeta, ResponseMeta, ServerList, ServerResponse, Status};
pub use version::Version;

/// The `_meta` key under which the official registry (and mcpreg) put registry-managed metadata.
pub const OFFICIAL_META_KEY: &str = "io.modelcontextprotocol.registry/official";

/// The only `_meta` key a publisher may set inside server.json.
pub const PUBLISHER_META_KEY: &str = "io.modelcontextprotocol.registry/publisher-provided";
