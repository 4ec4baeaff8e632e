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
//!
//! The parts: `jsonc` (comments and trailing commas), `formats` (the three clients' files and where
//! they are), `launchers` (what `npx`, `uvx`, `pipx`, `docker`, `bunx` … run) and `check`
//! (matching a configured server against the allowlist).

mod check;
mod formats;
mod jsonc;
mod launchers;

pub use check::{Verdict, check, describe};
pub use formats::{ConfiguredServer, default_config_files, read_config};
