//! Named allowlists: their administration, their signed documents, and the keys that sign them.

use mcpreg_api::allowlist::{
    ALLOWLIST_PATH_SEGMENTS, AllowlistInfo, AllowlistList, KEYSET_PATH_SEGMENTS, NewAllowlist,
};
use reqwest::{Method, Url};

use crate::{Client, Fetched};

impl Client {
    /// `GET /api/v1/allowlists`.
    pub async fn allowlists(&self) -> crate::Result<AllowlistList> {
        self.get(self.url(&ALLOWLIST_PATH_SEGMENTS)).await
    }

    /// `POST /api/v1/allowlists`.
    pub async fn create_allowlist(&self, allowlist: &NewAllowlist) -> crate::Result<AllowlistInfo> {
        let url = self.url(&ALLOWLIST_PATH_SEGMENTS);
        self.call(Method::POST, url, Some(allowlist)).await
    }

    /// Where [`Client::allowlist_document`] fetches from, for messages.
    pub fn allowlist_document_url(&self, name: &str) -> Url {
        let [api, v1, allowlists] = ALLOWLIST_PATH_SEGMENTS;
        self.url(&[api, v1, allowlists, name])
    }

    /// `GET /api/v1/allowlists/{name}`: the signed allowlist document, with `If-None-Match:
    /// etag` when a copy is held. Bytes, not a `SignedAllowlist`: the caller verifies the
    /// signature over what was received before trusting any of it.
    pub async fn allowlist_document(
        &self,
        name: &str,
        etag: Option<&str>,
    ) -> crate::Result<Fetched> {
        self.get_conditional(self.allowlist_document_url(name), etag)
            .await
    }

    /// `GET /.well-known/mcpreg-keys.json`: the signed keyset, as bytes for the same reason.
    pub async fn signing_keys(&self) -> crate::Result<Fetched> {
        self.get_conditional(self.url(&KEYSET_PATH_SEGMENTS), None)
            .await
    }
}
