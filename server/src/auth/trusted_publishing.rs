//! Matching a CI OIDC token (GitHub Actions' claims) against a server's trusted publishers.
//! A pure function, so that every mismatch has a test of its own.

use mcpreg_api::access::TrustedPublisher;
use mcpreg_api::problem::ProblemCode;
use serde_json::{Map, Value};

/// Triggers whose tokens are refused whatever the configuration: they run a base repository's
/// workflow in the context of untrusted input (a fork's pull request, another workflow's output).
pub const REFUSED_TRIGGERS: [&str; 2] = ["pull_request_target", "workflow_run"];

/// Why a CI token may not publish; each names the claim that did not match and what it held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// The token lacks a claim trusted publishing needs.
    #[error("the CI token has no `{0}` claim")]
    MissingClaim(&'static str),
    /// Refused trigger.
    #[error("workflows triggered by `{0}` may not publish: they run with untrusted input")]
    Trigger(String),
    /// No trusted publisher at all.
    #[error("{0} has no trusted publisher: an admin must add one for this repository and workflow")]
    NoPublisher(String),
    /// Repository not trusted.
    #[error("repository `{found}` is not a trusted publisher of {server} (trusted: {trusted})")]
    Repository {
        /// The server.
        server: String,
        /// The repository in the token.
        found: String,
        /// The trusted repositories.
        trusted: String,
    },
    /// Same repository name, different owner: the repository was deleted and re-created.
    #[error(
        "repository owner id `{found}` does not match the trusted `{expected}` (was the owner renamed or re-created?)"
    )]
    OwnerId {
        /// The id in the token.
        found: String,
        /// The trusted id.
        expected: String,
    },
    /// Workflow file not trusted.
    #[error("workflow `{found}` is not trusted for {repository} (trusted: {expected})")]
    Workflow {
        /// The repository.
        repository: String,
        /// The workflow in the token.
        found: String,
        /// The trusted workflow files.
        expected: String,
    },
    /// Environment not trusted.
    #[error("the job ran in environment `{found}`, but publishing needs environment `{expected}`")]
    Environment {
        /// The environment in the token (or `none`).
        found: String,
        /// The required environment.
        expected: String,
    },
}

impl Mismatch {
    /// A stable code for problem documents.
    pub fn code(&self) -> ProblemCode {
        match self {
            Mismatch::MissingClaim(_) => ProblemCode::InvalidClaims,
            Mismatch::Trigger(_) => ProblemCode::TriggerNotAllowed,
            Mismatch::NoPublisher(_) => ProblemCode::NoTrustedPublisher,
            Mismatch::Repository { .. } => ProblemCode::RepositoryMismatch,
            Mismatch::OwnerId { .. } => ProblemCode::OwnerIdMismatch,
            Mismatch::Workflow { .. } => ProblemCode::WorkflowMismatch,
            Mismatch::Environment { .. } => ProblemCode::EnvironmentMismatch,
        }
    }
}

fn claim<'a>(claims: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, Mismatch> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .ok_or(Mismatch::MissingClaim(name))
}

/// The workflow file of `workflow_ref` (`owner/repo/.github/workflows/release.yml@refs/tags/v1`),
/// when it lives in `repository`.
fn workflow_file(workflow_ref: &str, repository: &str) -> Option<String> {
    let path = workflow_ref.split('@').next()?;
    let file = path
        .strip_prefix(repository)?
        .strip_prefix("/.github/workflows/")?;
    (!file.is_empty() && !file.contains('/')).then(|| file.to_owned())
}

/// The trusted publisher the claims match, or the most specific reason none does.
pub fn check<'a>(
    server: &str,
    issuer: &str,
    claims: &Map<String, Value>,
    publishers: &'a [TrustedPublisher],
) -> Result<&'a TrustedPublisher, Mismatch> {
    let event = claim(claims, "event_name")?;
    if REFUSED_TRIGGERS.contains(&event) {
        return Err(Mismatch::Trigger(event.to_owned()));
    }
    let repository = claim(claims, "repository")?;
    let owner_id = claim(claims, "repository_owner_id")?;
    let workflow_ref = claim(claims, "workflow_ref")?;
    let environment = claims.get("environment").and_then(Value::as_str);

    let candidates: Vec<&TrustedPublisher> =
        publishers.iter().filter(|p| p.issuer == issuer).collect();
    if candidates.is_empty() {
        return Err(Mismatch::NoPublisher(server.to_owned()));
    }
    let same_repo: Vec<&TrustedPublisher> = candidates
        .iter()
        .copied()
        .filter(|p| p.repository.eq_ignore_ascii_case(repository))
        .collect();
    if same_repo.is_empty() {
        return Err(Mismatch::Repository {
            server: server.to_owned(),
            found: repository.to_owned(),
            trusted: candidates
                .iter()
                .map(|p| p.repository.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let same_owner: Vec<&TrustedPublisher> = same_repo
        .iter()
        .copied()
        .filter(|p| p.repository_owner_id == owner_id)
        .collect();
    let Some(first) = same_owner.first() else {
        return Err(Mismatch::OwnerId {
            found: owner_id.to_owned(),
            expected: same_repo[0].repository_owner_id.clone(),
        });
    };
    let file = workflow_file(workflow_ref, repository).unwrap_or_else(|| workflow_ref.to_owned());
    let same_workflow: Vec<&TrustedPublisher> = same_owner
        .iter()
        .copied()
        .filter(|p| p.workflow == file)
        .collect();
    if same_workflow.is_empty() {
        return Err(Mismatch::Workflow {
            repository: first.repository.clone(),
            found: file,
            expected: same_owner
                .iter()
                .map(|p| p.workflow.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    same_workflow
        .iter()
        .copied()
        .find(|p| {
            p.environment
                .as_deref()
                .is_none_or(|e| Some(e) == environment)
        })
        .ok_or_else(|| Mismatch::Environment {
            found: environment.unwrap_or("none").to_owned(),
            expected: same_workflow
                .iter()
                .filter_map(|p| p.environment.as_deref())
                .collect::<Vec<_>>()
                .join(" or "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GHA: &str = "https://token.actions.githubusercontent.com";

    fn publisher(workflow: &str, environment: Option<&str>) -> TrustedPublisher {
        TrustedPublisher {
            id: 1,
            namespace: "com.acme".into(),
            server: None,
            issuer: GHA.into(),
            repository: "acme/weather".into(),
            repository_owner_id: "4242".into(),
            workflow: workflow.into(),
            environment: environment.map(str::to_owned),
            created_at: chrono::Utc::now(),
            created_by: "test".into(),
        }
    }

    fn claims(overrides: Value) -> Map<String, Value> {
        let mut c = json!({
            "event_name": "push",
            "repository": "acme/weather",
            "repository_owner_id": "4242",
            "workflow_ref": "acme/weather/.github/workflows/release.yml@refs/tags/v1.0.0",
            "environment": "production",
        });
        for (k, v) in overrides.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c.as_object().unwrap().clone()
    }

    #[test]
    fn matches_repository_owner_workflow_and_environment() {
        let ps = [publisher("release.yml", Some("production"))];
        assert!(check("com.acme/weather", GHA, &claims(json!({})), &ps).is_ok());
        let no_env = [publisher("release.yml", None)];
        assert!(
            check(
                "com.acme/weather",
                GHA,
                &claims(json!({"environment": null})),
                &no_env
            )
            .is_ok()
        );
    }

    #[test]
    fn every_mismatch_has_its_own_error() {
        let ps = [publisher("release.yml", Some("production"))];
        let cases = [
            (
                json!({"event_name": "pull_request_target"}),
                "trigger_not_allowed",
            ),
            (json!({"event_name": "workflow_run"}), "trigger_not_allowed"),
            (
                json!({"repository": "evil/weather", "workflow_ref": "evil/weather/.github/workflows/release.yml@x"}),
                "repository_mismatch",
            ),
            (json!({"repository_owner_id": "1"}), "owner_id_mismatch"),
            (
                json!({"workflow_ref": "acme/weather/.github/workflows/build.yml@refs/heads/main"}),
                "workflow_mismatch",
            ),
            (
                json!({"workflow_ref": "other/repo/.github/workflows/release.yml@x"}),
                "workflow_mismatch",
            ),
            (json!({"environment": "staging"}), "environment_mismatch"),
            (json!({"environment": null}), "environment_mismatch"),
            (json!({"repository_owner_id": null}), "invalid_claims"),
            (json!({"event_name": null}), "invalid_claims"),
        ];
        for (overrides, code) in cases {
            let err = check("com.acme/weather", GHA, &claims(overrides.clone()), &ps).unwrap_err();
            assert_eq!(err.code(), code, "{overrides}: {err}");
        }
        let err = check(
            "com.acme/weather",
            "https://gitlab.com",
            &claims(json!({})),
            &ps,
        )
        .unwrap_err();
        assert_eq!(err.code(), "no_trusted_publisher");
        let err = check("com.acme/weather", GHA, &claims(json!({})), &[]).unwrap_err();
        assert_eq!(err.code(), "no_trusted_publisher");
    }
}
