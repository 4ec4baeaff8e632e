//! The signed allowlist document (`GET /api/v1/allowlists/{name}`) and the registry's published
//! signing keys (`GET /.well-known/mcpreg-keys.json`).
//!
//! Both are TUF-like envelopes: a `signed` part and the `signatures` over it. A signature is an
//! Ed25519 signature over the RFC 8785 (JCS) canonical JSON of `signed`, exactly as it was
//! received — a verifier canonicalises the JSON it got, not what it parsed it into, so that fields
//! it does not know yet still count. `mcpreg-trust` makes and checks them; `docs/allowlists.md`
//! describes the format, rotation and what a client checks.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ServerName, Status, Version};

/// The `type` of an allowlist document's `signed` part.
pub const ALLOWLIST_DOCUMENT_TYPE: &str = "mcpreg.allowlist.v1";

/// The `type` of a keyset's `signed` part.
pub const KEYSET_DOCUMENT_TYPE: &str = "mcpreg.keys.v1";

/// Where an allowlist is served, as an OpenAPI path template (relative to the registry's URL).
pub const ALLOWLIST_PATH: &str = "/api/v1/allowlists/{name}";

/// The path segments before an allowlist's name in [`ALLOWLIST_PATH`].
pub const ALLOWLIST_PATH_SEGMENTS: [&str; 3] = ["api", "v1", "allowlists"];

/// Where the registry publishes its allowlist signing keys (a [`SignedKeySet`]).
pub const KEYSET_PATH: &str = "/.well-known/mcpreg-keys.json";

/// The path segments of [`KEYSET_PATH`].
pub const KEYSET_PATH_SEGMENTS: [&str; 2] = [".well-known", "mcpreg-keys.json"];

/// The only signature algorithm of allowlists and keysets.
pub const ED25519: &str = "ed25519";

/// A signature over the canonical JSON of an envelope's `signed` part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentSignature {
    /// The signing key's ID: `sha256:` and the hexadecimal SHA-256 of its raw 32-byte Ed25519
    /// public key. Only a lookup hint: a verifier checks the signature with the key it trusts
    /// under that ID.
    #[schema(example = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub key_id: String,
    /// The 64-byte Ed25519 signature, standard base64.
    pub sig: String,
}

/// `GET /api/v1/allowlists/{name}`: an allowlist document and its signatures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedAllowlist {
    /// What is signed.
    pub signed: AllowlistDocument,
    /// Signatures over the RFC 8785 canonical JSON of `signed`, one per signing key (two while
    /// keys rotate).
    pub signatures: Vec<DocumentSignature>,
}

/// An allowlist: the server versions that policy lets one audience (a team, an environment) use,
/// with what a client needs to recognise each one. It is versioned (the version only grows, so a
/// client can refuse an older document: rollback) and expires soon (the registry renews it
/// automatically, so a client can refuse a document that stopped being renewed: freeze).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowlistDocument {
    /// Always [`ALLOWLIST_DOCUMENT_TYPE`]; a verifier refuses any other value, so that no other
    /// document signed with the same key (a keyset) passes for an allowlist.
    #[serde(rename = "type")]
    #[schema(example = "mcpreg.allowlist.v1")]
    pub document_type: String,
    /// The allowlist's name (the `{name}` it is served under).
    #[schema(example = "platform-team")]
    pub allowlist: String,
    /// The base URL of the registry that issued it, without a trailing `/`.
    #[schema(example = "https://mcp.acme.example")]
    pub registry: String,
    /// Grows with every document issued for this allowlist, renewals included.
    pub version: u64,
    /// When this document was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops being valid; a client refuses it from then on.
    pub expires_at: DateTime<Utc>,
    /// The allowed server versions.
    pub entries: Vec<AllowlistEntry>,
}

/// How an allowed server may be reached.
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
pub enum Transport {
    /// Run locally from one of the packages of server.json (`packages[]`), over stdin/stdout.
    Stdio,
    /// Connected to at one of the remote URLs of server.json (`remotes[]`).
    Remote,
}

impl Transport {
    /// Both transports.
    pub const ALL: [Transport; 2] = [Transport::Stdio, Transport::Remote];

    /// `stdio` or `remote`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Stdio => "stdio",
            Transport::Remote => "remote",
        }
    }

    /// Parses one of the names [`Self::as_str`] gives.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One allowed server version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowlistEntry {
    /// The server's name.
    pub name: ServerName,
    /// The allowed version.
    pub version: Version,
    /// The version's status (`deprecated` is still allowed; clients say so).
    pub status: Status,
    /// The transports the version may be used over; a client refuses any other.
    pub transports: Vec<Transport>,
    /// The remote endpoints a client may connect to for this version.
    #[serde(default)]
    pub remotes: Vec<AllowedRemote>,
    /// The packages a client may run for this version.
    #[serde(default)]
    pub packages: Vec<AllowedPackage>,
    /// Who signed the version, as the registry verified it.
    #[serde(default)]
    pub signers: Vec<AllowedSigner>,
    /// The tools pin: the digest of the tool manifest the version was reviewed with
    /// (`sha256:<hex>`); absent when none was captured.
    #[serde(default)]
    pub tools_pin: Option<String>,
}

/// A remote endpoint of an allowed version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowedRemote {
    /// The remote transport type, as in server.json: `streamable-http` or `sse`.
    #[serde(rename = "type")]
    #[schema(example = "streamable-http")]
    pub remote_type: String,
    /// The endpoint's URL.
    #[schema(example = "https://mcp.acme.example/github/mcp")]
    pub url: String,
}

/// A package of an allowed version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowedPackage {
    /// `npm`, `pypi`, `oci`, `mcpb`, `nuget`, …
    #[schema(example = "npm")]
    pub registry_type: String,
    /// The package's identifier: an npm or PyPI name, or an OCI image reference
    /// (`ghcr.io/acme/weather`, possibly with `:tag` and `@sha256:…`).
    #[schema(example = "@acme/github-mcp")]
    pub identifier: String,
    /// The package's version (for an OCI image: its tag).
    #[schema(example = "1.4.2")]
    pub version: String,
    /// The artifact digest, `sha256:<hex>` (for an OCI image: its manifest digest); absent when
    /// the version pins none.
    #[serde(default)]
    pub digest: Option<String>,
}

/// A signer of an allowed version, as the registry verified it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AllowedSigner {
    /// A keyless (Sigstore) signer: an OIDC identity.
    Identity {
        /// The OIDC issuer.
        issuer: String,
        /// The certificate identity (SAN).
        identity: String,
    },
    /// A key-based signer.
    Key {
        /// The key's ID (`sha256:` of its DER SubjectPublicKeyInfo).
        #[serde(rename = "keyId")]
        key_id: String,
    },
}

/// `GET /.well-known/mcpreg-keys.json`: the registry's allowlist signing keys, signed.
///
/// A client that pinned a key accepts a new keyset only when a key it pinned signed it, so during a
/// rotation the registry signs the new keyset with the old key and the new one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedKeySet {
    /// What is signed.
    pub signed: KeySet,
    /// Signatures over the RFC 8785 canonical JSON of `signed`.
    pub signatures: Vec<DocumentSignature>,
}

/// The registry's allowlist signing keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeySet {
    /// Always [`KEYSET_DOCUMENT_TYPE`].
    #[serde(rename = "type")]
    #[schema(example = "mcpreg.keys.v1")]
    pub document_type: String,
    /// Grows with every change of the keys; a client refuses a lower one than it pinned.
    pub version: u64,
    /// When this keyset was issued.
    pub issued_at: DateTime<Utc>,
    /// The keys, active and retired.
    pub keys: Vec<PublishedKey>,
}

/// Whether a published key may still sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Signs allowlists and keysets.
    Active,
    /// No longer trusted: signatures by it do not count.
    Retired,
}

/// One published signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishedKey {
    /// `sha256:` and the hexadecimal SHA-256 of the raw public key.
    pub key_id: String,
    /// Always [`ED25519`].
    #[schema(example = "ed25519")]
    pub algorithm: String,
    /// The raw 32-byte Ed25519 public key, standard base64.
    pub public_key: String,
    /// Active or retired.
    pub status: KeyStatus,
}

/// How an allowlist may be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Anyone, without credentials.
    Anonymous,
    /// Any caller with credentials that may read the catalog.
    Token,
    /// Callers whose address is in the allowlist's networks (the peer address of the connection:
    /// put no proxy in front, or restrict at the proxy).
    Network,
}

impl Access {
    /// `anonymous`, `token` or `network`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Token => "token",
            Self::Network => "network",
        }
    }

    /// Parses one of the names [`Self::as_str`] gives.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Anonymous, Self::Token, Self::Network]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// An allowlist as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowlistInfo {
    /// Its name: lower-case letters, digits and `-`.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Who may read it.
    pub access: Access,
    /// For `network` access: the client networks (CIDR).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<String>,
    /// The base URL an MCP client (VS Code, Copilot) is pointed at: the official API of this
    /// allowlist's view.
    pub registry_url: String,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A new allowlist (`POST /api/v1/allowlists`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAllowlist {
    /// Its name: 1–63 lower-case letters, digits and `-`, starting with a letter or digit.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Who may read it (default `token`).
    #[serde(default)]
    pub access: Option<Access>,
    /// For `network` access: the client networks, in CIDR form (`10.20.0.0/16`).
    #[serde(default)]
    pub networks: Vec<String>,
}

/// The allowlists (`GET /api/v1/allowlists`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AllowlistList {
    /// Every allowlist, by name.
    pub allowlists: Vec<AllowlistInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_document_reads_and_writes_camel_case() {
        let wire = json!({
            "signed": {
                "type": "mcpreg.allowlist.v1",
                "allowlist": "platform",
                "registry": "https://mcp.acme.example",
                "version": 7,
                "issuedAt": "2026-01-01T00:00:00Z",
                "expiresAt": "2026-01-02T00:00:00Z",
                "entries": [{
                    "name": "com.acme/github",
                    "version": "1.4.2",
                    "status": "active",
                    "transports": ["stdio", "remote"],
                    "remotes": [{"type": "streamable-http", "url": "https://mcp.acme.example/gh"}],
                    "packages": [{"registryType": "npm", "identifier": "@acme/gh", "version": "1.4.2",
                                  "digest": null}],
                    "signers": [{"issuer": "https://token.actions.githubusercontent.com",
                                 "identity": "https://github.com/acme/gh/.github/workflows/release.yml@refs/tags/v1.4.2"},
                                {"keyId": "sha256:00"}],
                    "toolsPin": "sha256:11"
                }, {
                    "name": "com.acme/time", "version": "2.0.0", "status": "deprecated",
                    "transports": ["stdio"]
                }]
            },
            "signatures": [{"keyId": "sha256:ab", "sig": "AAAA"}]
        });
        let doc: SignedAllowlist = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(doc.signed.version, 7);
        let e = &doc.signed.entries[0];
        assert_eq!(e.transports, [Transport::Stdio, Transport::Remote]);
        assert!(matches!(e.signers[1], AllowedSigner::Key { ref key_id } if key_id == "sha256:00"));
        // Additive fields default.
        assert!(doc.signed.entries[1].packages.is_empty());
        assert_eq!(doc.signed.entries[1].tools_pin, None);
        let back = serde_json::to_value(&doc).unwrap();
        assert_eq!(back["signed"]["entries"][0], wire["signed"]["entries"][0]);
        assert_eq!(back["signed"]["issuedAt"], "2026-01-01T00:00:00Z");
    }

    #[test]
    fn entries_with_bad_names_or_versions_are_refused() {
        let entry = |name: &str, version: &str| json!({"name": name, "version": version, "status": "active", "transports": []});
        assert!(serde_json::from_value::<AllowlistEntry>(entry("com.acme/x", "1.0.0")).is_ok());
        assert!(serde_json::from_value::<AllowlistEntry>(entry("no-slash", "1.0.0")).is_err());
        assert!(serde_json::from_value::<AllowlistEntry>(entry("com.acme/x", "^1")).is_err());
    }

    #[test]
    fn a_keyset_reads_and_writes() {
        let wire = json!({
            "signed": {"type": "mcpreg.keys.v1", "version": 2, "issuedAt": "2026-01-01T00:00:00Z",
                       "keys": [{"keyId": "sha256:ab", "algorithm": "ed25519",
                                 "publicKey": "AAAA", "status": "retired"}]},
            "signatures": []
        });
        let ks: SignedKeySet = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(ks.signed.keys[0].status, KeyStatus::Retired);
        assert_eq!(serde_json::to_value(&ks).unwrap(), wire);
    }
}
