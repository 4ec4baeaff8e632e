//! Access policies for mcpreg: which audience may use which server version, under which
//! conditions.
//!
//! Pure: no I/O, no database, no clock, no async. The server gathers the facts and calls in.
//!
//! - [`Policy::parse`] (or [`Policy::parse_yaml`], [`Policy::parse_json`]) reads a policy
//!   document into a checked [`Policy`], or a [`PolicyError`] listing every problem at its path
//!   (`rules[2].resources[0].server`).
//! - [`evaluate`] decides one [`Subject`] × [`VersionFacts`]: a [`Decision`] with its reason,
//!   the deciding rules, and every condition of every applicable rule with why it held or not.
//!   [`evaluate_many`] and [`allowed_versions`] decide many at once.
//! - [`diff`] lists the decisions a proposed policy would change.
//!
//! Deny wins over allow; nothing is allowed by default; a deleted version is never allowed.
//! The document format and its semantics are described in `docs/policies.md`.
//!
//! ```
//! use mcpreg_policy::{DecisionReason, Policy, Subject, evaluate};
//! # use mcpreg_policy::{ReviewState, VersionFacts};
//! # use mcpreg_api::{ServerName, Status, Version};
//! let policy = Policy::parse(br#"
//! apiVersion: mcpreg.dev/v1
//! kind: Policy
//! rules:
//!   - name: engineering-approved
//!     effect: allow
//!     subjects: [{allowlist: engineering}]
//!     resources: [{server: "com.acme/*"}]
//!     require: {reviewState: [approved]}
//! "#)?;
//! # let facts = VersionFacts {
//! #     name: ServerName::parse("com.acme/github")?,
//! #     version: Version::parse("1.0.0")?,
//! #     tags: vec![],
//! #     status: Status::Active,
//! #     review: ReviewState::Submitted,
//! #     signers: vec![],
//! #     highest_severity: None,
//! #     transports: Default::default(),
//! #     remote_urls: vec![],
//! #     tools_pin: None,
//! #     context_tokens: None,
//! # };
//! // `facts` describes com.acme/github@1.0.0, still waiting for review.
//! let decision = evaluate(&policy, &Subject::allowlist("engineering"), &facts);
//! assert_eq!(decision.reason, DecisionReason::RequirementsNotMet);
//! assert_eq!(
//!     decision.rules[0].conditions[0].detail,
//!     "review state submitted is not in [approved]"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod diff;
mod document;
mod eval;
mod facts;
mod node;
pub mod pattern;

pub use diff::{DecisionChange, PolicyDiff, diff};
pub use document::{
    API_VERSION, Conditions, DenyCondition, Effect, IdentityMatch, KIND, MAX_DESCRIPTION_LEN,
    MAX_DOCUMENT_BYTES, MAX_LIST_LEN, MAX_RULE_NAME_LEN, MAX_RULES, MAX_VALUE_LEN, Policy,
    PolicyError, PolicyIssue, Requirement, ResourceSelector, Rule, SignerSpec, SubjectSelector,
};
pub use eval::{
    ConditionResult, Decision, DecisionReason, Evaluated, RuleEvaluation, RuleOutcome,
    allowed_versions, evaluate, evaluate_many,
};
pub use facts::{SignerFact, Subject, Transport, VersionFacts};
// The registry API's review state, re-exported so that callers building `VersionFacts` keep
// naming it `mcpreg_policy::ReviewState`.
pub use mcpreg_api::review::ReviewState;
