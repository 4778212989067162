#!/usr/bin/env python3
"""A real MCP client for agentwatch's MCP server (tests/cli/mcp.rs).

Connects with the official Python SDK's Streamable HTTP client (bearer token
in the Authorization header), lists the tools, calls every tool, good
arguments and bad, and prints one JSON line: a summary the Rust tests assert
on. With --pause, it prints the summary while still connected and waits for
a line on stdin before it closes the session (the SDK ends it with an HTTP
DELETE), so the test can look at the live session first.

    client.py --url http://127.0.0.1:PORT/mcp --token TOKEN [--scenario main|stale|noauth] [--pause]
    client.py ... --scenario beat --session-id ID     # one heartbeat for a session
"""

import argparse
import json
import sys
from typing import Any

import anyio
import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Implementation


def result_json(r) -> dict[str, Any]:
    """A CallToolResult as plain JSON: isError, the text, the structured content."""
    text = "".join(c.text for c in r.content if getattr(c, "type", None) == "text")
    return {"isError": bool(r.isError), "text": text, "structured": r.structuredContent}


class Recorder:
    """Calls tools and keeps every result under a label."""

    def __init__(self, session: ClientSession):
        self.session = session
        self.calls: dict[str, Any] = {}
        self.order: list[dict[str, Any]] = []

    async def call(self, label: str, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        r = result_json(await self.session.call_tool(tool, args))
        r["tool"] = tool
        self.calls[label] = r
        self.order.append({"label": label, "tool": tool, "isError": r["isError"]})
        return r


def sid(r: dict[str, Any]) -> str:
    assert not r["isError"], r
    return r["structured"]["sessionId"]


async def main_scenario(rec: Recorder) -> None:
    # Sessions in every state, with every field.
    alpha = sid(await rec.call("create_alpha", "create_session", {
        "name": "alpha build", "programId": "builder", "progress": 10,
        "projectName": "/home/u/app", "status": "starting"}))
    await rec.call("update_alpha", "update_session", {
        "sessionId": alpha, "status": "compiling", "progress": 40, "lastHeartbeat": True,
        "contextBytes": 120000, "handoffRequired": False})
    await rec.call("create_beta", "create_session", {"name": "beta review", "sessionId": "reviewer.beta-1"})
    await rec.call("block_beta", "update_session", {
        "sessionId": "reviewer.beta-1", "state": "blocked", "status": "waiting for approval"})
    gamma = sid(await rec.call("create_gamma", "create_session", {
        "name": "gamma docs", "programId": "writer", "state": "working", "progress": 0}))
    await rec.call("complete_gamma", "update_session", {
        "sessionId": gamma, "state": "complete", "progress": 100, "status": "done"})
    await rec.call("upsert_alpha", "create_session", {
        "sessionId": alpha, "name": "alpha build (renamed)", "progress": 45, "unknownArg": 1})
    await rec.call("create_pinned", "create_session", {"name": "pinned notes", "state": "pinned", "programId": "writer"})

    # Reading.
    await rec.call("list_default", "list_sessions", {})
    await rec.call("list_blocked", "list_sessions", {"state": "blocked"})
    await rec.call("list_complete", "list_sessions", {"state": "complete"})
    await rec.call("list_working", "list_sessions", {"state": "working", "limit": 50})
    await rec.call("list_program", "list_sessions", {"programId": "writer"})
    await rec.call("list_program_all", "list_sessions", {"programId": "writer", "includeArchived": True})
    await rec.call("list_limit", "list_sessions", {"limit": 1})
    await rec.call("fleet", "get_fleet_health", {})
    await rec.call("costs", "get_cost_summary", {})
    await rec.call("costs_7d", "get_cost_summary", {"range": "7d"})
    await rec.call("limits", "get_limits", {})

    # Bad arguments: tool errors, and the server keeps working.
    await rec.call("err_state", "create_session", {"name": "x", "state": "sleeping"})
    await rec.call("err_missing_name", "create_session", {"progress": 5})
    await rec.call("err_progress", "update_session", {"sessionId": alpha, "progress": 150})
    await rec.call("err_progress_type", "update_session", {"sessionId": alpha, "progress": "50"})
    await rec.call("err_heartbeat_type", "update_session", {"sessionId": alpha, "lastHeartbeat": "yes"})
    await rec.call("err_unknown_session", "update_session", {"sessionId": "no-such-session", "status": "x"})
    await rec.call("err_limit", "list_sessions", {"limit": 0})
    await rec.call("err_limit_high", "list_sessions", {"limit": 51})
    await rec.call("err_list_state", "list_sessions", {"state": "idle"})
    await rec.call("err_range", "get_cost_summary", {"range": "fortnight"})
    await rec.call("err_unknown_tool", "delete_everything", {})
    await rec.call("after_errors", "list_sessions", {"limit": 50})


async def stale_scenario(rec: Recorder) -> None:
    s = sid(await rec.call("create", "create_session", {"name": "heartbeat then silence", "programId": "quiet"}))
    await rec.call("beat", "update_session", {"sessionId": s, "lastHeartbeat": True, "progress": 5})


async def beat_scenario(rec: Recorder, session_id: str) -> None:
    await rec.call("beat", "update_session", {"sessionId": session_id, "lastHeartbeat": True, "status": "back"})


async def run(args: argparse.Namespace) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    info = Implementation(name=args.client_name, title=args.client_title, version="1.2.3")
    summary: dict[str, Any] = {}
    async with httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30, read=300)) as http:
        async with streamable_http_client(args.url, http_client=http) as (read, write, get_session_id):
            async with ClientSession(read, write, client_info=info) as session:
                init = await session.initialize()
                summary["protocolVersion"] = init.protocolVersion
                summary["serverInfo"] = init.serverInfo.model_dump(exclude_none=True)
                summary["instructions"] = init.instructions
                summary["mcpSessionId"] = get_session_id()
                tools = await session.list_tools()
                summary["tools"] = [t.name for t in tools.tools]
                summary["schemas"] = {t.name: t.inputSchema for t in tools.tools}
                rec = Recorder(session)
                if args.scenario == "main":
                    await main_scenario(rec)
                elif args.scenario == "beat":
                    await beat_scenario(rec, args.session_id)
                else:
                    await stale_scenario(rec)
                summary["calls"] = rec.calls
                summary["order"] = rec.order
                if args.pause:
                    print(json.dumps(summary), flush=True)
                    await anyio.to_thread.run_sync(sys.stdin.readline)
    return summary


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True)
    p.add_argument("--token", default="")
    p.add_argument("--scenario", choices=["main", "stale", "beat", "noauth"], default="main")
    p.add_argument("--session-id", help="the session the beat scenario sends a heartbeat for")
    p.add_argument("--client-name", default="cursor-vscode")
    p.add_argument("--client-title", default=None)
    p.add_argument("--pause", action="store_true", help="print the summary, then wait for a line on stdin before closing")
    args = p.parse_args()
    if args.scenario == "noauth":
        args.token = ""
    try:
        summary = anyio.run(run, args)
    except BaseException as e:  # noqa: BLE001 - report anything as JSON
        # An exception group (anyio task groups) wraps the real cause.
        while isinstance(e, BaseExceptionGroup) and len(e.exceptions) == 1:
            e = e.exceptions[0]
        status = e.response.status_code if isinstance(e, httpx.HTTPStatusError) else None
        print(json.dumps({"error": f"{type(e).__name__}: {e}", "httpStatus": status}), flush=True)
        return 1
    if not args.pause:
        print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
