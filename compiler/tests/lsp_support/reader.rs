//! The reading half of an LSP client, shared by the LSP tests and the latency
//! example (`examples/lsp_latency.rs`): a thread that turns the server's
//! stdout into JSON messages.

use serde_json::Value;
use std::io::BufReader;
use std::process::ChildStdout;
use std::sync::mpsc::{channel, Receiver};

/// The messages the server writes, in order, until its stdout closes.
pub fn spawn_reader(stdout: ChildStdout) -> Receiver<Value> {
    let (tx, rx) = channel();
    // The framing (Content-Length headers) is lsp-server's own reader.
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        while let Ok(Some(msg)) = lsp_server::Message::read(&mut r) {
            let Ok(v) = serde_json::to_value(&msg) else {
                return;
            };
            if tx.send(v).is_err() {
                return;
            }
        }
    });
    rx
}
