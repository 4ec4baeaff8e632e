//! RFC 9457 problem details: the body of every error mcpreg sends.

use serde::{Deserialize, Serialize};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error as the API sends it (`application/problem+json`, RFC 9457).
///
/// `type` is a stable URN (`urn:mcpreg:problem:<code>`) and `code` the same short code, so that
/// clients branch on them rather than on the human text in `title` and `detail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem: `urn:mcpreg:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short, stable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this request, for a human.
    pub detail: String,
    /// Stable machine-readable code, such as `invalid_server_json` or `version_exists`.
    pub code: String,
    /// The request path the problem arose on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Every problem found in the input, each with where it is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldIssue>,
}

/// One problem in the input and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldIssue {
    /// Where: a JSON pointer into the body (`/packages/0/version`), or `query.limit`, `path.version`, `header.authorization`.
    pub location: String,
    /// What is wrong there.
    pub message: String,
    /// Which check found it: `schema` (the JSON Schema named by `$schema`), `semantic` (registry
    /// rules), `syntax`, `parameter`, or `signature` (a signature's verification).
    pub source: String,
}

impl FieldIssue {
    /// A new issue.
    pub fn new(location: impl Into<String>, message: impl Into<String>, source: &str) -> Self {
        Self {
            location: location.into(),
            message: message.into(),
            source: source.to_owned(),
        }
    }
}

/// Declares [`ProblemCode`] and its strings once.
macro_rules! problem_codes {
    ($($(#[$doc:meta])* $variant:ident => $code:literal,)*) => {
        /// Every stable `code` (and `type`, `urn:mcpreg:problem:<code>`) a problem document of
        /// the registry carries. The strings never change: clients branch on them.
        ///
        /// [`Problem::code`] stays a string on the wire, so that a client reads codes a newer
        /// registry adds; the registry only ever writes one of these.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemCode {
            $($(#[$doc])* $variant,)*
        }

        impl ProblemCode {
            /// Every code.
            pub const ALL: &'static [ProblemCode] = &[$(ProblemCode::$variant,)*];

            /// The code as the wire writes it: `version_not_found`, `identity_mismatch`, …
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ProblemCode::$variant => $code,)*
                }
            }
        }
    };
}

problem_codes! {
    // Requests the registry cannot read
    /// 400: a malformed request refused before it reached a handler.
    BadRequest => "bad_request",
    /// 400: a body that could not be read.
    UnreadableBody => "unreadable_body",
    /// 400: a body that is not (complete) JSON.
    MalformedJson => "malformed_json",
    /// 400: a JSON body without the expected shape.
    InvalidBody => "invalid_body",
    /// 400: a path or query parameter that breaks its rules.
    InvalidParameter => "invalid_parameter",
    /// 413: a body larger than the registry accepts.
    PayloadTooLarge => "payload_too_large",
    /// 415: a body that is not JSON.
    UnsupportedMediaType => "unsupported_media_type",
    /// 405: a method the route does not serve.
    MethodNotAllowed => "method_not_allowed",
    /// 404: a path no route serves.
    RouteNotFound => "route_not_found",
    /// 404: a path refused before it reached a handler.
    NotFound => "not_found",
    /// 4xx: any other client error refused before it reached a handler.
    ClientError => "client_error",
    // Credentials
    /// 401: no credentials.
    MissingCredentials => "missing_credentials",
    /// 401: credentials are needed for this read.
    CredentialsRequired => "credentials_required",
    /// 401: an `Authorization` header that is not a bearer token.
    MalformedCredentials => "malformed_credentials",
    /// 401: an unknown API token.
    InvalidToken => "invalid_token",
    /// 401: a revoked API token.
    RevokedToken => "revoked_token",
    /// 401: an expired token.
    ExpiredToken => "expired_token",
    /// 401: a CI token used a second time.
    TokenReplayed => "token_replayed",
    /// 401: a JWT that cannot be read.
    MalformedToken => "malformed_token",
    /// 401: a JWT signed with an algorithm the registry refuses.
    UnsupportedAlgorithm => "unsupported_algorithm",
    /// 401: a JWT from an issuer the registry does not trust.
    UntrustedIssuer => "untrusted_issuer",
    /// 401: a JWT signed with a key its issuer does not publish.
    UnknownKey => "unknown_key",
    /// 401: a JWT whose signature does not verify.
    InvalidSignature => "invalid_signature",
    /// 401: a JWT not valid yet.
    TokenNotYetValid => "token_not_yet_valid",
    /// 401: a JWT for another audience.
    InvalidAudience => "invalid_audience",
    /// 401 or 403: a token without the claims the registry needs.
    InvalidClaims => "invalid_claims",
    /// 503: an identity provider whose keys could not be fetched.
    IssuerUnreachable => "issuer_unreachable",
    /// 403: the caller lacks the permission.
    Forbidden => "forbidden",
    /// 403: no trusted publisher matches a CI token.
    NoTrustedPublisher => "no_trusted_publisher",
    /// 403: a CI run triggered by an event trusted publishing refuses.
    TriggerNotAllowed => "trigger_not_allowed",
    /// 403: a CI token from another repository.
    RepositoryMismatch => "repository_mismatch",
    /// 403: a CI token from another repository owner.
    OwnerIdMismatch => "owner_id_mismatch",
    /// 403: a CI token from another workflow.
    WorkflowMismatch => "workflow_mismatch",
    /// 403: a CI token from another environment.
    EnvironmentMismatch => "environment_mismatch",
    // Not found
    /// 404: no such server.
    ServerNotFound => "server_not_found",
    /// 404: no such version.
    VersionNotFound => "version_not_found",
    /// 404: no such namespace.
    NamespaceNotFound => "namespace_not_found",
    /// 404: no such allowlist.
    AllowlistNotFound => "allowlist_not_found",
    /// 404: no such API token.
    TokenNotFound => "token_not_found",
    /// 404: no such trusted publisher.
    TrustedPublisherNotFound => "trusted_publisher_not_found",
    /// 404: no such trusted signer.
    TrustedSignerNotFound => "trusted_signer_not_found",
    /// 404: the version has no tool manifest.
    ToolsNotFound => "tools_not_found",
    /// 404: no policy was applied.
    NoPolicy => "no_policy",
    /// 404: the allowlist does not allow the version.
    NotInAllowlist => "not_in_allowlist",
    /// 404: the version is deleted (and deleted versions were not asked for).
    VersionDeleted => "version_deleted",
    // Conflicts
    /// 409: the version was published already.
    VersionExists => "version_exists",
    /// 409: a name differing only in case exists.
    NameConflict => "name_conflict",
    /// 409: the namespace exists.
    NamespaceExists => "namespace_exists",
    /// 409: the allowlist exists.
    AllowlistExists => "allowlist_exists",
    /// 409: an API token of that name exists.
    TokenExists => "token_exists",
    /// 409: the trusted signer exists.
    TrustedSignerExists => "trusted_signer_exists",
    /// 409: the signature is stored already.
    SignatureExists => "signature_exists",
    /// 409: the version has a tool manifest already.
    ToolsExist => "tools_exist",
    /// 409: the scan report is stored already.
    ScanReportExists => "scan_report_exists",
    /// 409: the review moved on meanwhile.
    ReviewStateConflict => "review_state_conflict",
    /// 409: the caller approved the version already.
    AlreadyApproved => "already_approved",
    // Content the registry refuses
    /// 422: a server.json that breaks the registry's rules.
    ValidationFailed => "validation_failed",
    /// 422: a server.json that breaks its schema.
    InvalidServerJson => "invalid_server_json",
    /// 422: a malformed publish envelope.
    InvalidPublishRequest => "invalid_publish_request",
    /// 422: a malformed signature body.
    InvalidSignatureRequest => "invalid_signature_request",
    /// 422: tags that break their rules.
    InvalidTags => "invalid_tags",
    /// 422: a policy document that does not check.
    InvalidPolicy => "invalid_policy",
    /// 422: a malformed policy diff request.
    InvalidDiffRequest => "invalid_diff_request",
    /// 422: a malformed decision request.
    InvalidDecisionRequest => "invalid_decision_request",
    /// 422: an allowlist definition that breaks its rules.
    InvalidAllowlist => "invalid_allowlist",
    /// 422: a review gate does not pass.
    ReviewGateFailed => "review_gate_failed",
    /// 422: a `scannedDigest` that is not a digest.
    ScannedDigestInvalid => "scanned_digest_invalid",
    /// 422: a `scannedDigest` the version does not pin.
    ScannedDigestUnknown => "scanned_digest_unknown",
    /// 422: a scan report in no known format.
    ScanReportUnknownFormat => "scan_report_unknown_format",
    /// 422: a SARIF log of an unsupported version.
    ScanReportUnsupportedVersion => "scan_report_unsupported_version",
    /// 422: a scan report that does not read.
    ScanReportInvalid => "scan_report_invalid",
    /// 422: a tool manifest that does not read.
    ToolManifestInvalid => "tool_manifest_invalid",
    /// 422: a tool manifest of an unsupported format version.
    ToolManifestUnsupported => "tool_manifest_unsupported",
    /// 422: a tool manifest whose stated pins are not its content's.
    ToolsPinMismatch => "tools_pin_mismatch",
    /// 422: a review decision that breaks its rules.
    InvalidReview => "invalid_review",
    /// 422: a review decision that needs a reason.
    ReasonRequired => "reason_required",
    // Signature checks (a refused signature's `code` names the failed check)
    /// 422: a signature for a package the server.json does not have.
    UnknownSubject => "unknown_subject",
    /// 422: a signature for a package that pins no digest.
    UnpinnedPackage => "unpinned_package",
    /// 422: the namespace trusts no signer.
    NoTrustedSigners => "no_trusted_signers",
    /// 422: the same signature twice in one request.
    DuplicateSignature => "duplicate_signature",
    /// 422: a bundle that does not read.
    MalformedBundle => "malformed_bundle",
    /// 422: a bundle of an unknown media type.
    UnknownMediaType => "unknown_media_type",
    /// 422: a bundle without a certificate.
    EmptyCertificateChain => "empty_certificate_chain",
    /// 422: a bundle of a kind the registry does not verify.
    UnsupportedBundle => "unsupported_bundle",
    /// 422: a signature over another artifact.
    ArtifactDigestMismatch => "artifact_digest_mismatch",
    /// 422: an attestation whose subjects do not include the artifact.
    SubjectNotInStatement => "subject_not_in_statement",
    /// 422: an artifact the bundle's signature cannot cover by digest alone.
    UnsupportedArtifact => "unsupported_artifact",
    /// 422: a signature that does not verify.
    SignatureInvalid => "signature_invalid",
    /// 422: a certificate that does not read.
    CertificateMalformed => "certificate_malformed",
    /// 422: a certificate that does not chain to the trust root.
    CertificateChain => "certificate_chain",
    /// 422: a certificate expired at signing time.
    CertificateExpired => "certificate_expired",
    /// 422: a certificate not valid yet at signing time.
    CertificateNotYetValid => "certificate_not_yet_valid",
    /// 422: a certificate without a valid signed certificate timestamp.
    Sct => "sct",
    /// 422: a signer identity the namespace does not trust.
    IdentityMismatch => "identity_mismatch",
    /// 422: a trusted identity vouched for by another issuer.
    IssuerMismatch => "issuer_mismatch",
    /// 422: a key the namespace does not trust.
    KeyMismatch => "key_mismatch",
    /// 422: a bundle without a transparency log entry.
    MissingLogEntry => "missing_log_entry",
    /// 422: a log entry without an inclusion proof.
    MissingInclusionProof => "missing_inclusion_proof",
    /// 422: a log entry from a log the trust root does not name.
    UnknownTransparencyLog => "unknown_transparency_log",
    /// 422: an inclusion proof that does not verify.
    InclusionProof => "inclusion_proof",
    /// 422: a log checkpoint that does not verify.
    Checkpoint => "checkpoint",
    /// 422: an inclusion promise that does not verify.
    InclusionPromise => "inclusion_promise",
    /// 422: a log entry about another signature.
    LogEntryMismatch => "log_entry_mismatch",
    /// 422: a log entry's time outside the certificate's validity.
    IntegratedTime => "integrated_time",
    /// 422: a log entry that does not read.
    MalformedLogEntry => "malformed_log_entry",
    /// 422: no verified signing time.
    NoSignedTime => "no_signed_time",
    /// 422: an RFC 3161 timestamp that does not verify.
    Timestamp => "timestamp",
    /// 422: more RFC 3161 timestamps than are checked.
    TooManyTimestamps => "too_many_timestamps",
    /// 422: the same timestamp twice.
    DuplicateTimestamp => "duplicate_timestamp",
    /// 422: a signing time in the future.
    SignedInFuture => "signed_in_future",
    /// 422: a trust root that cannot verify the bundle.
    TrustRoot => "trust_root",
    /// 422: any other verification failure.
    Other => "other",
    // The registry itself
    /// 503: no allowlist signing key is configured.
    SigningKeyMissing => "signing_key_missing",
    /// 503: a dependency is busy or unreachable.
    Unavailable => "unavailable",
    /// 500: an unexpected failure, logged and not described.
    Internal => "internal",
    // The CLI
    /// any: a failed answer without a problem document, as the CLI reports it.
    HttpError => "http_error",
}

impl ProblemCode {
    /// The code [`Self::as_str`] writes as `text`, if it is one of the registry's.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ProblemCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ProblemCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Problem {
    /// A problem with the given status, code and detail.
    pub fn new(status: u16, code: ProblemCode, title: &str, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("urn:mcpreg:problem:{code}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            code: code.as_str().to_owned(),
            instance: None,
            errors: Vec::new(),
        }
    }

    /// Adds the list of issues found in the input.
    pub fn with_errors(mut self, errors: Vec<FieldIssue>) -> Self {
        self.errors = errors;
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.title, self.status, self.detail)?;
        for e in &self.errors {
            write!(f, "\n  {}: {}", e.location, e.message)?;
        }
        Ok(())
    }
}

/// The problem responses of the OpenAPI document, declared once: every response of status 400 or
/// above is an `application/problem+json` [`Problem`], so handlers state only the status and what
/// it means there; and every operation can answer `500 internal` and `503 unavailable`.
///
/// A [`utoipa::Modify`]: apply it to the document once every route is in it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProblemResponses;

impl ProblemResponses {
    /// The answers every operation can give, whatever it does.
    const EVERYWHERE: [(&'static str, &'static str); 2] = [
        (
            "500",
            "An unexpected failure (`internal`); logged, never described",
        ),
        (
            "503",
            "The database or an identity provider is busy or unreachable, or the request took too long (`unavailable`); retry after `Retry-After`",
        ),
    ];
}

impl utoipa::Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, RefOr};
        let schema = Ref::from_schema_name(<Problem as utoipa::ToSchema>::name());
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
                &mut item.query,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                for (status, description) in Self::EVERYWHERE {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::T(utoipa::openapi::Response::new(description)));
                }
                for (status, response) in responses.iter_mut() {
                    let is_error = status.parse::<u16>().is_ok_and(|s| s >= 400);
                    if let (true, RefOr::T(response)) = (is_error, response)
                        && response.content.is_empty()
                    {
                        response.content.insert(
                            PROBLEM_JSON.to_owned(),
                            RefOr::T(Content::new(Some(schema.clone()))),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_one_snake_case_string_that_reads_back() {
        let mut seen = std::collections::HashSet::new();
        for &code in ProblemCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
            assert_eq!(ProblemCode::parse(s), Some(code));
        }
        assert_eq!(ProblemCode::VersionNotFound.as_str(), "version_not_found");
        assert_eq!(ProblemCode::Sct.as_str(), "sct");
        assert_eq!(ProblemCode::parse("no_such_code"), None);
        let p = Problem::new(404, ProblemCode::NoPolicy, "Not Found", "none applied");
        assert_eq!(
            (p.code.as_str(), p.type_uri.as_str()),
            ("no_policy", "urn:mcpreg:problem:no_policy")
        );
    }
}
