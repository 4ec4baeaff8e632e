//! Supply-chain trust of versions: the digests a version pins (its server.json's and each
//! package's), and signatures over them — verified on arrival against the trust root and the
//! namespace's trusted signers, then stored with the identity they proved.
//!
//! Verification happens before any transaction starts and fails closed: no trusted signer, an
//! unknown subject or an unpinned package refuses the signature, and one refused signature
//! refuses the whole request, so nothing is ever half-stored.

use mcpreg_api::problem::ProblemCode;
use std::collections::HashSet;

use chrono::Utc;
use mcpreg_api::ServerName;
use mcpreg_api::problem::FieldIssue;
use mcpreg_api::trust::{
    NewSignature, PackageDigest, SignatureInfo, SignatureTarget, SignerKind, TrustedSigner,
    TrustedSignerKind, VersionTrust,
};
use mcpreg_trust::{
    PublicKey, Sha256Digest, SignatureKind, SignedSubject, Signer, SignerIdentity, SignerPolicy,
    Subjects, TrustRoot, VerifiedSignature, server_json_digest, verify_bundle,
};
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::db::signatures::{self as db, NewSignatureRow, PackageRow, SignatureRow};
use crate::db::{self as dbmod, audit, trusted_signers};
use crate::error::{ApiError, ApiResult};

/// What verifying and storing signatures reads: the database and the Sigstore trust root (both
/// cheap to clone). Built from the application state by `AppState::trust`.
#[derive(Clone)]
pub struct Trust {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The Sigstore instance signatures must chain to.
    pub trust_root: TrustRoot,
}

/// Where FieldIssues about signatures say they came from.
const SOURCE: &str = "signature";

/// The subjects of a (validated) server.json (`mcpreg_trust::Subjects`); package digests that do
/// not parse are a 422 naming each field.
pub fn subjects_of(document: &Value) -> ApiResult<Subjects> {
    Subjects::of(document).map_err(|errors| {
        ApiError::unprocessable(
            ProblemCode::InvalidServerJson,
            "server.json is invalid: a package digest is malformed",
            errors
                .iter()
                .map(|e| FieldIssue::new(e.location(), e.error.error.to_string(), "semantic"))
                .collect(),
        )
    })
}

/// The rows to record for a version's packages.
pub fn package_rows(subjects: &Subjects) -> Vec<PackageRow> {
    subjects
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| PackageRow {
            package_index: i32::try_from(i).unwrap_or(i32::MAX),
            registry_type: p.registry_type.clone(),
            identifier: p.identifier.clone(),
            digest: p.digest.map(|d| d.to_string()),
        })
        .collect()
}

/// The digest a signature for `target` must be over, or why there is none: a stable code
/// and a message.
fn digest_for(
    subjects: &Subjects,
    target: SignatureTarget,
) -> Result<Sha256Digest, (ProblemCode, String)> {
    match target {
        SignatureTarget::ServerJson => Ok(subjects.server_json),
        SignatureTarget::Package(i) => {
            let Some(package) = subjects.packages.get(i as usize) else {
                return Err((
                    ProblemCode::UnknownSubject,
                    format!(
                        "subject check failed: the signature is for package:{i}, but the server.json has {} package{}",
                        subjects.packages.len(),
                        if subjects.packages.len() == 1 {
                            ""
                        } else {
                            "s"
                        }
                    ),
                ));
            };
            package.digest.ok_or_else(|| {
                (
                    ProblemCode::UnpinnedPackage,
                    format!(
                        "subject check failed: package:{i} ({} {}) pins no digest (`fileSha256`, or `@sha256:` for OCI), so no signature can be bound to its artifact",
                        package.registry_type, package.identifier
                    ),
                )
            })
        }
    }
}

/// A signature that verified, ready to store.
#[derive(Debug, Clone)]
pub struct Verified {
    /// What it signs.
    pub target: SignatureTarget,
    /// The document as sent, JSON text.
    pub bundle: String,
    /// SHA-256 (hex) of `bundle`.
    pub bundle_sha256: String,
    /// What verification established.
    pub result: VerifiedSignature,
    /// The trusted key that verified a key-based signature, PEM.
    pub public_key_pem: Option<String>,
}

/// The signer policy of a server: its own trusted signers and its namespace's.
pub async fn policy_for(state: &Trust, name: &ServerName) -> ApiResult<SignerPolicy> {
    let signers =
        trusted_signers::for_server(&state.pool, name.namespace().as_str(), name.as_str()).await?;
    let mut policy = SignerPolicy::new();
    for s in signers {
        policy = add_to_policy(policy, &s).map_err(|e| {
            anyhow::anyhow!(
                "stored trusted signer {} of {} is unusable: {e}",
                s.id,
                s.namespace
            )
        })?;
    }
    Ok(policy)
}

fn add_to_policy(
    policy: SignerPolicy,
    s: &TrustedSigner,
) -> Result<SignerPolicy, mcpreg_trust::SignerPolicyError> {
    Ok(match s.kind {
        TrustedSignerKind::Key => policy.with_key(PublicKey::from_pem(
            s.public_key.as_deref().unwrap_or_default(),
        )?),
        TrustedSignerKind::Identity => {
            let issuer = s.issuer.clone().unwrap_or_default();
            let identity = match (&s.identity, &s.identity_pattern) {
                (_, Some(pattern)) => SignerIdentity::pattern(pattern, issuer)?,
                (identity, None) => {
                    SignerIdentity::exact(identity.clone().unwrap_or_default(), issuer)?
                }
            };
            policy.with_identity(identity)
        }
    })
}

/// Verifies every signature against the trust root and the server's trusted signers, on the
/// blocking pool (the cryptography takes milliseconds). Any failure refuses them all: a 422 whose
/// `code` is the first failed check's (`identity_mismatch`, `artifact_digest_mismatch`, …) and
/// whose `errors` name each refused signature by `location(index)`.
pub async fn verify_all(
    state: &Trust,
    name: &ServerName,
    subjects: &Subjects,
    signatures: Vec<NewSignature>,
    location: fn(usize) -> String,
) -> ApiResult<Vec<Verified>> {
    if signatures.is_empty() {
        return Ok(Vec::new());
    }
    let policy = policy_for(state, name).await?;
    let root = state.trust_root.clone();
    let subjects = subjects.clone();
    let name = name.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        verify_blocking(&root, &policy, &name, &subjects, signatures, location)
    })
    .await
    .map_err(|e| anyhow::anyhow!("signature verification task failed: {e}"))?;
    let (verified, failures) = outcome;
    let Some((code, first)) = failures.first().map(|(c, i)| (*c, i.message.clone())) else {
        return Ok(verified);
    };
    let detail = if failures.len() == 1 {
        format!("signature refused: {first}")
    } else {
        format!("{} signatures refused; the first: {first}", failures.len())
    };
    Err(ApiError::unprocessable(
        code,
        detail,
        failures.into_iter().map(|(_, issue)| issue).collect(),
    ))
}

type Failure = (ProblemCode, FieldIssue);

fn verify_blocking(
    root: &TrustRoot,
    policy: &SignerPolicy,
    name: &ServerName,
    subjects: &Subjects,
    signatures: Vec<NewSignature>,
    location: fn(usize) -> String,
) -> (Vec<Verified>, Vec<Failure>) {
    let now = Utc::now();
    let mut verified = Vec::new();
    let mut failures = Vec::new();
    let mut seen = HashSet::new();
    for (i, signature) in signatures.into_iter().enumerate() {
        let mut fail = |code: ProblemCode, message: String| {
            failures.push((code, FieldIssue::new(location(i), message, SOURCE)));
        };
        let digest = match digest_for(subjects, signature.target) {
            Ok(d) => d,
            Err((code, message)) => {
                fail(code, message);
                continue;
            }
        };
        if policy.identities().is_empty() && policy.keys().is_empty() {
            fail(
                ProblemCode::NoTrustedSigners,
                format!(
                    "trusted signer check failed: neither namespace {} nor server {name} has a trusted signer, so no signature can be accepted; an admin adds one with `mcpreg trusted-signer add {}`",
                    name.namespace(),
                    name.namespace()
                ),
            );
            continue;
        }
        let bundle = signature.bundle.to_string();
        let bundle_sha256 = Sha256Digest::of_bytes(bundle.as_bytes()).to_hex();
        if !seen.insert(bundle_sha256.clone()) {
            fail(
                ProblemCode::DuplicateSignature,
                "the same signature document appears twice in this request".to_owned(),
            );
            continue;
        }
        match verify_bundle(
            bundle.as_bytes(),
            SignedSubject::Digest(digest),
            policy,
            root,
            now,
        ) {
            Ok(result) => {
                let public_key_pem = match &result.signer {
                    Signer::Key { key_id, .. } => policy
                        .keys()
                        .iter()
                        .find(|k| &k.key_id() == key_id)
                        .map(PublicKey::to_pem),
                    Signer::Certificate { .. } => None,
                };
                verified.push(Verified {
                    target: signature.target,
                    bundle,
                    bundle_sha256,
                    result,
                    public_key_pem,
                });
            }
            Err(e) => fail(e.code(), e.to_string()),
        }
    }
    (verified, failures)
}

/// Stores verified signatures of a version, in the caller's transaction.
pub async fn store(
    tx: &mut PgConnection,
    version_id: i64,
    actor: &str,
    signatures: &[Verified],
) -> ApiResult<Vec<SignatureRow>> {
    let mut rows = Vec::with_capacity(signatures.len());
    for s in signatures {
        let verified = serde_json::to_value(&s.result).map_err(anyhow::Error::from)?;
        let (identity, issuer, key_id) = match &s.result.signer {
            Signer::Certificate {
                identity, issuer, ..
            } => (Some(identity.as_str()), Some(issuer.as_str()), None),
            Signer::Key { key_id, .. } => (None, None, Some(key_id.as_str())),
        };
        let subject_digest = s.result.subject.to_string();
        let row = db::insert_signature(
            &mut *tx,
            &NewSignatureRow {
                version_id,
                package_index: match s.target {
                    SignatureTarget::ServerJson => None,
                    SignatureTarget::Package(i) => Some(i32::try_from(i).unwrap_or(i32::MAX)),
                },
                subject_digest: &subject_digest,
                media_type: &s.result.media_type,
                bundle: &s.bundle,
                bundle_sha256: &s.bundle_sha256,
                verified: &verified,
                signer_identity: identity,
                signer_issuer: issuer,
                key_id,
                public_key_pem: s.public_key_pem.as_deref(),
                signed_at: s.result.signed_at,
                created_by: actor,
            },
        )
        .await
        .map_err(|e| {
            if dbmod::is_unique_violation(&e, db::BUNDLE_KEY) {
                ApiError::conflict(
                    ProblemCode::SignatureExists,
                    "this signature document is already stored with this version; signatures are append-only",
                )
            } else {
                e.into()
            }
        })?;
        rows.push(row);
    }
    Ok(rows)
}

/// How a signature is described in the audit trail.
pub fn audit_details(s: &Verified) -> Value {
    let signer = match &s.result.signer {
        Signer::Certificate {
            identity, issuer, ..
        } => json!({"identity": identity, "issuer": issuer}),
        Signer::Key { key_id, algorithm } => json!({"keyId": key_id, "algorithm": algorithm}),
    };
    json!({
        "for": s.target.to_string(),
        "subjectDigest": s.result.subject.to_string(),
        "signer": signer,
        "signedAt": s.result.signed_at,
    })
}

/// A stored signature as the API shows it.
pub fn signature_info(row: SignatureRow) -> ApiResult<SignatureInfo> {
    let verified: VerifiedSignature = serde_json::from_value(row.verified)
        .map_err(|e| anyhow::anyhow!("stored signature {} does not read back: {e}", row.id))?;
    let bundle: Value = serde_json::from_str(&row.bundle)
        .map_err(|e| anyhow::anyhow!("stored bundle of signature {} is not JSON: {e}", row.id))?;
    let target = match row.package_index {
        None => SignatureTarget::ServerJson,
        Some(i) => SignatureTarget::Package(u32::try_from(i).unwrap_or_default()),
    };
    let mut info = SignatureInfo {
        id: row.id,
        target,
        subject_digest: row.subject_digest,
        signer_kind: SignerKind::Certificate,
        identity: None,
        issuer: None,
        ci: None,
        key_id: None,
        key_algorithm: None,
        public_key: row.public_key_pem,
        signed_at: verified.signed_at,
        log_entries: verified.log_entries,
        media_type: row.media_type,
        predicate_type: match &verified.kind {
            SignatureKind::Dsse { predicate_type, .. } => Some(predicate_type.clone()),
            SignatureKind::MessageSignature => None,
        },
        bundle,
        created_by: row.created_by,
        created_at: row.created_at,
    };
    match verified.signer {
        Signer::Certificate {
            identity,
            issuer,
            ci,
        } => {
            info.identity = Some(identity);
            info.issuer = Some(issuer);
            info.ci = ci.map(|c| *c);
        }
        Signer::Key { key_id, algorithm } => {
            info.signer_kind = SignerKind::Key;
            info.key_id = Some(key_id);
            info.key_algorithm = Some(algorithm.to_string());
        }
    }
    Ok(info)
}

/// What the registry recorded about a version's supply chain.
pub async fn version_trust(
    state: &Trust,
    name: &ServerName,
    version: &str,
) -> ApiResult<VersionTrust> {
    let v = dbmod::versions::resolve(&state.pool, name.as_str(), version)
        .await?
        .ok_or_else(|| ApiError::version_not_found(name, version))?;
    let server_json_digest = match v.server_json_digest {
        Some(d) => d,
        // Versions published before digests were recorded: the same digest, computed now.
        None => {
            let document: Value = serde_json::from_str(&v.document).map_err(|e| {
                anyhow::anyhow!(
                    "stored document of {}@{} is not JSON: {e}",
                    v.server_name,
                    v.version
                )
            })?;
            server_json_digest(&document).to_string()
        }
    };
    let packages: Vec<PackageDigest> = db::packages(&state.pool, v.id)
        .await?
        .into_iter()
        .map(|p| PackageDigest {
            index: u32::try_from(p.package_index).unwrap_or_default(),
            registry_type: p.registry_type,
            identifier: p.identifier,
            digest: p.digest,
        })
        .collect();
    let signatures = db::signatures(&state.pool, v.id)
        .await?
        .into_iter()
        .map(signature_info)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(VersionTrust {
        name: v.server_name,
        version: v.version,
        server_json_digest,
        pinned: packages.iter().all(|p| p.digest.is_some()),
        packages,
        signatures,
    })
}

/// Verifies a signature over an existing version and stores it (signatures are append-only; a
/// version may gain signatures after it was published).
pub async fn attach(
    state: &Trust,
    actor: &str,
    name: &ServerName,
    version: &str,
    signature: NewSignature,
) -> ApiResult<SignatureInfo> {
    ApiError::require_exact_version(version, "the signature is for")?;
    let v = dbmod::versions::resolve(&state.pool, name.as_str(), version)
        .await?
        .filter(|v| v.version == version)
        .ok_or_else(|| ApiError::version_not_found(name, version))?;
    let document: Value = serde_json::from_str(&v.document)
        .map_err(|e| anyhow::anyhow!("stored document of {name}@{version} is not JSON: {e}"))?;
    let subjects = subjects_of(&document)?;
    if let Some(recorded) = &v.server_json_digest
        && *recorded != subjects.server_json.to_string()
    {
        return Err(anyhow::anyhow!(
            "{name}@{version}: recorded server.json digest {recorded} differs from the document's {}",
            subjects.server_json
        )
        .into());
    }
    let verified = verify_all(state, name, &subjects, vec![signature], |_| {
        "bundle".to_owned()
    })
    .await?;
    let mut tx = state.pool.begin().await?;
    let rows = store(&mut tx, v.id, actor, &verified).await?;
    for s in &verified {
        audit::record(
            &mut tx,
            actor,
            "signature.attach",
            &format!("{name}@{version}"),
            audit_details(s),
        )
        .await?;
    }
    // Verified signers are a fact policies read.
    crate::db::changes::notify(&mut *tx, name.as_str()).await?;
    tx.commit().await?;
    let row = rows
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("a verified signature was not stored"))?;
    tracing::info!(server.name = %name, server.version = version, actor, "signature attached");
    signature_info(row)
}
