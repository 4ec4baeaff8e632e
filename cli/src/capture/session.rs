//! One capture session: start the server, `initialize`, list what it offers page by page until
//! the lists stop changing, and assemble the manifest from the raw answers.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcpreg_scan::manifest::{CaptureInfo, RawCapture, ToolManifest};
use reqwest::header::{HeaderName, HeaderValue};
use rmcp::ServiceExt as _;
use rmcp::model::{
    ClientCapabilities, ClientConfig, ClientRequest, Implementation, PaginatedRequestParams,
    ProtocolVersion, RequestOptionalParam,
};
use rmcp::service::PeerRequestOptions;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::common::client_side_sse::NeverRetry;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::Value;

use super::http::TeeHttp;
use super::recorder::Recorder;
use super::stdio::{ChildGuard, start_stdio};
use super::{CaptureError, Limits, Target, root_cause, short};

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

pub(super) async fn capture_inner(
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
