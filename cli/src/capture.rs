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

use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use futures::stream::BoxStream;
use mcpreg_scan::manifest::{CaptureInfo, ManifestError, RawCapture, ToolManifest};
use reqwest::header::{HeaderName, HeaderValue};
use rmcp::ServiceExt as _;
use rmcp::model::{
    ClientCapabilities, ClientConfig, ClientRequest, Implementation, PaginatedRequestParams,
    ProtocolVersion, RequestOptionalParam,
};
use rmcp::service::PeerRequestOptions;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::common::client_side_sse::NeverRetry;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpClientTransportConfig, StreamableHttpError,
    StreamableHttpPostResponse, StreamableHttpResponseLimits,
};
use serde_json::Value;
use sse_stream::Sse;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use url::Url;

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

/// The raw messages of one session, teed off below rmcp.
#[derive(Default)]
struct Recorder {
    state: Mutex<RecorderState>,
}

#[derive(Default)]
struct RecorderState {
    /// Request id (as JSON text) → method, for the client's requests.
    requests: HashMap<String, String>,
    /// The params of the client's `initialize`.
    initialize_params: Option<Value>,
    /// Response id (as JSON text) → the whole response message.
    responses: HashMap<String, Value>,
    list_changed: u32,
    last_change: Option<Instant>,
    non_json: Vec<String>,
    oversized: Option<usize>,
    typed_answers: bool,
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, RecorderState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn outgoing(&self, message: &Value) {
        let mut s = self.lock();
        for m in messages(message) {
            if let (Some(id), Some(method)) = (m.get("id"), m.get("method").and_then(Value::as_str))
            {
                if method == "initialize" {
                    s.initialize_params = m.get("params").cloned();
                }
                s.requests.insert(id.to_string(), method.to_owned());
            }
        }
    }

    fn incoming(&self, message: &Value) {
        let mut s = self.lock();
        for m in messages(message) {
            match (m.get("id"), m.get("method").and_then(Value::as_str)) {
                (Some(id), None) => {
                    s.responses.insert(id.to_string(), m.clone());
                }
                (None, Some(method)) if method.ends_with("/list_changed") => {
                    s.list_changed += 1;
                    s.last_change = Some(Instant::now());
                }
                _ => {}
            }
        }
    }

    fn response(&self, id: &str) -> Option<Value> {
        self.lock().responses.get(id).cloned()
    }

    fn response_to(&self, method: &str) -> Option<Value> {
        let s = self.lock();
        let id = s.requests.iter().find(|(_, m)| *m == method)?.0;
        s.responses.get(id).cloned()
    }
}

fn messages(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    }
}

/// Reads one line of at most `max` bytes (without its newline). `Ok(false)` at end of input;
/// `Err` with `InvalidData` for a longer line.
async fn read_line_bounded<R: AsyncBufRead + Unpin>(
    r: &mut R,
    max: usize,
    line: &mut Vec<u8>,
) -> std::io::Result<bool> {
    line.clear();
    loop {
        let available = r.fill_buf().await?;
        if available.is_empty() {
            return Ok(!line.is_empty());
        }
        let (take, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (i, true),
            None => (available.len(), false),
        };
        if line.len() + take > max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a message longer than {max} bytes"),
            ));
        }
        line.extend_from_slice(&available[..take]);
        r.consume(if done { take + 1 } else { take });
        if done {
            return Ok(true);
        }
    }
}

/// A stdio server's process group, killed when dropped.
struct ChildGuard {
    child: tokio::process::Child,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
}

const STDERR_TAIL: usize = 4096;

impl ChildGuard {
    fn kill_group(&self) {
        if let Some(pid) = self
            .child
            .id()
            .and_then(|id| rustix::process::Pid::from_raw(id as i32))
        {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }

    /// The exit status (if the server has exited) and the end of its stderr, for error messages.
    async fn detail(&mut self) -> String {
        // A server that closed its stdout is usually exiting: give it a moment to say how.
        let status = match tokio::time::timeout(Duration::from_millis(300), self.child.wait()).await
        {
            Ok(Ok(s)) => format!("; the server exited ({s})"),
            _ => String::new(),
        };
        let tail = self.stderr_tail.lock().unwrap_or_else(|e| e.into_inner());
        let text = String::from_utf8_lossy(&tail);
        let text = text.trim();
        if text.is_empty() {
            status
        } else {
            format!("{status}; its stderr ends with:\n{text}")
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Starts a stdio server and tees its stdout and stdin.
fn start_stdio(
    program: &str,
    args: &[String],
    env: &[(String, String)],
    limits: &Limits,
    recorder: &Arc<Recorder>,
) -> Result<(ChildGuard, tokio::io::DuplexStream, tokio::io::DuplexStream), CaptureError> {
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command
        .spawn()
        .map_err(|e| CaptureError::Start(format!("`{program}`: {e}")))?;
    let (Some(stdout), Some(mut stdin), Some(mut stderr)) =
        (child.stdout.take(), child.stdin.take(), child.stderr.take())
    else {
        return Err(CaptureError::Start("no pipes to the child process".into()));
    };

    // server stdout → (recorded) → rmcp
    let (rmcp_read, mut to_rmcp) = tokio::io::duplex(64 * 1024);
    let rec = recorder.clone();
    let max = limits.max_message_bytes;
    tokio::spawn(async move {
        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        loop {
            match read_line_bounded(&mut reader, max, &mut line).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                    rec.lock().oversized = Some(max);
                    break;
                }
                Err(_) => break,
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(text) {
                Ok(v) => rec.incoming(&v),
                Err(_) => {
                    let mut s = rec.lock();
                    if s.non_json.len() < 5 {
                        s.non_json.push(text.chars().take(200).collect());
                    }
                    // Not JSON-RPC: rmcp would only choke on it.
                    continue;
                }
            }
            if to_rmcp.write_all(text.as_bytes()).await.is_err()
                || to_rmcp.write_all(b"\n").await.is_err()
            {
                break;
            }
        }
        // Dropping `to_rmcp` tells rmcp the connection is closed.
    });

    // rmcp → (recorded) → server stdin
    let (mut from_rmcp, rmcp_write) = tokio::io::duplex(64 * 1024);
    let rec = recorder.clone();
    tokio::spawn(async move {
        let mut reader = BufReader::new(&mut from_rmcp);
        let mut line = Vec::new();
        while let Ok(true) = read_line_bounded(&mut reader, usize::MAX / 2, &mut line).await {
            if let Ok(v) = serde_json::from_slice::<Value>(&line) {
                rec.outgoing(&v);
            }
            line.push(b'\n');
            if stdin.write_all(&line).await.is_err() || stdin.flush().await.is_err() {
                break;
            }
        }
        // Dropping stdin tells the server to exit.
    });

    // server stderr → the last few KiB, for error messages
    let stderr_tail = Arc::new(Mutex::new(Vec::new()));
    let tail = stderr_tail.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
            t.extend_from_slice(&buf[..n]);
            if t.len() > STDERR_TAIL {
                let cut = t.len() - STDERR_TAIL;
                t.drain(..cut);
            }
        }
    });

    Ok((ChildGuard { child, stderr_tail }, rmcp_read, rmcp_write))
}

/// rmcp's reqwest client, with every message teed into the recorder.
#[derive(Clone)]
struct TeeHttp {
    inner: reqwest::Client,
    recorder: Arc<Recorder>,
}

impl TeeHttp {
    fn tee(
        &self,
        stream: BoxStream<'static, Result<Sse, SseError>>,
    ) -> BoxStream<'static, Result<Sse, SseError>> {
        let rec = self.recorder.clone();
        stream
            .inspect(move |item| {
                if let Ok(sse) = item
                    && let Some(data) = &sse.data
                    && let Ok(v) = serde_json::from_str::<Value>(data)
                {
                    rec.incoming(&v);
                }
            })
            .boxed()
    }
}

impl StreamableHttpClient for TeeHttp {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: rmcp::model::ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
        .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: rmcp::model::ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        if let Ok(v) = serde_json::to_value(&message) {
            self.recorder.outgoing(&v);
        }
        let response = self
            .inner
            .post_message_with_response_limits(
                uri,
                message,
                session_id,
                auth_header,
                custom_headers,
                limits,
            )
            .await?;
        Ok(match response {
            StreamableHttpPostResponse::Sse(stream, session) => {
                StreamableHttpPostResponse::Sse(self.tee(stream), session)
            }
            StreamableHttpPostResponse::Json(message, session) => {
                // A plain-JSON answer has already been decoded by rmcp: the best left is its
                // typed model, which drops fields it does not know.
                if let Ok(v) = serde_json::to_value(&message) {
                    self.recorder.incoming(&v);
                    self.recorder.lock().typed_answers = true;
                }
                StreamableHttpPostResponse::Json(message, session)
            }
            other => other,
        })
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<Self::Error>> {
        self.inner
            .delete_session(uri, session_id, auth_header, custom_headers)
            .await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<Self::Error>> {
        let s = self
            .inner
            .get_stream(uri, session_id, last_event_id, auth_header, custom_headers)
            .await?;
        Ok(self.tee(s))
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<Self::Error>> {
        let s = self
            .inner
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await?;
        Ok(self.tee(s))
    }
}

/// The four lists of a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Tools,
    Prompts,
    Resources,
    ResourceTemplates,
}

impl List {
    fn method(self) -> &'static str {
        match self {
            Self::Tools => "tools/list",
            Self::Prompts => "prompts/list",
            Self::Resources => "resources/list",
            Self::ResourceTemplates => "resources/templates/list",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Tools => "tools",
            Self::Prompts => "prompts",
            Self::Resources => "resources",
            Self::ResourceTemplates => "resourceTemplates",
        }
    }

    fn capability(self) -> &'static str {
        match self {
            Self::Tools => "tools",
            Self::Prompts => "prompts",
            Self::Resources | Self::ResourceTemplates => "resources",
        }
    }

    fn request(self, cursor: Option<String>) -> ClientRequest {
        let params = PaginatedRequestParams::default().with_cursor(cursor);
        match self {
            Self::Tools => {
                ClientRequest::ListToolsRequest(RequestOptionalParam::with_param(params))
            }
            Self::Prompts => {
                ClientRequest::ListPromptsRequest(RequestOptionalParam::with_param(params))
            }
            Self::Resources => {
                ClientRequest::ListResourcesRequest(RequestOptionalParam::with_param(params))
            }
            Self::ResourceTemplates => ClientRequest::ListResourceTemplatesRequest(
                RequestOptionalParam::with_param(params),
            ),
        }
    }
}

/// One session's state while listing.
struct Session<'a> {
    peer: rmcp::Peer<rmcp::RoleClient>,
    recorder: &'a Arc<Recorder>,
    limits: &'a Limits,
    child: Option<&'a mut ChildGuard>,
}

impl Session<'_> {
    async fn detail(&mut self) -> String {
        match self.child.as_mut() {
            Some(c) => c.detail().await,
            None => String::new(),
        }
    }

    async fn closed(&mut self, what: &str, e: impl std::fmt::Display) -> CaptureError {
        if let Some(max) = self.recorder.lock().oversized {
            return CaptureError::TooLarge(format!(
                "the server sent a message larger than {max} bytes during {what}"
            ));
        }
        let detail = self.detail().await;
        CaptureError::Protocol(format!("{what} failed: {e}{detail}"))
    }

    /// Every page of one list, as the raw items the server sent.
    async fn list(&mut self, list: List) -> Result<Vec<Value>, CaptureError> {
        let method = list.method();
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        for page in 0.. {
            if page >= self.limits.max_pages {
                return Err(CaptureError::TooLarge(format!(
                    "{method} has more than {} pages",
                    self.limits.max_pages
                )));
            }
            let handle = self
                .peer
                .send_request_with_option(
                    list.request(cursor.clone()),
                    PeerRequestOptions::with_timeout(self.limits.request),
                )
                .await;
            let handle = match handle {
                Ok(h) => h,
                Err(e) => return Err(self.closed(method, e).await),
            };
            let id = serde_json::to_value(&handle.id)
                .map(|v| v.to_string())
                .unwrap_or_default();
            let typed = match tokio::time::timeout(
                self.limits.request + Duration::from_millis(200),
                handle.await_response(),
            )
            .await
            {
                Err(_) => {
                    return Err(CaptureError::Timeout {
                        what: method.into(),
                        after: self.limits.request,
                        detail: self.detail().await,
                    });
                }
                Ok(Err(rmcp::ServiceError::Timeout { .. })) => {
                    return Err(CaptureError::Timeout {
                        what: method.into(),
                        after: self.limits.request,
                        detail: self.detail().await,
                    });
                }
                Ok(Err(rmcp::ServiceError::McpError(e))) => {
                    return Err(CaptureError::Protocol(format!(
                        "the server answered {method} with error {}: {}",
                        e.code.0, e.message
                    )));
                }
                Ok(Err(e)) => return Err(self.closed(method, e).await),
                Ok(Ok(result)) => result,
            };
            let raw = match self.recorder.response(&id) {
                Some(m) => m.get("result").cloned().unwrap_or(Value::Null),
                // Only when the transport did not let the raw answer through.
                None => serde_json::to_value(&typed).unwrap_or(Value::Null),
            };
            let Some(page_items) = raw.get(list.key()).and_then(Value::as_array) else {
                return Err(CaptureError::Protocol(format!(
                    "the server answered {method} without a `{}` array (result.{}): {}",
                    list.key(),
                    list.key(),
                    short(&raw)
                )));
            };
            if items.len() + page_items.len() > self.limits.max_items {
                return Err(CaptureError::TooLarge(format!(
                    "the server lists more than {} {}",
                    self.limits.max_items,
                    list.key()
                )));
            }
            items.extend(page_items.iter().cloned());
            match raw.get("nextCursor") {
                None | Some(Value::Null) => break,
                Some(Value::String(c)) if c.is_empty() => break,
                Some(Value::String(c)) => {
                    if !seen.insert(c.clone()) {
                        return Err(CaptureError::Protocol(format!(
                            "the server's {method} cursor {c:?} repeats: its pages never end"
                        )));
                    }
                    cursor = Some(c.clone());
                }
                Some(other) => {
                    return Err(CaptureError::Protocol(format!(
                        "{method}: result.nextCursor is not a string: {}",
                        short(other)
                    )));
                }
            }
        }
        Ok(items)
    }

    /// Waits until no `list_changed` notification arrived for `settle`, at most `settle_max`.
    async fn settle(&self) {
        let start = Instant::now();
        loop {
            let last = self.recorder.lock().last_change.unwrap_or(start).max(start);
            let quiet = last.elapsed();
            if quiet >= self.limits.settle || start.elapsed() >= self.limits.settle_max {
                return;
            }
            tokio::time::sleep(self.limits.settle - quiet).await;
        }
    }
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

async fn capture_inner(
    target: &Target,
    capabilities: ClientCapabilities,
    limits: &Limits,
) -> Result<ToolManifest, CaptureError> {
    let recorder = Arc::new(Recorder::default());
    let config = ClientConfig::new(
        capabilities,
        Implementation::new("mcpreg", env!("CARGO_PKG_VERSION")),
    )
    .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE);

    let mut child = None;
    let started = match target {
        Target::Stdio { program, args, env } => {
            let (guard, read, write) = start_stdio(program, args, env, limits, &recorder)?;
            child = Some(guard);
            tokio::time::timeout(limits.start, config.serve((read, write))).await
        }
        Target::Http { url, headers } => {
            // rmcp's transport error would name its own types; say plainly when nothing listens.
            let host = url
                .host_str()
                .unwrap_or_default()
                .trim_matches(['[', ']'])
                .to_owned();
            let port = url.port_or_known_default().unwrap_or(80);
            match tokio::time::timeout(
                limits.start,
                tokio::net::TcpStream::connect((host.as_str(), port)),
            )
            .await
            {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    return Err(CaptureError::Start(format!(
                        "cannot connect to {host}:{port}: {e}"
                    )));
                }
                Err(_) => {
                    return Err(CaptureError::Timeout {
                        what: format!("connecting to {host}:{port}"),
                        after: limits.start,
                        detail: String::new(),
                    });
                }
            }
            let http = reqwest::Client::builder()
                .user_agent(concat!("mcpreg-cli/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(limits.start)
                .build()
                .map_err(|e| CaptureError::Start(e.to_string()))?;
            let mut custom = HashMap::new();
            for (k, v) in headers {
                let name = HeaderName::from_bytes(k.as_bytes())
                    .map_err(|e| CaptureError::Start(format!("header `{k}`: {e}")))?;
                let value = HeaderValue::from_str(v)
                    .map_err(|e| CaptureError::Start(format!("header `{k}`: {e}")))?;
                custom.insert(name, value);
            }
            let mut cfg = StreamableHttpClientTransportConfig::with_uri(url.as_str())
                .custom_headers(custom)
                .max_sse_event_size(limits.max_message_bytes)
                .max_json_response_size(limits.max_message_bytes)
                .control_request_timeout(limits.request)
                .reinit_on_expired_session(false);
            cfg.retry_config = Arc::new(NeverRetry::default());
            let transport = StreamableHttpClientTransport::with_client(
                TeeHttp {
                    inner: http,
                    recorder: recorder.clone(),
                },
                cfg,
            );
            tokio::time::timeout(limits.start, config.serve(transport)).await
        }
    };
    let service = match started {
        Err(_) => {
            let non_json = recorder.lock().non_json.clone();
            let garbage = match non_json.first() {
                Some(line) => format!(
                    "; it wrote lines that are not JSON-RPC, e.g. {line:?} (is it an MCP server on stdio?)"
                ),
                None => String::new(),
            };
            let detail = match child.as_mut() {
                Some(c) => c.detail().await,
                None => String::new(),
            };
            return Err(CaptureError::Timeout {
                what: "starting the server and `initialize`".into(),
                after: limits.start,
                detail: format!("{garbage}{detail}"),
            });
        }
        Ok(Err(e)) => {
            let detail = match child.as_mut() {
                Some(c) => c.detail().await,
                None => String::new(),
            };
            let non_json = recorder.lock().non_json.clone();
            let oversized = recorder.lock().oversized;
            if let Some(max) = oversized {
                return Err(CaptureError::TooLarge(format!(
                    "the server sent a message larger than {max} bytes before answering `initialize`"
                )));
            }
            let garbage = if non_json.is_empty() {
                String::new()
            } else {
                format!(
                    "; it wrote lines that are not JSON-RPC, e.g. {:?}",
                    non_json[0]
                )
            };
            if let Some(answer) = recorder.response_to("initialize") {
                let result = answer.get("result");
                if result.is_some_and(|r| {
                    r.get("serverInfo").is_none() || r.get("protocolVersion").is_none()
                }) {
                    return Err(CaptureError::Protocol(format!(
                        "the server's answer to `initialize` is not an initialize result (no serverInfo or protocolVersion): {}{detail}",
                        short(&answer)
                    )));
                }
                if let Some(error) = answer.get("error") {
                    return Err(CaptureError::Protocol(format!(
                        "the server refused `initialize`: {}{detail}",
                        short(error)
                    )));
                }
            }
            return Err(match target {
                Target::Http { url, .. } => {
                    // rmcp writes `… Transport [<type names>] error: <what happened>`.
                    let text = root_cause(&e);
                    let text = text
                        .rsplit_once("] error: ")
                        .map_or(text.as_str(), |(_, t)| t);
                    CaptureError::Start(format!("no MCP session with {url}: {text}"))
                }
                Target::Stdio { .. } => {
                    CaptureError::Protocol(format!("`initialize` failed: {e}{garbage}{detail}"))
                }
            });
        }
        Ok(Ok(s)) => s,
    };

    let initialize = recorder
        .response_to("initialize")
        .and_then(|m| m.get("result").cloned())
        .or_else(|| {
            // The transport did not let the raw answer through: rmcp's view of it.
            let info = service.peer_info()?;
            serde_json::to_value(&*info).ok()
        })
        .unwrap_or(Value::Null);
    let declared = recorder
        .lock()
        .initialize_params
        .as_ref()
        .and_then(|p| p.get("capabilities").cloned())
        .unwrap_or_else(|| serde_json::json!({}));

    let mut session = Session {
        peer: service.peer().clone(),
        recorder: &recorder,
        limits,
        child: child.as_mut(),
    };
    let server_caps = initialize
        .get("capabilities")
        .cloned()
        .unwrap_or(Value::Null);
    let mut raw = RawCapture {
        initialize_result: initialize.clone(),
        client_capabilities: declared,
        ..Default::default()
    };
    let mut warnings = Vec::new();
    // Lists can change while we read them (a server announcing tools it registers late):
    // read until a round saw no `list_changed`, three rounds at most.
    for round in 0..3 {
        session.settle().await;
        let changes_before = recorder.lock().list_changed;
        for list in [
            List::Tools,
            List::Prompts,
            List::Resources,
            List::ResourceTemplates,
        ] {
            let items = if server_caps.get(list.capability()).is_some() {
                session.list(list).await?
            } else {
                Vec::new()
            };
            match list {
                List::Tools => raw.tools = items,
                List::Prompts => raw.prompts = items,
                List::Resources => raw.resources = items,
                List::ResourceTemplates => raw.resource_templates = items,
            }
        }
        if recorder.lock().list_changed == changes_before {
            break;
        }
        if round == 2 {
            warnings.push(
                "the server kept announcing list changes while it was read; the lists are those of the last read".to_owned(),
            );
        }
    }
    if server_caps.get("tools").is_none() {
        warnings.push("the server declares no `tools` capability".to_owned());
    }
    let (list_changed, typed, non_json) = {
        let s = recorder.lock();
        (s.list_changed, s.typed_answers, s.non_json.len())
    };
    if typed {
        warnings.push("the server answered with plain JSON rather than SSE; those answers went through rmcp's typed model, which drops fields it does not know".to_owned());
    }
    if non_json > 0 {
        warnings
            .push("the server wrote lines to stdout that are not JSON-RPC (ignored)".to_owned());
    }

    // Close politely (rmcp ends the HTTP session with DELETE), then make sure.
    let _ = tokio::time::timeout(Duration::from_secs(2), service.cancel()).await;
    if let Some(c) = child.as_mut()
        && tokio::time::timeout(Duration::from_millis(500), c.child.wait())
            .await
            .is_err()
    {
        c.kill_group();
    }

    let mut manifest = ToolManifest::from_capture(raw)?;
    manifest.capture = Some(CaptureInfo {
        transport: target.transport().into(),
        target: target.describe(),
        captured_at: chrono::Utc::now(),
        client: concat!("mcpreg ", env!("CARGO_PKG_VERSION")).into(),
        list_changed_notifications: list_changed,
        warnings,
    });
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_bounded() {
        let data: &[u8] = b"short\nthis line is far too long\nx";
        let mut r = BufReader::new(data);
        let mut line = Vec::new();
        assert!(read_line_bounded(&mut r, 10, &mut line).await.unwrap());
        assert_eq!(line, b"short");
        let e = read_line_bounded(&mut r, 10, &mut line).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    }

    #[test]
    fn targets_are_recorded_without_credentials() {
        let t = Target::Http {
            url: Url::parse("https://user:secret@mcp.example.com/mcp?token=abc").unwrap(),
            headers: vec![],
        };
        assert_eq!(t.describe(), "https://mcp.example.com/mcp");
    }
}
