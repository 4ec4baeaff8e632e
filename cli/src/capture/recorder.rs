//! What the tees record: the raw messages of one session, below rmcp.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::Value;

/// The raw messages of one session, teed off below rmcp.
#[derive(Default)]
pub(super) struct Recorder {
    state: Mutex<RecorderState>,
}

#[derive(Default)]
pub(super) struct RecorderState {
    /// Request id (as JSON text) → method, for the client's requests.
    requests: HashMap<String, String>,
    /// The params of the client's `initialize`.
    pub(super) initialize_params: Option<Value>,
    /// Response id (as JSON text) → the whole response message.
    responses: HashMap<String, Value>,
    pub(super) list_changed: u32,
    pub(super) last_change: Option<Instant>,
    pub(super) non_json: Vec<String>,
    pub(super) oversized: Option<usize>,
    pub(super) typed_answers: bool,
}

impl Recorder {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, RecorderState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn outgoing(&self, message: &Value) {
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

    pub(super) fn incoming(&self, message: &Value) {
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

    pub(super) fn response(&self, id: &str) -> Option<Value> {
        self.lock().responses.get(id).cloned()
    }

    pub(super) fn response_to(&self, method: &str) -> Option<Value> {
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
