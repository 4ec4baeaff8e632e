//! The dated server.json JSON Schemas, embedded, compiled once on first use.

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

use crate::problem::FieldIssue;

/// One published, dated server.json schema.
pub struct SchemaVersion {
    /// The date that names it, e.g. `2025-12-11`.
    pub date: &'static str,
    /// Its `$id`, which documents name in `$schema`.
    pub url: &'static str,
    source: &'static str,
    compiled: OnceLock<Validator>,
}

macro_rules! schema {
    ($date:literal) => {
        SchemaVersion {
            date: $date,
            url: concat!(
                "https://static.modelcontextprotocol.io/schemas/",
                $date,
                "/server.schema.json"
            ),
            source: include_str!(concat!("../../schemas/", $date, ".server.schema.json")),
            compiled: OnceLock::new(),
        }
    };
}

/// Every dated schema mcpreg validates against, oldest first.
pub static KNOWN_SCHEMAS: [SchemaVersion; 6] = [
    schema!("2025-07-09"),
    schema!("2025-09-16"),
    schema!("2025-09-29"),
    schema!("2025-10-11"),
    schema!("2025-10-17"),
    schema!("2025-12-11"),
];

/// The newest schema, suggested when a document names none.
pub static CURRENT: &SchemaVersion = &KNOWN_SCHEMAS[5];

/// The schema a `$schema` URL names, if mcpreg knows it.
pub fn schema_for_url(url: &str) -> Option<&'static SchemaVersion> {
    KNOWN_SCHEMAS.iter().find(|s| s.url == url)
}

/// Longest message kept from the schema validator: its messages quote the offending value,
/// which may be a whole document.
const MAX_MESSAGE: usize = 300;

impl SchemaVersion {
    fn validator(&self) -> &Validator {
        self.compiled.get_or_init(|| {
            let schema: Value = serde_json::from_str(self.source)
                .unwrap_or_else(|e| panic!("embedded schema {} is not JSON: {e}", self.date));
            jsonschema::draft7::options()
                .should_validate_formats(true)
                .build(&schema)
                .unwrap_or_else(|e| panic!("embedded schema {} does not compile: {e}", self.date))
        })
    }

    /// Every place where `document` breaks this schema.
    pub fn check(&self, document: &Value) -> Vec<FieldIssue> {
        self.validator()
            .iter_errors(document)
            .map(|e| {
                let mut message = e.to_string();
                if message.chars().count() > MAX_MESSAGE {
                    message = format!("{}…", message.chars().take(MAX_MESSAGE).collect::<String>());
                }
                FieldIssue::new(
                    super::path_from_pointer(&e.instance_path().to_string()),
                    message,
                    "schema",
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_schema_compiles_and_names_itself() {
        for s in &KNOWN_SCHEMAS {
            let v: Value = serde_json::from_str(s.source).unwrap();
            assert_eq!(v["$id"], s.url, "{}", s.date);
            let _ = s.validator();
        }
    }
}
