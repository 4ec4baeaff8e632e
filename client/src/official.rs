//! The official MCP registry API (`/v0.1/…`), and the same API as each named allowlist serves it
//! (`/a/{allowlist}/v0.1/…`).

use chrono::{DateTime, Utc};
use mcpreg_api::admin::ValidationReport;
use mcpreg_api::registry::{ServerList, ServerResponse};
use reqwest::{Method, Url};
use serde_json::Value;

use crate::Client;

/// Filters and paging of a server list (`GET /v0.1/servers`).
#[derive(Debug, Clone, Default)]
pub struct ServerListQuery {
    /// Most entries in the page (`limit`).
    pub limit: Option<u32>,
    /// Only each server's latest version (`version=latest`).
    pub latest_only: bool,
    /// Deleted versions too (`include_deleted=true`).
    pub include_deleted: bool,
    /// Only names containing this, case-insensitively (`search`).
    pub search: Option<String>,
    /// Only entries updated after this instant (`updated_since`, RFC 3339 with microseconds).
    pub updated_since: Option<DateTime<Utc>>,
    /// Where the previous page ended (`cursor`, its `metadata.nextCursor`).
    pub cursor: Option<String>,
}

impl ServerListQuery {
    fn apply(&self, url: &mut Url) {
        let mut q = url.query_pairs_mut();
        if let Some(limit) = self.limit {
            q.append_pair("limit", &limit.to_string());
        }
        if self.latest_only {
            q.append_pair("version", "latest");
        }
        if self.include_deleted {
            q.append_pair("include_deleted", "true");
        }
        if let Some(s) = &self.search {
            q.append_pair("search", s);
        }
        if let Some(t) = self.updated_since {
            q.append_pair(
                "updated_since",
                &t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            );
        }
        if let Some(c) = &self.cursor {
            q.append_pair("cursor", c);
        }
        drop(q);
        // No parameters: no dangling `?`.
        if url.query() == Some("") {
            url.set_query(None);
        }
    }
}

fn include_deleted(url: &mut Url, include: bool) {
    if include {
        url.query_pairs_mut().append_pair("include_deleted", "true");
    }
}

impl Client {
    /// `GET /v0.1/servers`: one page of the catalog.
    pub async fn servers(&self, query: &ServerListQuery) -> crate::Result<ServerList> {
        let mut url = self.url(&["v0.1", "servers"]);
        query.apply(&mut url);
        self.get(url).await
    }

    /// `GET /v0.1/servers/{serverName}/versions`: every version of a server.
    pub async fn server_versions(
        &self,
        name: &str,
        include_deleted_versions: bool,
    ) -> crate::Result<ServerList> {
        let mut url = self.url(&["v0.1", "servers", name, "versions"]);
        include_deleted(&mut url, include_deleted_versions);
        self.get(url).await
    }

    /// `GET /v0.1/servers/{serverName}/versions/{version}`: one version, `latest` for the latest.
    pub async fn version(
        &self,
        name: &str,
        version: &str,
        include_deleted_version: bool,
    ) -> crate::Result<ServerResponse> {
        let mut url = self.url(&["v0.1", "servers", name, "versions", version]);
        include_deleted(&mut url, include_deleted_version);
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
        let mut url = self.url(&["a", allowlist, "v0.1", "servers"]);
        query.apply(&mut url);
        self.get(url).await
    }

    /// `GET /a/{allowlist}/v0.1/servers/{serverName}/versions`.
    pub async fn allowlist_server_versions(
        &self,
        allowlist: &str,
        name: &str,
        include_deleted_versions: bool,
    ) -> crate::Result<ServerList> {
        let mut url = self.url(&["a", allowlist, "v0.1", "servers", name, "versions"]);
        include_deleted(&mut url, include_deleted_versions);
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
        let mut url = self.url(&["a", allowlist, "v0.1", "servers", name, "versions", version]);
        include_deleted(&mut url, include_deleted_version);
        self.get(url).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone as _;

    use super::*;

    fn url_of(query: &ServerListQuery) -> String {
        let c = Client::new("http://host.test", None, Duration::from_secs(1)).expect("valid");
        let mut url = c.url(&["v0.1", "servers"]);
        query.apply(&mut url);
        url.to_string()
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
        let query = ServerListQuery {
            limit: Some(100),
            latest_only: true,
            include_deleted: true,
            search: Some("git hub&x".into()),
            updated_since: Utc.timestamp_opt(1_700_000_000, 5_000).single(),
            cursor: Some("com.acme/x:1.0.0".into()),
        };
        assert_eq!(
            url_of(&query),
            "http://host.test/v0.1/servers?limit=100&version=latest&include_deleted=true&search=git+hub%26x&updated_since=2023-11-14T22%3A13%3A20.000005Z&cursor=com.acme%2Fx%3A1.0.0"
        );
    }
}
