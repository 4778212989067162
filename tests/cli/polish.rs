//! What a careful user meets at the terminal: output that is what it says,
//! text from transcripts that cannot drive the terminal, tables that fit,
//! settings and flags with clear mistakes, secrets kept out of the store.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::support::*;

/// Control and bidi characters a transcript could carry to a terminal.
const NASTY: [char; 5] = ['\u{1b}', '\u{7}', '\u{202e}', '\u{9b}', '\u{8}'];

fn assert_clean(what: &str, text: &str) {
    if let Some(c) = text.chars().find(|c| NASTY.contains(c)) {
        panic!("{what} passed {c:?} to the terminal raw:\n{text:?}");
    }
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn status_prints_one_fact_per_line() {
    let env = Env::new();
    let out = env.ok(&["status"]);
    assert!(!out.contains("\\n"), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("Monitor ")), "{out}");
    assert!(lines.iter().any(|l| l.starts_with("Database ")), "{out}");
    assert!(lines.iter().any(|l| l.starts_with("Config ")), "{out}");
}

#[test]
fn text_from_transcripts_is_shown_escaped_everywhere() {
    let env = Env::new();
    let cwd = "/home/u/evil\u{1b}]0;pwned\u{7}\u{1b}]52;c;Y3VybCBldmlsfHNo\u{7}dir\u{202e}";
    let model = "claude-x\u{1b}[2J\u{1b}[H-new";
    let mut l = claude("2026-11-20T10:00:00.000Z", "evil-1", "m1", "r1", model, U(100, 10, 0, 0));
    l["cwd"] = json!(cwd);
    l["version"] = json!("2.0\u{1b}[31m");
    write_lines(&env.claude_file("/home/u/evil", "evil-1.jsonl"), &lines(&[l]));
    for args in [
        &["costs", "daily"][..],
        &["costs", "daily", "--breakdown"],
        &["costs", "session"],
        &["costs", "blocks"],
        &["sessions"],
        &["sessions", "history"],
        &["sessions", "show", "evil-1"],
    ] {
        let o = env.run(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert_clean(&format!("{args:?} (stdout)"), &out);
        assert_clean(&format!("{args:?} (stderr)"), &stderr(&o));
    }
    // Shown, escaped, not dropped: the person can see something is odd.
    let show = env.ok(&["sessions", "show", "evil-1"]);
    assert!(show.contains("evil\\u{1b}]0;pwned\\u{7}"), "{show}");
    let o = env.run(&["costs", "daily", "--breakdown"]);
    let warned = stderr(&o);
    assert!(warned.contains("claude-x\\u{1b}[2J"), "the unpriced-model warning names it escaped: {warned}");
    // JSON keeps the real text (serde escapes it for JSON).
    let j = env.json(&["sessions", "show", "evil-1"]);
    assert_eq!(j["session"]["projectPath"], cwd);
}

#[test]
fn tool_names_from_hooks_are_shown_escaped_in_the_remb_view() {
    let env = Env::new();
    let hook = |payload: serde_json::Value| {
        use std::io::Write;
        let mut c = env
            .command(&["hook"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(payload.to_string().as_bytes()).unwrap();
        assert!(c.wait_with_output().unwrap().status.success());
    };
    let base = json!({"session_id": "9f1c2d3e-0000-4000-8000-00000000abcd", "cwd": "/home/u/x\u{1b}]0;t\u{7}"});
    let with = |extra: serde_json::Value| {
        let mut p = base.clone();
        p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        p
    };
    hook(with(json!({"hook_event_name": "SessionStart", "source": "startup"})));
    let tool = "Bash\u{1b}]52;c;cm0gLXJmIH4=\u{7}";
    hook(with(json!({"hook_event_name": "PreToolUse", "tool_name": tool, "tool_input": {}})));
    hook(with(
        json!({"hook_event_name": "PostToolUse", "tool_name": tool, "tool_input": {}, "tool_response": {"stdout": ""}}),
    ));
    let out = env.ok(&["sessions", "--source", "hook", "--no-ingest"]);
    assert_clean("sessions --source hook", &out);
    assert!(out.contains("Bash\\u{1b}]5"), "{out}");
}

#[test]
fn output_to_a_full_disk_is_an_error() {
    let env = Env::new();
    write_lines(
        &env.claude_file("/home/u/web-app", "s1.jsonl"),
        &lines(&[claude("2026-11-20T10:00:00.000Z", "s1", "m1", "r1", SONNET, U(100, 10, 0, 0))]),
    );
    for args in [&["costs", "daily"][..], &["costs", "daily", "--format", "json"], &["sessions"], &["ingest"]] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let o = env.command(args).stdout(full).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains("cannot write output"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // A reader that goes away early is no error.
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!("'{BIN}' costs daily | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}"))
        .envs(env.vars())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "0", "{}", stderr(&o));
}

/// Runs the binary on a pseudo-terminal `cols` wide; returns what it showed.
fn on_terminal(env: &Env, cols: u16, args: &str) -> String {
    let o = Command::new("script")
        .args(["-qec", &format!("stty cols {cols} rows 50; '{BIN}' {args}"), "/dev/null"])
        .envs(env.vars())
        .output()
        .expect("script(1) from bsdutils");
    assert!(o.status.success(), "{args}: {}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stdout).replace("\r\n", "\n")
}

fn big_and_small_days(env: &Env) {
    write_lines(
        &env.claude_file("/home/u/web-app", "s1.jsonl"),
        &lines(&[
            claude("2026-11-20T10:00:00.000Z", "s1", "m1", "r1", SONNET, U(101_920_000, 1_824, 0, 55_000_000)),
            claude("2026-11-21T10:00:00.000Z", "s1", "m2", "r2", SONNET, U(1_824, 12, 0, 0)),
        ]),
    );
}

#[test]
fn tables_use_the_terminals_width_and_one_unit_per_column() {
    let env = Env::new();
    big_and_small_days(&env);
    env.ok(&["ingest"]);
    // Wide terminal: every number in full, the total to the cent.
    let wide = on_terminal(&env, 200, "costs daily --no-ingest");
    assert!(wide.contains("101,920,000") && wide.contains("1,824"), "{wide}");
    let total = wide.lines().find(|l| l.starts_with("Total")).unwrap_or_else(|| panic!("{wide}"));
    assert!(regex_like_cents(total), "{total}");
    // Narrow terminal: nothing wider than it, compact numbers in one unit per
    // column, and a note naming what was left out.
    let narrow = on_terminal(&env, 60, "costs daily --no-ingest");
    for l in narrow.lines() {
        assert!(l.chars().count() <= 60, "wider than 60: {l:?}\n{narrow}");
    }
    // One unit down each column: the small day's input is in millions too.
    let day = |d: &str| narrow.lines().find(|l| l.starts_with(d)).unwrap_or_else(|| panic!("{narrow}")).to_string();
    let input = |l: String| l.split_whitespace().nth(1).unwrap().to_string();
    assert_eq!(input(day("2026-11-20")), "101.92M", "{narrow}");
    assert!(input(day("2026-11-21")).ends_with('M'), "mixed units in a column: {narrow}");
    // Narrower still: columns are left out, and the table says which.
    let narrower = on_terminal(&env, 44, "costs daily --no-ingest");
    assert!(narrower.lines().all(|l| l.chars().count() <= 44), "{narrower}");
    let flat = narrower.replace('\n', " ");
    assert!(flat.contains("left out to fit 44 columns") && flat.contains("Cache Write"), "{narrower}");
    // Not a terminal: 80 columns, as before.
    let piped = env.ok(&["costs", "daily", "--no-ingest"]);
    assert!(piped.lines().all(|l| l.chars().count() <= 80), "{piped}");
}

/// `$123.45` at the end of a line.
fn regex_like_cents(line: &str) -> bool {
    let last = line.split_whitespace().last().unwrap_or("");
    last.starts_with('$') && last.len() > 4 && last.as_bytes()[last.len() - 3] == b'.'
}

#[test]
fn stats_of_nothing_cost_zero_not_minus_zero() {
    let env = Env::new();
    let out = env.ok(&["sessions", "stats"]);
    assert!(!out.contains("-0"), "{out}");
    assert!(out.contains("$0.00"), "{out}");
    let raw = env.ok(&["sessions", "stats", "--format", "json"]);
    assert!(!raw.contains("-0.0"), "{raw}");
}

#[test]
fn a_damaged_database_is_reported_once_without_colour_when_piped() {
    let env = Env::new();
    std::fs::create_dir_all(&env.data).unwrap();
    std::fs::write(env.data.join("agentwatch.db"), b"this is not a database, just text that is long enough").unwrap();
    let o = env.run(&["costs", "daily"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    // One line: ours, not also the log's copy of it.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("warning: the database was damaged"), "{err}");
    assert!(!err.contains('\u{1b}'), "colour on a pipe: {err:?}");
}

#[test]
fn no_color_turns_colour_off_on_a_terminal_too() {
    let env = Env::new();
    std::fs::create_dir_all(&env.data).unwrap();
    std::fs::write(env.data.join("agentwatch.db"), b"not a database either, but long enough to be read").unwrap();
    let o = Command::new("script")
        .args(["-qec", &format!("NO_COLOR=1 '{BIN}' -v costs daily"), "/dev/null"])
        .envs(env.vars())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(shown.contains("damaged"), "{shown}");
    assert!(!shown.contains("\u{1b}["), "{shown:?}");
}

/// A running "agent" whose command line holds secrets: `node <dir>/claude …`
/// (a script named like the agent, as npm installs it).
fn agent_with_secrets(env: &Env, cwd: &Path) -> Proc {
    let script = env.root.join("bin/claude");
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::write(&script, "setTimeout(() => {}, 600000);\n").unwrap();
    env.spawn(
        Path::new("node"),
        &[
            script.to_str().unwrap(),
            "--api-key",
            "sk-ant-api03-SECRETSECRET",
            "ANTHROPIC_AUTH_TOKEN=tok-SECRET2",
            "--mcp",
            "https://user:pa55SECRET3@example.com/mcp",
            "--model",
            "sonnet",
        ],
        cwd,
    )
}

#[test]
fn secrets_on_an_agents_command_line_are_never_stored_or_shown() {
    let env = Env::new();
    let cwd = env.root.join("proj");
    let mut agent = agent_with_secrets(&env, &cwd);
    let pid = agent.pid();
    let s = wait_for(10, "the agent's session", || env.session_with_pid(pid, &[]));
    let command = s["command"].as_str().unwrap().to_string();
    let listed = env.ok(&["sessions"]);
    let api = {
        let port = free_port();
        let _d = env.daemon(1, &["--port", &port.to_string()]);
        http(port, "GET", "/api/sessions", &[("Authorization", &format!("Bearer {}", env.api_token()))], None).body
    };
    agent.kill();
    assert!(!listed.contains("SECRET") && !command.contains("SECRET"), "a secret shown: {listed}\n{command}");
    assert!(listed.contains("--api-key ***"), "{listed}");
    assert!(
        command.contains("--api-key *** ANTHROPIC_AUTH_TOKEN=*** --mcp https://***@example.com/mcp --model sonnet"),
        "{command}"
    );
    assert!(api.contains("--api-key ***") && !api.contains("SECRET"), "{api}");
    // Nor is it anywhere in the database file or its log.
    for f in std::fs::read_dir(&env.data).unwrap() {
        let f = f.unwrap().path();
        if f.is_file() {
            let bytes = std::fs::read(&f).unwrap();
            assert!(!String::from_utf8_lossy(&bytes).contains("SECRET"), "{} holds a secret", f.display());
        }
    }
}

#[test]
fn a_settings_file_with_a_mistake_is_named_with_its_line_by_every_command() {
    let env = Env::new();
    std::fs::create_dir_all(&env.config).unwrap();
    let file = env.config.join("config.toml");
    std::fs::write(&file, "scan_interval_secs = 2\n\n[budgets]\ndaily_usd = \"lots\"\n").unwrap();
    for args in [&["costs", "daily"][..], &["status"], &["sessions"], &["api", "info"]] {
        let o = env.run(args);
        assert!(o.status.success(), "{args:?} must keep working: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("config.toml:4:") && err.contains("using the default settings"), "{args:?}: {err}");
        assert_eq!(err.lines().filter(|l| l.contains("config.toml")).count(), 1, "{err}");
    }
    // The daemon starts too, on the defaults, and says why.
    let port = free_port().to_string();
    let d = env
        .command(&["daemon", "--port", &port, "--scan-interval", "1"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(15, "the daemon", || (env.json(&["status"])["monitor"]["running"] == true).then_some(()));
    sigterm(d.id());
    let out = d.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("config.toml:4:"), "{:?} {err}", out.status);
    // A typo in a key: the rest applies, the typo is named.
    std::fs::write(&file, "[budgets]\ndaly_usd = 5.0\nmonthly_usd = 10.0\n").unwrap();
    let o = env.run(&["costs", "daily"]);
    assert!(o.status.success());
    let err = stderr(&o);
    assert!(err.contains("config.toml:2: unknown setting `budgets.daly_usd` (ignored)"), "{err}");
}

#[test]
fn flags_with_values_nobody_could_mean_are_usage_errors() {
    let env = Env::new();
    for args in [
        &["sessions", "--agent-type", "foo"][..],
        &["sessions", "history", "--agent-type", "foo"],
        &["costs", "daily", "--agent", "foo"],
    ] {
        let o = env.run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("unknown agent type 'foo'") && err.contains("claude-code") && err.contains("codex"),
            "{err}"
        );
    }
    // A type only the user's own signatures name is known.
    std::fs::create_dir_all(&env.config).unwrap();
    std::fs::write(env.config.join("config.toml"), "[[signatures]]\nagent = \"my-agent\"\nnames = [\"my-agent\"]\n")
        .unwrap();
    let out = env.ok(&["sessions", "--agent-type", "my-agent"]);
    assert!(out.contains("No sessions found"), "{out}");
    for args in
        [&["sessions", "--limit", "0"][..], &["sessions", "history", "--limit", "0"], &["alerts", "--limit", "0"]]
    {
        let o = env.run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("at least 1"), "{}", stderr(&o));
    }
    let o = env.run(&["costs"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("daily") && err.contains("blocks"), "{err}");
    for tz in ["utc", "UTC", "europe/berlin", "Europe/Berlin"] {
        let j = env.json(&["costs", "daily", "--timezone", tz]);
        assert!(j["daily"].is_array(), "{tz}: {j}");
    }
    let o = env.run(&["costs", "daily", "--timezone", "Mars/Olympus"]);
    assert_eq!(o.status.code(), Some(2));
}

/// The binary as a user file modes apply to: as root, `nobody` (setpriv),
/// owning this test's whole tree.
#[cfg(unix)]
fn unprivileged(env: &Env, args: &[&str]) -> std::process::Output {
    use std::os::unix::fs::MetadataExt;
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        return env.run(args);
    }
    let owned = Command::new("chown").args(["-R", "65534:65534"]).arg(&env.root).status().unwrap();
    assert!(owned.success());
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]).args(args).env_clear().envs(env.vars());
    c.output().expect("setpriv (util-linux)")
}

#[test]
#[cfg(unix)]
fn an_unreadable_transcript_is_named_and_marks_the_reports_it_leaves_out() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let good = env.claude_file("/home/u/web-app", "s1.jsonl");
    let bad = env.claude_file("/home/u/web-app", "s2.jsonl");
    write_lines(&good, &lines(&[claude("2026-11-20T10:00:00.000Z", "s1", "m1", "r1", SONNET, U(100, 10, 0, 0))]));
    write_lines(&bad, &lines(&[claude("2026-11-20T11:00:00.000Z", "s2", "m2", "r2", SONNET, U(100, 10, 0, 0))]));
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o000)).unwrap();
    let bad_name = bad.display().to_string();
    let json = |args: &[&str]| -> serde_json::Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        let o = unprivileged(&env, &a);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let o = unprivileged(&env, &["costs", "daily"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains(&format!("cannot read {bad_name} (Permission denied")), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Incomplete: 1 transcript file could not be read"), "{out}");
    let j = json(&["costs", "daily"]);
    assert_eq!(j["unreadableFiles"], json!([bad_name]));
    assert_eq!(j["totals"]["totalTokens"], 110, "only the readable file counted: {j}");
    assert_eq!(json(&["sessions"])["unreadableFiles"], json!([bad_name]));
    assert_eq!(json(&["ingest"])["unreadableFiles"][0]["path"], json!(bad_name));
    // Once readable, it is read and the mark goes.
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o644)).unwrap();
    let j = json(&["costs", "daily"]);
    assert!(j.get("unreadableFiles").is_none(), "{j}");
    assert_eq!(j["totals"]["totalTokens"], 220, "{j}");
}

#[test]
fn a_line_from_1970_or_9999_does_not_stretch_its_session() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    let recent = chrono::Utc::now() - chrono::Duration::hours(3);
    let at =
        |mins: i64| (recent + chrono::Duration::minutes(mins)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    write_lines(
        &f,
        &lines(&[
            claude("1970-01-01T00:00:00.000Z", "s1", "m0", "r0", SONNET, U(1, 1, 0, 0)),
            claude(&at(0), "s1", "m1", "r1", SONNET, U(100, 10, 0, 0)),
            claude(&at(60), "s1", "m2", "r2", SONNET, U(100, 10, 0, 0)),
            claude("9999-12-31T23:59:59.000Z", "s1", "m3", "r3", SONNET, U(1, 1, 0, 0)),
        ]),
    );
    let s = env.json(&["sessions", "show", "s1"]);
    assert_eq!(s["session"]["durationSeconds"], 3600, "{s}");
    assert_eq!(s["session"]["state"], "completed", "{s}");
    let active = env.json(&["sessions", "--active"]);
    assert_eq!(active["sessions"], json!([]), "{active}");
    // Its usage still counts, on the day each line names (as ccusage).
    let d = env.json(&["costs", "daily", "--no-ingest"]);
    let days: Vec<&str> = d["daily"].as_array().unwrap().iter().map(|r| r["date"].as_str().unwrap()).collect();
    assert!(days.contains(&"1970-01-01") && days.contains(&"9999-12-31"), "{days:?}");
}
