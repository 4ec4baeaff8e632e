//! Why a signature was rejected: one variant per check, each naming the check and what it found.

use chrono::{DateTime, Utc};

use mcpreg_api::problem::ProblemCode;

use crate::Sha256Digest;

/// A signature that did not verify. Each variant is one failed check; its message names the check
/// and what was found, so it can be shown to the publisher or the admin as it is.
///
/// `code()` gives a stable, machine-readable name for each check (for `problem+json` bodies and
/// metrics).
///
/// What sigstore-verify 0.15 cannot tell apart, and how it shows here:
/// - A bundle from another Sigstore instance than the trust root (for example a staging bundle
///   checked against the production root) fails at the first check that needs that instance's
///   keys: an unknown transparency log, an inclusion promise (SET) that does not verify, or a
///   certificate that does not chain to a trusted Fulcio CA. There is no separate "wrong
///   instance" verdict; the messages of [`VerifyError::UnknownTransparencyLog`],
///   [`VerifyError::InclusionPromise`] and [`VerifyError::CertificateChain`] say so.
/// - A stale trust root (one that predates the log or timestamp authority that a bundle used)
///   looks the same as a wrong instance.
/// - A signature over other bytes and a corrupted signature are both
///   [`VerifyError::SignatureInvalid`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Not JSON, or JSON that is not a well-formed bundle.
    #[error("bundle parse check failed: malformed bundle: {reason}")]
    MalformedBundle {
        /// What the parser reported.
        reason: String,
    },
    /// The `mediaType` is neither a sigstore bundle (v0.1, v0.2, v0.3) nor an mcpreg key signature.
    #[error(
        "bundle media type check failed: unknown media type {found:?} (expected a sigstore bundle v0.1–v0.3, or {})",
        crate::KEY_SIGNATURE_MEDIA_TYPE
    )]
    UnknownMediaType {
        /// The media type found (empty when the bundle has none).
        found: String,
    },
    /// The bundle's `x509CertificateChain` holds no certificate.
    #[error("certificate check failed: the bundle's certificate chain is empty")]
    EmptyCertificateChain,
    /// The bundle is well formed but uses something this verifier does not support.
    #[error("bundle support check failed: {reason}")]
    UnsupportedBundle {
        /// What is unsupported.
        reason: String,
    },
    /// A message signature's `messageDigest` (or a key signature's `digest`) is not the digest of
    /// the artifact: the artifact was changed, or the bundle is for another artifact.
    #[error(
        "artifact digest check failed: the bundle signs {signed}, but the artifact is {artifact}"
    )]
    ArtifactDigestMismatch {
        /// The digest the bundle signs (`algorithm:hex`).
        signed: String,
        /// The digest of the artifact that was supplied.
        artifact: Sha256Digest,
    },
    /// A DSSE bundle's in-toto statement lists no subject with the artifact's digest.
    #[error(
        "in-toto subject check failed: the in-toto statement has no subject with digest {artifact} (its subjects: {})",
        list_or_none(subjects)
    )]
    SubjectNotInStatement {
        /// The digest of the artifact that was supplied.
        artifact: Sha256Digest,
        /// The statement's subjects, as `name algorithm:hex`.
        subjects: Vec<String>,
    },
    /// The artifact was given in a form the signature cannot be checked against (for example only
    /// a digest, for a signature scheme that needs the whole message).
    #[error("artifact check failed: {reason}")]
    UnsupportedArtifact {
        /// Why.
        reason: String,
    },
    /// The signature does not verify with the signing key.
    #[error("signature check failed: {reason}")]
    SignatureInvalid {
        /// What failed.
        reason: String,
    },
    /// The signing certificate could not be parsed.
    #[error("certificate check failed: malformed signing certificate: {reason}")]
    CertificateMalformed {
        /// What the parser reported.
        reason: String,
    },
    /// The signing certificate does not chain to a certificate authority of the trust root
    /// (at the signed time), or lacks the code-signing usage.
    #[error(
        "certificate chain check failed: {reason} (a certificate from another Sigstore instance than the trust root fails here)"
    )]
    CertificateChain {
        /// What the chain verification reported.
        reason: String,
    },
    /// The signing certificate (or one of its chain) had expired at the signed time: every
    /// verified time (Rekor integrated time, RFC 3161 timestamp) must fall in its validity.
    #[error(
        "certificate validity check failed: the signing certificate (or a certificate of its chain) had expired at the signed time {signed_at} (not after {not_after})"
    )]
    CertificateExpired {
        /// The verified signing time that fell outside the certificate's validity.
        signed_at: DateTime<Utc>,
        /// The certificate's `notAfter`.
        not_after: DateTime<Utc>,
    },
    /// The signing certificate was not yet valid at the signed time.
    #[error(
        "certificate validity check failed: the signing certificate (or a certificate of its chain) was not yet valid at the signed time {signed_at} (not before {not_before})"
    )]
    CertificateNotYetValid {
        /// The verified signing time that fell outside the certificate's validity.
        signed_at: DateTime<Utc>,
        /// The certificate's `notBefore`.
        not_before: DateTime<Utc>,
    },
    /// The certificate's signed certificate timestamp (SCT) is missing or does not verify with a
    /// CT log of the trust root.
    #[error("SCT check failed: {reason}")]
    Sct {
        /// What failed.
        reason: String,
    },
    /// The signer's identity (certificate SAN) is not one the policy expects.
    #[error(
        "identity check failed: the certificate was issued to {found_identity} (issuer {found_issuer}), which is not an expected signer (expected: {})",
        list_or_none(expected)
    )]
    IdentityMismatch {
        /// The SAN the certificate carries (`none` when it has none).
        found_identity: String,
        /// The OIDC issuer the certificate carries (`none` when it has none).
        found_issuer: String,
        /// The expected signers.
        expected: Vec<String>,
    },
    /// The signer's identity is expected, but it was vouched for by another OIDC issuer.
    #[error(
        "issuer check failed: the certificate for {found_identity} was issued through {found_issuer}, but the policy expects {}",
        list_or_none(expected_issuers)
    )]
    IssuerMismatch {
        /// The SAN the certificate carries.
        found_identity: String,
        /// The OIDC issuer the certificate carries (`none` when it has none).
        found_issuer: String,
        /// The issuers the policy expects for this identity.
        expected_issuers: Vec<String>,
    },
    /// A key-based signature was not made by any trusted key.
    #[error(
        "key check failed: the signature does not verify with any trusted key (it names key {found_key}; trusted: {})",
        list_or_none(trusted_keys)
    )]
    KeyMismatch {
        /// The key the signature names (its key ID or hint; `none` when it names none).
        found_key: String,
        /// The IDs of the trusted keys.
        trusted_keys: Vec<String>,
    },
    /// The bundle has no transparency log entry.
    #[error(
        "transparency log check failed: the bundle has no transparency log entry (a bundle must be logged in Rekor)"
    )]
    MissingLogEntry,
    /// A transparency log entry has no inclusion proof, as bundle v0.2 and later require.
    #[error("inclusion proof check failed: {reason}")]
    MissingInclusionProof {
        /// What is missing.
        reason: String,
    },
    /// The entry was logged by a transparency log the trust root does not list.
    #[error(
        "transparency log check failed: the entry was logged by log {log_id}, which the trust root does not list (a bundle from another Sigstore instance, or a stale trust root)"
    )]
    UnknownTransparencyLog {
        /// The log ID (hex).
        log_id: String,
    },
    /// The inclusion proof does not prove the entry is in the log.
    #[error("inclusion proof check failed: {reason}")]
    InclusionProof {
        /// What failed.
        reason: String,
    },
    /// The checkpoint (signed tree head) is missing, malformed or not signed by a trusted log.
    #[error("checkpoint check failed: {reason}")]
    Checkpoint {
        /// What failed.
        reason: String,
    },
    /// The signed entry timestamp (inclusion promise) does not verify.
    #[error(
        "signed entry timestamp check failed: {reason} (a bundle from another Sigstore instance than the trust root fails here)"
    )]
    InclusionPromise {
        /// What failed.
        reason: String,
    },
    /// The transparency log entry does not describe this bundle's signature, key or artifact
    /// (CVE-2022-36056).
    #[error(
        "log entry consistency check failed: the transparency log entry is inconsistent with the bundle: {reason}"
    )]
    LogEntryMismatch {
        /// What differs.
        reason: String,
    },
    /// The log entry's integrated time is in the future or outside the certificate's validity.
    #[error("integrated time check failed: {reason}")]
    IntegratedTime {
        /// What failed.
        reason: String,
    },
    /// A transparency log entry body could not be parsed, or is of an unsupported kind.
    #[error("transparency log check failed: malformed log entry: {reason}")]
    MalformedLogEntry {
        /// What failed.
        reason: String,
    },
    /// No verified signing time: neither a signed entry timestamp nor a valid RFC 3161 timestamp.
    #[error("signed time check failed: {reason}")]
    NoSignedTime {
        /// What the verifier reported.
        reason: String,
    },
    /// An RFC 3161 timestamp does not verify with a timestamp authority of the trust root, or its
    /// time is outside that authority's validity.
    #[error("timestamp check failed: {reason}")]
    Timestamp {
        /// What failed.
        reason: String,
    },
    /// The bundle carries more RFC 3161 timestamps than a verifier should process.
    #[error("timestamp check failed: too many RFC 3161 timestamps: {count} > {max}")]
    TooManyTimestamps {
        /// How many the bundle carries.
        count: usize,
        /// The most accepted.
        max: usize,
    },
    /// The bundle carries the same RFC 3161 timestamp twice.
    #[error("timestamp check failed: duplicate RFC 3161 timestamp (index {index})")]
    DuplicateTimestamp {
        /// Index of the second copy in `timestampVerificationData.rfc3161Timestamps`.
        index: usize,
    },
    /// The verified signing time is later than the verification time.
    #[error("signed time check failed: signed at {signed_at}, after the verification time {now}")]
    SignedInFuture {
        /// The verified signing time.
        signed_at: DateTime<Utc>,
        /// The time verification was done at.
        now: DateTime<Utc>,
    },
    /// The trust root cannot be used to verify.
    #[error("trust root check failed: {reason}")]
    TrustRoot {
        /// What the verifier reported.
        reason: String,
    },
    /// A failure sigstore-verify reported that has no check of its own here.
    #[error("verification failed: {reason}")]
    Other {
        /// What the verifier reported.
        reason: String,
    },
}

impl VerifyError {
    /// A stable, machine-readable name of the failed check.
    pub fn code(&self) -> ProblemCode {
        match self {
            Self::MalformedBundle { .. } => ProblemCode::MalformedBundle,
            Self::UnknownMediaType { .. } => ProblemCode::UnknownMediaType,
            Self::EmptyCertificateChain => ProblemCode::EmptyCertificateChain,
            Self::UnsupportedBundle { .. } => ProblemCode::UnsupportedBundle,
            Self::ArtifactDigestMismatch { .. } => ProblemCode::ArtifactDigestMismatch,
            Self::SubjectNotInStatement { .. } => ProblemCode::SubjectNotInStatement,
            Self::UnsupportedArtifact { .. } => ProblemCode::UnsupportedArtifact,
            Self::SignatureInvalid { .. } => ProblemCode::SignatureInvalid,
            Self::CertificateMalformed { .. } => ProblemCode::CertificateMalformed,
            Self::CertificateChain { .. } => ProblemCode::CertificateChain,
            Self::CertificateExpired { .. } => ProblemCode::CertificateExpired,
            Self::CertificateNotYetValid { .. } => ProblemCode::CertificateNotYetValid,
            Self::Sct { .. } => ProblemCode::Sct,
            Self::IdentityMismatch { .. } => ProblemCode::IdentityMismatch,
            Self::IssuerMismatch { .. } => ProblemCode::IssuerMismatch,
            Self::KeyMismatch { .. } => ProblemCode::KeyMismatch,
            Self::MissingLogEntry => ProblemCode::MissingLogEntry,
            Self::MissingInclusionProof { .. } => ProblemCode::MissingInclusionProof,
            Self::UnknownTransparencyLog { .. } => ProblemCode::UnknownTransparencyLog,
            Self::InclusionProof { .. } => ProblemCode::InclusionProof,
            Self::Checkpoint { .. } => ProblemCode::Checkpoint,
            Self::InclusionPromise { .. } => ProblemCode::InclusionPromise,
            Self::LogEntryMismatch { .. } => ProblemCode::LogEntryMismatch,
            Self::IntegratedTime { .. } => ProblemCode::IntegratedTime,
            Self::MalformedLogEntry { .. } => ProblemCode::MalformedLogEntry,
            Self::NoSignedTime { .. } => ProblemCode::NoSignedTime,
            Self::Timestamp { .. } => ProblemCode::Timestamp,
            Self::TooManyTimestamps { .. } => ProblemCode::TooManyTimestamps,
            Self::DuplicateTimestamp { .. } => ProblemCode::DuplicateTimestamp,
            Self::SignedInFuture { .. } => ProblemCode::SignedInFuture,
            Self::TrustRoot { .. } => ProblemCode::TrustRoot,
            Self::Other { .. } => ProblemCode::Other,
        }
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none configured".to_string()
    } else {
        items.join(", ")
    }
}

/// Maps sigstore-verify's error onto the check that failed. `artifact` and `bundle` supply the
/// detail sigstore-verify leaves out (which digests differ, which subjects a statement has).
pub(crate) fn from_sigstore(
    e: sigstore_verify::Error,
    artifact: Sha256Digest,
    bundle: &sigstore_verify::types::Bundle,
) -> VerifyError {
    use sigstore_verify::bundle::Error as B;
    use sigstore_verify::{CertificateError as C, Error as E, TimestampError as T};
    use sigstore_verify::{TransparencyLogError as L, types::SignatureContent};
    let s = |x: &dyn std::fmt::Display| x.to_string();
    match e {
        E::IdentityMismatch { expected, actual } => VerifyError::IdentityMismatch {
            found_identity: actual.map_or("none".into(), |a| a.as_str().to_string()),
            found_issuer: "unknown".into(),
            expected: vec![expected.to_string()],
        },
        E::IssuerMismatch { expected, actual } => VerifyError::IssuerMismatch {
            found_identity: "unknown".into(),
            found_issuer: actual.unwrap_or_else(|| "none".into()),
            expected_issuers: vec![expected],
        },
        E::SignatureInvalid(r) => VerifyError::SignatureInvalid { reason: r },
        E::ArtifactMismatch(r) => match &bundle.content {
            SignatureContent::MessageSignature(m) => VerifyError::ArtifactDigestMismatch {
                signed: m.message_digest.as_ref().map_or(r, |d| {
                    format!(
                        "{}:{}",
                        hash_name(d.algorithm),
                        hex::encode(d.digest.as_bytes())
                    )
                }),
                artifact,
            },
            SignatureContent::DsseEnvelope(env) => VerifyError::SubjectNotInStatement {
                artifact,
                subjects: crate::verify::statement_of(env)
                    .map(|st| crate::verify::subject_strings(&st))
                    .unwrap_or_default(),
            },
            _ => VerifyError::Other { reason: r },
        },
        E::UnsupportedArtifact(r) => VerifyError::UnsupportedArtifact { reason: r },
        E::Certificate(c) => match c {
            C::Malformed(r) => VerifyError::CertificateMalformed { reason: r },
            C::ChainInvalid(r) => chain_error(r),
            C::NoValidAuthority { time } => VerifyError::CertificateChain {
                reason: format!("no certificate authority of the trust root is valid at {time}"),
            },
            C::Expired { time, not_after } => VerifyError::CertificateExpired {
                signed_at: to_chrono(time),
                not_after: to_chrono(not_after),
            },
            C::NotYetValid { time, not_before } => VerifyError::CertificateNotYetValid {
                signed_at: to_chrono(time),
                not_before: to_chrono(not_before),
            },
            C::Sct(r) => VerifyError::Sct { reason: r },
            other => VerifyError::CertificateChain { reason: s(&other) },
        },
        E::TransparencyLog(l) => match l {
            L::UnknownLog { log_id } => VerifyError::UnknownTransparencyLog {
                log_id: base64_to_hex(&log_id),
            },
            L::InclusionProof(r) => VerifyError::InclusionProof { reason: r },
            L::Checkpoint(r) => VerifyError::Checkpoint { reason: r },
            L::InclusionPromise(r) => VerifyError::InclusionPromise { reason: r },
            L::EntryMismatch(r) => VerifyError::LogEntryMismatch { reason: r },
            L::IntegratedTime(r) => VerifyError::IntegratedTime { reason: r },
            L::MalformedEntry(r) => VerifyError::MalformedLogEntry { reason: r },
            other => VerifyError::Other { reason: s(&other) },
        },
        E::Timestamp(t) => match t {
            T::NoVerifiedTimestamp(r) => VerifyError::NoSignedTime { reason: r },
            other => VerifyError::Timestamp { reason: s(&other) },
        },
        E::InvalidBundle(r) => VerifyError::MalformedBundle { reason: r },
        E::UnsupportedBundle(r) => VerifyError::UnsupportedBundle { reason: r },
        E::Bundle(b) => match b {
            B::UnsupportedMediaType(m) => VerifyError::UnknownMediaType {
                found: m.to_string(),
            },
            B::MissingSigningTimeEvidence
                if bundle.verification_material.tlog_entries.is_empty() =>
            {
                VerifyError::MissingLogEntry
            }
            B::MissingSigningTimeEvidence => VerifyError::NoSignedTime { reason: s(&b) },
            B::MissingInclusionPromise(_) => VerifyError::InclusionPromise { reason: s(&b) },
            B::MissingInclusionProof(_) => VerifyError::MissingInclusionProof { reason: s(&b) },
            B::MissingCheckpoint => VerifyError::Checkpoint { reason: s(&b) },
            B::LogIndexOutOfRange { .. } | B::CheckpointRootMismatch => {
                VerifyError::InclusionProof { reason: s(&b) }
            }
            other => VerifyError::MalformedBundle { reason: s(&other) },
        },
        E::InvalidTrustRoot(r) => VerifyError::TrustRoot { reason: r },
        E::TrustRoot(r) => VerifyError::TrustRoot { reason: s(&r) },
        E::TrustedCertificate(r) => VerifyError::TrustRoot { reason: s(&r) },
        E::Types(r) => VerifyError::MalformedBundle { reason: s(&r) },
        E::Crypto(r) => VerifyError::UnsupportedBundle { reason: s(&r) },
        other => VerifyError::Other { reason: s(&other) },
    }
}

/// webpki reports a certificate that was expired (or not yet valid) at the signed time as a chain
/// failure, since it checks every certificate's validity while building the path; sigstore-verify
/// passes its `Debug` text on. Recover the times from it so that the check is named right; any
/// other chain failure stays [`VerifyError::CertificateChain`].
fn chain_error(reason: String) -> VerifyError {
    let times = |kind: &str, bound: &str| {
        let re = regex::Regex::new(&format!(
            r"{kind} \{{ time: UnixTime\((\d+)\), {bound}: UnixTime\((\d+)\) \}}"
        ))
        .expect("a constant pattern");
        let caps = re.captures(&reason)?;
        let at = |i: usize| {
            caps.get(i)
                .and_then(|m| m.as_str().parse::<i64>().ok())
                .and_then(|s| DateTime::from_timestamp(s, 0))
        };
        Some((at(1)?, at(2)?))
    };
    if let Some((signed_at, not_after)) = times("CertExpired", "not_after") {
        VerifyError::CertificateExpired {
            signed_at,
            not_after,
        }
    } else if let Some((signed_at, not_before)) = times("CertNotValidYet", "not_before") {
        VerifyError::CertificateNotYetValid {
            signed_at,
            not_before,
        }
    } else {
        VerifyError::CertificateChain { reason }
    }
}

fn hash_name(h: sigstore_verify::types::HashAlgorithm) -> &'static str {
    use sigstore_verify::types::HashAlgorithm as H;
    match h {
        H::Sha2256 => "sha256",
        H::Sha2384 => "sha384",
        H::Sha2512 => "sha512",
        _ => "unknown",
    }
}

fn base64_to_hex(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map(hex::encode)
        .unwrap_or_else(|_| s.to_string())
}

pub(crate) fn to_chrono(t: jiff::Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(t.as_second(), t.subsec_nanosecond().unsigned_abs())
        .expect("a jiff timestamp is within chrono's range")
}
