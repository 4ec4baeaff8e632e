//! MCP client configurations — VS Code, Claude Desktop, Cursor — read into one model, what each
//! configured server runs, and whether a verified allowlist allows it.
//!
//! The formats, as their publishers document them:
//! - VS Code `mcp.json` (`.vscode/mcp.json` in a workspace, `mcp.json` in the user profile):
//!   `{"servers": {NAME: {"type": "stdio", "command", "args", "env"} | {"type": "http" | "sse",
//!   "url", "headers"}}, "inputs": […]}`, JSON with comments and trailing commas; older setups keep
//!   the same under `"mcp": {"servers": …}` in `settings.json`.
//! - Claude Desktop `claude_desktop_config.json`: `{"mcpServers": {NAME: {"command", "args",
//!   "env"}}}` (and `url` entries).
//! - Cursor `mcp.json` (`~/.cursor/mcp.json`, `.cursor/mcp.json`): `{"mcpServers": {NAME:
//!   {"command", "args", "env"} | {"url", "headers"}}}`.
//!
//! `env` and `headers` hold secrets: they are checked for shape and never kept. Arguments can hold
//! secrets too (`-e TOKEN=…` for docker), so nothing here prints them: what a server runs is shown
//! as the package or image it names.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use mcpreg_api::Status;
use mcpreg_api::allowlist::{AllowedPackage, AllowlistDocument, AllowlistEntry, Transport};
use mcpreg_trust::Sha256Digest;
use serde::Serialize;
use serde_json::{Map, Value};

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

/// Removes `//` and `/* */` comments and trailing commas outside strings, as VS Code's JSONC
/// allows, keeping every other byte where it was so that parse errors point at the right line and
/// column. Errors: an unterminated block comment (with its line and column).
pub fn strip_jsonc(text: &str) -> Result<String, (usize, usize)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    let mut in_string = false;
    // Where in `out` the last comma is, while only whitespace and comments follow it.
    let mut comma: Option<usize> = None;
    let blank = |out: &mut String, c: char| {
        if c == '\n' {
            out.push('\n');
        } else {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        }
    };
    while let Some((at, c)) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some((_, escaped)) = chars.next() {
                    out.push(escaped);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek().map(|&(_, n)| n)) {
            ('/', Some('/')) => {
                out.push(' ');
                while let Some(&(_, n)) = chars.peek() {
                    if n == '\n' {
                        break;
                    }
                    blank(&mut out, n);
                    chars.next();
                }
            }
            ('/', Some('*')) => {
                chars.next();
                out.push_str("  ");
                let mut closed = false;
                while let Some((_, n)) = chars.next() {
                    if n == '*' && chars.peek().map(|&(_, m)| m) == Some('/') {
                        chars.next();
                        out.push_str("  ");
                        closed = true;
                        break;
                    }
                    blank(&mut out, n);
                }
                if !closed {
                    return Err(line_column(text, at));
                }
            }
            (',', _) => {
                comma = Some(out.len());
                out.push(',');
            }
            ('}' | ']', _) => {
                if let Some(p) = comma.take() {
                    out.replace_range(p..p + 1, " ");
                }
                out.push(c);
            }
            (c, _) if c.is_whitespace() => out.push(c),
            (c, _) => {
                comma = None;
                in_string = c == '"';
                out.push(c);
            }
        }
    }
    Ok(out)
}

fn line_column(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
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

/// A package registry a launcher fetches from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageRegistry {
    /// npm (`npx`, `bunx`, `pnpm dlx`, `yarn dlx`, `npm exec`).
    Npm,
    /// PyPI (`uvx`, `uv tool run`, `pipx run`).
    Pypi,
}

impl PackageRegistry {
    /// The `registryType` of server.json and allowlists.
    pub fn registry_type(self) -> &'static str {
        match self {
            Self::Npm => "npm",
            Self::Pypi => "pypi",
        }
    }

    fn same_name(self, a: &str, b: &str) -> bool {
        match self {
            Self::Npm => a == b,
            Self::Pypi => pypi_normalise(a) == pypi_normalise(b),
        }
    }
}

/// An OCI image reference, its repository normalised as Docker resolves it
/// (`mcp/github` → `docker.io/mcp/github`, `ubuntu` → `docker.io/library/ubuntu`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `registry/path`, the registry host lowercased.
    pub repository: String,
    /// The tag, if any.
    pub tag: Option<String>,
    /// The `@` digest, if any (`sha256:…`).
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses `[registry/]path[:tag][@digest]`.
    pub fn parse(reference: &str) -> Self {
        let (rest, digest) = match reference.split_once('@') {
            Some((r, d)) => (r, Some(d.to_owned())),
            None => (reference, None),
        };
        let slash = rest.rfind('/');
        let (name, tag) = match rest.rfind(':') {
            Some(colon) if slash.is_none_or(|s| colon > s) => {
                (&rest[..colon], Some(rest[colon + 1..].to_owned()))
            }
            _ => (rest, None),
        };
        let (registry, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':']) || first.eq_ignore_ascii_case("localhost") =>
            {
                (first.to_ascii_lowercase(), path.to_owned())
            }
            _ => ("docker.io".to_owned(), name.to_owned()),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => "docker.io".to_owned(),
            _ => registry,
        };
        let path = if registry == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        Self {
            repository: format!("{registry}/{path}"),
            tag,
            digest,
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// What a stdio server runs, as far as its command line tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runs {
    /// A package fetched by a launcher (`npx`, `uvx`, …).
    Package {
        /// Where it comes from.
        registry: PackageRegistry,
        /// The package's name.
        identifier: String,
        /// The version or range asked for (`1.2.3`, `latest`, `>=1`), if any.
        version: Option<String>,
        /// Whether that is one exact version.
        pinned: bool,
        /// The launcher (`npx`, `uvx`, …).
        launcher: &'static str,
    },
    /// A container image (`docker run`, `podman run`).
    Image(ImageRef),
    /// Anything else: a local script or binary, or a launcher form this does not recognise.
    Local {
        /// Why it counts as local.
        reason: String,
    },
}

impl fmt::Display for Runs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Package {
                registry,
                identifier,
                version,
                ..
            } => {
                write!(f, "{} {identifier}", registry.registry_type())?;
                match (registry, version) {
                    (_, None) => Ok(()),
                    (PackageRegistry::Pypi, Some(v))
                        if v.starts_with(['=', '<', '>', '!', '~']) =>
                    {
                        write!(f, "{v}")
                    }
                    (_, Some(v)) => write!(f, "@{v}"),
                }
            }
            Self::Image(image) => write!(f, "oci {image}"),
            Self::Local { reason } => write!(f, "local ({reason})"),
        }
    }
}

/// The program's name without its directory and Windows extension (`C:\…\npx.cmd` → `npx`).
fn program_name(command: &str) -> String {
    let base = command.rsplit(['/', '\\']).next().unwrap_or(command);
    let lower = base.to_ascii_lowercase();
    for ext in [".cmd", ".exe", ".bat", ".ps1"] {
        if let Some(stem) = lower.strip_suffix(ext) {
            return stem.to_owned();
        }
    }
    lower
}

/// What a stdio server's command line runs.
pub fn identify(command: &str, args: &[String]) -> Runs {
    let program = program_name(command);
    let sub = |n: usize| args.get(n).map(String::as_str);
    match (program.as_str(), sub(0)) {
        ("cmd", Some(c)) if c.eq_ignore_ascii_case("/c") && args.len() > 1 => {
            identify(&args[1], &args[2..])
        }
        ("npx", _) => npm_exec(args, "npx"),
        ("npm", Some("exec" | "x")) => npm_exec(&args[1..], "npm exec"),
        ("bunx", _) => npm_exec(args, "bunx"),
        ("bun", Some("x")) => npm_exec(&args[1..], "bunx"),
        ("pnpm", Some("dlx")) => npm_exec(&args[1..], "pnpm dlx"),
        ("pnpx", _) => npm_exec(args, "pnpm dlx"),
        ("yarn", Some("dlx")) => npm_exec(&args[1..], "yarn dlx"),
        ("uvx", _) => python_run(args, "uvx"),
        ("uv", Some("tool")) if sub(1) == Some("run") => python_run(&args[2..], "uvx"),
        ("pipx", Some("run")) => python_run(&args[1..], "pipx run"),
        ("docker" | "podman", _) => container_run(args, &program),
        _ => Runs::Local {
            reason: format!("runs `{program}`"),
        },
    }
}

fn local(reason: impl Into<String>) -> Runs {
    Runs::Local {
        reason: reason.into(),
    }
}

/// `npx [-y|--yes] [--package=X|-p X]… spec [args]` and its cousins.
fn npm_exec(args: &[String], launcher: &'static str) -> Runs {
    const VALUE_OPTIONS: &[&str] = &[
        "--registry",
        "--cache",
        "--userconfig",
        "--prefix",
        "--loglevel",
        "-w",
        "--workspace",
    ];
    let mut packages = Vec::new();
    let mut positional = None;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "--" {
            positional = args.get(i + 1);
            break;
        } else if let Some(p) = a.strip_prefix("--package=") {
            packages.push(p.to_owned());
        } else if a == "-p" || a == "--package" {
            match args.get(i + 1) {
                Some(p) => packages.push(p.clone()),
                None => return local(format!("`{launcher} {a}` without a package")),
            }
            i += 1;
        } else if a == "-c" || a == "--call" || a.starts_with("--call=") {
            return local(format!("`{launcher} {a}` runs a shell command"));
        } else if VALUE_OPTIONS.contains(&a.as_str()) {
            i += 1;
        } else if !a.starts_with('-') {
            positional = Some(a);
            break;
        }
        i += 1;
    }
    let spec = match (packages.as_slice(), positional) {
        ([one], _) => one.clone(),
        ([], Some(p)) => p.clone(),
        ([], None) => return local(format!("`{launcher}` without a package")),
        (_, _) => return local(format!("`{launcher}` with several --package")),
    };
    match npm_spec(&spec) {
        Some((identifier, version)) => {
            let pinned = version.as_deref().is_some_and(|v| {
                mcpreg_api::Version::parse(v)
                    .ok()
                    .and_then(|v| v.semver())
                    .is_some()
            });
            Runs::Package {
                registry: PackageRegistry::Npm,
                identifier,
                version,
                pinned,
                launcher,
            }
        }
        None => local(format!(
            "`{launcher}` of a path, URL, git or alias spec, not a registry package"
        )),
    }
}

/// `name`, `name@version`, `@scope/name`, `@scope/name@version`; `None` for what is not a registry
/// package (a path, URL, git repository, GitHub shorthand, `npm:` alias).
fn npm_spec(spec: &str) -> Option<(String, Option<String>)> {
    if spec.is_empty() || spec.starts_with(['.', '/', '~', '\\']) || spec.contains(':') {
        return None;
    }
    let (name, version) = match spec.strip_prefix('@') {
        Some(scoped) => {
            let (n, v) = match scoped.split_once('@') {
                Some((n, v)) => (n, Some(v)),
                None => (scoped, None),
            };
            let (scope, pkg) = n.split_once('/')?;
            if scope.is_empty() || pkg.is_empty() || pkg.contains('/') {
                return None;
            }
            (format!("@{n}"), v)
        }
        None => {
            let (n, v) = match spec.split_once('@') {
                Some((n, v)) => (n, Some(v)),
                None => (spec, None),
            };
            // `user/repo` is GitHub shorthand.
            if n.contains('/') {
                return None;
            }
            (n.to_owned(), v)
        }
    };
    let version = version.filter(|v| !v.is_empty()).map(str::to_owned);
    Some((name, version))
}

/// `uvx [--from SPEC] spec [args]` and `pipx run [--spec SPEC] app [args]`.
fn python_run(args: &[String], launcher: &'static str) -> Runs {
    const VALUE_OPTIONS: &[&str] = &[
        "--with",
        "--with-editable",
        "--with-requirements",
        "--python",
        "-p",
        "--index",
        "--index-url",
        "-i",
        "--extra-index-url",
        "--default-index",
        "--find-links",
        "-f",
        "--constraints",
        "-c",
        "--overrides",
        "--build-constraints",
        "--cache-dir",
        "--directory",
        "--project",
        "--config-file",
        "--env-file",
        "--python-platform",
        "--exclude-newer",
        "--color",
        "--allow-insecure-host",
        "--keyring-provider",
        "--index-strategy",
        "--resolution",
        "--prerelease",
        "--link-mode",
        "--pip-args",
        "--upgrade-package",
        "--reinstall-package",
        "--refresh-package",
        "-P",
    ];
    let mut from = None;
    let mut positional = None;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "--" {
            positional = args.get(i + 1);
            break;
        } else if a == "--from" || a == "--spec" {
            match args.get(i + 1) {
                Some(f) => from = Some(f.clone()),
                None => return local(format!("`{launcher} {a}` without a package")),
            }
            i += 1;
        } else if let Some(f) = a
            .strip_prefix("--from=")
            .or_else(|| a.strip_prefix("--spec="))
        {
            from = Some(f.to_owned());
        } else if VALUE_OPTIONS.contains(&a.as_str()) {
            i += 1;
        } else if !a.starts_with('-') {
            positional = Some(a);
            break;
        }
        i += 1;
    }
    let Some(spec) = from.as_deref().or(positional.map(String::as_str)) else {
        return local(format!("`{launcher}` without a package"));
    };
    match pypi_spec(spec) {
        Some((identifier, version, pinned)) => Runs::Package {
            registry: PackageRegistry::Pypi,
            identifier,
            version,
            pinned,
            launcher,
        },
        None => local(format!(
            "`{launcher}` of a path, URL or git spec, not a PyPI package"
        )),
    }
}

/// `name`, `name[extra]`, `name==1.2`, `name@1.2` (uvx), `name>=1` (a range); `None` for a path,
/// URL or git spec. Returns (name, version or specifier, whether it is one exact version).
fn pypi_spec(spec: &str) -> Option<(String, Option<String>, bool)> {
    let spec = spec.trim();
    if spec.is_empty() || spec.starts_with(['.', '/', '~', '\\']) || spec.contains("://") {
        return None;
    }
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let name = &spec[..end];
    if name.is_empty() {
        return None;
    }
    let mut rest = spec[end..].trim_start();
    if let Some(after) = rest.strip_prefix('[') {
        rest = after.split_once(']').map_or("", |(_, r)| r).trim_start();
    }
    if rest.is_empty() {
        return Some((name.to_owned(), None, false));
    }
    if let Some(v) = rest.strip_prefix('@') {
        let v = v.trim();
        if v.contains(['/', ':']) {
            // `name @ git+https://…`, a direct reference.
            return None;
        }
        let pinned = !v.is_empty() && !v.eq_ignore_ascii_case("latest") && !v.contains('*');
        return Some((name.to_owned(), Some(v.to_owned()), pinned));
    }
    let exact = rest
        .strip_prefix("===")
        .or_else(|| rest.strip_prefix("=="))
        .map(str::trim)
        .filter(|v| !v.is_empty() && !v.contains(['*', ',', ';', '<', '>', '!', '=', '~']));
    match exact {
        Some(v) => Some((name.to_owned(), Some(v.to_owned()), true)),
        None => Some((name.to_owned(), Some(rest.to_owned()), false)),
    }
}

/// PEP 503: lowercase, runs of `-`, `_`, `.` as one `-`.
fn pypi_normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// `docker|podman [global options] [container] run [options] image [command]`.
fn container_run(args: &[String], program: &str) -> Runs {
    const GLOBAL_VALUE_OPTIONS: &[&str] = &[
        "--context",
        "-c",
        "-H",
        "--host",
        "--config",
        "-l",
        "--log-level",
        "--connection",
        "--url",
        "--root",
        "--runroot",
    ];
    // Short options of `run` that take a value (`-e X`, `-eX`).
    const SHORT_VALUE: &[char] = &['a', 'c', 'e', 'h', 'l', 'm', 'p', 'u', 'v', 'w'];
    const LONG_VALUE: &[&str] = &[
        "--add-host",
        "--annotation",
        "--attach",
        "--blkio-weight",
        "--cap-add",
        "--cap-drop",
        "--cgroup-parent",
        "--cgroupns",
        "--cidfile",
        "--cpu-period",
        "--cpu-quota",
        "--cpu-shares",
        "--cpus",
        "--cpuset-cpus",
        "--cpuset-mems",
        "--device",
        "--dns",
        "--dns-option",
        "--dns-search",
        "--domainname",
        "--entrypoint",
        "--env",
        "--env-file",
        "--expose",
        "--gpus",
        "--group-add",
        "--health-cmd",
        "--health-interval",
        "--health-retries",
        "--health-start-period",
        "--health-timeout",
        "--hostname",
        "--ip",
        "--ip6",
        "--ipc",
        "--isolation",
        "--label",
        "--label-file",
        "--link",
        "--log-driver",
        "--log-opt",
        "--mac-address",
        "--memory",
        "--memory-reservation",
        "--memory-swap",
        "--mount",
        "--name",
        "--network",
        "--net",
        "--network-alias",
        "--oom-score-adj",
        "--pid",
        "--platform",
        "--publish",
        "--pull",
        "--restart",
        "--runtime",
        "--security-opt",
        "--shm-size",
        "--stop-signal",
        "--stop-timeout",
        "--storage-opt",
        "--sysctl",
        "--tmpfs",
        "--ulimit",
        "--user",
        "--userns",
        "--uts",
        "--volume",
        "--volumes-from",
        "--workdir",
        "--arch",
        "--os",
        "--pod",
        "--secret",
    ];
    let mut i = 0;
    // Global options, then `run` or `container run`.
    loop {
        match args.get(i).map(String::as_str) {
            Some(a) if GLOBAL_VALUE_OPTIONS.contains(&a) => i += 2,
            Some(a) if a.starts_with('-') => i += 1,
            Some("run") => {
                i += 1;
                break;
            }
            Some("container") if args.get(i + 1).map(String::as_str) == Some("run") => {
                i += 2;
                break;
            }
            _ => return local(format!("`{program}` without `run`")),
        }
    }
    while let Some(a) = args.get(i) {
        if a == "--" {
            i += 1;
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            if !long.contains('=') && LONG_VALUE.contains(&a.as_str()) {
                i += 1;
            }
        } else if let Some(short) = a.strip_prefix('-') {
            // pflag: boolean letters, up to one that takes a value (the rest, or the next arg).
            for (at, c) in short.char_indices() {
                if SHORT_VALUE.contains(&c) {
                    if at + c.len_utf8() == short.len() {
                        i += 1;
                    }
                    break;
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    match args.get(i) {
        Some(image) if !image.is_empty() => Runs::Image(ImageRef::parse(image)),
        _ => local(format!("`{program} run` without an image")),
    }
}

/// The result of checking one configured server against an allowlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// An entry allows it.
    Allowed,
    /// Nothing in the allowlist names its package or image.
    Unknown,
    /// The allowlist names the package, at other versions.
    WrongVersion,
    /// Run without an exact version (newest wins): it cannot be checked.
    Unpinned,
    /// A remote URL no entry names.
    RemoteNotAllowed,
    /// An entry names it, but not for this transport.
    TransportNotAllowed,
    /// A local program: it cannot be verified.
    Local,
    /// An OCI image whose digest is not the one the allowlist pins.
    DigestMismatch,
}

impl Verdict {
    /// The name used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Unknown => "unknown",
            Self::WrongVersion => "wrong_version",
            Self::Unpinned => "unpinned",
            Self::RemoteNotAllowed => "remote_not_allowed",
            Self::TransportNotAllowed => "transport_not_allowed",
            Self::Local => "local",
            Self::DigestMismatch => "digest_mismatch",
        }
    }
}

/// A [`Verdict`] with the entry that decided it and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The result.
    pub verdict: Verdict,
    /// The allowlist entry (`name@version`) it matched, if any.
    pub entry: Option<String>,
    /// Why, and what to do.
    pub why: String,
}

fn finding(verdict: Verdict, entry: Option<&AllowlistEntry>, why: impl Into<String>) -> Finding {
    Finding {
        verdict,
        entry: entry.map(|e| format!("{}@{}", e.name, e.version)),
        why: why.into(),
    }
}

fn allowed(entry: &AllowlistEntry, why: String) -> Finding {
    let why = if entry.status == Status::Deprecated {
        format!("{why} (deprecated: move to a newer version)")
    } else {
        why
    };
    finding(Verdict::Allowed, Some(entry), why)
}

/// What the server is, for people: the package or image it runs, or its URL without query.
pub fn describe(server: &ConfiguredServer) -> String {
    match &server.launch {
        Launch::Remote { url, kind } => format!("{kind} {}", display_url(url)),
        Launch::Stdio { command, args } => identify(command, args).to_string(),
    }
}

/// A URL without credentials, query or fragment (they may hold secrets).
fn display_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let hidden = u.query().is_some() || u.fragment().is_some();
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            if hidden {
                format!("{u}?…")
            } else {
                u.to_string()
            }
        }
        Err(_) => "(not a URL)".into(),
    }
}

/// `scheme://host:port/path` with scheme and host lowercased and the port explicit, or `None` for
/// what is not an absolute http(s) URL.
fn normalise_url(url: &str) -> Option<String> {
    let u = url::Url::parse(url.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    Some(format!(
        "{}://{host}:{}{}",
        u.scheme(),
        u.port_or_known_default()?,
        u.path()
    ))
}

/// Checks one configured server against a verified allowlist. Fails closed: only an entry that
/// names exactly what the server runs (package and exact version, image digest, or URL) allows it.
/// Entries whose status is `deleted` allow nothing.
pub fn check(server: &ConfiguredServer, doc: &AllowlistDocument) -> Finding {
    let entries: Vec<&AllowlistEntry> = doc
        .entries
        .iter()
        .filter(|e| e.status != Status::Deleted)
        .collect();
    match &server.launch {
        Launch::Remote { url, .. } => check_remote(url, &entries, &doc.allowlist),
        Launch::Stdio { command, args } => match identify(command, args) {
            Runs::Local { reason } => finding(
                Verdict::Local,
                None,
                format!(
                    "a local program ({reason}): it cannot be verified against the allowlist; run a package or image the allowlist names"
                ),
            ),
            Runs::Package {
                registry,
                identifier,
                version,
                pinned,
                launcher,
            } => check_package(
                registry,
                &identifier,
                version.as_deref(),
                pinned,
                launcher,
                &entries,
                &doc.allowlist,
            ),
            Runs::Image(image) => check_image(&image, &entries, &doc.allowlist),
        },
    }
}

fn check_remote(url: &str, entries: &[&AllowlistEntry], allowlist: &str) -> Finding {
    let Some(wanted) = normalise_url(url) else {
        return finding(
            Verdict::RemoteNotAllowed,
            None,
            "the URL is not an absolute http(s) URL, so it cannot be matched",
        );
    };
    for e in entries {
        if e.remotes
            .iter()
            .any(|r| normalise_url(&r.url).as_deref() == Some(wanted.as_str()))
        {
            if !e.transports.contains(&Transport::Remote) {
                return finding(
                    Verdict::TransportNotAllowed,
                    Some(e),
                    format!(
                        "{}@{} names this URL but is not allowed over remote transport",
                        e.name, e.version
                    ),
                );
            }
            return allowed(
                e,
                format!("the URL is a remote of {}@{}", e.name, e.version),
            );
        }
    }
    finding(
        Verdict::RemoteNotAllowed,
        None,
        format!(
            "no entry of allowlist `{allowlist}` names this URL (compared by scheme, host, port and exact path)"
        ),
    )
}

fn check_package(
    registry: PackageRegistry,
    identifier: &str,
    version: Option<&str>,
    pinned: bool,
    launcher: &str,
    entries: &[&AllowlistEntry],
    allowlist: &str,
) -> Finding {
    let kind = registry.registry_type();
    let candidates: Vec<(&AllowlistEntry, &AllowedPackage)> = entries
        .iter()
        .flat_map(|e| e.packages.iter().map(move |p| (*e, p)))
        .filter(|(_, p)| p.registry_type == kind && registry.same_name(&p.identifier, identifier))
        .collect();
    if candidates.is_empty() {
        return finding(
            Verdict::Unknown,
            None,
            format!("allowlist `{allowlist}` names no {kind} package `{identifier}`"),
        );
    }
    let allowed_versions = candidates
        .iter()
        .map(|(_, p)| p.version.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>();
    let pin_hint = |v: &str| match registry {
        PackageRegistry::Npm => format!("`{launcher} -y {identifier}@{v}`"),
        PackageRegistry::Pypi => format!("`{launcher} {identifier}=={v}`"),
    };
    let newest = allowed_versions.last().copied().unwrap_or_default();
    let Some(version) = version.filter(|_| pinned) else {
        return finding(
            Verdict::Unpinned,
            Some(candidates[0].0),
            format!(
                "`{identifier}` without an exact version runs whatever is newest, so it cannot be checked; pin an allowed version ({}), e.g. {}",
                allowed_versions.join(", "),
                pin_hint(newest)
            ),
        );
    };
    let Some((entry, package)) = candidates.iter().find(|(_, p)| p.version == version) else {
        return finding(
            Verdict::WrongVersion,
            Some(candidates[0].0),
            format!(
                "allowlist `{allowlist}` allows {kind} `{identifier}` at {}, not {version}; pin it: {}",
                allowed_versions.join(", "),
                pin_hint(newest)
            ),
        );
    };
    if !entry.transports.contains(&Transport::Stdio) {
        return finding(
            Verdict::TransportNotAllowed,
            Some(entry),
            format!(
                "{}@{} is not allowed over stdio (run locally); use its remote",
                entry.name, entry.version
            ),
        );
    }
    let digest = package
        .digest
        .as_deref()
        .map(|d| format!("; {launcher} does not check the artifact digest ({d})"))
        .unwrap_or_default();
    allowed(
        entry,
        format!(
            "{kind} {identifier}@{version} is {}@{}{digest}",
            entry.name, entry.version
        ),
    )
}

fn same_digest(a: &str, b: &str) -> bool {
    matches!((Sha256Digest::parse_prefixed_or_hex(a), Sha256Digest::parse_prefixed_or_hex(b)), (Ok(a), Ok(b)) if a == b)
}

fn check_image(image: &ImageRef, entries: &[&AllowlistEntry], allowlist: &str) -> Finding {
    // (entry, tag, digest) of every allowed image of this repository.
    let candidates: Vec<(&AllowlistEntry, Option<String>, Option<String>)> = entries
        .iter()
        .flat_map(|e| e.packages.iter().map(move |p| (*e, p)))
        .filter(|(_, p)| p.registry_type == "oci")
        .filter_map(|(e, p)| {
            let allowed = ImageRef::parse(&p.identifier);
            (allowed.repository == image.repository).then(|| {
                (
                    e,
                    allowed.tag.or_else(|| Some(p.version.clone())),
                    p.digest.clone().or(allowed.digest),
                )
            })
        })
        .collect();
    if candidates.is_empty() {
        return finding(
            Verdict::Unknown,
            None,
            format!(
                "allowlist `{allowlist}` names no OCI image `{}`",
                image.repository
            ),
        );
    }
    let stdio_only = |e: &AllowlistEntry, why: String| {
        if e.transports.contains(&Transport::Stdio) {
            allowed(e, why)
        } else {
            finding(
                Verdict::TransportNotAllowed,
                Some(e),
                format!(
                    "{}@{} is not allowed over stdio (run locally)",
                    e.name, e.version
                ),
            )
        }
    };
    let pinned_digests: Vec<&str> = candidates
        .iter()
        .filter_map(|(_, _, d)| d.as_deref())
        .collect();
    if let Some(digest) = &image.digest {
        if let Some((e, _, _)) = candidates
            .iter()
            .find(|(_, _, d)| d.as_deref().is_some_and(|d| same_digest(d, digest)))
        {
            return stdio_only(
                e,
                format!("the image digest is that of {}@{}", e.name, e.version),
            );
        }
        let why = if pinned_digests.is_empty() {
            format!(
                "the allowlist pins no digest for `{}`, so {digest} cannot be confirmed",
                image.repository
            )
        } else {
            format!(
                "the image is pinned to {digest}, but the allowlist allows {}",
                pinned_digests.join(", ")
            )
        };
        return finding(Verdict::DigestMismatch, Some(candidates[0].0), why);
    }
    let tag = image.tag.as_deref().unwrap_or("latest");
    let Some((e, _, d)) = candidates
        .iter()
        .find(|(_, t, _)| t.as_deref() == Some(tag) && tag != "latest")
    else {
        let tags: Vec<&str> = candidates
            .iter()
            .filter_map(|(_, t, _)| t.as_deref())
            .collect();
        let (verdict, what) = if tag == "latest" {
            (
                Verdict::Unpinned,
                "without a tag or digest it runs whatever `latest` is, so it cannot be checked"
                    .to_owned(),
            )
        } else {
            (Verdict::WrongVersion, format!("tag `{tag}` is not allowed"))
        };
        return finding(
            verdict,
            Some(candidates[0].0),
            format!(
                "{what}; allowlist `{allowlist}` allows {} at {}",
                image.repository,
                tags.join(", ")
            ),
        );
    };
    match d {
        Some(d) => finding(
            Verdict::Unpinned,
            Some(e),
            format!(
                "a tag can be moved to another image; pin the digest the allowlist names: {}:{tag}@{d}",
                image.repository
            ),
        ),
        None => stdio_only(
            e,
            format!("the image tag is that of {}@{}", e.name, e.version),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> Runs {
        let mut words = line.split_whitespace().map(str::to_owned);
        let command = words.next().unwrap();
        identify(&command, &words.collect::<Vec<_>>())
    }

    fn npm(identifier: &str, version: Option<&str>, pinned: bool) -> Runs {
        Runs::Package {
            registry: PackageRegistry::Npm,
            identifier: identifier.into(),
            version: version.map(Into::into),
            pinned,
            launcher: "npx",
        }
    }

    fn pypi(identifier: &str, version: Option<&str>, pinned: bool, launcher: &'static str) -> Runs {
        Runs::Package {
            registry: PackageRegistry::Pypi,
            identifier: identifier.into(),
            version: version.map(Into::into),
            pinned,
            launcher,
        }
    }

    #[test]
    fn npx_forms() {
        assert_eq!(
            run("npx -y @acme/gh@1.4.2"),
            npm("@acme/gh", Some("1.4.2"), true)
        );
        assert_eq!(
            run("npx --yes server-x@2.0.0 --port 3"),
            npm("server-x", Some("2.0.0"), true)
        );
        assert_eq!(run("npx @acme/gh"), npm("@acme/gh", None, false));
        assert_eq!(
            run("npx -y @acme/gh@latest"),
            npm("@acme/gh", Some("latest"), false)
        );
        assert_eq!(run("npx -y x@^1.2.0"), npm("x", Some("^1.2.0"), false));
        assert_eq!(run("npx -y x@1.2"), npm("x", Some("1.2"), false));
        assert_eq!(
            run("npx -y --package=@acme/tools@3.1.0 acme-gh --stdio"),
            npm("@acme/tools", Some("3.1.0"), true)
        );
        assert_eq!(
            run("npx -p @acme/tools@3.1.0 acme-gh"),
            npm("@acme/tools", Some("3.1.0"), true)
        );
        assert_eq!(
            run("/usr/local/bin/npx -y a@1.0.0"),
            npm("a", Some("1.0.0"), true)
        );
        assert_eq!(
            run("C:\\nodejs\\npx.cmd -y a@1.0.0"),
            npm("a", Some("1.0.0"), true)
        );
        assert_eq!(run("cmd /c npx -y a@1.0.0"), npm("a", Some("1.0.0"), true));
        for local in [
            "npx ./server.js",
            "npx github:acme/gh",
            "npx acme/gh",
            "npx -c 'echo hi'",
            "npx",
            "npx -p a@1.0.0 -p b@1.0.0 x",
        ] {
            assert!(matches!(run(local), Runs::Local { .. }), "{local}");
        }
    }

    #[test]
    fn other_npm_launchers() {
        let pinned = |launcher| Runs::Package {
            registry: PackageRegistry::Npm,
            identifier: "@acme/gh".into(),
            version: Some("1.0.0".into()),
            pinned: true,
            launcher,
        };
        assert_eq!(run("bunx @acme/gh@1.0.0"), pinned("bunx"));
        assert_eq!(run("pnpm dlx @acme/gh@1.0.0"), pinned("pnpm dlx"));
        assert_eq!(run("yarn dlx -p @acme/gh@1.0.0 gh"), pinned("yarn dlx"));
        assert_eq!(run("npm exec --yes -- @acme/gh@1.0.0"), pinned("npm exec"));
        assert!(matches!(run("pnpm install"), Runs::Local { .. }));
    }

    #[test]
    fn uvx_and_pipx_forms() {
        assert_eq!(
            run("uvx mcp-server-time==2025.9.25"),
            pypi("mcp-server-time", Some("2025.9.25"), true, "uvx")
        );
        assert_eq!(
            run("uvx mcp-server-time@2025.9.25 --local-timezone UTC"),
            pypi("mcp-server-time", Some("2025.9.25"), true, "uvx")
        );
        assert_eq!(
            run("uvx mcp-server-time"),
            pypi("mcp-server-time", None, false, "uvx")
        );
        assert_eq!(
            run("uvx mcp-server-time@latest"),
            pypi("mcp-server-time", Some("latest"), false, "uvx")
        );
        assert_eq!(
            run("uvx mcp-server-fetch>=1.0"),
            pypi("mcp-server-fetch", Some(">=1.0"), false, "uvx")
        );
        assert_eq!(
            run("uvx --python 3.12 --from mcp-server-git==0.6.2 mcp-server-git --repository ."),
            pypi("mcp-server-git", Some("0.6.2"), true, "uvx")
        );
        assert_eq!(
            run("uvx --from=pkg[cli]==1.0 tool"),
            pypi("pkg", Some("1.0"), true, "uvx")
        );
        assert_eq!(
            run("uv tool run pkg==1.0"),
            pypi("pkg", Some("1.0"), true, "uvx")
        );
        assert_eq!(
            run("pipx run --spec pkg==1.0 app"),
            pypi("pkg", Some("1.0"), true, "pipx run")
        );
        assert_eq!(run("pipx run pkg"), pypi("pkg", None, false, "pipx run"));
        assert_eq!(
            run("uvx pkg==1.*"),
            pypi("pkg", Some("==1.*"), false, "uvx")
        );
        assert!(matches!(
            run("uvx --from git+https://github.com/a/b tool"),
            Runs::Local { .. }
        ));
        assert!(matches!(run("uvx --from ./local tool"), Runs::Local { .. }));
        assert!(matches!(
            run("python -m mcp_server_time"),
            Runs::Local { .. }
        ));
        assert_eq!(pypi_normalise("MCP_Server.Time"), "mcp-server-time");
    }

    #[test]
    fn docker_forms() {
        let image = |s: &str| Runs::Image(ImageRef::parse(s));
        assert_eq!(
            run(
                "docker run -i --rm -e GITHUB_PERSONAL_ACCESS_TOKEN ghcr.io/github/github-mcp-server:0.5.0"
            ),
            image("ghcr.io/github/github-mcp-server:0.5.0")
        );
        assert_eq!(
            run("docker run -it --rm -eTOKEN=x -v /a:/b --name=x --network host mcp/time stdio"),
            image("mcp/time")
        );
        assert_eq!(
            run("podman container run -i --rm mcp/fetch@sha256:abc"),
            image("mcp/fetch@sha256:abc")
        );
        assert_eq!(
            run("docker --context prod run --rm -- mcp/fetch"),
            image("mcp/fetch")
        );
        assert!(matches!(run("docker compose up"), Runs::Local { .. }));
        assert!(matches!(run("docker run --rm"), Runs::Local { .. }));

        let r = ImageRef::parse("mcp/time:1.0@sha256:00");
        assert_eq!(r.repository, "docker.io/mcp/time");
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert_eq!(r.digest.as_deref(), Some("sha256:00"));
        assert_eq!(
            ImageRef::parse("ubuntu").repository,
            "docker.io/library/ubuntu"
        );
        assert_eq!(
            ImageRef::parse("index.docker.io/mcp/time").repository,
            "docker.io/mcp/time"
        );
        let local = ImageRef::parse("localhost:5000/x/y");
        assert_eq!(
            (local.repository.as_str(), local.tag),
            ("localhost:5000/x/y", None)
        );
        assert_eq!(ImageRef::parse("GHCR.io/a/b:2").repository, "ghcr.io/a/b");
    }

    #[test]
    fn jsonc_comments_and_trailing_commas_are_stripped_outside_strings() {
        let text = "{\n  // a comment\n  \"a\": \"http://x//y\", /* block\n é */ \"b\": [1, 2,],\n  \"c\": \"/* not */\",\n}\n";
        let v: Value = serde_json::from_str(&strip_jsonc(text).unwrap()).unwrap();
        assert_eq!(v["a"], "http://x//y");
        assert_eq!(v["b"], serde_json::json!([1, 2]));
        assert_eq!(v["c"], "/* not */");
        assert_eq!(strip_jsonc(text).unwrap().len(), text.len());
        assert_eq!(strip_jsonc("{\n \"a\": 1 /* open").unwrap_err(), (2, 9));
        // An escaped quote does not end a string.
        let v: Value = serde_json::from_str(&strip_jsonc(r#"{"a": "x\"//y",}"#).unwrap()).unwrap();
        assert_eq!(v["a"], "x\"//y");
    }

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

    #[test]
    fn urls_are_compared_normalised_and_shown_without_secrets() {
        assert_eq!(
            normalise_url("HTTPS://MCP.Acme.Example:443/github/mcp?x=1"),
            normalise_url("https://mcp.acme.example/github/mcp")
        );
        assert_ne!(
            normalise_url("https://mcp.acme.example/github/mcp/"),
            normalise_url("https://mcp.acme.example/github/mcp")
        );
        assert_ne!(
            normalise_url("https://mcp.acme.example/GitHub/mcp"),
            normalise_url("https://mcp.acme.example/github/mcp")
        );
        assert_ne!(
            normalise_url("http://mcp.acme.example/github/mcp"),
            normalise_url("https://mcp.acme.example/github/mcp")
        );
        assert_eq!(normalise_url("${input:url}"), None);
        assert_eq!(
            display_url("https://user:pw@h.example/p?api_key=secret"),
            "https://h.example/p?…"
        );
    }
}
