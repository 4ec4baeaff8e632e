//! The vocabulary of a policy document: the fields each mapping knows, hints for fields people
//! reach for in the wrong place, and the "did you mean" for the rest.

pub(super) const TOP_FIELDS: &[&str] = &["apiVersion", "kind", "description", "rules"];
pub(super) const RULE_FIELDS: &[&str] = &[
    "name",
    "description",
    "effect",
    "subjects",
    "resources",
    "require",
    "when",
];
pub(super) const SUBJECT_FIELDS: &[&str] = &["group", "user", "client", "allowlist", "anyone"];
pub(super) const RESOURCE_FIELDS: &[&str] = &["server", "namespace", "tag"];
pub(super) const REQUIRE_FIELDS: &[&str] = &[
    "reviewState",
    "status",
    "signedBy",
    "maxSeverity",
    "transports",
    "remoteHosts",
    "toolsPinned",
    "maxContextTokens",
];
pub(super) const WHEN_FIELDS: &[&str] = &[
    "reviewState",
    "status",
    "signedBy",
    "notSignedBy",
    "unsigned",
    "severityAtLeast",
    "offersTransport",
    "anyRemoteHostIn",
    "anyRemoteHostNotIn",
    "toolsUnpinned",
    "contextTokensAbove",
];
pub(super) const SIGNER_FIELDS: &[&str] = &["issuer", "identity", "identityPattern", "keyId"];

/// Fields people reach for in the wrong place, and what to write instead.
pub(super) const RULE_HINTS: &[(&str, &str)] = &[(
    "conditions",
    "conditions go under `require` in an allow rule (all must hold for it to allow) and under `when` in a deny rule (all must match for it to deny)",
)];
pub(super) const SUBJECT_HINTS: &[(&str, &str)] = &[
    ("everyone", "to match everyone write `anyone: true`"),
    ("all", "to match everyone write `anyone: true`"),
    ("groups", "name one group per entry: `- group: NAME`"),
    ("users", "name one user per entry: `- user: NAME`"),
];
pub(super) const RESOURCE_HINTS: &[(&str, &str)] = &[
    ("servers", "name one pattern per entry: `- server: PATTERN`"),
    ("tags", "name one tag per entry: `- tag: NAME`"),
    (
        "name",
        "servers are matched with `server: PATTERN` on the full name `namespace/name`",
    ),
];
pub(super) const REQUIRE_HINTS: &[(&str, &str)] = &[
    (
        "severityAtLeast",
        "`severityAtLeast` is a deny condition (under `when`); an allow rule requires `maxSeverity`",
    ),
    (
        "offersTransport",
        "`offersTransport` is a deny condition (under `when`); an allow rule requires `transports`",
    ),
    (
        "anyRemoteHostIn",
        "`anyRemoteHostIn` is a deny condition (under `when`); an allow rule requires `remoteHosts`",
    ),
    (
        "anyRemoteHostNotIn",
        "`anyRemoteHostNotIn` is a deny condition (under `when`); an allow rule requires `remoteHosts`",
    ),
    (
        "toolsUnpinned",
        "`toolsUnpinned` is a deny condition (under `when`); an allow rule requires `toolsPinned: true`",
    ),
    (
        "contextTokensAbove",
        "`contextTokensAbove` is a deny condition (under `when`); an allow rule requires `maxContextTokens`",
    ),
    (
        "notSignedBy",
        "`notSignedBy` is a deny condition (under `when`); an allow rule requires `signedBy`",
    ),
    (
        "unsigned",
        "`unsigned` is a deny condition (under `when`); an allow rule requires `signedBy`",
    ),
    (
        "signer",
        "an allow rule requires `signedBy: [{issuer, identity | identityPattern} | {keyId}]`",
    ),
];
pub(super) const WHEN_HINTS: &[(&str, &str)] = &[
    (
        "maxSeverity",
        "`maxSeverity` is a requirement of allow rules (under `require`); a deny rule matches `severityAtLeast`",
    ),
    ("minSeverity", "a deny rule matches `severityAtLeast`"),
    (
        "transports",
        "`transports` is a requirement of allow rules (under `require`); a deny rule matches `offersTransport`",
    ),
    (
        "remoteHosts",
        "`remoteHosts` is a requirement of allow rules (under `require`); a deny rule matches `anyRemoteHostNotIn` (some remote host is outside the list) or `anyRemoteHostIn`",
    ),
    (
        "toolsPinned",
        "`toolsPinned` is a requirement of allow rules (under `require`); a deny rule matches `toolsUnpinned: true`",
    ),
    (
        "maxContextTokens",
        "`maxContextTokens` is a requirement of allow rules (under `require`); a deny rule matches `contextTokensAbove`",
    ),
    (
        "signer",
        "a deny rule matches `signedBy` (some signer is one of these) or `notSignedBy` (no signer is)",
    ),
];
pub(super) const NO_HINTS: &[(&str, &str)] = &[];

/// `a`, `b`, `c`: names as a document would spell them.
pub(super) fn list_names(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What to say about an unknown field: its hint, else the known field it is closest to (same but
/// for case, or within two edits), else every known field.
pub(super) fn unknown_field(key: &str, known: &[&str], hints: &[(&str, &str)]) -> String {
    if let Some((_, hint)) = hints.iter().find(|(k, _)| *k == key) {
        return format!("unknown field `{key}`: {hint}");
    }
    let close = known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(key))
        .or_else(|| {
            known
                .iter()
                .filter(|k| key.len() >= 3 && strsim::levenshtein(k, key) <= 2)
                .min_by_key(|k| strsim::levenshtein(k, key))
        });
    match close {
        Some(suggestion) => format!("unknown field `{key}`; did you mean `{suggestion}`?"),
        None => format!(
            "unknown field `{key}`; expected one of {}",
            list_names(known)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_suggest_the_nearest_known_one() {
        assert_eq!(
            unknown_field("reviewstate", REQUIRE_FIELDS, REQUIRE_HINTS),
            "unknown field `reviewstate`; did you mean `reviewState`?"
        );
        assert_eq!(
            unknown_field("zzz", RESOURCE_FIELDS, NO_HINTS),
            "unknown field `zzz`; expected one of `server`, `namespace`, `tag`"
        );
        // Within two single-character edits (Levenshtein), for keys of three characters or more.
        assert_eq!(
            unknown_field("grop", SUBJECT_FIELDS, NO_HINTS),
            "unknown field `grop`; did you mean `group`?"
        );
        assert_eq!(
            unknown_field("reveiwState", REQUIRE_FIELDS, NO_HINTS),
            "unknown field `reveiwState`; did you mean `reviewState`?"
        );
        assert_eq!(
            unknown_field("tg", RESOURCE_FIELDS, NO_HINTS),
            "unknown field `tg`; expected one of `server`, `namespace`, `tag`"
        );
    }
}
