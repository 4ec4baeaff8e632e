//! The catalog's change log (`catalog_changes`), which every replica's read model follows (see
//! `crate::read_model`): each write that changes what replicas serve appends a row in its own
//! transaction and notifies [`CHANNEL`] (delivered on commit).

use sqlx::PgExecutor;

/// The notification channel of catalog changes.
pub const CHANNEL: &str = "mcpreg_catalog";

/// Records that the catalog changed, in the writing transaction: `server` names the server whose
/// versions or facts changed, or is empty for a change of policy or allowlists. Replicas hear of
/// it when the transaction commits, and never if it rolls back.
pub async fn notify(db: impl PgExecutor<'_>, server: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "with c as (insert into catalog_changes (server_name) values (nullif($1, '')) returning 1)
         select pg_notify($2, '') from c",
        server,
        CHANNEL
    )
    .execute(db)
    .await?;
    Ok(())
}

/// One row of the log.
#[derive(Debug, Clone)]
pub struct Change {
    /// Its revision.
    pub revision: i64,
    /// The writing transaction's id (`xid8`, as a number).
    pub xid: i64,
    /// The server it is about; `None` for a change of policy or allowlists.
    pub server_name: Option<String>,
}

/// What a replica reads of the log at one snapshot.
#[derive(Debug, Clone)]
pub struct LogRead {
    /// The oldest transaction still running at the snapshot: every transaction below it has
    /// ended, so its changes, if any, are among those read now.
    pub xmin: i64,
    /// The committed changes of transactions at or above `watermark`.
    pub changes: Vec<Change>,
}

/// The changes of every transaction at or above `watermark` (an `xmin` read before) that the
/// caller's snapshot sees, by revision. Run it in the repeatable-read transaction that also reads
/// what changed, so both see the same snapshot.
pub async fn since(db: &mut sqlx::PgConnection, watermark: i64) -> Result<LogRead, sqlx::Error> {
    let xmin = sqlx::query_scalar!(
        r#"select pg_snapshot_xmin(pg_current_snapshot())::text::bigint as "xmin!""#
    )
    .fetch_one(&mut *db)
    .await?;
    let changes = sqlx::query!(
        r#"select revision, xid::text::bigint as "xid!", server_name
             from catalog_changes where xid >= $1::bigint::text::xid8 order by revision"#,
        watermark
    )
    .fetch_all(&mut *db)
    .await?
    .into_iter()
    .map(|r| Change {
        revision: r.revision,
        xid: r.xid,
        server_name: r.server_name,
    })
    .collect();
    Ok(LogRead { xmin, changes })
}

/// The newest revision the caller's snapshot sees (0 for an empty log).
pub async fn newest(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select coalesce(max(revision), 0) as "revision!" from catalog_changes"#)
        .fetch_one(db)
        .await
}

/// Deletes the changes older than `hours`; a replica that has not read the log for that long
/// loads its whole model again.
pub async fn prune(db: impl PgExecutor<'_>, hours: i32) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "delete from catalog_changes where at < now() - make_interval(hours => $1)",
        hours
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Whether the database answers a trivial statement (readiness).
pub async fn ping(db: impl PgExecutor<'_>) -> Result<(), sqlx::Error> {
    sqlx::query_scalar::<_, i32>("select 1")
        .fetch_one(db)
        .await?;
    Ok(())
}
