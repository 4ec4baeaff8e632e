//! Supply-chain trust for mcpreg, shared by the server (verify on publish) and the CLI (verify
//! again, offline, before use):
//!
//! - [`Sha256Digest`]: artifact digests (`fileSha256`, OCI manifest digests) and
//!   [`server_json_digest`], the RFC 8785 canonical digest of a server.json.
//! - [`TrustRoot`]: the Sigstore instance signatures chain to — the embedded public-good
//!   production root, or a site's own `trusted_root.json`.
//! - [`SignerPolicy`]: who may sign — keyless [`SignerIdentity`]s (exact SAN or anchored pattern,
//!   plus OIDC issuer) and trusted [`PublicKey`]s.
//! - [`verify_bundle`]: checks a sigstore bundle (with sigstore-verify) or an mcpreg key signature
//!   over an artifact or a digest, and returns the [`VerifiedSignature`] to store, or the
//!   [`VerifyError`] naming the check that failed.
//! - [`SigningKey`]: makes key-based signatures ([`KeySignature`]) for sites without Sigstore.
//!
//! Everything here is offline and synchronous; verifying takes about a millisecond or more, so
//! async callers run it in `spawn_blocking`.

mod allowlist;
mod audit;
mod digest;
mod error;
mod keysig;
mod root;
mod signer_policy;
mod subjects;
mod verify;

pub use allowlist::{
    AllowlistError, AllowlistPublicKey, AllowlistSigningKey, check_fresh, check_subject,
    keyset_keys, verify_allowlist, verify_allowlist_json, verify_keyset,
    verify_keyset_first_use_json, verify_keyset_json,
};
pub use audit::{ChainedEvent, GENESIS, audit_event_hash};
pub use digest::{
    DigestError, PackageDigestError, Sha256Digest, canonical_json, file_digest, package_digest,
    reader_digest, server_json_digest,
};
pub use error::VerifyError;
pub use keysig::{KEY_SIGNATURE_MEDIA_TYPE, KeySignature, SignError, SigningKey};
pub use root::{TrustRoot, TrustRootError};
pub use signer_policy::{
    IdentityMatcher, KeyKind, PublicKey, SignerIdentity, SignerPolicy, SignerPolicyError,
};
pub use subjects::{SubjectError, SubjectPackage, Subjects};
pub use verify::{
    CiClaims, LogEntry, MAX_TIMESTAMPS, SignatureKind, SignedSubject, Signer, StatementSubject,
    VerifiedSignature, is_sigstore_bundle_media_type, verify_bundle, verify_bundle_any_signer,
};
