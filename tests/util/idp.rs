//! A real OpenID provider for the identity tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// A real OpenID provider (panva/oidc-provider, from npm) running as a child process, configured
/// by `tests/oidc/provider.mjs`: device flow, client credentials, a `groups` claim, and
/// GitHub-Actions-shaped tokens. `npm ci` runs on first use when its packages are missing.
pub struct Idp {
    child: Child,
    /// Its issuer URL, `http://127.0.0.1:PORT`.
    pub issuer: String,
    http: reqwest::Client,
}

fn ensure_idp_installed() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc");
        // One process installs; the others wait for it (tests run in parallel processes too).
        let lock = std::fs::File::create(dir.join(".install.lock")).expect("create install lock");
        lock.lock().expect("lock install");
        if !dir.join("node_modules").join("oidc-provider").exists() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .expect("run npm ci (Node.js and npm are needed for the identity tests)");
            assert!(status.success(), "npm ci in tests/oidc failed");
        }
    });
}

impl Idp {
    /// Starts the provider on a free port.
    pub fn start() -> Self {
        ensure_idp_installed();
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node tests/oidc/provider.mjs");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the issuer line");
        let issuer = line
            .trim()
            .strip_prefix("ISSUER=")
            .unwrap_or_else(|| panic!("the test IdP did not start: {line:?}"))
            .to_owned();
        Self {
            child,
            issuer,
            http: reqwest::Client::new(),
        }
    }

    async fn token_request(
        &self,
        client: &str,
        secret: Option<&str>,
        form: &[(&str, &str)],
    ) -> serde_json::Value {
        let mut request = self.http.post(format!("{}/token", self.issuer)).form(form);
        if let Some(secret) = secret {
            request = request.basic_auth(client, Some(secret));
        }
        let response = request.send().await.expect("token request");
        response.json().await.expect("token response is JSON")
    }

    /// An access token from the client-credentials grant, for a resource (`urn:mcpreg`,
    /// `urn:other` for another audience, `urn:short` for one that expires within a second).
    pub async fn client_credentials(&self, client: &str, secret: &str, resource: &str) -> String {
        let body = self
            .token_request(
                client,
                Some(secret),
                &[
                    ("grant_type", "client_credentials"),
                    ("resource", resource),
                    ("scope", "registry"),
                ],
            )
            .await;
        body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {body}"))
            .to_owned()
    }

    /// A GitHub-Actions-shaped OIDC token of one of the provider's `gha-*` clients.
    pub async fn actions_token(&self, client: &str, audience: &str) -> String {
        let body: serde_json::Value = self
            .http
            .get(format!(
                "{}/test/actions-token?client={client}&audience={audience}",
                self.issuer
            ))
            .send()
            .await
            .expect("actions token")
            .json()
            .await
            .expect("JSON");
        body["value"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {body}"))
            .to_owned()
    }

    /// How many times the provider's key set has been fetched.
    pub async fn jwks_fetches(&self) -> u64 {
        let stats: serde_json::Value = self
            .http
            .get(format!("{}/test/stats", self.issuer))
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("JSON");
        stats["jwks"].as_u64().expect("jwks count")
    }

    /// The URL GitHub Actions would give as `ACTIONS_ID_TOKEN_REQUEST_URL` for this client.
    pub fn actions_request_url(&self, client: &str) -> String {
        format!("{}/test/actions-token?client={client}", self.issuer)
    }

    /// Approves a pending device login as `account` (what the person does in the browser).
    pub async fn approve(&self, user_code: &str, account: &str) {
        let response = self
            .http
            .post(format!("{}/test/approve", self.issuer))
            .json(&serde_json::json!({"user_code": user_code, "account": account}))
            .send()
            .await
            .expect("approve");
        assert!(
            response.status().is_success(),
            "approve: {}",
            response.text().await.unwrap_or_default()
        );
    }

    /// A user's access token through the real device flow, approved as `account`.
    pub async fn device_login(&self, account: &str) -> String {
        let started: serde_json::Value = self
            .http
            .post(format!("{}/device/auth", self.issuer))
            .form(&[
                ("client_id", "mcpreg-cli"),
                ("scope", "openid offline_access"),
            ])
            .send()
            .await
            .expect("device auth")
            .json()
            .await
            .expect("JSON");
        self.approve(started["user_code"].as_str().expect("user_code"), account)
            .await;
        let body = self
            .token_request(
                "mcpreg-cli",
                None,
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("client_id", "mcpreg-cli"),
                    (
                        "device_code",
                        started["device_code"].as_str().expect("device_code"),
                    ),
                ],
            )
            .await;
        body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {body}"))
            .to_owned()
    }

    /// The access configuration that trusts this provider for people, robots and CI.
    pub fn access_config(
        &self,
        anonymous_reads: bool,
    ) -> mcpreg_server::auth::config::AccessConfig {
        let text = format!(
            r#"
anonymous_reads = {anonymous_reads}

[[oidc.issuers]]
issuer = "{issuer}"
audiences = ["mcpreg"]
leeway_secs = 0

[oidc.groups]
"platform-admins" = ["admin"]
"weather-team" = ["publisher:com.acme"]

[oidc.subjects]
"robot" = ["publisher:com.acme"]

[oidc.cli]
issuer = "{issuer}"
client_id = "mcpreg-cli"

[[trusted_publishing.issuers]]
issuer = "{issuer}"
audience = "mcpreg"
"#,
            issuer = self.issuer
        );
        mcpreg_server::auth::config::AccessConfig::parse(&text).expect("test access config")
    }

    /// The same configuration as a TOML file for a server process.
    pub fn access_config_file(&self, dir: &Path, anonymous_reads: bool) -> PathBuf {
        let path = dir.join("access.toml");
        let text = format!(
            "anonymous_reads = {anonymous_reads}\n[[oidc.issuers]]\nissuer = \"{i}\"\naudiences = [\"mcpreg\"]\n[oidc.groups]\n\"platform-admins\" = [\"admin\"]\n\"weather-team\" = [\"publisher:com.acme\"]\n[oidc.cli]\nissuer = \"{i}\"\nclient_id = \"mcpreg-cli\"\n[[trusted_publishing.issuers]]\nissuer = \"{i}\"\naudience = \"mcpreg\"\n",
            i = self.issuer
        );
        std::fs::write(&path, text).expect("write access config");
        path
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
