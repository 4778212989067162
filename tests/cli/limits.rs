//! Plan limits: Codex's `rate_limits` from its rollouts, Claude Code's
//! status line, `agentwatch limits`, attribution, alerts, and bad input.

use serde_json::{Value, json};

use crate::support::*;

/// Claude Code 2.1.197's status line JSON (an API-key user's, as the real
/// CLI sends it), with a subscription's `rate_limits` when given.
fn status_json(session: &str, rate_limits: Option<Value>) -> Vec<u8> {
    let mut v = json!({
        "session_id": session,
        "transcript_path": format!("/home/u/.claude/projects/-home-u-web-app/{session}.jsonl"),
        "cwd": "/home/u/web-app",
        "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
        "workspace": {"current_dir": "/home/u/web-app", "project_dir": "/home/u/web-app", "added_dirs": []},
        "version": "2.1.197",
        "output_style": {"name": "default"},
        "cost": {"total_cost_usd": 0.4213, "total_duration_ms": 45000, "total_api_duration_ms": 2300,
                 "total_lines_added": 10, "total_lines_removed": 2},
        "context_window": {"total_input_tokens": 15234, "total_output_tokens": 412, "context_window_size": 200000,
                           "current_usage": {"input_tokens": 8, "output_tokens": 412,
                                             "cache_creation_input_tokens": 1200, "cache_read_input_tokens": 14026},
                           "used_percentage": 8, "remaining_percentage": 92},
        "exceeds_200k_tokens": false,
        "fast_mode": false,
        "thinking": {"enabled": true}
    });
    if let Some(r) = rate_limits {
        v["rate_limits"] = r;
    }
    serde_json::to_vec(&v).unwrap()
}

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

fn windows(five: f64, five_reset: i64, week: f64, week_reset: i64) -> Value {
    json!({"five_hour": {"used_percentage": five, "resets_at": five_reset},
           "seven_day": {"used_percentage": week, "resets_at": week_reset}})
}

fn limits(env: &Env) -> Vec<Value> {
    env.json(&["limits", "--no-ingest"])["limits"].as_array().unwrap().clone()
}

fn statusline(env: &Env, input: &[u8]) -> (String, String) {
    let o = env.run_with_stdin(&["statusline"], input);
    assert_eq!(o.status.code(), Some(0), "the status line never fails the agent");
    (String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap())
}

#[test]
fn claude_status_line_records_the_windows_and_prints_one_line() {
    let env = Env::new();
    // Today's Claude usage: $0.60 of Sonnet input.
    let f = env.claude_file("/home/u/web-app", "s-1.jsonl");
    write_lines(&f, &lines(&[claude(&ago(600), "s-1", "m1", "r1", SONNET, U(200_000, 0, 0, 0))]));
    env.ok(&["ingest"]);
    let reset = now_s() + 2 * 3600 + 5 * 60 + 30;
    let (out, err) = statusline(&env, &status_json("s-1", Some(windows(37.4, reset, 21.0, now_s() + 3 * 86_400))));
    assert_eq!(out, "Sonnet 4.5 · $0.42 session · $0.60 today · 5h 37% (resets in 2h 05m) · ctx 8%\n", "{err}");
    assert_eq!(err, "");

    let l = limits(&env);
    assert_eq!(l.len(), 2, "{l:?}");
    assert_eq!(
        (&l[0]["agent"], &l[0]["window"], &l[0]["windowMinutes"]),
        (&json!("claude-code"), &json!("5h"), &json!(300))
    );
    assert_eq!(
        (&l[0]["usedPercent"], &l[0]["source"], &l[0]["stale"]),
        (&json!(37.4), &json!("statusline"), &json!(false))
    );
    let resets = chrono::DateTime::parse_from_rfc3339(l[0]["resetsAt"].as_str().unwrap()).unwrap();
    assert_eq!(resets.timestamp(), reset);
    assert_eq!((&l[1]["window"], &l[1]["usedPercent"]), (&json!("week"), &json!(21.0)));

    // The same over the API.
    let port = free_port();
    let _d = env.daemon(1, &["--port", &port.to_string()]);
    let r = http(port, "GET", "/api/limits", &[("Authorization", &format!("Bearer {}", env.api_token()))], None);
    assert_eq!(r.status, 200);
    let api = r.json();
    assert_eq!(api["limits"][0]["usedPercent"], json!(37.4), "{api}");
    assert_eq!(api["plans"][0].as_str().unwrap().split(" · resets ").next(), Some("Claude 5h 37%"), "{api}");
    assert!(api["plans"][0].as_str().unwrap().ends_with(" | week 21%"), "{api}");
    drop(_d);

    // The table, and the session's share: it is the only Claude session
    // with tokens in the window, so all of the 37 %.
    let table = env.ok(&["limits", "--no-ingest"]);
    assert!(table.contains("Claude  5h       37%"), "{table}");
    let show = env.ok(&["sessions", "show", "s-1", "--no-ingest"]);
    assert!(
        show.contains("Plan       this session: about 37 % of your 5-hour window, 21 % of your weekly window"),
        "{show}"
    );
    let detail = env.json(&["sessions", "show", "s-1", "--no-ingest"]);
    assert_eq!(detail["contextPercent"], json!(8.0));
    assert_eq!(detail["limitShare"], "about 37 % of your 5-hour window, 21 % of your weekly window");

    // A second session with three times the tokens takes three quarters.
    let g = env.claude_file("/home/u/web-app", "s-2.jsonl");
    write_lines(&g, &lines(&[claude(&ago(300), "s-2", "m2", "r2", SONNET, U(600_000, 0, 0, 0))]));
    env.ok(&["ingest"]);
    let d1 = env.json(&["sessions", "show", "s-1", "--no-ingest"]);
    let share = d1["limitShares"][0]["fraction"].as_f64().unwrap();
    assert!(close(share, 0.25), "{share}");
    assert!(close(d1["limitShares"][0]["percent"].as_f64().unwrap(), 37.4 * 0.25));
}

#[test]
fn an_api_key_user_gets_a_line_and_no_windows() {
    let env = Env::new();
    let (out, err) = statusline(&env, &status_json("k-1", None));
    assert_eq!(out, "Sonnet 4.5 · $0.42 session · $0.00 today · ctx 8%\n", "{err}");
    assert!(limits(&env).is_empty());
    let table = env.ok(&["limits", "--no-ingest"]);
    assert!(table.starts_with("No plan limits seen yet."), "{table}");
}

#[test]
fn bad_status_input_is_named_not_stored_and_still_prints_a_line() {
    let env = Env::new();
    let n = now_s();
    let good = windows(40.0, n + 3600, 10.0, n + 86_400);
    statusline(&env, &status_json("b-1", Some(good)));
    let before = limits(&env);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "over 100",
            status_json("b-1", Some(windows(140.0, n + 3600, 10.0, n + 86_400))),
            "Claude 5h window: 140% used is not a percentage; not recorded",
        ),
        (
            "negative",
            status_json("b-1", Some(windows(40.0, n + 3600, -5.0, n + 86_400))),
            "Claude week window: -5% used is not a percentage; not recorded",
        ),
        (
            "reset in the past",
            status_json("b-1", Some(windows(41.0, n - 7200, 10.0, n + 86_400))),
            "before it was read",
        ),
        (
            "reset years ahead",
            status_json("b-1", Some(windows(41.0, n + 3600, 10.0, n + 3 * 365 * 86_400))),
            "further ahead than the window is long",
        ),
        (
            "a missing window field",
            status_json("b-1", Some(json!({"five_hour": {"resets_at": n + 3600}}))),
            "rate_limits.five_hour has no used_percentage; not recorded",
        ),
        ("garbage", b"{\"session_id\": \"b-1\", garbage".to_vec(), "stdin is not Claude Code's status line JSON"),
        ("nothing", Vec::new(), "stdin is not Claude Code's status line JSON"),
    ];
    for (what, input, said) in cases {
        let (out, err) = statusline(&env, &input);
        assert!(err.contains(said), "{what}: stderr {err:?}");
        assert_eq!(err.lines().filter(|l| l.contains(said)).count(), 1, "{what}: one line: {err:?}");
        assert!(!out.trim().is_empty() && out.lines().count() == 1, "{what}: a line: {out:?}");
        let after = limits(&env);
        // Other windows of the same input may be recorded; the bad one never.
        for l in &after {
            let p = l["usedPercent"].as_f64().unwrap();
            assert!((0.0..=100.0).contains(&p), "{what}: stored {l}");
            let old = before.iter().find(|b| b["window"] == l["window"]).unwrap();
            if l["observedAt"] != old["observedAt"] {
                assert!([40.0, 41.0, 10.0].contains(&p), "{what}: stored {l}");
            }
        }
        assert!(after.iter().all(|l| l["resetsAt"].as_str().unwrap() < "2030"), "{what}: {after:?}");
    }
    // Garbage still gets the minimal line.
    assert_eq!(statusline(&env, b"\x1b[31mnot json").0, "agentwatch\n");
}

#[test]
fn codex_rollouts_give_both_windows_by_their_length() {
    let env = Env::new();
    let f = env.codex_file("2026/12/06", "rollout-2026-12-06T10-00-00-rl.jsonl");
    let n = now_s();
    let at = |s: i64| ago(s);
    // Codex 0.171.0's shape; the slots are swapped on purpose: the window
    // length says which is which.
    let rl = |five: f64, week: f64| {
        json!({"limit_id": "codex", "limit_name": null,
               "primary": {"used_percent": week, "window_minutes": 10080, "resets_at": n + 4 * 86_400},
               "secondary": {"used_percent": five, "window_minutes": 300, "resets_at": n + 3 * 3600},
               "credits": null, "individual_limit": null, "spend_control_reached": null,
               "plan_type": "plus", "rate_limit_reached_type": null})
    };
    let mut t1 = codex_tokens(&at(1200), Some([1000, 0, 100, 0]), Some([1000, 0, 100, 0]));
    t1["payload"]["rate_limits"] = rl(30.0, 10.0);
    let mut t2 = codex_tokens(&at(60), Some([2000, 0, 200, 0]), Some([1000, 0, 100, 0]));
    t2["payload"]["rate_limits"] = rl(42.0, 17.0);
    // No headers: Codex writes null windows, which say nothing.
    let t3 = json!({"timestamp": at(30), "type": "event_msg", "payload": {"type": "token_count", "info": null,
                    "rate_limits": {"limit_id": "codex", "primary": null, "secondary": null}}});
    write_lines(
        &f,
        &lines(&[codex_meta(&at(1300), "rl", "/home/u/api"), codex_turn(&at(1300), "gpt-5-codex"), t1, t2, t3]),
    );
    let l = env.json(&["limits"])["limits"].as_array().unwrap().clone();
    assert_eq!(l.len(), 2, "{l:?}");
    assert_eq!((&l[0]["agent"], &l[0]["window"], &l[0]["usedPercent"]), (&json!("codex"), &json!("5h"), &json!(42.0)));
    assert_eq!((&l[1]["window"], &l[1]["usedPercent"], &l[1]["plan"]), (&json!("week"), &json!(17.0), &json!("plus")));
    assert_eq!(l[0]["source"], "rollout");
    // 12 points in 19 minutes: the 58 left take about 92 minutes, before
    // the reset in 3 hours.
    let full = chrono::DateTime::parse_from_rfc3339(l[0]["fullAt"].as_str().unwrap()).unwrap().timestamp();
    let expect = n - 60 + (58.0 / 12.0 * 1140.0) as i64;
    assert!((full - expect).abs() <= 2, "{full} vs {expect}");
    // Read again: nothing doubles.
    assert_eq!(env.json(&["limits"])["limits"].as_array().unwrap().len(), 2);
}

#[test]
fn statusline_install_wraps_the_persons_command_and_uninstall_restores_it() {
    let env = Env::new();
    let settings = env.claude.join("settings.json");
    let original = "{\n  \"statusLine\": {\n    \"type\": \"command\",\n    \"command\": \"cat > /dev/null; echo 'my own line'\",\n    \"padding\": 1\n  }\n}\n";
    std::fs::write(&settings, original).unwrap();
    let dry = env.ok(&["statusline", "install", "--agent", "claude-code", "--dry-run"]);
    assert!(dry.contains("(dry run: nothing was changed)") && dry.contains("+    \"command\""), "{dry}");
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), original);
    let out = env.ok(&["statusline", "install", "--agent", "claude-code"]);
    assert!(out.contains("Backed up the previous version to"), "{out}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    let cmd = v["statusLine"]["command"].as_str().unwrap().to_string();
    assert!(cmd.contains(" statusline --then "), "{cmd}");
    assert_eq!(v["statusLine"]["padding"], 1);
    let again = env.ok(&["statusline", "install", "--agent", "claude-code"]);
    assert!(again.contains("already installed"), "{again}");

    // The command as Claude Code runs it: through the shell, JSON on stdin.
    let o = std::process::Command::new("sh")
        .args(["-c", &cmd])
        .envs(env.vars())
        .env_remove("AGENTWATCH_DATA_DIR")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            std::io::Write::write_all(
                &mut c.stdin.take().unwrap(),
                &status_json("w-1", Some(windows(12.0, now_s() + 3600, 3.0, now_s() + 86_400))),
            )?;
            c.wait_with_output()
        })
        .unwrap();
    let printed = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = printed.lines().collect();
    assert_eq!(rows.len(), 2, "{printed} / {}", String::from_utf8_lossy(&o.stderr));
    assert!(rows[0].starts_with("Sonnet 4.5 · $0.42 session"), "{printed}");
    assert_eq!(rows[1], "my own line");
    // The data dir chosen at install went into the command.
    assert_eq!(limits(&env).len(), 2);

    let out = env.ok(&["statusline", "uninstall", "--agent", "claude-code"]);
    assert!(out.contains("Removed the agentwatch status line"), "{out}");
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), original);
    let r = env.run(&["statusline", "install", "--agent", "codex"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("only Claude Code has a status line command"));
}

#[test]
fn a_window_past_the_threshold_alerts_once_through_the_daemon() {
    let env = Env::new();
    let d = env.daemon(1, &[]);
    statusline(&env, &status_json("a-1", Some(windows(86.0, now_s() + 3600, 30.0, now_s() + 86_400))));
    let alert = wait_for(10, "the limit alert", || {
        let a = env.json(&["alerts"]);
        a["alerts"].as_array().unwrap().iter().find(|x| x["kind"] == "limit").cloned()
    });
    assert_eq!(alert["title"], "Claude 5-hour window at 86%");
    assert!(alert["body"].as_str().unwrap().starts_with("Your Claude plan's 5-hour window is 86% used; it resets at "));
    statusline(&env, &status_json("a-1", Some(windows(89.0, now_s() + 3600, 30.0, now_s() + 86_400))));
    let seen = env.last_scan();
    wait_for(10, "two more scans", || (env.last_scan() >= seen + 2).then_some(()));
    let n = env.json(&["alerts"])["alerts"].as_array().unwrap().iter().filter(|x| x["kind"] == "limit").count();
    assert_eq!(n, 1, "once per window");
    drop(d);
}

#[test]
fn a_limit_alert_is_a_desktop_notification_naming_plan_window_and_reset() {
    // A private X display and session bus: dunst shows the notification,
    // dbus-monitor records the Notify call.
    let env = Env::new();
    let log = env.root.join("dbus.log");
    let input = env.root.join("status.json");
    let reset = now_s() + 2 * 3600;
    std::fs::write(&input, status_json("n-1", Some(windows(96.0, reset, 30.0, now_s() + 86_400)))).unwrap();
    let script = format!(
        r#"set -e
dbus-monitor --session "interface=org.freedesktop.Notifications,member=Notify" > {log} 2>/dev/null &
MON=$!
sleep 0.5
{aw} daemon --notify --no-api --scan-interval 1 2>{daemon_log} &
AW=$!
trap 'kill $AW $MON 2>/dev/null || true' EXIT
{aw} statusline < {input} > /dev/null
for i in $(seq 1 300); do grep -q "window at" {log} && break; sleep 0.1; done
kill -TERM $AW; wait $AW || true
kill $MON || true
"#,
        log = log.display(),
        daemon_log = env.root.join("daemon.log").display(),
        aw = BIN,
        input = input.display(),
    );
    env.run_on_private_desktop(&script);
    let recorded = std::fs::read_to_string(&log).unwrap();
    assert!(recorded.contains("string \"Claude 5-hour window at 96%\""), "{recorded}");
    // The reset in the daemon's local time (UTC here), with its weekday when
    // it falls tomorrow (the run started after 22:00).
    let reset_at = chrono::DateTime::from_timestamp(reset, 0).unwrap();
    let today = chrono::Utc::now().date_naive();
    let at = reset_at.format(if reset_at.date_naive() == today { "%H:%M" } else { "%a %H:%M" }).to_string();
    assert!(
        recorded.contains(&format!("string \"Your Claude plan's 5-hour window is 96% used; it resets at {at}.\"")),
        "{recorded}"
    );
}
