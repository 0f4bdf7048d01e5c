"""Sidecar mode: any agent, any language, asks `gait-run serve` over HTTP
before each tool call and runs the call only when the answer is `allow`.

This client uses nothing but the Python standard library (the protocol is
one JSON POST per call), so the same loop ports to any runtime. It starts
the sidecar on a loopback port, and a loopback HTTP server standing for the
agent's own API (the one network endpoint the policy allows); then it asks
for an allowed write, an HTTP call to the agent's API, an HTTP call to the
cloud metadata endpoint, a write through an untrusted skill and one through
an unpinned skill version, and finally one more write after the sidecar
stopped — which fails closed.

    python3 examples/integrations/sidecar/example.py     # gaitc and gait-run from PATH, $GAITC/$GAIT_RUN or target/

The sidecar logs one JSON line per decision to ./gait-out/sidecar/decisions.log.
"""

from __future__ import annotations

import http.client
import http.server
import json
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _bundle import build, gait_run  # noqa: E402

HERE = Path(__file__).resolve().parent
ACME = {"source": "registry", "publisher": "acme", "signature_key_id": "930f5f661b02203c8ce996e4420ee711bdb392fa24dfe1ec9fd277cb2845ad8c"}
PINNED = {"skill_name": "reporting", "skill_version": "2.1.0", "digest": "sha256:9d5ed678fe57bcca610140957afab571d1f3b0ff0c03b0ee2e3d7e1e8ea8ad0f", **ACME}


class OwnApi(http.server.BaseHTTPRequestHandler):
    """The agent's own API on loopback: what the allowed http_get reaches."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"status": "green"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


files: Dict[str, str] = {}
fetched: list[str] = []


def write_file(path: str, content: str) -> str:
    files[path] = content
    return f"wrote {path}"


def http_get(url: str) -> str:
    # No proxy from the environment: the agent talks to its own API directly.
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=5) as r:
        fetched.append(url)
        return r.read().decode()


TOOLS = {"write_file": write_file, "http_get": http_get}


def decide(sidecar: str, intent: Dict[str, Any]) -> Tuple[Optional[Dict[str, Any]], str]:
    """(the gate result, or None when there is no decision; why)."""
    host, port = sidecar.rsplit(":", 1)
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.request("POST", "/v1/eval", body=json.dumps(intent), headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        body = json.loads(resp.read())
        conn.close()
    except (OSError, ValueError) as e:
        return None, f"gate unavailable ({type(e).__name__})"
    if not isinstance(body, dict) or body.get("schema_id") != "gait.gate.result":
        return None, f"not a gate result (HTTP {resp.status})"
    return body, f"verdict={body['verdict']} reasons={', '.join(body['reason_codes']) or 'none'}"


def call(sidecar: str, tool: str, args: Dict[str, Any], skill: Optional[Dict[str, Any]] = None) -> None:
    """The whole contract: build the intent, ask, run only on allow."""
    intent: Dict[str, Any] = {"tool_name": tool, "args": args, "context": {"identity": "sidecar-example", "workspace": "/workspace", "risk_class": "high"}}
    if skill is not None:
        intent["skill_provenance"] = skill
    result, why = decide(sidecar, intent)
    if result is not None and result["verdict"] == "allow":
        print(f"{tool} {json.dumps(args)}: {why} -> {TOOLS[tool](**args)}")
    else:
        print(f"{tool} {json.dumps(args)}: not run: {why}")


def main() -> None:
    bundle, trust = build(HERE / "policy.gaitpol")
    api = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OwnApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    api_url = f"http://127.0.0.1:{api.server_address[1]}/health"
    log = Path("gait-out") / "sidecar" / "decisions.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [gait_run(), "serve", "--bundle", str(bundle), "--trust", str(trust), "--listen", "127.0.0.1:0", "--log", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        sidecar = json.loads(proc.stdout.readline())["listening"]
        call(sidecar, "write_file", {"path": "/workspace/report.md", "content": "weekly report"}, PINNED)
        call(sidecar, "http_get", {"url": api_url})
        call(sidecar, "http_get", {"url": "http://169.254.169.254/latest/meta-data/iam/"})
        call(sidecar, "write_file", {"path": "/workspace/report.md", "content": "x"}, {**PINNED, "publisher": "globex"})
        call(sidecar, "write_file", {"path": "/workspace/report.md", "content": "x"}, {**PINNED, "skill_version": "2.2.0"})
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        api.shutdown()
    # The sidecar is gone: no decision, nothing runs.
    call(sidecar, "write_file", {"path": "/workspace/after.md", "content": "x"})
    print(f"files written: {sorted(files)}")
    print(f"fetched: {[u.rsplit('/', 1)[-1] for u in fetched]}")
    decisions = [e for e in map(json.loads, log.read_text().splitlines()) if e.get("event") == "decision"]
    print(f"decisions logged: {len(decisions)} in {log}")


if __name__ == "__main__":
    main()
