"""A minimal stdio MCP server for bench/proxy-latency: answers every JSON-RPC
request at once (initialize, tools/list, tools/call), ignores notifications.
Standard library only; one line in, one line out, flushed."""
import json
import sys

out = sys.stdout.buffer
TOOL_RESULT = {"content": [{"type": "text", "text": "ok"}], "isError": False}
for line in sys.stdin.buffer:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if not isinstance(msg, dict) or "id" not in msg or "method" not in msg:
        continue
    method = msg["method"]
    if method == "initialize":
        result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                  "serverInfo": {"name": "bench-echo", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": [{"name": "echo", "description": "echo", "inputSchema": {"type": "object"}}]}
    elif method == "tools/call":
        result = TOOL_RESULT
    else:
        result = {}
    out.write(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}, separators=(",", ":")).encode() + b"\n")
    out.flush()
