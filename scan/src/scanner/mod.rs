//! The built-in scanner: deterministic checks of what a server tells the model.
//!
//! It reads every text a client passes to a model — tool names, titles, descriptions, every
//! string in input and output schemas, prompt and resource descriptions, the server's
//! instructions — and looks for poisoning: instructions to the model, concealment from the user,
//! hidden or disguised characters, encoded payloads, exfiltration sinks, references to other
//! tools and to sensitive files, parameters that invite smuggling data out; and for server names
//! that imitate names already in the catalog. Nothing is sent anywhere; the same manifest always
//! gives the same findings, in the same order. See [`rules::ALL`] for the rules.

pub mod rules;
pub mod text;
pub mod unicode;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::finding::{Finding, Location, Severity};
use crate::ingest::{ReportFormat, ScanReport, Scanner};
use crate::manifest::ToolManifest;
use rules::Rule;

/// The built-in scanner's name in reports and SARIF.
pub const SCANNER_NAME: &str = "mcpreg-scan";

/// Scans a manifest. `known_server_names` are the names already in the catalog (registry names
/// such as `io.github.acme/github`, or server names); the manifest's own `serverInfo.name` is
/// compared with them. Findings are sorted by severity (worst first), then location.
pub fn scan_manifest(manifest: &ToolManifest, known_server_names: &[&str]) -> Vec<Finding> {
    let mut sink = Sink::default();
    scan_server(manifest, &mut sink);
    scan_tools(manifest, &mut sink);
    scan_prompts(manifest, &mut sink);
    scan_resources(manifest, &mut sink);
    if let Some(instructions) = &manifest.instructions {
        let here = Location::Instructions;
        check_prose(instructions, &[], false, &here, &mut sink);
        if instructions.chars().count() > text::LONG_INSTRUCTIONS_CHARS {
            sink.add(
                rules::LONG_DESCRIPTION,
                Severity::Low,
                format!(
                    "instructions are {} characters long",
                    instructions.chars().count()
                ),
                here,
                None,
            );
        }
    }
    for f in check_server_name(&manifest.server_info.name, known_server_names) {
        sink.push(f);
    }
    sink.poisoned_items();
    sink.finish()
}

/// A report of the built-in scanner's findings, for storage or SARIF.
pub fn report(
    findings: Vec<Finding>,
    scanned_digest: Option<mcpreg_api::digest::Sha256Digest>,
) -> ScanReport {
    ScanReport {
        format: ReportFormat::Builtin,
        scanner: Scanner {
            name: SCANNER_NAME.into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        },
        scanned_at: Some(chrono::Utc::now()),
        subject: None,
        scanned_digest,
        findings,
        notes: Vec::new(),
    }
}

/// Compares a server name with the names in the catalog: a name that looks the same as another
/// (confusable characters) is High, one a small edit away is Medium, the same final name in
/// another namespace is Low. A name equal to a known one is the same server and not reported.
pub fn check_server_name(name: &str, known_server_names: &[&str]) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let here = || Location::Server {
        name: name.to_owned(),
    };
    if let Some((severity, message)) = unicode::identifier_issue(name) {
        out.push(finding(
            rules::HOMOGLYPH,
            severity,
            format!("server {message}"),
            here(),
            None,
        ));
    }
    let lower = name.to_lowercase();
    let last = |s: &str| s.rsplit('/').next().unwrap_or(s).to_owned();
    let core = |s: &str| {
        let mut s = last(s);
        for affix in [
            "mcp-server-",
            "server-",
            "mcp-",
            "-mcp-server",
            "-server",
            "-mcp",
        ] {
            if let Some(rest) = s.strip_prefix(affix).or_else(|| s.strip_suffix(affix))
                && !rest.is_empty()
            {
                s = rest.to_owned();
            }
        }
        s.replace(['_', '.', ' '], "-")
    };
    let mut best: Option<Finding> = None;
    for known in known_server_names {
        let known_lower = known.to_lowercase();
        if known_lower == lower {
            continue;
        }
        let near = {
            let (a, b) = (core(&lower), core(&known_lower));
            let d = strsim::damerau_levenshtein(&a, &b);
            a.chars().count().min(b.chars().count()) >= 5 && (1..=2).contains(&d)
        };
        let candidate = if unicode::confusable(name, known)
            || unicode::confusable(&last(&lower), &last(&known_lower))
                && last(&lower) != last(&known_lower)
        {
            Some((
                Severity::High,
                format!("server name `{name}` looks the same as `{known}`, already in the catalog"),
            ))
        } else if core(&lower) == core(&known_lower) && last(&lower) != last(&known_lower) {
            Some((
                Severity::Medium,
                format!(
                    "server name `{name}` differs from `{known}` only by affixes or separators"
                ),
            ))
        } else if near {
            Some((
                Severity::Medium,
                format!("server name `{name}` is one or two edits away from `{known}`"),
            ))
        } else if last(&lower) == last(&known_lower) {
            Some((
                Severity::Low,
                format!(
                    "server name `{name}` has the same final name as `{known}` in another namespace"
                ),
            ))
        } else {
            None
        };
        if let Some((severity, message)) = candidate
            && best.as_ref().is_none_or(|b| severity > b.severity)
        {
            best = Some(finding(
                rules::SERVER_NAME_IMITATION,
                severity,
                message,
                here(),
                None,
            ));
        }
    }
    out.extend(best);
    out
}

fn finding(
    rule: Rule,
    severity: Severity,
    message: String,
    location: Location,
    evidence: Option<String>,
) -> Finding {
    Finding {
        rule: rule.id.into(),
        severity,
        category: rule.category.into(),
        message,
        location,
        evidence,
        suppressed: false,
    }
}

/// Collects findings, one per rule and location: a second match of a rule in the same place
/// only raises the severity.
#[derive(Default)]
struct Sink {
    findings: Vec<Finding>,
    index: BTreeMap<(String, String), usize>,
}

impl Sink {
    fn add(
        &mut self,
        rule: Rule,
        severity: Severity,
        message: String,
        location: Location,
        evidence: Option<String>,
    ) {
        self.push(finding(rule, severity, message, location, evidence));
    }

    fn push(&mut self, f: Finding) {
        let key = (f.rule.clone(), f.location.to_string());
        match self.index.get(&key) {
            Some(&i) if self.findings[i].severity >= f.severity => {}
            Some(&i) => self.findings[i] = f,
            None => {
                self.index.insert(key, self.findings.len());
                self.findings.push(f);
            }
        }
    }

    /// An item with high-severity findings of two or more kinds is poisoned.
    fn poisoned_items(&mut self) {
        let mut by_item: BTreeMap<String, (Location, BTreeSet<String>)> = BTreeMap::new();
        for f in &self.findings {
            if f.severity < Severity::High || f.rule == rules::SERVER_NAME_IMITATION.id {
                continue;
            }
            let item = without_pointer(&f.location);
            by_item
                .entry(item.to_string())
                .or_insert_with(|| (item, BTreeSet::new()))
                .1
                .insert(f.category.clone());
        }
        for (_, (location, categories)) in by_item {
            if categories.len() >= 2 {
                let message = format!(
                    "{location} shows several signs of poisoning at once: {}",
                    categories.into_iter().collect::<Vec<_>>().join(", ")
                );
                self.add(
                    rules::POISONED_ITEM,
                    Severity::Critical,
                    message,
                    location,
                    None,
                );
            }
        }
    }

    fn finish(mut self) -> Vec<Finding> {
        self.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.location.to_string().cmp(&b.location.to_string()))
                .then_with(|| a.rule.cmp(&b.rule))
        });
        self.findings
    }
}

fn without_pointer(l: &Location) -> Location {
    match l {
        Location::Tool { name, .. } => Location::Tool {
            name: name.clone(),
            pointer: None,
        },
        Location::Prompt { name, .. } => Location::Prompt {
            name: name.clone(),
            pointer: None,
        },
        Location::Resource { uri, .. } => Location::Resource {
            uri: uri.clone(),
            pointer: None,
        },
        Location::ResourceTemplate { uri_template, .. } => Location::ResourceTemplate {
            uri_template: uri_template.clone(),
            pointer: None,
        },
        other => other.clone(),
    }
}

/// The same location with a JSON Pointer inside the item.
fn at(l: &Location, pointer: &str) -> Location {
    let p = Some(pointer.to_owned());
    match l {
        Location::Tool { name, .. } => Location::Tool {
            name: name.clone(),
            pointer: p,
        },
        Location::Prompt { name, .. } => Location::Prompt {
            name: name.clone(),
            pointer: p,
        },
        Location::Resource { uri, .. } => Location::Resource {
            uri: uri.clone(),
            pointer: p,
        },
        Location::ResourceTemplate { uri_template, .. } => Location::ResourceTemplate {
            uri_template: uri_template.clone(),
            pointer: p,
        },
        other => other.clone(),
    }
}

fn check_prose(
    text: &str,
    params: &[String],
    tool_description: bool,
    here: &Location,
    sink: &mut Sink,
) {
    for hit in text::check_prose(text, params, tool_description) {
        sink.add(
            hit.rule,
            hit.severity,
            hit.message,
            here.clone(),
            Some(hit.evidence),
        );
    }
    check_characters(text, here, sink);
    let words = unicode::mixed_script_words(text);
    if let Some(word) = words.first() {
        let looks = unicode::ascii_lookalike(word)
            .map(|s| format!(" (looks like `{s}`)"))
            .unwrap_or_default();
        sink.add(
            rules::HOMOGLYPH,
            Severity::Medium,
            format!("{} word(s) mix scripts, e.g. `{word}`{looks}", words.len()),
            here.clone(),
            Some(unicode::visible(word)),
        );
    }
}

fn check_characters(text: &str, here: &Location, sink: &mut Sink) {
    for issue in unicode::hidden_characters(text) {
        let rule = if issue.bidi {
            rules::BIDI_CONTROL
        } else {
            rules::INVISIBLE_CHARACTERS
        };
        let evidence: String = unicode::visible(text).chars().take(160).collect();
        sink.add(
            rule,
            issue.severity,
            issue.message,
            here.clone(),
            Some(evidence),
        );
    }
}

fn check_identifier(name: &str, what: &str, here: &Location, sink: &mut Sink) {
    check_characters(name, here, sink);
    if let Some((severity, message)) = unicode::identifier_issue(name) {
        sink.add(
            rules::HOMOGLYPH,
            severity,
            format!("{what} {message}"),
            here.clone(),
            Some(unicode::visible(name)),
        );
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn scan_server(manifest: &ToolManifest, sink: &mut Sink) {
    let here = Location::Server {
        name: manifest.server_info.name.clone(),
    };
    check_characters(&manifest.server_info.name, &here, sink);
    if let Some(title) = &manifest.server_info.title {
        check_prose(title, &[], false, &here, sink);
    }
}

/// Parameter names of a schema: the property names at every level.
fn parameter_names(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(o) => {
            if let Some(Value::Object(props)) = o.get("properties") {
                out.extend(props.keys().cloned());
            }
            for v in o.values() {
                parameter_names(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| parameter_names(v, out)),
        _ => {}
    }
}

/// Checks every string of a JSON Schema (descriptions, titles, defaults, enum values, examples)
/// and every property name.
fn scan_schema(schema: &Value, pointer: &str, params: &[String], item: &Location, sink: &mut Sink) {
    match schema {
        Value::Object(o) => {
            for (k, v) in o {
                if matches!(k.as_str(), "$schema" | "$id" | "$ref" | "id") && v.is_string() {
                    continue;
                }
                let p = format!("{pointer}/{}", escape(k));
                if k == "properties"
                    && let Value::Object(props) = v
                {
                    for (name, prop) in props {
                        let pp = format!("{p}/{}", escape(name));
                        let here = at(item, &pp);
                        check_identifier(name, "parameter", &here, sink);
                        let is_text = prop.get("type").is_none_or(|t| {
                            t == "string"
                                || t.as_array()
                                    .is_some_and(|a| a.iter().any(|t| t == "string"))
                        });
                        if is_text && let Some(severity) = text::smuggling_parameter(name) {
                            sink.add(
                                rules::DATA_SMUGGLING,
                                severity,
                                format!("free-text parameter `{name}` invites the model to pass conversation or file content"),
                                here,
                                None,
                            );
                        }
                        scan_schema(prop, &pp, params, item, sink);
                    }
                    continue;
                }
                scan_schema(v, &p, params, item, sink);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                scan_schema(v, &format!("{pointer}/{i}"), params, item, sink);
            }
        }
        Value::String(s) => check_prose(s, params, false, &at(item, pointer), sink),
        _ => {}
    }
}

fn scan_tools(manifest: &ToolManifest, sink: &mut Sink) {
    let mut seen = BTreeSet::new();
    for tool in &manifest.tools {
        let item = Location::Tool {
            name: tool.name.clone(),
            pointer: None,
        };
        if !seen.insert(tool.name.as_str()) {
            sink.add(
                rules::DUPLICATE_NAME,
                Severity::Medium,
                format!(
                    "tool `{}` is listed more than once; which one a client calls is undefined",
                    tool.name
                ),
                item.clone(),
                None,
            );
        }
        let mut params = Vec::new();
        parameter_names(&tool.input_schema, &mut params);
        check_identifier(&tool.name, "tool", &at(&item, "/name"), sink);
        if let Some(title) = &tool.title {
            check_prose(title, &params, true, &at(&item, "/title"), sink);
        }
        if let Some(description) = &tool.description {
            check_prose(description, &params, true, &at(&item, "/description"), sink);
            if description.chars().count() > text::LONG_DESCRIPTION_CHARS {
                sink.add(
                    rules::LONG_DESCRIPTION,
                    Severity::Low,
                    format!(
                        "description is {} characters long",
                        description.chars().count()
                    ),
                    at(&item, "/description"),
                    None,
                );
            }
        }
        if let Some(annotations) = &tool.annotations
            && let Some(Value::String(title)) = annotations.get("title")
        {
            check_prose(title, &params, true, &at(&item, "/annotations/title"), sink);
        }
        scan_schema(&tool.input_schema, "/inputSchema", &params, &item, sink);
        if let Some(output) = &tool.output_schema {
            scan_schema(output, "/outputSchema", &params, &item, sink);
        }
    }
}

fn scan_prompts(manifest: &ToolManifest, sink: &mut Sink) {
    let mut seen = BTreeSet::new();
    for prompt in &manifest.prompts {
        let item = Location::Prompt {
            name: prompt.name.clone(),
            pointer: None,
        };
        if !seen.insert(prompt.name.as_str()) {
            sink.add(
                rules::DUPLICATE_NAME,
                Severity::Medium,
                format!("prompt `{}` is listed more than once", prompt.name),
                item.clone(),
                None,
            );
        }
        check_identifier(&prompt.name, "prompt", &at(&item, "/name"), sink);
        let params: Vec<String> = prompt
            .arguments
            .iter()
            .flatten()
            .map(|a| a.name.clone())
            .collect();
        if let Some(title) = &prompt.title {
            check_prose(title, &params, false, &at(&item, "/title"), sink);
        }
        if let Some(description) = &prompt.description {
            check_prose(description, &params, true, &at(&item, "/description"), sink);
        }
        for (i, arg) in prompt.arguments.iter().flatten().enumerate() {
            check_identifier(
                &arg.name,
                "prompt argument",
                &at(&item, &format!("/arguments/{i}/name")),
                sink,
            );
            if let Some(d) = &arg.description {
                check_prose(
                    d,
                    &params,
                    false,
                    &at(&item, &format!("/arguments/{i}/description")),
                    sink,
                );
            }
        }
    }
}

fn scan_resources(manifest: &ToolManifest, sink: &mut Sink) {
    for r in &manifest.resources {
        let item = Location::Resource {
            uri: r.uri.clone(),
            pointer: None,
        };
        // The URI itself: a resource that exposes /etc/passwd is what it is.
        check_prose(&r.uri, &[], false, &at(&item, "/uri"), sink);
        check_identifier(&r.name, "resource", &at(&item, "/name"), sink);
        if let Some(d) = &r.description {
            check_prose(d, &[], false, &at(&item, "/description"), sink);
        }
        if let Some(Value::String(title)) = r.other.get("title") {
            check_prose(title, &[], false, &at(&item, "/title"), sink);
        }
    }
    for t in &manifest.resource_templates {
        let item = Location::ResourceTemplate {
            uri_template: t.uri_template.clone(),
            pointer: None,
        };
        check_prose(
            &t.uri_template,
            &[],
            false,
            &at(&item, "/uriTemplate"),
            sink,
        );
        check_identifier(&t.name, "resource template", &at(&item, "/name"), sink);
        if let Some(d) = &t.description {
            check_prose(d, &[], false, &at(&item, "/description"), sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_that_imitate() {
        let known = [
            "io.github.modelcontextprotocol/server-filesystem",
            "com.acme/github",
        ];
        assert!(check_server_name("com.acme/github", &known).is_empty());
        // Cyrillic о in "github".
        let f = check_server_name("com.acme/githuб", &known);
        assert!(f.iter().any(|f| f.severity >= Severity::Medium), "{f:?}");
        let f = check_server_name("com.acme/gіthub", &known);
        assert!(
            f.iter()
                .any(|f| f.rule == "server-name-imitation" && f.severity == Severity::High),
            "{f:?}"
        );
        let f = check_server_name("io.github.evil/server-filesytem", &known);
        assert!(
            f.iter()
                .any(|f| f.rule == "server-name-imitation" && f.severity == Severity::Medium),
            "{f:?}"
        );
        let f = check_server_name("io.github.other/server-filesystem", &known);
        assert_eq!(f[0].severity, Severity::Low, "{f:?}");
        assert!(check_server_name("com.acme/jira", &known).is_empty());
    }
}
