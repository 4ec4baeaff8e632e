//! Each replica's audit chainer: links the audit events other transactions committed into the
//! hash chain ([`db::audit::chain_pending`]), woken by the `mcpreg_audit` notification every
//! audited write sends at commit, and every second in case a notification was missed (a
//! listener reconnecting, another replica's chainer holding the lock meanwhile). Audit reads
//! chain synchronously too, so this only keeps the chain fresh between reads.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;

use crate::db;

/// How often the chainer runs without being woken.
const TICK: Duration = Duration::from_secs(1);

/// Runs the chainer until the process ends.
pub async fn run(pool: PgPool) {
    // Notifications arriving while a chainer pass runs fold into one further pass.
    let wake = Arc::new(Notify::new());
    tokio::spawn(listen(pool.clone(), wake.clone()));
    loop {
        match db::audit::chain_pending(&pool).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(events = n, "audit events chained"),
            Err(e) => tracing::warn!(error = %e, "cannot chain audit events now; retrying"),
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(TICK) => {}
        }
    }
}

async fn listen(pool: PgPool, wake: Arc<Notify>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "audit chainer cannot listen; chaining every second");
                tokio::time::sleep(TICK).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(db::audit::CHANNEL).await {
            tracing::warn!(error = %e, "audit chainer cannot LISTEN; chaining every second");
            tokio::time::sleep(TICK).await;
            continue;
        }
        // Whatever was committed while not listening.
        wake.notify_one();
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => wake.notify_one(),
                Ok(None) | Err(_) => break,
            }
        }
    }
}
