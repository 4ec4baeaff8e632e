//! Findings: what a scanner reports, in one shape whatever the scanner.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How bad a finding is: the registry's one severity scale, ordered
/// `Critical > High > Medium > Low > Info` by the enum, never by its text.
pub use mcpreg_api::scans::FindingSeverity as Severity;

/// Parses a severity as scanners write it, case-insensitively (`informational`, `moderate`,
/// `warning`, `error` and `note` are accepted too). The registry's own fields take only the exact
/// names ([`Severity::parse`]).
pub fn parse_scanner_severity(s: &str) -> Option<Severity> {
    match s.trim().to_ascii_lowercase().as_str() {
        "critical" => Some(Severity::Critical),
        "high" | "error" => Some(Severity::High),
        "medium" | "moderate" | "warning" => Some(Severity::Medium),
        "low" | "note" => Some(Severity::Low),
        "info" | "informational" | "none" => Some(Severity::Info),
        _ => None,
    }
}

/// Where a finding is: an item of the server's manifest, or a place in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Location {
    /// A tool, and optionally a JSON Pointer inside it (`/description`,
    /// `/inputSchema/properties/sidenote`).
    #[serde(rename_all = "camelCase")]
    Tool {
        /// The tool's name.
        name: String,
        /// A JSON Pointer inside the tool.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pointer: Option<String>,
    },
    /// A prompt.
    #[serde(rename_all = "camelCase")]
    Prompt {
        /// The prompt's name.
        name: String,
        /// A JSON Pointer inside the prompt.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pointer: Option<String>,
    },
    /// A resource.
    #[serde(rename_all = "camelCase")]
    Resource {
        /// The resource's URI.
        uri: String,
        /// A JSON Pointer inside the resource.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pointer: Option<String>,
    },
    /// A resource template.
    #[serde(rename_all = "camelCase")]
    ResourceTemplate {
        /// The template's URI template.
        uri_template: String,
        /// A JSON Pointer inside the template.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pointer: Option<String>,
    },
    /// The server's instructions.
    Instructions,
    /// The server itself (its name, its capabilities).
    #[serde(rename_all = "camelCase")]
    Server {
        /// The server's name.
        name: String,
    },
    /// A file, and a line in it.
    #[serde(rename_all = "camelCase")]
    File {
        /// The file's path or URI as the scanner wrote it.
        path: String,
        /// The first line (1-based).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<u64>,
        /// The first column (1-based).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        column: Option<u64>,
    },
    /// A named place the scanner reported that is none of the above (a SARIF logical location).
    #[serde(rename_all = "camelCase")]
    Logical {
        /// Its fully qualified name.
        name: String,
    },
    /// The scanner did not say where.
    Unspecified,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer =
            |p: &Option<String>| p.as_deref().map(|p| format!(" {p}")).unwrap_or_default();
        match self {
            Self::Tool { name, pointer: p } => write!(f, "tool {name}{}", pointer(p)),
            Self::Prompt { name, pointer: p } => write!(f, "prompt {name}{}", pointer(p)),
            Self::Resource { uri, pointer: p } => write!(f, "resource {uri}{}", pointer(p)),
            Self::ResourceTemplate {
                uri_template,
                pointer: p,
            } => write!(f, "resource template {uri_template}{}", pointer(p)),
            Self::Instructions => f.write_str("instructions"),
            Self::Server { name } => write!(f, "server {name}"),
            Self::File { path, line, .. } => match line {
                Some(l) => write!(f, "{path}:{l}"),
                None => f.write_str(path),
            },
            Self::Logical { name } => f.write_str(name),
            Self::Unspecified => f.write_str("(no location)"),
        }
    }
}

/// One thing a scanner found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The scanner's rule id (`hidden-instructions`, `B602`, `yara_analyzer/CODE EXECUTION`).
    pub rule: String,
    /// How bad it is.
    pub severity: Severity,
    /// What kind of problem, in lower-case words separated by `-` (`prompt-injection`,
    /// `code-execution`, `cwe-78`).
    pub category: String,
    /// What was found, for a person.
    pub message: String,
    /// Where.
    pub location: Location,
    /// The text that triggered it, shortened, with invisible characters made visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The scanner marked it as suppressed (a SARIF suppression that is not rejected).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

/// Turns free text into a category: lower case, words joined by `-`.
pub fn category_slug(s: &str) -> String {
    let mut out = String::new();
    for word in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_lowercase());
    }
    if out.is_empty() {
        "uncategorised".into()
    } else {
        out
    }
}

/// The highest severity among findings that are not suppressed.
pub fn max_severity(findings: &[Finding]) -> Option<Severity> {
    findings
        .iter()
        .filter(|f| !f.suppressed)
        .map(|f| f.severity)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        assert_eq!(parse_scanner_severity("HIGH"), Some(Severity::High));
        assert_eq!(parse_scanner_severity("warning"), Some(Severity::Medium));
        assert_eq!(parse_scanner_severity("SAFE"), None);
    }

    #[test]
    fn locations_serialise_with_a_kind() {
        let l = Location::Tool {
            name: "add".into(),
            pointer: Some("/description".into()),
        };
        assert_eq!(
            serde_json::to_value(&l).unwrap(),
            serde_json::json!({"kind": "tool", "name": "add", "pointer": "/description"})
        );
        assert_eq!(
            category_slug("SUSPICIOUS CODE EXECUTION"),
            "suspicious-code-execution"
        );
    }
}
