//! Identity and access against a real OpenID provider (panva/oidc-provider from npm): JWT access
//! tokens validated locally, roles from group claims, every bad-credential case, the
//! authorization matrix of every endpoint × every kind of caller, and trusted publishing.
//!
//! What callers may do is driven through the typed client. The bad-credential cases, switching
//! anonymous reads off and the authorization matrix send bytes: they are about the wire (the
//! `WWW-Authenticate` challenge, a problem that never echoes the credential, the status of every
//! route for every caller, routes the client has no method for).

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use crate::util::{
    Idp, TestApp, TestDb, call, expect_problem, locations, refused_status, server_json,
};
use axum::http::{Method, StatusCode, header};
use base64::Engine;
use mcpreg_api::access::{NewTrustedPublisher, TokenExchange};
use mcpreg_api::admin::{NewNamespace, Role, StatusChange};
use mcpreg_api::name::NamespaceName;
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::registry::Status;
use mcpreg_client::ServerListQuery;
use serde_json::{Value, json};

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

/// A token signed with a key the issuer never published.
fn forged_es256(issuer: &str) -> String {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .unwrap();
    let key = jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref());
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("forged-key".into());
    let claims = json!({"iss": issuer, "aud": "mcpreg", "sub": "mallory", "groups": ["platform-admins"], "exp": chrono::Utc::now().timestamp() + 300});
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn oidc_callers_get_roles_from_their_claims() {
    let idp = Idp::start();
    let r = TestApp::with_access(idp.access_config(true)).await;

    let alice = r.client(Some(&idp.device_login("alice").await));
    let me = alice.whoami().await.unwrap();
    assert_eq!(me.subject, "oidc:alice@127.0.0.1");
    assert_eq!(me.kind, "oidc");
    assert_eq!(me.roles, [Role::Admin]);
    assert_eq!(me.groups, ["platform-admins"]);

    let bob = r.client(Some(&idp.device_login("bob").await));
    let me = bob.whoami().await.unwrap();
    assert!(me.roles.is_empty(), "{me:#?}");
    assert_eq!(me.namespaces, ["com.acme"]);
    bob.publish_server_json(&server_json("com.acme/weather", "1.0.0"))
        .await
        .unwrap();
    let refused = bob
        .publish_server_json(&server_json("com.other/weather", "1.0.0"))
        .await
        .unwrap_err();
    let refused = refused.api_failure().unwrap();
    assert_eq!(refused.status.as_u16(), 403);
    assert!(
        refused
            .problem
            .detail
            .contains("`publisher` role for namespace `com.other`"),
        "{:#?}",
        refused.problem
    );

    // Machines: a client-credentials token, mapped by its subject.
    let robot = idp
        .client_credentials("robot", "robot-secret", "urn:mcpreg")
        .await;
    let me = r.client(Some(&robot)).whoami().await.unwrap();
    assert_eq!(
        (me.subject.as_str(), me.namespaces),
        ("oidc:robot@127.0.0.1", vec!["com.acme".to_owned()])
    );

    // Someone in no mapped group reads what anyone may read, and nothing more.
    let carol = r.client(Some(&idp.device_login("carol").await));
    carol.servers(&ServerListQuery::default()).await.unwrap();
    let refused = carol
        .create_namespace(&NewNamespace {
            name: NamespaceName::parse("com.carol").unwrap(),
            description: None,
        })
        .await
        .unwrap_err();
    let refused = refused.api_failure().unwrap();
    assert_eq!(refused.status.as_u16(), 403);
    assert!(refused.problem.detail.contains("no role"));

    // The actor recorded for the publish is the person.
    let actor: String =
        sqlx::query_scalar("select actor from audit_events where action = 'version.publish'")
            .fetch_one(&r.db.pool)
            .await
            .unwrap();
    assert_eq!(actor, "oidc:bob@127.0.0.1");

    // Clients discover the identity provider from the registry (RFC 9728).
    let anonymous = r.anonymous_client();
    let meta = anonymous.protected_resource().await.unwrap();
    assert_eq!(
        meta.authorization_servers,
        std::slice::from_ref(&idp.issuer)
    );
    let settings = anonymous.auth_settings().await.unwrap();
    assert_eq!(
        (settings.issuer, settings.client_id),
        (Some(idp.issuer.clone()), Some("mcpreg-cli".to_owned()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_credential_is_refused_naming_the_failed_check() {
    let idp = Idp::start();
    let other_idp = Idp::start();
    let db = TestDb::new().await;
    let app = db.app_with(idp.access_config(true));

    let valid = idp
        .client_credentials("robot", "robot-secret", "urn:mcpreg")
        .await;
    let parts: Vec<&str> = valid.split('.').collect();
    let mut claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    claims["sub"] = json!("alice");
    let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        parts[1]
    );
    let hs256 = {
        let key =
            jsonwebtoken::EncodingKey::from_secret(b"the issuer's public key, as an HMAC secret");
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = jsonwebtoken::decode_header(&valid).unwrap().kid;
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    };
    let short = idp
        .client_credentials("robot", "robot-secret", "urn:short")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    let cases = [
        (short, "expired_token"),
        (
            idp.client_credentials("robot", "robot-secret", "urn:other")
                .await,
            "invalid_audience",
        ),
        (
            other_idp
                .client_credentials("robot", "robot-secret", "urn:mcpreg")
                .await,
            "untrusted_issuer",
        ),
        (forged_es256(&idp.issuer), "unknown_key"),
        (none, "unsupported_algorithm"),
        (hs256, "unsupported_algorithm"),
        (tampered, "invalid_signature"),
        ("eyJ.eyJ.sig".to_owned(), "malformed_token"),
        ("not-a-token".to_owned(), "invalid_token"),
    ];
    for (token, code) in cases {
        let reply = call(&app, Method::GET, "/api/v1/whoami", Some(&token), None).await;
        reply.problem(401, code);
        let challenge = reply
            .headers
            .get(header::WWW_AUTHENTICATE)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            challenge.starts_with("Bearer realm=\"mcpreg\", error=\"invalid_token\""),
            "{challenge}"
        );
        assert!(
            !reply.body.to_string().contains(&token),
            "a problem must not echo the credential"
        );
        // Bad credentials are refused on reads too, even though reads need none.
        assert_eq!(
            call(&app, Method::GET, "/v0.1/servers", Some(&token), None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        call(&app, Method::GET, "/api/v1/whoami", Some(&valid), None)
            .await
            .status,
        StatusCode::OK
    );

    // Keys were fetched once: unknown `kid`s within the refresh floor do not make the registry
    // hammer the identity provider.
    let fetched = idp.jwks_fetches().await;
    for _ in 0..5 {
        let reply = call(
            &app,
            Method::GET,
            "/api/v1/whoami",
            Some(&forged_es256(&idp.issuer)),
            None,
        )
        .await;
        reply.problem(401, "unknown_key");
    }
    assert_eq!(idp.jwks_fetches().await, fetched);
    assert_eq!(fetched, 1, "one fetch served every token above");
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_reads_can_be_switched_off() {
    let idp = Idp::start();
    let db = TestDb::new().await;
    let app = db.app_with(idp.access_config(false));
    let reply = call(&app, Method::GET, "/v0.1/servers", None, None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.headers.contains_key(header::WWW_AUTHENTICATE));
    let carol = idp.device_login("carol").await;
    assert_eq!(
        call(&app, Method::GET, "/v0.1/servers", Some(&carol), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let reader = db.token("reader", Role::Reader).await;
    assert_eq!(
        call(&app, Method::GET, "/v0.1/servers", Some(&reader), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, Method::GET, "/api/v1/namespaces", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Operations and documentation stay open.
    assert_eq!(
        call(&app, Method::GET, "/healthz", None, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, Method::GET, "/openapi.json", None, None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn trusted_publishing_gives_ci_a_token_for_one_server() {
    let idp = Idp::start();
    let r = TestApp::with_access(idp.access_config(true)).await;
    let admin = r.admin_client();
    mcpreg_server::db::namespaces::insert(&r.db.pool, "com.acme", None, "test")
        .await
        .unwrap();
    let publisher = NewTrustedPublisher {
        server: None,
        issuer: idp.issuer.clone(),
        repository: "acme/weather".to_owned(),
        repository_owner_id: "4242".to_owned(),
        workflow: "release.yml".to_owned(),
        environment: Some("production".to_owned()),
    };
    admin
        .add_trusted_publisher("com.acme", &publisher)
        .await
        .unwrap();
    let bad = admin
        .add_trusted_publisher(
            "com.acme",
            &NewTrustedPublisher {
                server: None,
                issuer: "https://ci.example.com".to_owned(),
                repository: "nope".to_owned(),
                repository_owner_id: "x".to_owned(),
                workflow: "a/b".to_owned(),
                environment: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        locations(&bad.api_failure().unwrap().problem),
        ["issuer", "repository", "repositoryOwnerId", "workflow"]
    );

    let anonymous = r.anonymous_client();
    let exchange = |token: String, server: &str| {
        let request = TokenExchange {
            token,
            server: server.to_owned(),
        };
        let anonymous = anonymous.clone();
        async move { anonymous.exchange_token(&request).await }
    };
    let ci_token = idp.actions_token("gha-release", "mcpreg").await;
    let exchanged = exchange(ci_token.clone(), "com.acme/weather")
        .await
        .unwrap();
    let token = exchanged.token.clone();
    assert!(token.starts_with("mcpreg_"));
    assert!(exchanged.expires_at.timestamp() - chrono::Utc::now().timestamp() <= 900);

    let ci = r.client(Some(&token));
    ci.publish_server_json(&server_json("com.acme/weather", "1.0.0"))
        .await
        .unwrap();
    let other = ci
        .publish_server_json(&server_json("com.acme/other", "1.0.0"))
        .await;
    assert_eq!(
        refused_status(other),
        403,
        "only the server it was exchanged for"
    );
    let status = ci
        .set_server_status(
            "com.acme/weather",
            &StatusChange {
                status: Status::Deprecated,
                status_message: None,
            },
        )
        .await;
    assert_eq!(refused_status(status), 403, "publish only");
    assert_eq!(refused_status(ci.tokens().await), 403);

    // Each refusal names its reason.
    let replay = exchange(ci_token, "com.acme/weather").await;
    expect_problem(replay, 401, ProblemCode::TokenReplayed);
    for (client, code) in [
        ("gha-prt", ProblemCode::TriggerNotAllowed),
        ("gha-build", ProblemCode::WorkflowMismatch),
        ("gha-recreated", ProblemCode::OwnerIdMismatch),
        ("gha-staging", ProblemCode::EnvironmentMismatch),
    ] {
        let reply = exchange(
            idp.actions_token(client, "mcpreg").await,
            "com.acme/weather",
        )
        .await;
        expect_problem(reply, 403, code);
    }
    let reply = exchange(
        idp.actions_token("gha-release", "mcpreg").await,
        "org.other/weather",
    )
    .await;
    expect_problem(reply, 403, ProblemCode::NoTrustedPublisher);
    let reply = exchange(
        idp.actions_token("gha-release", "other").await,
        "com.acme/weather",
    )
    .await;
    expect_problem(reply, 401, ProblemCode::InvalidAudience);
    // A person's token is not a CI token.
    let reply = exchange(idp.device_login("alice").await, "com.acme/weather").await;
    assert_eq!(refused_status(reply), 403);

    let events: Vec<String> = sqlx::query_scalar(
        "select actor from audit_events where action = 'trusted_publishing.exchange'",
    )
    .fetch_all(&r.db.pool)
    .await
    .unwrap();
    assert_eq!(
        events,
        ["ci:acme/weather@acme/weather/.github/workflows/release.yml@refs/tags/v1.0.0"]
    );
}

/// Every endpoint × every kind of caller. A new endpoint fails the completeness check at the end
/// until it is added here with the statuses each caller must get.
#[tokio::test(flavor = "multi_thread")]
async fn authorization_matrix() {
    let idp = Idp::start();
    let r = TestApp::with_access(idp.access_config(true)).await;
    let (db, app, admin) = (&r.db, r.app.clone(), r.admin.clone());
    let callers: Vec<(&str, Option<String>)> = vec![
        ("anonymous", None),
        ("reader", Some(db.token("m-reader", Role::Reader).await)),
        ("auditor", Some(db.token("m-auditor", Role::Auditor).await)),
        (
            "reviewer",
            Some(db.token("m-reviewer", Role::Reviewer).await),
        ),
        (
            "publisher",
            Some(
                db.scoped_token("m-pub", Role::Publisher, &["com.acme"])
                    .await,
            ),
        ),
        (
            "other-publisher",
            Some(
                db.scoped_token("m-pub-other", Role::Publisher, &["org.other"])
                    .await,
            ),
        ),
        ("admin", Some(admin.clone())),
        ("oidc-admin", Some(idp.device_login("alice").await)),
        ("oidc-publisher", Some(idp.device_login("bob").await)),
    ];
    // The trusted-publishing token may publish com.acme/weather and nothing else.
    let tp = {
        let p = json!({"issuer": idp.issuer, "repository": "acme/weather", "repositoryOwnerId": "4242", "workflow": "release.yml"});
        let added = call(
            &app,
            Method::POST,
            "/api/v1/namespaces/com.acme/trusted-publishers",
            Some(&admin),
            Some(&p),
        )
        .await;
        assert_eq!(added.status, StatusCode::CREATED);
        let body = json!({"token": idp.actions_token("gha-release", "mcpreg").await, "server": "com.acme/weather"});
        call(
            &app,
            Method::POST,
            "/api/v1/auth/trusted-publishing",
            None,
            Some(&body),
        )
        .await
        .body["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut callers = callers;
    callers.push(("trusted-publishing", Some(tp)));
    r.published(&admin, &server_json("com.acme/weather", "0.0.1"))
        .await;
    // Signatures attached in the matrix are made with this test key, trusted for com.acme.
    r.trust_test_key("com.acme").await;
    // A tool manifest on com.acme/weather@0.0.1: reads find it, and a second one is a 409 for
    // anyone allowed to attach one.
    r.attach_tools(
        &admin,
        "com.acme/weather",
        "0.0.1",
        &crate::util::everything_manifest(),
    )
    .await;
    // An allowlist anyone may read: its views and document answer everyone alike.
    let open = call(
        &app,
        Method::POST,
        "/api/v1/allowlists",
        Some(&admin),
        Some(&json!({"name": "matrix", "access": "anonymous"})),
    )
    .await;
    assert_eq!(open.status, StatusCode::CREATED, "{:#}", open.body);
    /// A fresh key signature over com.acme/weather@0.0.1's server.json (ECDSA: never the same
    /// twice, so each call stores a new one).
    fn signature_of_weather(_: usize) -> Value {
        crate::util::test_key_signature(&server_json("com.acme/weather", "0.0.1"))
    }

    use StatusCode as S;
    const OK: S = S::OK;
    const C: S = S::CREATED;
    const F: S = S::FORBIDDEN;
    const U: S = S::UNAUTHORIZED;
    const NF: S = S::NOT_FOUND;
    const X: S = S::CONFLICT;
    const UE: S = S::UNPROCESSABLE_ENTITY;
    // Columns: anonymous, reader, auditor, reviewer, publisher, other-publisher, admin,
    // oidc-admin, oidc-publisher, trusted-publishing.
    type Row = (
        Method,
        &'static str,
        &'static str,
        Option<fn(usize) -> Value>,
        [S; 10],
    );
    let rows: Vec<Row> = vec![
        (
            Method::GET,
            "/v0.1/servers",
            "/v0.1/servers",
            None,
            [OK; 10],
        ),
        (
            Method::GET,
            "/v0.1/servers/{serverName}/versions",
            "/v0.1/servers/com.acme%2Fweather/versions",
            None,
            [OK; 10],
        ),
        (
            Method::GET,
            "/v0.1/servers/{serverName}/versions/{version}",
            "/v0.1/servers/com.acme%2Fweather/versions/latest",
            None,
            [OK; 10],
        ),
        (
            Method::POST,
            "/v0.1/validate",
            "/v0.1/validate",
            Some(|_| server_json("com.acme/weather", "9.9.9")),
            [OK; 10],
        ),
        (
            Method::POST,
            "/api/v1/validate",
            "/api/v1/validate",
            Some(|_| server_json("com.acme/weather", "9.9.9")),
            [OK; 10],
        ),
        (
            Method::POST,
            "/v0.1/publish",
            "/v0.1/publish",
            Some(|i| server_json("com.acme/weather", &format!("1.0.{i}"))),
            [U, F, F, F, C, F, C, C, C, C],
        ),
        (
            Method::POST,
            "/api/v1/publish",
            "/api/v1/publish",
            Some(|i| server_json("com.acme/weather", &format!("2.0.{i}"))),
            [U, F, F, F, C, F, C, C, C, C],
        ),
        // A batch is refused whole only to a caller who may publish nothing; each document is
        // then accepted or refused on its own (tests/bulk.rs), so another namespace's publisher
        // gets 200 with the document refused.
        (
            Method::POST,
            "/api/v1/publish/batch",
            "/api/v1/publish/batch",
            Some(|i| json!({"documents": [server_json("com.acme/weather", &format!("3.0.{i}"))]})),
            [U, F, F, F, OK, OK, OK, OK, OK, OK],
        ),
        (
            Method::PATCH,
            "/api/v1/servers/{serverName}/status",
            "/api/v1/servers/com.acme%2Fweather/status",
            Some(|_| json!({"status": "active"})),
            [U, F, F, F, OK, F, OK, OK, OK, F],
        ),
        (
            Method::PATCH,
            "/api/v1/servers/{serverName}/versions/{version}/status",
            "/api/v1/servers/com.acme%2Fweather/versions/0.0.1/status",
            Some(|_| json!({"status": "active"})),
            [U, F, F, F, OK, F, OK, OK, OK, F],
        ),
        (
            Method::GET,
            "/api/v1/namespaces",
            "/api/v1/namespaces",
            None,
            [OK; 10],
        ),
        (
            Method::GET,
            "/api/v1/namespaces/{name}",
            "/api/v1/namespaces/com.acme",
            None,
            [OK; 10],
        ),
        (
            Method::POST,
            "/api/v1/namespaces",
            "/api/v1/namespaces",
            Some(|i| json!({"name": format!("com.matrix{i}")})),
            [U, F, F, F, F, F, C, C, F, F],
        ),
        (
            Method::GET,
            "/api/v1/namespaces/{name}/trusted-publishers",
            "/api/v1/namespaces/com.acme/trusted-publishers",
            None,
            [U, F, F, F, F, F, OK, OK, F, F],
        ),
        (
            Method::POST,
            "/api/v1/namespaces/{name}/trusted-publishers",
            "/api/v1/namespaces/com.acme/trusted-publishers",
            Some(
                |_| json!({"issuer": "ISSUER", "repository": "acme/x", "repositoryOwnerId": "1", "workflow": "r.yml"}),
            ),
            [U, F, F, F, F, F, C, C, F, F],
        ),
        (
            Method::DELETE,
            "/api/v1/namespaces/{name}/trusted-publishers/{id}",
            "/api/v1/namespaces/com.acme/trusted-publishers/999999",
            None,
            [U, F, F, F, F, F, NF, NF, F, F],
        ),
        (
            Method::GET,
            "/api/v1/servers/{serverName}/versions/{version}/trust",
            "/api/v1/servers/com.acme%2Fweather/versions/0.0.1/trust",
            None,
            [OK; 10],
        ),
        (
            Method::POST,
            "/api/v1/servers/{serverName}/versions/{version}/signatures",
            "/api/v1/servers/com.acme%2Fweather/versions/0.0.1/signatures",
            Some(signature_of_weather),
            [U, F, F, F, C, F, C, C, C, C],
        ),
        (
            Method::GET,
            "/api/v1/servers/{serverName}/versions/{version}/tools",
            "/api/v1/servers/com.acme%2Fweather/versions/0.0.1/tools",
            None,
            [OK; 10],
        ),
        (
            Method::PUT,
            "/api/v1/servers/{serverName}/versions/{version}/tools",
            "/api/v1/servers/com.acme%2Fweather/versions/0.0.1/tools",
            Some(|_| serde_json::to_value(crate::util::everything_manifest()).unwrap()),
            [U, F, F, X, X, F, X, X, X, X],
        ),
        (
            Method::GET,
            "/api/v1/servers/{serverName}/versions/{version}/scans",
            "/api/v1/servers/com.acme%2Fweather/versions/0.0.1/scans",
            None,
            [OK; 10],
        ),
        (
            Method::POST,
            "/api/v1/servers/{serverName}/versions/{version}/scans",
            "/api/v1/servers/com.acme%2Fweather/versions/0.0.1/scans",
            Some(|_| json!({"report": {"not": "a report"}})),
            [U, F, F, UE, UE, F, UE, UE, UE, UE],
        ),
        (
            Method::GET,
            "/api/v1/servers/{serverName}/versions/{version}/scans/sarif",
            "/api/v1/servers/com.acme%2Fweather/versions/0.0.1/scans/sarif",
            None,
            [OK; 10],
        ),
        (
            Method::GET,
            "/api/v1/reviews",
            "/api/v1/reviews",
            None,
            [U, F, F, OK, F, F, OK, OK, F, F],
        ),
        (
            Method::GET,
            "/api/v1/servers/{serverName}/versions/{version}/review",
            "/api/v1/servers/com.acme%2Fweather/versions/0.0.1/review",
            None,
            [OK; 10],
        ),
        (
            Method::POST,
            "/api/v1/servers/{serverName}/versions/{version}/review",
            "/api/v1/servers/com.acme%2Fweather/versions/0.0.1/review",
            // A revocation without a reason: refused for what it says, once the caller may.
            Some(|_| json!({"action": "revoke"})),
            [U, F, F, UE, F, F, UE, UE, F, F],
        ),
        (
            Method::GET,
            "/api/v1/namespaces/{name}/trusted-signers",
            "/api/v1/namespaces/com.acme/trusted-signers",
            None,
            [U, F, F, F, F, F, OK, OK, F, F],
        ),
        (
            Method::POST,
            "/api/v1/namespaces/{name}/trusted-signers",
            "/api/v1/namespaces/com.acme/trusted-signers",
            Some(
                |i| json!({"identity": format!("ci{i}@example.com"), "issuer": "https://token.actions.githubusercontent.com"}),
            ),
            [U, F, F, F, F, F, C, C, F, F],
        ),
        (
            Method::DELETE,
            "/api/v1/namespaces/{name}/trusted-signers/{id}",
            "/api/v1/namespaces/com.acme/trusted-signers/999999",
            None,
            [U, F, F, F, F, F, NF, NF, F, F],
        ),
        (
            Method::GET,
            "/api/v1/tokens",
            "/api/v1/tokens",
            None,
            [U, F, F, F, F, F, OK, OK, F, F],
        ),
        (
            Method::POST,
            "/api/v1/tokens",
            "/api/v1/tokens",
            Some(|i| json!({"name": format!("matrix-{i}"), "role": "reader"})),
            [U, F, F, F, F, F, C, C, F, F],
        ),
        (
            Method::DELETE,
            "/api/v1/tokens/{name}",
            "/api/v1/tokens/no-such-token",
            None,
            [U, F, F, F, F, F, NF, NF, F, F],
        ),
        (
            Method::PUT,
            "/api/v1/policy",
            "/api/v1/policy",
            // The first admin applies it; the second applies the same document (unchanged).
            Some(
                |_| json!({"source": "apiVersion: mcpreg.dev/v1\nkind: Policy\nrules:\n  - name: all-approved\n    effect: allow\n    subjects: [{anyone: true}]\n    resources: [{server: \"*/*\"}]\n    require: {reviewState: [approved]}\n"}),
            ),
            [U, F, F, F, F, F, OK, OK, F, F],
        ),
        (
            Method::GET,
            "/api/v1/policy",
            "/api/v1/policy",
            None,
            [OK; 10],
        ),
        (
            Method::POST,
            "/api/v1/policy/diff",
            "/api/v1/policy/diff",
            Some(|_| json!({"source": "apiVersion: mcpreg.dev/v1\nkind: Policy\nrules: []\n"})),
            [U, F, F, OK, F, F, OK, OK, F, F],
        ),
        (
            Method::POST,
            "/api/v1/decisions",
            "/api/v1/decisions",
            Some(
                |_| json!({"subject": {"groups": ["platform"]}, "server": "com.acme/weather", "version": "0.0.1"}),
            ),
            [OK; 10],
        ),
        (
            Method::GET,
            "/api/v1/audit",
            "/api/v1/audit",
            None,
            [U, F, OK, F, F, F, OK, OK, F, F],
        ),
        (
            Method::GET,
            "/api/v1/whoami",
            "/api/v1/whoami",
            None,
            [U, OK, OK, OK, OK, OK, OK, OK, OK, OK],
        ),
        (
            Method::GET,
            "/api/v1/auth/settings",
            "/api/v1/auth/settings",
            None,
            [OK; 10],
        ),
        (
            Method::GET,
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-protected-resource",
            None,
            [OK; 10],
        ),
        (
            Method::GET,
            "/api/v1/allowlists",
            "/api/v1/allowlists",
            None,
            [U, OK, OK, OK, OK, OK, OK, OK, OK, OK],
        ),
        (
            Method::POST,
            "/api/v1/allowlists",
            "/api/v1/allowlists",
            Some(|i| json!({"name": format!("matrix-{i}")})),
            [U, F, F, F, F, F, C, C, F, F],
        ),
        (
            Method::GET,
            "/api/v1/allowlists/{name}",
            "/api/v1/allowlists/matrix",
            None,
            [OK; 10],
        ),
        (
            Method::GET,
            "/.well-known/mcpreg-keys.json",
            "/.well-known/mcpreg-keys.json",
            None,
            [OK; 10],
        ),
        (
            Method::GET,
            "/a/{allowlist}/v0.1/servers",
            "/a/matrix/v0.1/servers",
            None,
            [OK; 10],
        ),
        (
            Method::GET,
            "/a/{allowlist}/v0.1/servers/{serverName}/versions",
            "/a/matrix/v0.1/servers/com.acme%2Fweather/versions",
            None,
            [NF; 10],
        ),
        (
            Method::GET,
            "/a/{allowlist}/v0.1/servers/{serverName}/versions/{version}",
            "/a/matrix/v0.1/servers/com.acme%2Fweather/versions/latest",
            None,
            [NF; 10],
        ),
        (
            Method::GET,
            "/api/v1/servers/{serverName}/tags",
            "/api/v1/servers/com.acme%2Fweather/tags",
            None,
            [OK; 10],
        ),
        (
            Method::PUT,
            "/api/v1/servers/{serverName}/tags",
            "/api/v1/servers/com.acme%2Fweather/tags",
            Some(|_| json!({"tags": ["matrix"]})),
            [U, F, F, OK, F, F, OK, OK, F, F],
        ),
        (Method::GET, "/healthz", "/healthz", None, [OK; 10]),
        (Method::GET, "/readyz", "/readyz", None, [OK; 10]),
    ];
    let mut failures = Vec::new();
    let mut n = 0;
    for (method, _, uri, body, expected) in &rows {
        for ((who, token), want) in callers.iter().zip(expected) {
            n += 1;
            let body = body.map(|f| {
                let mut b = f(n);
                if b["issuer"] == "ISSUER" {
                    b["issuer"] = json!(idp.issuer);
                    b["repository"] = json!(format!("acme/x{n}"));
                }
                b
            });
            let reply = call(&app, method.clone(), uri, token.as_deref(), body.as_ref()).await;
            if reply.status != *want {
                failures.push(format!(
                    "{method} {uri} as {who}: got {}, want {want}: {}",
                    reply.status, reply.body["detail"]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The trusted-publishing exchange itself needs a CI token rather than a caller: covered above.

    // Completeness: every documented operation is in the matrix.
    let doc = serde_json::to_value(mcpreg_server::router::openapi()).unwrap();
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let covered = rows
                .iter()
                .any(|(m, p, ..)| p == path && m.as_str().eq_ignore_ascii_case(method))
                || (path == "/api/v1/auth/trusted-publishing" && method == "post");
            if !covered {
                missing.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "endpoints missing from the authorization matrix: {missing:?}"
    );
}

/// The CLI end to end: `mcpreg login` through the real device flow, stored credentials (0600,
/// refreshed when expired), `whoami`, API tokens, trusted publishers, and `mcpreg publish` in a
/// GitHub-Actions-shaped environment with no stored secret.
#[tokio::test(flavor = "multi_thread")]
async fn cli_login_tokens_and_trusted_publishing() {
    use crate::util::{ServerProcess, binary, mcpreg_with};
    use std::io::{BufRead, BufReader};
    use std::os::unix::fs::PermissionsExt;

    let idp = Idp::start();
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let config = idp.access_config_file(dir.path(), true);
    let server = ServerProcess::start(
        &["--config", config.to_str().unwrap()],
        &[("DATABASE_URL", &db.url)],
    );
    let url = server.url.clone();
    let home = dir.path().join("home");
    let home_str = home.to_str().unwrap().to_owned();
    let as_user = [("MCPREG_CONFIG_DIR", home_str.as_str())];

    // Login: the CLI shows a code; the person approves it at the IdP; the CLI finishes.
    let mut login = std::process::Command::new(binary("mcpreg"))
        .args(["login", "--wait", "60"])
        .env("MCPREG_URL", &url)
        .env("MCPREG_CONFIG_DIR", &home)
        .env_remove("MCPREG_TOKEN")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(login.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("enter the code") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "login ended early"
        );
    }
    let code = line.trim().rsplit(' ').next().unwrap().to_owned();
    idp.approve(&code, "alice").await;
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(login.wait().unwrap().success(), "{rest}");
    assert!(
        rest.contains("Signed in as oidc:alice@127.0.0.1 (admin)"),
        "{rest}"
    );
    let stored = home.join("credentials.json");
    assert_eq!(
        std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&home).unwrap().permissions().mode() & 0o777,
        0o700
    );

    let me = mcpreg_with(&url, None, &as_user, &["whoami", "-o", "json"]);
    assert_eq!(me.code, 0, "{}", me.stderr);
    let me: Value = serde_json::from_str(&me.stdout).unwrap();
    assert_eq!(
        (me["subject"].as_str(), me["roles"].clone()),
        (Some("oidc:alice@127.0.0.1"), json!(["admin"]))
    );

    // An expired access token is refreshed with the refresh token, and stored again.
    let mut creds: Value =
        serde_json::from_str(&std::fs::read_to_string(&stored).unwrap()).unwrap();
    let key = creds["registries"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let old = creds["registries"][&key]["accessToken"].clone();
    creds["registries"][&key]["expiresAt"] = json!("2000-01-01T00:00:00Z");
    std::fs::write(&stored, serde_json::to_vec(&creds).unwrap()).unwrap();
    assert_eq!(mcpreg_with(&url, None, &as_user, &["whoami"]).code, 0);
    let creds: Value = serde_json::from_str(&std::fs::read_to_string(&stored).unwrap()).unwrap();
    assert_ne!(creds["registries"][&key]["accessToken"], old, "refreshed");

    // Admin work as alice: a namespace, a publisher token, a trusted publisher.
    assert_eq!(
        mcpreg_with(&url, None, &as_user, &["namespace", "create", "com.acme"]).code,
        0
    );
    let created = mcpreg_with(
        &url,
        None,
        &as_user,
        &[
            "token",
            "create",
            "--name",
            "ci",
            "--role",
            "publisher",
            "--namespace",
            "com.acme",
            "-o",
            "json",
        ],
    );
    assert_eq!(created.code, 0, "{}", created.stderr);
    let token = serde_json::from_str::<Value>(&created.stdout).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = mcpreg_with(&url, None, &as_user, &["token", "list", "-o", "json"]);
    assert!(
        listed.stdout.contains("\"ci\"") && !listed.stdout.contains(&token),
        "{}",
        listed.stdout
    );
    let doc = dir.path().join("server.json");
    std::fs::write(
        &doc,
        serde_json::to_vec(&server_json("com.acme/weather", "1.0.0")).unwrap(),
    )
    .unwrap();
    let doc = doc.to_str().unwrap();
    assert_eq!(
        mcpreg_with(&url, Some(&token), &[], &["publish", doc]).code,
        0
    );
    assert_eq!(
        mcpreg_with(&url, None, &as_user, &["token", "revoke", "ci"]).code,
        0
    );
    let revoked = mcpreg_with(&url, Some(&token), &[], &["whoami"]);
    assert_eq!(revoked.code, 5);
    assert!(revoked.stderr.contains("revoked"), "{}", revoked.stderr);

    let added = mcpreg_with(
        &url,
        None,
        &as_user,
        &[
            "trusted-publisher",
            "add",
            "com.acme",
            "--issuer",
            &idp.issuer,
            "--repository",
            "acme/weather",
            "--owner-id",
            "4242",
            "--workflow",
            "release.yml",
            "--environment",
            "production",
        ],
    );
    assert_eq!(added.code, 0, "{}", added.stderr);

    // In "GitHub Actions": no registry token anywhere, only the job's OIDC token endpoint.
    std::fs::write(
        dir.path().join("server.json"),
        serde_json::to_vec(&server_json("com.acme/weather", "1.1.0")).unwrap(),
    )
    .unwrap();
    let actions = |client: &str| {
        let request_url = idp.actions_request_url(client);
        mcpreg_with(
            &url,
            None,
            &[
                ("ACTIONS_ID_TOKEN_REQUEST_URL", &request_url),
                ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "job-token"),
            ],
            &["publish", doc],
        )
    };
    let run = actions("gha-release");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("trusted publishing")
            && run.stdout.contains("published com.acme/weather@1.1.0"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let refused = actions("gha-prt");
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("pull_request_target"),
        "{}",
        refused.stderr
    );

    assert_eq!(mcpreg_with(&url, None, &as_user, &["logout"]).code, 0);
    assert_eq!(mcpreg_with(&url, None, &as_user, &["whoami"]).code, 5);
}
