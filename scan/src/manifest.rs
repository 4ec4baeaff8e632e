//! The tool manifest: what an MCP server advertises to a client, and its tools pin.
//!
//! A manifest records, as the server sent them, the negotiated protocol version, `serverInfo`, the
//! server's and the client's capabilities, the instructions, and every tool, prompt, resource and
//! resource template. Fields mcpreg does not know are kept (`other`), so that a newer server
//! field is pinned too and the pin does not depend on the version of the client that captured it.
//!
//! # The tools pin
//!
//! `toolsPin` is the SHA-256 of the RFC 8785 canonical JSON of the *pinned content*:
//! `manifestVersion`, `protocolVersion`, `serverInfo`, `serverCapabilities`,
//! `clientCapabilities`, `instructions`, `tools`, `prompts` and `resourceTemplates`, with the
//! lists sorted (tools and prompts by name, templates by URI template). Not pinned: `resources`
//! (a server's resource list is data that changes at run time: files, sessions), and what mcpreg
//! derives or records itself (`toolsPin`, `toolDigests`, `contextCost`, `capture`).
//! The client capabilities are pinned because servers advertise different tools to different
//! clients (server-everything adds three tools for a client with sampling, elicitation and roots).
//!
//! Each tool also gets its own digest (the canonical JSON of the tool object), in `toolDigests`.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::cost::ContextCost;
use mcpreg_api::digest::{Sha256Digest, canonical_json};

/// The version of the manifest format this crate writes.
pub const MANIFEST_VERSION: u32 = 1;

/// A JSON object.
pub type JsonObject = Map<String, Value>;

/// What an MCP server advertised to one client, with its tools pin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolManifest {
    /// The manifest format version ([`MANIFEST_VERSION`]).
    pub manifest_version: u32,
    /// The protocol version the server answered `initialize` with.
    pub protocol_version: String,
    /// The server's `serverInfo` (name, version, title, …).
    pub server_info: ServerInfo,
    /// The server's `capabilities`, as sent.
    #[serde(default)]
    pub server_capabilities: JsonObject,
    /// The capabilities the client declared in `initialize`.
    #[serde(default)]
    pub client_capabilities: JsonObject,
    /// The server's `instructions`, if it sent any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Every tool from `tools/list` (all pages).
    #[serde(default)]
    pub tools: Vec<Tool>,
    /// Every prompt from `prompts/list`.
    #[serde(default)]
    pub prompts: Vec<Prompt>,
    /// Every resource from `resources/list` (recorded, not pinned).
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// Every template from `resources/templates/list`.
    #[serde(default)]
    pub resource_templates: Vec<ResourceTemplate>,
    /// The digest of the pinned content (see the module documentation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_pin: Option<Sha256Digest>,
    /// One digest per tool, in the order of `tools`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_digests: Vec<ToolDigest>,
    /// What enabling this server costs a client in context tokens (estimated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_cost: Option<ContextCost>,
    /// How and when the manifest was captured (not pinned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<CaptureInfo>,
}

/// The server's `serverInfo` (an MCP `Implementation`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// The server's name, e.g. `mcp-servers/everything`.
    pub name: String,
    /// The server's version (the server's own, not necessarily its package's).
    #[serde(default)]
    pub version: String,
    /// A display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub other: JsonObject,
}

/// One tool, as the server sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// The name the model calls it by.
    pub name: String,
    /// A display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The description the model reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of its arguments.
    #[serde(default = "empty_object")]
    pub input_schema: Value,
    /// The JSON Schema of its structured result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Behaviour hints (`readOnlyHint`, `destructiveHint`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<JsonObject>,
    /// Every other field (`execution`, `icons`, `_meta`, …), as sent.
    #[serde(flatten)]
    pub other: JsonObject,
}

fn empty_object() -> Value {
    Value::Object(JsonObject::new())
}

/// One prompt, as the server sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prompt {
    /// Its name.
    pub name: String,
    /// A display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Vec<PromptArgument>>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub other: JsonObject,
}

/// One argument of a prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptArgument {
    /// Its name.
    pub name: String,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Every other field (`title`, `required`, …), as sent.
    #[serde(flatten)]
    pub other: JsonObject,
}

/// One resource, as the server sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// Its URI.
    pub uri: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Every other field (`title`, `mimeType`, …), as sent.
    #[serde(flatten)]
    pub other: JsonObject,
}

/// One resource template, as the server sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTemplate {
    /// Its RFC 6570 URI template.
    pub uri_template: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Every other field (`title`, `mimeType`, …), as sent.
    #[serde(flatten)]
    pub other: JsonObject,
}

/// The digest of one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolDigest {
    /// The tool's name.
    pub name: String,
    /// SHA-256 of the tool's canonical JSON.
    pub digest: Sha256Digest,
}

/// The digests of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pins {
    /// The tools pin.
    pub tools_pin: Sha256Digest,
    /// One digest per tool, in manifest order.
    pub tools: Vec<ToolDigest>,
}

/// How a manifest was captured. Not pinned: the same server captured over stdio and over HTTP,
/// today and tomorrow, has the same pin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureInfo {
    /// `stdio` or `streamable-http`.
    pub transport: String,
    /// The command line or the URL (without credentials or query).
    pub target: String,
    /// When the capture finished.
    pub captured_at: DateTime<Utc>,
    /// The capturing client (`mcpreg` and its version).
    pub client: String,
    /// How many `list_changed` notifications arrived during the capture.
    #[serde(default)]
    pub list_changed_notifications: u32,
    /// Anything the capture could not do exactly (for example, a server that answered with
    /// plain JSON, so its lists went through the client's typed model).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Everything a client learned from a server, as raw JSON, to build a manifest from.
#[derive(Debug, Clone, Default)]
pub struct RawCapture {
    /// The `result` of `initialize`.
    pub initialize_result: Value,
    /// The capabilities the client declared.
    pub client_capabilities: Value,
    /// The `tools` of every `tools/list` page, in order.
    pub tools: Vec<Value>,
    /// The `prompts` of every `prompts/list` page.
    pub prompts: Vec<Value>,
    /// The `resources` of every `resources/list` page.
    pub resources: Vec<Value>,
    /// The `resourceTemplates` of every `resources/templates/list` page.
    pub resource_templates: Vec<Value>,
}

/// A manifest or server answer that cannot be used, with the JSON path of the problem.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The document is not valid JSON, or a field has the wrong type.
    #[error("{path}: {message}")]
    Invalid {
        /// JSON path of the problem, e.g. `tools[3].name` (`$` for the document).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A manifest format this version of mcpreg does not know.
    #[error(
        "manifestVersion: {0} is not supported (this mcpreg reads manifest version {MANIFEST_VERSION})"
    )]
    UnsupportedVersion(u32),
    /// The manifest's `toolsPin` or a tool digest does not match its content.
    #[error("{path}: the manifest says {stated} but its content digests to {computed}")]
    PinMismatch {
        /// `toolsPin` or `toolDigests[i].digest`.
        path: String,
        /// The digest written in the manifest.
        stated: String,
        /// The digest of the content.
        computed: String,
    },
}

impl ManifestError {
    fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// The part of a manifest the tools pin covers.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PinnedContent<'a> {
    manifest_version: u32,
    protocol_version: &'a str,
    server_info: &'a ServerInfo,
    server_capabilities: &'a JsonObject,
    client_capabilities: &'a JsonObject,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    tools: Vec<&'a Tool>,
    prompts: Vec<&'a Prompt>,
    resource_templates: Vec<&'a ResourceTemplate>,
}

/// Canonical JSON of values that came from JSON: cannot fail (no non-finite numbers, string
/// keys only).
fn digest_of<T: Serialize + ?Sized>(value: &T) -> Sha256Digest {
    Sha256Digest::of_json(&to_json(value))
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_value(value).expect("values read from JSON serialise back to JSON")
}

impl ToolManifest {
    /// Builds a manifest from what a server answered. Lists are sorted; pins and context cost
    /// are filled in ([`Self::seal`]).
    pub fn from_capture(raw: RawCapture) -> Result<Self, ManifestError> {
        let init = raw
            .initialize_result
            .as_object()
            .ok_or_else(|| ManifestError::invalid("initialize.result", "is not an object"))?;
        let protocol_version = init
            .get("protocolVersion")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ManifestError::invalid(
                    "initialize.result.protocolVersion",
                    "missing or not a string",
                )
            })?
            .to_owned();
        let server_info: ServerInfo = from_value(
            "initialize.result.serverInfo",
            init.get("serverInfo").cloned().unwrap_or(Value::Null),
        )?;
        let server_capabilities = match init.get("capabilities") {
            None | Some(Value::Null) => JsonObject::new(),
            Some(Value::Object(o)) => o.clone(),
            Some(_) => {
                return Err(ManifestError::invalid(
                    "initialize.result.capabilities",
                    "is not an object",
                ));
            }
        };
        let instructions = match init.get("instructions") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(ManifestError::invalid(
                    "initialize.result.instructions",
                    "is not a string",
                ));
            }
        };
        let client_capabilities = match raw.client_capabilities {
            Value::Object(o) => o,
            Value::Null => JsonObject::new(),
            _ => {
                return Err(ManifestError::invalid(
                    "clientCapabilities",
                    "is not an object",
                ));
            }
        };
        let mut manifest = Self {
            manifest_version: MANIFEST_VERSION,
            protocol_version,
            server_info,
            server_capabilities,
            client_capabilities,
            instructions,
            tools: items("tools", raw.tools)?,
            prompts: items("prompts", raw.prompts)?,
            resources: items("resources", raw.resources)?,
            resource_templates: items("resourceTemplates", raw.resource_templates)?,
            tools_pin: None,
            tool_digests: Vec::new(),
            context_cost: None,
            capture: None,
        };
        manifest.seal();
        Ok(manifest)
    }

    /// Reads a manifest document. Problems are reported with their JSON path. When the document
    /// states a `toolsPin` or tool digests, they must match its content
    /// ([`ManifestError::PinMismatch`]); when it states none, they are computed.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let mut manifest: Self = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            ManifestError::invalid(
                if path == "." { "$".into() } else { path },
                e.inner().to_string(),
            )
        })?;
        if manifest.manifest_version != MANIFEST_VERSION {
            return Err(ManifestError::UnsupportedVersion(manifest.manifest_version));
        }
        if manifest.tools_pin.is_some() || !manifest.tool_digests.is_empty() {
            manifest.verify_pins()?;
        }
        manifest.seal();
        Ok(manifest)
    }

    /// Sorts the lists into their canonical order and fills in `toolsPin`, `toolDigests` and
    /// `contextCost`.
    pub fn seal(&mut self) {
        self.tools
            .sort_by(|a, b| by_name_then_digest(&a.name, a, &b.name, b));
        self.prompts
            .sort_by(|a, b| by_name_then_digest(&a.name, a, &b.name, b));
        self.resources
            .sort_by(|a, b| by_name_then_digest(&a.uri, a, &b.uri, b));
        self.resource_templates
            .sort_by(|a, b| by_name_then_digest(&a.uri_template, a, &b.uri_template, b));
        let pins = self.compute_pins();
        self.tools_pin = Some(pins.tools_pin);
        self.tool_digests = pins.tools;
        self.context_cost = Some(crate::cost::estimate_context_cost(self));
    }

    /// Computes the tools pin and the tool digests from the content (whatever the manifest
    /// states).
    pub fn compute_pins(&self) -> Pins {
        Pins {
            tools_pin: digest_of(&self.pinned_content()),
            tools: self
                .tools
                .iter()
                .map(|t| ToolDigest {
                    name: t.name.clone(),
                    digest: t.digest(),
                })
                .collect(),
        }
    }

    /// The tools pin of the content.
    pub fn compute_tools_pin(&self) -> Sha256Digest {
        digest_of(&self.pinned_content())
    }

    /// Checks that the stated `toolsPin` and `toolDigests` match the content.
    pub fn verify_pins(&self) -> Result<(), ManifestError> {
        let pins = self.compute_pins();
        if let Some(stated) = &self.tools_pin
            && *stated != pins.tools_pin
        {
            return Err(ManifestError::PinMismatch {
                path: "toolsPin".into(),
                stated: stated.to_string(),
                computed: pins.tools_pin.to_string(),
            });
        }
        if !self.tool_digests.is_empty() {
            if self.tool_digests.len() != pins.tools.len() {
                return Err(ManifestError::invalid(
                    "toolDigests",
                    format!(
                        "lists {} digests for {} tools",
                        self.tool_digests.len(),
                        pins.tools.len()
                    ),
                ));
            }
            for (i, (stated, computed)) in self.tool_digests.iter().zip(&pins.tools).enumerate() {
                if stated != computed {
                    return Err(ManifestError::PinMismatch {
                        path: format!("toolDigests[{i}]"),
                        stated: format!("{} {}", stated.name, stated.digest),
                        computed: format!("{} {}", computed.name, computed.digest),
                    });
                }
            }
        }
        Ok(())
    }

    /// The RFC 8785 canonical JSON of the whole manifest (pinned content and the rest), for
    /// storage.
    pub fn to_canonical_json(&self) -> Vec<u8> {
        canonical_json(&to_json(self))
    }

    /// The pinned content as a JSON value (what `toolsPin` is the digest of).
    pub fn pinned_content_json(&self) -> Value {
        serde_json::to_value(self.pinned_content()).unwrap_or(Value::Null)
    }

    fn pinned_content(&self) -> PinnedContent<'_> {
        let mut tools: Vec<&Tool> = self.tools.iter().collect();
        tools.sort_by(|a, b| by_name_then_digest(&a.name, *a, &b.name, *b));
        let mut prompts: Vec<&Prompt> = self.prompts.iter().collect();
        prompts.sort_by(|a, b| by_name_then_digest(&a.name, *a, &b.name, *b));
        let mut resource_templates: Vec<&ResourceTemplate> =
            self.resource_templates.iter().collect();
        resource_templates
            .sort_by(|a, b| by_name_then_digest(&a.uri_template, *a, &b.uri_template, *b));
        PinnedContent {
            manifest_version: self.manifest_version,
            protocol_version: &self.protocol_version,
            server_info: &self.server_info,
            server_capabilities: &self.server_capabilities,
            client_capabilities: &self.client_capabilities,
            instructions: self.instructions.as_deref(),
            tools,
            prompts,
            resource_templates,
        }
    }

    /// The tool with this name (the first, if a server lists a name twice).
    pub fn tool(&self, name: &str) -> Option<&Tool> {
        self.tools.iter().find(|t| t.name == name)
    }
}

impl Tool {
    /// SHA-256 of this tool's canonical JSON.
    pub fn digest(&self) -> Sha256Digest {
        digest_of(self)
    }

    /// SHA-256 of this tool without its names (`name`, `title`, `annotations.title`): equal for a
    /// tool that was only renamed.
    pub fn content_digest(&self) -> Sha256Digest {
        let mut unnamed = self.clone();
        unnamed.name.clear();
        unnamed.title = None;
        if let Some(a) = &mut unnamed.annotations {
            a.remove("title");
        }
        digest_of(&unnamed)
    }
}

/// Sorts by a key, and items with an equal key (a server listing a name twice) by their digest,
/// so the order never depends on the order the server sent them in.
fn by_name_then_digest<T: Serialize>(ka: &str, a: &T, kb: &str, b: &T) -> Ordering {
    ka.cmp(kb).then_with(|| digest_of(a).cmp(&digest_of(b)))
}

fn from_value<T: serde::de::DeserializeOwned>(path: &str, v: Value) -> Result<T, ManifestError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let inner = e.path().to_string();
        let full = if inner == "." {
            path.to_owned()
        } else {
            format!("{path}.{inner}")
        };
        ManifestError::invalid(full, e.inner().to_string())
    })
}

fn items<T: serde::de::DeserializeOwned>(
    what: &str,
    values: Vec<Value>,
) -> Result<Vec<T>, ManifestError> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| from_value(&format!("{what}[{i}]"), strip_nulls(v)))
        .collect()
}

/// Members whose value is `null` are dropped at the top level of a listed item: servers write
/// an absent optional field either way, and the pin should not depend on which.
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(o.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        v => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn capture() -> RawCapture {
        RawCapture {
            initialize_result: json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {"tools": {"listChanged": true}},
                "serverInfo": {"name": "demo", "version": "1.0.0"},
                "instructions": "Be nice."
            }),
            client_capabilities: json!({}),
            tools: vec![
                json!({"name": "b", "description": "B", "inputSchema": {"type": "object"}, "execution": {"taskSupport": "forbidden"}}),
                json!({"name": "a", "description": "A", "inputSchema": {"type": "object"}, "outputSchema": null}),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn pin_is_independent_of_list_order_and_capture_metadata() {
        let m1 = ToolManifest::from_capture(capture()).unwrap();
        let mut raw = capture();
        raw.tools.reverse();
        let mut m2 = ToolManifest::from_capture(raw).unwrap();
        m2.capture = Some(CaptureInfo {
            transport: "stdio".into(),
            target: "x".into(),
            captured_at: Utc::now(),
            client: "test".into(),
            list_changed_notifications: 0,
            warnings: vec![],
        });
        assert_eq!(m1.tools_pin, m2.tools_pin);
        assert_eq!(m1.tools[0].name, "a");
        // Unknown fields are kept and pinned.
        assert_eq!(
            m1.tools[1].other["execution"],
            json!({"taskSupport": "forbidden"})
        );
        // `null` is the same as absent.
        assert!(m1.tools[0].output_schema.is_none());
    }

    #[test]
    fn pin_covers_descriptions_and_client_capabilities_but_not_resources() {
        let base = ToolManifest::from_capture(capture()).unwrap();
        let mut raw = capture();
        raw.tools[0]["description"] = json!("B, but different");
        assert_ne!(
            ToolManifest::from_capture(raw).unwrap().tools_pin,
            base.tools_pin
        );
        let mut raw = capture();
        raw.client_capabilities = json!({"sampling": {}});
        assert_ne!(
            ToolManifest::from_capture(raw).unwrap().tools_pin,
            base.tools_pin
        );
        let mut raw = capture();
        raw.resources = vec![json!({"uri": "file:///x", "name": "x"})];
        assert_eq!(
            ToolManifest::from_capture(raw).unwrap().tools_pin,
            base.tools_pin
        );
    }

    #[test]
    fn parse_round_trips_and_catches_tampering() {
        let m = ToolManifest::from_capture(capture()).unwrap();
        let text = serde_json::to_vec(&m).unwrap();
        assert_eq!(ToolManifest::parse(&text).unwrap(), m);
        let mut v: Value = serde_json::from_slice(&text).unwrap();
        v["tools"][0]["description"] = json!("changed after pinning");
        let err = ToolManifest::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(
            matches!(err, ManifestError::PinMismatch { ref path, .. } if path == "toolsPin"),
            "{err}"
        );
        v["tools"][0]["name"] = json!(42);
        let err = ToolManifest::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(err.to_string().starts_with("tools[0].name:"), "{err}");
    }

    #[test]
    fn bad_server_answers_name_the_field() {
        let mut raw = capture();
        raw.tools.push(json!({"description": "no name"}));
        let err = ToolManifest::from_capture(raw).unwrap_err();
        assert!(err.to_string().starts_with("tools[2]"), "{err}");
        let mut raw = capture();
        raw.initialize_result["serverInfo"] = json!("x");
        let err = ToolManifest::from_capture(raw).unwrap_err();
        assert!(
            err.to_string().starts_with("initialize.result.serverInfo"),
            "{err}"
        );
    }

    #[test]
    fn rename_keeps_the_content_digest() {
        let m = ToolManifest::from_capture(capture()).unwrap();
        let mut renamed = m.tools[0].clone();
        renamed.name = "zzz".into();
        renamed.title = Some("Zzz".into());
        assert_ne!(renamed.digest(), m.tools[0].digest());
        assert_eq!(renamed.content_digest(), m.tools[0].content_digest());
    }
}
