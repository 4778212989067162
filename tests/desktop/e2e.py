"""End-to-end test of the real agentwatch-desktop app.

Under Xvfb and a private D-Bus session (see run.sh), with a fake Claude
Code (a copy of /bin/sleep named `claude`, working in a temp project):

1. the agent appears in the main window's Active list (WebDriver);
2. it appears in the tray menu (dbusmenu GetLayout on the registered
   StatusNotifierItem);
3. clicking that menu item (dbusmenu Event "clicked") opens its detail
   window (a new WebDriver window handle, `index.html?session=<id>`);
4. killing the agent produces a "died" notification (Notify call seen by
   dbus-monitor, shown by dunst), and the tray menu lists it as dead;

plus: a second launch exits and leaves one instance, closing the main
window hides it, "Quit" ends the app. Saves screenshots of the main window,
the detail window and the notification (to target/desktop-e2e/, or with
--update-screenshots to docs/screenshots/).

Exit status 0 when every check passed.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import APP, ROOT, Harness, log, wait_for, x_screenshot  # noqa: E402

CLI = Path(os.environ.get("AGENTWATCH_BIN", ROOT / "target/debug/agentwatch"))

# Screenshots go to the (ignored) target dir; `--update-screenshots` writes
# the ones committed in docs/screenshots/.
SHOTS = Path(
    os.environ.get("AGENTWATCH_SCREENSHOTS")
    or (ROOT / "docs/screenshots" if "--update-screenshots" in sys.argv else Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "desktop-e2e")
)


def main():
    keep = "--keep" in sys.argv
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    for name, scenario in (("embedded", run), ("attached", run_attached)):
        if only and only != name:
            continue
        log(f"=== {name} ===")
        h = Harness(keep=keep)
        ok = False
        try:
            scenario(h)
            ok = True
        finally:
            if not ok:
                log(f"FAILED; logs in {h.tmp}" if keep else "FAILED (run with --keep to keep the logs)")
                for f in ("tauri-driver.log", "daemon.log"):
                    p = h.tmp / f
                    if p.exists():
                        print(f"--- {f} (last 60 lines) ---")
                        print("\n".join(p.read_text(errors="replace").splitlines()[-60:]))
            h.close()
    log("all desktop end-to-end checks passed")


SONNET = "claude-sonnet-4-5-20250929"


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def claude_lines(sid, cwd, t, prompt, blocks, usage, tool_result=None):
    base = {"sessionId": sid, "cwd": str(cwd), "version": "2.0.14", "gitBranch": "main", "userType": "external", "isSidechain": False}
    lines = [
        dict(base, type="user", uuid=f"{sid}-u1", timestamp=iso(t), message={"role": "user", "content": prompt}),
        dict(
            base,
            type="assistant",
            uuid=f"{sid}-a1",
            timestamp=iso(t + 5),
            requestId=f"req_{sid[-8:]}",
            message={
                "id": f"msg_{sid[-8:]}",
                "type": "message",
                "role": "assistant",
                "model": SONNET,
                "content": blocks,
                "stop_reason": "tool_use" if tool_result else "end_turn",
                "usage": {"input_tokens": usage[0], "output_tokens": usage[1], "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
            },
        ),
    ]
    if tool_result:
        content = [{"type": "tool_result", "tool_use_id": "toolu_01", "content": tool_result}]
        lines.append(dict(base, type="user", uuid=f"{sid}-u2", timestamp=iso(t + 8), message={"role": "user", "content": content}))
    return lines


def world(h, codex=True):
    """Two running Claude Codes (one working, one waiting) and a Codex session that ended 10 minutes ago."""
    now = time.time()
    docs = h.tmp / "src" / "docs-site"
    api = h.tmp / "src" / "api-server"
    codex and h.codex_rollout(api, "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", now - 600, [
        {"timestamp": iso(now - 600), "type": "session_meta", "payload": {"id": "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "cwd": str(api), "cli_version": "0.50.0", "originator": "codex_cli_rs"}},
        {"timestamp": iso(now - 599), "type": "turn_context", "payload": {"model": "gpt-5-codex", "cwd": str(api), "approval_policy": "on-request"}},
        {"timestamp": iso(now - 590), "type": "event_msg", "payload": {"type": "token_count", "info": {
            "total_token_usage": {"input_tokens": 20000, "cached_input_tokens": 5000, "output_tokens": 3000, "reasoning_output_tokens": 1000, "total_tokens": 23000},
            "last_token_usage": {"input_tokens": 20000, "cached_input_tokens": 5000, "output_tokens": 3000, "reasoning_output_tokens": 1000, "total_tokens": 23000},
            "model_context_window": 272000},
            # A ChatGPT plan's windows, as Codex 0.171 writes them (week first).
            "rate_limits": {"limit_id": "codex", "limit_name": None,
                            "primary": {"used_percent": 17.0, "window_minutes": 10080, "resets_at": int(now) + 4 * 86400},
                            "secondary": {"used_percent": 42.0, "window_minutes": 300, "resets_at": int(now) + 3 * 3600},
                            "credits": None, "plan_type": None, "rate_limit_reached_type": None}}},
    ])
    working = h.start_agent("claude", h.project)
    waiting = h.start_agent("claude", docs)
    time.sleep(0.3)  # Claude Code writes its transcript after it starts
    edit = [{"type": "text", "text": "I'll add the form and its validation."},
            {"type": "tool_use", "id": "toolu_01", "name": "Edit", "input": {"file_path": "src/Login.tsx"}}]
    h.claude_transcript(h.project, "7f3c2a10-0000-4000-8000-000000000001",
                        claude_lines("7f3c2a10-0000-4000-8000-000000000001", h.project, now - 50, "Add a login form with validation", edit, (100_000, 2_000), "The file src/Login.tsx has been updated."))
    h.claude_transcript(docs, "7f3c2a10-0000-4000-8000-000000000002",
                        claude_lines("7f3c2a10-0000-4000-8000-000000000002", docs, now - 40, "Summarize the changelog for the release notes",
                                     [{"type": "text", "text": "Here is the summary of the 2.4 changes. Shall I commit it?"}], (20_000, 2_000)))
    return working, waiting


# Sonnet 4.5 ($3/M in, $15/M out) and gpt-5-codex ($1.25/M in, $0.125/M cached, $10/M out).
COST_WEB = 100_000 * 3e-6 + 2_000 * 15e-6  # $0.33
COST_DOCS = 20_000 * 3e-6 + 2_000 * 15e-6  # $0.09
COST_CODEX = 15_000 * 1.25e-6 + 5_000 * 0.125e-6 + 3_000 * 10e-6  # $0.049375
TODAY = COST_WEB + COST_DOCS + COST_CODEX


def run(h):
    SHOTS.mkdir(parents=True, exist_ok=True)
    h.start_desktop_services()
    agent, waiting = world(h)
    log(f"fake agents: working pid {agent.pid} in {h.project}, waiting pid {waiting.pid}")
    wd = h.start_app()
    tray = h.tray

    # 1. The main window's Active list shows the agents, and the ended Codex session.
    def listed():
        rows = wd.texts("[data-testid=session-row]")
        ok = any("web-app" in r and "Working" in r for r in rows) and any("docs-site" in r and "Waiting" in r for r in rows)
        return rows if ok else None

    rows = wait_for("the agents in the Active list", listed, timeout=30)
    log("(1) Active list:\n    " + "\n    ".join(rows))
    web = next(r for r in rows if "web-app" in r)
    assert "Claude Code" in web and "$0.33" in web and "102k" in web.replace("102,000", "102k"), web
    assert any("api-server" in r and "Completed" in r and "$0.05" in r for r in rows), rows
    wait_for("the main window mapped", lambda: h.xwatch.mapped_after(0, "agentwatch"), 10)
    time.sleep(1.0)
    wd.screenshot(SHOTS / "main-window.png")

    # 2. The tray menu: who waits first, then the active sessions, the costs, the actions.
    item = wait_for(
        "the agents in the tray menu",
        lambda: tray.find(lambda i: "web-app" in i["label"] and i["enabled"]) if tray.find(lambda i: i["label"] == "Needs you") else None,
        timeout=15,
    )
    labels = tray.labels()
    log("(2) tray menu:\n    " + "\n    ".join(labels))
    assert re.fullmatch(r"Claude Code · web-app · \d+s · \$0\.33 today", item["label"]), item["label"]
    top = [l for l in labels if l != "---"]
    assert top[0] == "Needs you", labels
    assert re.fullmatch(r"Claude Code · docs-site · \d+s · \$0\.09 today", top[1]), labels
    assert top[2] == item["label"], labels
    assert not any("api-server" in l for l in labels), "ended sessions are not in the menu"
    assert f"Today ${TODAY:.2f} · This week ${TODAY:.2f}" in labels, (TODAY, labels)
    # The plan's windows, from the Codex rollout: the 5-hour one with its reset time.
    assert re.fullmatch(r"Codex 5h 42% · resets (?:[A-Z][a-z]{2} )?\d\d:\d\d \| week 17%", top[4]), labels
    assert top[5:] == ["Open dashboard", "Pause notifications", "  For 1 hour", "  Until tomorrow", "  Resume", "Start at login", "Quit"], labels
    assert not tray.find(lambda i: i["label"] == "Resume")["enabled"], "nothing to resume"
    assert tray.find(lambda i: i["label"] == "Start at login")["toggle"] == 0
    assert tray.icon_is("waiting"), "the tray icon shows a waiting session"

    # 3. Clicking it opens the session's detail window.
    before = wd.handles()
    t0 = time.monotonic()
    tray.click(item["id"])
    try:
        mapped = wait_for("the detail window mapped", lambda: h.xwatch.mapped_after(t0, "web-app — agentwatch"), 10, every=0.005)
    except AssertionError:
        log(f"windows mapped: {h.xwatch.names()}")
        raise
    log(f"(3) detail window mapped {1000 * (mapped - t0):.0f} ms after the click")
    handles = wait_for("a second WebDriver window", lambda: [x for x in wd.handles() if x not in before], 10)
    main_handle = before[0]
    wd.switch(handles[0])
    url = wd.url()
    assert "index.html?session=" in url, url
    title = wait_for("the detail view", lambda: wd.texts("[data-testid=detail-title]"), 15)
    log(f"    detail window: {url} — {title[0]!r}")
    assert "web-app" in " ".join(wd.texts("[data-testid=detail-cwd]")), wd.texts("[data-testid=detail-cwd]")
    pid_text = wait_for("the pid in the detail view", lambda: wd.texts("[data-testid=detail-pid]"), 10)
    assert pid_text == [str(agent.pid)], (pid_text, agent.pid)
    time.sleep(1.0)
    wd.screenshot(SHOTS / "detail-window.png")
    # Clicking again focuses the same window.
    tray.click(item["id"])
    time.sleep(1.0)
    assert len(wd.handles()) == len(before) + 1, wd.handles()

    # Pausing notifications, and resuming them, from the tray.
    tray.click(tray.find(lambda i: i["label"] == "For 1 hour")["id"])
    wait_for("the menu to say paused", lambda: tray.find(lambda i: i["label"] == "Notifications paused"), 10)
    assert tray.find(lambda i: i["label"] == "Resume")["enabled"]
    tray.click(tray.find(lambda i: i["label"] == "Resume")["id"])
    wait_for("the menu to offer a pause again", lambda: tray.find(lambda i: i["label"] == "Pause notifications"), 10)
    log("    'Pause notifications › For 1 hour' paused them; 'Resume' resumed them")

    # "Start at login" writes (and removes) an XDG autostart entry.
    def autostart_files():
        return list((h.home / ".config/autostart").glob("*.desktop"))

    tray.click(tray.find(lambda i: i["label"] == "Start at login")["id"])
    wait_for("the check mark", lambda: tray.find(lambda i: i["label"] == "Start at login")["toggle"] == 1, 10)
    entry = wait_for("an autostart entry", autostart_files, 10)[0]
    text = entry.read_text()
    assert "Exec=" in text and "agentwatch-desktop" in text and "--hidden" in text, text
    assert "start_at_login = true" in (h.config / "config.toml").read_text()
    tray.click(tray.find(lambda i: i["label"] == "Start at login")["id"])
    wait_for("no check mark", lambda: tray.find(lambda i: i["label"] == "Start at login")["toggle"] == 0, 10)
    wait_for("the autostart entry removed", lambda: not autostart_files(), 10)
    log(f"    'Start at login' wrote {entry.relative_to(h.home)} and removed it again")

    # The detail window closes like any window (the notification's Open reopens it).
    detail_title = "Claude Code in web-app — agentwatch"
    wd.switch(main_handle)
    assert h.xwatch.close(detail_title) == 1
    wait_for("the detail window closed", lambda: len(wd.handles()) == len(before), 10)

    # 4. Killing the agent: a "died" notification, and the tray shows it dead.
    agent.send_signal(signal.SIGKILL)
    agent.wait(5)
    notes = wait_for("a Notify call about the death", lambda: (n := h.notifications()) and "died" in n and n, 30)
    m = re.search(r'string "(Claude Code in web-app died)"', notes)
    assert m, notes
    assert 'string "agentwatch"' in notes, notes
    log(f"(4) notification: {m.group(1)!r}")
    dead = wait_for("the dead session in the tray menu", lambda: tray.find(lambda i: i["label"] == "Claude Code · web-app · dead"), 15)
    labels = tray.labels()
    assert labels.index("Needs you") < labels.index("Stale or dead") < labels.index("Claude Code · web-app · dead"), labels
    log("    tray menu now:\n    " + "\n    ".join(labels))
    time.sleep(1.5)  # dunst draws it
    x_screenshot(SHOTS / "notification.png", crop="Dunst")
    # The notification's action ("Open", its default) opens the session's window.
    t2 = time.monotonic()
    subprocess.run(["dunstctl", "action", "0"], env=h.env(), check=True, timeout=10)
    wait_for("the detail window opened from the notification", lambda: h.xwatch.mapped_after(t2, detail_title), 10)
    again = wait_for("its WebDriver handle", lambda: [x for x in wd.handles() if x not in before], 10)
    wd.switch(again[0])
    wait_for("the detail window showing Dead", lambda: "Dead" in " ".join(wd.texts("[data-testid=detail-state]")), 15)
    log("    the notification's Open action opened the session's window; it shows Dead")
    del dead
    assert tray.icon_is("dead"), "the tray icon shows the dead session"

    # A second launch only brings the first forward.
    wd.switch(main_handle)
    second = subprocess.run([str(APP)], env=h.env(), timeout=30, capture_output=True)
    assert second.returncode == 0, second
    assert h.app_pid() is not None, "the first instance still runs"
    log("    a second launch exited; the first instance runs on")

    # Closing the main window (as a window manager does) hides it; the app
    # and the tray stay.
    assert h.xwatch.viewable("agentwatch"), h.xwatch.windows("agentwatch")
    assert h.xwatch.close("agentwatch") == 1
    wait_for("the dashboard hidden", lambda: not h.xwatch.viewable("agentwatch"), 10)
    assert h.app_pid() is not None, "closing the main window does not quit"
    assert tray.find(lambda i: i["label"] == "Quit"), "the tray stays"
    open_dash = tray.find(lambda i: i["label"] == "Open dashboard")
    t1 = time.monotonic()
    tray.click(open_dash["id"])
    wait_for("the dashboard mapped again", lambda: h.xwatch.mapped_after(t1, "agentwatch"), 10)
    log("    closing hides the dashboard; 'Open dashboard' shows it again")

    # Quit ends it.
    pid = h.app_pid()
    tray.click(tray.find(lambda i: i["label"] == "Quit")["id"])
    wait_for("the app to exit", lambda: not Path(f"/proc/{pid}").exists() or open(f"/proc/{pid}/stat").read().split()[2] == "Z", 15)
    h.wd.sid = None  # the session died with the app
    log("    'Quit' ended the app")
    state = json.loads(wait_for("the saved window state", lambda: next(iter((h.home / ".config").glob("*/.window-state.json")), None), 10).read_text())
    assert "main" in state and state["main"]["width"] > 0, state
    log(f"    window size and place saved for: {', '.join(sorted(state))}")
    for f in ("main-window.png", "detail-window.png", "notification.png"):
        assert (SHOTS / f).stat().st_size > 2000, f


def run_attached(h):
    """A daemon runs: the app attaches, follows its event stream, shows its
    alerts, and runs the monitor itself once the daemon stops."""
    assert CLI.exists(), f"{CLI} is missing: cargo build -p agentwatch-cli"
    h.start_desktop_services()
    agent, _ = world(h)
    # Without --notify: every notification seen comes from the app.
    daemon = h.spawn("daemon", [str(CLI), "daemon", "--scan-interval", "1", "--port", str(h.api_port)])
    wait_for("the daemon's API", lambda: (h.data / "api.json").exists() and "API" in (h.tmp / "daemon.log").read_text(), 20)
    time.sleep(1.0)
    wd = h.start_app()
    app_log = h.tmp / "tauri-driver.log"
    wait_for("the app to attach", lambda: f"pid={daemon.pid}" in app_log.read_text() and "attached" in app_log.read_text(), 10)
    log(f"attached to the daemon (pid {daemon.pid})")
    rows = wait_for("the agents in the Active list (from the daemon's API)",
                    lambda: [r for r in wd.texts("[data-testid=session-row]") if "web-app" in r and "$0.33" in r], 30)
    log(f"(1) Active list: {rows[0]!r}")
    item = wait_for("the agent in the tray menu", lambda: h.tray.find(lambda i: "web-app" in i["label"] and "$0.33" in i["label"]), 15)
    assert f"Today ${TODAY:.2f} · This week ${TODAY:.2f}" in h.tray.labels(), h.tray.labels()
    assert any(re.fullmatch(r"Codex 5h 42% · resets (?:[A-Z][a-z]{2} )?\d\d:\d\d \| week 17%", l) for l in h.tray.labels()), h.tray.labels()
    log(f"(2) tray: {item['label']!r}")
    before = wd.handles()
    h.tray.click(item["id"])
    wait_for("the detail window", lambda: [x for x in wd.handles() if x not in before], 10)
    log("(3) the tray item opened the detail window")
    agent.send_signal(signal.SIGKILL)
    agent.wait(5)
    notes = wait_for("the app's Notify call for the daemon's alert", lambda: (n := h.notifications()) and "died" in n and n, 30)
    assert 'string "Claude Code in web-app died"' in notes, notes
    wait_for("the dead session in the tray menu", lambda: h.tray.find(lambda i: i["label"] == "Claude Code · web-app · dead"), 15)
    log("(4) the daemon's 'died' alert was shown by the app; the tray lists it as dead")
    # The daemon stops: the app runs the monitor from then on.
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(15)
    app_pid = h.app_pid()
    lock = h.data / "monitor.lock"
    wait_for("the app to take the monitor lock", lambda: lock.read_text().strip() == str(app_pid), 20)
    late = h.start_agent("claude", h.tmp / "src" / "late-comer")
    wait_for("a new agent in the tray (found by the app's own monitor)", lambda: h.tray.find(lambda i: "late-comer" in i["label"]), 20)
    wait_for("the new agent in the Active list", lambda: any("late-comer" in r for r in wd.texts("[data-testid=session-row]")), 20)
    log(f"    the daemon stopped; the app (pid {app_pid}) took over and found a new agent (pid {late.pid})")


if __name__ == "__main__":
    main()
