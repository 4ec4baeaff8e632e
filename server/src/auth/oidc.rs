//! JWT access tokens from OpenID Connect issuers, validated locally: discovery and keys through
//! `openidconnect`, signatures and claims through `jsonwebtoken`.
//!
//! Keys are cached per issuer and fetched again when a token names an unknown `kid` (the issuer
//! rotated its keys), at most once per [`REFRESH_FLOOR`] so that a flood of forged `kid`s cannot
//! turn the registry into a load generator against the IdP.

use mcpreg_api::problem::ProblemCode;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use openidconnect::core::CoreProviderMetadata;
use openidconnect::{HttpRequest, HttpResponse, IssuerUrl};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

use super::config::IssuerConfig;

/// Shortest time between two key fetches of one issuer.
pub const REFRESH_FLOOR: Duration = Duration::from_secs(30);

/// Why a token was refused; each names the check that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT at all.
    #[error("the token is not a well-formed JWT: {0}")]
    Malformed(String),
    /// `alg` is `none`, symmetric, or not one the key allows.
    #[error(
        "the token's algorithm `{0}` is not accepted (asymmetric algorithms matching the issuer's key only)"
    )]
    Algorithm(String),
    /// `iss` names no trusted issuer.
    #[error("the token's issuer `{0}` is not trusted by this registry")]
    UntrustedIssuer(String),
    /// No key with the token's `kid`.
    #[error("the issuer has no key `{0}` (even after fetching its keys again)")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("the token's signature does not verify")]
    Signature,
    /// `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
    /// `aud` names none of the accepted audiences.
    #[error("the token's audience is not one this registry accepts")]
    Audience,
    /// A required claim is missing or mistyped.
    #[error("the token lacks a valid `{0}` claim")]
    Claim(String),
    /// The issuer's keys could not be fetched.
    #[error("the issuer's keys could not be fetched: {0}")]
    Unreachable(String),
}

impl TokenError {
    /// A stable code for problem documents.
    pub fn code(&self) -> ProblemCode {
        match self {
            TokenError::Malformed(_) => ProblemCode::MalformedToken,
            TokenError::Algorithm(_) => ProblemCode::UnsupportedAlgorithm,
            TokenError::UntrustedIssuer(_) => ProblemCode::UntrustedIssuer,
            TokenError::UnknownKey(_) => ProblemCode::UnknownKey,
            TokenError::Signature => ProblemCode::InvalidSignature,
            TokenError::Expired => ProblemCode::ExpiredToken,
            TokenError::NotYetValid => ProblemCode::TokenNotYetValid,
            TokenError::Audience => ProblemCode::InvalidAudience,
            TokenError::Claim(_) => ProblemCode::InvalidClaims,
            TokenError::Unreachable(_) => ProblemCode::IssuerUnreachable,
        }
    }
}

/// Reads a JWT's `iss` without verifying anything, to choose the issuer whose keys verify it.
pub fn unverified_issuer(token: &str) -> Result<String, TokenError> {
    use base64::Engine;
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| TokenError::Malformed("expected three dot-separated parts".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| TokenError::Malformed("the payload is not base64url".into()))?;
    let claims: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| TokenError::Malformed("the payload is not a JSON object".into()))?;
    claims
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| TokenError::Claim("iss".into()))
}

struct Keys {
    set: JwkSet,
    fetched: Instant,
}

/// Verifies tokens of one issuer.
pub struct IssuerVerifier {
    /// The issuer's configuration.
    pub config: IssuerConfig,
    http: reqwest::Client,
    keys: RwLock<Option<Keys>>,
    refresh: Mutex<Option<Instant>>,
}

impl IssuerVerifier {
    /// A verifier that fetches keys on first use.
    pub fn new(config: IssuerConfig, http: reqwest::Client) -> Self {
        Self {
            config,
            http,
            keys: RwLock::new(None),
            refresh: Mutex::new(None),
        }
    }

    /// The issuer as it appears in `iss` (without a trailing slash added by URL parsing).
    pub fn issuer(&self) -> String {
        issuer_string(&self.config.issuer)
    }

    /// Verifies a token; returns its claims.
    pub async fn verify(
        &self,
        token: &str,
        audiences: &[String],
    ) -> Result<Map<String, Value>, TokenError> {
        // Only asymmetric algorithms: `none` and HMAC (whose "secret" an attacker would take
        // from the issuer's public key) are refused before anything else is looked at.
        let alg = raw_alg(token)
            .ok_or_else(|| TokenError::Malformed("the header has no `alg`".into()))?;
        const ASYMMETRIC: [&str; 9] = [
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
        ];
        if !ASYMMETRIC.contains(&alg.as_str()) {
            return Err(TokenError::Algorithm(alg.chars().take(20).collect()));
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        let kid = header.kid.clone().unwrap_or_default();
        let jwk = self.key(&kid).await?;
        check_algorithm(&jwk, header.alg)?;
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| TokenError::Unreachable(format!("unusable key `{kid}`: {e}")))?;

        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.issuer()]);
        validation.set_audience(audiences);
        validation.leeway = self.config.leeway_secs;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::InvalidSignature => TokenError::Signature,
                    K::ExpiredSignature => TokenError::Expired,
                    K::ImmatureSignature => TokenError::NotYetValid,
                    K::InvalidAudience => TokenError::Audience,
                    K::InvalidIssuer => {
                        TokenError::UntrustedIssuer(unverified_issuer(token).unwrap_or_default())
                    }
                    K::MissingRequiredClaim(c) => TokenError::Claim(c.clone()),
                    K::InvalidAlgorithm => TokenError::Algorithm(format!("{:?}", header.alg)),
                    _ => TokenError::Malformed(e.to_string()),
                }
            })?;
        Ok(data.claims)
    }

    async fn key(&self, kid: &str) -> Result<Jwk, TokenError> {
        if let Some(keys) = self.keys.read().await.as_ref()
            && let Some(k) = find(&keys.set, kid)
        {
            return Ok(k);
        }
        // Unknown kid: fetch again, at most once per REFRESH_FLOOR.
        let mut last = self.refresh.lock().await;
        if let Some(keys) = self.keys.read().await.as_ref() {
            if let Some(k) = find(&keys.set, kid) {
                return Ok(k);
            }
            if keys.fetched.elapsed() < REFRESH_FLOOR {
                return Err(TokenError::UnknownKey(kid.to_owned()));
            }
        }
        if last.is_some_and(|t| t.elapsed() < REFRESH_FLOOR) {
            return Err(TokenError::UnknownKey(kid.to_owned()));
        }
        *last = Some(Instant::now());
        let set = self.fetch_keys().await?;
        tracing::info!(issuer = %self.config.issuer, keys = set.keys.len(), "fetched the issuer's signing keys");
        let found = find(&set, kid);
        *self.keys.write().await = Some(Keys {
            set,
            fetched: Instant::now(),
        });
        found.ok_or_else(|| TokenError::UnknownKey(kid.to_owned()))
    }

    async fn fetch_keys(&self) -> Result<JwkSet, TokenError> {
        let issuer =
            IssuerUrl::new(self.issuer()).map_err(|e| TokenError::Unreachable(e.to_string()))?;
        let http = |request: HttpRequest| send(self.http.clone(), request);
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| {
                TokenError::Unreachable(format!("discovery failed: {}", error_chain(&e)))
            })?;
        // Re-read the key set as plain JWKs: jsonwebtoken verifies, openidconnect discovered.
        let json = serde_json::to_value(metadata.jwks())
            .map_err(|e| TokenError::Unreachable(e.to_string()))?;
        let keys = json
            .get("keys")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            // Keys of types this registry does not verify with are skipped, not fatal.
            .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
            .collect();
        Ok(JwkSet { keys })
    }
}

fn find(set: &JwkSet, kid: &str) -> Option<Jwk> {
    if kid.is_empty() {
        // No kid: acceptable only when the issuer has exactly one key.
        return (set.keys.len() == 1).then(|| set.keys[0].clone());
    }
    set.find(kid).cloned()
}

fn raw_alg(token: &str) -> Option<String> {
    use base64::Engine;
    let header = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("alg").and_then(Value::as_str).map(str::to_owned)
}

/// The algorithm must match the key: its declared `alg`, or else its type and curve.
fn check_algorithm(jwk: &Jwk, alg: Algorithm) -> Result<(), TokenError> {
    let refuse = || TokenError::Algorithm(format!("{alg:?}"));
    if let Some(declared) = jwk.common.key_algorithm
        && format!("{declared:?}") != format!("{alg:?}")
    {
        return Err(refuse());
    }
    let fits = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(ec) => matches!(
            (&ec.curve, alg),
            (EllipticCurve::P256, Algorithm::ES256) | (EllipticCurve::P384, Algorithm::ES384)
        ),
        AlgorithmParameters::OctetKeyPair(_) => alg == Algorithm::EdDSA,
        // Symmetric keys, and key types added to jsonwebtoken later, are never accepted.
        _ => false,
    };
    if fits { Ok(()) } else { Err(refuse()) }
}

/// `iss` as issuers write it: the URL without the slash URL parsing adds to an empty path.
pub fn issuer_string(url: &url::Url) -> String {
    let s = url.as_str();
    if url.path() == "/" {
        s.trim_end_matches('/').to_owned()
    } else {
        s.to_owned()
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// The HTTP client openidconnect needs, over the workspace's reqwest.
pub async fn send(
    http: reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await?;
    let mut out = HttpResponse::new(bytes.to_vec());
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}
