//! The HTTP exchange every endpoint method goes through: URL building, credentials, and turning
//! an answer into a value or a [`ClientError`].

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiFailure, ClientError, root_cause};

/// The registry's API, at one base URL, with or without credentials.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

/// The answer to a conditional `GET` (`If-None-Match`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// 304: what the caller holds for that ETag is still current.
    NotModified,
    /// The document, byte for byte as received (signatures are checked over these bytes).
    Body {
        /// The body.
        body: Vec<u8>,
        /// Its `ETag`, to send back next time.
        etag: Option<String>,
    },
}

impl Client {
    /// A client for the registry at `base`, authenticating with `token` when given (an empty
    /// token counts as none). Each answer must arrive within `timeout`.
    pub fn new(base: &str, token: Option<String>, timeout: Duration) -> crate::Result<Self> {
        let mut url = Url::parse(base).map_err(|e| ClientError::InvalidUrl {
            url: base.to_owned(),
            reason: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ClientError::UnsupportedScheme(url.scheme().to_owned()));
        }
        // A base with a path (`https://host/registry`) keeps it: segments are joined after it.
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("mcpreg-cli/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .build()?;
        Ok(Self {
            http,
            base: url,
            token: token.filter(|t| !t.is_empty()),
        })
    }

    /// The registry's URL without its trailing `/`: the key credentials and pinned keys are
    /// stored under.
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

    /// The underlying HTTP client with the same settings, for talking to others than the
    /// registry (identity providers, a CI's token service).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The base URL joined with `segments`, each percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments);
        }
        url
    }

    /// The base URL joined with `segments`, with `query`'s parameters in the order it
    /// serializes them, and no dangling `?` when it has none.
    pub(crate) fn url_with_query(
        &self,
        segments: &[&str],
        query: &impl Serialize,
    ) -> crate::Result<Url> {
        // reqwest's form encoding of a query; building the request sends nothing.
        let request = self.http.get(self.url(segments)).query(query).build()?;
        Ok(request.url().clone())
    }

    fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        let request = self.http.request(method, url);
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn send_request(
        &self,
        request: reqwest::RequestBuilder,
    ) -> crate::Result<reqwest::Response> {
        request.send().await.map_err(|e| ClientError::Unreachable {
            base: self.base.clone(),
            cause: root_cause(&e),
        })
    }

    /// Sends a request; the body of a successful answer, or the registry's problem.
    async fn exchange(
        &self,
        method: Method,
        url: Url,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> crate::Result<Vec<u8>> {
        let mut request = self.request(method, url.clone());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = self.send_request(request).await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        Err(ApiFailure::decode(status, url, &bytes).into())
    }

    /// Sends a request and decodes its JSON answer.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> crate::Result<T> {
        let request = format!("{method} {url}");
        let bytes = self.exchange(method, url, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::UnexpectedAnswer {
            request,
            reason: e.to_string(),
        })
    }

    /// `GET` a JSON document.
    pub(crate) async fn get<T: DeserializeOwned>(&self, url: Url) -> crate::Result<T> {
        self.call(Method::GET, url, None::<&()>).await
    }

    /// Sends a request whose successful answer has no body (204).
    pub(crate) async fn call_no_content(&self, method: Method, url: Url) -> crate::Result<()> {
        self.exchange(method, url, None::<&()>).await.map(|_| ())
    }

    /// A conditional `GET` with the client's credentials.
    pub(crate) async fn get_conditional(
        &self,
        url: Url,
        etag: Option<&str>,
    ) -> crate::Result<Fetched> {
        let mut request = self.request(Method::GET, url.clone());
        if let Some(etag) = etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let response = self.send_request(request).await?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await?.to_vec();
        if status.is_success() {
            return Ok(Fetched::Body { body, etag });
        }
        Err(ApiFailure::decode(status, url, &body).into())
    }
}

impl std::fmt::Debug for Client {
    // The token stays out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("has_token", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Client {
        Client::new(base, None, Duration::from_secs(1)).expect("a valid base URL")
    }

    #[test]
    fn a_server_name_is_one_segment() {
        let c = client("http://127.0.0.1:8080");
        let url = c.url(&[
            "v0.1",
            "servers",
            "com.acme/github",
            "versions",
            "1.0.0+b/2",
        ]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/v0.1/servers/com.acme%2Fgithub/versions/1.0.0+b%2F2"
        );
    }

    #[test]
    fn a_base_path_is_kept_with_or_without_its_slash() {
        for base in ["https://host.test/registry", "https://host.test/registry/"] {
            let c = client(base);
            assert_eq!(
                c.url(&["api", "v1", "whoami"]).as_str(),
                "https://host.test/registry/api/v1/whoami"
            );
            assert_eq!(c.registry_key(), "https://host.test/registry");
        }
    }

    #[test]
    fn segments_that_would_climb_are_encoded() {
        let c = client("http://host.test/base/");
        let url = c.url(&["api", "v1", "tokens", "../admin?x=1#y"]);
        assert_eq!(
            url.as_str(),
            "http://host.test/base/api/v1/tokens/..%2Fadmin%3Fx=1%23y"
        );
    }

    #[test]
    fn only_http_and_https_are_registries() {
        let e = Client::new("ftp://host.test", None, Duration::from_secs(1))
            .expect_err("ftp is no registry");
        assert_eq!(
            e.to_string(),
            "the registry URL must be http or https, not `ftp`"
        );
        let e = Client::new("not a url", None, Duration::from_secs(1)).expect_err("not a URL");
        assert!(
            e.to_string()
                .starts_with("invalid registry URL `not a url`: "),
            "{e}"
        );
    }

    #[test]
    fn an_empty_token_is_none_and_debug_hides_it() {
        let c = Client::new(
            "http://host.test",
            Some(String::new()),
            Duration::from_secs(1),
        )
        .expect("valid");
        assert!(!c.has_token());
        let c = c.with_token("mcpreg_secret".into());
        assert!(c.has_token());
        assert!(!format!("{c:?}").contains("mcpreg_secret"));
    }
}
