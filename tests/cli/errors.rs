//! Wrong calls get one line and exit 2; failures get one line and exit 1;
//! never a panic or a backtrace.

use crate::support::*;

fn one_line_error(o: &std::process::Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(o.stdout.is_empty(), "nothing on stdout: {}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    assert!(err.starts_with("agentwatch: "), "{err}");
    err
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let env = Env::new();
    for (args, want) in [
        (vec!["costs", "daily", "--bogus"], "--bogus"),
        (vec!["costs", "daily", "--since", "yesterday"], "not a date"),
        (vec!["costs", "daily", "--timezone", "Mars/Olympus"], "unknown timezone"),
        (vec!["costs", "daily", "--format", "xml"], "xml"),
        (vec!["costs", "daily", "--since", "2026-11-02", "--until", "2026-11-01"], "is after"),
        (vec!["costs", "daily", "--agent", "bad agent!"], "not an agent type"),
        (vec!["sessions", "history", "--range", "fortnight"], "fortnight"),
        (vec!["sessions", "--limit", "many"], "many"),
        (vec!["frobnicate"], "frobnicate"),
        (vec!["prices", "update", "--from", "/nonexistent/prices.json"], "no such file"),
    ] {
        let err = one_line_error(&env.run(&args), 2);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn help_and_version_exit_0() {
    let env = Env::new();
    let o = env.run(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    for cmd in ["ingest", "costs", "sessions", "prices"] {
        assert!(help.contains(cmd), "{help}");
    }
    let o = env.run(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("agentwatch "));
    // A missing subcommand shows help, as a usage error.
    assert_eq!(env.run(&["costs"]).status.code(), Some(2));
}

#[test]
fn a_data_dir_that_is_a_file_exits_1() {
    let env = Env::new();
    let file = env.root.join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let err = one_line_error(&env.run(&["--data-dir", file.to_str().unwrap(), "costs", "daily"]), 1);
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn a_damaged_database_is_moved_aside_and_rebuilt_from_the_transcripts() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(&f, &lines(&[claude("2026-11-20T10:00:01.000Z", "s1", "msg_1", "req_1", SONNET, U(100, 50, 0, 0))]));
    let clean = env.json(&["costs", "daily"]);
    assert_eq!(clean["totals"]["outputTokens"], 50);
    let db = env.data.join("agentwatch.db");
    let _ = std::fs::remove_file(env.data.join("agentwatch.db-wal"));
    let _ = std::fs::remove_file(env.data.join("agentwatch.db-shm"));
    std::fs::write(&db, vec![b'x'; 4096]).unwrap();

    let o = env.run(&["costs", "daily", "--format", "json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("was damaged or not agentwatch's") && err.contains("agentwatch.db.damaged-"), "{err}");
    let again: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(again["totals"], clean["totals"], "usage rebuilt from the agents' files");
    // The damaged file is kept, byte for byte, next to the new database.
    let kept: Vec<_> = std::fs::read_dir(&env.data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("agentwatch.db.damaged-"))
        .filter(|p| !p.to_string_lossy().ends_with("-wal") && !p.to_string_lossy().ends_with("-shm"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read(&kept[0]).unwrap(), vec![b'x'; 4096]);
    // Only once: the next run is quiet.
    let o = env.run(&["costs", "daily"]);
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_database_from_a_newer_agentwatch_is_refused_and_kept() {
    let env = Env::new();
    env.ok(&["ingest"]);
    let db = env.data.join("agentwatch.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.pragma_update(None, "user_version", 999).unwrap();
    drop(c);
    let err = one_line_error(&env.run(&["costs", "daily"]), 1);
    assert!(err.contains("newer agentwatch"), "{err}");
    let c = rusqlite::Connection::open(&db).unwrap();
    let v: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(v, 999, "left as it was");
}

#[test]
fn an_unreadable_data_dir_exits_1() {
    // Root ignores permissions; a path under a file can never be created.
    let env = Env::new();
    let file = env.root.join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let bad = file.join("data");
    let err = one_line_error(&env.run(&["--data-dir", bad.to_str().unwrap(), "ingest"]), 1);
    assert!(err.contains("plain-file"), "{err}");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::process::Stdio;
    let env = Env::new();
    let mut child = env
        .command(&["prices", "show", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
}
