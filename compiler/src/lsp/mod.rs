//! `gaitc lsp`: a Language Server over stdio.
//!
//! Documents are synchronized in full. Each one is checked by the same
//! [`crate::check::Session`] as `gaitc check`, with every open document
//! replacing its file on disk (so an importer sees unsaved edits of the module
//! it imports). Diagnostics are published when a document is opened, after a
//! quiet time following changes (the debounce, 20 ms unless the client sets
//! `initializationOptions.debounceMs`), and cleared when it is closed; a
//! change re-checks the open documents that import the changed one.
//!
//! [`Server`] is the protocol state machine, free of I/O: it takes a message
//! and returns the messages to send, so it is tested (and property-tested)
//! without a process. [`run_stdio`] drives it over stdin/stdout.

pub mod analysis;
pub mod completion;
pub mod features;
pub mod locate;
pub mod text;

use analysis::{panic_message, Analysis, Input};
use features::Ctx;
use locate::{uri_to_path, Locator};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lt;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use text::LineIndex;

/// Default quiet time after a change before diagnostics are published.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(20);

/// Largest debounce a client may ask for.
const MAX_DEBOUNCE_MS: u64 = 10_000;

#[derive(Debug)]
struct Document {
    uri: lt::Uri,
    /// Canonical path for `file://` documents.
    path: Option<PathBuf>,
    text: String,
    version: i32,
    index: LineIndex,
    analysis: Option<Result<Analysis, String>>,
}

/// Options a client passes in `initializationOptions`.
#[derive(Debug, Clone)]
pub struct Options {
    pub debounce: Duration,
    /// Root of the cache the stdlib modules are written to (for go-to-definition).
    pub cache_dir: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            debounce: DEFAULT_DEBOUNCE,
            cache_dir: Locator::default_base(),
        }
    }
}

impl Options {
    /// Reads `{"debounceMs": N, "cacheDir": "..."}`; anything else keeps the default.
    pub fn from_init(init: Option<&Value>) -> Options {
        let mut o = Options::default();
        if let Some(ms) = init
            .and_then(|v| v.get("debounceMs"))
            .and_then(Value::as_u64)
        {
            o.debounce = Duration::from_millis(ms.min(MAX_DEBOUNCE_MS));
        }
        if let Some(dir) = init.and_then(|v| v.get("cacheDir")).and_then(Value::as_str) {
            if !dir.is_empty() {
                o.cache_dir = PathBuf::from(dir);
            }
        }
        o
    }
}

/// The server's state: open documents and when each is due to be published.
#[derive(Debug)]
pub struct Server {
    docs: BTreeMap<String, Document>,
    due: BTreeMap<String, Instant>,
    debounce: Duration,
    locator: Locator,
    shutdown: bool,
}

/// What the server capabilities are (the `initialize` result).
pub fn initialize_result() -> Value {
    json!({
        "capabilities": {
            "positionEncoding": "utf-16",
            "textDocumentSync": {"openClose": true, "change": 1, "save": {"includeText": false}},
            "hoverProvider": true,
            "definitionProvider": true,
            "documentSymbolProvider": true,
            "documentFormattingProvider": true,
            "completionProvider": {"triggerCharacters": [" ", "[", ",", ":"]},
            "codeActionProvider": {"codeActionKinds": ["quickfix"]},
        },
        "serverInfo": {"name": "gaitc", "version": env!("CARGO_PKG_VERSION")},
    })
}

impl Server {
    pub fn new(options: &Options) -> Server {
        Server {
            docs: BTreeMap::new(),
            due: BTreeMap::new(),
            debounce: options.debounce,
            locator: Locator::new(&options.cache_dir),
            shutdown: false,
        }
    }

    /// Whether `shutdown` was requested.
    pub fn is_shut_down(&self) -> bool {
        self.shutdown
    }

    /// The earliest time a debounced publish is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.due.values().min().copied()
    }

    /// Handles one message; returns what to send (responses, diagnostics).
    pub fn handle(&mut self, msg: Message, now: Instant) -> Vec<Message> {
        match msg {
            Message::Request(req) => vec![Message::Response(self.request(req))],
            Message::Notification(n) => self.notification(n, now),
            Message::Response(_) => Vec::new(),
        }
    }

    /// Publishes every document whose debounce ended by `now`.
    pub fn flush(&mut self, now: Instant) -> Vec<Message> {
        let ready: Vec<String> = self
            .due
            .iter()
            .filter(|(_, &t)| t <= now)
            .map(|(k, _)| k.clone())
            .collect();
        ready
            .into_iter()
            .filter_map(|k| {
                self.due.remove(&k);
                self.publish(&k)
            })
            .collect()
    }

    fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        let method = req.method.clone();
        // A handler that panics (a bug) answers an internal error; the server
        // keeps serving the other documents.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.dispatch(req)))
            .unwrap_or_else(|panic| {
                Err((
                    ErrorCode::InternalError,
                    format!("internal error in `{method}`: {}", panic_message(&*panic)),
                ))
            });
        match result {
            Ok(v) => Response::new_ok(id, v),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        }
    }

    fn dispatch(&mut self, req: Request) -> Result<Value, ReqError> {
        match req.method.as_str() {
            "initialize" => Err((
                ErrorCode::InvalidRequest,
                "the server is already initialized".to_owned(),
            )),
            "shutdown" => {
                self.shutdown = true;
                Ok(Value::Null)
            }
            "textDocument/hover" => self.with_position(req, |s, k, off| {
                let (ctx, a) = s.analyzed(&k)?;
                to_value(features::hover(&ctx, a, off))
            }),
            "textDocument/definition" => self.with_position(req, |s, k, off| {
                let (ctx, a) = s.analyzed(&k)?;
                to_value(features::definition(&ctx, a, off))
            }),
            "textDocument/completion" => self.with_position(req, |s, k, off| {
                let (doc, a) = s.analyzed_or_text(&k)?;
                to_value(completion::completion(a, &doc.text, off))
            }),
            "textDocument/documentSymbol" => {
                self.with_params(req, |s, p: lt::DocumentSymbolParams| {
                    let (ctx, a) = s.analyzed(&key(&p.text_document.uri))?;
                    to_value(features::document_symbols(&ctx, a))
                })
            }
            "textDocument/formatting" => {
                self.with_params(req, |s, p: lt::DocumentFormattingParams| {
                    let doc = s.doc(&key(&p.text_document.uri))?;
                    to_value(features::formatting(&doc.index, &doc.text))
                })
            }
            "textDocument/codeAction" => self.with_params(req, |s, p: lt::CodeActionParams| {
                let (ctx, a) = s.analyzed(&key(&p.text_document.uri))?;
                to_value(features::code_actions(&ctx, a, p.range))
            }),
            other => Err((
                ErrorCode::MethodNotFound,
                format!("gaitc lsp does not implement `{other}`"),
            )),
        }
    }

    fn with_params<P: DeserializeOwned>(
        &mut self,
        req: Request,
        f: impl FnOnce(&mut Self, P) -> Result<Value, ReqError>,
    ) -> Result<Value, ReqError> {
        let params: P = serde_json::from_value(req.params).map_err(|e| {
            (
                ErrorCode::InvalidParams,
                format!("invalid `{}` parameters: {e}", req.method),
            )
        })?;
        f(self, params)
    }

    fn with_position(
        &mut self,
        req: Request,
        f: impl FnOnce(&mut Self, String, usize) -> Result<Value, ReqError>,
    ) -> Result<Value, ReqError> {
        self.with_params(req, |s, p: lt::TextDocumentPositionParams| {
            let k = key(&p.text_document.uri);
            let doc = s.doc(&k)?;
            let offset = doc.index.offset(&doc.text, p.position);
            f(s, k, offset)
        })
    }

    fn doc(&self, k: &str) -> Result<&Document, ReqError> {
        self.docs.get(k).ok_or_else(|| {
            (
                ErrorCode::InvalidParams,
                format!("document {k} is not open"),
            )
        })
    }

    fn ctx<'a>(&'a self, doc: &'a Document) -> Ctx<'a> {
        Ctx {
            uri: &doc.uri,
            version: Some(doc.version),
            index: &doc.index,
            locator: &self.locator,
            others: Default::default(),
        }
    }

    /// The document's context and its (fresh) analysis.
    fn analyzed(&mut self, k: &str) -> Result<(Ctx<'_>, &Analysis), ReqError> {
        self.ensure_analysis(k);
        let this: &Self = self;
        let doc = this.doc(k)?;
        match &doc.analysis {
            Some(Ok(a)) => Ok((this.ctx(doc), a)),
            Some(Err(e)) => Err((ErrorCode::InternalError, e.clone())),
            None => Err((ErrorCode::InternalError, "document not analyzed".to_owned())),
        }
    }

    /// Like [`Self::analyzed`], but a failed analysis still gives the text.
    fn analyzed_or_text(&mut self, k: &str) -> Result<(&Document, Option<&Analysis>), ReqError> {
        self.ensure_analysis(k);
        let doc = self.doc(k)?;
        let a = match &doc.analysis {
            Some(Ok(a)) => Some(a),
            _ => None,
        };
        Ok((doc, a))
    }

    fn ensure_analysis(&mut self, k: &str) {
        if self.docs.get(k).is_none_or(|d| d.analysis.is_some()) {
            return;
        }
        let open: Vec<(PathBuf, String)> = self
            .docs
            .iter()
            .filter(|(other, _)| other.as_str() != k)
            .filter_map(|(_, d)| Some((d.path.clone()?, d.text.clone())))
            .collect();
        let Some(doc) = self.docs.get_mut(k) else {
            return;
        };
        let name = doc
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| doc.uri.as_str().to_owned());
        let input = Input {
            path: doc.path.as_deref(),
            name: &name,
            text: &doc.text,
            open,
        };
        doc.analysis = Some(Analysis::run(&input));
    }

    /// `textDocument/publishDiagnostics` for one document (re-checked if needed).
    fn publish(&mut self, k: &str) -> Option<Message> {
        self.ensure_analysis(k);
        let doc = self.docs.get(k)?;
        let diagnostics = match &doc.analysis {
            Some(Ok(a)) => features::diagnostics(&self.ctx(doc), a),
            Some(Err(e)) => vec![lt::Diagnostic {
                range: lt::Range::default(),
                severity: Some(lt::DiagnosticSeverity::ERROR),
                source: Some("gaitc".to_owned()),
                message: e.clone(),
                ..Default::default()
            }],
            None => Vec::new(),
        };
        Some(publish_message(
            doc.uri.clone(),
            diagnostics,
            Some(doc.version),
        ))
    }

    fn notification(&mut self, n: Notification, now: Instant) -> Vec<Message> {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<lt::DidOpenTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let k = key(&p.text_document.uri);
                let path = uri_to_path(&p.text_document.uri);
                let index = LineIndex::new(&p.text_document.text);
                self.docs.insert(
                    k.clone(),
                    Document {
                        uri: p.text_document.uri,
                        path,
                        text: p.text_document.text,
                        version: p.text_document.version,
                        index,
                        analysis: None,
                    },
                );
                self.due.remove(&k);
                self.touch_importers(&k, now);
                self.publish(&k).into_iter().collect()
            }
            "textDocument/didChange" => {
                let Ok(p) = serde_json::from_value::<lt::DidChangeTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let k = key(&p.text_document.uri);
                let Some(doc) = self.docs.get_mut(&k) else {
                    return Vec::new();
                };
                // Full sync: the last change carries the whole text. A ranged
                // change (a client ignoring our sync kind) is applied in place.
                for change in p.content_changes {
                    match change.range {
                        None => doc.text = change.text,
                        Some(r) => {
                            let start = doc.index.offset(&doc.text, r.start);
                            let end = doc.index.offset(&doc.text, r.end).max(start);
                            doc.text.replace_range(start..end, &change.text);
                        }
                    }
                    doc.index = LineIndex::new(&doc.text);
                }
                doc.version = p.text_document.version;
                doc.analysis = None;
                self.due.insert(k.clone(), now + self.debounce);
                self.touch_importers(&k, now);
                Vec::new()
            }
            "textDocument/didSave" => {
                let Ok(p) = serde_json::from_value::<lt::DidSaveTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                self.touch_importers(&key(&p.text_document.uri), now);
                Vec::new()
            }
            "workspace/didChangeWatchedFiles" => {
                let Ok(p) = serde_json::from_value::<lt::DidChangeWatchedFilesParams>(n.params)
                else {
                    return Vec::new();
                };
                let paths: Vec<PathBuf> = p
                    .changes
                    .iter()
                    .filter_map(|c| uri_to_path(&c.uri))
                    .collect();
                self.recheck_readers(&paths, None, now);
                Vec::new()
            }
            "textDocument/didClose" => {
                let Ok(p) = serde_json::from_value::<lt::DidCloseTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let k = key(&p.text_document.uri);
                // Importers now read the file on disk again.
                self.touch_importers(&k, now);
                self.docs.remove(&k);
                self.due.remove(&k);
                vec![publish_message(p.text_document.uri, Vec::new(), None)]
            }
            _ => Vec::new(),
        }
    }

    /// Re-checks (after the debounce) the other open documents that read `k`'s file.
    fn touch_importers(&mut self, k: &str, now: Instant) {
        let Some(path) = self.docs.get(k).and_then(|d| d.path.clone()) else {
            return;
        };
        self.recheck_readers(&[path], Some(k), now);
    }

    /// Re-checks (after the debounce) the open documents, other than `except`,
    /// whose last check read one of `paths`.
    fn recheck_readers(&mut self, paths: &[PathBuf], except: Option<&str>, now: Instant) {
        let due = now + self.debounce;
        let importers: Vec<String> = self
            .docs
            .iter_mut()
            .filter(|(other, _)| Some(other.as_str()) != except)
            .filter(|(_, d)| match &d.analysis {
                Some(Ok(a)) => paths.iter().any(|p| a.deps.contains(p)),
                // Not analyzed yet (it will read the new text) or failed: re-check.
                _ => true,
            })
            .map(|(other, d)| {
                d.analysis = None;
                other.clone()
            })
            .collect();
        for other in importers {
            self.due.insert(other, due);
        }
    }

    /// Open documents (for tests and tools).
    pub fn open_documents(&self) -> BTreeSet<String> {
        self.docs.keys().cloned().collect()
    }

    /// The current text of an open document.
    pub fn document_text(&self, uri: &lt::Uri) -> Option<&str> {
        self.docs.get(&key(uri)).map(|d| d.text.as_str())
    }
}

type ReqError = (ErrorCode, String);

fn key(uri: &lt::Uri) -> String {
    uri.as_str().to_owned()
}

fn to_value<T: serde::Serialize>(v: T) -> Result<Value, ReqError> {
    serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

fn publish_message(
    uri: lt::Uri,
    diagnostics: Vec<lt::Diagnostic>,
    version: Option<i32>,
) -> Message {
    Message::Notification(Notification::new(
        "textDocument/publishDiagnostics".to_owned(),
        lt::PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        },
    ))
}

/// Runs the server over stdin/stdout until `exit`. `Ok(true)` when the
/// client shut it down properly (exit code 0), `Ok(false)` on `exit` without
/// `shutdown` or when the client went away (exit code 1).
pub fn run_stdio() -> Result<bool, String> {
    let (connection, io_threads) = Connection::stdio();
    let clean = serve(&connection)?;
    drop(connection);
    io_threads
        .join()
        .map_err(|e| format!("lsp i/o error: {e}"))?;
    Ok(clean)
}

/// Serves one connection (stdio or in-memory).
pub fn serve(connection: &Connection) -> Result<bool, String> {
    let (id, params) = connection
        .initialize_start()
        .map_err(|e| format!("lsp initialize failed: {e}"))?;
    let options = Options::from_init(params.get("initializationOptions"));
    connection
        .initialize_finish(id, initialize_result())
        .map_err(|e| format!("lsp initialize failed: {e}"))?;
    let mut server = Server::new(&options);
    loop {
        let msg = match server.next_due() {
            Some(due) => {
                let wait = due.saturating_duration_since(Instant::now());
                match connection.receiver.recv_timeout(wait) {
                    Ok(msg) => Some(msg),
                    Err(e) if e.is_timeout() => None,
                    Err(_) => return Ok(false),
                }
            }
            None => match connection.receiver.recv() {
                Ok(msg) => Some(msg),
                Err(_) => return Ok(false),
            },
        };
        let mut out = Vec::new();
        if let Some(msg) = msg {
            if let Message::Notification(n) = &msg {
                if n.method == "exit" {
                    return Ok(server.is_shut_down());
                }
            }
            if server.is_shut_down() {
                if let Message::Request(req) = &msg {
                    out.push(Message::Response(Response::new_err(
                        req.id.clone(),
                        ErrorCode::InvalidRequest as i32,
                        "the server is shutting down".to_owned(),
                    )));
                }
            } else {
                out.extend(server.handle(msg, Instant::now()));
            }
        }
        out.extend(server.flush(Instant::now()));
        for m in out {
            connection
                .sender
                .send(m)
                .map_err(|e| format!("lsp connection closed: {e}"))?;
        }
    }
}

/// A request id for [`Server::handle`] callers.
pub fn request(id: i32, method: &str, params: Value) -> Message {
    Message::Request(Request::new(RequestId::from(id), method.to_owned(), params))
}

/// A notification for [`Server::handle`] callers.
pub fn notification(method: &str, params: Value) -> Message {
    Message::Notification(Notification::new(method.to_owned(), params))
}
