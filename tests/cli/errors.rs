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
fn a_foreign_database_file_exits_1() {
    let env = Env::new();
    std::fs::create_dir_all(&env.data).unwrap();
    std::fs::write(env.data.join("agentwatch.db"), vec![b'x'; 4096]).unwrap();
    let err = one_line_error(&env.run(&["costs", "daily"]), 1);
    assert!(err.contains("not an SQLite database"), "{err}");
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
