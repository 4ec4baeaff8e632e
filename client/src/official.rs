//! The official MCP registry API (`/v0.1/…`), and the same API as each named allowlist serves it
//! (`/a/{allowlist}/v0.1/…`).

use mcpreg_api::admin::ValidationReport;
use mcpreg_api::query::{IncludeDeleted, ServerListQuery};
use mcpreg_api::registry::{ServerList, ServerResponse};
use reqwest::Method;
use serde_json::Value;

use crate::Client;

impl Client {
    /// `GET /v0.1/servers`: one page of the catalog.
    pub async fn servers(&self, query: &ServerListQuery) -> crate::Result<ServerList> {
        self.get(self.url_with_query(&["v0.1", "servers"], query)?)
            .await
    }

    /// `GET /v0.1/servers/{serverName}/versions`: every version of a server.
    pub async fn server_versions(
        &self,
        name: &str,
        include_deleted_versions: bool,
    ) -> crate::Result<ServerList> {
        let url = self.url_with_query(
            &["v0.1", "servers", name, "versions"],
            &IncludeDeleted::from(include_deleted_versions),
        )?;
        self.get(url).await
    }

    /// `GET /v0.1/servers/{serverName}/versions/{version}`: one version, `latest` for the latest.
    pub async fn version(
        &self,
        name: &str,
        version: &str,
        include_deleted_version: bool,
    ) -> crate::Result<ServerResponse> {
        let url = self.url_with_query(
            &["v0.1", "servers", name, "versions", version],
            &IncludeDeleted::from(include_deleted_version),
        )?;
        self.get(url).await
    }

    /// `POST /v0.1/publish`: the official API's publish of a bare server.json.
    pub async fn official_publish(&self, server_json: &Value) -> crate::Result<ServerResponse> {
        let url = self.url(&["v0.1", "publish"]);
        self.call(Method::POST, url, Some(server_json)).await
    }

    /// `POST /v0.1/validate`: the official API's validation of a server.json.
    pub async fn official_validate(&self, server_json: &Value) -> crate::Result<ValidationReport> {
        let url = self.url(&["v0.1", "validate"]);
        self.call(Method::POST, url, Some(server_json)).await
    }

    /// `GET /a/{allowlist}/v0.1/servers`: one page of what an allowlist lets its audience use.
    pub async fn allowlist_servers(
        &self,
        allowlist: &str,
        query: &ServerListQuery,
    ) -> crate::Result<ServerList> {
        let url = self.url_with_query(&["a", allowlist, "v0.1", "servers"], query)?;
        self.get(url).await
    }

    /// `GET /a/{allowlist}/v0.1/servers/{serverName}/versions`.
    pub async fn allowlist_server_versions(
        &self,
        allowlist: &str,
        name: &str,
        include_deleted_versions: bool,
    ) -> crate::Result<ServerList> {
        let url = self.url_with_query(
            &["a", allowlist, "v0.1", "servers", name, "versions"],
            &IncludeDeleted::from(include_deleted_versions),
        )?;
        self.get(url).await
    }

    /// `GET /a/{allowlist}/v0.1/servers/{serverName}/versions/{version}`.
    pub async fn allowlist_version(
        &self,
        allowlist: &str,
        name: &str,
        version: &str,
        include_deleted_version: bool,
    ) -> crate::Result<ServerResponse> {
        let url = self.url_with_query(
            &["a", allowlist, "v0.1", "servers", name, "versions", version],
            &IncludeDeleted::from(include_deleted_version),
        )?;
        self.get(url).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{TimeZone as _, Utc};

    use super::*;

    fn url_of(query: &ServerListQuery) -> String {
        let c = Client::new("http://host.test", None, Duration::from_secs(1)).expect("valid");
        c.url_with_query(&["v0.1", "servers"], query)
            .expect("serializable")
            .to_string()
    }

    #[test]
    fn an_empty_query_adds_nothing() {
        assert_eq!(
            url_of(&ServerListQuery::default()),
            "http://host.test/v0.1/servers"
        );
    }

    #[test]
    fn parameters_keep_their_order_and_encoding() {
        let query = ServerListQuery::default()
            .cursor(Some("com.acme/x:1.0.0".into()))
            .updated_since(Utc.timestamp_opt(1_700_000_000, 5_000).single())
            .search(Some("git hub&x".into()))
            .include_deleted(true)
            .latest_only(true)
            .limit(100);
        assert_eq!(
            url_of(&query),
            "http://host.test/v0.1/servers?limit=100&version=latest&include_deleted=true&search=git+hub%26x&updated_since=2023-11-14T22%3A13%3A20.000005Z&cursor=com.acme%2Fx%3A1.0.0"
        );
    }
}
