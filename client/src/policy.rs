//! The access policy: the current document, applying one, previewing its effect, and asking
//! for a decision.

use mcpreg_api::policy::{
    AppliedPolicy, ApplyPolicyRequest, CurrentPolicy, DecisionAnswer, DecisionRequest, DiffAnswer,
    DiffRequest,
};
use reqwest::Method;

use crate::Client;

impl Client {
    /// `GET /api/v1/policy`: the current policy.
    pub async fn policy(&self) -> crate::Result<CurrentPolicy> {
        self.get(self.url(&["api", "v1", "policy"])).await
    }

    /// `PUT /api/v1/policy`: apply a document as the new current policy.
    pub async fn apply_policy(&self, request: &ApplyPolicyRequest) -> crate::Result<AppliedPolicy> {
        let url = self.url(&["api", "v1", "policy"]);
        self.call(Method::PUT, url, Some(request)).await
    }

    /// `POST /api/v1/policy/diff`: which decisions applying a document would change.
    pub async fn policy_diff(&self, request: &DiffRequest) -> crate::Result<DiffAnswer> {
        let url = self.url(&["api", "v1", "policy", "diff"]);
        self.call(Method::POST, url, Some(request)).await
    }

    /// `POST /api/v1/decisions`: the current policy's decision for a subject and a version.
    pub async fn decide(&self, request: &DecisionRequest) -> crate::Result<DecisionAnswer> {
        let url = self.url(&["api", "v1", "decisions"]);
        self.call(Method::POST, url, Some(request)).await
    }
}
