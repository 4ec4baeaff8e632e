//! Trusted roots and client trust configs: which load, which are refused and why.

use crate::util::fixture;
use mcpreg_trust::{TrustRoot, TrustRootError};

#[test]
fn trusted_roots_and_client_trust_configs_load() {
    for file in [
        "trust/production/trusted_root.json",
        "trust/staging/trusted_root.json",
        "sigstore-python/trusted_root/trustedroot.v1.json",
        "sigstore-python/trust_config/config.v1.json",
        "sigstore-python/tsa/trust_config.json",
        "sigstore-rs/trust_root.prod.trusted_root.json",
    ] {
        TrustRoot::from_json(&fixture(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    let staging = TrustRoot::from_json(&fixture("trust/staging/trusted_root.json")).unwrap();
    assert!(
        staging
            .transparency_logs()
            .contains(&"https://rekor.sigstage.dev".to_string())
    );
    assert!(format!("{staging:?}").contains("fulcio.sigstage.dev"));
}

#[test]
fn embedded_production_root_is_the_fixture() {
    let embedded = format!("{:?}", TrustRoot::production());
    let fixture = format!(
        "{:?}",
        TrustRoot::from_json(&fixture("trust/production/trusted_root.json")).unwrap()
    );
    assert_eq!(embedded, fixture);
}

#[test]
fn bad_media_types_are_refused() {
    for file in [
        "sigstore-python/trusted_root/trustedroot.badtype.json",
        "sigstore-python/trust_config/config.badtype.json",
    ] {
        let err = TrustRoot::from_json(&fixture(file)).unwrap_err();
        assert!(
            matches!(&err, TrustRootError::MediaType { found, .. } if found == "bad-media-type"),
            "{file}: {err}"
        );
        assert!(err.to_string().contains("trustedroot+json;version=0.1"));
    }
}

#[test]
fn malformed_roots_are_refused() {
    for json in [&b"not json"[..], b"{", br#"{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "tlogs": 7}"#] {
        let err = TrustRoot::from_json(json).unwrap_err();
        assert!(matches!(err, TrustRootError::Malformed { .. }), "{err}");
    }
    let err = TrustRoot::from_json(
        br#"{"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("no `trustedRoot`"), "{err}");
}

/// A trusted root whose only certificate authority is `ca` (one of sigstore-python's
/// `certificate_authority*.json` fixtures, which hold a single authority).
fn root_with_authority(field: &str, ca: &str) -> Result<TrustRoot, TrustRootError> {
    let mut ca: serde_json::Value = serde_json::from_slice(&fixture(ca)).expect("JSON fixture");
    // These are GitHub's timestamp authorities, which have no `uri`; sigstore-trust-root requires
    // one for a certificate authority (Fulcio).
    ca["uri"] = serde_json::json!("https://ca.example");
    let root = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        field: [ca],
    });
    TrustRoot::from_json(&serde_json::to_vec(&root).expect("serialisable"))
}

#[test]
fn authorities_need_a_complete_chain() {
    for field in ["certificateAuthorities", "timestampAuthorities"] {
        root_with_authority(
            field,
            "sigstore-python/trusted_root/certificate_authority.json",
        )
        .unwrap_or_else(|e| panic!("{field}: {e}"));
        let empty = root_with_authority(
            field,
            "sigstore-python/trusted_root/certificate_authority.empty.json",
        )
        .unwrap_err();
        assert!(
            empty.to_string().contains("certificate chain is empty"),
            "{empty}"
        );
        let missing_root = root_with_authority(
            field,
            "sigstore-python/trusted_root/certificate_authority.missingroot.json",
        )
        .unwrap_err();
        assert!(
            missing_root
                .to_string()
                .contains("self-signed root is missing"),
            "{missing_root}"
        );
        assert!(missing_root.to_string().contains(&format!("{field}[0]")));
    }
}
