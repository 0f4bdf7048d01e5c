#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! Differential test of the URL reading against real HTTP clients (issue 14).
//!
//! For every URL the gate accepts — the adversarial round's cases and
//! generated ones that mix schemes, userinfo, `@`, backslashes, braces,
//! whitespace, percent-encodings, ports, IPv4 notations, IPv6 literals and
//! trailing dots — the host is compared with the host curl really sends to a
//! loopback server (`--connect-to` routes every request to it, so nothing
//! leaves the machine) and with the host Python's `urllib.parse.urlsplit`
//! gives. A client that refuses a URL sends nothing and cannot disagree; a
//! client that reaches another host than the gate judged is a failure.

use gait_run::normalize::normalize_url;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const FIXED: &[&str] = &[
    "https://api.allowed.com\\@evil.com/",
    "http://api.allowed.com\\@evil.com/",
    "http://{example.com,169.254.169.254}/",
    "http://metadata/computeMetadata/v1/",
    "http://localhost../",
    "http://metadata.google.internal../",
    "https://api.github.com@evil.io/",
    "http://user:pw@example.com:8080/x",
    "http://0x7f.1/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://Example.COM./x",
    "http://a.com%2eevil.com/",
    "http://example.com/@evil.com",
    "http://example.com?@evil.com",
    "http://example.com#@evil.com",
    "http:/example.com/",
    "http:\\\\example.com/",
    "example.com/x",
    "http://exa mple.com/",
    "http://example.com:/",
    "evil.com://x.stripe.com/v1/charges",
];

/// URL pieces the generator combines.
fn url() -> impl Strategy<Value = String> {
    let scheme = proptest::sample::select(
        &[
            "http://",
            "HTTP://",
            "https://",
            "",
            "http:/",
            "http:\\\\",
            "http:",
        ][..],
    );
    let userinfo = proptest::sample::select(
        &[
            "",
            "user@",
            "user:pw@",
            "a.com@",
            "a.com\\@",
            "a%40b@",
            "@",
            "u@v@",
            "a.com:80@",
        ][..],
    );
    let host = proptest::sample::select(
        &[
            "example.com",
            "Example.COM",
            "example.com.",
            "example.com..",
            "127.0.0.1",
            "0x7f.1",
            "2130706433",
            "0177.1",
            "[::1]",
            "[::ffff:127.0.0.1]",
            "xn--bcher-kva.de",
            "bücher.de",
            "metadata",
            "localhost",
            "a.localhost",
            "exa%2emple.com",
            "ex\\ample.com",
            "{a,b}.com",
            "ex ample.com",
            "ex\tample.com",
            "[example.com]",
        ][..],
    );
    let port =
        proptest::sample::select(&["", ":80", ":8080", ":443", ":", ":0", ":99999", ":8o"][..]);
    let rest = proptest::sample::select(
        &[
            "",
            "/",
            "/a?b=c",
            "/@evil.com",
            "/\\@evil.com",
            "?x@y",
            "#f@x",
            "\\x",
            "/ {a,b}",
        ][..],
    );
    (scheme, userinfo, host, port, rest).prop_map(|(s, u, h, p, r)| format!("{s}{u}{h}{p}{r}"))
}

fn generated(n: usize) -> Vec<String> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]),
    );
    let strategy = url();
    let mut out: Vec<String> = (0..n)
        .filter_map(|_| strategy.new_tree(&mut runner).ok().map(|t| t.current()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The gate's host for `host[:port]` text a client produced (the same
/// canonical form: lower case, IPv4 notations, IPv6 compression, one
/// trailing dot).
fn canonical(host: &str) -> Option<String> {
    normalize_url(&format!("http://{host}/"))
        .ok()
        .map(|x| x.1 .0.into_owned())
}

/// A loopback HTTP server that reports each request's Host header.
fn server() -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut reader = BufReader::new(&stream);
            let mut host = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    if k.eq_ignore_ascii_case("host") {
                        host = v.trim().to_owned();
                    }
                }
            }
            let _ = (&stream)
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = tx.send(host);
        }
    });
    (port, rx)
}

/// The Host curl sends for `url` (`https` read as `http`: the same
/// authority parser, and the loopback server speaks plain HTTP), or `None`
/// when curl refuses it.
fn curl_host(url: &str, port: u16, rx: &mpsc::Receiver<String>) -> Option<String> {
    let url = match url.get(..8) {
        Some(p) if p.eq_ignore_ascii_case("https://") => format!("http://{}", &url[8..]),
        _ => url.to_owned(),
    };
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "--max-time", "5", "--connect-to"])
        .arg(format!("::127.0.0.1:{port}"))
        .arg("--")
        .arg(&url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    rx.recv_timeout(Duration::from_secs(5)).ok()
}

/// Python's `urlsplit` hostname and port for each URL (`None` when it
/// refuses the URL or finds no host).
fn python_hosts(urls: &[String]) -> Vec<Option<String>> {
    let script = r#"
import json, sys, urllib.parse
for line in sys.stdin:
    url = json.loads(line)
    try:
        s = urllib.parse.urlsplit(url)
        h, p = s.hostname, s.port
        if h is None:
            print(json.dumps(None))
        else:
            h = "[" + h + "]" if ":" in h else h
            print(json.dumps(h if p is None else h + ":" + str(p)))
    except ValueError:
        print(json.dumps(None))
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for u in urls {
        input.push_str(&serde_json::to_string(u).unwrap());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success());
    text.lines()
        .map(|l| serde_json::from_str::<Option<String>>(l).unwrap())
        .collect()
}

#[test]
fn every_url_the_gate_accepts_is_the_host_curl_and_urllib_reach() {
    let mut urls: Vec<String> = FIXED.iter().map(|s| (*s).to_owned()).collect();
    urls.extend(generated(600));
    let (port, rx) = server();
    let python = python_hosts(&urls);
    let (mut accepted, mut ambiguous, mut invalid) = (0, 0, 0);
    let mut disagreements = Vec::new();
    for (url, py) in urls.iter().zip(&python) {
        let gate = match normalize_url(url) {
            Ok((_, (host, _))) => host,
            Err(e) if e.starts_with("url_ambiguous") => {
                ambiguous += 1;
                continue;
            }
            Err(_) => {
                invalid += 1;
                continue;
            }
        };
        accepted += 1;
        // The explicit port matters to the readers' agreement only through
        // the host: compare hosts.
        let host_only = |hp: &str| canonical(hp);
        if let Some(curl) = curl_host(url, port, &rx) {
            if host_only(&curl).as_deref() != Some(&*gate) {
                disagreements.push(format!("{url:?}: gate {gate:?}, curl sent Host {curl:?}"));
            }
        }
        // A scheme-less value is a path to urlsplit (urllib cannot fetch it).
        if let Some(py) = py {
            if host_only(py).as_deref() != Some(&*gate) {
                disagreements.push(format!("{url:?}: gate {gate:?}, urllib {py:?}"));
            }
        }
    }
    println!(
        "{} urls: {accepted} accepted, {ambiguous} ambiguous, {invalid} invalid; {} disagreements",
        urls.len(),
        disagreements.len()
    );
    assert!(
        accepted > 50 && ambiguous > 50,
        "the generator reaches both sides"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
