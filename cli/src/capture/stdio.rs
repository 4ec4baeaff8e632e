//! A stdio server: a child process in its own process group, its stdout and stdin teed line by
//! line into the recorder, the end of its stderr kept for error messages.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use super::recorder::Recorder;
use super::{CaptureError, Limits};

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
pub(super) struct ChildGuard {
    pub(super) child: tokio::process::Child,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
}

const STDERR_TAIL: usize = 4096;

impl ChildGuard {
    pub(super) fn kill_group(&self) {
        if let Some(pid) = self
            .child
            .id()
            .and_then(|id| rustix::process::Pid::from_raw(id as i32))
        {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }

    /// The exit status (if the server has exited) and the end of its stderr, for error messages.
    pub(super) async fn detail(&mut self) -> String {
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
pub(super) fn start_stdio(
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
}
