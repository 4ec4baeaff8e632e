//! Bodies of the supply-chain trust API: what a version's signatures are over, the signatures and
//! digests the registry recorded for a version, and the signers a namespace trusts.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::problem::FieldIssue;

/// What a signature is over: the version's server.json (the SHA-256 of its RFC 8785 canonical
/// form), or the artifact of one of its packages (the package's digest).
///
/// On the wire: `server.json` or `package:<index>` (the index in the document's `packages`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SignatureTarget {
    /// The server.json document.
    ServerJson,
    /// The artifact of the package at this index of `packages`.
    Package(u32),
}

/// A signature target that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a signature target: expected `server.json` or `package:<index>` (e.g. `package:0`)"
)]
pub struct TargetError(pub String);

impl SignatureTarget {
    /// Parses `server.json` or `package:<index>`.
    pub fn parse(s: &str) -> Result<Self, TargetError> {
        if s == "server.json" {
            return Ok(Self::ServerJson);
        }
        s.strip_prefix("package:")
            .and_then(|n| n.parse::<u32>().ok().filter(|i| i.to_string() == n))
            .map(Self::Package)
            .ok_or_else(|| TargetError(s.chars().take(60).collect()))
    }
}

impl fmt::Display for SignatureTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServerJson => f.write_str("server.json"),
            Self::Package(i) => write!(f, "package:{i}"),
        }
    }
}

impl std::str::FromStr for SignatureTarget {
    type Err = TargetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for SignatureTarget {
    type Error = TargetError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SignatureTarget> for String {
    fn from(t: SignatureTarget) -> Self {
        t.to_string()
    }
}

/// A signature to verify and store with a version.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSignature {
    /// A sigstore bundle (v0.1–v0.3 JSON: a message signature or a DSSE envelope with an in-toto
    /// statement), or an mcpreg key signature (`application/vnd.mcpreg.signature.v1+json`).
    #[schema(value_type = Object)]
    pub bundle: Value,
    /// What it signs: `server.json` or `package:<index>`.
    #[serde(rename = "for")]
    #[schema(value_type = String, example = "package:0")]
    pub target: SignatureTarget,
}

impl NewSignature {
    /// Reads one `{"bundle": {…}, "for": "…"}`, adding what is wrong to `issues` with `at` as
    /// the location prefix (`signatures[0]`, or empty for a request body of its own). Every
    /// problem is listed, not only the first, which is why this is not serde's derive.
    pub fn from_json(item: Value, at: &str, issues: &mut Vec<FieldIssue>) -> Option<Self> {
        let field = |name: &str| {
            if at.is_empty() {
                name.to_owned()
            } else {
                format!("{at}.{name}")
            }
        };
        let Value::Object(mut object) = item else {
            issues.push(FieldIssue::new(
                if at.is_empty() { "body" } else { at },
                "must be an object {\"bundle\": {…}, \"for\": \"server.json\" | \"package:<index>\"}",
                "syntax",
            ));
            return None;
        };
        let before = issues.len();
        for key in object.keys() {
            if key != "bundle" && key != "for" {
                issues.push(FieldIssue::new(
                    field(key),
                    "unknown field: a signature has `bundle` and `for`",
                    "syntax",
                ));
            }
        }
        let target = match object.remove("for") {
            Some(Value::String(s)) => match SignatureTarget::parse(&s) {
                Ok(t) => Some(t),
                Err(e) => {
                    issues.push(FieldIssue::new(field("for"), e.to_string(), "syntax"));
                    None
                }
            },
            Some(_) => {
                issues.push(FieldIssue::new(
                    field("for"),
                    "must be a string: `server.json` or `package:<index>`",
                    "syntax",
                ));
                None
            }
            None => {
                issues.push(FieldIssue::new(
                    field("for"),
                    "is required: `server.json` or `package:<index>`",
                    "syntax",
                ));
                None
            }
        };
        let bundle = match object.remove("bundle") {
            Some(b @ Value::Object(_)) => Some(b),
            Some(_) => {
                issues.push(FieldIssue::new(
                    field("bundle"),
                    "must be a JSON object: a sigstore bundle or an mcpreg key signature, not its text",
                    "syntax",
                ));
                None
            }
            None => {
                issues.push(FieldIssue::new(field("bundle"), "is required", "syntax"));
                None
            }
        };
        match (bundle, target) {
            (Some(bundle), Some(target)) if issues.len() == before => Some(Self { bundle, target }),
            _ => None,
        }
    }
}

/// `POST /api/v1/publish` with signatures: the server.json and the signatures to verify and store
/// with it, in one transaction. (A bare server.json is accepted too.)
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// The server.json document.
    #[schema(value_type = Object)]
    pub server: Value,
    /// Signatures over the document or its packages' artifacts.
    #[serde(default)]
    pub signatures: Vec<NewSignature>,
    /// The version's tool manifest (`mcpreg tools capture`), stored with it and scanned on
    /// receipt; see `PUT /api/v1/servers/{serverName}/versions/{version}/tools`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub tools: Option<Value>,
}

impl PublishRequest {
    /// Reads the body of `POST /api/v1/publish`: either a bare server.json, or `{"server":
    /// <server.json>, "signatures": [...], "tools": {...}}` — recognised by a top-level `server`
    /// object and no `name` (every server.json has a `name`). Every problem of the envelope is
    /// listed with its place (`signatures[1].for`), not only the first.
    pub fn from_body(body: Value) -> Result<Self, Vec<FieldIssue>> {
        let is_envelope =
            body.get("server").is_some_and(Value::is_object) && body.get("name").is_none();
        let bare = |server| Self {
            server,
            signatures: Vec::new(),
            tools: None,
        };
        let Value::Object(mut envelope) = body else {
            return Ok(bare(body));
        };
        if !is_envelope {
            return Ok(bare(Value::Object(envelope)));
        }
        let mut issues = Vec::new();
        for key in envelope.keys() {
            if key != "server" && key != "signatures" && key != "tools" {
                issues.push(FieldIssue::new(
                    key.clone(),
                    "unknown field: a publish request has `server`, `signatures` and `tools`",
                    "syntax",
                ));
            }
        }
        let server = envelope.remove("server").unwrap_or_default();
        let tools = envelope.remove("tools").filter(|t| !t.is_null());
        let signatures = match envelope.remove("signatures") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    NewSignature::from_json(item, &format!("signatures[{i}]"), &mut issues)
                })
                .collect(),
            Some(_) => {
                issues.push(FieldIssue::new(
                    "signatures",
                    "must be an array of {\"bundle\": {…}, \"for\": \"server.json\" | \"package:<index>\"}",
                    "syntax",
                ));
                Vec::new()
            }
        };
        if !issues.is_empty() {
            return Err(issues);
        }
        Ok(Self {
            server,
            signatures,
            tools,
        })
    }
}

/// One package of a version and the artifact digest it pins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackageDigest {
    /// Index in the document's `packages`.
    pub index: u32,
    /// `npm`, `pypi`, `oci`, `mcpb`, `nuget`, …
    pub registry_type: String,
    /// The package's identifier.
    pub identifier: String,
    /// `sha256:<hex>`: `fileSha256` for files, the `@sha256:` manifest digest for OCI images.
    /// Absent: the package is unpinned.
    #[serde(default)]
    pub digest: Option<String>,
}

/// Who signed, as verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignerKind {
    /// A keyless signer: a Fulcio certificate for an OIDC identity.
    Certificate,
    /// A trusted public key.
    Key,
}

/// Build claims Fulcio recorded in a CI signer's certificate (for GitHub Actions: repository,
/// ref, workflow, commit, trigger and runner).
// Each is a claim the CI's OIDC token made, only worth anything because the certificate verified.
// The snake_case aliases read the form `mcpreg-trust` has always stored verified signatures in
// (`mcpreg_trust::Signer`). Not in the doc comment: it is the OpenAPI description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CiClaims {
    /// Source repository URI (`https://github.com/OWNER/REPO`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Source repository ref (`refs/tags/v1.2.3`).
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "git_ref")]
    pub git_ref: Option<String>,
    /// Source commit (the git SHA).
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "source_sha")]
    pub source_sha: Option<String>,
    /// The workflow file at its ref.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// The (possibly reusable) workflow that signed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "build_signer"
    )]
    pub build_signer: Option<String>,
    /// What triggered the build (`push`, `release`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    /// `github-hosted` or `self-hosted`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "runner_environment"
    )]
    pub runner_environment: Option<String>,
    /// The run's URI.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "run_invocation"
    )]
    pub run_invocation: Option<String>,
}

/// A transparency log entry a signature was logged under (its inclusion was verified).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// Index of the entry in the log.
    // The snake_case aliases read the form `mcpreg-trust` stores verified signatures in.
    #[serde(alias = "log_index")]
    pub log_index: u64,
    /// The log's ID, hex.
    #[serde(alias = "log_id")]
    pub log_id: String,
    /// Entry kind and version (`hashedrekord/0.0.1`, `dsse/0.0.1`, …).
    pub kind: String,
}

/// A signature the registry verified on arrival and stored with a version.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignatureInfo {
    /// Its id.
    pub id: i64,
    /// What it signs: `server.json` or `package:<index>`.
    #[serde(rename = "for")]
    #[schema(value_type = String, example = "package:0")]
    pub target: SignatureTarget,
    /// The digest it was verified over (`sha256:<hex>`).
    pub subject_digest: String,
    /// Keyless (certificate) or key-based.
    pub signer_kind: SignerKind,
    /// A keyless signer's certificate identity (SAN).
    #[serde(default)]
    pub identity: Option<String>,
    /// A keyless signer's OIDC issuer.
    #[serde(default)]
    pub issuer: Option<String>,
    /// CI build claims of a keyless CI signer.
    #[serde(default)]
    pub ci: Option<CiClaims>,
    /// A key signer's key ID (`sha256:` of its DER SubjectPublicKeyInfo).
    #[serde(default)]
    pub key_id: Option<String>,
    /// A key signer's algorithm (`ecdsa-p256`, `ed25519`).
    #[serde(default)]
    pub key_algorithm: Option<String>,
    /// A key signer's public key (PEM), as trusted when the signature arrived.
    #[serde(default)]
    pub public_key: Option<String>,
    /// The verified signing time (transparency log or RFC 3161 timestamp); absent for key
    /// signatures.
    #[serde(default)]
    pub signed_at: Option<DateTime<Utc>>,
    /// The transparency log entries it was logged under.
    #[serde(default)]
    pub log_entries: Vec<LogEntry>,
    /// The signature document's media type.
    pub media_type: String,
    /// For a DSSE signature, the in-toto statement's `predicateType`.
    #[serde(default)]
    pub predicate_type: Option<String>,
    /// The signature document as it was sent (a sigstore bundle or an mcpreg key signature).
    #[schema(value_type = Object)]
    pub bundle: Value,
    /// Who sent it.
    pub created_by: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// What the registry recorded about a version's supply chain: the digest of its server.json, the
/// digest each package pins, and the signatures it verified.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionTrust {
    /// The server.
    pub name: String,
    /// The version.
    pub version: String,
    /// `sha256:` of the RFC 8785 canonical form of the server.json: what a signature "over the
    /// server.json" signs.
    pub server_json_digest: String,
    /// Whether every package pins its artifact by digest (true for a version without packages).
    pub pinned: bool,
    /// The packages and their digests.
    pub packages: Vec<PackageDigest>,
    /// The verified signatures, oldest first.
    pub signatures: Vec<SignatureInfo>,
}

/// Which kind of signer a trusted signer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrustedSignerKind {
    /// A keyless signer: a certificate identity (exact or pattern) and its OIDC issuer.
    Identity,
    /// A public key.
    Key,
}

/// A signer whose signatures a namespace (or one server of it) accepts.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustedSigner {
    /// Its id.
    pub id: i64,
    /// The namespace.
    pub namespace: String,
    /// When set, the only server it may sign.
    #[serde(default)]
    pub server: Option<String>,
    /// Identity or key.
    pub kind: TrustedSignerKind,
    /// The exact certificate identity (SAN).
    #[serde(default)]
    pub identity: Option<String>,
    /// An anchored regular expression (`^…$`) the certificate identity must match.
    #[serde(default)]
    pub identity_pattern: Option<String>,
    /// The OIDC issuer that must have vouched for the identity.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The public key, PEM.
    #[serde(default)]
    pub public_key: Option<String>,
    /// The key's ID (`sha256:` of its DER SubjectPublicKeyInfo).
    #[serde(default)]
    pub key_id: Option<String>,
    /// The key's algorithm (`ecdsa-p256`, `ed25519`).
    #[serde(default)]
    pub key_algorithm: Option<String>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// Who added it.
    pub created_by: String,
}

/// A request to trust a signer: `identity` or `identityPattern` with `issuer`, or `publicKey`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTrustedSigner {
    /// Only this server of the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The exact certificate identity (SAN): an email address, or a CI workflow URI such as
    /// `https://github.com/acme/weather/.github/workflows/release.yml@refs/tags/v1.0.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// An anchored regular expression (`^…$`) the certificate identity must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_pattern: Option<String>,
    /// The OIDC issuer (a URL), with `identity` or `identityPattern`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// A PEM `PUBLIC KEY` (ECDSA P-256 or Ed25519; `cosign.pub` works).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// The trusted signers of a namespace.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustedSignerList {
    /// The trusted signers.
    pub trusted_signers: Vec<TrustedSigner>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_print() {
        assert_eq!(
            SignatureTarget::parse("server.json"),
            Ok(SignatureTarget::ServerJson)
        );
        assert_eq!(
            SignatureTarget::parse("package:12"),
            Ok(SignatureTarget::Package(12))
        );
        for bad in [
            "package:",
            "package:-1",
            "package:01",
            "package:+1",
            "Server.json",
            "",
        ] {
            assert!(SignatureTarget::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(SignatureTarget::Package(3).to_string(), "package:3");
        let json = serde_json::to_string(&SignatureTarget::ServerJson).unwrap_or_default();
        assert_eq!(json, "\"server.json\"");
    }
}
