//! Publishing, and what is stored with a server and its versions: status, signatures and trust,
//! the tool manifest, scan reports, tags.

use mcpreg_api::Problem;
use mcpreg_api::admin::{StatusChange, StatusChangeResult, ValidationReport};
use mcpreg_api::policy::ServerTags;
use mcpreg_api::publish::{PublishBatch, PublishBatchResults};
use mcpreg_api::registry::ServerResponse;
use mcpreg_api::scans::{NewScanReport, ScanReportInfo, VersionScans};
use mcpreg_api::tools::VersionTools;
use mcpreg_api::trust::{NewSignature, PublishRequest, SignatureInfo, VersionTrust};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::{ApiFailure, Client, ClientError};

impl Client {
    /// `POST /api/v1/publish` with signatures or a tool manifest: the version and what comes
    /// with it, stored in one transaction.
    pub async fn publish(&self, request: &PublishRequest) -> crate::Result<ServerResponse> {
        let url = self.url(&["api", "v1", "publish"]);
        self.call(Method::POST, url, Some(request)).await
    }

    /// `POST /api/v1/publish` with a bare server.json (nothing else to store with it).
    pub async fn publish_server_json(&self, server_json: &Value) -> crate::Result<ServerResponse> {
        let url = self.url(&["api", "v1", "publish"]);
        self.call(Method::POST, url, Some(server_json)).await
    }

    /// `POST /api/v1/publish/batch`: at most 500 documents, each accepted or refused on its
    /// own (its result says which, with the problem the single publish would have answered),
    /// the accepted ones stored in one transaction.
    pub async fn publish_batch(&self, batch: &PublishBatch) -> crate::Result<PublishBatchResults> {
        let url = self.url(&["api", "v1", "publish", "batch"]);
        self.call(Method::POST, url, Some(batch)).await
    }

    /// A document a batch refused, as the error [`Client::publish`] would have returned for it
    /// alone.
    pub fn batch_refusal(&self, problem: Problem) -> ClientError {
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ClientError::Api(Box::new(ApiFailure {
            status,
            problem,
            url: self.url(&["api", "v1", "publish"]),
        }))
    }

    /// `POST /api/v1/validate`: every problem of a server.json, publishing nothing.
    pub async fn validate(&self, server_json: &Value) -> crate::Result<ValidationReport> {
        let url = self.url(&["api", "v1", "validate"]);
        self.call(Method::POST, url, Some(server_json)).await
    }

    /// `PATCH /api/v1/servers/{serverName}/status`: the status of every version of a server.
    pub async fn set_server_status(
        &self,
        name: &str,
        change: &StatusChange,
    ) -> crate::Result<StatusChangeResult> {
        let url = self.url(&["api", "v1", "servers", name, "status"]);
        self.call(Method::PATCH, url, Some(change)).await
    }

    /// `PATCH /api/v1/servers/{serverName}/versions/{version}/status`.
    pub async fn set_version_status(
        &self,
        name: &str,
        version: &str,
        change: &StatusChange,
    ) -> crate::Result<StatusChangeResult> {
        let url = self.url(&["api", "v1", "servers", name, "versions", version, "status"]);
        self.call(Method::PATCH, url, Some(change)).await
    }

    /// `GET /api/v1/servers/{serverName}/versions/{version}/trust`: digests and verified
    /// signatures (`latest` for the latest version).
    pub async fn version_trust(&self, name: &str, version: &str) -> crate::Result<VersionTrust> {
        let url = self.url(&["api", "v1", "servers", name, "versions", version, "trust"]);
        self.get(url).await
    }

    /// `POST /api/v1/servers/{serverName}/versions/{version}/signatures`.
    pub async fn attach_signature(
        &self,
        name: &str,
        version: &str,
        signature: &NewSignature,
    ) -> crate::Result<SignatureInfo> {
        let url = self.url(&[
            "api",
            "v1",
            "servers",
            name,
            "versions",
            version,
            "signatures",
        ]);
        self.call(Method::POST, url, Some(signature)).await
    }

    /// `GET /api/v1/servers/{serverName}/versions/{version}/tools`: the pinned tool manifest.
    pub async fn version_tools(&self, name: &str, version: &str) -> crate::Result<VersionTools> {
        let url = self.url(&["api", "v1", "servers", name, "versions", version, "tools"]);
        self.get(url).await
    }

    /// `PUT /api/v1/servers/{serverName}/versions/{version}/tools`: pin a tool manifest (the
    /// document `mcpreg tools capture` writes) to a version that has none.
    pub async fn attach_version_tools(
        &self,
        name: &str,
        version: &str,
        manifest: &Value,
    ) -> crate::Result<VersionTools> {
        let url = self.url(&["api", "v1", "servers", name, "versions", version, "tools"]);
        self.call(Method::PUT, url, Some(manifest)).await
    }

    /// `GET /api/v1/servers/{serverName}/versions/{version}/scans`: reports and findings.
    pub async fn version_scans(&self, name: &str, version: &str) -> crate::Result<VersionScans> {
        let url = self.url(&["api", "v1", "servers", name, "versions", version, "scans"]);
        self.get(url).await
    }

    /// `POST /api/v1/servers/{serverName}/versions/{version}/scans`: store a scanner's report.
    pub async fn upload_scan(
        &self,
        name: &str,
        version: &str,
        report: &NewScanReport,
    ) -> crate::Result<ScanReportInfo> {
        let url = self.url(&["api", "v1", "servers", name, "versions", version, "scans"]);
        self.call(Method::POST, url, Some(report)).await
    }

    /// `GET /api/v1/servers/{serverName}/versions/{version}/scans/sarif`: every report as one
    /// SARIF 2.1.0 log (a JSON document of SARIF's schema, passed on as it is).
    pub async fn version_scans_sarif(&self, name: &str, version: &str) -> crate::Result<Value> {
        let url = self.url(&[
            "api", "v1", "servers", name, "versions", version, "scans", "sarif",
        ]);
        self.get(url).await
    }

    /// `GET /api/v1/servers/{serverName}/tags`.
    pub async fn server_tags(&self, name: &str) -> crate::Result<ServerTags> {
        let url = self.url(&["api", "v1", "servers", name, "tags"]);
        self.get(url).await
    }

    /// `PUT /api/v1/servers/{serverName}/tags`: replace a server's tags.
    pub async fn set_server_tags(
        &self,
        name: &str,
        tags: &ServerTags,
    ) -> crate::Result<ServerTags> {
        let url = self.url(&["api", "v1", "servers", name, "tags"]);
        self.call(Method::PUT, url, Some(tags)).await
    }
}
