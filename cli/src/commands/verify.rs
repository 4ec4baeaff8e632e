//! `mcpreg verify NAME@VERSION [--artifact FILE [--package N]]`: checks, offline and on this
//! machine, what the registry says about a version — every stored signature verified again
//! against the trust root, requiring the identity the registry recorded, over digests recomputed
//! from the server.json — and, with `--artifact`, that a downloaded file is the artifact that was
//! signed.
//!
//! Exit code 0 only when every check holds; 6 when any fails (each check is printed, with why).

use std::path::PathBuf;

use anyhow::Context as _;
use mcpreg_api::trust::{SignatureInfo, SignatureTarget, SignerKind, VersionTrust};
use mcpreg_client::Client;
use mcpreg_trust::{
    PublicKey, Sha256Digest, SignedSubject, SignerIdentity, SignerPolicy, verify_bundle,
};
use serde::Serialize;

use super::{Rejected, split_name_version};
use crate::bundles::{self, Subjects, SubjectsExt as _, describe};
use crate::exit;
use crate::output::{self, Output};

/// `mcpreg verify` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The version: `NAME@VERSION` (or `NAME` for the latest).
    name: String,
    /// A downloaded artifact (npm tarball, wheel, mcpb…) to check against its package's digest
    /// and its signatures.
    #[arg(long, value_name = "FILE")]
    artifact: Option<PathBuf>,
    /// Which package the artifact is (its index in `packages`); needed when there are several.
    #[arg(long, value_name = "N", requires = "artifact")]
    package: Option<u32>,
    /// A `trusted_root.json` to verify against (default: Sigstore's production root).
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
}

/// One check and its outcome.
#[derive(Debug, Serialize)]
struct Check {
    /// `ok`, `warn` or `fail`.
    result: &'static str,
    /// What was checked.
    check: String,
    /// What was found.
    detail: String,
}

#[derive(Debug, Serialize)]
struct Report {
    name: String,
    version: String,
    verified: bool,
    checks: Vec<Check>,
}

#[derive(Default)]
struct Checks(Vec<Check>);

impl Checks {
    fn add(&mut self, result: &'static str, check: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Check {
            result,
            check: check.into(),
            detail: detail.into(),
        });
    }
    fn ok(&mut self, check: impl Into<String>, detail: impl Into<String>) {
        self.add("ok", check, detail);
    }
    fn warn(&mut self, check: impl Into<String>, detail: impl Into<String>) {
        self.add("warn", check, detail);
    }
    fn fail(&mut self, check: impl Into<String>, detail: impl Into<String>) {
        self.add("fail", check, detail);
    }
}

/// Runs `verify`.
pub async fn run(client: &Client, out: Output, args: Args) -> anyhow::Result<u8> {
    let (name, version) = split_name_version(&args.name);
    let version = version.unwrap_or("latest");
    let root = bundles::trust_root(args.trusted_root.as_deref())?;
    let trust = client.version_trust(name, version).await?;
    let published = client.version(name, &trust.version, true).await?;
    let document = published.server_value();
    let subjects = bundles::subjects_of(&document)?;

    let artifact = match &args.artifact {
        None => None,
        Some(path) => {
            let index = match (args.package, subjects.packages.len()) {
                (Some(i), _) => i,
                (None, 1) => 0,
                (None, n) => {
                    return Err(Rejected(format!(
                        "{name}@{} has {n} packages: say which one {} is with --package",
                        trust.version,
                        path.display()
                    ))
                    .into());
                }
            };
            let digest = mcpreg_trust::file_digest(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some((index, path.clone(), digest))
        }
    };

    let mut checks = Checks::default();
    check_digests(&mut checks, &trust, &subjects);
    if let Some((index, path, digest)) = &artifact {
        let check = format!("artifact {}", path.display());
        match subjects.packages.get(*index as usize) {
            None => checks.fail(check, format!("there is no package:{index}")),
            Some(p) => match p.digest {
                None => checks.fail(
                    check,
                    format!("package:{index} pins no digest to compare {digest} with"),
                ),
                Some(pinned) if pinned == *digest => {
                    checks.ok(check, format!("{digest} is what package:{index} pins"))
                }
                Some(pinned) => checks.fail(
                    check,
                    format!("its digest is {digest}, but package:{index} pins {pinned}: the file is not the published artifact"),
                ),
            },
        }
    }
    if trust.signatures.is_empty() {
        checks.fail(
            "signatures",
            "the version carries no signature: nothing proves who made it",
        );
    }
    for s in &trust.signatures {
        // The subject comes from this machine's reading of the server.json — or of the artifact
        // itself — never from the registry's word.
        let subject = match (s.target, &artifact) {
            (SignatureTarget::Package(i), Some((index, _, digest))) if i == *index => Ok(*digest),
            (target, _) => subjects.digest_for(target),
        };
        check_signature(&mut checks, s, subject, &root);
    }

    let verified = checks.0.iter().all(|c| c.result != "fail");
    let failed = checks.0.iter().filter(|c| c.result == "fail").count();
    let report = Report {
        name: trust.name,
        version: trust.version,
        verified,
        checks: checks.0,
    };
    match out {
        Output::Json => output::json(&report)?,
        Output::Table => {
            for c in &report.checks {
                println!("{:<4}  {}: {}", c.result, c.check, c.detail);
            }
            println!(
                "{}@{}: {}",
                report.name,
                report.version,
                if verified { "verified" } else { "NOT verified" }
            );
        }
    }
    if verified {
        Ok(exit::OK)
    } else {
        eprintln!(
            "mcpreg: verification of {}@{} failed: {failed} check{} failed",
            report.name,
            report.version,
            if failed == 1 { "" } else { "s" }
        );
        Ok(exit::VERIFY_FAILED)
    }
}

/// The server.json digest and the package digests: recomputed here, compared with the registry's.
fn check_digests(checks: &mut Checks, trust: &VersionTrust, subjects: &Subjects) {
    let recorded = &trust.server_json_digest;
    if *recorded == subjects.server_json.to_string() {
        checks.ok(
            "server.json digest",
            format!("{recorded} (RFC 8785 canonical form, recomputed here)"),
        );
    } else {
        checks.fail(
            "server.json digest",
            format!(
                "the registry recorded {recorded}, but the document it serves digests to {}",
                subjects.server_json
            ),
        );
    }
    for (i, p) in subjects.packages.iter().enumerate() {
        let check = format!("package:{i} {} {}", p.registry_type, p.identifier);
        let recorded = trust
            .packages
            .iter()
            .find(|r| r.index as usize == i)
            .and_then(|r| r.digest.clone());
        match (p.digest, recorded) {
            (Some(d), Some(r)) if d.to_string() == r => checks.ok(check, format!("pins {d}")),
            (None, None) => checks.warn(check, "unpinned: no digest to check an artifact against"),
            (d, r) => checks.fail(
                check,
                format!(
                    "the server.json pins {}, the registry recorded {}",
                    d.map_or("nothing".into(), |d| d.to_string()),
                    r.unwrap_or_else(|| "nothing".into())
                ),
            ),
        }
    }
}

/// One stored signature, verified again offline, requiring the signer the registry recorded.
fn check_signature(
    checks: &mut Checks,
    s: &SignatureInfo,
    subject: Result<Sha256Digest, String>,
    root: &mcpreg_trust::TrustRoot,
) {
    let check = format!("signature {} over {}", s.id, s.target);
    let subject = match subject {
        Ok(d) => d,
        Err(e) => return checks.fail(check, e),
    };
    if s.subject_digest != subject.to_string() {
        checks.fail(
            &check,
            format!(
                "the registry verified it over {}, but {} here is {subject}",
                s.subject_digest, s.target
            ),
        );
    }
    let policy = match policy_of(s) {
        Ok(p) => p,
        Err(e) => return checks.fail(check, e),
    };
    let bundle = s.bundle.to_string();
    match verify_bundle(
        bundle.as_bytes(),
        SignedSubject::Digest(subject),
        &policy,
        root,
        chrono::Utc::now(),
    ) {
        Ok(v) => checks.ok(check, describe(&v)),
        Err(e) => checks.fail(check, format!("{e} [{}]", e.code())),
    }
}

/// The policy that admits exactly the signer the registry recorded.
fn policy_of(s: &SignatureInfo) -> Result<SignerPolicy, String> {
    match s.signer_kind {
        SignerKind::Certificate => {
            let (Some(identity), Some(issuer)) = (&s.identity, &s.issuer) else {
                return Err("the registry recorded no identity for this signature".into());
            };
            SignerIdentity::exact(identity.as_str(), issuer.as_str())
                .map(|i| SignerPolicy::new().with_identity(i))
                .map_err(|e| e.to_string())
        }
        SignerKind::Key => {
            let key = PublicKey::from_pem(s.public_key.as_deref().unwrap_or_default())
                .map_err(|e| format!("the registry's key for this signature: {e}"))?;
            if s.key_id.as_deref() != Some(key.key_id().as_str()) {
                return Err(format!(
                    "the registry recorded key {}, but sent key {}",
                    s.key_id.as_deref().unwrap_or("none"),
                    key.key_id()
                ));
            }
            Ok(SignerPolicy::new().with_key(key))
        }
    }
}
