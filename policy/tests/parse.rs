//! Reading policy documents: what is accepted, and every refusal with its exact path.

use crate::util::{issues, pairs, policy};
use mcpreg_policy::{
    Conditions, DenyCondition, Effect, IdentityMatch, MAX_DOCUMENT_BYTES, Policy, Requirement,
    ResourceSelector, SignerSpec, SubjectSelector,
};

const FULL_YAML: &str = r#"
apiVersion: mcpreg.dev/v1
kind: Policy
description: Acme's access policy
rules:
  - name: platform-may-use-approved-acme
    description: The platform team uses reviewed Acme servers.
    effect: allow
    subjects:
      - group: platform
      - user: alice@acme.com
      - client: vscode
      - allowlist: engineering
    resources:
      - server: "com.acme/*"
      - namespace: "io.github.acme"
      - tag: internal
    require:
      reviewState: [approved]
      status: [active, deprecated]
      signedBy:
        - issuer: https://token.actions.githubusercontent.com
          identityPattern: '^https://github\.com/acme/.*$'
        - keyId: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
      maxSeverity: medium
      transports: [stdio, remote]
      remoteHosts: ["*.acme.internal"]
      toolsPinned: true
      maxContextTokens: 20000
  - name: no-revoked-or-critical
    effect: deny
    subjects: [{anyone: true}]
    resources: [{server: "*/*"}]
    when:
      reviewState: [revoked]
      severityAtLeast: critical
  - name: contractors-never-remote
    effect: deny
    subjects: [{group: contractors}]
    resources: [{server: "*/*"}]
    when:
      offersTransport: [remote]
      anyRemoteHostNotIn: ["*.acme.internal"]
      anyRemoteHostIn: ["*.example"]
      signedBy: [{issuer: "https://accounts.google.com", identity: mallory@example.com}]
      notSignedBy: [{keyId: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]
      unsigned: true
      toolsUnpinned: true
      contextTokensAbove: 50000
      status: [deprecated]
  - name: block-everything-for-bots
    effect: deny
    subjects: [{client: scraper-bot}]
    resources: [{namespace: "*"}]
"#;

const FULL_JSON: &str = r#"{
  "apiVersion": "mcpreg.dev/v1",
  "kind": "Policy",
  "description": "Acme's access policy",
  "rules": [
    {
      "name": "platform-may-use-approved-acme",
      "description": "The platform team uses reviewed Acme servers.",
      "effect": "allow",
      "subjects": [{"group": "platform"}, {"user": "alice@acme.com"}, {"client": "vscode"}, {"allowlist": "engineering"}],
      "resources": [{"server": "com.acme/*"}, {"namespace": "io.github.acme"}, {"tag": "internal"}],
      "require": {
        "reviewState": ["approved"],
        "status": ["active", "deprecated"],
        "signedBy": [
          {"issuer": "https://token.actions.githubusercontent.com", "identityPattern": "^https://github\\.com/acme/.*$"},
          {"keyId": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
        ],
        "maxSeverity": "medium",
        "transports": ["stdio", "remote"],
        "remoteHosts": ["*.acme.internal"],
        "toolsPinned": true,
        "maxContextTokens": 20000
      }
    },
    {
      "name": "no-revoked-or-critical",
      "effect": "deny",
      "subjects": [{"anyone": true}],
      "resources": [{"server": "*/*"}],
      "when": {"reviewState": ["revoked"], "severityAtLeast": "critical"}
    },
    {
      "name": "contractors-never-remote",
      "effect": "deny",
      "subjects": [{"group": "contractors"}],
      "resources": [{"server": "*/*"}],
      "when": {
        "offersTransport": ["remote"],
        "anyRemoteHostNotIn": ["*.acme.internal"],
        "anyRemoteHostIn": ["*.example"],
        "signedBy": [{"issuer": "https://accounts.google.com", "identity": "mallory@example.com"}],
        "notSignedBy": [{"keyId": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}],
        "unsigned": true,
        "toolsUnpinned": true,
        "contextTokensAbove": 50000,
        "status": ["deprecated"]
      }
    },
    {
      "name": "block-everything-for-bots",
      "effect": "deny",
      "subjects": [{"client": "scraper-bot"}],
      "resources": [{"namespace": "*"}]
    }
  ]
}"#;

#[test]
fn a_full_document_reads_into_typed_rules() {
    let p = policy(FULL_YAML);
    assert_eq!(p.description(), Some("Acme's access policy"));
    let names: Vec<&str> = p.rules().iter().map(|r| r.name()).collect();
    assert_eq!(
        names,
        [
            "platform-may-use-approved-acme",
            "no-revoked-or-critical",
            "contractors-never-remote",
            "block-everything-for-bots"
        ]
    );
    let first = &p.rules()[0];
    assert_eq!(first.effect(), Effect::Allow);
    assert_eq!(
        first.description(),
        Some("The platform team uses reviewed Acme servers.")
    );
    assert_eq!(
        first.subjects(),
        [
            SubjectSelector::Group("platform".into()),
            SubjectSelector::User("alice@acme.com".into()),
            SubjectSelector::Client("vscode".into()),
            SubjectSelector::Allowlist("engineering".into()),
        ]
    );
    let resources: Vec<String> = first.resources().iter().map(ToString::to_string).collect();
    assert_eq!(
        resources,
        [
            "server com.acme/*",
            "namespace io.github.acme",
            "tag internal"
        ]
    );
    assert!(matches!(first.resources()[2], ResourceSelector::Tag(ref t) if t == "internal"));
    let Conditions::Allow(requirements) = first.conditions() else {
        panic!("an allow rule holds requirements");
    };
    let keys: Vec<&str> = requirements.iter().map(Requirement::key).collect();
    assert_eq!(
        keys,
        [
            "reviewState",
            "status",
            "signedBy",
            "maxSeverity",
            "transports",
            "remoteHosts",
            "toolsPinned",
            "maxContextTokens"
        ]
    );
    let Requirement::SignedBy(signers) = &requirements[2] else {
        panic!("third requirement is signedBy");
    };
    assert!(matches!(
        &signers[0],
        SignerSpec::Keyless { issuer, identity: IdentityMatch::Pattern(p) }
            if issuer == "https://token.actions.githubusercontent.com"
                && p.as_str() == r"^https://github\.com/acme/.*$"
    ));
    assert_eq!(requirements[7], Requirement::MaxContextTokens(20000));

    let Conditions::Deny(when) = p.rules()[2].conditions() else {
        panic!("a deny rule holds deny conditions");
    };
    let keys: Vec<&str> = when.iter().map(DenyCondition::key).collect();
    assert_eq!(
        keys,
        [
            "offersTransport",
            "anyRemoteHostNotIn",
            "anyRemoteHostIn",
            "signedBy",
            "notSignedBy",
            "unsigned",
            "toolsUnpinned",
            "contextTokensAbove",
            "status"
        ]
    );
    assert_eq!(p.rules()[3].conditions(), &Conditions::Deny(Vec::new()));
}

#[test]
fn yaml_and_json_read_to_the_same_policy() {
    let yaml = policy(FULL_YAML);
    let json = Policy::parse_json(FULL_JSON).expect("valid JSON policy");
    assert_eq!(yaml, json);
    assert_eq!(
        Policy::parse(FULL_YAML.as_bytes()).expect("detects YAML"),
        yaml
    );
    assert_eq!(
        Policy::parse(FULL_JSON.as_bytes()).expect("detects JSON"),
        yaml
    );
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), FULL_JSON.as_bytes()].concat();
    assert_eq!(Policy::parse(&with_bom).expect("skips a BOM"), yaml);
}

#[test]
fn the_canonical_json_reads_back_to_the_same_policy() {
    let p = policy(FULL_YAML);
    let canonical = p.to_json();
    assert_eq!(canonical["apiVersion"], "mcpreg.dev/v1");
    assert_eq!(
        canonical["rules"][0]["require"]["signedBy"][0]["identityPattern"],
        r"^https://github\.com/acme/.*$"
    );
    assert_eq!(canonical["rules"][3].get("when"), None);
    let again = Policy::parse_json(&canonical.to_string()).expect("canonical form is valid");
    assert_eq!(again, p);
}

#[test]
fn json_and_yaml_errors_have_the_same_paths() {
    let yaml = "apiVersion: mcpreg.dev/v1\nkind: Policy\nrules:\n  - name: a\n    effect: allow\n    subjects: []\n    resources: [{server: com.acme}]\n    require: {reviewState: [approved]}\n";
    let json = r#"{"apiVersion":"mcpreg.dev/v1","kind":"Policy","rules":[{"name":"a","effect":"allow","subjects":[],"resources":[{"server":"com.acme"}],"require":{"reviewState":["approved"]}}]}"#;
    let expected = pairs(&[
        (
            "rules[0].subjects",
            "must not be empty: a rule names at least one subject (write `anyone: true` to match everyone)",
        ),
        (
            "rules[0].resources[0].server",
            "server pattern `com.acme` must have the form `namespace/name` with exactly one `/` (such as `com.acme/*`); to match a whole namespace use `namespace:`",
        ),
    ]);
    assert_eq!(issues(Policy::parse_yaml(yaml)), expected);
    assert_eq!(issues(Policy::parse_json(json)), expected);
}

/// A valid rule with one line replaced, as a YAML document.
fn one_rule(rule: &str) -> String {
    format!("apiVersion: mcpreg.dev/v1\nkind: Policy\nrules:\n{rule}")
}

const BASE_ALLOW: &str = "  - name: r\n    effect: allow\n    subjects: [{anyone: true}]\n    resources: [{server: \"*/*\"}]\n";

#[test]
fn every_problem_is_reported_with_its_path() {
    // (a document, every issue expected, in order)
    let cases: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "apiVersion: mcpreg.dev/v2\nkind: Polcy\nrules: []\nextra: 1\n".to_owned(),
            vec![
                ("extra", "unknown field `extra`; expected one of `apiVersion`, `kind`, `description`, `rules`"),
                ("apiVersion", "`mcpreg.dev/v2` is not supported; expected `mcpreg.dev/v1`"),
                ("kind", "`Polcy` is not supported; expected `Policy`"),
            ],
        ),
        (
            "kind: Policy\n".to_owned(),
            vec![
                ("apiVersion", "missing required field `apiVersion`"),
                ("rules", "missing required field `rules`"),
            ],
        ),
        (
            "- just\n- a list\n".to_owned(),
            vec![("", "expected a mapping, found a list")],
        ),
        // Unknown field, with a suggestion, and a misplaced condition with a hint.
        (
            one_rule(&format!(
                "{BASE_ALLOW}    require: {{reviewstate: [approved], severityAtLeast: high}}\n"
            )),
            vec![
                ("rules[0].require.reviewstate", "unknown field `reviewstate`; did you mean `reviewState`?"),
                ("rules[0].require.severityAtLeast", "unknown field `severityAtLeast`: `severityAtLeast` is a deny condition (under `when`); an allow rule requires `maxSeverity`"),
                ("rules[0].require.reviewState", "missing required field `reviewState`: an allow rule must say which review states it allows, such as `[approved]`"),
            ],
        ),
        (
            one_rule("  - name: r\n    effect: deny\n    subjects: [{anyone: true}]\n    resources: [{server: \"*/*\"}]\n    when: {maxSeverity: high, toolsPinned: false}\n"),
            vec![
                ("rules[0].when.maxSeverity", "unknown field `maxSeverity`: `maxSeverity` is a requirement of allow rules (under `require`); a deny rule matches `severityAtLeast`"),
                ("rules[0].when.toolsPinned", "unknown field `toolsPinned`: `toolsPinned` is a requirement of allow rules (under `require`); a deny rule matches `toolsUnpinned: true`"),
            ],
        ),
        (
            one_rule(&format!("{BASE_ALLOW}    conditions: {{}}\n")),
            vec![
                ("rules[0].conditions", "unknown field `conditions`: conditions go under `require` in an allow rule (all must hold for it to allow) and under `when` in a deny rule (all must match for it to deny)"),
                ("rules[0].require", "missing required field `require`: an allow rule must state at least `reviewState`, such as `require: {reviewState: [approved]}`"),
            ],
        ),
        // The wrong block for the effect.
        (
            one_rule("  - name: r\n    effect: deny\n    subjects: [{anyone: true}]\n    resources: [{server: \"*/*\"}]\n    require: {reviewState: [approved]}\n"),
            vec![("rules[0].require", "a deny rule states when it denies under `when` (all must match for it to deny); `require` is for allow rules")],
        ),
        (
            one_rule(&format!(
                "{BASE_ALLOW}    require: {{reviewState: [approved]}}\n    when: {{unsigned: true}}\n"
            )),
            vec![("rules[0].when", "an allow rule states what it needs under `require` (all must hold for it to allow); `when` is for deny rules")],
        ),
        // Wrong enum values.
        (
            one_rule("  - name: r\n    effect: permit\n    subjects: [{anyone: true}]\n    resources: [{server: \"*/*\"}]\n"),
            vec![("rules[0].effect", "`permit` is not an effect; expected one of `allow`, `deny`")],
        ),
        (
            one_rule(&format!(
                "{BASE_ALLOW}    require: {{reviewState: [approve, revoked], maxSeverity: severe, transports: [http], status: [deleted]}}\n"
            )),
            vec![
                ("rules[0].require.reviewState[0]", "`approve` is not a review state; expected one of `submitted`, `approved`, `rejected`, `revoked`"),
                ("rules[0].require.reviewState[1]", "a revoked version can never be allowed; an allow rule may require `submitted` or `approved`"),
                ("rules[0].require.maxSeverity", "`severe` is not a severity; expected one of `info`, `low`, `medium`, `high`, `critical`"),
                ("rules[0].require.transports[0]", "`http` is not a transport; expected one of `stdio`, `remote`"),
                ("rules[0].require.status[0]", "a deleted version can never be allowed; an allow rule may require `active` or `deprecated`"),
            ],
        ),
        // Booleans that would mean nothing, and numbers.
        (
            one_rule(&format!(
                "{BASE_ALLOW}    require: {{reviewState: [approved], toolsPinned: false, maxContextTokens: -5}}\n"
            )),
            vec![
                ("rules[0].require.toolsPinned", "`toolsPinned: false` would require nothing; remove it (to deny unpinned versions, use a deny rule with `toolsUnpinned: true`)"),
                ("rules[0].require.maxContextTokens", "expected a number of tokens (0 or more), found -5"),
            ],
        ),
        (
            one_rule(&format!(
                "{BASE_ALLOW}    require: {{reviewState: [approved], toolsPinned: yes, maxContextTokens: 1.5}}\n"
            )),
            vec![
                ("rules[0].require.toolsPinned", "expected `true`, found a string"),
                ("rules[0].require.maxContextTokens", "expected a number of tokens (an integer), found a number"),
            ],
        ),
        // Subjects.
        (
            one_rule("  - name: r\n    effect: deny\n    subjects: [{group: a, user: b}, {anyone: false}, {}, {groups: x}, {user: ' alice'}, {group: ''}, {client: 7}]\n    resources: [{server: \"*/*\"}]\n"),
            vec![
                ("rules[0].subjects[0]", "a subject names exactly one of `group`, `user`, `client`, `allowlist`, `anyone`; found `group`, `user`: write each as its own list entry"),
                ("rules[0].subjects[1].anyone", "`anyone` can only be `true`; to match nobody, remove the subject"),
                ("rules[0].subjects[2]", "a subject needs one of `group`, `user`, `client`, `allowlist`, `anyone`"),
                ("rules[0].subjects[3].groups", "unknown field `groups`: name one group per entry: `- group: NAME`"),
                ("rules[0].subjects[4].user", "` alice` has white space at its start or end, so it would never match"),
                ("rules[0].subjects[5].group", "must not be empty"),
                ("rules[0].subjects[6].client", "expected a string, found an integer"),
            ],
        ),
        // Resources and globs.
        (
            one_rule("  - name: r\n    effect: deny\n    subjects: [{anyone: true}]\n    resources: [{server: 'com.acme/[x]'}, {namespace: 'com.acme/x'}, {tag: internal, server: '*/*'}, {server: ''}]\n"),
            vec![
                ("rules[0].resources[0].server", "pattern `com.acme/[x]` contains `[`; a pattern may hold ASCII letters, digits, `.`, `-`, `_`, one `/`, and the wildcards `*` and `?`"),
                ("rules[0].resources[1].namespace", "pattern `com.acme/x` contains `/`; a pattern may hold ASCII letters, digits, `.`, `-`, and the wildcards `*` and `?`"),
                ("rules[0].resources[2]", "a resource names exactly one of `server`, `namespace`, `tag`; found `tag`, `server`: write each as its own list entry"),
                ("rules[0].resources[3].server", "pattern is empty"),
            ],
        ),
        (
            one_rule("  - name: r\n    effect: deny\n    subjects: [{anyone: true}]\n    resources: []\n    when: {anyRemoteHostNotIn: ['https://x.acme.internal'], anyRemoteHostIn: []}\n"),
            vec![
                ("rules[0].resources", "must not be empty: a rule names at least one resource (write `server: \"*/*\"` to match every server)"),
                ("rules[0].when.anyRemoteHostNotIn[0]", "pattern `https://x.acme.internal` contains `:`; a pattern may hold ASCII letters, digits, `.`, `-`, and the wildcards `*` and `?`"),
                ("rules[0].when.anyRemoteHostIn", "must not be empty: list at least one pattern"),
            ],
        ),
        // Signers and anchored patterns.
        (
            one_rule(&format!(
                "{BASE_ALLOW}    require:\n      reviewState: [approved]\n      signedBy:\n        - {{issuer: 'https://token.actions.githubusercontent.com', identityPattern: 'https://github.com/acme/.*'}}\n        - {{identity: ci@acme.com}}\n        - {{issuer: 'https://accounts.google.com', identity: a, identityPattern: '^a$'}}\n        - {{keyId: 'sha256:abc'}}\n        - {{keyId: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', issuer: 'https://x.example'}}\n        - {{issuer: not-a-url, identity: a}}\n        - {{}}\n"
            )),
            vec![
                ("rules[0].require.signedBy[0].identityPattern", "pattern `https://github.com/acme/.*` must be anchored: start with `^` and end with `$`, so that it cannot match a longer identity by accident"),
                ("rules[0].require.signedBy[1].issuer", "missing required field `issuer`: a keyless signer is trusted only together with the OIDC issuer that vouched for it"),
                ("rules[0].require.signedBy[2]", "give `identity` or `identityPattern`, not both"),
                ("rules[0].require.signedBy[3].keyId", "key id `sha256:abc` must be `sha256:` followed by 64 lower-case hex digits (the digest of the key's DER SubjectPublicKeyInfo)"),
                ("rules[0].require.signedBy[4]", "a key signer has only `keyId`; `issuer`, `identity` and `identityPattern` are for keyless signers: write them as another list entry"),
                ("rules[0].require.signedBy[5].issuer", "issuer `not-a-url` is not an OIDC issuer URL such as `https://token.actions.githubusercontent.com`"),
                ("rules[0].require.signedBy[6]", "a signer needs `issuer` with `identity` or `identityPattern` (keyless), or `keyId` (a key)"),
            ],
        ),
        // Rule names: format and uniqueness.
        (
            "apiVersion: mcpreg.dev/v1\nkind: Policy\nrules:\n  - {name: Same, effect: deny, subjects: [{anyone: true}], resources: [{tag: a}]}\n  - {name: same, effect: deny, subjects: [{anyone: true}], resources: [{tag: a}]}\n  - {name: other, effect: deny, subjects: [{anyone: true}], resources: [{tag: a}]}\n  - {name: same, effect: deny, subjects: [{anyone: true}], resources: [{tag: a}]}\n  - {name: trailing-, effect: deny, subjects: [{anyone: true}], resources: [{tag: a}]}\n".to_owned(),
            vec![
                ("rules[0].name", "rule name `Same` must be 1 to 63 lower-case letters, digits and `-`, not starting or ending with `-`"),
                ("rules[4].name", "rule name `trailing-` must be 1 to 63 lower-case letters, digits and `-`, not starting or ending with `-`"),
                ("rules[3].name", "rule name `same` is already used by rules[1]"),
            ],
        ),
        // Duplicate keys, which serde would silently collapse.
        (
            "apiVersion: mcpreg.dev/v1\nkind: Policy\nrules:\n  - name: r\n    effect: allow\n    effect: deny\n    subjects: [{anyone: true}]\n    resources: [{server: '*/*'}]\n    require: {reviewState: [approved]}\n".to_owned(),
            vec![("rules[0].effect", "duplicate field `effect`")],
        ),
        // An unknown effect still has its conditions checked.
        (
            one_rule("  - name: r\n    subjects: [{anyone: true}]\n    resources: [{server: '*/*'}]\n    when: {severityAtLeast: extreme}\n"),
            vec![
                ("rules[0].effect", "missing required field `effect`"),
                ("rules[0].when.severityAtLeast", "`extreme` is not a severity; expected one of `info`, `low`, `medium`, `high`, `critical`"),
            ],
        ),
        // Odd keys are quoted in the path.
        (
            one_rule(&format!("{BASE_ALLOW}    require: {{reviewState: [approved]}}\n    \"a.b\": 1\n    7: x\n")),
            vec![
                ("rules[0][\"a.b\"]", "unknown field `a.b`; expected one of `name`, `description`, `effect`, `subjects`, `resources`, `require`, `when`"),
                ("rules[0].7", "unknown field `7`; expected one of `name`, `description`, `effect`, `subjects`, `resources`, `require`, `when`"),
            ],
        ),
    ];
    for (document, expected) in cases {
        assert_eq!(
            issues(Policy::parse_yaml(&document)),
            pairs(&expected),
            "\n---\n{document}"
        );
    }
}

#[test]
fn pointers_name_the_same_place_as_paths() {
    let err = Policy::parse_yaml(&one_rule(
        "  - name: r\n    effect: deny\n    subjects: [{anyone: true}]\n    resources: [{server: 'a/b/c'}]\n",
    ))
    .expect_err("two slashes");
    assert_eq!(err.issues.len(), 1);
    assert_eq!(err.issues[0].path, "rules[0].resources[0].server");
    assert_eq!(err.issues[0].pointer, "/rules/0/resources/0/server");
    assert_eq!(
        err.to_string(),
        "invalid policy: rules[0].resources[0].server: server pattern `a/b/c` must have the form `namespace/name` with exactly one `/` (such as `com.acme/*`); to match a whole namespace use `namespace:`"
    );
}

#[test]
fn syntax_errors_and_limits_are_reported_for_the_document() {
    let yaml = issues(Policy::parse_yaml("rules: [unclosed\n"));
    assert_eq!(yaml.len(), 1);
    assert_eq!(yaml[0].0, "");
    assert!(yaml[0].1.starts_with("not valid YAML: "), "{}", yaml[0].1);

    let json = issues(Policy::parse_json("{\"rules\": }"));
    assert_eq!(
        json,
        pairs(&[("", "not valid JSON: expected value at line 1 column 11")])
    );

    let two_docs = issues(Policy::parse_yaml("a: 1\n---\nb: 2\n"));
    assert!(
        two_docs[0].1.starts_with("not valid YAML: "),
        "{}",
        two_docs[0].1
    );

    let tagged = issues(Policy::parse_yaml("apiVersion: !custom mcpreg.dev/v1\n"));
    assert!(
        tagged[0]
            .1
            .contains("YAML tags (`!tag`) are not supported in a policy document"),
        "{}",
        tagged[0].1
    );

    let huge = format!("# {}\n", "x".repeat(MAX_DOCUMENT_BYTES));
    assert_eq!(
        issues(Policy::parse(huge.as_bytes())),
        pairs(&[("", "document is 262147 bytes, at most 262144 are allowed")])
    );

    assert_eq!(
        issues(Policy::parse(b"\xff\xfe")),
        pairs(&[("", "not UTF-8 text: invalid byte at offset 0")])
    );
}

#[test]
fn alias_bombs_are_refused() {
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
    let found = issues(Policy::parse_yaml(bomb));
    assert_eq!(found.len(), 1);
    assert!(found[0].1.starts_with("not valid YAML: "), "{}", found[0].1);
}

#[test]
fn too_many_rules_or_entries_are_refused() {
    let mut doc = String::from("apiVersion: mcpreg.dev/v1\nkind: Policy\nrules:\n");
    for i in 0..501 {
        doc.push_str(&format!(
            "  - {{name: r{i}, effect: deny, subjects: [{{anyone: true}}], resources: [{{tag: t}}]}}\n"
        ));
    }
    assert_eq!(
        issues(Policy::parse_yaml(&doc)),
        pairs(&[("rules", "has 501 entries, at most 500 are allowed")])
    );

    let tags: Vec<String> = (0..101).map(|i| format!("{{tag: t{i}}}")).collect();
    let doc = one_rule(&format!(
        "  - name: r\n    effect: deny\n    subjects: [{{anyone: true}}]\n    resources: [{}]\n",
        tags.join(", ")
    ));
    assert_eq!(
        issues(Policy::parse_yaml(&doc)),
        pairs(&[(
            "rules[0].resources",
            "has 101 entries, at most 100 are allowed"
        )])
    );
}

#[test]
fn an_empty_rule_list_is_a_valid_policy_that_allows_nothing() {
    let p = policy("apiVersion: mcpreg.dev/v1\nkind: Policy\nrules: []\n");
    assert!(p.rules().is_empty());
    assert_eq!(p, Policy::default());
}
