//! Signed-in credentials, one entry per registry URL, in the user's config directory
//! (`$MCPREG_CONFIG_DIR`, else `$XDG_CONFIG_HOME/mcpreg`, else `~/.config/mcpreg`), readable by the
//! user only (0600 in a 0700 directory). Access tokens are refreshed when they expire.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use oauth2::basic::BasicClient;
use oauth2::{ClientId, RefreshToken, TokenResponse, TokenUrl};
use serde::{Deserialize, Serialize};

/// What `mcpreg login` stored for one registry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// The access token (a JWT from the identity provider).
    pub access_token: String,
    /// The refresh token, when the provider gave one.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// When the access token expires.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// The identity provider.
    pub issuer: String,
    /// The CLI's OAuth client id there.
    pub client_id: String,
    /// Its token endpoint.
    pub token_endpoint: String,
    /// The resource indicator asked for, if any.
    #[serde(default)]
    pub resource: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Store {
    #[serde(default)]
    registries: BTreeMap<String, Session>,
}

/// The credentials file.
pub fn path() -> anyhow::Result<PathBuf> {
    let dir = std::env::var_os("MCPREG_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|p| p.join("mcpreg"))
        })
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config").join("mcpreg"))
        })
        .ok_or_else(|| {
            anyhow::anyhow!(
                "cannot find a config directory: set HOME, XDG_CONFIG_HOME or MCPREG_CONFIG_DIR"
            )
        })?;
    Ok(dir.join("credentials.json"))
}

fn key(registry: &str) -> String {
    registry.trim_end_matches('/').to_owned()
}

fn load() -> anyhow::Result<Store> {
    let path = path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is damaged ({e}); delete it and log in again",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Store::default()),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

fn save(store: &Store) -> anyhow::Result<()> {
    let path = path()?;
    let dir = path
        .parent()
        .ok_or_else(|| anyhow::anyhow!("bad credentials path"))?;
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    // Written whole to a private temporary file, then renamed over the old one.
    let tmp = dir.join(".credentials.json.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    file.write_all(&serde_json::to_vec_pretty(store)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

/// Stores a session for a registry.
pub fn store(registry: &str, session: Session) -> anyhow::Result<()> {
    let mut all = load()?;
    all.registries.insert(key(registry), session);
    save(&all)
}

/// Forgets a registry's session; whether there was one.
pub fn forget(registry: &str) -> anyhow::Result<bool> {
    let mut all = load()?;
    let had = all.registries.remove(&key(registry)).is_some();
    if had {
        save(&all)?;
    }
    Ok(had)
}

/// A usable access token for a registry: the stored one, refreshed first if it has expired.
pub async fn access_token(
    registry: &str,
    http: &reqwest::Client,
) -> anyhow::Result<Option<String>> {
    let all = load()?;
    let Some(session) = all.registries.get(&key(registry)).cloned() else {
        return Ok(None);
    };
    let fresh = session
        .expires_at
        .is_none_or(|t| t > Utc::now() + chrono::Duration::seconds(30));
    if fresh {
        return Ok(Some(session.access_token));
    }
    let Some(refresh) = session.refresh_token.clone() else {
        anyhow::bail!("your sign-in to {registry} has expired: run `mcpreg login`");
    };
    let client = BasicClient::new(ClientId::new(session.client_id.clone()))
        .set_token_uri(TokenUrl::new(session.token_endpoint.clone())?);
    let http = http.clone();
    let send =
        move |request: oauth2::HttpRequest| crate::commands::auth::send(http.clone(), request);
    let refresh = RefreshToken::new(refresh);
    let mut exchange = client.exchange_refresh_token(&refresh);
    if let Some(r) = &session.resource {
        exchange = exchange.add_extra_param("resource", r.clone());
    }
    let token = exchange.request_async(&send).await.map_err(|e| {
        anyhow::anyhow!(
            "your sign-in to {registry} could not be refreshed ({e}): run `mcpreg login`"
        )
    })?;
    let renewed = Session {
        access_token: token.access_token().secret().clone(),
        refresh_token: token
            .refresh_token()
            .map(|r| r.secret().clone())
            .or(session.refresh_token.clone()),
        expires_at: token
            .expires_in()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| Utc::now() + d),
        ..session
    };
    let access = renewed.access_token.clone();
    store(registry, renewed)?;
    Ok(Some(access))
}
