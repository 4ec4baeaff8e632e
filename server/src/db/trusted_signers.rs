//! Trusted signers: the identities and keys whose signatures a namespace (or server) accepts.

use chrono::{DateTime, Utc};
use mcpreg_api::trust::{TrustedSigner, TrustedSignerKind};
use sqlx::PgExecutor;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    namespace: String,
    server_name: Option<String>,
    kind: String,
    identity: Option<String>,
    identity_pattern: Option<String>,
    issuer: Option<String>,
    public_key_pem: Option<String>,
    key_id: Option<String>,
    key_algorithm: Option<String>,
    created_at: DateTime<Utc>,
    created_by: String,
}

impl TryFrom<Row> for TrustedSigner {
    type Error = sqlx::Error;

    fn try_from(r: Row) -> Result<Self, sqlx::Error> {
        let kind = match r.kind.as_str() {
            "key" => TrustedSignerKind::Key,
            "identity" => TrustedSignerKind::Identity,
            other => {
                return Err(super::decode_error(format!(
                    "trusted signer {} has an unknown kind `{other}`",
                    r.id
                )));
            }
        };
        Ok(TrustedSigner {
            id: r.id,
            namespace: r.namespace,
            server: r.server_name,
            kind,
            identity: r.identity,
            identity_pattern: r.identity_pattern,
            issuer: r.issuer,
            public_key: r.public_key_pem,
            key_id: r.key_id,
            key_algorithm: r.key_algorithm,
            created_at: r.created_at,
            created_by: r.created_by,
        })
    }
}

/// The name of the unique index that makes a signer entry appear once per namespace or server.
pub const UNIQUE_INDEX: &str = "trusted_signers_unique";

/// The trusted signers of a namespace (including those limited to one of its servers).
pub async fn list(
    db: impl PgExecutor<'_>,
    namespace: &str,
) -> Result<Vec<TrustedSigner>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as!(
Row,
"select id, namespace, server_name, kind, identity, identity_pattern, issuer, public_key_pem, key_id, key_algorithm, created_at, created_by from trusted_signers where namespace = $1 order by id",
namespace
)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// The trusted signers that may sign `server` (its own and its namespace's).
pub async fn for_server(
    db: impl PgExecutor<'_>,
    namespace: &str,
    server: &str,
) -> Result<Vec<TrustedSigner>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as!(
Row,
"select id, namespace, server_name, kind, identity, identity_pattern, issuer, public_key_pem, key_id, key_algorithm, created_at, created_by from trusted_signers
          where namespace = $1 and (server_name is null or server_name = $2) order by id",
namespace,
server
)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// A trusted signer to add: an identity (exact or pattern) with its issuer, or a key.
pub enum NewSigner<'a> {
    /// A keyless signer.
    Identity {
        /// Exact SAN, when not a pattern.
        identity: Option<&'a str>,
        /// Anchored pattern, when not exact.
        pattern: Option<&'a str>,
        /// OIDC issuer.
        issuer: &'a str,
    },
    /// A public key.
    Key {
        /// PEM `PUBLIC KEY`.
        pem: &'a str,
        /// Its key ID.
        key_id: &'a str,
        /// Its algorithm.
        algorithm: &'a str,
    },
}

/// Adds a trusted signer.
pub async fn insert(
    db: impl PgExecutor<'_>,
    namespace: &str,
    server: Option<&str>,
    signer: &NewSigner<'_>,
    created_by: &str,
) -> Result<TrustedSigner, sqlx::Error> {
    let (kind, identity, pattern, issuer, pem, key_id, algorithm) = match signer {
        NewSigner::Identity {
            identity,
            pattern,
            issuer,
        } => (
            "identity",
            *identity,
            *pattern,
            Some(*issuer),
            None,
            None,
            None,
        ),
        NewSigner::Key {
            pem,
            key_id,
            algorithm,
        } => (
            "key",
            None,
            None,
            None,
            Some(*pem),
            Some(*key_id),
            Some(*algorithm),
        ),
    };
    let row: Row = sqlx::query_as!(
Row,
"insert into trusted_signers
            (namespace, server_name, kind, identity, identity_pattern, issuer, public_key_pem,
             key_id, key_algorithm, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id, namespace, server_name, kind, identity, identity_pattern, issuer, public_key_pem, key_id, key_algorithm, created_at, created_by",
namespace,
server,
kind,
identity,
pattern,
issuer,
pem,
key_id,
algorithm,
created_by
)
    .fetch_one(db)
    .await?;
    row.try_into()
}

/// Removes a trusted signer of a namespace; the removed signer, or `None` when there is none
/// with that id.
pub async fn delete(
    db: impl PgExecutor<'_>,
    namespace: &str,
    id: i64,
) -> Result<Option<TrustedSigner>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as!(
Row,
"delete from trusted_signers where namespace = $1 and id = $2 returning id, namespace, server_name, kind, identity, identity_pattern, issuer, public_key_pem, key_id, key_algorithm, created_at, created_by",
namespace,
id
)
    .fetch_optional(db)
    .await?;
    row.map(TryInto::try_into).transpose()
}
