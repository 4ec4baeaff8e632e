//! `mcpreg tools capture|diff|attach|show`: what a live MCP server advertises, whether it still
//! matches its pin, and the pins the registry keeps.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use mcpreg_api::tools::VersionTools;
use mcpreg_client::Client;
use mcpreg_scan::{ToolManifest, diff};
use serde_json::Value;
use url::Url;

use super::Rejected;
use crate::capture::{self, Limits, Target};
use crate::exit;
use crate::output::{self, Output};

/// `tools` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ToolsCommand {
    /// Connect to a server as an MCP client and write its tool manifest (JSON, with its tools
    /// pin) to stdout or a file.
    #[command(after_help = CAPTURE_HELP)]
    Capture(CaptureArgs),
    /// Capture a live server and compare it with its pinned manifest. Exits 3 when it drifted.
    #[command(after_help = DIFF_HELP)]
    Diff(DiffArgs),
    /// Attach a tool manifest to a published version (pinned, and scanned by the registry).
    Attach {
        /// The version, `NAME@VERSION`.
        version: String,
        /// The manifest (`mcpreg tools capture --out FILE`), or `-` for standard input.
        manifest: PathBuf,
    },
    /// Show a version's pinned tools: tools pin, context cost, highest finding severity.
    Show {
        /// The version, `NAME@VERSION` (or `NAME` for the latest).
        version: String,
    },
}

impl ToolsCommand {
    /// Whether the command talks to the registry with the caller's credentials (stored sign-in
    /// included); `capture` and `diff` need none.
    pub fn needs_credentials(&self) -> bool {
        matches!(self, Self::Attach { .. } | Self::Show { .. })
    }
}

const CAPTURE_HELP: &str = "Examples:
  mcpreg tools capture -- npx -y @modelcontextprotocol/server-everything stdio
  mcpreg tools capture --mcp-url http://127.0.0.1:3001/mcp --out manifest.json

The manifest records the client capabilities used: servers advertise different tools to
different clients (--client-capabilities).";

const DIFF_HELP: &str =
    "Exit codes: 0 the live server matches its pin, 3 it drifted, 1 it could not be
captured or the pin could not be read, 4 the registry has no manifest for that version.";

/// How to reach the server, and the bounds of the capture.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// A Streamable HTTP endpoint (`http://host:port/mcp`) instead of a command. (`--url` is
    /// the registry's URL.)
    #[arg(long = "mcp-url", value_name = "URL", conflicts_with = "command")]
    mcp_url: Option<Url>,
    /// An HTTP header for the endpoint, `NAME: VALUE` (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE", requires = "mcp_url")]
    headers: Vec<String>,
    /// An environment variable for the command, `NAME=VALUE` (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// The capabilities the client declares in `initialize`, as JSON, or `@FILE`.
    #[arg(long, default_value = "{}", value_name = "JSON")]
    client_capabilities: String,
    /// Seconds to start the server and get its answer to `initialize`.
    #[arg(long, default_value_t = 30)]
    start_timeout: u64,
    /// Seconds for each request after that.
    #[arg(long, default_value_t = 15)]
    request_timeout: u64,
    /// Seconds for the whole capture.
    #[arg(long, default_value_t = 90)]
    total_timeout: u64,
    /// Milliseconds without `list_changed` notifications before the lists are read.
    #[arg(long, default_value_t = 300)]
    settle_ms: u64,
    /// Most items per list (tools, prompts, resources, templates).
    #[arg(long, default_value_t = 10_000)]
    max_items: usize,
    /// Largest single message from the server, in MiB.
    #[arg(long, default_value_t = 8)]
    max_message_mib: usize,
    /// The server's command and arguments (after `--`).
    #[arg(
        last = true,
        value_name = "COMMAND",
        required_unless_present = "mcp_url"
    )]
    command: Vec<String>,
}

impl ServerArgs {
    fn target(&self) -> anyhow::Result<Target> {
        if let Some(url) = &self.mcp_url {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(Rejected(format!(
                    "--mcp-url must be http or https, not `{}`",
                    url.scheme()
                ))
                .into());
            }
            let headers = self
                .headers
                .iter()
                .map(|h| {
                    h.split_once(':')
                        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                        .ok_or_else(|| Rejected(format!("--header `{h}` is not `NAME: VALUE`")))
                })
                .collect::<Result<_, _>>()?;
            return Ok(Target::Http {
                url: url.clone(),
                headers,
            });
        }
        let Some((program, args)) = self.command.split_first() else {
            return Err(Rejected(
                "give the server's command after `--` (mcpreg tools capture -- node server.js) or --mcp-url".into(),
            )
            .into());
        };
        let env = self
            .env
            .iter()
            .map(|e| {
                e.split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .ok_or_else(|| Rejected(format!("--env `{e}` is not `NAME=VALUE`")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Target::Stdio {
            program: program.clone(),
            args: args.to_vec(),
            env,
        })
    }

    fn client_capabilities(&self) -> anyhow::Result<Value> {
        let text = match self.client_capabilities.strip_prefix('@') {
            Some(path) => {
                std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?
            }
            None => self.client_capabilities.clone(),
        };
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| Rejected(format!("--client-capabilities is not JSON: {e}")))?;
        if !v.is_object() {
            return Err(Rejected("--client-capabilities must be a JSON object".into()).into());
        }
        Ok(v)
    }

    fn limits(&self) -> Limits {
        Limits {
            start: Duration::from_secs(self.start_timeout),
            request: Duration::from_secs(self.request_timeout),
            total: Duration::from_secs(self.total_timeout),
            settle: Duration::from_millis(self.settle_ms),
            settle_max: Duration::from_millis(self.settle_ms.saturating_mul(10).max(1000)),
            max_message_bytes: self.max_message_mib.saturating_mul(1024 * 1024),
            max_pages: Limits::default().max_pages,
            max_items: self.max_items,
        }
    }

    /// Captures the server, with a spinner on a terminal.
    async fn capture(&self) -> anyhow::Result<ToolManifest> {
        let target = self.target()?;
        let caps = self.client_capabilities()?;
        let spinner = std::io::stderr().is_terminal().then(|| {
            let s = indicatif::ProgressBar::new_spinner();
            s.set_message(format!("capturing {}", describe(&target)));
            s.enable_steady_tick(Duration::from_millis(120));
            s
        });
        let result = capture::capture(&target, &caps, &self.limits()).await;
        if let Some(s) = spinner {
            s.finish_and_clear();
        }
        let manifest = result?;
        if let Some(c) = &manifest.capture {
            for w in &c.warnings {
                eprintln!("mcpreg: warning: {w}");
            }
        }
        Ok(manifest)
    }
}

fn describe(target: &Target) -> String {
    match target {
        Target::Stdio { program, .. } => program.clone(),
        Target::Http { url, .. } => url.to_string(),
    }
}

/// `tools capture` arguments.
#[derive(Debug, clap::Args)]
pub struct CaptureArgs {
    /// Write the manifest to this file instead of stdout. (`-o` is the global --output.)
    #[arg(long = "out", short = 'O', value_name = "FILE")]
    output_file: Option<PathBuf>,
    #[command(flatten)]
    server: ServerArgs,
}

/// `tools diff` arguments.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The pinned version, `NAME@VERSION`; its manifest is fetched from the registry.
    #[arg(required_unless_present = "pinned", conflicts_with = "pinned")]
    version: Option<String>,
    /// A pinned manifest file instead of the registry's.
    #[arg(long)]
    pinned: Option<PathBuf>,
    #[command(flatten)]
    server: ServerArgs,
}

/// Runs `tools …`.
pub async fn run(client: &Client, out: Output, command: ToolsCommand) -> anyhow::Result<u8> {
    match command {
        ToolsCommand::Capture(args) => capture_command(args).await,
        ToolsCommand::Diff(args) => diff_command(client, out, args).await,
        ToolsCommand::Attach { version, manifest } => {
            attach_command(client, out, &version, &manifest).await
        }
        ToolsCommand::Show { version } => show_command(client, out, &version).await,
    }
}

fn exact_version(target: &str) -> anyhow::Result<(&str, &str)> {
    match super::split_name_version(target) {
        (name, Some(version)) => Ok((name, version)),
        (_, None) => Err(Rejected(format!("`{target}` names no version: use NAME@VERSION")).into()),
    }
}

fn print_tools(out: Output, tools: &VersionTools) -> anyhow::Result<()> {
    match out {
        Output::Json => output::json(tools),
        Output::Table => {
            println!("{}@{}", tools.name, tools.version);
            println!("  tools pin      {}", tools.tools_pin);
            println!(
                "  tools          {} (server calls itself {})",
                tools.tool_count, tools.server_info_name
            );
            println!(
                "  context cost   {} tokens ({})",
                tools.context_cost.total_tokens, tools.context_cost.encoding
            );
            println!(
                "  worst finding  {}",
                tools
                    .highest_severity
                    .map_or("none".to_owned(), |s| s.to_string())
            );
            println!(
                "  attached by    {} at {}",
                tools.attached_by, tools.attached_at
            );
            let mut rows: Vec<Vec<String>> = tools
                .context_cost
                .tools
                .iter()
                .map(|t| vec![t.name.clone(), t.tokens.to_string()])
                .collect();
            rows.sort();
            if !rows.is_empty() {
                output::table(&["tool", "tokens"], rows);
            }
            Ok(())
        }
    }
}

async fn attach_command(
    client: &Client,
    out: Output,
    target: &str,
    path: &std::path::Path,
) -> anyhow::Result<u8> {
    let (name, version) = exact_version(target)?;
    // Checked here first: a manifest edited after capture no longer matches its own pin.
    read_manifest(path)?;
    let document = super::publish::read_json(path)?;
    let stored = client
        .attach_version_tools(name, version, &document)
        .await?;
    print_tools(out, &stored)?;
    if let Some(s) = stored.highest_severity
        && s >= mcpreg_api::scans::FindingSeverity::Medium
    {
        eprintln!(
            "mcpreg: the registry's scan found problems up to {s}: mcpreg scans show {name}@{version}"
        );
    }
    Ok(exit::OK)
}

async fn show_command(client: &Client, out: Output, target: &str) -> anyhow::Result<u8> {
    let (name, version) = super::split_name_version(target);
    let version = version.unwrap_or("latest");
    let tools = client.version_tools(name, version).await?;
    print_tools(out, &tools)?;
    Ok(exit::OK)
}

async fn capture_command(args: CaptureArgs) -> anyhow::Result<u8> {
    let manifest = args.server.capture().await?;
    let text = serde_json::to_string_pretty(&manifest)?;
    match &args.output_file {
        Some(path) => {
            std::fs::write(path, format!("{text}\n"))
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "{}: {} tools, tools pin {}",
                path.display(),
                manifest.tools.len(),
                manifest
                    .tools_pin
                    .map_or_else(|| "?".into(), |p| p.to_string())
            );
        }
        None => println!("{text}"),
    }
    Ok(exit::OK)
}

/// Reads a manifest file, checking its pins.
pub fn read_manifest(path: &std::path::Path) -> anyhow::Result<ToolManifest> {
    let bytes = if path.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)?;
        b
    } else {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
    };
    // A plain failure (exit 1), not a rejection: exit 3 means drift for `tools diff` and
    // findings for `scan`.
    ToolManifest::parse(&bytes)
        .map_err(|e| anyhow::anyhow!("{} is not a valid tool manifest: {e}", path.display()))
}

/// The pinned manifest of a version, from the registry.
async fn fetch_pinned(client: &Client, target: &str) -> anyhow::Result<ToolManifest> {
    let (name, version) = super::split_name_version(target);
    let Some(version) = version else {
        return Err(Rejected(format!("`{target}` names no version: use NAME@VERSION")).into());
    };
    // Only `manifest` and `toolsPin` are used: the pin is recomputed here from the content.
    let tools = match client.version_tools(name, version).await {
        Ok(t) => t,
        Err(e) => {
            if let Some(f) = e.api_failure()
                && f.status == reqwest::StatusCode::NOT_FOUND
            {
                let url = f.url.clone();
                return Err(anyhow::Error::from(e).context(format!(
                    "the registry has no tool manifest for {name}@{version} (GET {url} answered 404); attach one with `mcpreg tools attach`, or compare with a file: --pinned FILE"
                )));
            }
            return Err(e.into());
        }
    };
    // Recomputed here: the pin compared with is the content's, and must be the one the
    // registry states.
    let manifest = ToolManifest::parse(tools.manifest.get().as_bytes()).map_err(|e| {
        anyhow::anyhow!("the registry's manifest for {name}@{version} does not check out: {e}")
    })?;
    let computed = manifest.tools_pin.map(|p| p.to_string());
    if computed.as_deref() != Some(tools.tools_pin.as_str()) {
        anyhow::bail!(
            "the registry states tools pin {} for {name}@{version}, but its manifest digests to {}",
            tools.tools_pin,
            computed.as_deref().unwrap_or("(none)")
        );
    }
    Ok(manifest)
}

async fn diff_command(client: &Client, out: Output, args: DiffArgs) -> anyhow::Result<u8> {
    let pinned = match (&args.pinned, &args.version) {
        (Some(path), _) => read_manifest(path)?,
        (None, Some(v)) => fetch_pinned(client, v).await?,
        (None, None) => return Err(Rejected("give NAME@VERSION or --pinned FILE".into()).into()),
    };
    let live = args.server.capture().await?;
    let d = diff(&pinned, &live);
    match out {
        Output::Json => output::json(&d)?,
        Output::Table => print!("{}", d.to_text()),
    }
    Ok(if d.is_drift() {
        exit::REJECTED
    } else {
        exit::OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct T {
        #[command(subcommand)]
        c: ToolsCommand,
    }

    #[test]
    fn commands_after_double_dash() {
        let t = T::try_parse_from([
            "t",
            "capture",
            "--settle-ms",
            "100",
            "--",
            "node",
            "x.js",
            "--flag",
        ])
        .unwrap();
        let ToolsCommand::Capture(a) = t.c else {
            panic!()
        };
        assert_eq!(a.server.command, ["node", "x.js", "--flag"]);
        let Target::Stdio { program, args, .. } = a.server.target().unwrap() else {
            panic!()
        };
        assert_eq!((program.as_str(), args.len()), ("node", 2));
        let t = T::try_parse_from([
            "t",
            "diff",
            "com.acme/x@1.0.0",
            "--mcp-url",
            "http://127.0.0.1:1/mcp",
        ])
        .unwrap();
        let ToolsCommand::Diff(a) = t.c else { panic!() };
        assert_eq!(a.version.as_deref(), Some("com.acme/x@1.0.0"));
        assert!(T::try_parse_from(["t", "diff", "--mcp-url", "http://x/mcp"]).is_err());
    }
}
