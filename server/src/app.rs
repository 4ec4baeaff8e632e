//! Shared state of the service.

use sqlx::PgPool;

/// What every handler can reach. Cheap to clone; all state lives in PostgreSQL, so replicas
/// are interchangeable.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: PgPool,
}
