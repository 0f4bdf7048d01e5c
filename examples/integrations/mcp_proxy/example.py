"""MCP proxy mode: `gait-run mcp-proxy` between an MCP client and the MCP
server it spawns; every `tools/call` is decided before the server sees it.

The client is the `mcp` Python SDK's `ClientSession`; the server is
server.py beside this file (the same SDK's `MCPServer`), started by the
proxy in a fresh workspace folder. The client writes a file (allowed), reads
the workspace's `.env` (blocked: a secret) and writes next to the workspace
(blocked); the blocked calls never reach the server, and the client gets
the refusal as a tool error with the gate's result.

    pip install "mcp==2.3.0"        # or scripts/setup_adapters.sh, whose venv has it
    python examples/integrations/mcp_proxy/example.py

Skill provenance: the proxy decides calls as the client sends them, with
the context given by its flags (`--identity`, `--risk`, `--workspace`); MCP
carries no skill provenance, so a policy's `skill` rules never match here.
Gate skills where the agent knows which skill calls (in process, or the
sidecar: examples/integrations/sidecar).

The proxy logs one JSON line per decided call to ./gait-out/mcp_proxy/decisions.log.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

from _bundle import build, gait_run  # noqa: E402

HERE = Path(__file__).resolve().parent


def text_of(result: object) -> str:
    return "".join(getattr(c, "text", "") for c in getattr(result, "content", []))


async def main() -> None:
    bundle, trust = build(HERE / "policy.gaitpol")
    top = Path(tempfile.mkdtemp(prefix="gait-mcp-example-"))
    try:
        ws = top / "gait-mcp-example-ws"
        ws.mkdir()
        (ws / ".env").write_text("API_KEY=not-for-the-agent\n")
        log = Path("gait-out") / "mcp_proxy" / "decisions.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        # In a client's configuration, this command line replaces the server's.
        params = StdioServerParameters(
            command=gait_run(),
            args=["mcp-proxy", "--bundle", str(bundle), "--trust", str(trust),
                  "--identity", "mcp-example", "--risk", "high", "--workspace", str(ws),
                  "--log", str(log.resolve()),
                  "--", sys.executable, str(HERE / "server.py"), str(ws)],
        )
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                print(f"tools: {sorted(t.name for t in tools.tools)}")
                for name, args in (
                    ("write_file", {"path": "notes.md", "content": "from the agent"}),
                    ("read_file", {"path": ".env"}),
                    ("write_file", {"path": "../outside.md", "content": "x"}),
                ):
                    result = await session.call_tool(name, args)
                    print(f"{name} {json.dumps(args)}: is_error={result.is_error} {text_of(result)}")
        written = sorted(p.relative_to(top).as_posix() for p in top.rglob("*") if p.is_file())
        print(f"files: {written}")
        decisions = [e for e in map(json.loads, log.read_text().splitlines()) if e.get("event") == "decision"]
        print(f"decisions logged: {len(decisions)} in {log}")
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
