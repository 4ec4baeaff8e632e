//! Publishing and curating versions: the rules that span several statements, each run in one
//! transaction so that a client sees success only after everything is committed.

use mcpreg_api::problem::ProblemCode;
use std::cmp::Ordering;

use chrono::Utc;
use mcpreg_api::admin::{MAX_STATUS_MESSAGE_LEN, StatusChange, StatusChangeResult};
use mcpreg_api::problem::FieldIssue;
use mcpreg_api::registry::{ServerResponse, Status};
use mcpreg_api::server_json::{self, ValidServerJson};
use mcpreg_api::version::compare_for_latest;
use mcpreg_api::{ServerName, Version};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};

use crate::db::{self, audit, namespaces, versions};
use crate::error::{ApiError, ApiResult};
use crate::{signatures, tools};

/// Validates a document, turning its problems into a 422 that lists each with its path.
pub fn validate(document: Value) -> ApiResult<ValidServerJson> {
    server_json::validate(document).map_err(|errors| {
        let n = errors.len();
        ApiError::unprocessable(
            ProblemCode::InvalidServerJson,
            format!(
                "server.json is invalid: {n} problem{} found; each is listed in `errors` with its path",
                if n == 1 { "" } else { "s" }
            ),
            errors,
        )
    })
}

/// A document ready to be stored: validated, the digests of its packages read (`subjects`, from
/// [`signatures::subjects_of`]), the signatures that came with it verified over them, and its tool
/// manifest parsed and scanned. Made before any transaction, so that a refusal stores nothing.
pub struct Publication {
    /// The validated server.json.
    pub valid: ValidServerJson,
    /// The digests its signatures and packages are over.
    pub subjects: mcpreg_trust::Subjects,
    /// The signatures, verified.
    pub verified: Vec<signatures::Verified>,
    /// The tool manifest with its built-in scan, when one came with it.
    pub manifest: Option<tools::Prepared>,
}

/// Publishes a document as a new, immutable version, with its digests, signatures and tool
/// manifest, all in one transaction.
pub async fn publish(
    pool: &PgPool,
    actor: &str,
    publication: &Publication,
) -> ApiResult<ServerResponse> {
    let mut tx = pool.begin().await?;
    let response = publish_in(&mut tx, actor, publication).await?;
    tx.commit().await?;
    log_published(actor, publication);
    Ok(response)
}

/// Publishes every document of a batch in one transaction, each inside its own savepoint, so
/// that one refused by the database (its version exists, its name clashes in case with another)
/// is refused alone. Returns each document's result in the order given; an error that is not the
/// document's fault (the database failing) fails the whole batch, storing nothing.
///
/// The documents are stored in the order of their namespace and name (case-insensitively, each
/// server's versions in the order given), so that concurrent batches take their locks in one
/// order and never deadlock; the results stay in the order given.
pub async fn publish_batch(
    pool: &PgPool,
    actor: &str,
    publications: &[&Publication],
) -> ApiResult<Vec<ApiResult<ServerResponse>>> {
    let mut order: Vec<usize> = (0..publications.len()).collect();
    order.sort_by_cached_key(|&i| {
        let name = &publications[i].valid.name;
        (
            name.namespace().as_str().to_lowercase(),
            name.as_str().to_lowercase(),
        )
    });
    let mut results: Vec<Option<ApiResult<ServerResponse>>> =
        publications.iter().map(|_| None).collect();
    let mut tx = pool.begin().await?;
    for i in order {
        let mut savepoint = sqlx::Acquire::begin(&mut tx).await?;
        let result = match publish_in(&mut savepoint, actor, publications[i]).await {
            Ok(published) => {
                savepoint.commit().await?;
                Ok(published)
            }
            Err(refused @ ApiError::Client(..)) => {
                savepoint.rollback().await?;
                Err(refused)
            }
            Err(failed) => return Err(failed),
        };
        results[i] = Some(result);
    }
    tx.commit().await?;
    let results: Vec<ApiResult<ServerResponse>> = results.into_iter().flatten().collect();
    for (result, publication) in results.iter().zip(publications) {
        if result.is_ok() {
            log_published(actor, publication);
        }
    }
    Ok(results)
}

fn log_published(actor: &str, publication: &Publication) {
    let valid = &publication.valid;
    tracing::info!(server.name = valid.name.as_str(), server.version = %valid.version, actor, "version published");
}

/// Stores a document as a new version in the caller's transaction.
async fn publish_in(
    tx: &mut PgConnection,
    actor: &str,
    publication: &Publication,
) -> ApiResult<ServerResponse> {
    let Publication {
        valid,
        subjects,
        verified,
        manifest,
    } = publication;
    let manifest = manifest.as_ref();
    let name = valid.name.as_str();
    let namespace = valid.name.namespace();
    let document = serde_json::to_string(&valid.document).map_err(anyhow::Error::from)?;
    let server_json_digest = subjects.server_json.to_string();

    // The namespace: created on first publish, and never twice in different case.
    match namespaces::find_case_insensitive(&mut *tx, namespace.as_str()).await? {
        Some(existing) if existing != namespace.as_str() => {
            return Err(ApiError::conflict(
                ProblemCode::NameConflict,
                format!(
                    "namespace `{namespace}` differs only in case from the existing namespace `{existing}`"
                ),
            ));
        }
        Some(_) => {}
        None => {
            if namespaces::insert(&mut *tx, namespace.as_str(), None, actor).await? {
                audit::record(
                    &mut *tx,
                    actor,
                    "namespace.create",
                    namespace.as_str(),
                    json!({"implicit": true}),
                )
                .await?;
            } else {
                // A concurrent first publish created it meanwhile: in the same case?
                let existing = namespaces::find_case_insensitive(&mut *tx, namespace.as_str())
                    .await?
                    .unwrap_or_default();
                if existing != namespace.as_str() {
                    return Err(ApiError::conflict(
                        ProblemCode::NameConflict,
                        format!(
                            "namespace `{namespace}` differs only in case from the existing namespace `{existing}`"
                        ),
                    ));
                }
            }
        }
    }

    let server = match versions::lock_server_ci(&mut *tx, name).await? {
        Some(server) => server,
        None => match versions::insert_server(&mut *tx, name, namespace.as_str()).await? {
            Some(server) => server,
            // A concurrent first publish of the same server committed in between.
            None => versions::lock_server_ci(&mut *tx, name)
                .await?
                .ok_or_else(|| anyhow::anyhow!("server {name} vanished during publish"))?,
        },
    };
    if server.name != name {
        return Err(ApiError::conflict(
            ProblemCode::NameConflict,
            format!(
                "server name `{name}` differs only in case from the existing server `{}`",
                server.name
            ),
        ));
    }

    let now = Utc::now();
    let existing = versions::facts(&mut *tx, server.id).await?;
    if existing.iter().any(|v| v.version == valid.version.as_str()) {
        return Err(version_exists(&valid.name, &valid.version));
    }
    let current_latest = existing.iter().find(|v| v.is_latest);
    let becomes_latest = match current_latest {
        None => true,
        Some(current) => {
            let current_version = Version::parse(&current.version).map_err(|e| {
                anyhow::anyhow!("stored version {} is invalid: {e}", current.version)
            })?;
            compare_for_latest(&valid.version, now, &current_version, current.published_at)
                == Ordering::Greater
        }
    };
    if becomes_latest {
        versions::clear_latest(&mut *tx, server.id).await?;
    }
    let row = versions::insert_version(
        &mut *tx,
        &versions::NewVersion {
            server_id: server.id,
            server_name: name,
            version: valid.version.as_str(),
            document: &document,
            schema_url: valid.schema_url,
            published_by: actor,
            is_latest: becomes_latest,
            published_at: now,
            server_json_digest: &server_json_digest,
        },
    )
    .await?
    .ok_or_else(|| version_exists(&valid.name, &valid.version))?;
    let packages = signatures::package_rows(subjects);
    db::signatures::insert_packages(&mut *tx, row.id, &packages).await?;
    signatures::store(&mut *tx, row.id, actor, verified).await?;
    let subject = format!("{name}@{}", valid.version);
    audit::record(
        &mut *tx,
        actor,
        "version.publish",
        &subject,
        json!({
            "schema": valid.schema_url,
            "isLatest": becomes_latest,
            "serverJsonDigest": server_json_digest,
            "unpinnedPackages": packages.iter().filter(|p| p.digest.is_none()).count(),
            "signatures": verified.len(),
        }),
    )
    .await?;
    for s in verified {
        audit::record(
            &mut *tx,
            actor,
            "signature.attach",
            &subject,
            signatures::audit_details(s),
        )
        .await?;
    }
    if let Some(manifest) = manifest {
        let version = tools::VersionKey {
            id: row.id,
            server_name: name,
            version: valid.version.as_str(),
        };
        tools::store(&mut *tx, version, actor, manifest).await?;
    }
    crate::db::changes::notify(&mut *tx, name).await?;
    let mut response = row.row.into_response().map_err(anyhow::Error::from)?;
    if let Some(manifest) = manifest {
        response.meta.tools = Some(manifest.meta());
    }
    Ok(response)
}

fn version_exists(name: &ServerName, version: &Version) -> ApiError {
    ApiError::conflict(
        ProblemCode::VersionExists,
        format!(
            "{name} version {version} is already published; versions are immutable, publish a new version"
        ),
    )
}

/// Changes the status of one version, or of every version when `version` is `None`, and moves
/// "latest" to the highest version that is not deleted.
pub async fn change_status(
    pool: &PgPool,
    actor: &str,
    name: &ServerName,
    version: Option<&str>,
    change: StatusChange,
) -> ApiResult<StatusChangeResult> {
    let message = change.status_message.as_deref().filter(|m| !m.is_empty());
    if let Some(m) = message {
        if change.status == Status::Active {
            return Err(ApiError::invalid_parameters(
                "a status message explains a deprecation or deletion; it cannot be set with status active",
                vec![FieldIssue::new(
                    "statusMessage",
                    "must be absent when status is active",
                    "parameter",
                )],
            ));
        }
        if m.chars().count() > MAX_STATUS_MESSAGE_LEN {
            return Err(ApiError::invalid_parameters(
                "status message too long",
                vec![FieldIssue::new(
                    "statusMessage",
                    format!("at most {MAX_STATUS_MESSAGE_LEN} characters"),
                    "parameter",
                )],
            ));
        }
    }

    let mut tx = pool.begin().await?;
    let server = versions::lock_server_ci(&mut *tx, name.as_str())
        .await?
        .filter(|s| s.name == name.as_str())
        .ok_or_else(|| {
            ApiError::not_found(
                ProblemCode::ServerNotFound,
                format!("server {name} is not in the registry"),
            )
        })?;
    let facts = versions::facts(&mut *tx, server.id).await?;
    if let Some(v) = version
        && !facts.iter().any(|f| f.version == v)
    {
        return Err(ApiError::not_found(
            ProblemCode::VersionNotFound,
            format!("server {name} has no version {v}"),
        ));
    }
    let changed =
        versions::set_status(&mut *tx, server.id, version, change.status, message).await?;
    if !changed.is_empty() {
        recompute_latest(&mut tx, server.id).await?;
        crate::db::changes::notify(&mut *tx, name.as_str()).await?;
        audit::record(
            &mut tx,
            actor,
            "version.status",
            name.as_str(),
            json!({"versions": changed, "status": change.status, "statusMessage": message}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(StatusChangeResult {
        name: name.to_string(),
        versions: changed,
        status: change.status,
    })
}

/// Marks as latest the highest version that is not deleted (or, when all are, the highest of
/// all, so that `include_deleted=true` still resolves `latest`), as the official registry does.
async fn recompute_latest(tx: &mut sqlx::PgConnection, server_id: i64) -> ApiResult<()> {
    let facts = versions::facts(&mut *tx, server_id).await?;
    let parsed: Vec<(&versions::VersionFacts, Version)> = facts
        .iter()
        .filter_map(|f| Version::parse(&f.version).ok().map(|v| (f, v)))
        .collect();
    let best = |candidates: Vec<&(&versions::VersionFacts, Version)>| {
        candidates
            .into_iter()
            .max_by(|(fa, va), (fb, vb)| {
                compare_for_latest(va, fa.published_at, vb, fb.published_at)
            })
            .map(|(f, _)| f.id)
    };
    let live: Vec<_> = parsed
        .iter()
        .filter(|(f, _)| f.status != versions::VersionStatus::Deleted)
        .collect();
    let winner = if live.is_empty() {
        best(parsed.iter().collect())
    } else {
        best(live)
    };
    if let Some(id) = winner {
        db::versions::set_latest(tx, server_id, id).await?;
    }
    Ok(())
}
