//! Allowlists: named audiences and what policy lets each use.
//!
//! An allowlist's *view* is every version that is not deleted for which the current policy
//! decides `allow` for the subject `{allowlist: NAME}`. It is served two ways:
//! - the official MCP registry API under `/a/{allowlist}/v0.1/…` (and `/v0`), containing only the
//!   view — `isLatest` is the latest version *in the view*, so a client pointed there never sees
//!   a version policy does not allow;
//! - the signed allowlist document (`GET /api/v1/allowlists/{name}`), whose version only grows:
//!   a new one is issued when the entries change or when less than half of its validity remains,
//!   in a transaction that locks the stored one, so replicas agree on every version.
//!
//! Views live in the replica's read model (`read_model::allowlists`), which follows every
//! catalog, review and policy change. Each replica holds the last signed document it served per
//! allowlist ([`HeldDocuments`]): while the view's entries are those it was signed over and more
//! than half of its validity remains, it is answered from memory.

use mcpreg_api::problem::ProblemCode;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use mcpreg_api::allowlist::{
    ALLOWLIST_DOCUMENT_TYPE, Access, AllowlistDocument, AllowlistInfo, AllowlistList, NewAllowlist,
};
use mcpreg_api::problem::FieldIssue;
use sqlx::PgPool;

use crate::auth::{Credentials, Permission};
use crate::db::allowlists::{self as db, AllowlistRow, DocumentRow};
use crate::db::audit;
use crate::error::{ApiError, ApiResult};
use crate::read_model::allowlists::{AllowlistModel, View};
use crate::signing::SigningKeys;

/// What the allowlist functions read on this replica besides its read model: the database, the
/// signing keys and the documents it holds. Built from the application state by
/// `AppState::allowlists`, so that this module never sees the HTTP layer.
pub struct Allowlists<'a> {
    /// The database pool.
    pub pool: &'a PgPool,
    /// The keys that sign documents and the keyset.
    pub signing: &'a SigningKeys,
    /// How long a signed document is valid.
    pub ttl: Duration,
}

fn info(row: AllowlistRow, base: &str) -> ApiResult<AllowlistInfo> {
    let access = Access::parse(&row.access)
        .ok_or_else(|| anyhow::anyhow!("stored access `{}` is unknown", row.access))?;
    Ok(AllowlistInfo {
        registry_url: format!("{}/a/{}", base.trim_end_matches('/'), row.name),
        name: row.name,
        description: row.description,
        access,
        networks: row.networks,
        created_by: row.created_by,
        created_at: row.created_at,
    })
}

/// A network in CIDR form.
#[derive(Debug, Clone, Copy)]
struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(s: &str) -> Option<Self> {
        let (address, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
            None => {
                let a = s.parse::<IpAddr>().ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if address.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Self { address, prefix })
    }

    /// Whether the address has no bits set past the prefix (`10.0.0.0/8`, not `10.0.0.1/8`):
    /// what PostgreSQL's `cidr` requires.
    fn is_network_address(&self) -> bool {
        match self.address {
            IpAddr::V4(a) => {
                let host = u32::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
                u32::from(a) & host == 0
            }
            IpAddr::V6(a) => {
                let host = u128::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
                u128::from(a) & host == 0
            }
        }
    }

    fn contains(&self, ip: IpAddr) -> bool {
        // IPv4 clients on a dual-stack socket arrive as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Creates an allowlist.
pub async fn create(
    state: &Allowlists<'_>,
    actor: &str,
    base: &str,
    new: NewAllowlist,
) -> ApiResult<AllowlistInfo> {
    let mut issues = Vec::new();
    if crate::label::Label::parse(&new.name).is_none() {
        issues.push(FieldIssue::new(
            "name",
            "must be 1–63 lower-case letters, digits and `-`, starting with a letter or digit",
            "allowlist",
        ));
    }
    if new.description.chars().count() > 500 {
        issues.push(FieldIssue::new(
            "description",
            "at most 500 characters",
            "allowlist",
        ));
    }
    let access = new.access.unwrap_or(Access::Token);
    for (i, n) in new.networks.iter().enumerate() {
        match Network::parse(n) {
            None => issues.push(FieldIssue::new(
                format!("networks[{i}]"),
                "not a network in CIDR form (`10.20.0.0/16`, `2001:db8::/32`)",
                "allowlist",
            )),
            Some(net) if !net.is_network_address() => issues.push(FieldIssue::new(
                format!("networks[{i}]"),
                "the address has bits set past the prefix: write the network's first address (`10.20.0.0/16`, not `10.20.3.4/16`)",
                "allowlist",
            )),
            Some(_) => {}
        }
    }
    match (access, new.networks.is_empty()) {
        (Access::Network, true) => issues.push(FieldIssue::new(
            "networks",
            "network access needs at least one network",
            "allowlist",
        )),
        (Access::Anonymous | Access::Token, false) => issues.push(FieldIssue::new(
            "networks",
            "networks are only for `network` access",
            "allowlist",
        )),
        _ => {}
    }
    if !issues.is_empty() {
        return Err(ApiError::unprocessable(
            ProblemCode::InvalidAllowlist,
            "the allowlist is invalid; each problem is listed in `errors`",
            issues,
        ));
    }
    let mut tx = state.pool.begin().await?;
    let row = db::insert(
        &mut *tx,
        &new.name,
        &new.description,
        access.as_str(),
        &new.networks,
        actor,
    )
    .await?
    .ok_or_else(|| {
        ApiError::conflict(
            ProblemCode::AllowlistExists,
            format!("an allowlist named `{}` exists", new.name),
        )
    })?;
    audit::record(
        &mut tx,
        actor,
        "allowlist.create",
        &new.name,
        serde_json::json!({"access": access.as_str(), "networks": new.networks}),
    )
    .await?;
    crate::db::changes::notify(&mut *tx, "").await?;
    tx.commit().await?;
    info(row, base)
}

/// Every allowlist.
pub async fn list(state: &Allowlists<'_>, base: &str) -> ApiResult<AllowlistList> {
    Ok(AllowlistList {
        allowlists: db::list(state.pool)
            .await?
            .into_iter()
            .map(|r| info(r, base))
            .collect::<ApiResult<_>>()?,
    })
}

/// The allowlist `name` (from the replica's read model) if the caller may read it: 404 for an
/// unknown one, 401/403 per its own access, which decides whatever the registry's
/// `anonymous_reads` says (an admin chose it for this audience).
pub fn authorize<'m>(
    model: &'m AllowlistModel,
    name: &str,
    credentials: &Credentials,
    peer: Option<IpAddr>,
) -> ApiResult<(&'m Arc<AllowlistRow>, &'m Arc<View>)> {
    let not_found = || {
        ApiError::not_found(
            ProblemCode::AllowlistNotFound,
            format!(
                "no allowlist named `{}`",
                name.chars().take(63).collect::<String>()
            ),
        )
    };
    let row = model.row(name).ok_or_else(not_found)?;
    let view = model.view(name).ok_or_else(not_found)?;
    let access = Access::parse(&row.access)
        .ok_or_else(|| anyhow::anyhow!("stored access `{}` is unknown", row.access))?;
    match access {
        Access::Anonymous => {}
        Access::Token => match &credentials.0 {
            Some(caller) => caller.require(Permission::Read)?,
            None => {
                return Err(ApiError::unauthorized(
                    ProblemCode::CredentialsRequired,
                    format!("allowlist `{name}` is readable with credentials only"),
                ));
            }
        },
        Access::Network => {
            let inside = peer.is_some_and(|ip| {
                row.networks
                    .iter()
                    .filter_map(|n| Network::parse(n))
                    .any(|n| n.contains(ip))
            });
            if !inside {
                return Err(ApiError::forbidden(format!(
                    "allowlist `{name}` is readable only from its networks; {} is not in them",
                    peer.map_or("this client".to_owned(), |p| p.to_string())
                )));
            }
        }
    }
    Ok((row, view))
}

/// The signed document an allowlist's view was last answered with on this replica.
#[derive(Debug)]
pub struct HeldDocument {
    /// The content digest of the entries it was signed over.
    pub digest: String,
    /// Its version.
    pub version: i64,
    /// Its ETag: the version, quoted.
    pub etag: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// The signed JSON.
    pub signed: Bytes,
    /// The model's generation of policy and allowlist changes when it was read or issued.
    generation: u64,
}

/// The last signed document this replica served per allowlist: the hot path of
/// `GET /api/v1/allowlists/{name}`, which then touches no database.
#[derive(Default)]
pub struct HeldDocuments {
    held: std::sync::RwLock<HashMap<String, Arc<HeldDocument>>>,
    /// One reading or issuing of a document at a time (hundreds of KiB for a large view): the
    /// requests that arrive meanwhile wait and take its result.
    issuing: tokio::sync::Mutex<()>,
}

impl HeldDocuments {
    /// An empty store: the replica reads the stored document on its first request.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The held document of `name`, if it is still the one to serve for `view`: signed over
    /// the same entries, no policy or allowlist change since, and more than half its validity
    /// left.
    pub fn current(
        &self,
        name: &str,
        view: &View,
        generation: u64,
        ttl: Duration,
    ) -> Option<Arc<HeldDocument>> {
        let held = self.held.read().ok()?.get(name).cloned()?;
        (held.generation == generation
            && held.digest == view.digest()
            && (held.expires_at - Utc::now()).to_std().unwrap_or_default() > ttl / 2)
            .then_some(held)
    }

    fn hold(&self, name: &str, document: Arc<HeldDocument>) {
        if let Ok(mut held) = self.held.write() {
            held.insert(name.to_owned(), document);
        }
    }
}

/// The signed document of an allowlist for `view` (of `model`), from what this replica holds
/// or else the slow way ([`document`]), which it then holds.
pub async fn held_document(
    state: &Allowlists<'_>,
    documents: &HeldDocuments,
    name: &str,
    registry: &str,
    model: &AllowlistModel,
    view: &View,
) -> ApiResult<Arc<HeldDocument>> {
    if let Some(held) = documents.current(name, view, model.generation(), state.ttl) {
        return Ok(held);
    }
    let _one_at_a_time = documents.issuing.lock().await;
    // Read or issued by the request before this one, while this one waited?
    if let Some(held) = documents.current(name, view, model.generation(), state.ttl) {
        return Ok(held);
    }
    let stored = document(state, name, registry, view).await?;
    let held = Arc::new(HeldDocument {
        etag: format!("\"{}\"", stored.version),
        digest: stored.content_digest,
        version: stored.version,
        expires_at: stored.expires_at,
        signed: Bytes::from(stored.signed),
        generation: model.generation(),
    });
    documents.hold(name, held.clone());
    Ok(held)
}

/// The signed document of an allowlist over the entries of `view`, as stored, or issued anew
/// when its entries changed or it nears its expiry.
pub async fn document(
    state: &Allowlists<'_>,
    name: &str,
    registry: &str,
    view: &View,
) -> ApiResult<DocumentRow> {
    if !state.signing.can_sign() {
        return Err(ApiError::Client(
            Box::new(mcpreg_api::Problem::new(
                503,
                ProblemCode::SigningKeyMissing,
                "Service Unavailable",
                "this registry has no allowlist signing key configured (--signing-key), so it serves no signed allowlists",
            )),
            None,
        ));
    }
    let digest = view.digest().to_owned();
    let ttl = state.ttl;
    let fresh = |d: &DocumentRow| {
        d.content_digest == digest
            && (d.expires_at - Utc::now()).to_std().unwrap_or_default() > ttl / 2
    };
    if let Some(stored) = db::document(state.pool, name, false).await?
        && fresh(&stored)
    {
        return Ok(stored);
    }
    let entries = view.entries();
    for _ in 0..3 {
        let mut tx = state.pool.begin().await?;
        let stored = db::document(&mut *tx, name, true).await?;
        if let Some(s) = &stored
            && fresh(s)
        {
            return Ok(s.clone());
        }
        let version = stored.as_ref().map_or(1, |s| s.version + 1);
        let issued_at = Utc::now();
        let expires_at = issued_at
            + chrono::Duration::from_std(ttl)
                .map_err(|e| anyhow::anyhow!("allowlist ttl out of range: {e}"))?;
        let document = AllowlistDocument {
            document_type: ALLOWLIST_DOCUMENT_TYPE.to_owned(),
            allowlist: name.to_owned(),
            registry: registry.trim_end_matches('/').to_owned(),
            version: u64::try_from(version).unwrap_or_default(),
            issued_at,
            expires_at,
            entries: entries.clone(),
        };
        let keys = state.signing.active();
        let Some((first, rest)) = keys.split_first() else {
            return Err(anyhow::anyhow!("no signing key").into());
        };
        let mut signed = first.sign(&document);
        for k in rest {
            k.countersign(&mut signed);
        }
        let text = serde_json::to_string(&signed).map_err(anyhow::Error::from)?;
        let row = DocumentRow {
            version,
            content_digest: digest.clone(),
            issued_at,
            expires_at,
            signed: text,
        };
        match db::store_document(&mut *tx, name, &row).await {
            Ok(true) => {
                tx.commit().await?;
                tracing::info!(
                    allowlist = name,
                    allowlist.version = version,
                    allowlist.entries = entries.len(),
                    policy.version = view.policy_version,
                    "allowlist document issued"
                );
                return Ok(row);
            }
            // Another replica inserted the first version meanwhile: read it again.
            Ok(false) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(anyhow::anyhow!("allowlist {name}: could not issue a document after three tries").into())
}

/// The signed keyset, and its version (for the ETag).
pub async fn keyset(state: &Allowlists<'_>) -> ApiResult<(String, i64)> {
    let (version, created_at) =
        crate::db::signing_keysets::version(state.pool, &state.signing.digest()).await?;
    let keyset = state
        .signing
        .keyset(u64::try_from(version).unwrap_or_default(), created_at);
    let signed = state.signing.sign_keyset(&keyset).ok_or_else(|| {
        ApiError::Client(
            Box::new(mcpreg_api::Problem::new(
                503,
                ProblemCode::SigningKeyMissing,
                "Service Unavailable",
                "this registry has no allowlist signing key configured (--signing-key)",
            )),
            None,
        )
    })?;
    Ok((
        serde_json::to_string(&signed).map_err(anyhow::Error::from)?,
        version,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_contain_their_addresses_only() {
        let n = Network::parse("10.20.0.0/16").unwrap_or_else(|| panic!("parses"));
        assert!(n.contains("10.20.255.1".parse().unwrap_or_else(|_| panic!())));
        assert!(!n.contains("10.21.0.1".parse().unwrap_or_else(|_| panic!())));
        assert!(n.contains("::ffff:10.20.0.9".parse().unwrap_or_else(|_| panic!())));
        let all = Network::parse("0.0.0.0/0").unwrap_or_else(|| panic!("parses"));
        assert!(all.contains("192.0.2.1".parse().unwrap_or_else(|_| panic!())));
        let one = Network::parse("2001:db8::1").unwrap_or_else(|| panic!("parses"));
        assert!(one.contains("2001:db8::1".parse().unwrap_or_else(|_| panic!())));
        assert!(!one.contains("2001:db8::2".parse().unwrap_or_else(|_| panic!())));
        assert!(Network::parse("10.0.0.0/33").is_none());
        let host_bits = Network::parse("10.0.0.1/8").unwrap_or_else(|| panic!("parses"));
        assert!(!host_bits.is_network_address());
        assert!(n.is_network_address() && all.is_network_address() && one.is_network_address());
        let v6 = Network::parse("2001:db8::1/32").unwrap_or_else(|| panic!("parses"));
        assert!(!v6.is_network_address());
        assert!(Network::parse("example.com/8").is_none());
    }
}
