//! Each allowlist's row and view, as the replica serves them from memory.
//!
//! The model keeps the allowlist rows, the current policy, the facts of every version that is
//! not deleted (`facts::CatalogVersion`, by server) and, for every allowlist, its [`View`]: the
//! versions the policy allows it, in `(name, version)` order, with each server's latest *in the
//! view* and the digest of the signed document's entries. All maps are persistent (`imbl`), so a
//! change copies only what it touches and an older snapshot stays valid while a newer one is
//! built.
//!
//! A change of some servers re-reads only their facts and, in each view, replaces only their
//! entries; a view the change does not touch is kept as it was (with its digest). A change of
//! policy or allowlists (a `global` change) reads the policy and the rows again and computes
//! every view from the facts it holds.
//!
//! Review state depends on the database's clock: an approval stops counting when it expires,
//! without any write. The model remembers when the first counting approval of each server
//! expires; the follower asks [`AllowlistModel::expired`] on every read of the log and treats
//! those servers as changed, so their facts are read again at the database's `now()`.

use std::ops::Bound;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use imbl::{OrdMap, OrdSet};
use mcpreg_api::allowlist::AllowlistEntry;
use mcpreg_api::version::compare_for_latest;
use mcpreg_policy::{Policy, Subject, evaluate};

use crate::auth::config::ReviewConfig;
use crate::db::allowlists::{self as db, AllowlistRow};
use crate::facts::{self, CatalogVersion};
use crate::read_model::Changes;

/// A version's key: server name, then version (both compared as bytes).
type Key = (Arc<str>, Arc<str>);

/// A version's facts as the model keeps them, shared by every view that allows it.
#[derive(Debug)]
pub struct Allowed {
    /// The facts and what its allowlist entry says.
    pub version: CatalogVersion,
    /// Its allowlist entry in canonical JSON (RFC 8785), computed on first use.
    canonical: OnceLock<Vec<u8>>,
}

impl Allowed {
    fn new(version: CatalogVersion) -> Arc<Self> {
        Arc::new(Self {
            version,
            canonical: OnceLock::new(),
        })
    }

    fn key(&self) -> Key {
        (
            Arc::from(self.version.facts.name.as_str()),
            Arc::from(self.version.facts.version.as_str()),
        )
    }

    /// The canonical JSON of its entry: what the document's content digest is taken over.
    fn canonical_entry(&self) -> &[u8] {
        self.canonical.get_or_init(|| {
            // An entry of strings, numbers and booleans always serializes.
            serde_json::to_value(self.version.entry())
                .map(|v| mcpreg_trust::canonical_json(&v))
                .unwrap_or_default()
        })
    }
}

/// What an allowlist lets its audience use, at one revision.
#[derive(Debug, Clone)]
pub struct View {
    /// The policy version decided on (`None`: no policy, nothing allowed).
    pub policy_version: Option<i64>,
    versions: OrdMap<Key, Arc<Allowed>>,
    /// Each server's latest version in the view.
    latest: OrdMap<Arc<str>, Arc<str>>,
    /// The content digest of the entries, computed on first use at this view.
    digest: Arc<OnceLock<String>>,
}

impl View {
    fn empty(policy_version: Option<i64>) -> Self {
        Self {
            policy_version,
            versions: OrdMap::new(),
            latest: OrdMap::new(),
            digest: Arc::new(OnceLock::new()),
        }
    }

    /// How many versions it holds.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// Whether `(name, version)` is its server's latest version in the view.
    pub fn is_latest(&self, name: &str, version: &str) -> bool {
        self.latest.get(name).is_some_and(|v| &**v == version)
    }

    /// The allowed versions from the first at or after server `from` on, in `(name, version)`
    /// order.
    pub fn from_server<'a>(
        &'a self,
        from: Option<&str>,
    ) -> impl Iterator<Item = &'a Arc<Allowed>> + 'a {
        let start = from.map_or(Bound::Unbounded, |f| {
            Bound::Included((Arc::<str>::from(f), Arc::<str>::from("")))
        });
        self.versions
            .range((start, Bound::Unbounded))
            .map(|(_, a)| a)
    }

    /// The allowed versions of one server, by version.
    pub fn server<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Arc<Allowed>> + 'a {
        let name: Arc<str> = Arc::from(name);
        let from: Key = (name.clone(), Arc::from(""));
        self.versions
            .range((Bound::Included(from), Bound::Unbounded))
            .take_while(move |(k, _)| k.0 == name)
            .map(|(_, a)| a)
    }

    /// The entries of the signed document, in order.
    pub fn entries(&self) -> Vec<AllowlistEntry> {
        self.versions.values().map(|a| a.version.entry()).collect()
    }

    /// The content digest of the entries: `sha256:` of their canonical JSON array, as the
    /// signed document records it.
    pub fn digest(&self) -> &str {
        self.digest.get_or_init(|| {
            let mut bytes = Vec::with_capacity(self.versions.len() * 512 + 2);
            bytes.push(b'[');
            for (i, a) in self.versions.values().enumerate() {
                if i > 0 {
                    bytes.push(b',');
                }
                bytes.extend_from_slice(a.canonical_entry());
            }
            bytes.push(b']');
            mcpreg_trust::Sha256Digest::of_bytes(&bytes).to_string()
        })
    }

    /// The view with `server`'s entries replaced by the `allowed` ones (none: it leaves).
    fn replace_server(&self, server: &Arc<str>, allowed: Vec<Arc<Allowed>>) -> Self {
        let mut next = Self {
            policy_version: self.policy_version,
            versions: self.versions.clone(),
            latest: self.latest.clone(),
            digest: Arc::new(OnceLock::new()),
        };
        let old: Vec<Key> = self.server(server).map(|a| a.key()).collect();
        for k in old {
            next.versions.remove(&k);
        }
        next.latest.remove(server);
        next.insert_server(server, allowed);
        next
    }

    /// Adds one server's allowed versions and decides its latest among them, as the official
    /// registry decides it.
    fn insert_server(&mut self, server: &Arc<str>, allowed: Vec<Arc<Allowed>>) {
        let best = allowed.iter().max_by(|a, b| {
            compare_for_latest(
                &a.version.facts.version,
                a.version.published_at,
                &b.version.facts.version,
                b.version.published_at,
            )
        });
        if let Some(best) = best {
            self.latest.insert(
                server.clone(),
                Arc::from(best.version.facts.version.as_str()),
            );
        }
        for a in allowed {
            self.versions.insert(a.key(), a);
        }
    }
}

/// The allowlists at one revision.
#[derive(Clone, Default)]
pub struct AllowlistModel {
    rows: OrdMap<Arc<str>, Arc<AllowlistRow>>,
    policy: Option<(i64, Arc<Policy>)>,
    /// Every server's versions that are not deleted.
    facts: OrdMap<Arc<str>, Arc<Vec<Arc<Allowed>>>>,
    views: OrdMap<Arc<str>, Arc<View>>,
    /// When each server's first counting approval expires, both ways.
    expiry_of: OrdMap<Arc<str>, DateTime<Utc>>,
    expiries: OrdSet<(DateTime<Utc>, Arc<str>)>,
    /// How many changes of policy or allowlists were applied since the model was loaded: what a
    /// replica derived from them (a signed document it holds) is checked again after one.
    generation: u64,
}

/// Whether the policy allows `version` to the allowlist.
fn allows(policy: Option<&Policy>, subject: &Subject, version: &CatalogVersion) -> bool {
    policy.is_some_and(|p| evaluate(p, subject, &version.facts).is_allowed())
}

impl AllowlistModel {
    /// Loads the allowlists (in the follower's repeatable-read transaction).
    pub async fn load(tx: &mut sqlx::PgConnection, review: &ReviewConfig) -> anyhow::Result<Self> {
        let all = facts::all(&mut *tx, review).await?;
        let mut model = Self::default();
        let mut by_server: Vec<(Arc<str>, Vec<Arc<Allowed>>)> = Vec::new();
        for v in all {
            let allowed = Allowed::new(v);
            match by_server.last_mut() {
                Some((name, versions)) if &**name == allowed.version.facts.name.as_str() => {
                    versions.push(allowed);
                }
                _ => by_server.push((
                    Arc::from(allowed.version.facts.name.as_str()),
                    vec![allowed],
                )),
            }
        }
        for (name, versions) in by_server {
            model.set_facts(name, versions);
        }
        model.reload_global(tx).await?;
        Ok(model)
    }

    /// The model after `changes` (read in the follower's repeatable-read transaction).
    pub async fn apply(
        &self,
        tx: &mut sqlx::PgConnection,
        review: &ReviewConfig,
        changes: &Changes,
    ) -> anyhow::Result<Self> {
        let mut next = self.clone();
        let servers: Vec<String> = changes.servers.iter().cloned().collect();
        let mut changed: Vec<(Arc<str>, Vec<Arc<Allowed>>)> = Vec::new();
        if !servers.is_empty() {
            let mut fresh = facts::of_servers(&mut *tx, review, &servers)
                .await?
                .into_iter()
                .map(Allowed::new)
                .peekable();
            for name in &servers {
                let mut versions = Vec::new();
                while let Some(a) = fresh.next_if(|a| a.version.facts.name.as_str() == name) {
                    versions.push(a);
                }
                let name: Arc<str> = Arc::from(name.as_str());
                next.set_facts(name.clone(), versions.clone());
                changed.push((name, versions));
            }
        }
        if changes.global {
            next.generation += 1;
            next.reload_global(tx).await?;
        } else {
            for (server, versions) in changed {
                next.replace_server_in_views(&server, &versions);
            }
        }
        Ok(next)
    }

    /// The servers whose first counting approval has expired by the database's clock (in the
    /// caller's transaction): their review state changed without a write.
    pub async fn expired(&self, tx: &mut sqlx::PgConnection) -> anyhow::Result<Vec<String>> {
        if self.expiries.is_empty() {
            return Ok(Vec::new());
        }
        let now = crate::db::version_facts::now(&mut *tx).await?;
        Ok(self
            .expiries
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, name)| name.to_string())
            .collect())
    }

    /// The allowlist `name`, if there is one.
    pub fn row(&self, name: &str) -> Option<&Arc<AllowlistRow>> {
        self.rows.get(name)
    }

    /// The view of the allowlist `name`, if there is one.
    pub fn view(&self, name: &str) -> Option<&Arc<View>> {
        self.views.get(name)
    }

    /// How many changes of policy or allowlists this model has applied since it was loaded.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The current policy version (`None`: none applied).
    pub fn policy_version(&self) -> Option<i64> {
        self.policy.as_ref().map(|(v, _)| *v)
    }

    fn set_facts(&mut self, name: Arc<str>, versions: Vec<Arc<Allowed>>) {
        if let Some(old) = self.expiry_of.remove(&name) {
            self.expiries.remove(&(old, name.clone()));
        }
        let first = versions
            .iter()
            .filter_map(|a| a.version.approved_until)
            .min();
        if let Some(at) = first {
            self.expiry_of.insert(name.clone(), at);
            self.expiries.insert((at, name.clone()));
        }
        if versions.is_empty() {
            self.facts.remove(&name);
        } else {
            self.facts.insert(name, Arc::new(versions));
        }
    }

    /// Reads the policy and the allowlists again and computes every view from the facts held.
    async fn reload_global(&mut self, tx: &mut sqlx::PgConnection) -> anyhow::Result<()> {
        self.rows = db::list(&mut *tx)
            .await?
            .into_iter()
            .map(|r| (Arc::from(r.name.as_str()), Arc::new(r)))
            .collect();
        self.policy = crate::policies::current_policy(&mut *tx)
            .await?
            .map(|(row, policy)| (row.version, policy));
        let names: Vec<Arc<str>> = self.rows.keys().cloned().collect();
        let facts = self.facts.clone();
        let policy = self.policy.clone();
        // Evaluating the policy for every version and allowlist is CPU work: off the async
        // threads.
        let views = tokio::task::spawn_blocking(move || {
            let policy_version = policy.as_ref().map(|(v, _)| *v);
            let policy = policy.as_ref().map(|(_, p)| &**p);
            names
                .into_iter()
                .map(|name| {
                    let subject = Subject::allowlist(&*name);
                    let mut view = View::empty(policy_version);
                    for (server, versions) in facts.iter() {
                        let allowed: Vec<Arc<Allowed>> = versions
                            .iter()
                            .filter(|a| allows(policy, &subject, &a.version))
                            .cloned()
                            .collect();
                        if !allowed.is_empty() {
                            view.insert_server(server, allowed);
                        }
                    }
                    (name, Arc::new(view))
                })
                .collect::<OrdMap<_, _>>()
        })
        .await
        .map_err(|e| anyhow::anyhow!("computing allowlist views failed: {e}"))?;
        self.views = views;
        Ok(())
    }

    /// Replaces one server's entries in every view it is or will be in.
    fn replace_server_in_views(&mut self, server: &Arc<str>, versions: &[Arc<Allowed>]) {
        let policy = self.policy.as_ref().map(|(_, p)| &**p);
        let mut next = self.views.clone();
        for (name, view) in self.views.iter() {
            let subject = Subject::allowlist(&**name);
            let allowed: Vec<Arc<Allowed>> = versions
                .iter()
                .filter(|a| allows(policy, &subject, &a.version))
                .cloned()
                .collect();
            let had = view.server(server).next().is_some();
            if !had && allowed.is_empty() {
                // Not in this view before or after: the view (and its digest) stays.
                continue;
            }
            next.insert(name.clone(), Arc::new(view.replace_server(server, allowed)));
        }
        self.views = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcpreg_api::Status;
    use mcpreg_api::{ServerName, Version};
    use mcpreg_policy::VersionFacts;
    use std::collections::BTreeSet;

    fn version(name: &str, version: &str, secs: i64) -> Arc<Allowed> {
        Allowed::new(CatalogVersion {
            facts: VersionFacts {
                name: ServerName::parse(name).unwrap_or_else(|_| panic!("name")),
                version: Version::parse(version).unwrap_or_else(|_| panic!("version")),
                tags: Vec::new(),
                status: Status::Active,
                review: mcpreg_api::review::ReviewState::Approved,
                signers: Vec::new(),
                highest_severity: None,
                transports: BTreeSet::new(),
                remote_urls: vec![format!("https://{name}/{version}")],
                tools_pin: None,
                context_tokens: None,
            },
            packages: Vec::new(),
            remotes: vec![mcpreg_api::allowlist::AllowedRemote {
                remote_type: "streamable-http".into(),
                url: format!("https://{name}/{version}"),
            }],
            signers: Vec::new(),
            published_at: DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap_or_default(),
            updated_at: DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap_or_default(),
            approved_until: None,
        })
    }

    #[test]
    fn the_digest_is_over_the_canonical_entries_and_latest_is_decided_in_the_view() {
        let mut view = View::empty(Some(1));
        let x: Arc<str> = Arc::from("com.b/x");
        view.insert_server(
            &x,
            vec![
                version("com.b/x", "1.10.0", 1),
                version("com.b/x", "1.9.0", 2),
            ],
        );
        let a: Arc<str> = Arc::from("com.a/y");
        view.insert_server(&a, vec![version("com.a/y", "0.1.0", 3)]);
        let expected = mcpreg_trust::Sha256Digest::of_bytes(&mcpreg_trust::canonical_json(
            &serde_json::to_value(view.entries()).unwrap_or_default(),
        ))
        .to_string();
        assert_eq!(view.digest(), expected);
        let order: Vec<String> = view
            .from_server(None)
            .map(|a| {
                format!(
                    "{}@{}",
                    a.version.facts.name,
                    a.version.facts.version.as_str()
                )
            })
            .collect();
        assert_eq!(order, ["com.a/y@0.1.0", "com.b/x@1.10.0", "com.b/x@1.9.0"]);
        assert!(view.is_latest("com.b/x", "1.10.0"));
        assert!(!view.is_latest("com.b/x", "1.9.0"));
        let next = view.replace_server(&x, vec![version("com.b/x", "1.9.0", 2)]);
        assert!(next.is_latest("com.b/x", "1.9.0"));
        assert_eq!(view.len(), 3, "the old view is untouched");
        assert_eq!(next.len(), 2);
        assert_ne!(next.digest(), view.digest());
        let empty = View::empty(None);
        assert_eq!(
            empty.digest(),
            mcpreg_trust::Sha256Digest::of_bytes(b"[]").to_string()
        );
    }
}
