//! A typed client for the mcpreg registry: one method per endpoint, taking and returning the
//! wire types of `mcpreg-api`, so that a change of the server's contract that the client does
//! not follow is a compile error rather than a `body["x"]` that is silently `null`.
//!
//! The CLI is built on it, and the integration tests that are not about the raw wire are meant
//! to be. Every registry URL is built here, with each path segment percent-encoded (a server name's `/` travels as `%2F`,
//! as the official registry API expects).

#![forbid(unsafe_code)]

mod error;
mod transport;

mod access;
mod allowlists;
mod official;
mod policy;
mod reviews;
mod versions;

pub use error::{ApiFailure, ClientError};
/// The query types are the contract's own; re-exported so callers need not name `mcpreg-api`.
pub use mcpreg_api::query::{AuditQuery, ReviewQuery, ServerListQuery};
pub use transport::{Client, Fetched};

/// What every call returns.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Each operation of the registry's OpenAPI document and the method that calls it.
    const METHODS: &[(&str, &str)] = &[
        ("list_servers", "servers"),
        ("list_versions", "server_versions"),
        ("get_version", "version"),
        ("official_publish", "official_publish"),
        ("official_validate", "official_validate"),
        ("allowlist_list_servers", "allowlist_servers"),
        ("allowlist_list_versions", "allowlist_server_versions"),
        ("allowlist_get_version", "allowlist_version"),
        ("publish", "publish, publish_server_json"),
        ("publish_batch", "publish_batch"),
        ("validate", "validate"),
        ("set_server_status", "set_server_status"),
        ("set_version_status", "set_version_status"),
        ("get_version_trust", "version_trust"),
        ("attach_signature", "attach_signature"),
        ("get_version_tools", "version_tools"),
        ("attach_version_tools", "attach_version_tools"),
        ("list_version_scans", "version_scans"),
        ("upload_version_scan", "upload_scan"),
        ("export_version_scans_sarif", "version_scans_sarif"),
        ("get_server_tags", "server_tags"),
        ("set_server_tags", "set_server_tags"),
        ("list_reviews", "reviews"),
        ("get_version_review", "review"),
        ("decide_version_review", "decide_review"),
        ("whoami", "whoami"),
        ("settings", "auth_settings"),
        ("exchange", "exchange_token"),
        ("protected_resource", "protected_resource"),
        ("list_tokens", "tokens"),
        ("create_token", "create_token"),
        ("revoke_token", "revoke_token"),
        ("list_namespaces", "namespaces"),
        ("get_namespace", "namespace"),
        ("create_namespace", "create_namespace"),
        ("list_trusted_publishers", "trusted_publishers"),
        ("create_trusted_publisher", "add_trusted_publisher"),
        ("delete_trusted_publisher", "remove_trusted_publisher"),
        ("list_trusted_signers", "trusted_signers"),
        ("create_trusted_signer", "add_trusted_signer"),
        ("delete_trusted_signer", "remove_trusted_signer"),
        ("list_audit_events", "audit"),
        ("healthz", "healthz"),
        ("readyz", "readyz"),
        ("list_allowlists", "allowlists"),
        ("create_allowlist", "create_allowlist"),
        ("get_allowlist_document", "allowlist_document"),
        ("get_signing_keys", "signing_keys"),
        ("get_policy", "policy"),
        ("apply_policy", "apply_policy"),
        ("diff_policy", "policy_diff"),
        ("decide_access", "decide"),
    ];

    /// A new endpoint in the committed OpenAPI document fails here until the client has a
    /// method for it (and the table above says which).
    #[test]
    fn every_documented_operation_has_a_method() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../openapi/openapi.json"))
                .expect("openapi.json is JSON");
        let documented: BTreeSet<&str> = doc["paths"]
            .as_object()
            .expect("paths")
            .values()
            .filter_map(serde_json::Value::as_object)
            .flat_map(|ops| ops.values())
            .filter_map(|op| op["operationId"].as_str())
            .collect();
        let covered: BTreeSet<&str> = METHODS.iter().map(|(op, _)| *op).collect();
        assert_eq!(
            documented.difference(&covered).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "operations without a client method"
        );
        assert_eq!(
            covered.difference(&documented).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "client methods for operations the registry does not document"
        );
    }
}
