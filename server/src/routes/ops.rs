//! Liveness, readiness and "who am I".

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use mcpreg_api::admin::Health;

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

/// Liveness: the process serves requests. Does not touch the database.
#[utoipa::path(get, path = "/healthz", tag = super::TAG_OPS, responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health::ok())
}

/// Readiness: the replica can answer reads — its read model has loaded the catalog. `ok` when
/// the database also answers within two seconds; `degraded` when it does not (reads come from
/// the last revision, writes fail with 503).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = super::TAG_OPS,
    responses(
        (status = 200, body = Health, description = "`ok`, or `degraded` when the database is unreachable"),
        (status = 503, description = "The read model has not loaded yet"),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    if !state.model.is_loaded() {
        return Err(ApiError::Unavailable(
            "the read model is still loading the catalog".into(),
        ));
    }
    let ping = crate::db::changes::ping(&state.pool);
    match tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => Ok(Json(Health::ok())),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database is unreachable; serving reads from the read model");
            Ok(Json(Health::degraded()))
        }
        Err(_) => Ok(Json(Health::degraded())),
    }
}
