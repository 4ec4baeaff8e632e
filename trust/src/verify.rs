//! Verifying a signature (a sigstore bundle, or an mcpreg key signature) over an artifact or a
//! server.json digest, against a trust root and a signer policy.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
pub use mcpreg_api::trust::{CiClaims, LogEntry};
use serde::{Deserialize, Serialize};
use sigstore_verify::types::bundle::VerificationMaterialContent;
use sigstore_verify::types::{
    Artifact, Bundle, DsseEnvelope, Sha256Hash, SignatureContent, Statement,
};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, VerificationResult};

use crate::error::{from_sigstore, to_chrono};
use crate::keysig::{KEY_SIGNATURE_MEDIA_TYPE, KeySignature};
use crate::policy::{KeyKind, SignerPolicy};
use crate::{Sha256Digest, TrustRoot, VerifyError};

/// The most RFC 3161 timestamps a bundle may carry; more is refused before any is checked, so a
/// bundle cannot make the verifier do unbounded work (sigstore-python uses the same limit).
pub const MAX_TIMESTAMPS: usize = 32;

/// What a signature must be over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// The artifact's bytes.
    Bytes(&'a [u8]),
    /// Only the artifact's digest: a package's `fileSha256`, an OCI manifest digest, or
    /// [`crate::server_json_digest`]. Enough for every signature except a pure-Ed25519 sigstore
    /// message signature, which needs the bytes.
    Digest(Sha256Digest),
}

impl Subject<'_> {
    /// The SHA-256 of the subject.
    pub fn digest(&self) -> Sha256Digest {
        match self {
            Self::Bytes(b) => Sha256Digest::of_bytes(b),
            Self::Digest(d) => *d,
        }
    }
}

/// Who made a verified signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Signer {
    /// A keyless signer: a Fulcio certificate, verified to chain to the trust root.
    Certificate {
        /// The certificate's Subject Alternative Name (email address, or a workflow URI for CI).
        identity: String,
        /// The OIDC issuer that vouched for the identity.
        issuer: String,
        /// The CI build claims Fulcio recorded in the certificate, when there are any.
        #[serde(serialize_with = "stored_ci_claims")]
        ci: Option<Box<CiClaims>>,
    },
    /// A trusted public key.
    Key {
        /// The key's ID (`sha256:` of its DER SubjectPublicKeyInfo).
        key_id: String,
        /// The key's algorithm.
        algorithm: KeyKind,
    },
}

/// Writes log entries as verified signatures have always been stored and printed: snake_case
/// keys. The API form is camelCase; [`LogEntry`] reads both.
fn stored_log_entries<S: serde::Serializer>(
    entries: &[LogEntry],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::{SerializeMap as _, SerializeSeq as _};
    struct Stored<'a>(&'a LogEntry);
    impl Serialize for Stored<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(3))?;
            map.serialize_entry("log_index", &self.0.log_index)?;
            map.serialize_entry("log_id", &self.0.log_id)?;
            map.serialize_entry("kind", &self.0.kind)?;
            map.end()
        }
    }
    let mut seq = serializer.serialize_seq(Some(entries.len()))?;
    for e in entries {
        seq.serialize_element(&Stored(e))?;
    }
    seq.end()
}

/// Writes CI claims as verified signatures have always been stored and printed (`mcpreg sigstore
/// verify --output json`): snake_case keys, every claim present, absent ones `null`. The API
/// form is camelCase without the absent ones; [`CiClaims`] reads both.
fn stored_ci_claims<S: serde::Serializer>(
    ci: &Option<Box<CiClaims>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap as _;
    let Some(c) = ci else {
        return serializer.serialize_none();
    };
    let mut map = serializer.serialize_map(Some(8))?;
    map.serialize_entry("repository", &c.repository)?;
    map.serialize_entry("git_ref", &c.git_ref)?;
    map.serialize_entry("source_sha", &c.source_sha)?;
    map.serialize_entry("workflow", &c.workflow)?;
    map.serialize_entry("build_signer", &c.build_signer)?;
    map.serialize_entry("trigger", &c.trigger)?;
    map.serialize_entry("runner_environment", &c.runner_environment)?;
    map.serialize_entry("run_invocation", &c.run_invocation)?;
    map.end()
}

/// What was signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SignatureKind {
    /// A signature directly over the artifact (sigstore `messageSignature`, or an mcpreg key
    /// signature over the artifact's digest).
    MessageSignature,
    /// A DSSE envelope carrying an in-toto statement, one of whose subjects is the artifact.
    Dsse {
        /// The statement's `predicateType` (`https://slsa.dev/provenance/v1`, …).
        predicate_type: String,
        /// The statement's subjects.
        subjects: Vec<StatementSubject>,
    },
}

/// One subject of an in-toto statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementSubject {
    /// The subject's name (may be empty).
    pub name: String,
    /// Its digests, algorithm → hex.
    pub digests: BTreeMap<String, String>,
}

/// A signature that verified, with everything worth storing about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedSignature {
    /// Who signed.
    pub signer: Signer,
    /// The digest of the artifact the signature covers; the bare hexadecimal form is read too.
    #[serde(deserialize_with = "mcpreg_api::digest::prefixed_or_hex")]
    pub subject: Sha256Digest,
    /// The earliest verified signing time (Rekor integrated time or RFC 3161 timestamp); `None`
    /// for an mcpreg key signature, which carries no time.
    pub signed_at: Option<DateTime<Utc>>,
    /// The transparency log entries the signature was logged under (verified inclusion).
    #[serde(serialize_with = "stored_log_entries")]
    pub log_entries: Vec<LogEntry>,
    /// The signature document's media type.
    pub media_type: String,
    /// What was signed.
    pub kind: SignatureKind,
}

/// Verifies one signature document — a sigstore bundle (v0.1–v0.3, message signature or DSSE with
/// an in-toto statement, keyless or logged key-based) or an mcpreg key signature — over `subject`.
///
/// For a keyless bundle, sigstore-verify checks the certificate chain at the signed time, the SCT,
/// the transparency-log inclusion proof and checkpoint, the signed entry timestamp or RFC 3161
/// timestamps, the signature, and the log entry's consistency with the bundle; then the
/// certificate's identity and issuer must match an expected signer of `policy`. A key-based
/// signature must verify with one of `policy`'s keys. `now` is the verification time: a signing
/// time after it is refused.
///
/// Offline: it uses only `root`, never the network.
pub fn verify_bundle(
    bundle_json: &[u8],
    subject: Subject<'_>,
    policy: &SignerPolicy,
    root: &TrustRoot,
    now: DateTime<Utc>,
) -> Result<VerifiedSignature, VerifyError> {
    verify_document(bundle_json, subject, Some(policy), root, now)
}

/// Verifies a keyless sigstore bundle like [`verify_bundle`], every check but one: whoever the
/// certificate names is accepted, and reported in the result. For showing a publisher what a
/// bundle proves before it is uploaded (the registry then checks the signer against its policy);
/// never the basis of a trust decision.
///
/// A key-based signature cannot be checked without its key: it fails with
/// [`VerifyError::KeyMismatch`], after its digest was checked.
pub fn verify_bundle_any_signer(
    bundle_json: &[u8],
    subject: Subject<'_>,
    root: &TrustRoot,
    now: DateTime<Utc>,
) -> Result<VerifiedSignature, VerifyError> {
    verify_document(bundle_json, subject, None, root, now)
}

/// [`verify_bundle`] with a policy, or [`verify_bundle_any_signer`] without one.
fn verify_document(
    bundle_json: &[u8],
    subject: Subject<'_>,
    policy: Option<&SignerPolicy>,
    root: &TrustRoot,
    now: DateTime<Utc>,
) -> Result<VerifiedSignature, VerifyError> {
    let no_keys = SignerPolicy::new();
    let key_policy = policy.unwrap_or(&no_keys);
    let value: serde_json::Value =
        serde_json::from_slice(bundle_json).map_err(|e| VerifyError::MalformedBundle {
            reason: e.to_string(),
        })?;
    let media_type = value
        .get("mediaType")
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_string();
    if media_type == KEY_SIGNATURE_MEDIA_TYPE {
        return verify_key_signature(bundle_json, subject, key_policy);
    }
    if !is_sigstore_bundle_media_type(&media_type) {
        return Err(VerifyError::UnknownMediaType { found: media_type });
    }
    let bundle: Bundle =
        serde_json::from_value(value).map_err(|e| VerifyError::MalformedBundle {
            reason: e.to_string(),
        })?;
    precheck(&bundle)?;

    let digest = subject.digest();
    let artifact = match subject {
        Subject::Bytes(b) => Artifact::from(b),
        Subject::Digest(d) => Artifact::from(Sha256Hash::new(*d.as_bytes())),
    };
    let verifier = root.verifier();
    let (result, signer) = match &bundle.verification_material.content {
        VerificationMaterialContent::PublicKey(hint) => {
            let (result, key) =
                verify_with_keys(&bundle, artifact, &hint.hint, key_policy, root, digest)?;
            let signer = Signer::Key {
                key_id: key.key_id(),
                algorithm: key.kind(),
            };
            (result, signer)
        }
        _ => {
            // Verify everything but the identity first, then match the identity against the
            // whole policy: sigstore-verify takes one exact identity, the policy has a list with
            // patterns. A bundle that fails both ways is reported for the cryptographic failure.
            let result = verifier
                .verify(artifact, &bundle, &VerificationPolicy::any_identity())
                .map_err(|e| from_sigstore(e, digest, &bundle))?;
            let signer = check_identity(&result, policy)?;
            (result, signer)
        }
    };

    let signed_at = result
        .verified_timestamps()
        .iter()
        .min()
        .copied()
        .map(to_chrono);
    if let Some(t) = signed_at
        && t > now
    {
        return Err(VerifyError::SignedInFuture { signed_at: t, now });
    }
    Ok(VerifiedSignature {
        signer,
        subject: digest,
        signed_at,
        log_entries: bundle
            .verification_material
            .tlog_entries
            .iter()
            .map(|e| LogEntry {
                log_index: e.log_index.get(),
                log_id: hex::encode(e.log_id.key_id.as_bytes()),
                kind: format!("{}/{}", e.kind_version.kind(), e.kind_version.version()),
            })
            .collect(),
        media_type,
        kind: kind_of(&bundle)?,
    })
}

/// Whether `media_type` names a sigstore bundle version this crate verifies.
pub fn is_sigstore_bundle_media_type(media_type: &str) -> bool {
    media_type
        .parse::<sigstore_verify::types::MediaType>()
        .is_ok()
}

/// Checks sigstore-verify leaves to the caller, done before any cryptography.
fn precheck(bundle: &Bundle) -> Result<(), VerifyError> {
    let material = &bundle.verification_material;
    if let VerificationMaterialContent::X509CertificateChain { certificates } = &material.content
        && certificates.is_empty()
    {
        return Err(VerifyError::EmptyCertificateChain);
    }
    if material.tlog_entries.is_empty() {
        return Err(VerifyError::MissingLogEntry);
    }
    let timestamps = &material.timestamp_verification_data.rfc3161_timestamps;
    if timestamps.len() > MAX_TIMESTAMPS {
        return Err(VerifyError::TooManyTimestamps {
            count: timestamps.len(),
            max: MAX_TIMESTAMPS,
        });
    }
    for (i, ts) in timestamps.iter().enumerate() {
        if timestamps[..i]
            .iter()
            .any(|earlier| earlier.signed_timestamp == ts.signed_timestamp)
        {
            return Err(VerifyError::DuplicateTimestamp { index: i });
        }
    }
    Ok(())
}

/// Matches the certificate's identity against `policy`; with no policy, any identity is taken.
fn check_identity(
    result: &VerificationResult,
    policy: Option<&SignerPolicy>,
) -> Result<Signer, VerifyError> {
    let identity = result.identity().map(|san| san.as_str().to_string());
    let issuer = result.issuer().map(str::to_string);
    let expected = || {
        policy
            .map(|p| p.identities().iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    };
    let (Some(identity), Some(issuer)) = (identity.clone(), issuer.clone()) else {
        return Err(VerifyError::IdentityMismatch {
            found_identity: identity.unwrap_or_else(|| "none".into()),
            found_issuer: issuer.unwrap_or_else(|| "none".into()),
            expected: expected(),
        });
    };
    if let Some(policy) = policy
        && policy.signer_for(&identity, &issuer).is_none()
    {
        let same_identity: Vec<String> = policy
            .identities()
            .iter()
            .filter(|s| s.identity().matches(&identity))
            .map(|s| s.issuer().to_string())
            .collect();
        return Err(if same_identity.is_empty() {
            VerifyError::IdentityMismatch {
                found_identity: identity,
                found_issuer: issuer,
                expected: policy
                    .identities()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            }
        } else {
            VerifyError::IssuerMismatch {
                found_identity: identity,
                found_issuer: issuer,
                expected_issuers: same_identity,
            }
        });
    }
    let ci = result
        .certificate()
        .map(|c| ci_claims(&c.ci_claims))
        .filter(|c| *c != CiClaims::default())
        .map(Box::new);
    Ok(Signer::Certificate {
        identity,
        issuer,
        ci,
    })
}

fn ci_claims(c: &sigstore_verify::crypto::FulcioCiClaims) -> CiClaims {
    let old = &c.deprecated_github;
    CiClaims {
        repository: c.source_repository_uri.clone().or_else(|| {
            old.workflow_repository
                .as_ref()
                .map(|r| format!("https://github.com/{r}"))
        }),
        git_ref: c
            .source_repository_ref
            .clone()
            .or_else(|| old.workflow_ref.clone()),
        source_sha: c
            .source_repository_digest
            .clone()
            .or_else(|| old.workflow_sha.clone()),
        workflow: c.build_config_uri.clone(),
        build_signer: c.build_signer_uri.clone(),
        trigger: c
            .build_trigger
            .clone()
            .or_else(|| old.workflow_trigger.clone()),
        runner_environment: c.runner_environment.clone(),
        run_invocation: c.run_invocation_uri.clone(),
    }
}

/// Verifies a logged key-based sigstore bundle with each trusted key until one verifies.
fn verify_with_keys<'p>(
    bundle: &Bundle,
    artifact: Artifact<'_>,
    hint: &str,
    policy: &'p SignerPolicy,
    root: &TrustRoot,
    digest: Sha256Digest,
) -> Result<(VerificationResult, &'p crate::PublicKey), VerifyError> {
    let mismatch = || VerifyError::KeyMismatch {
        found_key: if hint.is_empty() {
            "none".into()
        } else {
            hint.to_string()
        },
        trusted_keys: policy.keys().iter().map(|k| k.key_id()).collect(),
    };
    let mut first_other = None;
    for key in policy.keys() {
        let key_policy = PublicKeyVerificationPolicy::new(key.der_public_key());
        match root
            .verifier()
            .verify(artifact.clone(), bundle, &key_policy)
        {
            Ok(result) => return Ok((result, key)),
            // A wrong key shows as a bad signature; anything else is a real failure of the
            // bundle and is reported as such if no key verifies.
            Err(sigstore_verify::Error::SignatureInvalid(_)) => {}
            Err(e) => {
                let e = from_sigstore(e, digest, bundle);
                if first_other.is_none() && !matches!(e, VerifyError::UnsupportedBundle { .. }) {
                    first_other = Some(e);
                }
            }
        }
    }
    Err(first_other.unwrap_or_else(mismatch))
}

fn verify_key_signature(
    json: &[u8],
    subject: Subject<'_>,
    policy: &SignerPolicy,
) -> Result<VerifiedSignature, VerifyError> {
    let sig = KeySignature::from_json(json)?;
    let digest = subject.digest();
    if sig.digest != digest {
        return Err(VerifyError::ArtifactDigestMismatch {
            signed: sig.digest.to_string(),
            artifact: digest,
        });
    }
    let key = policy
        .keys()
        .iter()
        .find(|k| sig.verifies_with(k, &digest))
        .ok_or_else(|| VerifyError::KeyMismatch {
            found_key: sig.key_id.clone(),
            trusted_keys: policy.keys().iter().map(|k| k.key_id()).collect(),
        })?;
    Ok(VerifiedSignature {
        signer: Signer::Key {
            key_id: key.key_id(),
            algorithm: key.kind(),
        },
        subject: digest,
        signed_at: None,
        log_entries: Vec::new(),
        media_type: KEY_SIGNATURE_MEDIA_TYPE.to_string(),
        kind: SignatureKind::MessageSignature,
    })
}

fn kind_of(bundle: &Bundle) -> Result<SignatureKind, VerifyError> {
    match &bundle.content {
        SignatureContent::DsseEnvelope(env) => {
            let statement = statement_of(env).ok_or_else(|| VerifyError::MalformedBundle {
                reason: "the DSSE payload is not an in-toto statement".into(),
            })?;
            Ok(SignatureKind::Dsse {
                predicate_type: statement.predicate_type.clone(),
                subjects: statement
                    .subject
                    .iter()
                    .map(|s| StatementSubject {
                        name: s.name.clone(),
                        digests: digests_of(&s.digest),
                    })
                    .collect(),
            })
        }
        _ => Ok(SignatureKind::MessageSignature),
    }
}

pub(crate) fn statement_of(env: &DsseEnvelope) -> Option<Statement> {
    serde_json::from_slice(env.payload.as_bytes()).ok()
}

pub(crate) fn subject_strings(statement: &Statement) -> Vec<String> {
    statement
        .subject
        .iter()
        .map(|s| {
            let digests: Vec<String> = digests_of(&s.digest)
                .into_iter()
                .map(|(alg, hex)| format!("{alg}:{hex}"))
                .collect();
            format!("{} {}", s.name, digests.join(" "))
        })
        .collect()
}

fn digests_of(d: &sigstore_verify::types::Digest) -> BTreeMap<String, String> {
    let mut map = d.other.clone();
    if let Some(h) = &d.sha256 {
        map.insert("sha256".into(), h.to_hex());
    }
    if let Some(h) = &d.sha512 {
        map.insert("sha512".into(), h.to_hex());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_claims_are_stored_snake_case_and_read_back_in_either_form() {
        let signer = Signer::Certificate {
            identity: "https://github.com/acme/weather/.github/workflows/release.yml@refs/tags/v1"
                .into(),
            issuer: "https://token.actions.githubusercontent.com".into(),
            ci: Some(Box::new(CiClaims {
                git_ref: Some("refs/tags/v1".into()),
                runner_environment: Some("github-hosted".into()),
                ..CiClaims::default()
            })),
        };
        let stored = serde_json::to_value(&signer).unwrap();
        assert_eq!(
            stored["ci"],
            serde_json::json!({
                "repository": null, "git_ref": "refs/tags/v1", "source_sha": null,
                "workflow": null, "build_signer": null, "trigger": null,
                "runner_environment": "github-hosted", "run_invocation": null,
            })
        );
        assert_eq!(serde_json::from_value::<Signer>(stored).unwrap(), signer);
        let Signer::Certificate { ci: Some(ci), .. } = &signer else {
            unreachable!()
        };
        let api = serde_json::to_value(ci).unwrap();
        assert_eq!(
            api,
            serde_json::json!({"gitRef": "refs/tags/v1", "runnerEnvironment": "github-hosted"})
        );
        assert_eq!(serde_json::from_value::<CiClaims>(api).unwrap(), **ci);
    }

    #[test]
    fn log_entries_are_stored_snake_case_and_read_back_in_either_form() {
        let entry = LogEntry {
            log_index: 7,
            log_id: "c0d2".into(),
            kind: "hashedrekord/0.0.1".into(),
        };
        let mut buf = Vec::new();
        stored_log_entries(
            std::slice::from_ref(&entry),
            &mut serde_json::Serializer::new(&mut buf),
        )
        .unwrap();
        let stored: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(
            stored,
            serde_json::json!([{"log_index": 7, "log_id": "c0d2", "kind": "hashedrekord/0.0.1"}])
        );
        let back: Vec<LogEntry> = serde_json::from_value(stored).unwrap();
        assert_eq!(back, std::slice::from_ref(&entry));
        let api = serde_json::to_value(&entry).unwrap();
        assert_eq!(api["logIndex"], 7);
        assert_eq!(serde_json::from_value::<LogEntry>(api).unwrap(), entry);
    }
}
