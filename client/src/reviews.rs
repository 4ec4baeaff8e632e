//! The review of versions: the queue, one version's review, and decisions.

use mcpreg_api::review::{ReviewList, ReviewRequest, VersionReview};
use reqwest::Method;

use crate::Client;

/// Filters of the review queue (`GET /api/v1/reviews`).
#[derive(Debug, Clone, Default)]
pub struct ReviewQuery {
    /// At most this many (`limit`).
    pub limit: Option<u32>,
    /// Only this state: `submitted`, `approved`, `rejected`, `revoked` (`state`; the registry
    /// refuses others).
    pub state: Option<String>,
}

impl Client {
    /// `GET /api/v1/reviews`: versions with their review state, newest first.
    pub async fn reviews(&self, query: &ReviewQuery) -> crate::Result<ReviewList> {
        let mut url = self.url(&["api", "v1", "reviews"]);
        if let Some(limit) = query.limit {
            url.query_pairs_mut()
                .append_pair("limit", &limit.to_string());
        }
        if let Some(s) = &query.state {
            url.query_pairs_mut().append_pair("state", s);
        }
        self.get(url).await
    }

    /// `GET /api/v1/servers/{serverName}/versions/{version}/review`.
    pub async fn review(&self, name: &str, version: &str) -> crate::Result<VersionReview> {
        let url = self.url(&["api", "v1", "servers", name, "versions", version, "review"]);
        self.get(url).await
    }

    /// `POST /api/v1/servers/{serverName}/versions/{version}/review`: approve, reject or revoke.
    pub async fn decide_review(
        &self,
        name: &str,
        version: &str,
        request: &ReviewRequest,
    ) -> crate::Result<VersionReview> {
        let url = self.url(&["api", "v1", "servers", name, "versions", version, "review"]);
        self.call(Method::POST, url, Some(request)).await
    }
}
