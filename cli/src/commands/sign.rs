//! `mcpreg sign --key KEY FILE`: a key-based signature (`application/vnd.mcpreg.signature.v1+json`)
//! for sites without Sigstore. Keyless signatures come from standard tools (cosign,
//! sigstore-python in CI) instead.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use mcpreg_trust::{SigningKey, server_json_digest};

use super::Rejected;
use crate::exit;

/// `mcpreg sign` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The private key: an unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), ECDSA P-256 or
    /// Ed25519.
    #[arg(long, value_name = "KEY", env = "MCPREG_SIGNING_KEY")]
    key: PathBuf,
    /// The artifact to sign (an npm tarball, wheel, mcpb file…), or with `--server-json` a
    /// server.json.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// FILE is a server.json: sign the SHA-256 of its RFC 8785 canonical form, so that
    /// reformatting it does not break the signature.
    #[arg(long)]
    server_json: bool,
    /// Where to write the signature (`-` for standard output). Default: FILE.sig.json.
    #[arg(long, value_name = "OUT")]
    out: Option<PathBuf>,
}

/// Runs `sign`.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let pem = std::fs::read_to_string(&args.key)
        .with_context(|| format!("cannot read {}", args.key.display()))?;
    let key = SigningKey::from_pkcs8_pem(&pem)
        .map_err(|e| Rejected(format!("{}: {e}", args.key.display())))?;
    let digest = if args.server_json {
        let text = std::fs::read_to_string(&args.file)
            .with_context(|| format!("cannot read {}", args.file.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Rejected(format!("{} is not valid JSON: {e}", args.file.display())))?;
        server_json_digest(&value)
    } else {
        mcpreg_trust::file_digest(&args.file)
            .with_context(|| format!("cannot read {}", args.file.display()))?
    };
    let signature = key.sign_digest(&digest)?.to_json();
    let out = args.out.unwrap_or_else(|| sibling(&args.file, ".sig.json"));
    if out.as_os_str() == "-" {
        std::io::stdout().write_all(signature.as_bytes())?;
    } else {
        std::fs::write(&out, &signature)
            .with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!(
            "signed {} ({digest}) with {} key {}; signature in {}",
            args.file.display(),
            key.public_key().kind(),
            key.public_key().key_id(),
            out.display()
        );
    }
    Ok(exit::OK)
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
