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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_queue_query_is_sent_limit_first() {
        let c = Client::new("http://host.test", None, Duration::from_secs(1)).expect("valid");
        let query = ReviewQuery::default()
            .state(Some("approved".into()))
            .limit(7);
        let url = c
            .url_with_query(&["api", "v1", "reviews"], &query)
            .expect("serializable");
        assert_eq!(
            url.as_str(),
            "http://host.test/api/v1/reviews?limit=7&state=approved"
        );
        let none = c
            .url_with_query(&["api", "v1", "reviews"], &ReviewQuery::default())
            .expect("serializable");
        assert_eq!(none.as_str(), "http://host.test/api/v1/reviews");
    }
}
