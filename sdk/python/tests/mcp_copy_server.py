"""A real MCP stdio server (the ``mcp`` SDK's server class) for the OpenAI
Agents tests: ``copy_file(src, dst="/etc/gait-mcp-default.txt")``, whose
left-out ``dst`` the server fills in from its own default. Each call it
runs is appended to the file named by ``GAIT_MCP_RAN``."""

from __future__ import annotations

import os

try:
    from mcp.server.mcpserver import MCPServer
except ImportError:  # pragma: no cover - mcp 1.x names it FastMCP
    from mcp.server.fastmcp import FastMCP as MCPServer

server = MCPServer("files")


@server.tool()
def copy_file(src: str, dst: str = "/etc/gait-mcp-default.txt") -> str:
    """Copy a file."""
    with open(os.environ["GAIT_MCP_RAN"], "a", encoding="utf-8") as f:
        f.write(f"{src} -> {dst}\n")
    return f"copied {src} -> {dst}"


if __name__ == "__main__":
    server.run()
