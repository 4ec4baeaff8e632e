//! Tags of servers: what policy rules can name (`resources: [{tag: …}]`).

use mcpreg_api::problem::ProblemCode;
use mcpreg_api::{FieldIssue, ServerName};
use serde_json::json;
use sqlx::PgPool;

use crate::db::{audit, changes, servers};
use crate::error::{ApiError, ApiResult};
use crate::label::Label;

/// Most tags a server has.
pub const MAX_TAGS: usize = 32;

/// The 404 of a server that is not in the registry.
pub fn not_found(name: &ServerName) -> ApiError {
    ApiError::not_found(
        ProblemCode::ServerNotFound,
        format!("server {name} is not in the registry"),
    )
}

/// A server's tags.
pub async fn get(pool: &PgPool, name: &ServerName) -> ApiResult<Vec<String>> {
    servers::tags(pool, name.as_str())
        .await?
        .ok_or_else(|| not_found(name))
}

/// Replaces a server's tags (stored sorted, without duplicates) and records `server.tags` when
/// they change; every replica's caches follow. Returns the tags as stored.
pub async fn set(
    pool: &PgPool,
    actor: &str,
    name: &ServerName,
    tags: &[String],
) -> ApiResult<Vec<String>> {
    let mut issues = Vec::new();
    let mut labels = Vec::with_capacity(tags.len());
    for (i, tag) in tags.iter().enumerate() {
        match Label::parse(tag) {
            Some(label) => labels.push(label),
            None => issues.push(FieldIssue::new(
                format!("tags[{i}]"),
                "a tag is 1–63 lower-case letters, digits and `-`, starting with a letter or digit",
                "parameter",
            )),
        }
    }
    labels.sort();
    labels.dedup();
    // The limit counts every distinct tag asked for, valid or not, so that a request with both
    // kinds of problem hears of both at once.
    let mut distinct: Vec<&String> = tags.iter().collect();
    distinct.sort();
    distinct.dedup();
    if distinct.len() > MAX_TAGS {
        issues.push(FieldIssue::new(
            "tags",
            format!("at most {MAX_TAGS} tags"),
            "parameter",
        ));
    }
    if !issues.is_empty() {
        return Err(ApiError::unprocessable(
            ProblemCode::InvalidTags,
            "the tags are invalid; each problem is listed in `errors`",
            issues,
        ));
    }
    let tags: Vec<String> = labels.into_iter().map(Label::into_string).collect();
    let mut tx = pool.begin().await?;
    let before = servers::tags_for_update(&mut *tx, name.as_str())
        .await?
        .ok_or_else(|| not_found(name))?;
    if before != tags {
        servers::set_tags(&mut *tx, name.as_str(), &tags).await?;
        audit::record(
            &mut tx,
            actor,
            "server.tags",
            name.as_str(),
            json!({"before": before, "after": tags}),
        )
        .await?;
        changes::notify(&mut *tx, name.as_str()).await?;
    }
    tx.commit().await?;
    Ok(tags)
}
