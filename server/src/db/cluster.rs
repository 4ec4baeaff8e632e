//! Statements that administer the private cluster itself, through its maintenance database,
//! before the registry's schema exists (`embedded_pg`).

use sqlx::PgConnection;

/// Creates database `name` unless it exists. `name` is a constant of ours, never user input:
/// `create database` takes no bind parameters.
pub async fn ensure_database(
    conn: &mut PgConnection,
    name: &'static str,
) -> Result<(), sqlx::Error> {
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut *conn)
            .await?;
    if !exists {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
