//! `mcpreg canonicalize FILE`: a JSON document (a server.json) in RFC 8785 canonical form — the
//! bytes whose SHA-256 the registry records as the server.json digest, and so what a keyless
//! signature "over the server.json" must sign (`cosign sign-blob`, `python -m sigstore sign`).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use mcpreg_trust::{Sha256Digest, canonical_json};

use super::publish::read_json;
use crate::exit;

/// `mcpreg canonicalize` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The JSON file (`-` for standard input).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Where to write the canonical form (default: standard output).
    #[arg(long, value_name = "OUT")]
    out: Option<PathBuf>,
}

/// Runs `canonicalize`.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let value = read_json(&args.file)?;
    let bytes = canonical_json(&value);
    match &args.out {
        None => std::io::stdout().write_all(&bytes)?,
        Some(out) => {
            std::fs::write(out, &bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "wrote {} ({})",
                out.display(),
                Sha256Digest::of_bytes(&bytes)
            );
        }
    }
    Ok(exit::OK)
}
