"""A lean transcript corpus with a given number of sessions and model calls,
for bench/scale: as many usage events as a heavy user's history, without the
bulk (tool output, thinking text) that makes bench/gen-corpus realistic in
bytes but would take tens of GB for a million calls.

The lines have the agents' real shapes (the same fields and usage objects as
bench/gen-corpus, whose token model is reused): Claude Code assistant lines
with message.id/requestId/usage, some content blocks split across lines as
streaming snapshots, short user prompts and tool results, sidechain flags;
Codex rollouts with session_meta, turn_context and token_count events (with
total and last usage). Only the text is short. Standard library only; the
same seed gives the same bytes.
"""
import datetime as dt
import importlib.machinery
import importlib.util
import json
import os
import random

BENCH = os.path.dirname(os.path.abspath(__file__))


def load_gen_corpus():
    loader = importlib.machinery.SourceFileLoader("gen_corpus", os.path.join(BENCH, "gen-corpus"))
    spec = importlib.util.spec_from_loader("gen_corpus", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


G = load_gen_corpus()
DUMPS = G.DUMPS
ts_str = G.ts_str


class Args:
    """What gen-corpus's Gen reads from its arguments."""

    def __init__(self, out, seed, start_ms, days):
        self.out = out
        self.seed = seed
        self.size_mb = 16  # only sizes gen-corpus's pools and project count
        self.codex_share = 0.25
        self.start = dt.datetime.fromtimestamp(start_ms / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%d")
        self.days = days
        self.streaming_share = 0.5
        self.codex_repeat_share = 0.04
        self.no_request_id_share = 0.0
        self.filler_scale = 1.0


class ScaleGen(G.Gen):
    def __init__(self, out, sessions, events, days, seed, now_ms, codex_share=0.25):
        self.now_ms = now_ms
        self.start_ms = now_ms - days * 86400_000
        super().__init__(Args(out, seed, self.start_ms, days))
        self.n_sessions = sessions
        self.n_events = events
        self.codex_share = codex_share
        self.out_stats = {"claude_sessions": 0, "codex_sessions": 0, "calls": 0, "lines": 0, "bytes": 0,
                          "files": 0}

    # Short text: the lines keep their shape, not their bulk.
    def filler(self, n):
        return super().filler(min(int(n), 48))

    def b64blob(self, n):
        return super().b64blob(min(int(n), 64))

    def sizes(self):
        """Calls per session: log-normal (a few sessions of many thousand
        calls, most of a few hundred), summing to exactly n_events."""
        r = self.rng
        w = [r.lognormvariate(0, 1.1) for _ in range(self.n_sessions)]
        s = sum(w)
        n = [max(1, int(x / s * self.n_events)) for x in w]
        diff = self.n_events - sum(n)
        i = 0
        while diff != 0:
            k = i % self.n_sessions
            if diff > 0:
                n[k] += 1
                diff -= 1
            elif n[k] > 1:
                n[k] -= 1
                diff += 1
            i += 1
        return n

    def times(self, calls, recent):
        """Timestamps of `calls` model calls: seconds apart within a turn,
        minutes between turns, sometimes hours away. The session ends before
        now; `recent` sessions end within the last day."""
        r = self.rng
        deltas = []
        for i in range(calls):
            d = self.lognorm(4000, 1.0, 300, 120_000)
            if i % 5 == 0:
                d += self.lognorm(30_000, 1.2, 2_000, 1_800_000)
                if r.random() < 0.05:
                    d += self.lognorm(600_000, 1.5, 60_000, 4 * 3600_000)  # the user was away
            deltas.append(d)
        span = sum(deltas)
        latest_end = self.now_ms - 60_000
        if recent:
            end = latest_end - r.randrange(0, 20 * 3600_000)
        else:
            end = r.randrange(self.start_ms + span, max(self.start_ms + span + 1, latest_end))
        t = end - span
        out = []
        for d in deltas:
            t += d
            out.append(t)
        return out

    def run(self):
        r = self.rng
        sizes = self.sizes()
        n_codex = int(round(self.n_sessions * self.codex_share))
        kinds = ["codex"] * n_codex + ["claude"] * (self.n_sessions - n_codex)
        r.shuffle(kinds)
        recent = set(r.sample(range(self.n_sessions), k=max(1, self.n_sessions // 50)))
        for i, (kind, calls) in enumerate(zip(kinds, sizes)):
            ts = self.times(calls, i in recent)
            if kind == "claude":
                self.lean_claude(ts)
            else:
                self.lean_codex(ts)
            self.out_stats["calls"] += calls
        return self.out_stats

    def put(self, path, lines):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = ("\n".join(lines) + "\n").encode()
        with open(path, "wb") as f:
            f.write(data)
        self.out_stats["files"] += 1
        self.out_stats["lines"] += len(lines)
        self.out_stats["bytes"] += len(data)

    # ---------- Claude Code ----------
    def lean_claude(self, ts):
        r = self.rng
        cwd = self.pick_project()
        enc = "".join(c if c.isascii() and c.isalnum() else "-" for c in cwd)
        sid = self.uuid()
        models = [m for m, _ in G.CLAUDE_MODELS]
        weights = [w for _, w in G.CLAUDE_MODELS]
        model = r.choices(models, weights=weights)[0]
        st = self.new_claude_state(cwd, sid, ts[0], model)
        lines = []
        for i, t in enumerate(ts):
            if i % 5 == 0:
                st["t"] = t - 1000
                self.claude_user_prompt(st, lines)
                if r.random() < 0.05:
                    model = r.choices(models, weights=weights)[0]
            self.lean_call(st, lines, model, t)
        path = os.path.join(self.a.out, "claude", "projects", enc, sid + ".jsonl")
        self.put(path, lines)
        self.out_stats["claude_sessions"] += 1

    def lean_call(self, st, lines, model, t):
        """One model call at time t: one assistant line, or two (a tool_use
        block after the text) sharing message.id/requestId/usage, the first
        a streaming snapshot half the time; then the tool's result."""
        r = self.rng
        usage = self.claude_usage(st, model)
        mid = "msg_01" + self.b62(22)
        rid = "req_011C" + self.b62(20)
        blocks = [{"type": "text", "text": self.filler(40)}]
        tid = None
        if r.random() < 0.3:
            tid = "toolu_01" + self.b62(22)
            blocks.append({"type": "tool_use", "id": tid, "name": r.choice(G.TOOL_NAMES),
                           "input": {"command": self.filler(30)}})
        cost = round(r.uniform(0.0005, 0.4), 6) if st["legacy"] else None
        streaming = not st["legacy"] and len(blocks) > 1 and r.random() < 0.5
        for k, b in enumerate(blocks):
            last = k == len(blocks) - 1
            u = usage
            if streaming and not last:
                u = dict(usage, output_tokens=max(1, usage["output_tokens"] // 3))
            d = self.claude_base(st, "assistant", t + k * 40, st["parent"])
            d["message"] = {"id": mid, "type": "message", "role": "assistant", "model": model, "content": [b],
                            "stop_reason": None if not last else ("tool_use" if tid else "end_turn"),
                            "stop_sequence": None, "usage": u}
            d["requestId"] = rid
            if cost is not None:
                d["costUSD"] = cost
            lines.append(DUMPS(d))
            st["parent"] = d["uuid"]
        if tid:
            d = self.claude_base(st, "user", t + 500, st["parent"])
            d["message"] = {"role": "user", "content": [{"tool_use_id": tid, "type": "tool_result",
                                                         "content": self.filler(40), "is_error": r.random() < 0.05}]}
            lines.append(DUMPS(d))
            st["parent"] = d["uuid"]

    # ---------- Codex ----------
    def lean_codex(self, ts):
        r = self.rng
        cwd = self.pick_project()
        sid = self.uuid()
        t0 = ts[0] - 2000
        version = r.choice(G.CODEX_VERSIONS_LAST)
        models = [m for m, _ in G.CODEX_MODELS]
        weights = [w for _, w in G.CODEX_MODELS]
        model = r.choices(models, weights=weights)[0]
        lines = [self.codex_line(t0, "session_meta", {
            "id": sid, "timestamp": ts_str(t0), "cwd": cwd, "originator": "codex_cli_rs", "cli_version": version,
            "instructions": None, "source": "cli", "model_provider": "openai"})]
        total = [0, 0, 0, 0]
        ctx = r.randrange(6000, 14000)
        for i, t in enumerate(ts):
            if i % 5 == 0:
                if r.random() < 0.08:
                    model = r.choices(models, weights=weights)[0]
                lines.append(self.codex_line(t - 1000, "turn_context", {
                    "cwd": cwd, "approval_policy": "on-request",
                    "sandbox_policy": {"mode": "workspace-write", "network_access": False},
                    "model": model, "effort": "medium", "summary": "auto"}))
                prompt = self.filler(40)
                lines.append(self.codex_line(t - 1000, "event_msg", {"type": "user_message", "message": prompt,
                                                                     "images": []}))
            added = self.lognorm(1800, 1.1, 50, 50_000)
            if ctx + added > 250_000:
                ctx = r.randrange(10_000, 30_000)
            ctx += added
            cached = 0 if r.random() < 0.05 else int(ctx * r.uniform(0.75, 0.98)) // 64 * 64
            out = self.lognorm(220, 1.2, 1, 30_000)
            reas = int(out * r.uniform(0, 0.8)) if r.random() < 0.7 else 0
            last = [ctx, cached, out, reas]
            total = [a + b for a, b in zip(total, last)]
            info = {"total_token_usage": self.codex_usage(total), "last_token_usage": self.codex_usage(last),
                    "model_context_window": 272000}
            lines.append(self.codex_line(t, "event_msg", {"type": "token_count", "info": info}))
        start = dt.datetime.fromtimestamp(t0 / 1000, tz=dt.timezone.utc)
        name = f"rollout-{start.strftime('%Y-%m-%dT%H-%M-%S')}-{sid}.jsonl"
        path = os.path.join(self.a.out, "codex", "sessions", start.strftime("%Y"), start.strftime("%m"),
                            start.strftime("%d"), name)
        self.put(path, lines)
        self.out_stats["codex_sessions"] += 1


def generate(out, sessions, events, days, seed, now_ms):
    """Writes the corpus under `out` (claude/, codex/); returns its stats."""
    g = ScaleGen(out, sessions, events, days, seed, now_ms)
    return g.run()


if __name__ == "__main__":
    import sys
    import time
    t = time.time()
    st = generate(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), 90, 1, int(time.time() * 1000))
    print(json.dumps(st), f"{time.time() - t:.1f}s")
    random.seed(0)
