//! `mcpreg allowlist pull|show NAME`: signed allowlist documents, verified and kept locally;
//! `mcpreg allowlist create|list`: their administration.
//!
//! `pull` fetches `GET /api/v1/allowlists/{NAME}` (with `If-None-Match` when a copy is stored),
//! verifies its Ed25519 signature with the keys pinned for the registry, refuses a lower version
//! than the last one seen (rollback), an expired document (freeze) and a document for another
//! allowlist or registry, and stores it under the config directory:
//!
//! ```text
//! <config dir>/allowlists/<hash of the registry URL>/keys.json     the pinned keys
//! <config dir>/allowlists/<hash of the registry URL>/<NAME>.json   the document, ETag, last version seen
//! ```
//!
//! Keys: `--key FILE` pins a configured key (PEM `PUBLIC KEY` or the base64 of the raw Ed25519
//! key). Without one, the first pull pins the keyset the registry publishes at
//! `/.well-known/mcpreg-keys.json` (trust on first use, said on stderr); later keysets are accepted
//! only when signed by a pinned key (rotation). Exit code 7 when the document cannot be trusted.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use mcpreg_api::allowlist::{
    Access, AllowedSigner, AllowlistDocument, ED25519, KEYSET_PATH, NewAllowlist, PublishedKey,
};
use mcpreg_client::{Client, Fetched};
use mcpreg_trust::{
    AllowlistError, AllowlistPublicKey, Sha256Digest, check_fresh, check_subject, keyset_keys,
    verify_allowlist_json, verify_keyset_first_use_json, verify_keyset_json,
};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Rejected;
use crate::exit;
use crate::output::{self, Output};

/// `allowlist` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AllowlistCommand {
    /// Fetch an allowlist, verify its signature, refuse rollback and expiry, and keep it locally.
    Pull {
        /// The allowlist's name.
        name: String,
        /// A public key the allowlist must be signed by (PEM `PUBLIC KEY` or base64 of the raw
        /// Ed25519 key), pinned for this registry instead of trusting its keyset on first use.
        #[arg(long = "key", value_name = "FILE")]
        keys: Vec<PathBuf>,
    },
    /// Show the stored allowlist, verified again (signature and expiry).
    Show {
        /// The allowlist's name.
        name: String,
    },
    /// Create an allowlist: a named audience that policy rules name as `allowlist: NAME` (admin).
    Create {
        /// Its name: lower-case letters, digits and `-`.
        name: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
        /// Who may read it: anonymous, token (any caller that may read the catalog) or network.
        #[arg(long, default_value = "token")]
        access: String,
        /// For `--access network`: a client network in CIDR form; repeatable.
        #[arg(long = "network", value_name = "CIDR")]
        networks: Vec<String>,
    },
    /// List the registry's allowlists, with the URL to point each audience's MCP clients at.
    List,
}

/// Runs `allowlist`.
pub async fn run(client: &Client, out: Output, command: AllowlistCommand) -> anyhow::Result<u8> {
    let result = match command {
        AllowlistCommand::Pull { name, keys } => pull(client, out, &name, &keys).await,
        AllowlistCommand::Show { name } => show(client, out, &name),
        AllowlistCommand::Create {
            name,
            description,
            access,
            networks,
        } => create(client, out, name, description, &access, networks).await,
        AllowlistCommand::List => list(client, out).await,
    };
    result.or_else(denied)
}

async fn create(
    client: &Client,
    out: Output,
    name: String,
    description: String,
    access: &str,
    networks: Vec<String>,
) -> anyhow::Result<u8> {
    let access = Access::parse(access).ok_or_else(|| {
        Rejected(format!(
            "--access {access}: use anonymous, token or network"
        ))
    })?;
    let body = NewAllowlist {
        name,
        description,
        access: Some(access),
        networks,
    };
    let created = client.create_allowlist(&body).await?;
    match out {
        Output::Json => output::json(&created)?,
        Output::Table => println!(
            "created allowlist {} ({}); point its MCP clients at {}",
            created.name,
            created.access.as_str(),
            created.registry_url
        ),
    }
    Ok(exit::OK)
}

async fn list(client: &Client, out: Output) -> anyhow::Result<u8> {
    let list = client.allowlists().await?;
    match out {
        Output::Json => output::json(&list)?,
        Output::Table => output::table(
            &[
                "allowlist",
                "access",
                "registry URL for MCP clients",
                "description",
            ],
            list.allowlists
                .into_iter()
                .map(|a| {
                    vec![
                        a.name,
                        a.access.as_str().to_owned(),
                        a.registry_url,
                        a.description,
                    ]
                })
                .collect(),
        ),
    }
    Ok(exit::OK)
}

/// An allowlist that cannot be trusted, or is not there to be trusted: exit code 7.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Untrusted(pub String);

/// Turns an error that means "cannot be trusted" ([`AllowlistError`], [`Untrusted`]) into exit
/// code 7, said on stderr; passes any other error on.
pub fn denied(e: anyhow::Error) -> anyhow::Result<u8> {
    if let Some(a) = e.downcast_ref::<AllowlistError>() {
        eprintln!("mcpreg: {e:#} [{}]", a.code());
        return Ok(exit::DENIED);
    }
    if e.downcast_ref::<Untrusted>().is_some() {
        eprintln!("mcpreg: {e:#}");
        return Ok(exit::DENIED);
    }
    Err(e)
}

/// Checks an allowlist name before it becomes a file name and a URL segment.
pub fn check_name(name: &str) -> Result<(), Rejected> {
    let ok = (1..=100).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Rejected(format!(
            "`{}` is not an allowlist name: use 1 to 100 letters, digits, `.`, `_` or `-`, starting with a letter or digit",
            name.escape_default()
        )))
    }
}

/// Where a registry's keys and allowlists are kept.
struct Store {
    dir: PathBuf,
}

/// How the pinned keys were first trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum PinSource {
    /// Given with `--key`.
    Configured,
    /// The registry's keyset, trusted on first use.
    FirstUse,
}

/// `keys.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PinnedKeys {
    registry: String,
    source: PinSource,
    /// The version of the keyset the keys come from (none for configured keys).
    #[serde(default)]
    keyset_version: Option<u64>,
    keys: Vec<PublishedKey>,
    pinned_at: DateTime<Utc>,
}

impl PinnedKeys {
    fn keys(&self) -> anyhow::Result<Vec<AllowlistPublicKey>> {
        // Keys of other algorithms cannot verify anything this version accepts.
        self.keys
            .iter()
            .filter(|k| k.algorithm == ED25519)
            .map(|k| AllowlistPublicKey::from_published(k).map_err(anyhow::Error::from))
            .collect()
    }
}

/// `<NAME>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAllowlist {
    registry: String,
    allowlist: String,
    #[serde(default)]
    etag: Option<String>,
    /// The highest version seen: a lower one is a rollback.
    last_seen_version: u64,
    fetched_at: DateTime<Utc>,
    /// The signed envelope, as received.
    document: Value,
}

impl Store {
    fn for_registry(registry: &str) -> anyhow::Result<Self> {
        let credentials = crate::credentials::path()?;
        let config = credentials
            .parent()
            .ok_or_else(|| anyhow::anyhow!("bad config directory"))?;
        let hash = Sha256Digest::of_bytes(registry.as_bytes()).to_hex();
        Ok(Self {
            dir: config.join("allowlists").join(&hash[..32]),
        })
    }

    fn keys_path(&self) -> PathBuf {
        self.dir.join("keys.json")
    }

    fn allowlist_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn read<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Option<T>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                anyhow::anyhow!(
                    "{} is damaged ({e}); delete it and run `mcpreg allowlist pull` again",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
        }
    }

    fn load_keys(&self) -> anyhow::Result<Option<PinnedKeys>> {
        Self::read(&self.keys_path())
    }

    fn load_allowlist(&self, name: &str) -> anyhow::Result<Option<StoredAllowlist>> {
        Self::read(&self.allowlist_path(name))
    }

    /// Writes a file whole (a private temporary file renamed over the old one), 0600 in 0700
    /// directories.
    fn write(&self, path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
        let mut dir = self.dir.as_path();
        let mut missing = Vec::new();
        while !dir.exists() {
            missing.push(dir.to_owned());
            dir = dir
                .parent()
                .ok_or_else(|| anyhow::anyhow!("bad config directory"))?;
        }
        for d in missing.iter().rev() {
            std::fs::create_dir(d).with_context(|| format!("cannot create {}", d.display()))?;
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700))?;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| anyhow::anyhow!("bad file name {}", path.display()))?;
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let _ = std::fs::remove_file(&tmp);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        file.write_all(&serde_json::to_vec_pretty(value)?)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }
}

/// Reads `--key` files.
pub fn read_keys(files: &[PathBuf]) -> anyhow::Result<Vec<AllowlistPublicKey>> {
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("cannot read key file {}", f.display()))?;
            AllowlistPublicKey::parse(&text)
                .map_err(|e| Rejected(format!("{}: {e}", f.display())).into())
        })
        .collect()
}

/// A stored allowlist, verified again: the signature with the pinned keys, the name and registry,
/// and the expiry.
pub fn load_verified(registry: &str, name: &str) -> anyhow::Result<AllowlistDocument> {
    check_name(name)?;
    let store = Store::for_registry(registry)?;
    let pull = format!("run `mcpreg allowlist pull {name}`");
    let stored = store.load_allowlist(name)?.ok_or_else(|| {
        Untrusted(format!(
            "no allowlist `{name}` is stored for {registry}: {pull}"
        ))
    })?;
    let pins = store.load_keys()?.ok_or_else(|| {
        Untrusted(format!(
            "no signing keys are pinned for {registry}, so the stored allowlist cannot be verified: {pull}"
        ))
    })?;
    let doc = verify_allowlist_json(&serde_json::to_vec(&stored.document)?, &pins.keys()?)
        .with_context(|| {
            format!(
                "the stored allowlist {}",
                store.allowlist_path(name).display()
            )
        })?;
    check_subject(&doc, name, Some(registry))?;
    check_fresh(&doc, Some(stored.last_seen_version), Utc::now())?;
    Ok(doc)
}

/// The names of the allowlists stored for a registry.
pub fn stored_names(registry: &str) -> anyhow::Result<Vec<String>> {
    let store = Store::for_registry(registry)?;
    let entries = match std::fs::read_dir(&store.dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(anyhow::anyhow!("cannot read {}: {e}", store.dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let file = entry?.file_name();
        let Some(stem) = file.to_str().and_then(|f| f.strip_suffix(".json")) else {
            continue;
        };
        if stem != "keys" && check_name(stem).is_ok() {
            names.push(stem.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// The registry's keyset, or `None` when it publishes none (404).
async fn fetch_keyset(client: &Client) -> anyhow::Result<Option<Vec<u8>>> {
    match client.signing_keys().await {
        Ok(Fetched::Body { body, .. }) => Ok(Some(body)),
        Ok(Fetched::NotModified) => Ok(None),
        Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn ids(keys: &[PublishedKey]) -> String {
    keys.iter()
        .map(|k| format!("{} ({:?})", k.key_id, k.status).to_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The keys to verify with: `--key`, else the pinned ones (updated from a keyset they signed), else
/// the registry's keyset on first use.
async fn trusted_keys(
    client: &Client,
    registry: &str,
    pinned: Option<PinnedKeys>,
    key_files: &[PathBuf],
) -> anyhow::Result<PinnedKeys> {
    let now = Utc::now();
    if !key_files.is_empty() {
        let keys = read_keys(key_files)?;
        return Ok(PinnedKeys {
            registry: registry.to_owned(),
            source: PinSource::Configured,
            keyset_version: None,
            keys: keys.iter().map(AllowlistPublicKey::to_published).collect(),
            pinned_at: now,
        });
    }
    let keyset = fetch_keyset(client).await?;
    match (pinned, keyset) {
        (Some(p), None) => Ok(p),
        (Some(p), Some(bytes)) => {
            match verify_keyset_json(&bytes, &p.keys()?, p.keyset_version) {
                Ok(ks) => {
                    if ks.keys != p.keys || Some(ks.version) != p.keyset_version {
                        eprintln!(
                            "mcpreg: learned keyset version {} of {registry}, signed by a pinned key: {}",
                            ks.version,
                            ids(&ks.keys)
                        );
                    }
                    Ok(PinnedKeys {
                        keyset_version: Some(ks.version),
                        keys: ks.keys,
                        pinned_at: now,
                        ..p
                    })
                }
                Err(e @ AllowlistError::KeysetRollback { .. }) => {
                    eprintln!("mcpreg: warning: {e}");
                    Ok(p)
                }
                Err(e) => Err(anyhow::Error::from(e).context(format!(
                    "the keyset at {}{KEYSET_PATH} cannot replace the keys pinned for {registry}",
                    registry
                ))),
            }
        }
        (None, Some(bytes)) => {
            let ks = verify_keyset_first_use_json(&bytes)?;
            keyset_keys(&ks)?;
            eprintln!(
                "mcpreg: trusting {registry}'s allowlist signing keys on first use (TOFU): {}. Compare them with what the registry's operators publish, or pin a key with --key FILE",
                ids(&ks.keys)
            );
            Ok(PinnedKeys {
                registry: registry.to_owned(),
                source: PinSource::FirstUse,
                keyset_version: Some(ks.version),
                keys: ks.keys,
                pinned_at: now,
            })
        }
        (None, None) => Err(Untrusted(format!(
            "{registry} publishes no signing keys at {KEYSET_PATH} and none are pinned: give the registry's public key with --key FILE"
        ))
        .into()),
    }
}

async fn pull(
    client: &Client,
    out: Output,
    name: &str,
    key_files: &[PathBuf],
) -> anyhow::Result<u8> {
    check_name(name)?;
    let registry = client.registry_key().to_owned();
    let store = Store::for_registry(&registry)?;
    let stored = store.load_allowlist(name)?;
    let pins = trusted_keys(client, &registry, store.load_keys()?, key_files).await?;
    let trusted = pins.keys()?;
    let last_seen = stored.as_ref().map(|s| s.last_seen_version);
    let now = Utc::now();
    let verify = |body: &[u8]| -> anyhow::Result<AllowlistDocument> {
        let doc = verify_allowlist_json(body, &trusted)?;
        check_subject(&doc, name, Some(&registry))?;
        check_fresh(&doc, last_seen, now)?;
        Ok(doc)
    };
    let etag = stored.as_ref().and_then(|s| s.etag.as_deref());
    let (doc, body, etag) = match client.allowlist_document(name, etag).await? {
        Fetched::Body { body, etag } => (verify(&body)?, body, etag),
        Fetched::NotModified => {
            let Some(stored) = &stored else {
                anyhow::bail!(
                    "the registry answered 304 Not Modified to {}, but nothing is stored to keep",
                    client.allowlist_document_url(name)
                );
            };
            let body = serde_json::to_vec(&stored.document)?;
            match verify(&body) {
                Ok(doc) => {
                    eprintln!("mcpreg: allowlist `{name}` is unchanged (304 Not Modified)");
                    (doc, body, stored.etag.clone())
                }
                // The stored copy expired and the registry says it has nothing newer for that
                // ETag: ask once more for whatever it has now.
                Err(e) if matches!(e.downcast_ref(), Some(AllowlistError::Expired { .. })) => {
                    match client.allowlist_document(name, None).await? {
                        Fetched::Body { body, etag } => (verify(&body)?, body, etag),
                        Fetched::NotModified => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    };
    store.write(&store.keys_path(), &pins)?;
    store.write(
        &store.allowlist_path(name),
        &StoredAllowlist {
            registry: registry.clone(),
            allowlist: name.to_owned(),
            etag,
            last_seen_version: last_seen.unwrap_or(0).max(doc.version),
            fetched_at: now,
            document: serde_json::from_slice(&body)?,
        },
    )?;
    eprintln!(
        "mcpreg: allowlist `{name}` version {} verified ({} entries, expires {}), stored in {}",
        doc.version,
        doc.entries.len(),
        doc.expires_at.to_rfc3339(),
        store.allowlist_path(name).display()
    );
    print_document(out, &doc)?;
    Ok(exit::OK)
}

fn show(client: &Client, out: Output, name: &str) -> anyhow::Result<u8> {
    let doc = load_verified(client.registry_key(), name)?;
    print_document(out, &doc)?;
    Ok(exit::OK)
}

/// Prints a verified document: its entries as a table, or the whole document as JSON.
pub fn print_document(out: Output, doc: &AllowlistDocument) -> anyhow::Result<()> {
    if out == Output::Json {
        return output::json(doc);
    }
    println!(
        "allowlist {} of {}: version {}, issued {}, expires {}",
        doc.allowlist,
        doc.registry,
        doc.version,
        doc.issued_at.to_rfc3339(),
        doc.expires_at.to_rfc3339()
    );
    let rows = doc
        .entries
        .iter()
        .map(|e| {
            let join = |items: Vec<String>| {
                if items.is_empty() {
                    "-".to_owned()
                } else {
                    items.join("\n")
                }
            };
            vec![
                e.name.to_string(),
                e.version.to_string(),
                e.status.as_str().to_owned(),
                join(
                    e.transports
                        .iter()
                        .map(|t| format!("{t:?}").to_lowercase())
                        .collect(),
                ),
                join(
                    e.packages
                        .iter()
                        .map(|p| {
                            let digest = p
                                .digest
                                .as_deref()
                                .map(|d| format!(" {}…", &d[..d.len().min(19)]))
                                .unwrap_or_default();
                            format!("{} {}@{}{digest}", p.registry_type, p.identifier, p.version)
                        })
                        .collect(),
                ),
                join(e.remotes.iter().map(|r| r.url.clone()).collect()),
                join(
                    e.signers
                        .iter()
                        .map(|s| match s {
                            AllowedSigner::Identity { identity, .. } => identity.clone(),
                            AllowedSigner::Key { key_id } => format!("key {key_id}"),
                        })
                        .collect(),
                ),
                e.tools_pin.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    output::table(
        &[
            "server",
            "version",
            "status",
            "transports",
            "packages",
            "remotes",
            "signers",
            "tools pin",
        ],
        rows,
    );
    Ok(())
}
