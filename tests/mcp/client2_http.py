"""The current generation of the official Python SDK (PyPI `mcp` 2.x) as a
client of agentwatch's /mcp, in its default mode: it probes
`server/discover` and speaks whatever the server answers. Named "codex".
Creates a session, lists them and, given another agent's session, tries
to complete it. Prints the protocol it spoke and what it got, as JSON.

    python client2_http.py <url> <token> [other session id]
"""
import asyncio
import json
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Implementation


async def main(url, token, other=None):
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, client_info=Implementation(name="codex", version="0.171.0")) as c:
            out = {"protocol": c.session.protocol_version}
            tools = await c.list_tools()
            out["tools"] = sorted(t.name for t in tools.tools)
            r = await c.call_tool("create_session", {"name": "mcp2 work", "projectName": "/home/u/mcp2"})
            out["created"] = json.loads(r.content[0].text)
            r = await c.call_tool("list_sessions", {})
            out["isError"] = r.is_error
            out["listed"] = json.loads(r.content[0].text)
            if other:
                # Another agent's session: refused.
                r = await c.call_tool("update_session", {"sessionId": other, "state": "complete"})
                out["other"] = {"isError": r.is_error, "text": r.content[0].text}
    print(json.dumps(out))


asyncio.run(main(*sys.argv[1:4]))
