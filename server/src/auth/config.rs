//! Who may do what: the access section of the server's configuration file (TOML, `--config`).
//!
//! ```toml
//! anonymous_reads = true            # the official API is readable without credentials
//!
//! [[oidc.issuers]]
//! issuer = "https://login.example.com/realms/acme"
//! audiences = ["mcpreg"]
//! groups_claim = "groups"
//!
//! [oidc.groups]                     # IdP group → roles
//! "platform-admins" = ["admin"]
//! "security" = ["reviewer", "auditor"]
//! "weather-team" = ["publisher:com.acme.weather"]
//!
//! [oidc.subjects]                   # exact `sub` (e.g. an OAuth client) → roles
//! "ci-robot" = ["publisher:com.acme"]
//!
//! [oidc.cli]                        # what `mcpreg login` uses
//! issuer = "https://login.example.com/realms/acme"
//! client_id = "mcpreg-cli"
//!
//! [[trusted_publishing.issuers]]
//! issuer = "https://token.actions.githubusercontent.com"
//! audience = "mcpreg"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use mcpreg_api::NamespaceName;
use mcpreg_api::admin::Role;
use serde::Deserialize;
use url::Url;

/// The access configuration. Everything defaults to the safest choice except
/// `anonymous_reads`, which defaults to true because the IDE clients of the official API send no
/// credentials today.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// Whether the catalog can be read without credentials.
    #[serde(default = "default_true")]
    pub anonymous_reads: bool,
    /// Human and machine sign-in through OpenID Connect providers.
    #[serde(default)]
    pub oidc: OidcConfig,
    /// CI pipelines exchanging their OIDC token for a short-lived publish token.
    #[serde(default)]
    pub trusted_publishing: TrustedPublishingConfig,
    /// What approving a version takes.
    #[serde(default)]
    pub review: ReviewConfig,
}

impl Default for AccessConfig {
    fn default() -> Self {
        Self {
            anonymous_reads: true,
            oidc: OidcConfig::default(),
            trusted_publishing: TrustedPublishingConfig::default(),
            review: ReviewConfig::default(),
        }
    }
}

/// What approving a version takes (`[review]`). The defaults are the strict ones: one approval by
/// a reviewer who did not publish the version, a verified signature, pinned digests, a pinned
/// tool manifest, and no finding at `high` or above. A gate that does not hold can be overridden
/// only with a recorded reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewConfig {
    /// Approvals by distinct reviewers needed (1–10).
    #[serde(default = "one")]
    pub approvals: u32,
    /// Days an approval counts; absent: approvals do not expire.
    #[serde(default)]
    pub approval_days: Option<u32>,
    /// Require a verified signature by a trusted signer.
    #[serde(default = "default_true")]
    pub require_signature: bool,
    /// Require every package to pin its artifact digest.
    #[serde(default = "default_true")]
    pub require_digests: bool,
    /// Require a pinned tool manifest.
    #[serde(default = "default_true")]
    pub require_tools: bool,
    /// Findings at or above this severity block approval (`critical`, `high`, `medium`, `low`,
    /// `info`); `none` turns the gate off.
    #[serde(default = "default_block_severity")]
    pub block_severity: String,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self {
            approvals: 1,
            approval_days: None,
            require_signature: true,
            require_digests: true,
            require_tools: true,
            block_severity: default_block_severity(),
        }
    }
}

fn one() -> u32 {
    1
}

fn default_block_severity() -> String {
    "high".into()
}

impl ReviewConfig {
    /// The severity at which findings block approval; `None` when the gate is off.
    pub fn blocking_severity(&self) -> Option<mcpreg_api::scans::FindingSeverity> {
        mcpreg_api::scans::FindingSeverity::parse(&self.block_severity)
    }

    fn check(&self) -> Result<(), String> {
        if !(1..=10).contains(&self.approvals) {
            return Err(format!(
                "review.approvals: {} is out of range (1–10)",
                self.approvals
            ));
        }
        if self.approval_days == Some(0) {
            return Err("review.approval_days: must be at least 1 (or absent)".into());
        }
        if self.block_severity != "none" && self.blocking_severity().is_none() {
            return Err(format!(
                "review.block_severity: `{}` is not one of critical, high, medium, low, info, none",
                self.block_severity
            ));
        }
        Ok(())
    }
}

fn default_true() -> bool {
    true
}

/// Trusted OpenID Connect issuers and how their claims map to roles.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// Issuers whose JWT access tokens are accepted.
    #[serde(default)]
    pub issuers: Vec<IssuerConfig>,
    /// Roles granted by membership of an IdP group.
    #[serde(default)]
    pub groups: BTreeMap<String, Vec<Grant>>,
    /// Roles granted to an exact subject (`sub`), e.g. an OAuth client using client credentials.
    #[serde(default)]
    pub subjects: BTreeMap<String, Vec<Grant>>,
    /// What `mcpreg login` should use.
    #[serde(default)]
    pub cli: Option<CliConfig>,
}

/// One trusted issuer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The issuer URL, exactly as in the tokens' `iss` claim.
    pub issuer: Url,
    /// Accepted `aud` values: a token must name at least one.
    pub audiences: Vec<String>,
    /// The claim holding the caller's groups.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
}

fn default_groups_claim() -> String {
    "groups".into()
}

fn default_leeway() -> u64 {
    30
}

/// What the CLI's device flow uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CliConfig {
    /// The issuer to sign in with (one of `oidc.issuers`).
    pub issuer: Url,
    /// The public OAuth client id of the CLI.
    pub client_id: String,
    /// Scopes to ask for.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The `resource` (RFC 8707) to ask tokens for, when the IdP needs one to issue JWTs for mcpreg.
    #[serde(default)]
    pub resource: Option<String>,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "offline_access".into()]
}

/// Trusted publishing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedPublishingConfig {
    /// CI issuers whose tokens may be exchanged.
    #[serde(default)]
    pub issuers: Vec<CiIssuerConfig>,
    /// Lifetime of the publish token given in exchange, in seconds.
    #[serde(default = "default_tp_ttl")]
    pub token_ttl_secs: u64,
}

impl Default for TrustedPublishingConfig {
    fn default() -> Self {
        Self {
            issuers: Vec::new(),
            token_ttl_secs: default_tp_ttl(),
        }
    }
}

fn default_tp_ttl() -> u64 {
    900
}

/// One CI issuer (GitHub Actions: `https://token.actions.githubusercontent.com`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CiIssuerConfig {
    /// The issuer URL.
    pub issuer: Url,
    /// The audience CI must request its token for.
    pub audience: String,
}

/// A role granted by a mapping: `admin`, `reviewer`, `auditor`, `reader`, or
/// `publisher:<namespace>`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Grant {
    /// A role without scope.
    Role(Role),
    /// Publishing to one namespace.
    Publisher(NamespaceName),
}

impl TryFrom<String> for Grant {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if let Some(ns) = s.strip_prefix("publisher:") {
            return NamespaceName::parse(ns)
                .map(Grant::Publisher)
                .map_err(|e| format!("`{s}`: {e}"));
        }
        match Role::parse(&s) {
            Some(Role::Publisher) => Err(
                "`publisher` needs a namespace: write `publisher:<namespace>`, e.g. `publisher:com.acme`".into(),
            ),
            Some(role) => Ok(Grant::Role(role)),
            None => Err(format!(
                "unknown role `{s}`: admin, reviewer, auditor, reader or publisher:<namespace>"
            )),
        }
    }
}

impl AccessConfig {
    /// Reads and checks the configuration file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!("cannot read the configuration file {}: {e}", path.display())
        })?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// Parses and checks a configuration.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let config: AccessConfig = toml::from_str(text)?;
        for issuer in &config.oidc.issuers {
            if issuer.audiences.is_empty() {
                anyhow::bail!("oidc issuer {} needs at least one audience", issuer.issuer);
            }
            check_https(&issuer.issuer)?;
        }
        for issuer in &config.trusted_publishing.issuers {
            check_https(&issuer.issuer)?;
            if issuer.audience.is_empty() {
                anyhow::bail!(
                    "trusted publishing issuer {} needs an audience",
                    issuer.issuer
                );
            }
        }
        if let Some(cli) = &config.oidc.cli
            && !config.oidc.issuers.iter().any(|i| i.issuer == cli.issuer)
        {
            anyhow::bail!("oidc.cli.issuer {} is not one of oidc.issuers", cli.issuer);
        }
        if !(60..=3600).contains(&config.trusted_publishing.token_ttl_secs) {
            anyhow::bail!("trusted_publishing.token_ttl_secs must be 60 to 3600");
        }
        config.review.check().map_err(anyhow::Error::msg)?;
        Ok(config)
    }
}

/// Issuers must use https, except on the loopback interface (tests and local IdPs).
fn check_https(url: &Url) -> anyhow::Result<()> {
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if url.scheme() == "https" || (url.scheme() == "http" && loopback) {
        Ok(())
    } else {
        anyhow::bail!("issuer {url} must use https")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let text = include_str!("config.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//! "))
            .skip_while(|l| !l.starts_with("```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("```"))
            .collect::<Vec<_>>()
            .join("\n");
        let config = AccessConfig::parse(&text).unwrap();
        assert_eq!(
            config.oidc.groups["weather-team"],
            [Grant::Publisher(
                NamespaceName::parse("com.acme.weather").unwrap()
            )]
        );
        assert_eq!(config.trusted_publishing.token_ttl_secs, 900);
    }

    #[test]
    fn rejects_what_would_be_unsafe_or_ambiguous() {
        for (text, why) in [
            ("[oidc.groups]\nx = [\"publisher\"]", "needs a namespace"),
            ("[oidc.groups]\nx = [\"root\"]", "unknown role"),
            (
                "[[oidc.issuers]]\nissuer = \"http://idp.example.com\"\naudiences = [\"a\"]",
                "https",
            ),
            (
                "[[oidc.issuers]]\nissuer = \"https://idp.example.com\"\naudiences = []",
                "audience",
            ),
            ("anonymous_read = false", "unknown field"),
        ] {
            let err = AccessConfig::parse(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
        assert!(AccessConfig::parse("").unwrap().anonymous_reads);
    }
}
