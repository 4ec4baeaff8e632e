//! Trusted publishing from CI: find the pipeline's ambient OIDC token and exchange it for a
//! short-lived registry token that may publish one server.
//!
//! Sources, in order: `MCPREG_CI_OIDC_TOKEN` (a JWT any CI can provide), then GitHub Actions'
//! `ACTIONS_ID_TOKEN_REQUEST_URL` / `ACTIONS_ID_TOKEN_REQUEST_TOKEN` (the job needs
//! `permissions: id-token: write`).

use mcpreg_api::access::TokenExchange;
use mcpreg_client::Client;
use serde::Deserialize;

/// Whether this process runs where an ambient CI token can be had.
pub fn available() -> bool {
    std::env::var_os("MCPREG_CI_OIDC_TOKEN").is_some()
        || (std::env::var_os("ACTIONS_ID_TOKEN_REQUEST_URL").is_some()
            && std::env::var_os("ACTIONS_ID_TOKEN_REQUEST_TOKEN").is_some())
}

#[derive(Deserialize)]
struct ActionsToken {
    value: String,
}

async fn ambient_token(client: &Client) -> anyhow::Result<String> {
    if let Ok(token) = std::env::var("MCPREG_CI_OIDC_TOKEN") {
        return Ok(token);
    }
    let (Ok(url), Ok(request_token)) = (
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL"),
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) else {
        anyhow::bail!(
            "no CI OIDC token: set MCPREG_CI_OIDC_TOKEN, or run in GitHub Actions with `permissions: id-token: write`"
        );
    };
    let settings = client.auth_settings().await?;
    let audience = match std::env::var("MCPREG_CI_AUDIENCE") {
        Ok(a) => a,
        Err(_) => settings
            .trusted_publishing
            .first()
            .map(|i| i.audience.clone())
            .ok_or_else(|| {
                anyhow::anyhow!("the registry trusts no CI issuer for trusted publishing")
            })?,
    };
    let mut url = reqwest::Url::parse(&url)?;
    url.query_pairs_mut().append_pair("audience", &audience);
    let token: ActionsToken = client
        .http()
        .get(url)
        .bearer_auth(request_token)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| anyhow::anyhow!("cannot get the GitHub Actions OIDC token: {e}"))?
        .json()
        .await?;
    Ok(token.value)
}

/// A client that may publish `server`, from the CI's ambient OIDC token.
pub async fn publishing_client(client: &Client, server: &str) -> anyhow::Result<Client> {
    let token = ambient_token(client).await?;
    let exchanged = client
        .exchange_token(&TokenExchange {
            token,
            server: server.to_owned(),
        })
        .await?;
    eprintln!(
        "trusted publishing: exchanged the CI token for a token that may publish {} until {}",
        exchanged.server,
        exchanged.expires_at.to_rfc3339()
    );
    Ok(client.with_token(exchanged.token))
}
