//! Validation of server.json documents: the JSON Schema their `$schema` names, then the registry's
//! own rules that need no network.
//!
//! Every problem is reported with its JSON pointer, all at once, so that a publisher fixes a
//! document in one round rather than one error at a time.

mod rules;
mod schemas;

use serde_json::Value;

use crate::problem::FieldIssue;
use crate::{ServerName, Version};

pub use schemas::{KNOWN_SCHEMAS, SchemaVersion, schema_for_url};

/// A server.json document that passed every check, with the values the registry keys it by.
#[derive(Debug, Clone)]
pub struct ValidServerJson {
    /// The server's name.
    pub name: ServerName,
    /// The version being published.
    pub version: Version,
    /// The `$schema` URL it was validated against.
    pub schema_url: &'static str,
    /// The document itself.
    pub document: Value,
}

/// Validates a document; returns it with its key values, or every problem found.
pub fn validate(document: Value) -> Result<ValidServerJson, Vec<FieldIssue>> {
    let mut issues = Vec::new();
    let Some(object) = document.as_object() else {
        return Err(vec![FieldIssue::new(
            "",
            format!(
                "server.json must be a JSON object, not {}",
                json_kind(&document)
            ),
            "syntax",
        )]);
    };

    let schema = match object.get("$schema") {
        None => {
            issues.push(FieldIssue::new(
                "$schema",
                format!(
                    "`$schema` is missing; name the server.json schema the document follows, e.g. `{}`",
                    schemas::CURRENT.url
                ),
                "schema",
            ));
            None
        }
        Some(Value::String(url)) => match schema_for_url(url) {
            Some(s) => Some(s),
            None => {
                issues.push(FieldIssue::new(
                    "$schema",
                    format!(
                        "unknown `$schema` `{}`; known: {}",
                        url.chars().take(200).collect::<String>(),
                        KNOWN_SCHEMAS
                            .iter()
                            .map(|s| s.url)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "schema",
                ));
                None
            }
        },
        Some(other) => {
            issues.push(FieldIssue::new(
                "$schema",
                format!("`$schema` must be a string, not {}", json_kind(other)),
                "schema",
            ));
            None
        }
    };

    if let Some(schema) = schema {
        issues.extend(schema.check(&document));
    }
    let keys = rules::check(&document, &mut issues);

    match (keys, schema) {
        (Some((name, version)), Some(schema)) if issues.is_empty() => Ok(ValidServerJson {
            name,
            version,
            schema_url: schema.url,
            document,
        }),
        _ => {
            issues.sort_by(|a, b| a.location.cmp(&b.location));
            issues.dedup();
            Err(issues)
        }
    }
}

/// Appends a field to a path in the official `/validate` style (`packages[0].transport.url`).
pub(crate) fn field(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_owned()
    } else {
        format!("{base}.{name}")
    }
}

/// Appends an array index to a path (`packages[0]`).
pub(crate) fn index(base: &str, i: usize) -> String {
    format!("{base}[{i}]")
}

/// Turns a JSON pointer (`/packages/0/version`) into the path style above.
pub(crate) fn path_from_pointer(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out = format!("{out}[{token}]");
        } else {
            out = field(&out, &token);
        }
    }
    out
}

/// How a JSON value is called in messages.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
            "name": "com.example/weather",
            "description": "Weather for tests",
            "version": "1.0.0",
            "packages": [{
                "registryType": "npm",
                "identifier": "@example/weather",
                "version": "1.0.0",
                "transport": {"type": "stdio"}
            }],
            "remotes": [{"type": "streamable-http", "url": "https://mcp.example.com/mcp"}]
        })
    }

    fn locations(v: Value) -> Vec<String> {
        validate(v)
            .unwrap_err()
            .into_iter()
            .map(|i| i.location)
            .collect()
    }

    #[test]
    fn valid_document_passes() {
        let ok = validate(doc()).unwrap();
        assert_eq!(ok.name.as_str(), "com.example/weather");
        assert_eq!(ok.version.as_str(), "1.0.0");
    }

    #[test]
    fn schema_is_required_and_known() {
        let mut d = doc();
        d.as_object_mut().unwrap().remove("$schema");
        assert_eq!(locations(d), ["$schema"]);
        let mut d = doc();
        d["$schema"] = json!("https://example.com/schema.json");
        assert_eq!(locations(d), ["$schema"]);
        assert_eq!(locations(json!([1])), [""]);
    }

    #[test]
    fn every_problem_is_reported_with_its_pointer() {
        let mut d = doc();
        d["version"] = json!("^1.0.0");
        d["packages"][0]["version"] = json!("latest");
        d["remotes"][0]["url"] = json!("http://mcp.example.com/mcp");
        d["description"] = json!("x".repeat(101));
        let locs = locations(d);
        for want in [
            "version",
            "packages[0].version",
            "remotes[0].url",
            "description",
        ] {
            assert!(
                locs.iter().any(|l| l == want),
                "{want} missing from {locs:?}"
            );
        }
    }

    #[test]
    fn paths_from_pointers() {
        assert_eq!(path_from_pointer(""), "");
        assert_eq!(
            path_from_pointer("/packages/0/transport/url"),
            "packages[0].transport.url"
        );
        assert_eq!(path_from_pointer("/_meta/a~1b~0c"), "_meta.a/b~c");
    }
}
