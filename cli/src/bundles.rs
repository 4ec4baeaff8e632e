//! Signatures on the client: what a version's signatures can be over, the trust root to verify
//! them against, and checking a bundle locally — offline, before it is uploaded — so that a
//! publisher sees at once which identity a bundle proves and what it signs.

use std::path::Path;

use anyhow::Context as _;
use mcpreg_api::trust::{NewSignature, SignatureTarget};
pub use mcpreg_trust::Subjects;
use mcpreg_trust::{
    Sha256Digest, SignedSubject, Signer, TrustRoot, VerifiedSignature, VerifyError,
    verify_bundle_any_signer,
};
use serde_json::Value;

use crate::commands::Rejected;

/// The subjects of a server.json (`mcpreg_trust::Subjects`), or the first package digest that
/// does not parse.
pub fn subjects_of(document: &Value) -> Result<Subjects, Rejected> {
    Subjects::of(document).map_err(|errors| {
        let first = &errors[0];
        Rejected(format!("{}: {}", first.location(), first.error.error))
    })
}

/// What the CLI says about a document's subjects.
pub trait SubjectsExt {
    /// The digest a signature for `target` is over.
    fn digest_for(&self, target: SignatureTarget) -> Result<Sha256Digest, String>;
    /// Warns on stderr about packages that pin no digest.
    fn warn_unpinned(&self);
}

impl SubjectsExt for Subjects {
    fn digest_for(&self, target: SignatureTarget) -> Result<Sha256Digest, String> {
        match target {
            SignatureTarget::ServerJson => Ok(self.server_json),
            SignatureTarget::Package(i) => match self.packages.get(i as usize) {
                None => Err(format!(
                    "package:{i} does not exist: the server.json has {} package(s)",
                    self.packages.len()
                )),
                Some(p) => p.digest.ok_or_else(|| {
                    format!(
                        "package:{i} ({} {}) pins no digest (`fileSha256`, or `@sha256:` for OCI), so no signature can be bound to it",
                        p.registry_type, p.identifier
                    )
                }),
            },
        }
    }

    fn warn_unpinned(&self) {
        for (i, p) in self.packages.iter().enumerate() {
            if p.digest.is_none() {
                eprintln!(
                    "warning: package:{i} ({} {}) pins no digest: it will be catalogued as unpinned (add `fileSha256`, or an `@sha256:` reference for OCI)",
                    p.registry_type, p.identifier
                );
            }
        }
    }
}

/// The trust root: the file given, else the embedded Sigstore production root.
pub fn trust_root(path: Option<&Path>) -> anyhow::Result<TrustRoot> {
    match path {
        None => Ok(TrustRoot::production()),
        Some(path) => {
            let json =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            Ok(TrustRoot::from_json(&json)
                .map_err(|e| Rejected(format!("{}: {e}", path.display())))?)
        }
    }
}

/// Reads a bundle file, finds (or checks) what it signs among `subjects`, and verifies it offline
/// against `root` accepting any signer; prints what it proves on stderr. `raw_server_json` is the
/// digest of the server.json file's bytes, to explain a bundle over a file that was not in
/// canonical form.
pub fn check_bundle(
    path: &Path,
    target: Option<SignatureTarget>,
    subjects: &Subjects,
    root: &TrustRoot,
    raw_server_json: Option<Sha256Digest>,
) -> anyhow::Result<NewSignature> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bundle: Value = serde_json::from_str(&text)
        .map_err(|e| Rejected(format!("{}: not JSON: {e}", path.display())))?;
    if !bundle.is_object() {
        return Err(Rejected(format!(
            "{}: not a sigstore bundle or key signature (a JSON object)",
            path.display()
        ))
        .into());
    }
    let now = chrono::Utc::now();
    let verify = |digest: Sha256Digest| {
        verify_bundle_any_signer(text.as_bytes(), SignedSubject::Digest(digest), root, now)
    };
    let (target, outcome) = match target {
        Some(target) => {
            let digest = subjects
                .digest_for(target)
                .map_err(|e| Rejected(format!("{} (--for {target}): {e}", path.display())))?;
            (target, verify(digest))
        }
        None => {
            let mut found = None;
            for (target, digest) in subjects.candidates() {
                let outcome = verify(digest);
                if !signs_another_subject(&outcome) {
                    found = Some((target, outcome));
                    break;
                }
            }
            found.ok_or_else(|| {
                let list: Vec<String> = subjects
                    .candidates()
                    .iter()
                    .map(|(t, d)| format!("{t} {d}"))
                    .collect();
                Rejected(format!(
                    "{} signs none of this version's subjects ({}); name one with --for{}",
                    path.display(),
                    list.join(", "),
                    canonical_hint(&text, raw_server_json)
                ))
            })?
        }
    };
    match outcome {
        Ok(v) => eprintln!("{}: {target}: {}", path.display(), describe(&v)),
        // A key signature can be checked only with its key, which the registry holds; its
        // digest matched.
        Err(VerifyError::KeyMismatch { found_key, .. }) => eprintln!(
            "{}: {target}: key signature by key {found_key}; the registry checks it against the namespace's trusted keys",
            path.display()
        ),
        Err(e) => {
            let hint = if target == SignatureTarget::ServerJson
                && matches!(e, VerifyError::ArtifactDigestMismatch { .. })
            {
                canonical_hint(&text, raw_server_json)
            } else {
                String::new()
            };
            return Err(Rejected(format!("{} ({target}): {e}{hint}", path.display())).into());
        }
    }
    Ok(NewSignature { bundle, target })
}

/// Whether a verification failed only because the bundle is over another artifact.
fn signs_another_subject(outcome: &Result<VerifiedSignature, VerifyError>) -> bool {
    matches!(
        outcome,
        Err(VerifyError::ArtifactDigestMismatch { .. } | VerifyError::SubjectNotInStatement { .. })
    )
}

/// When a bundle signs the server.json file's bytes rather than its canonical form, says how to
/// sign the right thing.
fn canonical_hint(bundle: &str, raw: Option<Sha256Digest>) -> String {
    match raw {
        Some(raw) if bundle.contains(&raw.to_hex()) || bundle.contains(&b64(raw)) => format!(
            "\nhint: the bundle signs the server.json file's bytes ({raw}), not its RFC 8785 canonical form; sign the output of `mcpreg canonicalize server.json` and publish that file"
        ),
        _ => String::new(),
    }
}

fn b64(d: Sha256Digest) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(d.as_bytes())
}

/// One line on who signed, when, and where it was logged.
pub fn describe(v: &VerifiedSignature) -> String {
    let mut s = match &v.signer {
        Signer::Certificate {
            identity,
            issuer,
            ci,
        } => {
            let mut s = format!("signed by {identity} (issuer {issuer})");
            if let Some(ci) = ci {
                if let Some(repo) = &ci.repository {
                    s.push_str(&format!(", repository {repo}"));
                }
                if let Some(r) = &ci.git_ref {
                    s.push_str(&format!(" at {r}"));
                }
                if let Some(runner) = &ci.runner_environment {
                    s.push_str(&format!(", {runner} runner"));
                }
            }
            s
        }
        Signer::Key { key_id, algorithm } => format!("signed by {algorithm} key {key_id}"),
    };
    if let Some(t) = v.signed_at {
        s.push_str(&format!(", at {}", t.to_rfc3339()));
    }
    for e in &v.log_entries {
        s.push_str(&format!(", log index {}", e.log_index));
    }
    s
}
