"""A real MCP client (stdio) that calls the test server's tools and prints
what it got back, as JSON, so runs with and without the proxy can be compared.

    python client.py <server command> [args...]
"""
import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main(cmd):
    # Pass our environment on (the SDK's default is a minimal one), as agents do.
    params = StdioServerParameters(command=cmd[0], args=cmd[1:], env=dict(os.environ))
    out = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["server"] = init.serverInfo.name
            tools = await session.list_tools()
            out["tools"] = sorted(t.name for t in tools.tools)
            calls = []
            for name, args in [("echo", {"text": "héllo ✓ \"quoted\"\nline two"}), ("add", {"a": 2, "b": 40}), ("fail", {"reason": "test"})]:
                r = await session.call_tool(name, args)
                calls.append({"tool": name, "isError": r.isError, "content": [c.text for c in r.content if hasattr(c, "text")]})
            out["calls"] = calls
    print(json.dumps(out, ensure_ascii=False, sort_keys=True))


asyncio.run(main(sys.argv[1:]))
