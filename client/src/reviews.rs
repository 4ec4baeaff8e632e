//! The review of versions: the queue, one version's review, and decisions.

use mcpreg_api::query::ReviewQuery;
use mcpreg_api::review::{ReviewList, ReviewRequest, VersionReview};
use reqwest::Method;

use crate::Client;

impl Client {
    /// `GET /api/v1/reviews`: versions with their review state, newest first.
    pub async fn reviews(&self, query: &ReviewQuery) -> crate::Result<ReviewList> {
        self.get(self.url_with_query(&["api", "v1", "reviews"], query)?)
            .await
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
