//! One typed HTTP client over the registry's API, shared by every command.

use std::time::Duration;

use mcpreg_api::Problem;
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A request the registry answered with an error.
#[derive(Debug, thiserror::Error)]
#[error("{problem}")]
pub struct ApiFailure {
    /// The HTTP status.
    pub status: StatusCode,
    /// The problem document (synthesised when the body was not one).
    pub problem: Problem,
}

/// The registry's API.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

impl Client {
    /// A client for the registry at `base`, authenticating with `token` when given.
    pub fn new(base: &str, token: Option<String>, timeout: Duration) -> anyhow::Result<Self> {
        let mut base =
            Url::parse(base).map_err(|e| anyhow::anyhow!("invalid registry URL `{base}`: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") {
            anyhow::bail!(
                "the registry URL must be http or https, not `{}`",
                base.scheme()
            );
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("mcpreg-cli/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .build()?;
        Ok(Self {
            http,
            base,
            token: token.filter(|t| !t.is_empty()),
        })
    }

    /// The registry's URL, as credentials are stored under.
    pub fn registry_key(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Whether the client sends credentials.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// The same registry with other credentials.
    pub fn with_token(&self, token: String) -> Self {
        Self {
            token: Some(token),
            ..self.clone()
        }
    }

    /// A plain HTTP client with the CLI's settings, for talking to identity providers.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Joins path segments onto the base URL, percent-encoding each (`/` in a server name
    /// becomes `%2F`, as the official API expects).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments);
        }
        url
    }

    /// Sends a request; returns the body of a successful answer, or fails with the registry's problem.
    async fn exchange(
        &self,
        method: Method,
        url: Url,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> anyhow::Result<Vec<u8>> {
        let mut request = self.http.request(method, url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| {
            anyhow::anyhow!(
                "cannot reach the registry at {}: {}",
                self.base,
                root_cause(&e)
            )
        })?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        Err(failure(status, &bytes))
    }

    /// Sends a request and decodes a JSON answer, or fails with the registry's problem.
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> anyhow::Result<T> {
        let what = format!("{method} {url}");
        let bytes = self.exchange(method, url, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            anyhow::anyhow!("the registry's answer to {what} is not what this CLI expects: {e}")
        })
    }

    /// Sends a request whose successful answer has no body (204).
    pub async fn send_no_content(&self, method: Method, url: Url) -> anyhow::Result<()> {
        self.exchange(method, url, None::<&()>).await.map(|_| ())
    }

    /// `GET` a JSON document.
    pub async fn get<T: DeserializeOwned>(&self, url: Url) -> anyhow::Result<T> {
        self.send(Method::GET, url, None::<&()>).await
    }

    /// A conditional `GET` (`If-None-Match: etag`) with the client's credentials: the body as
    /// received and its `ETag`, or `None` for 304 Not Modified.
    pub async fn get_conditional(
        &self,
        url: Url,
        etag: Option<&str>,
    ) -> anyhow::Result<Option<(Vec<u8>, Option<String>)>> {
        let mut request = self.http.get(url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(etag) = etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let response = request.send().await.map_err(|e| {
            anyhow::anyhow!(
                "cannot reach the registry at {}: {}",
                self.base,
                root_cause(&e)
            )
        })?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await?.to_vec();
        if status.is_success() {
            return Ok(Some((bytes, etag)));
        }
        Err(failure(status, &bytes))
    }
}

/// The registry's answer to a failed request, as an error: its problem document, or one made
/// from the status and the start of the body.
fn failure(status: StatusCode, bytes: &[u8]) -> anyhow::Error {
    let problem = serde_json::from_slice::<Problem>(bytes).unwrap_or_else(|_| {
        Problem::new(
            status.as_u16(),
            mcpreg_api::problem::ProblemCode::HttpError,
            status.canonical_reason().unwrap_or("Error"),
            String::from_utf8_lossy(bytes)
                .chars()
                .take(500)
                .collect::<String>(),
        )
    });
    ApiFailure { status, problem }.into()
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
