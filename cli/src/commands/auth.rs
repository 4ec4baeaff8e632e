//! `mcpreg login`, `logout` and `whoami`: signing in with the company's identity provider through
//! the OAuth 2.0 device authorization grant (RFC 8628).

use std::time::Duration;

use chrono::Utc;
use mcpreg_api::access::Caller;
use mcpreg_client::Client;
use oauth2::basic::BasicClient;
use oauth2::{
    ClientId, DeviceAuthorizationUrl, Scope, StandardDeviceAuthorizationResponse, TokenResponse,
    TokenUrl,
};
use serde_json::Value;

use crate::credentials::{self, Session};
use crate::exit;
use crate::output::{self, Output};

/// Login arguments.
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The identity provider (default: what the registry advertises).
    #[arg(long)]
    issuer: Option<String>,
    /// The CLI's OAuth client id there (default: what the registry advertises).
    #[arg(long)]
    client_id: Option<String>,
    /// Give up waiting for the approval after this many seconds.
    #[arg(long, default_value_t = 600)]
    wait: u64,
}

/// The HTTP client oauth2 needs, over the workspace's reqwest.
pub async fn send(
    http: reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await?;
    let mut out = oauth2::HttpResponse::new(bytes.to_vec());
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

/// `mcpreg login`.
pub async fn login(client: &Client, args: LoginArgs) -> anyhow::Result<u8> {
    let settings = client.auth_settings().await?;
    let issuer = args
        .issuer
        .or(settings.issuer)
        .ok_or_else(|| anyhow::anyhow!("the registry advertises no identity provider for the CLI; pass --issuer and --client-id"))?;
    let client_id = args.client_id.or(settings.client_id).ok_or_else(|| {
        anyhow::anyhow!("the registry advertises no OAuth client id for the CLI; pass --client-id")
    })?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let discovery_url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let metadata: Value = http
        .get(&discovery_url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| anyhow::anyhow!("cannot read {discovery_url}: {e}"))?
        .json()
        .await?;
    let endpoint = |name: &str| {
        metadata
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{issuer} does not advertise `{name}`; does it support the device flow?"
                )
            })
    };
    let device_url = endpoint("device_authorization_endpoint")?;
    let token_url = endpoint("token_endpoint")?;
    let oauth = BasicClient::new(ClientId::new(client_id.clone()))
        .set_device_authorization_url(DeviceAuthorizationUrl::new(device_url)?)
        .set_token_uri(TokenUrl::new(token_url.clone())?);
    let http_for_oauth = http.clone();
    let send_fn = move |request: oauth2::HttpRequest| send(http_for_oauth.clone(), request);

    let scopes = if settings.scopes.is_empty() {
        vec!["openid".to_owned(), "offline_access".to_owned()]
    } else {
        settings.scopes
    };
    let mut request = oauth
        .exchange_device_code()
        .add_scopes(scopes.into_iter().map(Scope::new));
    if let Some(r) = &settings.resource {
        request = request.add_extra_param("resource", r.clone());
    }
    let details: StandardDeviceAuthorizationResponse = request
        .request_async(&send_fn)
        .await
        .map_err(|e| anyhow::anyhow!("the identity provider refused the device login: {e}"))?;
    eprintln!(
        "To sign in, open {} and enter the code {}",
        details.verification_uri().as_str(),
        details.user_code().secret()
    );
    if let Some(complete) = details.verification_uri_complete() {
        eprintln!("(or open {})", complete.secret());
    }
    eprintln!("Waiting for the approval…");
    let mut exchange = oauth.exchange_device_access_token(&details);
    if let Some(r) = &settings.resource {
        exchange = exchange.add_extra_param("resource", r.clone());
    }
    let token = exchange
        .request_async(
            &send_fn,
            tokio::time::sleep,
            Some(Duration::from_secs(args.wait)),
        )
        .await
        .map_err(|e| anyhow::anyhow!("sign-in did not complete: {e}"))?;
    let session = Session {
        access_token: token.access_token().secret().clone(),
        refresh_token: token.refresh_token().map(|r| r.secret().clone()),
        expires_at: token
            .expires_in()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| Utc::now() + d),
        issuer,
        client_id,
        token_endpoint: token_url,
        resource: settings.resource,
    };
    // Check the registry accepts it before storing it.
    let me = client
        .with_token(session.access_token.clone())
        .whoami()
        .await?;
    credentials::store(client.registry_key(), session)?;
    eprintln!("Signed in as {} ({})", me.subject, describe(&me));
    Ok(exit::OK)
}

fn describe(me: &Caller) -> String {
    let mut rights: Vec<String> = me.roles.iter().map(|r| r.to_string()).collect();
    rights.extend(me.namespaces.iter().map(|n| format!("publisher:{n}")));
    if rights.is_empty() {
        "no role".into()
    } else {
        rights.join(", ")
    }
}

/// `mcpreg logout`.
pub fn logout(client: &Client) -> anyhow::Result<u8> {
    if credentials::forget(client.registry_key())? {
        eprintln!("Signed out of {}", client.registry_key());
    } else {
        eprintln!("Not signed in to {}", client.registry_key());
    }
    Ok(exit::OK)
}

/// `mcpreg whoami`.
pub async fn whoami(client: &Client, out: Output) -> anyhow::Result<u8> {
    let me = client.whoami().await?;
    match out {
        Output::Json => output::json(&me)?,
        Output::Table => output::table(
            &["SUBJECT", "ROLES", "GROUPS", "EXPIRES"],
            vec![vec![
                me.subject.clone(),
                describe(&me),
                me.groups.join(", "),
                me.expires_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "never".into()),
            ]],
        ),
    }
    Ok(exit::OK)
}
