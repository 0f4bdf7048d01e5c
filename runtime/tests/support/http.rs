//! A small HTTP/1.1 client for `gait-run serve`, on `std::net::TcpStream`:
//! one kept-alive connection per [`Conn`], requests written as raw bytes (so
//! that tests can also send what a well-behaved client never would).

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The validator of `schemas/v1/NAME`.
pub fn schema(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas/v1")
        .join(name);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&v).unwrap()
}

pub fn assert_valid(validator: &jsonschema::Validator, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{instance:#}");
}

/// Spawns a prepared `gait-run serve` command (listening on port 0) with
/// its standard output piped, and reads its first line: the child and the
/// address it listens on.
pub fn spawn_serve(cmd: &mut Command) -> (Child, String) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let v: Value = serde_json::from_str(&first)
        .unwrap_or_else(|e| panic!("no listening line ({e}): {first:?}"));
    let addr = v["listening"].as_str().unwrap().to_owned();
    (child, addr)
}

/// Prometheus text (`GET /metrics`): `name{labels}` → value.
pub fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_owned(), v.parse().unwrap())
        })
        .collect()
}

pub struct Resp {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Resp {
    /// The body as JSON; a gate result (it has a `verdict`) is checked
    /// against schemas/v1/result.schema.json.
    pub fn json(&self) -> Value {
        let v: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)));
        if v.get("verdict").is_some() {
            static RESULT: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
            assert_valid(RESULT.get_or_init(|| schema("result.schema.json")), &v);
        }
        v
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

/// One HTTP/1.1 connection (kept alive across requests).
pub struct Conn {
    pub reader: BufReader<TcpStream>,
}

impl Conn {
    pub fn open(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        Conn {
            reader: BufReader::new(s),
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).unwrap();
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: test\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut all = head.into_bytes();
        all.extend_from_slice(body);
        self.send_raw(&all);
        self.read_response()
    }

    pub fn get(&mut self, path: &str) -> Resp {
        self.request("GET", path, &[], b"")
    }

    /// `POST /v1/eval` of `body` (an intent, or the approval envelope).
    pub fn eval(&mut self, body: &[u8]) -> Resp {
        self.request(
            "POST",
            "/v1/eval",
            &[("Content-Type", "application/json")],
            body,
        )
    }

    pub fn read_response(&mut self) -> Resp {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 "), "status line: {line:?}");
        let status: u16 = line[9..12].parse().unwrap();
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
        let len: usize = headers["content-length"].parse().unwrap();
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).unwrap();
        Resp {
            status,
            headers,
            body,
        }
    }

    /// True when the server closed the connection.
    pub fn closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.reader.read(&mut b), Ok(0) | Err(_))
    }
}

/// Stops a `gait-run serve` child with SIGTERM (it must exit 0) and reads
/// its decision log: every line, each valid against `serve_log.schema.json`.
pub fn stop_and_read_log(child: &mut Child, log: &Path) -> Vec<Value> {
    let _ = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let text = std::fs::read_to_string(log).unwrap();
    let log_schema = schema("serve_log.schema.json");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for l in &lines {
        assert_valid(&log_schema, l);
    }
    lines
}
