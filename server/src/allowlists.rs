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
//! Views are computed once per catalog generation per replica (see [`ViewCache`]): any catalog,
//! review or policy change notifies every replica, which drops them.

use mcpreg_api::problem::ProblemCode;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use mcpreg_api::allowlist::{
    ALLOWLIST_DOCUMENT_TYPE, Access, AllowlistDocument, AllowlistEntry, AllowlistInfo,
    AllowlistList, NewAllowlist,
};
use mcpreg_api::problem::FieldIssue;
use mcpreg_api::registry::ServerResponse;
use mcpreg_api::version::compare_for_latest;
use mcpreg_policy::{Policy, Subject, evaluate};
use tokio::sync::RwLock;

use crate::app::AppState;
use crate::auth::{Credentials, Permission};
use crate::db::allowlists::{self as db, AllowlistRow, DocumentRow};
use crate::db::{audit, versions};
use crate::error::{ApiError, ApiResult};
use crate::facts::{self, CatalogVersion};

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
    state: &AppState,
    actor: &str,
    base: &str,
    new: NewAllowlist,
) -> ApiResult<AllowlistInfo> {
    let mut issues = Vec::new();
    if !crate::extract::is_label(&new.name) {
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
    crate::read_cache::notify_change(&mut *tx, "").await?;
    tx.commit().await?;
    state.cache.invalidate().await;
    info(row, base)
}

/// Every allowlist.
pub async fn list(state: &AppState, base: &str) -> ApiResult<AllowlistList> {
    Ok(AllowlistList {
        allowlists: db::list(&state.pool)
            .await?
            .into_iter()
            .map(|r| info(r, base))
            .collect::<ApiResult<_>>()?,
    })
}

/// The allowlist `name` if the caller may read it: 404 for an unknown one, 401/403 per its own
/// access, which decides whatever the registry's `anonymous_reads` says (an admin chose it for
/// this audience).
pub async fn authorize(
    state: &AppState,
    name: &str,
    credentials: &Credentials,
    peer: Option<IpAddr>,
) -> ApiResult<AllowlistRow> {
    let row = row(state, name).await?.ok_or_else(|| {
        ApiError::not_found(
            ProblemCode::AllowlistNotFound,
            format!(
                "no allowlist named `{}`",
                name.chars().take(63).collect::<String>()
            ),
        )
    })?;
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
    Ok(row)
}

/// What an allowlist lets its audience use, at one catalog generation.
#[derive(Debug)]
pub struct View {
    /// The policy version decided on (`None`: no policy, nothing allowed).
    pub policy_version: Option<i64>,
    /// The allowed versions, by name then version (as the official list orders them).
    pub versions: Vec<CatalogVersion>,
    /// For each of `versions`: whether it is its server's latest version *in the view*.
    pub latest: Vec<bool>,
}

impl View {
    /// A view of these allowed versions: sorted, with each server's latest decided among them
    /// as the official registry decides it.
    pub fn new(policy_version: Option<i64>, mut versions: Vec<CatalogVersion>) -> Self {
        versions.sort_by(|a, b| {
            (a.facts.name.as_str(), a.facts.version.as_str())
                .cmp(&(b.facts.name.as_str(), b.facts.version.as_str()))
        });
        let mut latest = vec![false; versions.len()];
        let mut start = 0;
        while start < versions.len() {
            let name = versions[start].facts.name.as_str();
            let end = versions[start..]
                .iter()
                .position(|v| v.facts.name.as_str() != name)
                .map_or(versions.len(), |n| start + n);
            if let Some(best) = (start..end).max_by(|&a, &b| {
                let (va, vb) = (&versions[a], &versions[b]);
                compare_for_latest(
                    &va.facts.version,
                    va.published_at,
                    &vb.facts.version,
                    vb.published_at,
                )
            }) {
                latest[best] = true;
            }
            start = end;
        }
        Self {
            policy_version,
            versions,
            latest,
        }
    }

    /// The entries of the signed document.
    pub fn entries(&self) -> Vec<AllowlistEntry> {
        self.versions.iter().map(CatalogVersion::entry).collect()
    }
}

/// Views and allowlists per replica, for one catalog generation.
#[derive(Default)]
pub struct ViewCache {
    views: RwLock<HashMap<String, Cached<Arc<View>>>>,
    rows: RwLock<HashMap<String, Cached<Option<AllowlistRow>>>>,
    /// One computation of a view at a time: when a change drops the views, the requests that
    /// arrive meanwhile wait for the one computation instead of each making their own.
    computing: tokio::sync::Mutex<()>,
    /// The same for issuing or reading a signed document (hundreds of KiB for a large view).
    pub documents: tokio::sync::Mutex<()>,
}

struct Cached<T> {
    generation: u64,
    computed: Instant,
    value: T,
}

/// Most entries each map holds before it starts over (names in requests are the caller's).
const MAX_CACHED: usize = 1000;

impl ViewCache {
    /// An empty cache.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
}

async fn cached_get<T: Clone>(
    map: &RwLock<HashMap<String, Cached<T>>>,
    key: &str,
    generation: Option<u64>,
) -> Option<T> {
    let generation = generation?;
    let map = map.read().await;
    map.get(key)
        .filter(|c| c.generation == generation && c.computed.elapsed() < crate::read_cache::TTL)
        .map(|c| c.value.clone())
}

async fn cached_put<T>(
    map: &RwLock<HashMap<String, Cached<T>>>,
    key: &str,
    generation: u64,
    value: T,
) {
    let mut map = map.write().await;
    if map.len() >= MAX_CACHED {
        map.clear();
    }
    map.insert(
        key.to_owned(),
        Cached {
            generation,
            computed: Instant::now(),
            value,
        },
    );
}

/// The current policy, as the registry last applied it.
async fn current_policy(state: &AppState) -> ApiResult<Option<(i64, Arc<Policy>)>> {
    Ok(crate::policies::current_policy(&state.pool)
        .await?
        .map(|(row, policy)| (row.version, policy)))
}

/// The allowlist's row, from this replica's cache when it can.
async fn row(state: &AppState, name: &str) -> ApiResult<Option<AllowlistRow>> {
    let generation = state.cache.fresh_generation();
    if let Some(row) = cached_get(&state.views.rows, name, generation).await {
        return Ok(row);
    }
    let started = state.cache.generation();
    let row = db::get(&state.pool, name).await?;
    if generation.is_some() && state.cache.generation() == started {
        cached_put(&state.views.rows, name, started, row.clone()).await;
    }
    Ok(row)
}

/// The view of an allowlist (computed, or from this replica's cache).
pub async fn view(state: &AppState, name: &str) -> ApiResult<Arc<View>> {
    if let Some(view) = cached_get(&state.views.views, name, state.cache.fresh_generation()).await {
        return Ok(view);
    }
    let _one_at_a_time = state.views.computing.lock().await;
    // Computed by the request before this one, while this one waited?
    let generation = state.cache.fresh_generation();
    if let Some(view) = cached_get(&state.views.views, name, generation).await {
        return Ok(view);
    }
    let started = state.cache.generation();
    let review = &state.auth.config.review;
    let policy = current_policy(state).await?;
    let subject = Subject::allowlist(name);
    let versions: Vec<CatalogVersion> = match &policy {
        None => Vec::new(),
        Some((_, policy)) => facts::all(&state.pool, review)
            .await?
            .into_iter()
            .filter(|v| evaluate(policy, &subject, &v.facts).is_allowed())
            .collect(),
    };
    let view = Arc::new(View::new(policy.map(|(v, _)| v), versions));
    if generation.is_some() && state.cache.generation() == started {
        cached_put(&state.views.views, name, started, view.clone()).await;
    }
    Ok(view)
}

/// The view of an allowlist restricted to one server: computed from that server's versions
/// only, so that a lookup costs the same whatever the size of the catalog.
pub async fn server_view(state: &AppState, name: &str, server: &str) -> ApiResult<View> {
    let review = &state.auth.config.review;
    let policy = current_policy(state).await?;
    let subject = Subject::allowlist(name);
    let versions = match &policy {
        None => Vec::new(),
        Some((_, policy)) => facts::of_server(&state.pool, review, server)
            .await?
            .into_iter()
            .filter(|v| evaluate(policy, &subject, &v.facts).is_allowed())
            .collect(),
    };
    Ok(View::new(policy.map(|(v, _)| v), versions))
}

/// The official-API responses of some of a view's versions (by index into `view.versions`), in
/// that order, with `isLatest` as decided within the view. Reads only those versions.
pub async fn responses(
    state: &AppState,
    view: &View,
    indices: &[usize],
) -> ApiResult<Vec<ServerResponse>> {
    let (names, numbers): (Vec<String>, Vec<String>) = indices
        .iter()
        .map(|&i| {
            let v = &view.versions[i].facts;
            (v.name.to_string(), v.version.as_str().to_owned())
        })
        .unzip();
    let rows = versions::get_many(&state.pool, &names, &numbers).await?;
    let mut by_key: HashMap<(String, String), versions::VersionRow> = rows
        .into_iter()
        .map(|r| ((r.server_name.clone(), r.version.clone()), r))
        .collect();
    let mut out = Vec::with_capacity(indices.len());
    for (&i, key) in indices.iter().zip(names.into_iter().zip(numbers)) {
        // A version deleted since the view was computed is left out.
        let Some(mut row) = by_key.remove(&key) else {
            continue;
        };
        row.is_latest = view.latest[i];
        out.push(row.into_response().map_err(anyhow::Error::from)?);
    }
    Ok(out)
}

/// The signed document of an allowlist, issued anew when its entries changed or it nears its
/// expiry. Returns the signed JSON and its version.
pub async fn document(state: &AppState, name: &str, registry: &str) -> ApiResult<(String, i64)> {
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
    let view = view(state, name).await?;
    let entries = view.entries();
    let entries_json = serde_json::to_value(&entries).map_err(anyhow::Error::from)?;
    let digest = mcpreg_trust::Sha256Digest::of_bytes(&mcpreg_trust::canonical_json(&entries_json))
        .to_string();
    let ttl = state.allowlist_ttl;
    let fresh = |d: &DocumentRow| {
        d.content_digest == digest
            && (d.expires_at - Utc::now()).to_std().unwrap_or_default() > ttl / 2
    };
    if let Some(stored) = db::document(&state.pool, name, false).await?
        && fresh(&stored)
    {
        return Ok((stored.signed, stored.version));
    }
    for _ in 0..3 {
        let mut tx = state.pool.begin().await?;
        let stored = db::document(&mut *tx, name, true).await?;
        if let Some(s) = &stored
            && fresh(s)
        {
            return Ok((s.signed.clone(), s.version));
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
            signed: text.clone(),
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
                return Ok((text, version));
            }
            // Another replica inserted the first version meanwhile: read it again.
            Ok(false) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(anyhow::anyhow!("allowlist {name}: could not issue a document after three tries").into())
}

/// The signed keyset, and its version (for the ETag).
pub async fn keyset(state: &AppState) -> ApiResult<(String, i64)> {
    let (version, created_at) =
        crate::signing::keyset_version(&state.pool, &state.signing.digest()).await?;
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
