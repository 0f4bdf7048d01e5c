"""The mcp-proxy against real peers: the `mcp` Python SDK as the client, the
real `@modelcontextprotocol/server-filesystem` as the server, `gait-run
mcp-proxy` between them, gated by tests/mcp/policy.gaitpol.

Run by scripts/test_mcp_proxy.sh, which installs the peers and builds the
bundle; it passes their locations in the environment:
GAIT_RUN, GAIT_BUNDLE, GAIT_TRUST, MCP_FS_SERVER.
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

WS = "/tmp/gait-mcp-ws"
OUTSIDE = "/tmp/gait-mcp-outside.txt"
SECRET = "/tmp/gait-mcp-secret.txt"
HELLO = "hello from the workspace\nsecond line\n"


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"test_proxy.py: {name} is not set (run scripts/test_mcp_proxy.sh)")
    return value


GAIT_RUN = env("GAIT_RUN")
BUNDLE = env("GAIT_BUNDLE")
TRUST = env("GAIT_TRUST")
SERVER = env("MCP_FS_SERVER")


def proxy_argv():
    return [
        "mcp-proxy", "--bundle", BUNDLE, "--trust", TRUST,
        "--identity", "mcp-test", "--risk", "low", "--workspace", WS,
        "--", SERVER, WS,
    ]


def proxied():
    return StdioServerParameters(command=GAIT_RUN, args=proxy_argv())


def direct():
    return StdioServerParameters(command=SERVER, args=[WS])


def text_of(result):
    return "".join(c.text for c in result.content if c.type == "text")


class ProxyWithRealPeers(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        shutil.rmtree(WS, ignore_errors=True)
        os.makedirs(WS)
        with open(os.path.join(WS, "hello.txt"), "w") as f:
            f.write(HELLO)
        for p in (OUTSIDE, SECRET):
            if os.path.exists(p):
                os.remove(p)
        with open(SECRET, "w") as f:
            f.write("not for agents\n")

    async def call(self, params, tool, args):
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await session.call_tool(tool, args)

    async def tools(self, params):
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                listed = await session.list_tools()
                return init, [t.model_dump() for t in listed.tools]

    async def test_list_tools_passes_through_unchanged(self):
        init_p, via_proxy = await self.tools(proxied())
        init_d, straight = await self.tools(direct())
        self.assertEqual(init_p.serverInfo.name, init_d.serverInfo.name)
        self.assertEqual(via_proxy, straight)
        names = {t["name"] for t in via_proxy}
        self.assertTrue({"read_text_file", "write_file", "move_file", "read_multiple_files"} <= names)

    async def test_read_inside_the_workspace_is_allowed(self):
        result = await self.call(proxied(), "read_text_file", {"path": os.path.join(WS, "hello.txt")})
        self.assertFalse(result.isError)
        self.assertEqual(text_of(result), HELLO)

    async def test_relative_read_is_joined_to_the_workspace(self):
        # The gate joins it to --workspace, and the proxy starts the server in
        # that directory: both read it as the same file.
        result = await self.call(proxied(), "read_text_file", {"path": "hello.txt"})
        self.assertFalse(result.isError, text_of(result))
        self.assertEqual(text_of(result), HELLO)

    async def test_write_outside_the_workspace_is_blocked(self):
        result = await self.call(proxied(), "write_file", {"path": OUTSIDE, "content": "pwned"})
        self.assertTrue(result.isError)
        text = text_of(result)
        self.assertIn("gait: blocked tools/call `write_file`", text)
        self.assertIn("verdict block", text)
        self.assertIn("path_outside_workspace", text)
        gate = result.structuredContent
        self.assertEqual(gate["schema_id"], "gait.gate.result")
        self.assertEqual(gate["verdict"], "block")
        self.assertEqual(gate["reason_codes"], ["path_outside_workspace"])
        self.assertEqual(gate["endpoint_classes"], ["fs.write"])
        self.assertFalse(os.path.exists(OUTSIDE))

    async def test_traversal_is_blocked(self):
        path = WS + "/../gait-mcp-secret.txt"
        result = await self.call(proxied(), "read_text_file", {"path": path})
        self.assertTrue(result.isError)
        self.assertEqual(result.structuredContent["verdict"], "block")
        self.assertEqual(result.structuredContent["reason_codes"], ["path_outside_workspace"])
        self.assertNotIn("not for agents", text_of(result))

    async def test_backslashes_are_judged_where_the_kernel_creates(self):
        # To Linux `\` is a byte of a name: this is a directory under /tmp/rt,
        # outside the workspace, although `\` read as `/` lands inside it.
        path = "/tmp/rt/q\\..\\..\\..\\tmp\\gait-mcp-ws\\evil"
        shutil.rmtree("/tmp/rt", ignore_errors=True)
        result = await self.call(proxied(), "create_directory", {"path": path})
        self.assertTrue(result.isError)
        self.assertEqual(result.structuredContent["verdict"], "block")
        self.assertFalse(os.path.exists("/tmp/rt"))
        self.assertFalse(os.path.exists(os.path.join(WS, "evil")))

    async def test_write_inside_the_workspace_reaches_the_server(self):
        target = os.path.join(WS, "out.txt")
        result = await self.call(proxied(), "write_file", {"path": target, "content": "written"})
        self.assertFalse(result.isError, text_of(result))
        with open(target) as f:
            self.assertEqual(f.read(), "written")

    async def test_move_out_of_the_workspace_is_blocked(self):
        result = await self.call(proxied(), "move_file",
                                 {"source": os.path.join(WS, "hello.txt"), "destination": OUTSIDE})
        self.assertTrue(result.isError)
        self.assertTrue(os.path.exists(os.path.join(WS, "hello.txt")))
        self.assertFalse(os.path.exists(OUTSIDE))


class ProxyRawStdio(unittest.TestCase):
    """Speaks newline-delimited JSON-RPC to the proxy directly."""

    def setUp(self):
        os.makedirs(WS, exist_ok=True)
        self.proc = subprocess.Popen([GAIT_RUN] + proxy_argv(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=20)
        self.proc.stdout.close()

    def send(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def receive(self):
        return json.loads(self.proc.stdout.readline())

    def test_unparseable_line_gets_a_parse_error_and_the_proxy_keeps_working(self):
        self.send("this is not json {")
        err = self.receive()
        self.assertEqual(err["jsonrpc"], "2.0")
        self.assertIsNone(err["id"])
        self.assertEqual(err["error"]["code"], -32700)
        self.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"}}}))
        init = self.receive()
        self.assertEqual(init["id"], 1)
        self.assertEqual(init["result"]["serverInfo"]["name"], "secure-filesystem-server")

    def test_client_closing_stdin_ends_server_and_proxy_with_its_status(self):
        self.proc.stdin.close()
        self.assertEqual(self.proc.wait(timeout=20), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
