"""The mcp-proxy's interactive approval against real peers: the `mcp` Python
SDK as the client (with and without an elicitation callback), the real
`@modelcontextprotocol/server-filesystem` as the server, `gait-run mcp-proxy`
between them, gated by tests/mcp/approval.gaitpol (writes inside the
workspace need one approval, which may be given interactively; moves need
two, which one interactive answer cannot give). Every decision line of the
proxy's log is checked against schemas/v1/serve_log.schema.json.

Run by scripts/test_mcp_proxy.sh, which builds the bundle; it passes the
locations in the environment: GAIT_RUN, GAIT_APPROVAL_BUNDLE, GAIT_TRUST,
MCP_FS_SERVER.
"""

import asyncio
import json
import os
import shutil
import sys
import tempfile
import unittest

import jsonschema
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client

WS = "/tmp/gait-mcp-ws"
OUTSIDE = "/tmp/gait-mcp-outside.txt"
CLIENT = "gait-elicitation-test"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "schemas", "v1", "serve_log.schema.json")) as f:
    LOG_SCHEMA = jsonschema.Draft202012Validator(json.load(f))


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"test_elicitation.py: {name} is not set (run scripts/test_mcp_proxy.sh)")
    return value


GAIT_RUN = env("GAIT_RUN")
BUNDLE = env("GAIT_APPROVAL_BUNDLE")
TRUST = env("GAIT_TRUST")
SERVER = env("MCP_FS_SERVER")


def text_of(result):
    return "".join(c.text for c in result.content if c.type == "text")


class InteractiveApproval(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        shutil.rmtree(WS, ignore_errors=True)
        os.makedirs(WS)
        with open(os.path.join(WS, "hello.txt"), "w") as f:
            f.write("hello\n")
        if os.path.exists(OUTSIDE):
            os.remove(OUTSIDE)
        self.tmp = tempfile.mkdtemp()
        self.log = os.path.join(self.tmp, "decisions.log")
        self.asked = []

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def params(self, timeout_secs=60):
        return StdioServerParameters(command=GAIT_RUN, args=[
            "mcp-proxy", "--bundle", BUNDLE, "--trust", TRUST,
            "--identity", "mcp-test", "--risk", "low", "--workspace", WS,
            "--log", self.log, "--elicitation-timeout-secs", str(timeout_secs),
            "--", SERVER, WS,
        ])

    def answering(self, result, delay=0.0):
        """An elicitation callback that records what it is asked and answers."""
        async def callback(context, params):
            self.asked.append(params)
            if delay:
                await asyncio.sleep(delay)
            return result
        return callback

    async def call(self, tool, args, callback=None, timeout_secs=60):
        async with stdio_client(self.params(timeout_secs)) as (read, write):
            async with ClientSession(
                read, write, elicitation_callback=callback,
                client_info=types.Implementation(name=CLIENT, version="1"),
            ) as session:
                await session.initialize()
                return await session.call_tool(tool, args)

    def decisions(self):
        # The proxy has exited: its log is complete. Every line of it is a
        # valid gait.serve.log line.
        with open(self.log) as f:
            lines = [json.loads(line) for line in f]
        for line in lines:
            errors = [e.message for e in LOG_SCHEMA.iter_errors(line)]
            self.assertEqual(errors, [], line)
        return [line for line in lines if line["event"] == "decision"]

    def assert_not_run(self, result, path, tool="write_file", reason="write_needs_approval"):
        self.assertTrue(result.isError, text_of(result))
        self.assertIn(f"gait: blocked tools/call `{tool}`: verdict require_approval", text_of(result))
        self.assertEqual(result.structuredContent["verdict"], "require_approval")
        self.assertEqual(result.structuredContent["reason_codes"], [reason])
        # The server never saw the call: it would have written the file.
        self.assertFalse(os.path.exists(path))

    async def test_the_target_is_shown_before_arguments_that_would_hide_it(self):
        # A long `content` before `path`: the arguments are cut before the
        # path, but the approver reads the target the gate judged first.
        target = os.path.join(WS, "hidden.txt")
        decline = types.ElicitResult(action="decline")
        await self.call("write_file", {"content": "# notes\n" * 400, "path": target},
                        self.answering(decline))
        message = self.asked[0].message
        self.assertIn(f"Targets: path {target} (fs.write)\n", message)
        self.assertLess(message.index(target), message.index("Arguments:"))
        self.assertFalse(os.path.exists(target))

    async def test_accept_runs_the_call_on_the_server(self):
        target = os.path.join(WS, "approved.txt")
        accept = types.ElicitResult(action="accept", content={"approve": True})
        result = await self.call("write_file", {"path": target, "content": "approved"},
                                 self.answering(accept))
        self.assertFalse(result.isError, text_of(result))
        with open(target) as f:
            self.assertEqual(f.read(), "approved")
        self.assertEqual(len(self.asked), 1)
        message = self.asked[0].message
        self.assertIn("tools/call `write_file`", message)
        self.assertIn(f"Targets: path {target} (fs.write)\n", message)
        self.assertIn("Endpoint classes: fs.write", message)
        self.assertIn("Rules: workspace_writes", message)
        self.assertIn("Reasons: write_needs_approval", message)
        self.assertIn("Skill provenance: none", message)
        self.assertEqual(self.asked[0].requestedSchema["required"], ["approve"])
        first, final = self.decisions()
        self.assertEqual((first["verdict"], first["elicitation"], first["forwarded"]),
                         ("require_approval", "requested", False))
        self.assertEqual((final["verdict"], final["elicitation"], final["forwarded"]),
                         ("allow", "accept", True))
        self.assertEqual(final["approver"], f"interactive:{CLIENT}")
        self.assertEqual(final["reason_codes"], ["approval_granted", "write_needs_approval"])
        self.assertEqual(first["reason_codes"], ["write_needs_approval"])
        self.assertEqual(final["elicitation_id"], first["elicitation_id"])
        self.assertRegex(first["elicitation_id"], r"^gait-elicit-[0-9a-f]{32}-1$")
        self.assertNotIn("elicitation_ms", first)
        self.assertIsInstance(final["elicitation_ms"], int)
        # The gate's approval step, as in the sidecar's log: granted by the
        # one interactive approver, no token.
        self.assertEqual(final["approval"], {
            "granted": True, "code": "approval_granted",
            "approvers": [f"interactive:{CLIENT}"], "tokens": []})
        self.assertNotIn("approval", first)

    async def test_decline_answers_is_error_and_the_server_never_sees_the_call(self):
        target = os.path.join(WS, "declined.txt")
        result = await self.call("write_file", {"path": target, "content": "x"},
                                 self.answering(types.ElicitResult(action="decline")))
        self.assert_not_run(result, target)
        self.assertEqual(len(self.asked), 1)
        final = self.decisions()[-1]
        self.assertEqual((final["elicitation"], final["forwarded"], final["approver"]),
                         ("decline", False, None))

    async def test_cancel_and_an_accept_without_approve_are_not_approvals(self):
        for answer, action in [
            (types.ElicitResult(action="cancel"), "cancel"),
            (types.ElicitResult(action="accept", content={"approve": False}), "decline"),
        ]:
            target = os.path.join(WS, f"{action}.txt")
            result = await self.call("write_file", {"path": target, "content": "x"},
                                     self.answering(answer))
            self.assert_not_run(result, target)
            self.assertEqual(self.decisions()[-1]["elicitation"], action)

    async def test_no_answer_in_time_is_not_an_approval(self):
        target = os.path.join(WS, "late.txt")
        accept = types.ElicitResult(action="accept", content={"approve": True})
        result = await self.call("write_file", {"path": target, "content": "x"},
                                 self.answering(accept, delay=5), timeout_secs=1)
        self.assert_not_run(result, target)
        self.assertEqual(self.decisions()[-1]["elicitation"], "timeout")

    async def test_a_client_without_the_capability_is_answered_as_before(self):
        target = os.path.join(WS, "unasked.txt")
        result = await self.call("write_file", {"path": target, "content": "x"})
        self.assert_not_run(result, target)
        self.assertEqual(self.decisions()[-1]["elicitation"], "no_capability")

    async def test_a_rule_needing_two_approvals_is_never_asked_about(self):
        # workspace_moves is `approvals 2 interactive`: one interactive
        # answer is one approver and cannot grant, so the proxy does not ask
        # and answers the isError it answers without interactive approval.
        source = os.path.join(WS, "hello.txt")
        target = os.path.join(WS, "moved.txt")
        accept = types.ElicitResult(action="accept", content={"approve": True})
        result = await self.call("move_file", {"source": source, "destination": target},
                                 self.answering(accept))
        self.assert_not_run(result, target, "move_file", "move_needs_two_approvals")
        self.assertIn("approvals required: 2", text_of(result))
        self.assertEqual(result.structuredContent["required_approvals"], 2)
        self.assertTrue(os.path.exists(source))
        self.assertEqual(self.asked, [])
        (only,) = self.decisions()
        self.assertEqual((only["tool_name"], only["verdict"], only["forwarded"]),
                         ("move_file", "require_approval", False))
        self.assertEqual(only["reason_codes"], ["move_needs_two_approvals"])
        for field in ("elicitation", "elicitation_id", "elicitation_ms", "approver"):
            self.assertNotIn(field, only)
        # The same answer a client without the capability gets.
        plain = await self.call("move_file", {"source": source, "destination": target})
        self.assertEqual(text_of(plain), text_of(result))
        self.assertEqual(plain.structuredContent, result.structuredContent)

    async def test_allowed_and_blocked_calls_are_never_asked_about(self):
        accept = types.ElicitResult(action="accept", content={"approve": True})
        read = await self.call("read_text_file", {"path": os.path.join(WS, "hello.txt")},
                               self.answering(accept))
        self.assertFalse(read.isError, text_of(read))
        self.assertEqual(text_of(read), "hello\n")
        blocked = await self.call("write_file", {"path": OUTSIDE, "content": "x"},
                                  self.answering(accept))
        self.assertTrue(blocked.isError)
        self.assertEqual(blocked.structuredContent["verdict"], "block")
        self.assertFalse(os.path.exists(OUTSIDE))
        self.assertEqual(self.asked, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
