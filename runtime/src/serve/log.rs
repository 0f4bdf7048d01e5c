//! The sidecar's JSON log: one line per event (`decision`, `reload`,
//! `listening`, `shutdown`; schema `schemas/v1/serve_log.schema.json`),
//! written by one thread so that request tasks never block on the file and
//! lines never interleave. The writer flushes whenever it has caught up.

use serde_json::{Map, Value};
use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;

pub const SCHEMA_ID: &str = "gait.serve.log";

pub struct Logger {
    tx: Option<mpsc::Sender<String>>,
    worker: Option<JoinHandle<()>>,
}

impl Logger {
    /// Logs to `path` (appended) or, without one, to stderr.
    pub fn open(path: Option<&Path>) -> std::io::Result<Logger> {
        let sink: Box<dyn Write + Send> = match path {
            Some(p) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            ),
            None => Box::new(std::io::stderr()),
        };
        let (tx, rx) = mpsc::channel::<String>();
        let worker = std::thread::Builder::new()
            .name("gait-log".into())
            .spawn(move || {
                let mut out = std::io::BufWriter::with_capacity(64 * 1024, sink);
                while let Ok(line) = rx.recv() {
                    let _ = out.write_all(line.as_bytes());
                    while let Ok(more) = rx.try_recv() {
                        let _ = out.write_all(more.as_bytes());
                    }
                    let _ = out.flush();
                }
                let _ = out.flush();
            })?;
        Ok(Logger {
            tx: Some(tx),
            worker: Some(worker),
        })
    }

    /// Writes one event: `{"schema_id", "ts", "event", ...fields}`.
    pub fn event(&self, event: &str, fields: Map<String, Value>) {
        let mut line = Map::with_capacity(fields.len() + 3);
        line.insert("schema_id".into(), Value::from(SCHEMA_ID));
        let (secs, nanos) = gait_run::time::now();
        line.insert(
            "ts".into(),
            Value::from(gait_run::time::format_rfc3339_nanos(secs, nanos)),
        );
        line.insert("event".into(), Value::from(event));
        line.extend(fields);
        let mut text = Value::Object(line).to_string();
        text.push('\n');
        if let Some(tx) = &self.tx {
            let _ = tx.send(text);
        }
    }

    /// Writes what is queued and stops the writer.
    pub fn close(&mut self) {
        self.tx = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl Drop for Logger {
    fn drop(&mut self) {
        self.close();
    }
}
