#!/usr/bin/env python3
"""A loopback stand-in for the model APIs the real agent CLIs call, so that
tests/agents can drive Claude Code, Codex and Gemini CLI offline.

    python3 model_stub.py --port-file FILE [--log FILE] [--slow SECONDS] [--long SECONDS] [--after-tool SECONDS]

One server (127.0.0.1, a random port written to --port-file) answers:

- the Anthropic Messages API: POST /v1/messages (SSE or JSON), with a
  `request-id` header and usage that splits cache writes into 5m and 1h;
- the OpenAI Responses API: POST /v1/responses (SSE ending in
  `response.completed` with usage), with the `x-codex-*` plan-window headers
  of a ChatGPT subscription;
- Gemini: POST /v1beta/models/<model>:generateContent and
  :streamGenerateContent?alt=sse (with usageMetadata), including the JSON its
  model router asks a small model for;
- OpenAI chat completions: POST /v1/chat/completions (SSE chunks, tool
  calls, a final usage chunk, [DONE]), for OpenCode's openai-compatible
  provider, Qwen Code, Copilot CLI, pi and Cline.

What a reply does depends on the last prompt a person typed:

    AW_TOOL   a shell tool call that the agent asks permission for
    AW_ASK    the agent's question tool (Claude's AskUserQuestion, Codex's
              request_user_input in Plan mode, Gemini's ask_user)
    AW_SLOW   text streamed over --slow seconds
    AW_LONG   text streamed over --long seconds: a turn that outlasts
              starting a second agent beside it, under any load
    anything  a short text

After a tool result the final text is streamed over --after-tool seconds, so
that "working again after approval" can be seen. Side requests (titles, the
Gemini router) get JSON that fits their schema. Standard library only.
"""

import argparse
import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()

# Writes a file, so every agent asks before running it (a plain `echo` is
# read-only: Claude Code and Gemini CLI would run it unasked).
TOOL_COMMAND = "echo aw-tool-ran | tee aw-tool-ran.txt"
QUESTION = "Which colour should the marker be?"


def log(entry):
    if not ARGS.log:
        return
    entry = {"t": round(time.time(), 3), **entry}
    with LOCK, open(ARGS.log, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def rid(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def marker(text):
    for m in ("AW_TOOL", "AW_ASK", "AW_SLOW", "AW_LONG"):
        if m in text:
            return m
    return None


def chunks(text, n):
    size = max(1, len(text) // max(1, n))
    return [text[i:i + size] for i in range(0, len(text), size)]


def slow_seconds(m):
    """How long a slow reply streams, or None for a marker that is not slow."""
    return {"AW_SLOW": ARGS.slow, "AW_LONG": ARGS.long}.get(m)


def slow_text():
    return " ".join(f"slow-{i}" for i in range(40)) + "."


def fill(schema, key=None):
    """A value that fits a JSON schema (titles, the Gemini router's score)."""
    t = (schema.get("type") or "").lower()
    if t == "object":
        return {k: fill(v, k) for k, v in (schema.get("properties") or {}).items()}
    if t == "array":
        return []
    if t == "boolean":
        return False
    if t in ("integer", "number"):
        return 10
    if schema.get("enum"):
        return schema["enum"][0]
    known = {"model_choice": "flash", "next_speaker": "user", "title": "Stub session title"}
    return known.get(key, "stub")


# ----------------------------------------------------------------- Anthropic

def anthropic_usage(output):
    return {
        "input_tokens": 12,
        "cache_creation_input_tokens": 1500,
        "cache_read_input_tokens": 3000,
        "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 500},
        "output_tokens": output,
        "service_tier": "standard",
    }


def anthropic_text(content):
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text")


def anthropic_plan(body):
    """(blocks, seconds to stream them over)."""
    tools = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
    if "Bash" not in tools:  # a side request: the session title
        fmt = (body.get("output_config") or {}).get("format") or {}
        text = json.dumps(fill(fmt.get("schema") or {})) if fmt.get("type") == "json_schema" else "Stub."
        return [{"type": "text", "text": text}], 0
    last = next((m for m in reversed(body.get("messages") or []) if m.get("role") == "user"), {})
    content = last.get("content")
    # Claude Code merges a denied call's result and the next prompt into one
    # message: only a tool result after the last typed text is one to answer.
    after_tool = False
    if isinstance(content, list):
        for b in content:
            if b.get("type") == "tool_result":
                after_tool = True
            elif b.get("type") == "text" and b.get("text", "").strip() and not b["text"].lstrip().startswith(
                    ("<system-reminder>", "[Request interrupted")):
                after_tool = False
    if after_tool:
        return [{"type": "text", "text": "Tool finished. " + slow_text()}], ARGS.after_tool
    m = marker(anthropic_text(content))
    if m == "AW_TOOL":
        return [{"type": "text", "text": "I'll run a command."},
                {"type": "tool_use", "id": rid("toolu"), "name": "Bash",
                 "input": {"command": TOOL_COMMAND, "description": "Print a marker"}}], 0
    if m == "AW_ASK" and "AskUserQuestion" in tools:
        q = {"question": QUESTION, "header": "Colour", "multiSelect": False,
             "options": [{"label": "Red", "description": "A red marker"},
                         {"label": "Blue", "description": "A blue marker"}]}
        return [{"type": "tool_use", "id": rid("toolu"), "name": "AskUserQuestion", "input": {"questions": [q]}}], 0
    if slow_seconds(m):
        return [{"type": "text", "text": slow_text()}], slow_seconds(m)
    return [{"type": "text", "text": "Hello from the stub."}], 0


def anthropic(h, body):
    blocks, seconds = anthropic_plan(body)
    stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    msg_id = rid("msg")
    log({"api": "anthropic", "reply": [b["type"] for b in blocks], "seconds": seconds})
    if not body.get("stream"):
        return h.json_reply({"id": msg_id, "type": "message", "role": "assistant", "model": body.get("model"),
                             "content": blocks, "stop_reason": stop, "stop_sequence": None,
                             "usage": anthropic_usage(20)}, {"request-id": rid("req")})
    sse = h.start_sse({"request-id": rid("req")})
    sse("message_start", {"type": "message_start", "message": {
        "id": msg_id, "type": "message", "role": "assistant", "model": body.get("model"), "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": anthropic_usage(1)}})
    out = 0
    for i, b in enumerate(blocks):
        if b["type"] == "text":
            sse("content_block_start", {"type": "content_block_start", "index": i,
                                        "content_block": {"type": "text", "text": ""}})
            parts = chunks(b["text"], 20 if seconds else 1)
            for p in parts:
                time.sleep(seconds / len(parts))
                sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                            "delta": {"type": "text_delta", "text": p}})
            out += len(b["text"]) // 4 + 1
        else:
            sse("content_block_start", {"type": "content_block_start", "index": i, "content_block": {
                "type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}})
            sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                        "delta": {"type": "input_json_delta", "partial_json": json.dumps(b["input"])}})
            out += 20
        sse("content_block_stop", {"type": "content_block_stop", "index": i})
    sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                          "usage": anthropic_usage(out)})
    sse("message_stop", {"type": "message_stop"})
    h.end_sse()


# -------------------------------------------------------- OpenAI Responses

def responses_plan(body):
    """(kind, payload, seconds)."""
    inp = body.get("input")
    fmt = (body.get("text") or {}).get("format") or {}
    if fmt.get("type") == "json_schema":  # the thread title
        return "text", json.dumps(fill(fmt.get("schema") or {})), 0
    items = inp if isinstance(inp, list) else [{"role": "user", "content": inp or ""}]
    if items and isinstance(items[-1], dict) and items[-1].get("type") in (
            "function_call_output", "custom_tool_call_output"):
        return "text", "Tool finished. " + slow_text(), ARGS.after_tool
    text = ""
    for it in reversed(items):
        if isinstance(it, dict) and it.get("role") == "user":
            c = it.get("content")
            t = c if isinstance(c, str) else "\n".join(x.get("text", "") for x in c or [] if isinstance(x, dict))
            if t.lstrip().startswith("<") and "AW_" not in t:
                continue  # Codex's own context items
            text = t
            break
    names = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
    m = marker(text)
    if m == "AW_TOOL":
        if "exec_command" in names:
            # Under approval_policy "on-request" Codex asks only when a call
            # wants to leave the sandbox.
            return "call", ("exec_command", {"cmd": TOOL_COMMAND, "yield_time_ms": 5000,
                                             "sandbox_permissions": "require_escalated",
                                             "justification": "May I run the marker command?"}), 0
        return "call", ("shell", {"command": ["bash", "-lc", TOOL_COMMAND]}), 0
    if m == "AW_ASK" and "request_user_input" in names:
        return "call", ("request_user_input", {"questions": [{
            "id": "colour", "header": "Colour", "question": QUESTION,
            "options": [{"label": "Red (Recommended)", "description": "A red marker"},
                        {"label": "Blue", "description": "A blue marker"}]}]}), 0
    if slow_seconds(m):
        return "text", slow_text(), slow_seconds(m)
    return "text", "Hello from the stub.", 0


# The plan windows a ChatGPT subscription's responses carry, as Codex reads
# them (codex-api rate_limits.rs). The weekly window comes first on purpose:
# which slot holds which window has changed before, and agentwatch must tell
# them apart by their length.
CODEX_FIVE_HOUR_USED = "42.4"
CODEX_WEEK_USED = "17"


def codex_rate_limit_headers():
    now = int(time.time())
    return {
        "x-codex-primary-used-percent": CODEX_WEEK_USED,
        "x-codex-primary-window-minutes": "10080",
        "x-codex-primary-reset-at": str(now + 4 * 86400),
        "x-codex-secondary-used-percent": CODEX_FIVE_HOUR_USED,
        "x-codex-secondary-window-minutes": "300",
        "x-codex-secondary-reset-at": str(now + 3 * 3600),
    }


def responses(h, body):
    kind, payload, seconds = responses_plan(body)
    log({"api": "responses", "reply": kind, "seconds": seconds})
    sse = h.start_sse(codex_rate_limit_headers())
    seq = [0]
    resp = {"id": rid("resp"), "object": "response", "created_at": int(time.time()), "model": body.get("model"),
            "output": [], "status": "in_progress"}

    def send(kind_, data):
        data = {"type": kind_, "sequence_number": seq[0], **data}
        seq[0] += 1
        sse(kind_, data)

    send("response.created", {"response": resp})
    if kind == "call":
        name, args = payload
        item = {"id": rid("fc"), "type": "function_call", "status": "completed", "call_id": rid("call"),
                "name": name, "arguments": json.dumps(args)}
        send("response.output_item.added", {"output_index": 0, "item": {**item, "arguments": "", "status": "in_progress"}})
        send("response.function_call_arguments.delta", {"item_id": item["id"], "output_index": 0, "delta": item["arguments"]})
        send("response.function_call_arguments.done", {"item_id": item["id"], "output_index": 0, "arguments": item["arguments"]})
        out_text = item["arguments"]
    else:
        item = {"id": rid("msg"), "type": "message", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": payload, "annotations": []}]}
        send("response.output_item.added", {"output_index": 0, "item": {**item, "content": [], "status": "in_progress"}})
        send("response.content_part.added", {"item_id": item["id"], "output_index": 0, "content_index": 0,
                                             "part": {"type": "output_text", "text": "", "annotations": []}})
        parts = chunks(payload, 20 if seconds else 1)
        for p in parts:
            time.sleep(seconds / len(parts))
            send("response.output_text.delta", {"item_id": item["id"], "output_index": 0, "content_index": 0, "delta": p})
        send("response.output_text.done", {"item_id": item["id"], "output_index": 0, "content_index": 0, "text": payload})
        out_text = payload
    send("response.output_item.done", {"output_index": 0, "item": item})
    inp = max(64, len(json.dumps(body.get("input", ""))) // 4)
    usage = {"input_tokens": inp, "input_tokens_details": {"cached_tokens": inp // 2 // 64 * 64},
             "output_tokens": len(out_text) // 4 + 8, "output_tokens_details": {"reasoning_tokens": 8},
             "total_tokens": inp + len(out_text) // 4 + 8}
    send("response.completed", {"response": {**resp, "status": "completed", "output": [item], "usage": usage}})
    h.end_sse()


# ------------------------------------------------ OpenAI chat completions

def chat_plan(body):
    """(kind, payload, seconds): for OpenCode's openai-compatible provider."""
    msgs = body.get("messages") or []
    tools = [(t.get("function") or t).get("name") for t in body.get("tools") or []]
    if not tools:  # a side request: the session title
        return "text", "Stub session title", 0
    last = msgs[-1] if msgs else {}
    if last.get("role") == "tool":
        return "text", "Tool finished. " + slow_text(), ARGS.after_tool
    content = next((m.get("content") for m in reversed(msgs) if m.get("role") == "user"), "")
    text = content if isinstance(content, str) else "\n".join(
        p.get("text", "") for p in content or [] if isinstance(p, dict))
    m = marker(text)
    shell = next((t for t in ("bash", "shell", "run_shell_command", "run_commands") if t in tools), None)
    if m == "AW_TOOL" and shell:
        args = {"command": TOOL_COMMAND, "description": "Print a marker"}
        if shell == "run_shell_command":  # Qwen Code's asks whether to run it in the background
            args["is_background"] = False
        if shell == "run_commands":  # Cline's takes a list of commands
            args = {"commands": [TOOL_COMMAND]}
        return "call", (shell, args), 0
    if slow_seconds(m):
        return "text", slow_text(), slow_seconds(m)
    return "text", "Hello from the stub.", 0


def chat(h, body):
    kind, payload, seconds = chat_plan(body)
    log({"api": "chat", "reply": kind, "seconds": seconds})
    cid, model = rid("chatcmpl"), body.get("model", "stub")
    # Cached prompt tokens and reasoning, counted inside the two totals as
    # OpenAI-compatible APIs count them.
    usage = {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160,
             "prompt_tokens_details": {"cached_tokens": 64}, "completion_tokens_details": {"reasoning_tokens": 8}}
    sse = h.start_sse({})

    def chunk(delta, finish=None):
        sse(None, {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    chunk({"role": "assistant", "content": ""})
    if kind == "call":
        name, args = payload
        chunk({"tool_calls": [{"index": 0, "id": rid("call"), "type": "function",
                               "function": {"name": name, "arguments": json.dumps(args)}}]})
        chunk({}, "tool_calls")
    else:
        parts = chunks(payload, 20 if seconds else 1)
        for p in parts:
            time.sleep(seconds / len(parts))
            chunk({"content": p})
        chunk({}, "stop")
    sse(None, {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
               "choices": [], "usage": usage})
    raw = b"data: [DONE]\n\n"
    h.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
    h.end_sse()


# ------------------------------------------------------------------ Gemini

def gemini_plan(body):
    gc = body.get("generationConfig") or {}
    if gc.get("responseMimeType") == "application/json" or gc.get("responseJsonSchema") or gc.get("responseSchema"):
        schema = gc.get("responseJsonSchema") or gc.get("responseSchema") or {}
        return [{"text": json.dumps(fill(schema))}], 0
    names = {fd.get("name") for t in body.get("tools") or [] for fd in t.get("functionDeclarations") or []}
    if not names:  # a utility request (the previous session's summary)
        return [{"text": "Stub session summary"}], 0
    contents = body.get("contents") or []
    last = next((c for c in reversed(contents) if c.get("role", "user") == "user"), {})
    parts = last.get("parts") or []
    if any("functionResponse" in p for p in parts):
        return [{"text": "Tool finished. " + slow_text()}], ARGS.after_tool
    m = marker("\n".join(p.get("text", "") for p in parts if isinstance(p, dict)))
    if m == "AW_TOOL" and "run_shell_command" in names:
        return [{"functionCall": {"name": "run_shell_command",
                                  "args": {"command": TOOL_COMMAND, "description": "Print a marker"}}}], 0
    if m == "AW_ASK" and "ask_user" in names:
        q = {"question": QUESTION, "header": "Colour", "type": "choice", "multiSelect": False,
             "options": [{"label": "Red", "description": "A red marker"},
                         {"label": "Blue", "description": "A blue marker"}]}
        return [{"functionCall": {"name": "ask_user", "args": {"questions": [q]}}}], 0
    if slow_seconds(m):
        return [{"text": slow_text()}], slow_seconds(m)
    return [{"text": "Hello from the stub."}], 0


def gemini_usage(body, out):
    prompt = max(64, len(json.dumps(body.get("contents", ""))) // 4)
    return {"promptTokenCount": prompt, "candidatesTokenCount": out, "cachedContentTokenCount": prompt // 2,
            "thoughtsTokenCount": 4, "totalTokenCount": prompt + out + 4}


def gemini(h, body, stream):
    parts, seconds = gemini_plan(body)
    log({"api": "gemini", "reply": [list(p)[0] for p in parts], "seconds": seconds})
    out = sum(len(json.dumps(p)) // 4 + 1 for p in parts)
    if not stream:
        return h.json_reply({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP",
                                             "index": 0}], "usageMetadata": gemini_usage(body, out)})
    sse = h.start_sse({})
    pieces = []
    for p in parts:
        pieces += [{"text": c} for c in chunks(p["text"], 20 if seconds else 1)] if "text" in p else [p]
    for i, p in enumerate(pieces):
        time.sleep(seconds / len(pieces))
        cand = {"content": {"role": "model", "parts": [p]}, "index": 0}
        if i == len(pieces) - 1:
            cand["finishReason"] = "STOP"
        sse(None, {"candidates": [cand], "usageMetadata": gemini_usage(body, out), "modelVersion": "stub"})
    h.end_sse()


# -------------------------------------------------------------------- server

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def json_reply(self, obj, headers=None, status=200):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def start_sse(self, headers):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()

        def send(event, data):
            text = (f"event: {event}\n" if event else "") + f"data: {json.dumps(data)}\n\n"
            raw = text.encode()
            self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            self.wfile.flush()
        return send

    def end_sse(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self):
        log({"method": "GET", "path": self.path})
        if self.path.split("?")[0].rstrip("/").endswith("/models"):
            return self.json_reply({"object": "list", "data": [], "models": []})
        self.json_reply({"error": {"message": "no such route"}}, status=404)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"null") or {}
        path = self.path.split("?")[0]
        log({"method": "POST", "path": self.path})
        try:
            if path.endswith("/v1/messages"):
                anthropic(self, body)
            elif path.endswith("/v1/messages/count_tokens"):
                self.json_reply({"input_tokens": 1234})
            elif path.endswith("/responses"):
                responses(self, body)
            elif path.endswith("/chat/completions"):
                chat(self, body)
            elif ":streamGenerateContent" in path:
                gemini(self, body, True)
            elif ":generateContent" in path:
                gemini(self, body, False)
            elif ":countTokens" in path:
                self.json_reply({"totalTokens": 1234})
            else:
                self.json_reply({"error": {"message": f"no such route: {path}"}}, status=404)
        except (BrokenPipeError, ConnectionResetError):
            log({"note": "the client went away mid-reply", "path": path})


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--slow", type=float, default=8.0)
    p.add_argument("--long", type=float, default=120.0)
    p.add_argument("--after-tool", type=float, default=4.0)
    ARGS = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, ARGS.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
