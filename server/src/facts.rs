//! What the registry knows about each version, gathered for policy decisions and allowlists:
//! the facts a policy condition reads (`mcpreg_policy::VersionFacts`) and what an allowlist
//! entry carries (packages with their digests, remotes, signers, the tools pin).
//!
//! One statement (`db::version_facts`) reads every version that is not deleted (or those of some
//! servers, or one version), so a whole catalog costs one round trip; the read model keeps the
//! result per replica (`read_model::allowlists`).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use mcpreg_api::allowlist::{AllowedPackage, AllowedRemote, AllowedSigner, AllowlistEntry};
use mcpreg_api::{ServerName, Version};
use mcpreg_policy::{SignerFact, Transport, VersionFacts};
use serde_json::Value;
use sqlx::{PgExecutor, PgPool};

use crate::auth::config::ReviewConfig;
use crate::db::version_facts::{self, FactsRow};
use crate::db::versions;
use crate::error::ApiResult;

/// A version with its facts and what an allowlist entry says about it.
#[derive(Debug, Clone)]
pub struct CatalogVersion {
    /// What policy conditions read.
    pub facts: VersionFacts,
    /// The packages, in document order, with their versions and digests.
    pub packages: Vec<AllowedPackage>,
    /// The remotes.
    pub remotes: Vec<AllowedRemote>,
    /// The verified signers.
    pub signers: Vec<AllowedSigner>,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// When its registry metadata last changed.
    pub updated_at: DateTime<Utc>,
    /// When the first approval that counts now expires: its review state may change then.
    pub approved_until: Option<DateTime<Utc>>,
}

impl CatalogVersion {
    /// The allowlist entry for this version.
    pub fn entry(&self) -> AllowlistEntry {
        AllowlistEntry {
            name: self.facts.name.clone(),
            version: self.facts.version.clone(),
            status: self.facts.status,
            transports: self.facts.transports.iter().copied().collect(),
            remotes: self.remotes.clone(),
            packages: self.packages.clone(),
            signers: self.signers.clone(),
            tools_pin: self.facts.tools_pin.clone(),
        }
    }
}

/// Every version that is not deleted, by name and version.
pub async fn all(db: impl PgExecutor<'_>, review: &ReviewConfig) -> ApiResult<Vec<CatalogVersion>> {
    let mut all = version_facts::all(db, i64::from(review.approvals))
        .await?
        .into_iter()
        .map(build)
        .collect::<ApiResult<Vec<_>>>()?;
    // Sorted here, not by the database: the rows carry whole documents, and sorting them there
    // spills to disk on a large catalog (measured in bench/).
    all.sort_by(|a, b| {
        (a.facts.name.as_str(), a.published_at).cmp(&(b.facts.name.as_str(), b.published_at))
    });
    Ok(all)
}

/// Every version of these servers that is not deleted, by server then oldest first.
pub async fn of_servers(
    db: impl PgExecutor<'_>,
    review: &ReviewConfig,
    names: &[String],
) -> ApiResult<Vec<CatalogVersion>> {
    version_facts::of_servers(db, i64::from(review.approvals), names)
        .await?
        .into_iter()
        .map(build)
        .collect()
}

/// One version (exact version, or `latest`), deleted ones included.
pub async fn one(
    pool: &PgPool,
    review: &ReviewConfig,
    name: &str,
    version: &str,
) -> ApiResult<Option<CatalogVersion>> {
    let Some(v) = versions::resolve(pool, name, version).await? else {
        return Ok(None);
    };
    version_facts::by_id(pool, i64::from(review.approvals), v.id)
        .await?
        .map(build)
        .transpose()
}

fn build(r: FactsRow) -> ApiResult<CatalogVersion> {
    let label = format!("{}@{}", r.server_name, r.version);
    let corrupt = |what: &str| anyhow::anyhow!("stored {what} of {label} is unusable");
    let name = ServerName::parse(&r.server_name).map_err(|_| corrupt("name"))?;
    let version = Version::parse(&r.version).map_err(|_| corrupt("version"))?;
    let status = r.status;
    let review_state = r.review_state;
    let document: Value = serde_json::from_str(&r.document).map_err(|_| corrupt("document"))?;
    let digests: Vec<Option<String>> =
        serde_json::from_value(r.package_digests).map_err(|_| corrupt("package digests"))?;
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let packages: Vec<AllowedPackage> = document
        .get("packages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, p)| AllowedPackage {
            registry_type: text(p, "registryType"),
            identifier: text(p, "identifier"),
            version: text(p, "version"),
            digest: digests.get(i).cloned().flatten(),
        })
        .collect();
    let remotes: Vec<AllowedRemote> = document
        .get("remotes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|rem| AllowedRemote {
            remote_type: text(rem, "type"),
            url: text(rem, "url"),
        })
        .collect();
    let mut transports = BTreeSet::new();
    if !packages.is_empty() {
        transports.insert(Transport::Stdio);
    }
    if !remotes.is_empty() {
        transports.insert(Transport::Remote);
    }
    let signer_rows = r.signers.as_array().cloned().unwrap_or_default();
    let mut signers = Vec::new();
    let mut signer_facts = Vec::new();
    for s in &signer_rows {
        let get = |k: &str| s.get(k).and_then(Value::as_str).map(str::to_owned);
        match (get("identity"), get("issuer"), get("keyId")) {
            (Some(identity), Some(issuer), _) => {
                let fact = SignerFact::Keyless {
                    issuer: issuer.clone(),
                    identity: identity.clone(),
                };
                if !signer_facts.contains(&fact) {
                    signer_facts.push(fact);
                    signers.push(AllowedSigner::Identity { issuer, identity });
                }
            }
            (_, _, Some(key_id)) => {
                let fact = SignerFact::Key {
                    key_id: key_id.clone(),
                };
                if !signer_facts.contains(&fact) {
                    signer_facts.push(fact);
                    signers.push(AllowedSigner::Key { key_id });
                }
            }
            _ => return Err(corrupt("signer").into()),
        }
    }
    let highest_severity = r.highest_severity;
    Ok(CatalogVersion {
        facts: VersionFacts {
            name,
            version,
            tags: r.tags,
            status,
            review: review_state,
            signers: signer_facts,
            highest_severity,
            transports,
            remote_urls: remotes.iter().map(|r| r.url.clone()).collect(),
            tools_pin: r.tools_pin,
            context_tokens: r.context_cost_tokens.and_then(|t| u64::try_from(t).ok()),
        },
        packages,
        remotes,
        signers,
        published_at: r.published_at,
        updated_at: r.updated_at,
        approved_until: r.approved_until,
    })
}
