//! The replica's read model: what anonymous and client reads need, in memory, at one catalog
//! revision — the catalog's versions with their official answers ([`catalog`]) and each
//! allowlist's view and signed document ([`allowlists`]).
//!
//! It follows the database's change log (`catalog_changes`, see [`crate::db::changes`]): every
//! write appends a row in its transaction and notifies; [`follow`] hears the notification (or its
//! one-second tick catches one that was missed), reads the changes committed since it last read
//! and what they touched in one repeatable-read transaction, builds the next [`Snapshot`] and
//! swaps it in whole. A read takes one snapshot and answers from it alone, so it never sees half
//! of a change.
//!
//! The log is read by transaction id, not by revision: a revision is taken when a transaction
//! writes its row but becomes visible only at commit, so revisions commit out of order. Each read
//! of the log remembers the oldest transaction still running (`xmin` of its snapshot); every
//! transaction below it had ended, so its changes were in that read. The next read asks for the
//! rows of transactions at or above that watermark and skips the ones already applied.
//!
//! A replica that wrote calls [`ReadModel::catch_up`] before it answers, so a caller reads its
//! own writes; other replicas hear of them within the notification's delivery (or the tick).
//! When the database is unreachable the model keeps answering from its last snapshot and says
//! how old it is ([`STALE_HEADER`]), and writes are refused at once (`crate::router`).

pub mod allowlists;
pub mod catalog;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::http::{HeaderMap, HeaderValue};
use sqlx::postgres::PgListener;
use sqlx::{Acquire, PgPool};
use tokio::sync::{Notify, watch};

use crate::auth::config::ReviewConfig;
use crate::db::changes::{self, CHANNEL};
use crate::db::versions;
use crate::error::{ApiError, ApiResult};

pub use allowlists::AllowlistModel;
pub use catalog::Catalog;

/// Response header: the newest catalog revision the answering replica has applied.
pub const REVISION_HEADER: &str = "x-mcpreg-revision";
/// Response header, sent only while the replica cannot reach its database: how many seconds
/// ago it last read the change log (its answer may be that old).
pub const STALE_HEADER: &str = "x-mcpreg-stale-seconds";
/// Longest a read of the change log may take before the database counts as unreachable.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the log is read even without a notification.
pub const TICK: Duration = Duration::from_secs(1);
/// How long the follower waits, once woken, before it reads the log (see [`follow`]).
const GATHER: Duration = Duration::from_millis(3);
/// How long the log keeps changes; a replica that could not read it for longer loads anew.
pub const LOG_HOURS: i32 = 24;
/// How long a request waits for the model's first load before a 503.
const LOAD_WAIT: Duration = Duration::from_secs(10);
/// How long a writer waits for its change to be applied before answering anyway.
const CATCH_UP_WAIT: Duration = Duration::from_secs(5);

/// What changed, as the log says.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    /// Servers whose versions or facts changed.
    pub servers: BTreeSet<String>,
    /// Whether policy or allowlists changed (rows without a server).
    pub global: bool,
}

impl Changes {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty() && !self.global
    }
}

/// The model at one revision.
pub struct Snapshot {
    /// The newest revision applied (0: the log was empty).
    pub revision: i64,
    /// The catalog.
    pub catalog: Catalog,
    /// The allowlists and their views.
    pub allowlists: AllowlistModel,
}

impl Snapshot {
    async fn load(tx: &mut sqlx::PgConnection, review: &ReviewConfig) -> anyhow::Result<Self> {
        let started = Instant::now();
        let catalog = Catalog::load(versions::all_stored(&mut *tx).await?);
        let allowlists = AllowlistModel::load(&mut *tx, review).await?;
        let revision = changes::newest(&mut *tx).await?;
        tracing::info!(
            versions = catalog.len(),
            revision,
            millis = started.elapsed().as_millis() as u64,
            "read model loaded"
        );
        Ok(Self {
            revision,
            catalog,
            allowlists,
        })
    }

    async fn apply(
        &self,
        tx: &mut sqlx::PgConnection,
        review: &ReviewConfig,
        changes: &Changes,
        revision: i64,
    ) -> anyhow::Result<Self> {
        let servers: Vec<String> = changes.servers.iter().cloned().collect();
        let catalog = if servers.is_empty() {
            self.catalog.clone()
        } else {
            self.catalog
                .replace_servers(&servers, versions::stored_of(&mut *tx, &servers).await?)
        };
        let allowlists = self.allowlists.apply(&mut *tx, review, changes).await?;
        Ok(Self {
            revision: revision.max(self.revision),
            catalog,
            allowlists,
        })
    }
}

/// Where the follower is in the log.
#[derive(Default)]
struct LogPosition {
    /// Transactions below this had ended when the log was last read.
    watermark: i64,
    /// The changes applied from transactions at or above the watermark: revision → xid.
    applied: HashMap<i64, i64>,
}

/// The replica's read model.
pub struct ReadModel {
    pool: PgPool,
    review: ReviewConfig,
    current: ArcSwap<Snapshot>,
    loaded: watch::Sender<bool>,
    /// Catch-up requests made, and the number the last completed read of the log covered.
    requested: AtomicU64,
    completed: watch::Sender<u64>,
    wake: Notify,
    /// When the log was last read successfully.
    checked: std::sync::Mutex<Instant>,
    /// Whether the last read of the log failed to reach the database.
    unreachable: std::sync::atomic::AtomicBool,
}

impl ReadModel {
    /// A model that answers nothing until [`follow`] has loaded it.
    pub fn new(pool: PgPool, review: ReviewConfig) -> Arc<Self> {
        Arc::new(Self {
            pool,
            review,
            current: ArcSwap::from_pointee(Snapshot {
                revision: 0,
                catalog: Catalog::default(),
                allowlists: AllowlistModel::default(),
            }),
            loaded: watch::Sender::new(false),
            requested: AtomicU64::new(0),
            completed: watch::Sender::new(0),
            wake: Notify::new(),
            checked: std::sync::Mutex::new(Instant::now()),
            unreachable: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Whether the first load is done.
    pub fn is_loaded(&self) -> bool {
        *self.loaded.borrow()
    }

    /// The current snapshot, once the model is loaded (a 503 if it is not within 10 s).
    pub async fn snapshot(&self) -> ApiResult<Arc<Snapshot>> {
        if !self.is_loaded() {
            let mut loaded = self.loaded.subscribe();
            let wait = loaded.wait_for(|l| *l);
            if !matches!(tokio::time::timeout(LOAD_WAIT, wait).await, Ok(Ok(_))) {
                return Err(ApiError::Unavailable(
                    "the read model is still loading the catalog".into(),
                ));
            }
        }
        Ok(self.current.load_full())
    }

    /// How long since the log was last read, when the last attempt could not reach the database:
    /// answers then say how old they may be, and writes are refused at once rather than each
    /// waiting for a connection.
    pub fn database_down(&self) -> Option<Duration> {
        self.unreachable
            .load(Ordering::Acquire)
            .then(|| self.staleness())
    }

    /// How long since the log was last read successfully.
    pub fn staleness(&self) -> Duration {
        self.checked
            .lock()
            .map(|c| c.elapsed())
            .unwrap_or(Duration::MAX)
    }

    /// The headers every answer from `snapshot` carries: its revision, and its age when the
    /// database is unreachable.
    pub fn headers(&self, snapshot: &Snapshot, headers: &mut HeaderMap) {
        headers.insert(REVISION_HEADER, HeaderValue::from(snapshot.revision));
        if let Some(stale) = self.database_down() {
            headers.insert(STALE_HEADER, HeaderValue::from(stale.as_secs()));
        }
    }

    /// Waits until a read of the log that started after this call has been applied, so that a
    /// write this replica just committed is visible to its next read. Gives up after 5 s (the
    /// database is unreachable): the write is committed either way.
    pub async fn catch_up(&self) {
        let want = self.requested.fetch_add(1, Ordering::AcqRel) + 1;
        self.wake.notify_one();
        let mut completed = self.completed.subscribe();
        let _ = tokio::time::timeout(CATCH_UP_WAIT, completed.wait_for(|&c| c >= want)).await;
    }

    async fn load(&self, position: &mut LogPosition) -> anyhow::Result<()> {
        let covers = self.requested.load(Ordering::Acquire);
        let mut conn = self.pool.acquire().await?;
        let mut tx = conn.begin().await?;
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(&mut *tx)
            .await?;
        let log = changes::since(&mut tx, 0).await?;
        let snapshot = Snapshot::load(&mut tx, &self.review).await?;
        tx.commit().await?;
        *position = LogPosition {
            watermark: log.xmin,
            applied: log
                .changes
                .iter()
                .filter(|c| c.xid >= log.xmin)
                .map(|c| (c.revision, c.xid))
                .collect(),
        };
        self.publish(snapshot, covers);
        self.loaded.send_replace(true);
        Ok(())
    }

    async fn poll(&self, position: &mut LogPosition) -> anyhow::Result<()> {
        let covers = self.requested.load(Ordering::Acquire);
        let mut conn = self.pool.acquire().await?;
        let mut tx = conn.begin().await?;
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(&mut *tx)
            .await?;
        let log = changes::since(&mut tx, position.watermark).await?;
        let fresh: Vec<&changes::Change> = log
            .changes
            .iter()
            .filter(|c| !position.applied.contains_key(&c.revision))
            .collect();
        let current = self.current.load_full();
        let mut what = Changes {
            // Approvals that expired since the last read changed review state without a write.
            servers: current
                .allowlists
                .expired(&mut tx)
                .await?
                .into_iter()
                .collect(),
            global: false,
        };
        for c in &fresh {
            match &c.server_name {
                Some(name) => {
                    what.servers.insert(name.clone());
                }
                None => what.global = true,
            }
        }
        let next = if what.is_empty() {
            None
        } else {
            let revision = fresh.iter().map(|c| c.revision).max().unwrap_or(0);
            Some(
                current
                    .apply(&mut tx, &self.review, &what, revision)
                    .await?,
            )
        };
        tx.commit().await?;
        for c in fresh {
            position.applied.insert(c.revision, c.xid);
        }
        position.watermark = log.xmin;
        position.applied.retain(|_, xid| *xid >= log.xmin);
        match next {
            Some(next) => self.publish(next, covers),
            None => self.confirm(covers),
        }
        Ok(())
    }

    fn publish(&self, snapshot: Snapshot, covers: u64) {
        self.current.store(Arc::new(snapshot));
        self.confirm(covers);
    }

    fn confirm(&self, covers: u64) {
        self.unreachable.store(false, Ordering::Release);
        if let Ok(mut checked) = self.checked.lock() {
            *checked = Instant::now();
        }
        self.completed.send_if_modified(|c| {
            let moved = covers > *c;
            *c = (*c).max(covers);
            moved
        });
    }
}

/// Loads the model and follows the change log for as long as the process runs.
pub async fn follow(model: Arc<ReadModel>) {
    let mut position = LogPosition::default();
    let mut backoff = Duration::from_millis(100);
    while let Err(e) = model.load(&mut position).await {
        tracing::warn!(error = %e, "read model cannot load the catalog; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
    let mut listener: Option<PgListener> = None;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pruned = Instant::now();
    loop {
        // While the database is unreachable the tick alone drives the reads of the log: waiting
        // for a listener connection first would only delay noticing that it is back.
        if listener.is_none() && !model.unreachable.load(Ordering::Acquire) {
            listener = listen(&model.pool).await;
        }
        match listener.as_mut() {
            Some(l) => {
                tokio::select! {
                    heard = l.try_recv() => if !matches!(heard, Ok(Some(_))) {
                        tracing::warn!("read model lost its notification connection; reading the log every second until it is back");
                        listener = None;
                    },
                    () = model.wake.notified() => {},
                    _ = tick.tick() => {},
                }
                // One read of the log answers every notification that arrived meanwhile.
                if let Some(l) = listener.as_mut() {
                    while l.next_buffered().is_some() {}
                }
            }
            None => {
                tokio::select! {
                    () = model.wake.notified() => {},
                    _ = tick.tick() => {},
                }
            }
        }
        // Let the writes committing at this moment gather, so that one read of the log applies
        // them all: under concurrent writers this trades a few milliseconds of latency for far
        // fewer reads (each a repeatable-read transaction of several statements).
        tokio::time::sleep(GATHER).await;
        // A replica that could not read the log for longer than it keeps changes loads anew.
        let result = if model.staleness() > Duration::from_secs(LOG_HOURS as u64 * 3600 / 2) {
            model.load(&mut position).await
        } else {
            tokio::time::timeout(POLL_TIMEOUT, model.poll(&mut position))
                .await
                .unwrap_or_else(|_| Err(anyhow::anyhow!("reading the change log timed out")))
        };
        if let Err(e) = result {
            // Whatever failed, the database is unreachable if it does not answer a ping.
            let unreachable =
                tokio::time::timeout(Duration::from_secs(1), changes::ping(&model.pool))
                    .await
                    .map_or(true, |r| r.is_err());
            model.unreachable.store(unreachable, Ordering::Release);
            tracing::warn!(error = %e, stale_secs = model.staleness().as_secs(), "read model cannot read the change log; answering from its last revision");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if pruned.elapsed() > Duration::from_secs(600) {
            pruned = Instant::now();
            if let Err(e) = changes::prune(&model.pool, LOG_HOURS).await {
                tracing::warn!(error = %e, "cannot prune the change log");
            }
        }
    }
}

async fn listen(pool: &PgPool) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(pool).await.ok()?;
    listener.listen(CHANNEL).await.ok()?;
    Some(listener)
}
