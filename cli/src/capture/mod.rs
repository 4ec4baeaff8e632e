//! Capturing what a live MCP server advertises, as an MCP client (rmcp), into a tool manifest.
//!
//! rmcp runs the session: `initialize`, `notifications/initialized`, request ids, pings, the
//! Streamable HTTP session. The manifest, though, is built from the **raw JSON** the server sent,
//! teed off below rmcp (stdio: the child's stdout, line by line; HTTP: the SSE events), so that a
//! field rmcp's typed model does not know (`execution`, a future field) is kept and pinned, and
//! the tools pin does not change when rmcp does.
//!
//! Everything is bounded: starting and `initialize` (`start`), each request (`request`), the
//! whole capture (`total`), the size of one message, the number of pages and of items. A stdio
//! server runs in its own process group, which is killed when the capture ends.
//!
//! The parts: `stdio` (a child process and the tee on its pipes), `http` (rmcp's Streamable HTTP
//! client with a tee on its messages), `recorder` (what both tees record) and `session` (starting
//! the session, listing, and assembling the manifest).

use std::time::Duration;

use mcpreg_scan::manifest::{ManifestError, ToolManifest};
use rmcp::model::ClientCapabilities;
use serde_json::Value;
use url::Url;

mod http;
mod recorder;
mod session;
mod stdio;

use session::capture_inner;

/// What to capture.
#[derive(Debug, Clone)]
pub enum Target {
    /// A server started as a child process, speaking newline-delimited JSON-RPC on stdio.
    Stdio {
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// Extra environment variables.
        env: Vec<(String, String)>,
    },
    /// A server at a Streamable HTTP endpoint.
    Http {
        /// The endpoint (`http://host:port/mcp`).
        url: Url,
        /// Extra request headers (e.g. `Authorization`).
        headers: Vec<(String, String)>,
    },
}

impl Target {
    fn transport(&self) -> &'static str {
        match self {
            Self::Stdio { .. } => "stdio",
            Self::Http { .. } => "streamable-http",
        }
    }

    /// The command line or the URL without credentials and query, as recorded in the manifest.
    fn describe(&self) -> String {
        match self {
            Self::Stdio { program, args, .. } => std::iter::once(program.as_str())
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
            Self::Http { url, .. } => {
                let mut u = url.clone();
                let _ = u.set_username("");
                let _ = u.set_password(None);
                u.set_query(None);
                u.set_fragment(None);
                u.to_string()
            }
        }
    }
}

/// Bounds on a capture.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Starting the server and its answer to `initialize`.
    pub start: Duration,
    /// Each request after that.
    pub request: Duration,
    /// The whole capture.
    pub total: Duration,
    /// Quiet time without `list_changed` notifications before listing (servers register some
    /// tools after `notifications/initialized` and announce them).
    pub settle: Duration,
    /// Longest wait for that quiet time.
    pub settle_max: Duration,
    /// Largest single message from the server, in bytes.
    pub max_message_bytes: usize,
    /// Most pages per list.
    pub max_pages: usize,
    /// Most items per list (tools, prompts, …).
    pub max_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            start: Duration::from_secs(30),
            request: Duration::from_secs(15),
            total: Duration::from_secs(90),
            settle: Duration::from_millis(300),
            settle_max: Duration::from_secs(3),
            max_message_bytes: 8 * 1024 * 1024,
            max_pages: 100,
            max_items: 10_000,
        }
    }
}

/// Why a capture failed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The server could not be started or reached.
    #[error("cannot start the server: {0}")]
    Start(String),
    /// A step took longer than its bound.
    #[error("{what} did not finish within {after:?}{detail}")]
    Timeout {
        /// The step (`initialize`, `tools/list`, the capture).
        what: String,
        /// Its bound.
        after: Duration,
        /// What the server said on stderr, when it is a child process.
        detail: String,
    },
    /// The server did not speak MCP as expected.
    #[error("{0}")]
    Protocol(String),
    /// The server sent more than the limits allow.
    #[error("{0}")]
    TooLarge(String),
    /// The server's answers do not make a manifest.
    #[error("the server's answers do not make a manifest: {0}")]
    Manifest(#[from] ManifestError),
}

/// The innermost cause of an error ("Connection refused"), without the wrappers' type names.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s
    }
}

/// Captures a server's manifest. `client_capabilities` is what the client declares in
/// `initialize` (servers advertise different tools to different clients).
pub async fn capture(
    target: &Target,
    client_capabilities: &Value,
    limits: &Limits,
) -> Result<ToolManifest, CaptureError> {
    let capabilities: ClientCapabilities = serde_json::from_value(client_capabilities.clone())
        .map_err(|e| CaptureError::Start(format!("invalid client capabilities: {e}")))?;
    match tokio::time::timeout(limits.total, capture_inner(target, capabilities, limits)).await {
        Ok(r) => r,
        Err(_) => Err(CaptureError::Timeout {
            what: "the capture".into(),
            after: limits.total,
            detail: String::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_recorded_without_credentials() {
        let t = Target::Http {
            url: Url::parse("https://user:secret@mcp.example.com/mcp?token=abc").unwrap(),
            headers: vec![],
        };
        assert_eq!(t.describe(), "https://mcp.example.com/mcp");
    }
}
