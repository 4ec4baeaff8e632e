//! Who may do what: the caller, sign-in settings, tokens, namespaces and their trusted
//! publishers and signers, the audit trail, and the service's probes.

use mcpreg_api::access::{
    AuditPage, AuthSettings, Caller, CreatedToken, ExchangedToken, NewToken, NewTrustedPublisher,
    ProtectedResourceMetadata, TokenExchange, TokenList, TrustedPublisher, TrustedPublisherList,
};
use mcpreg_api::admin::{Health, Namespace, NamespaceList, NewNamespace};
use mcpreg_api::query::AuditQuery;
use mcpreg_api::trust::{NewTrustedSigner, TrustedSigner, TrustedSignerList};
use reqwest::Method;

use crate::Client;

impl Client {
    /// `GET /api/v1/whoami`: who the registry takes the caller for.
    pub async fn whoami(&self) -> crate::Result<Caller> {
        self.get(self.url(&["api", "v1", "whoami"])).await
    }

    /// `GET /api/v1/auth/settings`: the identity provider for the CLI, and the CI issuers
    /// trusted for trusted publishing.
    pub async fn auth_settings(&self) -> crate::Result<AuthSettings> {
        self.get(self.url(&["api", "v1", "auth", "settings"])).await
    }

    /// `POST /api/v1/auth/trusted-publishing`: a CI's OIDC token exchanged for a short-lived
    /// registry token that may publish one server.
    pub async fn exchange_token(&self, exchange: &TokenExchange) -> crate::Result<ExchangedToken> {
        let url = self.url(&["api", "v1", "auth", "trusted-publishing"]);
        self.call(Method::POST, url, Some(exchange)).await
    }

    /// `GET /.well-known/oauth-protected-resource` (RFC 9728).
    pub async fn protected_resource(&self) -> crate::Result<ProtectedResourceMetadata> {
        self.get(self.url(&[".well-known", "oauth-protected-resource"]))
            .await
    }

    /// `GET /api/v1/tokens`: every token, never its secret.
    pub async fn tokens(&self) -> crate::Result<TokenList> {
        self.get(self.url(&["api", "v1", "tokens"])).await
    }

    /// `POST /api/v1/tokens`: a new token; its secret is in the answer, once.
    pub async fn create_token(&self, token: &NewToken) -> crate::Result<CreatedToken> {
        let url = self.url(&["api", "v1", "tokens"]);
        self.call(Method::POST, url, Some(token)).await
    }

    /// `DELETE /api/v1/tokens/{name}`: revoke the live token with this name.
    pub async fn revoke_token(&self, name: &str) -> crate::Result<()> {
        let url = self.url(&["api", "v1", "tokens", name]);
        self.call_no_content(Method::DELETE, url).await
    }

    /// `GET /api/v1/namespaces`.
    pub async fn namespaces(&self) -> crate::Result<NamespaceList> {
        self.get(self.url(&["api", "v1", "namespaces"])).await
    }

    /// `GET /api/v1/namespaces/{name}`.
    pub async fn namespace(&self, name: &str) -> crate::Result<Namespace> {
        self.get(self.url(&["api", "v1", "namespaces", name])).await
    }

    /// `POST /api/v1/namespaces`.
    pub async fn create_namespace(&self, namespace: &NewNamespace) -> crate::Result<Namespace> {
        let url = self.url(&["api", "v1", "namespaces"]);
        self.call(Method::POST, url, Some(namespace)).await
    }

    /// `GET /api/v1/namespaces/{name}/trusted-publishers`.
    pub async fn trusted_publishers(&self, namespace: &str) -> crate::Result<TrustedPublisherList> {
        let url = self.url(&["api", "v1", "namespaces", namespace, "trusted-publishers"]);
        self.get(url).await
    }

    /// `POST /api/v1/namespaces/{name}/trusted-publishers`: trust a CI workflow to publish.
    pub async fn add_trusted_publisher(
        &self,
        namespace: &str,
        publisher: &NewTrustedPublisher,
    ) -> crate::Result<TrustedPublisher> {
        let url = self.url(&["api", "v1", "namespaces", namespace, "trusted-publishers"]);
        self.call(Method::POST, url, Some(publisher)).await
    }

    /// `DELETE /api/v1/namespaces/{name}/trusted-publishers/{id}`.
    pub async fn remove_trusted_publisher(&self, namespace: &str, id: i64) -> crate::Result<()> {
        let id = id.to_string();
        let url = self.url(&[
            "api",
            "v1",
            "namespaces",
            namespace,
            "trusted-publishers",
            &id,
        ]);
        self.call_no_content(Method::DELETE, url).await
    }

    /// `GET /api/v1/namespaces/{name}/trusted-signers`.
    pub async fn trusted_signers(&self, namespace: &str) -> crate::Result<TrustedSignerList> {
        let url = self.url(&["api", "v1", "namespaces", namespace, "trusted-signers"]);
        self.get(url).await
    }

    /// `POST /api/v1/namespaces/{name}/trusted-signers`: accept a signer's signatures.
    pub async fn add_trusted_signer(
        &self,
        namespace: &str,
        signer: &NewTrustedSigner,
    ) -> crate::Result<TrustedSigner> {
        let url = self.url(&["api", "v1", "namespaces", namespace, "trusted-signers"]);
        self.call(Method::POST, url, Some(signer)).await
    }

    /// `DELETE /api/v1/namespaces/{name}/trusted-signers/{id}`.
    pub async fn remove_trusted_signer(&self, namespace: &str, id: i64) -> crate::Result<()> {
        let id = id.to_string();
        let url = self.url(&["api", "v1", "namespaces", namespace, "trusted-signers", &id]);
        self.call_no_content(Method::DELETE, url).await
    }

    /// `GET /api/v1/audit`: one page of the audit trail.
    pub async fn audit(&self, query: AuditQuery) -> crate::Result<AuditPage> {
        self.get(self.url_with_query(&["api", "v1", "audit"], &query)?)
            .await
    }

    /// `GET /healthz`: whether the process serves requests.
    pub async fn healthz(&self) -> crate::Result<Health> {
        self.get(self.url(&["healthz"])).await
    }

    /// `GET /readyz`: whether the service reaches its database.
    pub async fn readyz(&self) -> crate::Result<Health> {
        self.get(self.url(&["readyz"])).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn audit_paging_is_sent_limit_first() {
        let c = Client::new("http://host.test", None, Duration::from_secs(1)).expect("valid");
        let query = AuditQuery {
            before: Some(42),
            limit: Some(500),
        };
        let url = c
            .url_with_query(&["api", "v1", "audit"], &query)
            .expect("serializable");
        assert_eq!(
            url.as_str(),
            "http://host.test/api/v1/audit?limit=500&before=42"
        );
    }
}
