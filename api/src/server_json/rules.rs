//! The registry's rules for server.json beyond its JSON Schema: the official registry's semantic
//! rules that need no network, and mcpreg's own where the official one is silent or too loose
//! for a private registry.
//!
//! Deliberate differences from the official registry, each because mcpreg is private:
//! - remote URLs may point at private addresses (internal MCP servers are the point), but must
//!   still use https;
//! - `registryBaseUrl` may name a private registry (an internal npm or PyPI mirror), over https;
//! - `_meta` keys other than the publisher-provided one are refused rather than dropped, because a
//!   silently altered document would no longer match what its publisher signed.

use serde_json::Value;

use super::{field, index, json_kind};
use crate::problem::FieldIssue;
use crate::{PUBLISHER_META_KEY, ServerName, Version};

/// Largest publisher-provided `_meta` accepted, in bytes of compact JSON (the official limit).
pub const MAX_PUBLISHER_META_BYTES: usize = 4096;

fn issue(issues: &mut Vec<FieldIssue>, location: impl Into<String>, message: impl Into<String>) {
    issues.push(FieldIssue::new(location, message, "semantic"));
}

fn string<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Checks the rules, appending every problem; returns the name and version when both are valid.
pub(super) fn check(doc: &Value, issues: &mut Vec<FieldIssue>) -> Option<(ServerName, Version)> {
    let name = required_string(doc, "name", issues).and_then(|s| {
        ServerName::parse(s)
            .map_err(|e| issue(issues, "name", e.to_string()))
            .ok()
    });
    let version = required_string(doc, "version", issues).and_then(|s| {
        Version::parse(s)
            .map_err(|e| issue(issues, "version", e.to_string()))
            .ok()
    });

    for (i, package) in array(doc, "packages").iter().enumerate() {
        check_package(&index("packages", i), package, issues);
    }
    for (i, remote) in array(doc, "remotes").iter().enumerate() {
        check_remote(&index("remotes", i), remote, issues);
    }
    if let Some(url) = string(doc, "websiteUrl") {
        check_https_url("websiteUrl", url, "`websiteUrl`", issues);
    }
    for (i, icon) in array(doc, "icons").iter().enumerate() {
        if let Some(src) = string(icon, "src") {
            check_https_url(
                &field(&index("icons", i), "src"),
                src,
                "an icon `src`",
                issues,
            );
        }
    }
    if let Some(title) = string(doc, "title")
        && !title.is_empty()
        && title.trim().is_empty()
    {
        issue(issues, "title", "`title` cannot be only whitespace");
    }
    if let Some(url) = doc.get("repository").and_then(|r| string(r, "url"))
        && !url.is_empty()
        && url::Url::parse(url).is_err()
    {
        issue(
            issues,
            "repository.url",
            format!("`{url}` is not an absolute URL"),
        );
    }
    if let Some(meta) = doc.get("_meta") {
        check_meta(meta, issues);
    }

    Some((name?, version?))
}

fn required_string<'a>(doc: &'a Value, key: &str, issues: &mut Vec<FieldIssue>) -> Option<&'a str> {
    match doc.get(key) {
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            issue(
                issues,
                key,
                format!("`{key}` must be a string, not {}", json_kind(other)),
            );
            None
        }
        None => {
            issue(issues, key, format!("`{key}` is required"));
            None
        }
    }
}

fn check_package(at: &str, package: &Value, issues: &mut Vec<FieldIssue>) {
    if let Some(identifier) = string(package, "identifier")
        && identifier.contains(char::is_whitespace)
    {
        issue(
            issues,
            field(at, "identifier"),
            "package identifier cannot contain spaces",
        );
    }
    if let Some(v) = string(package, "version")
        && let Err(e) = Version::parse(v)
    {
        issue(issues, field(at, "version"), format!("package {e}"));
    }
    if let Some(digest) = string(package, "fileSha256")
        && (digest.len() != 64
            || !digest
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    {
        issue(
            issues,
            field(at, "fileSha256"),
            "`fileSha256` must be 64 lowercase hexadecimal characters (a SHA-256 digest)",
        );
    }
    if let Some(base) = string(package, "registryBaseUrl") {
        check_https_url(
            &field(at, "registryBaseUrl"),
            base,
            "`registryBaseUrl`",
            issues,
        );
    }
    if let Some(transport) = package.get("transport") {
        let at = field(at, "transport");
        let url = string(transport, "url").unwrap_or_default();
        match string(transport, "type") {
            Some("stdio") if !url.is_empty() => issue(
                issues,
                field(&at, "url"),
                format!("url must be empty for stdio transport type, got: {url}"),
            ),
            Some(kind @ ("streamable-http" | "sse")) if url.is_empty() => issue(
                issues,
                field(&at, "url"),
                format!("url is required for {kind} transport type"),
            ),
            Some("stdio" | "streamable-http" | "sse") | None => {}
            Some(other) => issue(
                issues,
                field(&at, "type"),
                format!("unsupported transport type: {other} (stdio, streamable-http or sse)"),
            ),
        }
    }
    for list in ["runtimeArguments", "packageArguments"] {
        for (j, arg) in array(package, list).iter().enumerate() {
            if string(arg, "type") != Some("named") {
                continue;
            }
            let at = index(&field(at, list), j);
            match string(arg, "name") {
                None | Some("") => issue(
                    issues,
                    field(&at, "name"),
                    "named argument name is required",
                ),
                Some(name) if name.contains(['<', '>', ' ', '$']) => issue(
                    issues,
                    field(&at, "name"),
                    format!("invalid named argument name format: {name}"),
                ),
                Some(_) => {}
            }
        }
    }
}

fn check_remote(at: &str, remote: &Value, issues: &mut Vec<FieldIssue>) {
    let kind = string(remote, "type");
    if let Some(kind) = kind
        && !matches!(kind, "streamable-http" | "sse")
    {
        issue(
            issues,
            field(at, "type"),
            format!(
                "unsupported transport type for remotes: {kind} (only streamable-http and sse are supported)"
            ),
        );
    }
    match string(remote, "url") {
        None | Some("") => issue(
            issues,
            field(at, "url"),
            format!(
                "url is required for {} transport type",
                kind.unwrap_or("a remote")
            ),
        ),
        // The whole origin is a template variable the client fills in: nothing more to check.
        Some(url) if url.starts_with('{') => {}
        Some(url) => check_https_url(&field(at, "url"), url, "a remote URL", issues),
    }
}

/// Replaces `{variable}` templates with a placeholder so the rest of a URL can be parsed.
fn untemplate(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut in_var = false;
    for c in url.chars() {
        match (c, in_var) {
            ('{', false) => in_var = true,
            ('}', true) => {
                in_var = false;
                out.push('x');
            }
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

fn check_https_url(at: &str, url: &str, what: &str, issues: &mut Vec<FieldIssue>) {
    match url::Url::parse(&untemplate(url)) {
        Err(e) => issue(
            issues,
            at,
            format!("{what} `{url}` is not a valid absolute URL: {e}"),
        ),
        Ok(parsed) if parsed.scheme() != "https" => issue(
            issues,
            at,
            format!("{what} must use https, `{url}` uses `{}`", parsed.scheme()),
        ),
        Ok(parsed) if parsed.host_str().is_none_or(str::is_empty) => {
            issue(issues, at, format!("{what} `{url}` has no host"))
        }
        Ok(_) => {}
    }
}

fn check_meta(meta: &Value, issues: &mut Vec<FieldIssue>) {
    let Some(object) = meta.as_object() else {
        issue(
            issues,
            "_meta",
            format!("`_meta` must be an object, not {}", json_kind(meta)),
        );
        return;
    };
    for (key, value) in object {
        let at = field("_meta", key);
        if key != PUBLISHER_META_KEY {
            issue(
                issues,
                at,
                format!(
                    "only `{PUBLISHER_META_KEY}` may be set in `_meta`; `{key}` is reserved or unknown"
                ),
            );
            continue;
        }
        let size = serde_json::to_vec(value)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > MAX_PUBLISHER_META_BYTES {
            issue(
                issues,
                at,
                format!(
                    "publisher-provided metadata is {size} bytes, at most {MAX_PUBLISHER_META_BYTES} are allowed"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(doc: Value) -> Vec<(String, String)> {
        let mut issues = Vec::new();
        check(&doc, &mut issues);
        issues
            .into_iter()
            .map(|i| (i.location, i.message))
            .collect()
    }

    fn locations(doc: Value) -> Vec<String> {
        run(doc).into_iter().map(|f| f.0).collect()
    }

    #[test]
    fn remote_urls_must_be_https_unless_templated() {
        let doc = json!({"name": "com.example/x", "version": "1.0.0", "remotes": [
            {"type": "sse", "url": "http://example.com/sse"},
            {"type": "sse", "url": "{base_url}/sse"},
            {"type": "sse", "url": "https://{tenant}.example.com/sse"},
            {"type": "sse", "url": "https://"},
            {"type": "stdio", "url": "https://10.0.0.7/mcp"},
            {"type": "sse"},
        ]});
        let found = run(doc);
        let locs: Vec<_> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            locs,
            [
                "remotes[0].url",
                "remotes[3].url",
                "remotes[4].type",
                "remotes[5].url"
            ]
        );
        assert!(found[0].1.contains("must use https"));
    }

    #[test]
    fn meta_keys_and_size() {
        let doc = json!({"name": "com.example/x", "version": "1.0.0", "_meta": {
            PUBLISHER_META_KEY: {"blob": "x".repeat(5000)},
            "io.modelcontextprotocol.registry/official": {"isLatest": true},
        }});
        assert_eq!(
            locations(doc),
            [
                "_meta.io.modelcontextprotocol.registry/publisher-provided",
                "_meta.io.modelcontextprotocol.registry/official",
            ]
        );
    }

    #[test]
    fn package_rules() {
        let doc = json!({"name": "com.example/x", "version": "1.0.0", "packages": [
            {"identifier": "a b", "version": "^2", "fileSha256": "ABC", "transport": {"type": "stdio", "url": "http://x"}},
            {"version": "2.0.0", "fileSha256": "a".repeat(64), "registryBaseUrl": "http://npm.internal",
             "transport": {"type": "sse"},
             "runtimeArguments": [{"type": "named", "name": "--p <x>"}, {"type": "positional", "value": "v"}]},
        ]});
        assert_eq!(
            locations(doc),
            [
                "packages[0].identifier",
                "packages[0].version",
                "packages[0].fileSha256",
                "packages[0].transport.url",
                "packages[1].registryBaseUrl",
                "packages[1].transport.url",
                "packages[1].runtimeArguments[0].name",
            ]
        );
    }

    #[test]
    fn missing_and_mistyped_keys() {
        assert_eq!(locations(json!({"name": 5})), ["name", "version"]);
        assert_eq!(
            locations(
                json!({"name": "com.example/x", "version": "1", "title": "  ", "websiteUrl": "http://x.com", "icons": [{"src": "ftp://x/i.png"}]})
            ),
            ["websiteUrl", "icons[0].src", "title"]
        );
    }
}
