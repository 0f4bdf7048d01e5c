"""The example's MCP server: two file tools over the folder given as its
argument, built with the `mcp` Python SDK (stdio). It trusts its caller
completely — the gate in front of it (`gait-run mcp-proxy`) is what keeps it
inside the workspace."""

from __future__ import annotations

import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer

ROOT = Path(sys.argv[1])
server = MCPServer("workspace-files")


@server.tool()
def write_file(path: str, content: str) -> str:
    """Write a file (relative paths are in the workspace)."""
    target = ROOT / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    return f"wrote {path}"


@server.tool()
def read_file(path: str) -> str:
    """Read a file (relative paths are in the workspace)."""
    return (ROOT / path).read_text()


if __name__ == "__main__":
    server.run()
