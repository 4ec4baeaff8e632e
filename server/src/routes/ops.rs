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

/// Readiness: the database answers within two seconds.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = super::TAG_OPS,
    responses(
        (status = 200, body = Health),
        (status = 503, description = "Database unreachable"),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    let ping = sqlx::query_scalar::<_, i32>("select 1").fetch_one(&state.pool);
    match tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => Ok(Json(Health::ok())),
        Ok(Err(e)) => Err(ApiError::Unavailable(e.to_string())),
        Err(_) => Err(ApiError::Unavailable("readiness check timed out".into())),
    }
}
