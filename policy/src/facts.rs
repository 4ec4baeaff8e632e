//! What a decision is made about: who asks ([`Subject`]) and what the registry knows about the
//! version they ask for ([`VersionFacts`]). The server gathers these; evaluation only reads them.

use std::collections::BTreeSet;
use std::fmt;

pub use mcpreg_api::policy::Subject;
use mcpreg_api::review::ReviewState;
use mcpreg_api::scans::FindingSeverity;
use mcpreg_api::{ServerName, Status, Version};
use serde::{Deserialize, Serialize};

pub use mcpreg_api::allowlist::Transport;

/// A verified signature's signer, as the registry stored it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SignerFact {
    /// A keyless (Fulcio certificate) signer.
    #[serde(rename_all = "camelCase")]
    Keyless {
        /// The OIDC issuer that vouched for the identity.
        issuer: String,
        /// The certificate identity (SAN): an email address or a CI workflow URI.
        identity: String,
    },
    /// A trusted public key.
    #[serde(rename_all = "camelCase")]
    Key {
        /// The key's id (`sha256:` of its DER SubjectPublicKeyInfo).
        key_id: String,
    },
}

impl fmt::Display for SignerFact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignerFact::Keyless { issuer, identity } => {
                write!(f, "identity {identity} (issuer {issuer})")
            }
            SignerFact::Key { key_id } => write!(f, "key {key_id}"),
        }
    }
}

/// What the registry knows about one version, as policy conditions read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionFacts {
    /// The server's full name, `namespace/name`.
    pub name: ServerName,
    /// The version.
    pub version: Version,
    /// The server's tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The server's (or the version's) status. A deleted version is never allowed.
    pub status: Status,
    /// Where the version is in its review.
    pub review: ReviewState,
    /// Every verified signature's signer (any target of the version).
    #[serde(default)]
    pub signers: Vec<SignerFact>,
    /// The highest severity among the unsuppressed findings of all scan reports; `None` when
    /// there are none.
    #[serde(default)]
    pub highest_severity: Option<FindingSeverity>,
    /// The transports the version offers: `stdio` when its server.json has packages, `remote`
    /// when it has remotes.
    #[serde(default)]
    pub transports: BTreeSet<Transport>,
    /// The URLs of the server.json's remotes.
    #[serde(default)]
    pub remote_urls: Vec<String>,
    /// The tools pin (digest of the tool manifest), when a manifest is attached.
    #[serde(default)]
    pub tools_pin: Option<String>,
    /// The context cost of the tool manifest in tokens, when a manifest is attached.
    #[serde(default)]
    pub context_tokens: Option<u64>,
}

impl VersionFacts {
    /// `name@version`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version.as_str())
    }
}
