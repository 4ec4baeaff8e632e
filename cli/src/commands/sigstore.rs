//! `mcpreg sigstore verify-bundle …`: offline verification of one signature, following the
//! sigstore-conformance client protocol (`docs/cli_protocol.md` in sigstore/sigstore-conformance),
//! so that mcpreg's verifier can be run against the suite Sigstore's own clients are held to.
//!
//! Exit code 0: verified. Otherwise the failed check is printed on stderr and the exit code is 3
//! (rejected), or 1 when a file cannot be read, or 2 for wrong usage.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use mcpreg_trust::{
    PublicKey, Sha256Digest, SignerIdentity, SignerPolicy, Subject, TrustRoot, VerifiedSignature,
    verify_bundle,
};

use super::Rejected;
use crate::exit;
use crate::output::{self, Output};

/// `mcpreg sigstore` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SigstoreCommand {
    /// Verify a sigstore bundle (or an mcpreg key signature) over a file or a `sha256:` digest,
    /// offline.
    #[command(group(
        clap::ArgGroup::new("signer").required(true).args(["certificate_identity", "key"])
    ))]
    VerifyBundle(VerifyBundleArgs),
}

/// `mcpreg sigstore verify-bundle` arguments (the sigstore-conformance flags).
#[derive(Debug, clap::Args)]
pub struct VerifyBundleArgs {
    /// Use Sigstore's staging instance instead of production.
    #[arg(long, conflicts_with = "trusted_root")]
    staging: bool,
    /// The bundle to verify.
    #[arg(long, value_name = "FILE")]
    bundle: PathBuf,
    /// The identity the signing certificate must carry in its SAN (exact match).
    #[arg(long, value_name = "IDENTITY", requires = "certificate_oidc_issuer")]
    certificate_identity: Option<String>,
    /// The OIDC issuer the signing certificate must carry.
    #[arg(long, value_name = "URL", requires = "certificate_identity")]
    certificate_oidc_issuer: Option<String>,
    /// A PEM public key (ECDSA P-256 or Ed25519) for a key-based signature.
    #[arg(long, value_name = "FILE", conflicts_with = "certificate_identity")]
    key: Option<PathBuf>,
    /// A `trusted_root.json` (or sigstore client trust config) to verify against instead of the
    /// embedded production root.
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// The artifact, or its digest as `sha256:<64 hex>` (a digest only if no such file exists).
    #[arg(value_name = "FILE_OR_DIGEST")]
    artifact: String,
}

/// Runs a `sigstore` subcommand.
pub fn run(out: Output, command: SigstoreCommand) -> anyhow::Result<u8> {
    match command {
        SigstoreCommand::VerifyBundle(args) => verify(out, args),
    }
}

fn verify(out: Output, args: VerifyBundleArgs) -> anyhow::Result<u8> {
    let root = match (&args.trusted_root, args.staging) {
        (Some(path), _) => {
            let json = read(path)?;
            TrustRoot::from_json(&json).map_err(|e| Rejected(format!("{}: {e}", path.display())))?
        }
        (None, true) => TrustRoot::staging(),
        (None, false) => TrustRoot::production(),
    };
    let policy = match (
        &args.certificate_identity,
        &args.certificate_oidc_issuer,
        &args.key,
    ) {
        (Some(identity), Some(issuer), _) => SignerPolicy::new().with_identity(
            SignerIdentity::exact(identity, issuer).map_err(|e| Rejected(e.to_string()))?,
        ),
        (_, _, Some(key)) => {
            let pem = String::from_utf8(read(key)?)
                .map_err(|_| Rejected(format!("{}: not a PEM file", key.display())))?;
            let key = PublicKey::from_pem(&pem)
                .map_err(|e| Rejected(format!("{}: {e}", key.display())))?;
            SignerPolicy::new().with_key(key)
        }
        // clap's `signer` group and `requires` make this unreachable.
        _ => anyhow::bail!("give --certificate-identity and --certificate-oidc-issuer, or --key"),
    };
    let bundle = read(&args.bundle)?;
    let artifact_bytes;
    let subject = match digest_argument(&args.artifact) {
        Some(digest) => Subject::Digest(digest),
        None => {
            artifact_bytes = read(Path::new(&args.artifact))?;
            Subject::Bytes(&artifact_bytes)
        }
    };
    let verified = verify_bundle(&bundle, subject, &policy, &root, chrono::Utc::now())
        .map_err(|e| Rejected(format!("{}: {e}", args.bundle.display())))?;
    print(out, &verified)?;
    Ok(exit::OK)
}

/// The protocol's rule: a `sha256:` digest of the right length that is not a path on disk is a
/// digest; anything else is a file.
fn digest_argument(arg: &str) -> Option<Sha256Digest> {
    if !arg.starts_with("sha256:") || Path::new(arg).exists() {
        return None;
    }
    Sha256Digest::parse_prefixed(arg).ok()
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn print(out: Output, v: &VerifiedSignature) -> anyhow::Result<()> {
    match out {
        Output::Json => output::json(v)?,
        Output::Table => {
            let signer = match &v.signer {
                mcpreg_trust::Signer::Certificate {
                    identity, issuer, ..
                } => format!("{identity} ({issuer})"),
                mcpreg_trust::Signer::Key { key_id, algorithm } => {
                    format!("{algorithm} key {key_id}")
                }
            };
            output::table(
                &["SUBJECT", "SIGNER", "SIGNED AT", "LOG INDEX"],
                vec![vec![
                    v.subject.to_string(),
                    signer,
                    v.signed_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_else(|| "-".into()),
                    v.log_entries
                        .iter()
                        .map(|e| e.log_index.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                ]],
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_argument_follows_the_protocol() {
        let hex = "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";
        assert!(digest_argument(&format!("sha256:{hex}")).is_some());
        assert!(digest_argument(hex).is_none());
        assert!(digest_argument(&format!("sha256:{}", &hex[1..])).is_none());
        assert!(digest_argument("sha512:00").is_none());
        assert!(digest_argument("Cargo.toml").is_none());
    }
}
