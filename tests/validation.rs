//! server.json validation against the official examples: every valid one passes, every invalid
//! one fails at the path its name says.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use crate::util::fixture;
use mcpreg_api::server_json::{KNOWN_SCHEMAS, validate};
use serde_json::{Value, json};

fn read(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn json_files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(fixture(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_official_example_is_valid() {
    let mut files = json_files("mcp-registry/examples");
    files.extend(json_files("mcp-registry/examples/unmerged-pr/valid"));
    assert_eq!(files.len(), 18, "examples went missing: {files:?}");
    for file in files {
        let doc = read(&file);
        if let Err(issues) = validate(doc) {
            panic!("{} is rejected: {issues:#?}", file.display());
        }
    }
}

#[test]
fn every_seed_document_is_valid() {
    let seed = read(&fixture("mcp-registry/seed.json"));
    let docs = seed.as_array().unwrap();
    assert_eq!(docs.len(), 4);
    for doc in docs {
        validate(doc.clone()).unwrap_or_else(|issues| panic!("{}: {issues:#?}", doc["name"]));
    }
}

#[test]
fn every_invalid_example_fails_where_its_name_says() {
    let expected = [
        ("bad-name-pattern.json", "name"),
        ("description-too-long.json", "description"),
        ("missing-name.json", "name"),
        ("package-version-latest.json", "packages[0].version"),
        (
            "positional-argument-missing-value.json",
            "packages[0].packageArguments[0]",
        ),
    ];
    let files = json_files("mcp-registry/examples/unmerged-pr/invalid");
    assert_eq!(files.len(), expected.len());
    for (file_name, location) in expected {
        let mut doc = read(&fixture(&format!(
            "mcp-registry/examples/unmerged-pr/invalid/{file_name}"
        )));
        // As found, each also lacks `$schema`.
        let issues = validate(doc.clone()).unwrap_err();
        assert!(
            issues.iter().any(|i| i.location == "$schema"),
            "{file_name}: {issues:#?}"
        );
        // With the current `$schema`, what remains is the problem the file is named for.
        doc["$schema"] = json!(KNOWN_SCHEMAS.last().unwrap().url);
        let issues = validate(doc).unwrap_err();
        assert!(
            issues.iter().all(|i| i.location.starts_with(location)
                || (location == "name" && i.location.is_empty())),
            "{file_name}: expected problems at {location}, got {issues:#?}"
        );
        assert!(
            issues.iter().any(|i| i.location.starts_with(location)),
            "{file_name}: {issues:#?}"
        );
    }
}

#[test]
fn a_fragment_with_comments_is_not_json() {
    let text = std::fs::read_to_string(fixture(
        "mcp-registry/examples/generic-server-json.01.extension-metadata-with-meta.fragment.jsonc",
    ))
    .unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err());
}

#[test]
fn every_dated_schema_is_accepted_and_checked() {
    let base = read(&fixture(
        "mcp-registry/examples/unmerged-pr/valid/minimal.json",
    ));
    for schema in &KNOWN_SCHEMAS {
        let mut doc = base.clone();
        doc["$schema"] = json!(schema.url);
        // The 2025-07-09 schema is snake_case, the later ones camelCase: a minimal document with
        // only name, description and version is valid under all of them.
        validate(doc.clone()).unwrap_or_else(|i| panic!("{}: {i:#?}", schema.date));
        doc["description"] = json!(42);
        let issues = validate(doc).unwrap_err();
        assert!(
            issues
                .iter()
                .any(|i| i.location == "description" && i.source == "schema"),
            "{}: {issues:#?}",
            schema.date
        );
    }
}
