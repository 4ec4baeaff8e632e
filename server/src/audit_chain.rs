//! Each replica's audit chainer: links the audit events committed on any replica into the hash
//! chain ([`db::audit::chain_pending`]) — soon after this replica records one (woken in-process
//! by [`db::audit::CHAIN_WAKE`]), and every second for the events of other replicas. Audit reads
//! chain synchronously too, so this only keeps the chain fresh between reads.
//!
//! There is no cross-replica notification: a `NOTIFY` in every write transaction would make
//! PostgreSQL serialise their commits, the bottleneck the chainer exists to remove.

use std::time::Duration;

use sqlx::PgPool;

use crate::db;

/// How often the chainer runs without being woken.
const TICK: Duration = Duration::from_secs(1);

/// How long the chainer waits after being woken, so that the transaction that woke it (it is
/// woken before that commits) has committed and one pass links the events of many.
const SETTLE: Duration = Duration::from_millis(100);

/// Runs the chainer until the process ends.
pub async fn run(pool: PgPool) {
    loop {
        match db::audit::chain_pending(&pool).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(events = n, "audit events chained"),
            Err(e) => tracing::warn!(error = %e, "cannot chain audit events now; retrying"),
        }
        // Wakes while a pass runs fold into one permit: at most one more pass.
        tokio::select! {
            () = db::audit::CHAIN_WAKE.notified() => tokio::time::sleep(SETTLE).await,
            () = tokio::time::sleep(TICK) => {}
        }
    }
}
