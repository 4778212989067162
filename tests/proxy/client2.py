"""A real MCP client of the current SDK generation (PyPI `mcp` 2.x, protocol
2026-07-28) over stdio: it probes `server/discover` and names itself in
every request's `_meta`, with no `initialize`. Calls the test server's
tools and prints what it got back, and the protocol it spoke, as JSON.

    python client2.py <server command> [args...]
"""
import asyncio
import json
import os
import sys

from mcp import Client, StdioServerParameters
from mcp.types import Implementation


async def main(cmd):
    params = StdioServerParameters(command=cmd[0], args=cmd[1:], env=dict(os.environ))
    out = {}
    async with Client(params, client_info=Implementation(name="claude-code", version="2.1.197")) as client:
        out["protocol"] = client.session.protocol_version
        tools = await client.list_tools()
        out["tools"] = sorted(t.name for t in tools.tools)
        calls = []
        for name, args in [("echo", {"text": "héllo ✓"}), ("add", {"a": 2, "b": 40}), ("fail", {"reason": "test"})]:
            r = await client.call_tool(name, args)
            calls.append({"tool": name, "isError": r.is_error, "content": [c.text for c in r.content if hasattr(c, "text")]})
        out["calls"] = calls
    print(json.dumps(out, ensure_ascii=False, sort_keys=True))


asyncio.run(main(sys.argv[1:]))
