//! Faults (issue 6): writers killed with SIGKILL at random points, a full
//! disk, a read-only data dir, a damaged, foreign or newer database under the
//! daemon, transcripts that change while they are read, clocks far off, and
//! 50 MB lines.
//!
//! After each: the totals equal a clean run's, the database passes
//! `PRAGMA integrity_check` and its three accounts of usage (events, rollup,
//! session totals) agree, errors are one line, nothing spins or crash-loops,
//! and the agents' files are untouched.
//!
//! Kill points are random: each test prints its seed, and
//! `AGENTWATCH_FAULT_SEED=<n>` replays it. `bench/faults` runs the kill test
//! at scale (≥ 200 MB, 20 kills, release build). The disk-full and read-only
//! tests mount a tmpfs or a read-only bind mount in a private mount namespace
//! (`unshare`, `nsenter`): they need root, and say why they skip without it.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

// ---------------------------------------------------------------------------
// Harness

/// A small, seedable random source (xorshift64*).
struct Rng(u64);

impl Rng {
    fn seeded(test: &str) -> Rng {
        let seed = std::env::var("AGENTWATCH_FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 % 1_000_000
        });
        eprintln!("{test}: seed {seed} (AGENTWATCH_FAULT_SEED={seed} replays it)");
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// In [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.below(hi - lo))
    }
}

/// Writes a `bench/gen-corpus` corpus of `mb` MiB into the test's home, where
/// Claude Code and Codex keep their transcripts.
fn corpus(env: &Env, mb: f64, seed: u64) {
    let out = env.root.join("gen");
    let st = Command::new("python3")
        .arg(repo_root().join("bench/gen-corpus"))
        .arg("--out")
        .arg(&out)
        .args(["--size-mb", &mb.to_string(), "--seed", &seed.to_string(), "-q"])
        .status()
        .expect("python3 runs bench/gen-corpus");
    assert!(st.success(), "gen-corpus failed");
    std::fs::remove_dir_all(&env.claude).unwrap();
    std::fs::remove_dir_all(&env.codex).unwrap();
    std::fs::rename(out.join("claude"), &env.claude).unwrap();
    std::fs::rename(out.join("codex"), &env.codex).unwrap();
}

/// `args` with `--data-dir DATA` in front.
fn at<'a>(data: &'a Path, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--data-dir", data.to_str().unwrap()];
    v.extend_from_slice(args);
    v
}

/// A hash of every file under `dir`: names, bytes and modification times.
fn tree_hash(dir: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() { walk(&p, out) } else { out.push(p) }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.hash(&mut h);
        std::fs::read(&f).unwrap().hash(&mut h);
        std::fs::metadata(&f).unwrap().modified().unwrap().hash(&mut h);
    }
    h.finish()
}

/// The database's own account of itself, which every transaction keeps
/// consistent: integrity; the same usage summed from the events, the
/// rollup and the session totals; tool calls counted as many times as they
/// are recorded. Returns the usage sums.
fn check_db(db: &Path) -> Vec<i64> {
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(30)).unwrap();
    let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok", "integrity of {}", db.display());
    let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    if version == 0 {
        // Killed before its schema was made: empty, made on the next start.
        let tables: i64 = c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0)).unwrap();
        assert_eq!(tables, 0, "a database without a version is empty");
        return vec![0; 7];
    }
    let sums = |sql: &str| -> Vec<i64> {
        c.query_row(sql, [], |r| (0..7).map(|i| r.get::<_, i64>(i)).collect::<rusqlite::Result<Vec<i64>>>()).unwrap()
    };
    let events = sums(
        "SELECT COUNT(*), COALESCE(SUM(input), 0), COALESCE(SUM(output), 0), COALESCE(SUM(cw5m), 0),
           COALESCE(SUM(cw1h), 0), COALESCE(SUM(cr), 0), COALESCE(SUM(reasoning), 0) FROM usage_events",
    );
    let rollup = sums(
        "SELECT COALESCE(SUM(events), 0), COALESCE(SUM(input), 0), COALESCE(SUM(output), 0), COALESCE(SUM(cw5m), 0),
           COALESCE(SUM(cw1h), 0), COALESCE(SUM(cr), 0), COALESCE(SUM(reasoning), 0) FROM usage_rollup",
    );
    let sessions = sums(
        "SELECT COALESCE(SUM(events), 0), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
           COALESCE(SUM(cache_write_5m_tokens), 0), COALESCE(SUM(cache_write_1h_tokens), 0),
           COALESCE(SUM(cache_read_tokens), 0), COALESCE(SUM(reasoning_tokens), 0) FROM sessions",
    );
    assert_eq!(events, rollup, "the rollup sums the events");
    let hour_mismatch = |a: &str, b: &str| -> i64 {
        c.query_row(&format!("SELECT COUNT(*) FROM ({a} EXCEPT {b})"), [], |r| r.get(0)).unwrap()
    };
    let by_hour = "SELECT session, CASE WHEN bucket >= 0 THEN bucket / 4 ELSE (bucket - 3) / 4 END, model, flags,
         SUM(events), SUM(input), SUM(output), SUM(cw5m), SUM(cw1h), SUM(cr), SUM(reasoning)
         FROM usage_rollup GROUP BY 1, 2, 3, 4";
    let hourly =
        "SELECT session, hour, model, flags, events, input, output, cw5m, cw1h, cr, reasoning FROM usage_rollup_hour";
    assert_eq!(hour_mismatch(by_hour, hourly) + hour_mismatch(hourly, by_hour), 0, "the hourly rollup sums the rollup");
    // A session counts calls: not the agent's own `<synthetic>` messages (flag 16).
    let calls = sums(
        "SELECT COUNT(*), COALESCE(SUM(input), 0), COALESCE(SUM(output), 0), COALESCE(SUM(cw5m), 0),
           COALESCE(SUM(cw1h), 0), COALESCE(SUM(cr), 0), COALESCE(SUM(reasoning), 0) FROM usage_events
         WHERE flags & 16 = 0",
    );
    assert_eq!(calls, sessions, "the session totals sum the events");
    let miscounted: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM sessions s WHERE s.tool_calls != (SELECT COUNT(*) FROM tool_calls t WHERE t.session = s.pk)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(miscounted, 0, "every session counts its recorded tool calls exactly");
    events
}

/// What must come out the same however often the writers were killed: the
/// daily report, every session's usage and cost, and the database's sums.
/// Each session's cached cost (shown by `sessions`) must equal the cost its
/// report computes.
fn totals(env: &Env, data: &Path) -> Value {
    let daily = env.json(&at(data, &["costs", "daily", "--no-ingest"]));
    let report = env.json(&at(data, &["costs", "session", "--no-ingest"]));
    let c = rusqlite::Connection::open(data.join("agentwatch.db")).unwrap();
    let mut sessions = BTreeMap::new();
    for s in report["session"].as_array().unwrap() {
        let id = s["sessionId"].as_str().unwrap().to_string();
        let cached: Option<f64> =
            c.query_row("SELECT cost_usd FROM sessions WHERE id = ?1", [&id], |r| r.get(0)).unwrap();
        let computed = s["totalCost"].as_f64();
        let same = match (cached, computed) {
            (Some(a), Some(b)) => close(a, b),
            (a, b) => a == b,
        };
        assert!(same, "session {id}: cached cost {cached:?}, report {computed:?}");
        let mut s = s.clone();
        s.as_object_mut().unwrap().remove("lastActivity");
        sessions.insert(id, s);
    }
    json!({"daily": daily, "sessions": sessions, "db": check_db(&data.join("agentwatch.db"))})
}

/// Equal, with costs equal to 1e-9 relative: a sum of float costs may differ
/// in its last bit with the order rows were stored in (their ids follow the
/// order files were read in, which varies from run to run).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w)),
        _ => a == b,
    }
}

fn assert_same_totals(env: &Env, faulty: &Path, clean: &Path) {
    let (a, b) = (totals(env, faulty), totals(env, clean));
    if !same(&a, &b) {
        let diff: Vec<String> = a["sessions"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, v)| !b["sessions"].get(k.as_str()).is_some_and(|w| same(v, w)))
            .map(|(k, v)| format!("{k}: {v} vs {}", b["sessions"].get(k.as_str()).unwrap_or(&Value::Null)))
            .take(5)
            .collect();
        panic!(
            "totals differ from a clean run's\nfaulty: {}\nclean:  {}\nsessions: {diff:#?}",
            a["daily"]["totals"], b["daily"]["totals"]
        );
    }
}

/// Runs `args` and kills it with SIGKILL after `after` (if it is still
/// running). Returns whether it had finished on its own.
fn kill_after(env: &Env, args: &[&str], after: Duration) -> bool {
    let mut c = env.command(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let until = Instant::now() + after;
    while Instant::now() < until {
        if c.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1).min(until.saturating_duration_since(Instant::now())));
    }
    let done = c.try_wait().unwrap().is_some();
    let _ = c.kill();
    let _ = c.wait();
    done
}

/// Asserts a command's failure is one line on stderr, no panic.
fn one_line(o: &Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("agentwatch: ")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err:?}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    lines[0].to_string()
}

/// A daemon started by hand, its stderr read line by line.
struct Spawned {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Spawned {
    fn start(cmd: &mut Command) -> Spawned {
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let (tx, lines) = channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(err).lines().map_while(|l| l.ok()) {
                let _ = tx.send(l);
            }
        });
        Spawned { child, lines, seen: Vec::new() }
    }

    /// Waits for a stderr line containing `text`.
    fn wait_line(&mut self, text: &str, secs: u64) -> String {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(l) = self.seen.iter().find(|l| l.contains(text)) {
                return l.clone();
            }
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("no line with {text:?} within {secs} s; stderr so far: {:?}", self.seen),
            }
        }
    }

    /// Waits for it to exit; returns the status code and all of stderr.
    fn wait_exit(mut self, secs: u64) -> (Option<i32>, String) {
        let until = Instant::now() + Duration::from_secs(secs);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!("still running after {secs} s; stderr: {:?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(l);
        }
        (status.code(), self.seen.join("\n"))
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The one error line of a daemon's stderr (besides its start-up line).
fn daemon_error(code: Option<i32>, err: &str) -> String {
    assert_eq!(code, Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("agentwatch: ")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err:?}");
    lines[0].to_string()
}

/// Appends `text` in two writes with a pause between, so that readers see a
/// partial line now and then.
fn append_in_halves(p: &Path, text: &str, pause: Duration) {
    let mut f = std::fs::OpenOptions::new().append(true).create(true).open(p).unwrap();
    let cut = text.len() / 2;
    f.write_all(&text.as_bytes()[..cut]).unwrap();
    std::thread::sleep(pause);
    f.write_all(&text.as_bytes()[cut..]).unwrap();
}

fn ts(i: u64) -> String {
    let t = chrono::DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").unwrap() + chrono::Duration::seconds(i as i64);
    t.to_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One Claude call as Claude Code writes it while streaming: a snapshot
/// with a partial output count, then the final line.
fn claude_call(session: &str, i: u64) -> (String, String) {
    let (m, r) = (format!("msg-{session}-{i}"), format!("req-{session}-{i}"));
    let first = line(&claude(&ts(i), session, &m, &r, SONNET, U(100 + i, 1, 50, 1000)));
    let last = line(&claude(&ts(i), session, &m, &r, SONNET, U(100 + i, 20 + i % 7, 50, 1000)));
    (first, last)
}

// ---------------------------------------------------------------------------
// kill -9

#[test]
fn ingest_and_daemon_killed_at_random_points_lose_nothing_and_count_nothing_twice() {
    let mut rng = Rng::seeded("kill -9 during ingest");
    let env = Env::new();
    corpus(&env, 6.0, 7);
    let before = tree_hash(&env.home);
    let clean = env.root.join("clean");
    let started = Instant::now();
    env.ok(&at(&clean, &["ingest"]));
    // Kill points spread over the whole run: start-up, reading, the
    // commit, the session costs, the daemon's first scan.
    let window = started.elapsed().mul_f64(1.5);
    let faulty = env.root.join("faulty");
    let kills = 10;
    let mut finished = 0;
    for i in 0..kills {
        let after = window.mul_f64((i as f64 + rng.unit()) / kills as f64);
        let args: &[&str] = if i % 2 == 0 { &["ingest"] } else { &["daemon", "--no-api", "--scan-interval", "1"] };
        finished += kill_after(&env, &at(&faulty, args), after) as u32;
        if faulty.join("agentwatch.db").exists() {
            check_db(&faulty.join("agentwatch.db"));
        }
    }
    eprintln!("{kills} kills within {window:?}; {finished} runs had finished before their kill");
    env.ok(&at(&faulty, &["ingest"]));
    assert_same_totals(&env, &faulty, &clean);
    assert_eq!(tree_hash(&env.home), before, "the agents' files are untouched");
}

#[test]
fn a_daemon_killed_while_agents_write_catches_up_exactly() {
    let mut rng = Rng::seeded("kill -9 during live writes");
    let env = Env::new();
    corpus(&env, 2.0, 11);
    let faulty = env.root.join("faulty");
    let stop = Arc::new(AtomicBool::new(false));
    // An agent at work: Claude calls streamed in snapshots, Codex totals
    // growing, lines written in halves.
    let writer = {
        let stop = stop.clone();
        let a = env.claude_file("/home/u/live", "live-a.jsonl");
        let b = env.claude_file("/home/u/live", "live-b.jsonl");
        let c = env.codex_file("2026-11-20", "rollout-2026-11-20T12-00-00-live-c.jsonl");
        write_lines(&c, &lines(&[codex_meta(&ts(0), "live-c", "/home/u/live"), codex_turn(&ts(0), "gpt-5-codex")]));
        let mut seed = rng.next();
        std::thread::spawn(move || {
            let mut total = [0u64; 4];
            let mut i = 1;
            while !stop.load(Ordering::Relaxed) {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let pause = Duration::from_millis(1 + (seed >> 60));
                match i % 3 {
                    2 => {
                        let delta = [200 + i, 100, 30, 5];
                        for k in 0..4 {
                            total[k] += delta[k];
                        }
                        let l = line(&codex_tokens(&ts(i), Some(total), Some(delta)));
                        append_in_halves(&c, &format!("{l}\n"), pause);
                    }
                    k => {
                        let (f, s) = if k == 0 { (&a, "live-a") } else { (&b, "live-b") };
                        let (first, last) = claude_call(s, i);
                        append(f, &format!("{first}\n"));
                        append_in_halves(f, &format!("{last}\n"), pause);
                    }
                }
                i += 1;
                std::thread::sleep(pause);
            }
            i
        })
    };
    let until = Instant::now() + Duration::from_secs(4);
    let mut rounds = 0;
    while Instant::now() < until {
        kill_after(&env, &at(&faulty, &["daemon", "--no-api", "--scan-interval", "1"]), rng.millis(50, 700));
        if rng.below(3) == 0 {
            kill_after(&env, &at(&faulty, &["ingest"]), rng.millis(5, 150));
        }
        check_db(&faulty.join("agentwatch.db"));
        rounds += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    eprintln!("{rounds} daemon kills while {written} calls were written");
    env.ok(&at(&faulty, &["ingest"]));
    let clean = env.root.join("clean");
    env.ok(&at(&clean, &["ingest"]));
    assert_same_totals(&env, &faulty, &clean);
}

#[test]
fn killed_hook_and_proxy_writers_leave_a_consistent_database_and_count_once() {
    let mut rng = Rng::seeded("kill -9 of hooks and mcp-proxy");
    let env = Env::new();
    let db = env.data.join("agentwatch.db");
    // mcp-proxy in front of `cat`: a stream of tool calls, killed mid-way.
    let mut sent = 0;
    for round in 0..6 {
        let mut child = env
            .command(&["mcp-proxy", "--label", &format!("round-{round}"), "--", "cat"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"clientInfo":{"name":"fault-test","version":"1"}}}"#;
            let mut n = 0;
            if writeln!(stdin, "{init}").is_err() {
                return n;
            }
            for i in 1.. {
                let msg = format!(
                    r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"p{round}-{i}","arguments":{{}}}}}}"#
                );
                if writeln!(stdin, "{msg}").is_err() {
                    break;
                }
                n += 1;
                std::thread::sleep(Duration::from_micros(300));
            }
            n
        });
        std::thread::sleep(rng.millis(100, 600));
        let _ = child.kill();
        let _ = child.wait();
        sent += feeder.join().unwrap();
        check_db(&db);
    }
    // Hooks: a burst of PostToolUse calls, some killed at random moments.
    let payload = |tool: &str| {
        json!({"session_id": "7e1c2d3e-0000-4000-8000-00000000f00d", "cwd": "/home/u/app", "hook_event_name": "PostToolUse",
               "tool_name": tool, "tool_input": {}, "tool_response": {"stdout": "ok"}})
        .to_string()
    };
    let mut finished_hooks = 0;
    for i in 0..30 {
        let mut c =
            env.command(&["hook"]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let _ = c.stdin.take().unwrap().write_all(payload(&format!("h{i}")).as_bytes());
        if i % 3 == 0 {
            std::thread::sleep(rng.millis(0, 40));
            let _ = c.kill();
        }
        if c.wait().unwrap().success() {
            finished_hooks += 1;
        }
    }
    check_db(&db);
    // Nothing is counted twice: each call was sent once.
    let c = rusqlite::Connection::open(&db).unwrap();
    let (rows, distinct): (i64, i64) = c
        .query_row("SELECT COUNT(*), COUNT(DISTINCT tool) FROM tool_calls", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(rows, distinct, "no tool call recorded twice");
    let hooks: i64 = c.query_row("SELECT COUNT(*) FROM tool_calls WHERE tool LIKE 'h%'", [], |r| r.get(0)).unwrap();
    assert!(hooks >= finished_hooks && hooks <= 30, "{hooks} hook calls recorded, {finished_hooks} hooks finished");
    let proxied: i64 = c.query_row("SELECT COUNT(*) FROM tool_calls WHERE tool LIKE 'p%'", [], |r| r.get(0)).unwrap();
    assert!(proxied <= sent as i64, "{proxied} proxied calls recorded of {sent} sent");
    drop(c);
    eprintln!("{sent} calls through killed proxies, {proxied} recorded; {finished_hooks}/30 hooks finished");
    // The next writers work and count exactly.
    let mut child =
        env.command(&["mcp-proxy", "--", "cat"]).stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{"clientInfo":{{"name":"after","version":"1"}}}}}}"#
    )
    .unwrap();
    for i in 1..=5 {
        writeln!(stdin, r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"after-{i}"}}}}"#)
            .unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    let mut c = env.command(&["hook"]).stdin(Stdio::piped()).spawn().unwrap();
    c.stdin.take().unwrap().write_all(payload("after-hook").as_bytes()).unwrap();
    assert!(c.wait().unwrap().success());
    let r = env.json(&["sessions", "--source", "proxy", "--no-ingest", "--limit", "100"]);
    let after =
        r["sessions"].as_array().unwrap().iter().find(|s| s["agentLabel"] == "after").expect("the new proxy session");
    assert_eq!(after["toolCallCount"], 5);
    let c = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = c.query_row("SELECT COUNT(*) FROM tool_calls WHERE tool = 'after-hook'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    check_db(&db);
}

// ---------------------------------------------------------------------------
// Disk full, read-only data dir

/// A private mount namespace, kept alive by a `sleep` inside it; commands
/// run in it through `nsenter`. Its mounts vanish with it.
struct MountNs {
    holder: Proc,
}

impl MountNs {
    /// The namespace, or why there cannot be one here (the test then skips).
    fn new() -> Result<MountNs, String> {
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sleep", "600"])
            .own_group()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run unshare: {e}"))?;
        let mut ns = MountNs { holder: Proc(child) };
        let own = std::fs::read_link("/proc/self/ns/mnt").map_err(|e| e.to_string())?;
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = ns.holder.0.try_wait().unwrap() {
                let mut err = String::new();
                let _ = std::io::Read::read_to_string(ns.holder.0.stderr.as_mut().unwrap(), &mut err);
                return Err(format!("unshare --mount failed ({st}): {}", err.trim()));
            }
            let theirs = std::fs::read_link(format!("/proc/{}/ns/mnt", ns.holder.pid()));
            if theirs.is_ok_and(|t| t != own) {
                return Ok(ns);
            }
            if Instant::now() > until {
                return Err("the mount namespace did not appear".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A command run inside the namespace.
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut c = Command::new("nsenter");
        c.args(["-t", &self.holder.pid().to_string(), "-m", "--", program]).args(args);
        c
    }

    /// agentwatch inside the namespace, with the test's environment.
    fn agentwatch(&self, env: &Env, args: &[&str]) -> Command {
        let mut c = self.command(BIN, args);
        c.env_clear().envs(env.vars());
        c
    }

    fn sh(&self, script: &str) -> Result<(), String> {
        let o = self.command("sh", &["-c", script]).output().map_err(|e| e.to_string())?;
        match o.status.success() {
            true => Ok(()),
            false => Err(format!("`{script}` failed: {}", String::from_utf8_lossy(&o.stderr).trim())),
        }
    }

    /// A path as the namespace sees it, from outside it. (SQLite resolves
    /// the `/proc/PID/root` link to `/`: open copies, see [`MountNs::copy_db`].)
    fn path(&self, p: &Path) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root{}", self.holder.pid(), p.display()))
    }

    /// A copy of the database in the namespace's data dir `data`, made
    /// while nothing uses it, in `to`.
    fn copy_db(&self, data: &Path, to: &Path) -> PathBuf {
        let _ = std::fs::remove_dir_all(to);
        std::fs::create_dir_all(to).unwrap();
        for name in ["agentwatch.db", "agentwatch.db-wal", "agentwatch.db-shm"] {
            let from = self.path(data).join(name);
            if from.exists() {
                std::fs::copy(&from, to.join(name)).unwrap();
            }
        }
        to.to_path_buf()
    }
}

/// The namespace with `mount` run in it, or `None` after saying why the
/// test skips (on stderr itself, past the test harness's capture, so that
/// `make test` shows it).
fn mounted(test: &str, mount: &str) -> Option<MountNs> {
    let skip = |why: String| {
        let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}; run the tests as root to include it");
        None
    };
    let ns = match MountNs::new() {
        Ok(ns) => ns,
        Err(why) => return skip(format!("no private mount namespace ({why})")),
    };
    match ns.sh(mount) {
        Ok(()) => Some(ns),
        Err(why) => skip(format!("cannot mount ({why})")),
    }
}

fn hook_payload() -> String {
    json!({"session_id": "5e1c2d3e-0000-4000-8000-00000000beef", "cwd": "/home/u/app", "hook_event_name": "PostToolUse",
           "tool_name": "Bash", "tool_input": {}, "tool_response": {"stdout": "ok"}})
    .to_string()
}

/// `agentwatch hook` never fails the agent: exit 0, silent.
fn hook_is_silent(mut c: Command) {
    let mut child = c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(hook_payload().as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `agentwatch mcp-proxy` relays every message byte for byte whatever
/// happens to its database, and says so at most once.
fn proxy_relays_anyway(mut c: Command) {
    let mut input = String::from(
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"clientInfo":{"name":"relay","version":"1"}}}"#,
    );
    input.push('\n');
    for i in 1..=50 {
        input.push_str(&format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"t{i}"}}}}"#));
        input.push('\n');
    }
    let mut child = c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.clone();
    let w = std::thread::spawn(move || stdin.write_all(data.as_bytes()).unwrap());
    let o = child.wait_with_output().unwrap();
    w.join().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout == input.as_bytes(), "relayed bytes differ");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.lines().count() <= 1 && !err.contains("panicked"), "{err}");
}

#[test]
fn a_full_disk_gets_one_line_no_crash_loop_and_loses_nothing() {
    let env = Env::new();
    corpus(&env, 3.0, 3);
    let before = tree_hash(&env.home);
    std::fs::create_dir_all(&env.data).unwrap();
    let data = env.data.display().to_string();
    let Some(ns) = mounted("disk full", &format!("mount -t tmpfs -o size=4m,mode=0700 tmpfs {data}")) else { return };
    // Full, with a few KB left.
    let fill =
        |name: &str| ns.sh(&format!("cat /dev/zero > {data}/{name} 2>/dev/null; truncate -s -16K {data}/{name}"));
    fill("filler").unwrap();

    let err = one_line(&ns.agentwatch(&env, &["ingest"]).output().unwrap(), 1);
    assert!(err.contains("the disk is full"), "{err}");
    let err = one_line(&ns.agentwatch(&env, &["costs", "daily"]).output().unwrap(), 1);
    assert!(err.contains("the disk is full"), "{err}");
    hook_is_silent(ns.agentwatch(&env, &["hook"]));
    proxy_relays_anyway(ns.agentwatch(&env, &["mcp-proxy", "--", "cat"]));
    // The daemon says so once and exits: no restart loop, no spinning.
    let d = Spawned::start(&mut ns.agentwatch(&env, &["daemon", "--no-api", "--scan-interval", "1"]));
    let (code, err) = d.wait_exit(30);
    let line = daemon_error(code, &err);
    assert!(line.contains("disk is full") || line.contains("No space left"), "{line}");

    // Space again: everything is read, nothing lost or doubled.
    ns.sh(&format!("rm {data}/filler")).unwrap();
    let o = ns.agentwatch(&env, &["ingest"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let clean = env.root.join("clean");
    env.ok(&at(&clean, &["ingest"]));
    let copy = env.root.join("copy");
    assert_same_totals(&env, &ns.copy_db(&env.data, &copy), &clean);

    assert_eq!(tree_hash(&env.home), before, "the agents' files are untouched");

    // The disk fills up under a running daemon.
    let mut d = Spawned::start(&mut ns.agentwatch(&env, &["daemon", "--no-api", "--scan-interval", "1"]));
    d.wait_line("agentwatch daemon:", 30);
    std::thread::sleep(Duration::from_millis(500));
    fill("filler").unwrap();
    let f = env.claude_file("/home/u/full", "full.jsonl");
    let mut i = 0;
    let exited = loop {
        let text: String = (0..500)
            .map(|_| {
                i += 1;
                format!("{}\n", claude_call("full", i).1)
            })
            .collect();
        append(&f, &text);
        std::thread::sleep(Duration::from_millis(300));
        if d.child.try_wait().unwrap().is_some() || i >= 20_000 {
            break d.child.try_wait().unwrap().is_some();
        }
    };
    if exited {
        let (code, err) = d.wait_exit(10);
        let line = daemon_error(code, &err);
        assert!(line.contains("disk is full") || line.contains("No space left"), "{line}");
    } else {
        // It kept running: then it must still be working sanely.
        eprintln!("the daemon kept running on the full disk");
        d.kill();
    }
    ns.sh(&format!("rm {data}/filler")).unwrap();
    let o = ns.agentwatch(&env, &["ingest"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::remove_dir_all(&clean).unwrap();
    env.ok(&at(&clean, &["ingest"]));
    assert_same_totals(&env, &ns.copy_db(&env.data, &copy), &clean);
    let leftovers: Vec<String> = std::fs::read_dir(ns.path(&env.data))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("write-test"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_read_only_data_dir_gets_one_line_and_reports_still_work() {
    let env = Env::new();
    corpus(&env, 1.0, 5);
    let before = tree_hash(&env.home);
    let empty = env.root.join("ro-empty");
    let full = env.root.join("ro-full");
    std::fs::create_dir_all(&empty).unwrap();
    env.ok(&at(&full, &["ingest"]));
    let ro = |d: &Path| format!("mount --bind {0} {0} && mount -o remount,bind,ro {0}", d.display());
    let Some(ns) = mounted("read-only data dir", &format!("{} && {}", ro(&empty), ro(&full))) else { return };

    // Nothing yet: nothing can start.
    for args in [&["ingest"][..], &["costs", "daily"], &["sessions", "--no-ingest"]] {
        let err = one_line(&ns.agentwatch(&env, &at(&empty, args)).output().unwrap(), 1);
        assert!(err.contains("Read-only file system") || err.contains("read-only"), "{args:?}: {err}");
    }
    let d = Spawned::start(&mut ns.agentwatch(&env, &at(&empty, &["daemon", "--no-api"])));
    let (code, err) = d.wait_exit(20);
    assert!(daemon_error(code, &err).contains("Read-only file system"), "{err}");
    hook_is_silent(ns.agentwatch(&env, &at(&empty, &["hook"])));
    proxy_relays_anyway(ns.agentwatch(&env, &at(&empty, &["mcp-proxy", "--", "cat"])));

    assert_eq!(tree_hash(&env.home), before, "the agents' files are untouched");

    // A database from before: what it holds can still be shown; reading new
    // data cannot work and says why.
    append(&env.claude_file("/home/u/ro", "ro.jsonl"), &format!("{}\n", claude_call("ro", 1).1));
    let err = one_line(&ns.agentwatch(&env, &at(&full, &["costs", "daily"])).output().unwrap(), 1);
    assert!(err.contains("read-only"), "{err}");
    for args in [&["costs", "daily", "--no-ingest"][..], &["sessions", "--no-ingest"]] {
        let o = ns.agentwatch(&env, &at(&full, args)).output().unwrap();
        if !o.status.success() {
            let err = one_line(&o, 1);
            assert!(err.contains("read-only"), "{args:?}: {err}");
        }
    }
    let d = Spawned::start(&mut ns.agentwatch(&env, &at(&full, &["daemon", "--no-api"])));
    let (code, err) = d.wait_exit(20);
    daemon_error(code, &err);
}

// ---------------------------------------------------------------------------
// Damaged, foreign and newer databases under the daemon

/// Waits until the daemon on `data` has scanned (its start-up ingest done).
fn wait_first_scan(env: &Env, data: &Path, since_ms: i64) {
    wait_for(60, "the daemon's first scan", || {
        let s = env.json(&at(data, &["status"]));
        let at = s["monitor"]["lastScan"]["at"].as_i64().unwrap_or(0);
        (s["monitor"]["running"] == true && at >= since_ms).then_some(())
    });
}

fn daemon_cmd(env: &Env, data: &Path) -> Command {
    env.command(&at(data, &["daemon", "--no-api", "--scan-interval", "1"]))
}

/// Overwrites the first page of `table` with garbage: the database opens,
/// and the damage shows only when the table is read.
fn damage_table(db: &Path, table: &str) {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    let page: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    let root: i64 = c.query_row("SELECT rootpage FROM sqlite_master WHERE name = ?1", [table], |r| r.get(0)).unwrap();
    drop(c);
    let mut f = std::fs::OpenOptions::new().write(true).open(db).unwrap();
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(((root - 1) * page) as u64)).unwrap();
    f.write_all(&vec![0xff; page as usize]).unwrap();
}

#[test]
fn the_daemon_rebuilds_a_damaged_or_foreign_database_and_refuses_a_newer_one() {
    let env = Env::new();
    corpus(&env, 1.0, 9);
    let before = tree_hash(&env.home);
    let clean = env.root.join("clean");
    env.ok(&at(&clean, &["ingest"]));

    // Someone else's SQLite file: moved aside intact, the user told, rebuilt.
    let data = env.root.join("foreign");
    std::fs::create_dir_all(&data).unwrap();
    let c = rusqlite::Connection::open(data.join("agentwatch.db")).unwrap();
    c.execute_batch(
        "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos (name) VALUES ('cat');",
    )
    .unwrap();
    drop(c);
    let started = chrono::Utc::now().timestamp_millis();
    let mut d = Spawned::start(&mut daemon_cmd(&env, &data));
    let warning = d.wait_line("warning:", 30);
    assert!(warning.contains("moved to") && warning.contains("agentwatch.db.damaged-"), "{warning}");
    wait_first_scan(&env, &data, started);
    d.kill();
    assert_same_totals(&env, &data, &clean);
    let aside = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().ends_with(|c: char| c.is_ascii_digit()))
        .unwrap();
    let c = rusqlite::Connection::open(&aside).unwrap();
    assert_eq!(c.query_row("SELECT name FROM photos", [], |r| r.get::<_, String>(0)).unwrap(), "cat");

    assert_eq!(tree_hash(&env.home), before, "the agents' files are untouched");

    // Damage found while in use: the daemon exits with one line, and the
    // next start rebuilds: no loop of failing starts.
    for table in ["files", "sessions", "usage_rollup"] {
        let data = env.root.join(format!("damaged-{table}"));
        env.ok(&at(&data, &["ingest"]));
        damage_table(&data.join("agentwatch.db"), table);
        // New usage, so that the daemon writes.
        append(&env.claude_file("/home/u/dmg", &format!("{table}.jsonl")), &format!("{}\n", claude_call(table, 1).1));
        let (code, err) = Spawned::start(&mut daemon_cmd(&env, &data)).wait_exit(30);
        let line = daemon_error(code, &err);
        assert!(line.contains("rebuilt at the next start") && line.contains(&*data.to_string_lossy()), "{line}");
        let started = chrono::Utc::now().timestamp_millis();
        let mut d = Spawned::start(&mut daemon_cmd(&env, &data));
        let warning = d.wait_line("warning:", 30);
        assert!(warning.contains("moved to"), "{warning}");
        wait_first_scan(&env, &data, started);
        d.kill();
        std::fs::remove_dir_all(&clean).unwrap();
        env.ok(&at(&clean, &["ingest"]));
        assert_same_totals(&env, &data, &clean);
    }

    // A newer agentwatch's database: refused, untouched, every time.
    let data = env.root.join("newer");
    env.ok(&at(&data, &["ingest"]));
    let db = data.join("agentwatch.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.pragma_update(None, "user_version", 999).unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    drop(c);
    let bytes = std::fs::read(&db).unwrap();
    for _ in 0..2 {
        let (code, err) = Spawned::start(&mut daemon_cmd(&env, &data)).wait_exit(30);
        assert!(daemon_error(code, &err).contains("newer agentwatch"), "{err}");
    }
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "left as it was");
}

// ---------------------------------------------------------------------------
// Transcripts that change while they are read

#[test]
fn transcripts_rotated_truncated_replaced_or_deleted_while_read_are_counted_once() {
    let mut rng = Rng::seeded("transcripts changing while read");
    let env = Env::new();
    let faulty = env.root.join("faulty");
    let stop = Arc::new(AtomicBool::new(false));
    // Readers: a daemon (watching) and `ingest` runs, some killed.
    let mut daemon = Spawned::start(&mut daemon_cmd(&env, &faulty));
    daemon.wait_line("agentwatch daemon:", 30);
    let readers = {
        let (stop, vars, faulty) = (stop.clone(), env.vars(), faulty.clone());
        let mut seed = rng.next();
        std::thread::spawn(move || {
            let mut runs = 0;
            while !stop.load(Ordering::Relaxed) {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let mut c = Command::new(BIN)
                    .args(["--data-dir", faulty.to_str().unwrap(), "ingest"])
                    .env_clear()
                    .envs(vars.clone())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                std::thread::sleep(Duration::from_millis(seed >> 57));
                if seed & 1 == 0 {
                    let _ = c.kill();
                }
                let _ = c.wait();
                runs += 1;
            }
            runs
        })
    };

    // Claude files whose every call stays in some transcript: the final
    // tree holds all of them, and a clean run of it is the reference.
    let files: Vec<PathBuf> = (0..3).map(|k| env.claude_file("/home/u/churn", &format!("churn-{k}.jsonl"))).collect();
    let mut content: Vec<Vec<String>> = vec![Vec::new(); files.len()];
    let mut next = 0u64;
    let mut ops = BTreeMap::new();
    let until = Instant::now() + Duration::from_secs(4);
    let mut rotations = 0;
    while Instant::now() < until {
        let k = rng.below(files.len() as u64) as usize;
        let f = &files[k];
        let session = format!("churn-{k}");
        let new_lines = |rng: &mut Rng, next: &mut u64| {
            let n = 1 + rng.below(20);
            let mut v = Vec::new();
            for _ in 0..n {
                *next += 1;
                let (first, last) = claude_call(&session, *next);
                v.push(first);
                v.push(last);
            }
            v
        };
        let op = match rng.below(6) {
            0 => {
                // Appended, partly in halves.
                let add = new_lines(&mut rng, &mut next);
                for l in &add {
                    append_in_halves(f, &format!("{l}\n"), Duration::from_millis(2));
                }
                content[k].extend(add);
                "append"
            }
            1 => {
                // Truncated, then written again (and grown) in pieces.
                content[k].extend(new_lines(&mut rng, &mut next));
                let text = format!("{}\n", content[k].join("\n"));
                let mut h = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(f).unwrap();
                for piece in text.as_bytes().chunks(4096) {
                    h.write_all(piece).unwrap();
                    std::thread::sleep(Duration::from_millis(1));
                }
                "truncate"
            }
            2 => {
                // Cut mid-line, then the rest written back.
                let text = format!("{}\n", content[k].join("\n"));
                let cut = rng.below(text.len() as u64) as usize;
                std::fs::write(f, &text.as_bytes()[..cut]).unwrap();
                std::thread::sleep(Duration::from_millis(20));
                append(f, &text[cut..]);
                "cut"
            }
            3 => {
                // Replaced by a new file (an editor's atomic save), grown.
                content[k].extend(new_lines(&mut rng, &mut next));
                let tmp = f.with_extension("tmp");
                write_lines(&tmp, &content[k]);
                std::fs::rename(&tmp, f).unwrap();
                "replace"
            }
            4 => {
                // Rotated: renamed to another transcript, continued in a new file.
                rotations += 1;
                let rotated = f.with_file_name(format!("churn-{k}-{rotations}.jsonl"));
                if f.exists() {
                    std::fs::rename(f, rotated).unwrap();
                }
                content[k] = new_lines(&mut rng, &mut next);
                write_lines(f, &content[k]);
                "rotate"
            }
            _ => {
                // A copy that is deleted again while readers may be in it.
                let copy = f.with_file_name(format!("copy-{k}.jsonl"));
                write_lines(&copy, &content[k]);
                std::thread::sleep(Duration::from_millis(rng.below(50)));
                let _ = std::fs::remove_file(&copy);
                "delete"
            }
        };
        *ops.entry(op).or_insert(0) += 1;
        std::thread::sleep(rng.millis(1, 60));
    }
    stop.store(true, Ordering::Relaxed);
    let runs = readers.join().unwrap();
    eprintln!("{ops:?} with {runs} ingest runs and a daemon reading");
    std::thread::sleep(Duration::from_millis(500));
    let (code, err) = {
        sigterm(daemon.child.id());
        daemon.wait_exit(30)
    };
    assert_eq!(code, Some(0), "{err}");
    env.ok(&at(&faulty, &["ingest"]));
    let clean = env.root.join("clean");
    env.ok(&at(&clean, &["ingest"]));
    assert_same_totals(&env, &faulty, &clean);
}

#[test]
fn a_deleted_transcript_keeps_its_usage_and_a_truncated_one_is_read_again() {
    let env = Env::new();
    let f = env.claude_file("/home/u/app", "gone.jsonl");
    let calls: Vec<String> = (1..=4).map(|i| claude_call("gone", i).1).collect();
    write_lines(&f, &calls);
    assert_eq!(env.json(&["ingest"])["newEvents"], 4);
    // Deleted: what was read stays, as the history of what was spent.
    std::fs::remove_file(&f).unwrap();
    env.ok(&["ingest"]);
    let d = env.json(&["costs", "daily", "--no-ingest"]);
    assert_eq!(d["totals"]["inputTokens"], 101 + 102 + 103 + 104);
    // Back, truncated to its first call and a new one: read again from the
    // start, the known call not counted twice.
    write_lines(&f, &[calls[0].clone(), claude_call("gone", 5).1]);
    let r = env.json(&["ingest"]);
    assert_eq!((r["newEvents"].as_u64(), r["duplicateEvents"].as_u64()), (Some(1), Some(1)), "{r}");
    // Rotated out of the transcripts' names: nothing lost, and the new
    // file's calls count.
    std::fs::rename(&f, f.with_extension("jsonl.1")).unwrap();
    write_lines(&f, &[claude_call("gone", 6).1]);
    let r = env.json(&["ingest"]);
    assert_eq!((r["newEvents"].as_u64(), r["filesReset"].as_u64()), (Some(1), Some(1)), "{r}");
    let d = env.json(&["costs", "daily", "--no-ingest"]);
    assert_eq!(d["totals"]["inputTokens"], (101..=106).sum::<u64>());
    check_db(&env.data.join("agentwatch.db"));
}

// ---------------------------------------------------------------------------
// Clock skew

#[test]
fn timestamps_far_in_the_past_or_future_are_counted_on_their_day_and_poison_nothing() {
    let env = Env::new();
    let call = |i: u64, ts: &str, session: &str| {
        line(&claude(ts, session, &format!("m{i}"), &format!("r{i}"), SONNET, U(1000, 100, 0, 0)))
    };
    let now = ago(60);
    let mut v = vec![
        call(1, &now, "skew-now"),
        call(2, "1970-01-01T00:00:00Z", "skew-1970"),
        call(3, "1969-12-31T23:59:59.999Z", "skew-1970"),
        call(4, "2100-01-01T00:00:00Z", "skew-2100"),
        call(5, "0001-01-01T00:00:00Z", "skew-ancient"),
        call(6, "9999-12-31T23:59:59.999Z", "skew-far"),
        call(7, "9999-12-31T23:59:59-23:59", "skew-far"),
    ];
    // Garbage: counted as malformed.
    for (i, t) in ["garbage", "2026-13-45T99:99:99Z", "", "+275760-09-13T00:00:00Z"].iter().enumerate() {
        v.push(call(100 + i as u64, t, "skew-garbage"));
    }
    v.push(
        r#"{"type":"assistant","timestamp":12345,"message":{"id":"n","model":"x","usage":{"input_tokens":1}}}"#.into(),
    );
    write_lines(&env.claude_file("/home/u/skew", "skew.jsonl"), &v);
    let c = env.codex_file("2026-11-20", "rollout-2026-11-20T10-00-00-skew.jsonl");
    write_lines(
        &c,
        &lines(&[
            codex_meta("2100-01-01T00:00:00Z", "codex-skew", "/home/u/skew"),
            codex_turn("2100-01-01T00:00:00Z", "gpt-5-codex"),
            codex_tokens("2100-01-01T00:00:01Z", Some([1000, 0, 100, 0]), None),
            codex_tokens("garbage", Some([2000, 0, 200, 0]), None),
            codex_tokens("1970-01-01T00:00:01Z", Some([3000, 0, 300, 0]), None),
        ]),
    );
    let r = env.json(&["ingest"]);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(9), Some(6)), "{r}");

    // Every report runs, in both formats, without a panic.
    for args in [
        &["costs", "daily"][..],
        &["costs", "weekly"],
        &["costs", "monthly"],
        &["costs", "session"],
        &["costs", "blocks"],
        &["sessions"],
        &["sessions", "history"],
        &["sessions", "stats"],
        &["status"],
    ] {
        let mut a = args.to_vec();
        a.push("--no-ingest");
        if args[0] == "status" {
            a.pop();
        }
        env.ok(&a);
        a.extend(["--format", "json"]);
        env.ok(&a);
    }
    // Counted on the days they name.
    let d = env.json(&["costs", "daily", "--no-ingest", "--timezone", "UTC"]);
    let days: Vec<&str> = d["daily"].as_array().unwrap().iter().map(|x| x["date"].as_str().unwrap()).collect();
    for day in ["0001-01-01", "1969-12-31", "1970-01-01", "2100-01-01", "9999-12-31"] {
        assert!(days.contains(&day), "{day} in {days:?}");
    }
    assert_eq!(d["totals"]["inputTokens"], 7 * 1000 + 2 * 1000);
    // A session from the future is not running forever.
    let s = env.json(&["sessions", "--no-ingest", "--limit", "50"]);
    for x in s["sessions"].as_array().unwrap() {
        if x["sessionId"] != "skew-now" {
            assert_eq!(x["state"], "completed", "{x}");
        }
    }
    let active = env.json(&["sessions", "--active", "--no-ingest"]);
    let ids: Vec<&str> =
        active["sessions"].as_array().unwrap().iter().map(|x| x["sessionId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["skew-now"]);
    // Nor is a 5-hour block from the future "active" with a projection.
    let b = env.json(&["costs", "blocks", "--no-ingest"]);
    let active: Vec<&Value> = b["blocks"].as_array().unwrap().iter().filter(|b| b["isActive"] == true).collect();
    assert_eq!(active.len(), 1, "only the block of now: {active:?}");
    assert!(active[0]["endTime"].as_str().unwrap() < "2100");

    // The API's all-time summary lists the days with usage, not 3.6 million.
    let port = free_port();
    let d = env.daemon(30, &["--port", &port.to_string()]);
    let token = env.api_token();
    let r = http(port, "GET", "/api/costs?range=all", &[("Authorization", &format!("Bearer {token}"))], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert!(j["daily"].as_array().unwrap().len() < 20, "{}", j["daily"].as_array().unwrap().len());
    drop(d);
}

// ---------------------------------------------------------------------------
// Huge lines

/// Runs agentwatch and returns its output and peak RSS in MiB.
fn peak_rss(env: &Env, args: &[&str]) -> (Output, f64) {
    let script = "import resource, subprocess, sys\n\
                  p = subprocess.run(sys.argv[1:], capture_output=True)\n\
                  sys.stderr.buffer.write(p.stderr)\n\
                  sys.stdout.buffer.write(p.stdout)\n\
                  print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n\
                  sys.exit(p.returncode)";
    let o = Command::new("python3").args(["-c", script, BIN]).args(args).env_clear().envs(env.vars()).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    let kb: f64 = err.lines().last().and_then(|l| l.trim().parse().ok()).expect("ru_maxrss");
    (o, kb / 1024.0)
}

#[test]
fn a_50_mb_line_is_read_in_bounded_memory_and_a_longer_one_skipped_once() {
    let env = Env::new();
    let f = env.claude_file("/home/u/huge", "huge.jsonl");
    let big = |i: u64, text_mb: usize| {
        let mut v = claude(&ts(i), "huge", &format!("m{i}"), &format!("r{i}"), SONNET, U(7, 3, 0, 0));
        v["message"]["content"] = json!([{"type": "text", "text": "x".repeat(text_mb << 20)}]);
        line(&v)
    };
    let user = |mb: usize| line(&json!({"type": "user", "message": {"role": "user", "content": "y".repeat(mb << 20)}}));
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&f).unwrap());
        for l in [claude_call("huge", 1).1, big(2, 50), user(50), user(70), claude_call("huge", 3).1] {
            w.write_all(l.as_bytes()).unwrap();
            w.write_all(b"\n").unwrap();
        }
        w.write_all(claude_call("huge", 5).1.as_bytes()).unwrap();
        w.write_all(b"\n").unwrap();
    }
    let (o, mb) = peak_rss(&env, &["ingest", "--format", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let size = r["bytesRead"].as_f64().unwrap() / 1048576.0;
    eprintln!("ingest of a {size:.0} MB file with lines of 50, 50 and 70 MB: peak RSS {mb:.0} MiB");
    // The 50 MB lines are read; the 70 MB one is over the 64 MiB cap:
    // skipped, one malformed line.
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(4), Some(1)), "{r}");
    assert!(mb < 200.0, "peak RSS {mb:.0} MiB");
    let d = env.json(&["costs", "daily", "--no-ingest"]);
    assert_eq!(d["totals"]["inputTokens"], 101 + 7 + 103 + 105);
    // Appending after it reads only the new bytes.
    append(&f, &format!("{}\n", claude_call("huge", 6).1));
    let (o, mb) = peak_rss(&env, &["ingest", "--format", "json"]);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(1), Some(0)), "{r}");
    assert!(mb < 100.0, "peak RSS {mb:.0} MiB");
}
