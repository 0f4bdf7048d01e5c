//! The sidecar's JSON log: one line per event (`decision`, `reload`,
//! `listening`, `shutdown`; schema `schemas/v1/serve_log.schema.json`).
//!
//! A request appends its line to a shared buffer (one short lock, no system
//! call, no thread wake-up); one writer thread takes the whole buffer and
//! writes it every [`FLUSH_EVERY`] or as soon as [`FLUSH_AT`] bytes are
//! waiting. Lines never interleave. Memory is bounded: past [`MAX_PENDING`]
//! bytes a request waits for the writer (back-pressure) rather than growing the
//! buffer or dropping audit lines. `close` writes everything still pending.

use serde_json::{Map, Value};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub const SCHEMA_ID: &str = "gait.serve.log";
/// Longest a line waits before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Pending bytes that wake the writer early.
const FLUSH_AT: usize = 256 * 1024;
/// Pending bytes past which writers of new lines wait.
const MAX_PENDING: usize = 32 * 1024 * 1024;

#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    /// Wakes the writer (early flush, close).
    wake: Condvar,
    /// Wakes requests waiting for room.
    drained: Condvar,
}

/// The current time as a log line's `ts` (RFC 3339, UTC, nanoseconds).
pub fn now() -> String {
    let (secs, nanos) = gait_run::time::now();
    gait_run::time::format_rfc3339_nanos(secs, nanos)
}

pub struct Logger {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Logger {
    /// Logs to `path` (appended) or, without one, to stderr.
    pub fn open(path: Option<&Path>) -> std::io::Result<Logger> {
        let mut sink: Box<dyn Write + Send> = match path {
            Some(p) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            ),
            None => Box::new(std::io::stderr()),
        };
        let shared = Arc::new(Shared::default());
        let worker = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("gait-log".into())
                .spawn(move || {
                    let mut spare = Vec::new();
                    loop {
                        let closed = {
                            let Ok(mut p) = shared.pending.lock() else {
                                return;
                            };
                            if p.buf.is_empty() && !p.closed {
                                p = match shared.wake.wait_timeout(p, FLUSH_EVERY) {
                                    Ok((p, _)) => p,
                                    Err(_) => return,
                                };
                            }
                            std::mem::swap(&mut p.buf, &mut spare);
                            p.closed
                        };
                        shared.drained.notify_all();
                        if !spare.is_empty() {
                            let _ = sink.write_all(&spare);
                            let _ = sink.flush();
                            spare.clear();
                        }
                        if closed {
                            // Lines appended after `closed` was read are taken by
                            // one more turn; none can be appended after that.
                            let Ok(p) = shared.pending.lock() else {
                                return;
                            };
                            if p.buf.is_empty() {
                                return;
                            }
                        }
                    }
                })?
        };
        Ok(Logger {
            shared,
            worker: Mutex::new(Some(worker)),
        })
    }

    /// Writes one event: `{"schema_id", "ts", "event", ...fields}`.
    pub fn event(&self, event: &str, fields: Map<String, Value>) {
        let mut line = Map::with_capacity(fields.len() + 3);
        line.insert("schema_id".into(), Value::from(SCHEMA_ID));
        line.insert("ts".into(), Value::from(now()));
        line.insert("event".into(), Value::from(event));
        line.extend(fields);
        let mut text = Value::Object(line).to_string();
        text.push('\n');
        self.append(text.as_bytes());
    }

    /// Writes one line that a caller built as a struct (the hot path: no
    /// intermediate JSON values). It must carry `schema_id`, `ts` ([`now`])
    /// and `event` like [`Logger::event`]'s lines.
    pub fn line<T: serde::Serialize>(&self, line: &T) {
        let mut text = serde_json::to_vec(line).unwrap_or_default();
        if !text.is_empty() {
            text.push(b'\n');
            self.append(&text);
        }
    }

    fn append(&self, bytes: &[u8]) {
        let Ok(mut p) = self.shared.pending.lock() else {
            return;
        };
        while p.buf.len() >= MAX_PENDING && !p.closed {
            self.shared.wake.notify_one();
            p = match self.shared.drained.wait(p) {
                Ok(p) => p,
                Err(_) => return,
            };
        }
        p.buf.extend_from_slice(bytes);
        if p.buf.len() >= FLUSH_AT {
            self.shared.wake.notify_one();
        }
    }

    /// Writes what is pending and stops the writer (lines logged after this
    /// are not written).
    pub fn close(&self) {
        if let Ok(mut p) = self.shared.pending.lock() {
            p.closed = true;
        }
        self.shared.wake.notify_one();
        let worker = self.worker.lock().ok().and_then(|mut w| w.take());
        if let Some(w) = worker {
            let _ = w.join();
        }
    }
}

impl Drop for Logger {
    fn drop(&mut self) {
        self.close();
    }
}
