//! What a version pins and who signed it: package digests and verified signatures. Both are
//! written once and never changed (the schema refuses updates and deletes).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

/// The name of the constraint that keeps one bundle from being stored twice for a version.
pub const BUNDLE_KEY: &str = "version_signatures_bundle_key";

/// A package of a version and the digest it pins.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PackageRow {
    /// Index in `packages`.
    pub package_index: i32,
    /// registryType.
    pub registry_type: String,
    /// identifier.
    pub identifier: String,
    /// `sha256:<hex>`, or `None` when unpinned.
    pub digest: Option<String>,
}

/// Records the packages of a new version, in one statement.
pub async fn insert_packages(
    db: impl PgExecutor<'_>,
    version_id: i64,
    packages: &[PackageRow],
) -> Result<(), sqlx::Error> {
    if packages.is_empty() {
        return Ok(());
    }
    let indexes: Vec<i32> = packages.iter().map(|p| p.package_index).collect();
    let types: Vec<&str> = packages.iter().map(|p| p.registry_type.as_str()).collect();
    let identifiers: Vec<&str> = packages.iter().map(|p| p.identifier.as_str()).collect();
    let digests: Vec<Option<&str>> = packages.iter().map(|p| p.digest.as_deref()).collect();
    sqlx::query!(
"insert into version_packages (version_id, package_index, registry_type, identifier, digest)
         select $1, * from unnest($2::integer[], $3::text[], $4::text[], $5::text[])",
version_id,
indexes as _,
types as _,
identifiers as _,
digests as _
)
    .execute(db)
    .await?;
    Ok(())
}

/// The packages of a version, by index.
pub async fn packages(
    db: impl PgExecutor<'_>,
    version_id: i64,
) -> Result<Vec<PackageRow>, sqlx::Error> {
    sqlx::query_as!(
        PackageRow,
        "select package_index, registry_type, identifier, digest from version_packages
          where version_id = $1 order by package_index",
        version_id
    )
    .fetch_all(db)
    .await
}

/// A signature to store.
pub struct NewSignatureRow<'a> {
    /// The version.
    pub version_id: i64,
    /// `None`: over the server.json; `Some(i)`: over package `i`'s artifact.
    pub package_index: Option<i32>,
    /// The digest it was verified over.
    pub subject_digest: &'a str,
    /// The document's media type.
    pub media_type: &'a str,
    /// The document as sent (JSON text).
    pub bundle: &'a str,
    /// SHA-256 (hex) of `bundle`.
    pub bundle_sha256: &'a str,
    /// The verification result (`mcpreg_trust::VerifiedSignature`).
    pub verified: &'a Value,
    /// Certificate identity of a keyless signer.
    pub signer_identity: Option<&'a str>,
    /// Its OIDC issuer.
    pub signer_issuer: Option<&'a str>,
    /// Key ID of a key signer.
    pub key_id: Option<&'a str>,
    /// The key that verified, PEM.
    pub public_key_pem: Option<&'a str>,
    /// Verified signing time.
    pub signed_at: Option<DateTime<Utc>>,
    /// Who sent it.
    pub created_by: &'a str,
}

/// A stored signature.
#[derive(Debug, sqlx::FromRow)]
pub struct SignatureRow {
    /// Its id.
    pub id: i64,
    /// Over package `i`'s artifact, or (null) over the server.json.
    pub package_index: Option<i32>,
    /// The digest it was verified over.
    pub subject_digest: String,
    /// The document's media type.
    pub media_type: String,
    /// The document as sent.
    pub bundle: String,
    /// The verification result.
    pub verified: Value,
    /// The key that verified a key-based signature, PEM.
    pub public_key_pem: Option<String>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// Who sent it.
    pub created_by: String,
}

/// Stores a verified signature.
pub async fn insert_signature(
    db: impl PgExecutor<'_>,
    s: &NewSignatureRow<'_>,
) -> Result<SignatureRow, sqlx::Error> {
    sqlx::query_as!(
SignatureRow,
"insert into version_signatures
            (version_id, subject_kind, package_index, subject_digest, media_type, bundle,
             bundle_sha256, verified, signer_kind, signer_identity, signer_issuer, key_id,
             public_key_pem, signed_at, created_by)
         values ($1, case when $2::integer is null then 'server_json' else 'artifact' end, $2, $3,
                 $4, $5, $6, $7, case when $10::text is null then 'certificate' else 'key' end,
                 $8, $9, $10, $11, $12, $13)
         returning id, package_index, subject_digest, media_type, bundle, verified, public_key_pem, created_at, created_by",
s.version_id,
s.package_index,
s.subject_digest,
s.media_type,
s.bundle,
s.bundle_sha256,
s.verified,
s.signer_identity,
s.signer_issuer,
s.key_id,
s.public_key_pem,
s.signed_at,
s.created_by
)
    .fetch_one(db)
    .await
}

/// The signatures of a version, oldest first.
pub async fn signatures(
    db: impl PgExecutor<'_>,
    version_id: i64,
) -> Result<Vec<SignatureRow>, sqlx::Error> {
    sqlx::query_as!(
SignatureRow,
"select id, package_index, subject_digest, media_type, bundle, verified, public_key_pem, created_at, created_by from version_signatures where version_id = $1 order by id",
version_id
)
    .fetch_all(db)
    .await
}
