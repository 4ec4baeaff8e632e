//! A per-replica cache of official-API answers, kept fresh across replicas through PostgreSQL
//! `LISTEN/NOTIFY`: every catalog write notifies `mcpreg_catalog` in its transaction (`db::changes::notify`) (delivered on
//! commit), and every replica drops its whole cache when it hears it.
//!
//! Fail-safe rules: nothing is served from the cache while the listener is not connected (a
//! notification could be missed), an answer computed while an invalidation happened is not stored
//! (it may predate the write), and entries expire after [`TTL`] whatever happens.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::RwLock;

pub use crate::db::changes::CHANNEL;

/// Longest an entry is served, even if every notification were lost.
pub const TTL: Duration = Duration::from_secs(30);

/// Most bytes the cache holds before it starts over.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

struct Entry {
    body: Bytes,
    stored: Instant,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
    bytes: usize,
}

/// The cache.
#[derive(Default)]
pub struct ReadCache {
    generation: AtomicU64,
    listening: AtomicBool,
    entries: RwLock<Entries>,
}

impl ReadCache {
    /// A cache that serves nothing until [`listen`] has connected.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The cached answer for `key`, if fresh.
    pub async fn get(&self, key: &str) -> Option<Bytes> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.read().await;
        entries
            .map
            .get(key)
            .filter(|e| e.stored.elapsed() < TTL)
            .map(|e| e.body.clone())
    }

    /// The generation, when the cache may serve (its listener is connected); for caches of
    /// other values that follow this one's invalidations.
    pub fn fresh_generation(&self) -> Option<u64> {
        self.listening
            .load(Ordering::Acquire)
            .then(|| self.generation.load(Ordering::Acquire))
    }

    /// Call before computing an answer; pass the result to [`ReadCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores an answer computed since `generation`, unless the catalog changed meanwhile.
    pub async fn put(&self, key: String, generation: u64, body: Bytes) {
        if !self.listening.load(Ordering::Acquire) || body.len() > MAX_BYTES / 16 {
            return;
        }
        let mut entries = self.entries.write().await;
        // Checked under the write lock, which `invalidate` also takes: no stale insert can
        // follow an invalidation.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.bytes + body.len() > MAX_BYTES {
            *entries = Entries::default();
        }
        entries.bytes += body.len();
        if let Some(old) = entries.map.insert(
            key,
            Entry {
                body,
                stored: Instant::now(),
            },
        ) {
            entries.bytes -= old.body.len();
        }
    }

    /// Drops everything (the catalog changed).
    pub async fn invalidate(&self) {
        let mut entries = self.entries.write().await;
        self.generation.fetch_add(1, Ordering::AcqRel);
        *entries = Entries::default();
    }

    async fn set_listening(&self, listening: bool) {
        self.invalidate().await;
        self.listening.store(listening, Ordering::Release);
    }
}

/// Listens for catalog changes for as long as the process runs, reconnecting after failures.
pub async fn listen(pool: PgPool, cache: Arc<ReadCache>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cache listener cannot connect; serving without cache");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "cache listener cannot LISTEN; serving without cache");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        cache.set_listening(true).await;
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => cache.invalidate().await,
                Ok(None) | Err(_) => {
                    tracing::warn!(
                        "cache listener lost its connection; serving without cache until it is back"
                    );
                    cache.set_listening(false).await;
                    break;
                }
            }
        }
    }
}
