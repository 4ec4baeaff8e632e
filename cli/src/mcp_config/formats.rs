//! The configuration files of VS Code, Claude Desktop and Cursor: their shapes, read into one
//! model, and where each client keeps them.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use super::jsonc::strip_jsonc;

/// The MCP client a configuration file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum McpClient {
    /// Visual Studio Code (and GitHub Copilot in it).
    Vscode,
    /// Claude Desktop.
    ClaudeDesktop,
    /// Cursor.
    Cursor,
}

impl fmt::Display for McpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Vscode => "vscode",
            Self::ClaudeDesktop => "claude-desktop",
            Self::Cursor => "cursor",
        })
    }
}

/// How a configured server is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// Started by the client, over stdin/stdout.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments (may hold secrets: never printed).
        args: Vec<String>,
    },
    /// Connected to over HTTP.
    Remote {
        /// The endpoint (may hold secrets in its query: printed without it).
        url: String,
        /// `http` (streamable HTTP) or `sse`.
        kind: &'static str,
    },
}

/// One server of one MCP client configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredServer {
    /// Whose configuration it is.
    pub client: McpClient,
    /// The file it is configured in.
    pub file: PathBuf,
    /// Its name in the file.
    pub name: String,
    /// How the client reaches it.
    pub launch: Launch,
}

/// A configuration file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {at}: {reason}", file.display())]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// Where in it: a JSON path (`$.servers.github.args[1]`) or `line L column C`.
    pub at: String,
    /// What is wrong.
    pub reason: String,
}

/// A JSON path one key deeper.
fn key_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        format!("{parent}.{key}")
    } else {
        format!("{parent}[{}]", Value::String(key.to_owned()))
    }
}

/// Reads one configuration file. `client` is whose file it is when known (a default place);
/// otherwise it is told from the content (`servers` → VS Code, `mcpServers` → Cursor when the
/// file is in a `.cursor` (or `cursor`) directory, else Claude Desktop).
pub fn read_config(
    file: &Path,
    client: Option<McpClient>,
) -> Result<Vec<ConfiguredServer>, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|e| ConfigError {
        file: file.to_owned(),
        at: "file".into(),
        reason: format!("cannot read it: {e}"),
    })?;
    parse_config(file, client, &text)
}

/// Parses one configuration file's text (see [`read_config`]).
pub fn parse_config(
    file: &Path,
    client: Option<McpClient>,
    text: &str,
) -> Result<Vec<ConfiguredServer>, ConfigError> {
    let error = |at: String, reason: String| ConfigError {
        file: file.to_owned(),
        at,
        reason,
    };
    let stripped = strip_jsonc(text).map_err(|(line, column)| {
        error(
            format!("line {line} column {column}"),
            "a `/*` comment that is never closed".into(),
        )
    })?;
    let root: Value = serde_json::from_str(&stripped).map_err(|e| {
        error(
            format!("line {} column {}", e.line(), e.column()),
            format!("not JSON (with comments): {e}"),
        )
    })?;
    let Some(root) = root.as_object() else {
        return Err(error("$".into(), "expected an object".into()));
    };
    let mcp_servers_client = || {
        let cursor = file
            .parent()
            .and_then(Path::file_name)
            .and_then(|d| d.to_str())
            .is_some_and(|d| d.to_ascii_lowercase().contains("cursor"));
        if cursor {
            McpClient::Cursor
        } else {
            McpClient::ClaudeDesktop
        }
    };
    // (client, JSON path of the map, the map)
    let mut maps: Vec<(McpClient, String, &Value)> = Vec::new();
    let vscode = matches!(client, None | Some(McpClient::Vscode));
    if vscode && let Some(servers) = root.get("servers") {
        maps.push((McpClient::Vscode, "$.servers".into(), servers));
    }
    if vscode && let Some(mcp) = root.get("mcp") {
        let servers = mcp
            .as_object()
            .ok_or_else(|| error("$.mcp".into(), "expected an object".into()))?
            .get("servers");
        if let Some(servers) = servers {
            maps.push((McpClient::Vscode, "$.mcp.servers".into(), servers));
        }
    }
    if client != Some(McpClient::Vscode)
        && let Some(servers) = root.get("mcpServers")
    {
        maps.push((
            client.unwrap_or_else(mcp_servers_client),
            "$.mcpServers".into(),
            servers,
        ));
    }
    if maps.is_empty() && client.is_none() {
        return Err(error(
            "$".into(),
            "no `servers`, `mcp.servers` or `mcpServers` object: not an MCP client configuration of VS Code, Claude Desktop or Cursor".into(),
        ));
    }
    let mut servers = Vec::new();
    for (client, path, map) in maps {
        let map = map
            .as_object()
            .ok_or_else(|| error(path.clone(), "expected an object of servers by name".into()))?;
        for (name, entry) in map {
            let path = key_path(&path, name);
            let launch = launch_of(entry, &path).map_err(|(at, reason)| error(at, reason))?;
            servers.push(ConfiguredServer {
                client,
                file: file.to_owned(),
                name: name.clone(),
                launch,
            });
        }
    }
    Ok(servers)
}

/// How one server entry is reached; errors are (JSON path, what is wrong).
fn launch_of(entry: &Value, path: &str) -> Result<Launch, (String, String)> {
    let obj = entry
        .as_object()
        .ok_or_else(|| (path.to_owned(), "expected an object".to_owned()))?;
    let text = |key: &str| -> Result<Option<&str>, (String, String)> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err((key_path(path, key), "expected a string".into())),
        }
    };
    // Secrets: only their shape is checked, their values are never read.
    for key in ["env", "headers"] {
        if !matches!(
            obj.get(key),
            None | Some(Value::Null) | Some(Value::Object(_))
        ) {
            return Err((key_path(path, key), "expected an object".into()));
        }
    }
    let command = text("command")?;
    let url = text("url")?;
    let remote_kind = match text("type")? {
        None => None,
        Some("stdio") => Some(None),
        Some("http" | "streamable-http" | "streamableHttp") => Some(Some("http")),
        Some("sse") => Some(Some("sse")),
        Some(other) => {
            return Err((
                key_path(path, "type"),
                format!(
                    "unknown server type {:?}: expected `stdio`, `http` or `sse`",
                    other.chars().take(40).collect::<String>()
                ),
            ));
        }
    };
    match (remote_kind, command, url) {
        (Some(None), Some(command), _) | (None, Some(command), _) => Ok(Launch::Stdio {
            command: command.to_owned(),
            args: args_of(obj, path)?,
        }),
        (Some(None), None, _) => Err((
            key_path(path, "command"),
            "a stdio server needs a `command`".into(),
        )),
        (Some(Some(kind)), _, Some(url)) => Ok(Launch::Remote {
            url: url.to_owned(),
            kind,
        }),
        (None, None, Some(url)) => Ok(Launch::Remote {
            url: url.to_owned(),
            kind: "http",
        }),
        (Some(Some(_)), _, None) => Err((
            key_path(path, "url"),
            "an http or sse server needs a `url`".into(),
        )),
        (None, None, None) => Err((
            path.to_owned(),
            "neither a `command` (stdio) nor a `url` (http, sse)".into(),
        )),
    }
}

fn args_of(obj: &Map<String, Value>, path: &str) -> Result<Vec<String>, (String, String)> {
    let at = key_path(path, "args");
    match obj.get("args") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, a)| match a {
                Value::String(s) => Ok(s.clone()),
                _ => Err((format!("{at}[{i}]"), "expected a string".into())),
            })
            .collect(),
        Some(_) => Err((at, "expected an array of strings".into())),
    }
}

/// Where the configurations of VS Code, Claude Desktop and Cursor usually are, on this OS, for a
/// user working in `cwd`: those of the workspace (`.vscode/`, `.cursor/`) and of the user.
pub fn default_config_files(cwd: &Path) -> Vec<(McpClient, PathBuf)> {
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from);
    // The per-user application-data directory VS Code and Claude Desktop use.
    let app_data = if cfg!(target_os = "macos") {
        home.as_ref()
            .map(|h| h.join("Library").join("Application Support"))
    } else if cfg!(windows) {
        std::env::var_os("APPDATA").map(PathBuf::from)
    } else {
        std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| home.as_ref().map(|h| h.join(".config")))
    };
    let mut files = vec![
        (McpClient::Vscode, cwd.join(".vscode").join("mcp.json")),
        (McpClient::Vscode, cwd.join(".vscode").join("settings.json")),
        (McpClient::Cursor, cwd.join(".cursor").join("mcp.json")),
    ];
    if let Some(dir) = &app_data {
        let user = dir.join("Code").join("User");
        files.push((McpClient::Vscode, user.join("mcp.json")));
        files.push((McpClient::Vscode, user.join("settings.json")));
        files.push((
            McpClient::ClaudeDesktop,
            dir.join("Claude").join("claude_desktop_config.json"),
        ));
    }
    if let Some(h) = &home {
        files.push((McpClient::Cursor, h.join(".cursor").join("mcp.json")));
    }
    // The workspace may be the home directory: read each file once.
    let mut seen = BTreeSet::new();
    files.retain(|(_, f)| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_entries_name_the_json_path() {
        let file = Path::new("mcp.json");
        let err = |text: &str| parse_config(file, None, text).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"servers": {"gh": {"command": "npx", "args": ["-y", 3]}}}"#),
            "mcp.json: $.servers.gh.args[1]: expected a string"
        );
        assert!(
            err(r#"{"mcpServers": {"my server": {"args": []}}}"#)
                .contains(r#"$.mcpServers["my server"]: neither"#)
        );
        assert!(
            err(r#"{"servers": {"x": {"type": "ws", "url": "u"}}}"#).contains("$.servers.x.type")
        );
        assert!(err(r#"{"servers": {"x": {"type": "http"}}}"#).contains("$.servers.x.url"));
        assert!(
            err(r#"{"servers": {"x": {"command": "a", "env": "TOKEN=1"}}}"#)
                .contains("$.servers.x.env")
        );
        assert!(
            err("{\n\"servers\": {\n  \"x\": {\"command\": \"a\" \"args\": []}}}")
                .contains("line 3 column")
        );
        assert!(err(r#"{"other": 1}"#).contains("not an MCP client configuration"));
    }
}
