//! Registry API tokens. Only the SHA-256 of a token is stored: a token is high-entropy random
//! data, so a fast hash is enough, and looking a token up by its hash is the comparison (the
//! database never sees the token, and nothing compares secrets byte by byte in user space).

use base64::Engine;
use chrono::{DateTime, Utc};
use mcpreg_api::admin::Role;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::PgExecutor;

/// Every mcpreg API token starts with this, so that secret scanners can recognise a leaked one.
pub const TOKEN_PREFIX: &str = "mcpreg_";

/// A stored token, without the secret.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// Row id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// For publishers: the namespaces it may publish to.
    pub namespaces: Vec<String>,
    /// When set, the only server it may publish.
    pub server_name: Option<String>,
    /// How it was made.
    pub kind: TokenKind,
    /// Who made it.
    pub created_by: String,
}

/// How a token was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// By an admin (`api`).
    Api,
    /// Exchanged for a CI's OIDC token, short-lived (`trusted_publishing`).
    TrustedPublishing,
}

impl TokenKind {
    /// The kind as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Api => "api",
            TokenKind::TrustedPublishing => "trusted_publishing",
        }
    }
}

/// A token's row as stored: its role and kind still text.
struct Record {
    id: i64,
    name: String,
    role: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    namespaces: Vec<String>,
    server_name: Option<String>,
    kind: String,
    created_by: String,
}

impl TryFrom<Record> for TokenRow {
    type Error = sqlx::Error;

    // A value the schema's check does not allow means the row cannot be trusted: an error,
    // never a guess that could widen or narrow what the token may do.
    fn try_from(r: Record) -> Result<Self, sqlx::Error> {
        let role = Role::parse(&r.role).ok_or_else(|| {
            super::decode_error(format!("token {} has an unknown role `{}`", r.id, r.role))
        })?;
        let kind = match r.kind.as_str() {
            "api" => TokenKind::Api,
            "trusted_publishing" => TokenKind::TrustedPublishing,
            other => {
                return Err(super::decode_error(format!(
                    "token {} has an unknown kind `{other}`",
                    r.id
                )));
            }
        };
        Ok(TokenRow {
            id: r.id,
            name: r.name,
            role,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
            namespaces: r.namespaces,
            server_name: r.server_name,
            kind,
            created_by: r.created_by,
        })
    }
}

/// A new random token: the prefix and 32 random bytes, base64url.
pub fn generate() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    SecretString::from(format!("{TOKEN_PREFIX}{encoded}"))
}

/// The stored form of a token.
pub fn hash(token: &SecretString) -> Vec<u8> {
    Sha256::digest(token.expose_secret().as_bytes()).to_vec()
}

/// A token to store.
pub struct NewToken<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its role.
    pub role: Role,
    /// For publishers: the namespaces.
    pub namespaces: &'a [String],
    /// When set, the only server it may publish.
    pub server_name: Option<&'a str>,
    /// How it is made.
    pub kind: TokenKind,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// Who makes it.
    pub created_by: &'a str,
}

/// Stores a new token; `None` when a live token already has that name.
pub async fn insert(
    db: impl PgExecutor<'_>,
    new: &NewToken<'_>,
    token: &SecretString,
) -> Result<Option<TokenRow>, sqlx::Error> {
    let result = sqlx::query_as!(
        Record,
        "insert into api_tokens (name, role, token_sha256, expires_at, namespaces, server_name, kind, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         returning id, name, role, created_at, expires_at, revoked_at, last_used_at, namespaces, server_name, kind, created_by",
        new.name,
        new.role.as_str(),
        hash(token),
        new.expires_at,
        new.namespaces,
        new.server_name,
        new.kind.as_str(),
        new.created_by
    )
    .fetch_one(db)
    .await;
    match result {
        Ok(row) => row.try_into().map(Some),
        Err(e) if super::is_unique_violation(&e, "api_tokens_live_name") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The token with this secret, whatever its state (the caller decides what revoked or expired means).
pub async fn find(
    db: impl PgExecutor<'_>,
    token: &SecretString,
) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as!(
        Record,
        "select id, name, role, created_at, expires_at, revoked_at, last_used_at, namespaces, server_name, kind, created_by from api_tokens where token_sha256 = $1",
        hash(token)
    )
    .fetch_optional(db)
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// Notes a use, at most once a minute per token so that reads do not each cost a write.
pub async fn touch(db: impl PgExecutor<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update api_tokens set last_used_at = now()
         where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')",
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Every token made by an admin (not the short-lived trusted-publishing ones), newest first.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as!(
        Record,
        "select id, name, role, created_at, expires_at, revoked_at, last_used_at, namespaces, server_name, kind, created_by from api_tokens where kind = 'api' order by created_at desc, id desc"
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(TryInto::try_into)
    .collect()
}

/// Revokes the live token with this name; `false` when there is none.
pub async fn revoke(db: impl PgExecutor<'_>, name: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update api_tokens set revoked_at = now() where name = $1 and revoked_at is null",
        name
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}
