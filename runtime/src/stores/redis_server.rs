//! Test only: a real `redis-server` on a loopback port, for the Redis
//! store's unit tests (`stores::redis`) and the sidecars' end-to-end test
//! (`tests/approvals_redis.rs`, which includes this file by `#[path]`: an
//! integration test cannot import the binary's modules). Std and `tempfile`
//! only, so that it compiles the same in both.
//!
//! The server is `$GAIT_REDIS_SERVER`, else what `scripts/setup_redis.sh`
//! installs (`<target>/adapters/redis/bin/redis-server`, the target folder
//! being the test binary's), else `redis-server` on PATH. Without one a test
//! is skipped, loudly — and fails when `CI` is set.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn find_server() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GAIT_REDIS_SERVER").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    // <target>/<profile>/deps/<test binary>
    if let Some(target) = exe.ancestors().nth(3) {
        let local = target.join("adapters/redis/bin/redis-server");
        if local.is_file() {
            return Some(local);
        }
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("redis-server"))
            .find(|p| p.is_file())
    })
}

/// The server to run, or `None` (skip) when there is none and CI is not set.
pub fn server_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(p) = find_server() {
        return Some(p);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let msg = "no redis-server: run scripts/setup_redis.sh (or set GAIT_REDIS_SERVER)";
    assert!(!ci, "{test}: {msg} (CI is set: this test must run)");
    // Straight to the process's stderr: libtest does not capture it, so the
    // skip shows even when the test passes.
    let _ = writeln!(std::io::stderr(), "\n!!!!! SKIPPED {test}: {msg} !!!!!");
    None
}

/// One command in RESP (binary-safe arguments).
fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// True when the server on `port` answers `PING` (after `AUTH`, given a
/// password).
fn pings(port: u16, password: Option<&str>) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let (mut ask, want): (Vec<u8>, &[u8]) = match password {
        Some(pw) => (resp(&["AUTH", pw]), b"+OK\r\n+PONG\r\n"),
        None => (Vec::new(), b"+PONG\r\n"),
    };
    ask.extend(resp(&["PING"]));
    let mut reply = vec![0u8; want.len()];
    s.write_all(&ask).is_ok() && s.read_exact(&mut reply).is_ok() && reply == want
}

/// A redis-server on a loopback port (a free one, or the one given), without
/// persistence, requiring `password` when one is given; killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn start(bin: &Path, port: Option<u16>, password: Option<&str>) -> Server {
        for _attempt in 0..5 {
            let port = port.unwrap_or_else(|| {
                let l = TcpListener::bind("127.0.0.1:0").unwrap();
                l.local_addr().unwrap().port()
            });
            let dir = tempfile::tempdir().unwrap();
            let mut cmd = Command::new(bin);
            cmd.args(["--bind", "127.0.0.1", "--port"])
                .arg(port.to_string())
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .args(["--loglevel", "warning", "--dir"])
                .arg(dir.path());
            if let Some(pw) = password {
                cmd.args(["--requirepass", pw]);
            }
            let mut child = cmd
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break; // the port was taken meanwhile: try again
                }
                if pings(port, password) {
                    return Server {
                        child,
                        port,
                        _dir: dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server {} did not start", bin.display());
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
