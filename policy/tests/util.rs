//! Shared builders for the policy tests.

use std::collections::BTreeSet;

use mcpreg_api::scans::FindingSeverity;
use mcpreg_api::{ServerName, Status, Version};
use mcpreg_policy::{Policy, ReviewState, SignerFact, Transport, VersionFacts};

pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
pub const RELEASE_IDENTITY: &str =
    "https://github.com/acme/github-mcp/.github/workflows/release.yml@refs/tags/v1.4.2";
pub const KEY_ID: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// An approved, signed, pinned, stdio-only version with one low finding: every allow
/// requirement in the tests holds for it unless a test changes it.
pub fn facts(name: &str) -> VersionFacts {
    VersionFacts {
        name: ServerName::parse(name).expect("valid name"),
        version: Version::parse("1.4.2").expect("valid version"),
        tags: vec!["internal".to_owned()],
        status: Status::Active,
        review: ReviewState::Approved,
        signers: vec![SignerFact::Keyless {
            issuer: GITHUB_ISSUER.to_owned(),
            identity: RELEASE_IDENTITY.to_owned(),
        }],
        highest_severity: Some(FindingSeverity::Low),
        transports: BTreeSet::from([Transport::Stdio]),
        remote_urls: Vec::new(),
        tools_pin: Some("sha256:feed".to_owned()),
        context_tokens: Some(1200),
    }
}

/// Parses YAML, panicking with every issue when it is not a policy.
pub fn policy(yaml: &str) -> Policy {
    match Policy::parse_yaml(yaml) {
        Ok(policy) => policy,
        Err(e) => panic!("{e}\n---\n{yaml}"),
    }
}

/// `(path, message)` of every issue, for exact comparison.
pub fn issues(result: Result<Policy, mcpreg_policy::PolicyError>) -> Vec<(String, String)> {
    match result {
        Ok(_) => panic!("expected the document to be refused"),
        Err(e) => e
            .issues
            .into_iter()
            .map(|issue| (issue.path, issue.message))
            .collect(),
    }
}

/// Owned pairs from literals.
pub fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
        .collect()
}
