//! The threat model's tests (docs/security.md): web pages cannot use the
//! API, agentwatch's files are private, kill only stops the user's own
//! agents, links in the agents' folders are not followed, and nothing goes
//! over the network but loopback.
//!
//! Refusals of a missing or wrong token, a foreign Host and a foreign Origin
//! on GET are in api.rs (`every_refusal_has_its_status_and_a_json_error`);
//! a reused pid is in live.rs (`kill_checks_identity_and_stops_the_agent`).

use std::io::Write;
use std::process::Stdio;

use serde_json::json;

use crate::support::*;
// Tests of file modes, umask, other users, links and network namespaces
// run on Unix only (docs/platforms.md).
#[cfg(unix)]
use {
    serde_json::Value,
    std::os::unix::fs::PermissionsExt,
    std::path::{Path, PathBuf},
    std::process::Command,
};

/// Says why a test did not run, where `cargo test` shows it even when the
/// test passes (the test harness only captures `print!`/`eprint!`).
#[cfg(unix)]
fn skip(why: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
}

// --- web pages: DNS rebinding and CSRF ---------------------------------------

const INITIALIZE: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"evil-page","version":"1"}}}"#;

#[test]
fn web_pages_cannot_use_the_api_by_dns_rebinding_or_cross_site_requests() {
    let env = Env::new();
    let port = free_port();
    let _d = env.daemon(1, &["--port", &port.to_string()]);
    let token = env.api_token();
    let bearer = format!("Bearer {token}");
    let rebound = format!("evil.example:{port}");
    let local_lookalike = format!("http://127.0.0.1.evil.example:{port}");
    let our_origin_https = format!("https://127.0.0.1:{port}");
    let evil = "https://evil.example";
    let token_in_query = format!("/api/sessions?token={token}");
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Option<&'a [u8]>, u16, &'a str);
    let cases: Vec<Case> = vec![
        // DNS rebinding: evil.example now resolves to 127.0.0.1, so the page's
        // requests arrive here with its own name (and our port) as Host.
        ("GET", "/health", vec![("Host", &rebound)], None, 403, "host"),
        ("GET", "/api/sessions", vec![("Host", &rebound)], None, 403, "host"),
        ("GET", "/api/sessions", vec![("Host", &rebound), ("Authorization", &bearer)], None, 403, "host"),
        ("GET", "/api/events", vec![("Host", &rebound), ("Accept", "text/event-stream")], None, 403, "host"),
        ("POST", "/mcp", vec![("Host", &rebound), ("Content-Type", "application/json")], Some(INITIALIZE), 403, "host"),
        // CSRF: a page on another site posts to 127.0.0.1 (a "simple"
        // request, no preflight: text/plain or a form). Browsers always send
        // Origin on such a POST.
        ("POST", "/mcp", vec![("Origin", evil), ("Content-Type", "text/plain")], Some(INITIALIZE), 403, "origin"),
        (
            "POST",
            "/mcp",
            vec![("Origin", evil), ("Content-Type", "application/x-www-form-urlencoded")],
            Some(b"a=1"),
            403,
            "origin",
        ),
        // Even a page that somehow had the token gets nothing.
        (
            "POST",
            "/mcp",
            vec![("Origin", evil), ("Content-Type", "text/plain"), ("Authorization", &bearer)],
            Some(INITIALIZE),
            403,
            "origin",
        ),
        ("DELETE", "/mcp", vec![("Origin", evil), ("Mcp-Session-Id", "x")], None, 403, "origin"),
        ("GET", "/api/events", vec![("Origin", evil), ("Accept", "text/event-stream")], None, 403, "origin"),
        // Another local web server's page (a dev server on localhost:3000),
        // a look-alike name, https, a sandboxed frame or file:// page.
        ("POST", "/mcp", vec![("Origin", "http://localhost:3000")], Some(INITIALIZE), 403, "origin"),
        ("GET", "/api/sessions", vec![("Origin", &local_lookalike), ("Authorization", &bearer)], None, 403, "origin"),
        ("GET", "/api/sessions", vec![("Origin", &our_origin_https), ("Authorization", &bearer)], None, 403, "origin"),
        ("POST", "/mcp", vec![("Origin", "null"), ("Content-Type", "text/plain")], Some(INITIALIZE), 403, "origin"),
        // A CORS preflight is refused too, and grants nothing.
        (
            "OPTIONS",
            "/api/sessions",
            vec![
                ("Origin", evil),
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "authorization"),
            ],
            None,
            403,
            "origin",
        ),
        // A simple text/plain POST from something local without the token.
        ("POST", "/mcp", vec![("Content-Type", "text/plain")], Some(INITIALIZE), 401, "bearer token"),
        // The token counts only in the Authorization header.
        ("GET", &token_in_query, vec![], None, 401, "bearer token"),
    ];
    for (method, path, headers, body, status, says) in &cases {
        let r = http(port, method, path, headers, *body);
        assert_eq!(r.status, *status, "{method} {path} {headers:?}: {}", r.body);
        let err = r.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(err.contains(says), "{method} {path} {headers:?}: {}", r.body);
        assert_no_cors(&r, &format!("{method} {path} {headers:?}"));
    }
    // Every endpoint wants the token.
    for path in
        ["/api/sessions", "/api/sessions/x", "/api/costs", "/api/blocks", "/api/fleet-health", "/api/events", "/mcp"]
    {
        let r = http(port, "GET", path, &[], None);
        assert_eq!(r.status, 401, "GET {path} without a token: {}", r.body);
    }
    // A page served from the API's own origin would be allowed, but the API
    // never grants CORS, so no other origin can read a reply.
    let ok = http(
        port,
        "GET",
        "/api/sessions",
        &[("Authorization", &bearer), ("Origin", &format!("http://127.0.0.1:{port}"))],
        None,
    );
    assert_eq!(ok.status, 200);
    assert_no_cors(&ok, "same-origin GET");
    // None of the cross-site POSTs created anything.
    assert_eq!(env.json(&["sessions", "--source", "mcp", "--no-ingest"])["sessions"], json!([]));
    // It listens on 127.0.0.1 only: not on every address, not on IPv6.
    let hex = format!(":{port:04X}");
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let listening: Vec<&str> = tcp
        .lines()
        .filter(|l| l.split_whitespace().nth(1).is_some_and(|a| a.ends_with(&hex)))
        .filter(|l| l.split_whitespace().nth(3) == Some("0A"))
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(listening, vec![format!("0100007F{hex}")], "bound to 127.0.0.1 only");
    let tcp6 = std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
    assert!(!tcp6.lines().any(|l| l.split_whitespace().nth(1).is_some_and(|a| a.ends_with(&hex))), "not bound on IPv6");
}

fn assert_no_cors(r: &HttpReply, what: &str) {
    for (k, v) in &r.headers {
        assert!(!k.to_ascii_lowercase().starts_with("access-control-"), "{what}: CORS header {k}: {v}");
    }
}

#[test]
fn an_origin_must_be_exactly_ours_scheme_host_and_port() {
    let env = Env::new();
    let port = free_port();
    let _d = env.daemon(1, &["--port", &port.to_string()]);
    let bearer = format!("Bearer {}", env.api_token());
    for ours in [format!("http://127.0.0.1:{port}"), format!("http://localhost:{port}"), format!("http://[::1]:{port}")]
    {
        let r = http(port, "GET", "/api/sessions", &[("Authorization", &bearer), ("Origin", &ours)], None);
        assert_eq!(r.status, 200, "{ours}: {}", r.body);
    }
    // Without a port an origin is port 80's: another local web server's page.
    let not_ours = [
        "http://127.0.0.1".to_string(),
        "http://localhost".to_string(),
        "http://[::1]".to_string(),
        "http://127.0.0.1:80".to_string(),
        format!("http://127.0.0.1:{}", port - 1),
        format!("http://127.0.0.1:{port}0"),
        format!("http://127.0.0.1:{port}/"),
        format!("http://127.0.0.1:{port}.evil.example"),
        format!("http://user@127.0.0.1:{port}"),
        format!("HTTP://127.0.0.1:{port}"),
    ];
    for origin in &not_ours {
        let requests: [(&str, &str, Option<&[u8]>); 3] =
            [("GET", "/health", None), ("GET", "/api/sessions", None), ("POST", "/mcp", Some(INITIALIZE))];
        for (method, path, body) in requests {
            let headers =
                [("Authorization", bearer.as_str()), ("Origin", origin), ("Content-Type", "application/json")];
            let r = http(port, method, path, &headers, body);
            assert_eq!(r.status, 403, "{method} {path} Origin: {origin}: {}", r.body);
            assert!(r.json()["error"].as_str().unwrap().contains("origin"), "{origin}: {}", r.body);
            assert_no_cors(&r, origin);
        }
    }
    assert_eq!(env.json(&["sessions", "--source", "mcp", "--no-ingest"])["sessions"], json!([]));
}

#[test]
fn two_host_headers_are_refused() {
    // Which of two Host headers counts is up to each reader (the first here,
    // the last elsewhere): a request with two is refused whatever they say.
    let env = Env::new();
    let port = free_port();
    let _d = env.daemon(1, &["--port", &port.to_string()]);
    let bearer = format!("Bearer {}", env.api_token());
    let (ours, rebound) = (format!("127.0.0.1:{port}"), format!("evil.example:{port}"));
    for (first, second) in [(&ours, &rebound), (&rebound, &ours), (&ours, &ours)] {
        for path in ["/health", "/api/sessions"] {
            let headers = [("Host", first.as_str()), ("Host", second.as_str()), ("Authorization", bearer.as_str())];
            let r = http(port, "GET", path, &headers, None);
            assert_eq!(r.status, 400, "{path} Host: {first}, Host: {second}: {}", r.body);
            assert!(r.json()["error"].as_str().unwrap().contains("host"), "{}", r.body);
            assert_eq!(r.header("cache-control"), Some("no-store"));
            assert_no_cors(&r, path);
        }
        let r = http(
            port,
            "POST",
            "/mcp",
            &[("Host", first), ("Host", second), ("Authorization", &bearer)],
            Some(INITIALIZE),
        );
        assert_eq!(r.status, 400, "POST /mcp: {}", r.body);
    }
    assert_eq!(env.json(&["sessions", "--source", "mcp", "--no-ingest"])["sessions"], json!([]));
    // One Host header, as every client sends, is fine.
    assert_eq!(http(port, "GET", "/api/sessions", &[("Authorization", &bearer)], None).status, 200);
}

// --- other local users: private files -----------------------------------------

/// `agentwatch args…` started by `sh` with umask 000, the most permissive.
#[cfg(unix)]
fn with_umask_0(env: &Env, args: &[&str]) -> Command {
    let mut c = Command::new("sh");
    c.own_group().arg("-c").arg("umask 000; exec \"$0\" \"$@\"").arg(BIN).args(args).env_clear().envs(env.vars());
    c
}

#[test]
#[cfg(unix)]
fn the_token_the_database_and_their_folder_are_private_even_with_umask_0() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(&f, &lines(&[claude(&ago(60), "s1", "m1", "r1", SONNET, U(100, 10, 0, 0))]));
    let o = with_umask_0(&env, &["ingest"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(mode(&env.data), 0o700, "the data dir");

    let port = free_port();
    // Killed when the test ends, pass or fail.
    let daemon = Proc(
        with_umask_0(&env, &["daemon", "--scan-interval", "1", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(20, "the API", || (std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()).then_some(()));
    // A hook writes while the daemon holds the database open (so the WAL
    // and shared-memory files exist), and a bad one writes the hook log.
    for payload in [r#"{"session_id":"h1","cwd":"/home/u/app","hook_event_name":"Stop"}"#, "not json"] {
        let mut c = with_umask_0(&env, &["hook"]).stdin(Stdio::piped()).spawn().unwrap();
        c.stdin.take().unwrap().write_all(payload.as_bytes()).unwrap();
        assert!(c.wait().unwrap().success());
    }
    let data = &env.data;
    let private = [
        data.join("api.json"),
        data.join("agentwatch.db"),
        data.join("agentwatch.db-wal"),
        data.join("agentwatch.db-shm"),
        data.join("monitor.lock"),
        data.join("agentwatch.db.migrate-lock"),
        data.join("logs/hooks.log"),
    ];
    let seen: Vec<PathBuf> = walk(data);
    for p in &private {
        assert!(seen.contains(p), "{} missing; have {seen:?}", p.display());
    }
    for p in &seen {
        let m = mode(p);
        if p.is_dir() {
            assert_eq!(m, 0o700, "{}", p.display());
        } else if p.parent() == Some(&data.join("logs"))
            && p.file_name().unwrap().to_string_lossy().starts_with("agentwatch.")
        {
            // The daemon's rolling log is created by tracing-appender with the
            // umask's mode; it is private through its 0700 folder.
            assert_eq!(mode(&data.join("logs")), 0o700);
        } else {
            assert_eq!(m & 0o077, 0, "{} is {m:o}", p.display());
        }
    }
    drop(daemon);

    // Files made readable by someone else are narrowed again.
    let db = data.join("agentwatch.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    env.ok(&["status"]);
    assert_eq!(mode(&db), 0o600, "the database is narrowed back at the next open");
    // A leftover temporary token file that others can read does not leak the new token.
    let tmp = data.join("api.tmp");
    std::fs::write(&tmp, "{}").unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(data.join("api.json"), std::fs::Permissions::from_mode(0o644)).unwrap();
    env.ok(&["api", "rotate-token"]);
    assert_eq!(mode(&data.join("api.json")), 0o600);
}

#[cfg(unix)]
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
#[cfg(unix)]
fn a_data_dir_others_can_write_gets_a_warning_and_no_api_token() {
    let env = Env::new();
    std::fs::create_dir_all(&env.data).unwrap();
    let chmod = |m: u32| std::fs::set_permissions(&env.data, std::fs::Permissions::from_mode(m)).unwrap();
    chmod(0o777);
    let dir = env.data.display().to_string();
    let fix = format!("`chmod 700 {dir}`");
    let ours = |l: &&str| l.contains(&dir) && l.contains("writable by other users");

    // Reports still work, with one line that says so.
    let o = env.run(&["costs", "daily"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| ours(l)).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(warnings[0].starts_with("warning: ") && warnings[0].contains(&fix), "{err}");

    // The daemon will not write the API token there, so its API cannot start.
    let port = free_port().to_string();
    let mut daemon = Proc(
        env.command(&["daemon", "--scan-interval", "1", "--port", &port])
            .own_group()
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let status = wait_for(20, "the daemon to give up", || daemon.0.try_wait().unwrap());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut daemon.0.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "a warning and the error: {err}");
    assert!(lines[0].starts_with("warning: ") && ours(&lines[0]), "{err}");
    assert!(lines[1].starts_with("agentwatch: ") && ours(&lines[1]) && lines[1].contains("API token"), "{err}");
    assert!(lines[1].ends_with(&fix), "{err}");
    assert!(!env.data.join("api.json").exists());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).is_err(), "nothing listens");

    // Nor will `api info`, which writes it too; a dir its group can write
    // to is refused the same way.
    for m in [0o777, 0o770, 0o730, 0o703] {
        chmod(m);
        let o = env.run(&["api", "info"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "mode {m:o}: {err}");
        let last = err.lines().last().unwrap_or_default();
        assert!(last.starts_with("agentwatch: ") && ours(&last) && last.ends_with(&fix), "mode {m:o}: {err}");
        assert!(!env.data.join("api.json").exists(), "mode {m:o}");
    }

    // The fix it names works, and the warning goes.
    chmod(0o700);
    let _d = env.daemon(1, &["--port", &port]);
    assert_eq!(mode(&env.data.join("api.json")), 0o600);
    let o = env.run(&["costs", "daily", "--no-ingest"]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("writable by other users"));
}

// --- other local users: stalled and piled-up connections ----------------------

/// The daemon with its API on `port`, cutting off clients that take longer
/// than `header_timeout` seconds to send their headers.
fn daemon_with_header_timeout(env: &Env, port: u16, header_timeout: &str) -> Proc {
    let d = Proc(
        env.command(&["daemon", "--scan-interval", "1", "--port", &port.to_string()])
            .env("AGENTWATCH_API_HEADER_TIMEOUT", header_timeout)
            .own_group()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(20, "the API", || {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .ok()
            .filter(|_| http(port, "GET", "/health", &[], None).status == 200)
    });
    d
}

/// Reads until the server closes the connection (end of stream or reset):
/// whether it did before the socket's read timeout, and what it sent.
fn closed_by_server(s: &mut std::net::TcpStream) -> (bool, String) {
    use std::io::{ErrorKind, Read};
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (true, String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (false, String::from_utf8_lossy(&got).into_owned());
            }
            Err(_) => return (true, String::from_utf8_lossy(&got).into_owned()),
        }
    }
}

#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off_and_others_are_served() {
    use std::time::{Duration, Instant};
    let env = Env::new();
    let port = free_port();
    let _d = daemon_with_header_timeout(&env, port, "2");
    let connect = |bytes: &[u8]| {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(bytes).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    };
    let started = Instant::now();
    let head = format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    let mut stalled = vec![
        ("nothing sent", connect(b"")),
        ("half a request line", connect(b"GET /api/sess")),
        ("headers without their end", connect(head.as_bytes())),
        // Slowloris: a byte of a header every 200 ms does not keep it open.
        ("a header a byte at a time", connect(format!("{head}X-Slow: ").as_bytes())),
    ];
    let mut drip = stalled[3].1.try_clone().unwrap();
    let dripping = std::thread::spawn(move || {
        for _ in 0..75 {
            if drip.write_all(b"a").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    // Meanwhile everyone else is served.
    for path in ["/health", "/api/sessions"] {
        let r = http(port, "GET", path, &[("Authorization", &format!("Bearer {}", env.api_token()))], None);
        assert_eq!(r.status, 200, "{path} while clients stall: {}", r.body);
    }
    for (what, s) in &mut stalled {
        let (closed, sent) = closed_by_server(s);
        let after = started.elapsed();
        assert!(closed, "{what}: still open after {after:?}; got {sent:?}");
        assert!(
            after >= Duration::from_millis(1500) && after < Duration::from_secs(8),
            "{what}: closed after {after:?}, not after the 2 s header timeout; got {sent:?}"
        );
        assert!(!sent.contains("200 OK"), "{what}: {sent}");
    }
    dripping.join().unwrap();
    assert_eq!(http(port, "GET", "/health", &[], None).status, 200, "still serving");
}

#[test]
fn connections_over_the_cap_wait_until_a_stalled_one_is_cut_off() {
    use std::time::{Duration, Instant};
    // api::MAX_CONNECTIONS.
    const CAP: usize = 256;
    let env = Env::new();
    let port = free_port();
    let _d = daemon_with_header_timeout(&env, port, "5");
    let started = Instant::now();
    let connect = || std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut held: Vec<std::net::TcpStream> = (0..CAP - 1).map(|_| connect()).collect();
    // One slot left: a request is served at once, before any stalled
    // connection is cut off.
    assert_eq!(http(port, "GET", "/health", &[], None).status, 200);
    let served = started.elapsed();
    assert!(served < Duration::from_secs(4), "served only after {served:?}");
    // No slot left: the next request waits, unaccepted, until the first
    // stalled connections are cut off after 5 s, and is then served.
    held.push(connect());
    let r = http(port, "GET", "/health", &[], None);
    let waited = started.elapsed();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(waited >= Duration::from_secs(4), "served after {waited:?} with {CAP} connections open: no cap");
    for s in &mut held {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let (closed, sent) = closed_by_server(s);
        assert!(closed, "a stalled connection still open after {:?}; got {sent:?}", started.elapsed());
    }
}

// --- kill: only the user's own agents -----------------------------------------

/// A process's start time as sysinfo (and so the store) records it: boot
/// time plus the start in clock ticks, in whole seconds.
#[cfg(unix)]
fn start_time(pid: u32) -> i64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let ticks: i64 = stat[stat.rfind(')').unwrap() + 2..].split(' ').nth(19).unwrap().parse().unwrap();
    let btime: i64 = std::fs::read_to_string("/proc/stat")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let hz = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    let hz: i64 = String::from_utf8_lossy(&hz.stdout).trim().parse().unwrap();
    btime + ticks / hz
}

#[cfg(unix)]
fn uid_of(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find_map(|l| l.strip_prefix("Uid:")).unwrap().split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
#[cfg(unix)]
fn kill_refuses_a_process_of_another_user_even_as_root() {
    let env = Env::new();
    let me = uid_of(std::process::id());
    // Another user's process: `sleep` as nobody.
    let theirs = Command::new("setpriv")
        .own_group()
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "sleep", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(theirs) = theirs else {
        return skip("setpriv is missing (util-linux): cannot start a process as another user");
    };
    let mut theirs = Proc(theirs);
    wait_for(5, "nobody's sleep", || (uid_of(theirs.pid()) == 65534).then_some(()));
    if me == 65534 {
        return skip("the tests run as nobody; there is no other user to test with");
    }
    // A session of ours, then recorded as if its process were theirs (pid
    // and start time both match the live process: only the owner differs).
    let bin = env.native_agent("claude");
    let ours = env.spawn(&bin, &["600"], &env.root.join("src/web-app"));
    let s = env.session_with_pid(ours.pid(), &["--active"]).unwrap();
    let id = s["sessionId"].as_str().unwrap().to_string();
    let db = rusqlite::Connection::open(env.data.join("agentwatch.db")).unwrap();
    let stored: i64 = db.query_row("SELECT proc_start FROM sessions WHERE id = ?1", [&id], |r| r.get(0)).unwrap();
    assert_eq!(stored, start_time(ours.pid()), "start times are computed as the store does");
    db.execute(
        "UPDATE sessions SET pid = ?1, proc_start = ?2 WHERE id = ?3",
        rusqlite::params![theirs.pid(), start_time(theirs.pid()), id],
    )
    .unwrap();
    let o = env.run(&["kill", &id, "--yes", "--grace", "1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with("agentwatch: refusing") && err.contains("another user"), "{err}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(Path::new(&format!("/proc/{}", theirs.pid())).exists(), "their process still runs");
    assert_eq!(theirs.0.try_wait().unwrap(), None, "and was not signalled");
}

// --- links in the agents' folders ----------------------------------------------

#[test]
#[cfg(unix)]
fn links_inside_the_agents_folders_are_not_followed() {
    let env = Env::new();
    // Files elsewhere that look like transcripts.
    let outside = env.root.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let secret = outside.join("secret.jsonl");
    write_lines(&secret, &lines(&[claude(&ago(60), "outside", "m9", "r9", SONNET, U(777, 7, 0, 0))]));
    let rollout = outside.join("rollout-2026-11-20T10-00-00-outside.jsonl");
    write_lines(
        &rollout,
        &lines(&[
            codex_meta("2026-11-20T10:00:00.000Z", "outside-codex", "/home/u/api"),
            codex_turn("2026-11-20T10:00:00.000Z", "gpt-5-codex"),
            codex_tokens("2026-11-20T10:00:05.000Z", None, Some([5000, 0, 50, 0])),
        ]),
    );
    let before = (std::fs::read(&secret).unwrap(), std::fs::read(&rollout).unwrap());
    // A real transcript, and links to the files outside: a folder, a file,
    // for Claude Code and for Codex.
    let real = env.claude_file("/home/u/web-app", "real.jsonl");
    write_lines(&real, &lines(&[claude(&ago(60), "real", "m1", "r1", SONNET, U(100, 10, 0, 0))]));
    let link = |target: &Path, at: &Path| {
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, at).unwrap();
    };
    link(&outside, &env.claude.join("projects/-linked-folder"));
    link(&secret, &real.with_file_name("linked.jsonl"));
    link(Path::new("/etc"), &env.claude.join("projects/-etc"));
    link(&rollout, &env.codex_file("2026-11-20", "rollout-2026-11-20T10-00-00-linked.jsonl"));
    link(&outside, &env.codex.join("sessions/2020/01/02"));

    let r = env.json(&["costs", "session", "--timezone", "UTC"]);
    let ids: Vec<&str> = r["session"].as_array().unwrap().iter().map(|s| s["sessionId"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["real"], "{r}");
    assert_eq!(r["totals"]["inputTokens"], 100);
    let listed = env.json(&["sessions", "--no-ingest", "--limit", "100"]);
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(before, (std::fs::read(&secret).unwrap(), std::fs::read(&rollout).unwrap()), "nothing written there");

    // The live collector does not take a link as a running agent's
    // transcript: neither a linked file in its project folder, nor a project
    // folder that is a link.
    let enc = |cwd: &Path| -> String {
        cwd.display().to_string().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
    };
    let fresh_claude = |dir: &Path, id: &str| {
        std::fs::create_dir_all(dir).unwrap();
        let f = dir.join(format!("{id}.jsonl"));
        write_lines(&f, &lines(&[claude(&ago(0), id, "m8", "r8", SONNET, U(555, 5, 0, 0))]));
        f
    };
    let bin = env.native_agent("claude");
    let (cwd1, cwd2) = (env.root.join("src/web-app"), env.root.join("src/docs"));
    let p1 = env.spawn(&bin, &["600"], &cwd1);
    let p2 = env.spawn(&bin, &["600"], &cwd2);
    let secret1 = fresh_claude(&outside.join("live1"), "live-secret-1");
    link(&secret1, &env.claude.join("projects").join(enc(&cwd1)).join("live-secret-1.jsonl"));
    fresh_claude(&outside.join("live2"), "live-secret-2");
    link(&outside.join("live2"), &env.claude.join("projects").join(enc(&cwd2)));
    // Codex: a linked rollout in today's folder, and tomorrow's folder (also
    // searched) a link.
    let codex_cwd = env.root.join("src/api");
    let codex = env.spawn(&env.native_agent("codex"), &["600"], &codex_cwd);
    let rollout_named = |dir: &Path, id: &str| {
        std::fs::create_dir_all(dir).unwrap();
        let f = dir.join(format!("rollout-2099-01-01T00-00-00-{id}.jsonl"));
        let meta = codex_meta(&ago(0), id, &codex_cwd.display().to_string());
        write_lines(&f, &lines(&[meta, codex_turn(&ago(0), "gpt-5-codex")]));
        f
    };
    let now = chrono::Utc::now();
    let secret3 = rollout_named(&outside.join("live3"), "live-secret-3");
    link(&secret3, &env.codex_file(&now.format("%Y-%m-%d").to_string(), "rollout-2099-01-01T00-00-00-x.jsonl"));
    rollout_named(&outside.join("live4"), "live-secret-4");
    let tomorrow = (now + chrono::Duration::days(1)).format("%Y/%m/%d").to_string();
    link(&outside.join("live4"), &env.codex.join("sessions").join(tomorrow));
    for p in [&p1, &p2, &codex] {
        let s = env.session_with_pid(p.pid(), &["--active"]).expect("the agent is listed");
        let d = env.json(&["sessions", "show", s["sessionId"].as_str().unwrap(), "--no-ingest"]);
        let ext = d["session"]["externalId"].as_str().unwrap_or_default();
        let path = d["session"]["transcriptPath"].as_str().unwrap_or_default();
        assert!(!ext.starts_with("live-secret") && !path.contains("live-secret"), "{d}");
        assert!(path.is_empty(), "no transcript: {d}");
    }
    assert_eq!(env.json(&["costs", "daily", "--no-ingest"])["totals"]["inputTokens"], 100);
}

#[test]
#[cfg(unix)]
fn an_agent_folder_that_is_itself_a_link_is_read() {
    // Keeping ~/.claude in a dotfiles repo is common: the agents' own
    // folders are followed; only links inside them are not.
    let env = Env::new();
    std::fs::remove_dir_all(&env.claude).unwrap();
    let dotfiles = env.root.join("dotfiles/claude");
    std::fs::create_dir_all(dotfiles.join("projects/-home-u-web-app")).unwrap();
    std::os::unix::fs::symlink(&dotfiles, &env.claude).unwrap();
    write_lines(
        &dotfiles.join("projects/-home-u-web-app/s1.jsonl"),
        &lines(&[claude(&ago(60), "s1", "m1", "r1", SONNET, U(100, 10, 0, 0))]),
    );
    assert_eq!(env.json(&["costs", "daily"])["totals"]["inputTokens"], 100);
}

// --- no network but loopback ---------------------------------------------------

/// Why the network-namespace test cannot run here, if it cannot.
#[cfg(unix)]
fn netns_unavailable() -> Option<String> {
    let run =
        |cmd: &str, args: &[&str]| Command::new(cmd).args(args).stdout(Stdio::null()).stderr(Stdio::piped()).output();
    match run("unshare", &["-n", "sh", "-c", "ip link set lo up"]) {
        Err(e) => return Some(format!("unshare or ip is missing ({e}); install util-linux and iproute2")),
        Ok(o) if !o.status.success() => {
            return Some(format!("`unshare -n` is not permitted here: {}", String::from_utf8_lossy(&o.stderr).trim()));
        }
        Ok(_) => {}
    }
    match run("strace", &["-f", "-qq", "-o", "/dev/null", "true"]) {
        Err(e) => Some(format!("strace is missing ({e}); scripts/setup.sh installs it")),
        Ok(o) if !o.status.success() => {
            Some(format!("strace is not permitted here (ptrace): {}", String::from_utf8_lossy(&o.stderr).trim()))
        }
        Ok(_) => None,
    }
}

/// The non-loopback addresses in an strace log of connect/sendto/sendmsg,
/// and how many connections went to 127.0.0.1:`port`.
#[cfg(unix)]
fn remote_addresses(log: &str, port: u16) -> (Vec<String>, usize) {
    let mut remote = Vec::new();
    let mut to_api = 0;
    for line in log.lines() {
        for (marker, family) in [("inet_addr(\"", 4), ("inet_pton(AF_INET6, \"", 6)] {
            let Some(i) = line.find(marker) else { continue };
            let addr = &line[i + marker.len()..];
            let addr = &addr[..addr.find('"').unwrap_or(addr.len())];
            let loopback = match family {
                4 => addr.starts_with("127."),
                _ => addr == "::1" || addr.starts_with("::ffff:127."),
            };
            if !loopback {
                remote.push(line.to_string());
            } else if line.contains("connect(") && line.contains(&format!("htons({port})")) {
                to_api += 1;
            }
        }
    }
    (remote, to_api)
}

#[test]
#[cfg(unix)]
fn everything_works_without_a_network_and_connects_only_to_loopback() {
    if let Some(why) = netns_unavailable() {
        return skip(&format!("no-network test: {why}"));
    }
    let env = Env::new();
    write_lines(
        &env.claude_file("/home/u/web-app", "s1.jsonl"),
        &lines(&[claude(&ago(60), "s1", "m1", "r1", SONNET, U(1000, 100, 0, 0))]),
    );
    env.native_agent("claude");
    std::fs::create_dir_all(env.root.join("src/web-app")).unwrap();
    let out = env.root.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let port = free_port();
    let script = env.root.join("offline.sh");
    std::fs::write(&script, OFFLINE_SCRIPT).unwrap();
    let log = env.root.join("strace.log");
    let inner = format!(
        "ip link set lo up && exec strace -f -qq -s 64 -e trace=connect,sendto,sendmsg,sendmmsg -e signal=none -o {log} bash {script} {aw} {py} {root} {port} {out} {repo}",
        log = log.display(),
        script = script.display(),
        aw = BIN,
        py = python().display(),
        root = env.root.display(),
        out = out.display(),
        repo = repo_root().display(),
    );
    let o = Command::new("unshare").args(["-n", "bash", "-c", &inner]).env_clear().envs(env.vars()).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "the offline run failed ({}):\n{stderr}", o.status);
    let read = |name: &str| -> Value {
        let t = std::fs::read_to_string(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}\n{stderr}"));
        // A JSON document, or JSON on the last line after other output.
        serde_json::from_str(&t)
            .or_else(|_| serde_json::from_str(t.lines().last().unwrap_or("")))
            .unwrap_or_else(|e| panic!("{name}: {e}: {t}"))
    };
    // Ingest and reports.
    assert_eq!(read("costs.json")["totals"]["inputTokens"], 1000);
    // The daemon found the running agent; the REST API served it.
    let sessions = read("sessions.json");
    let list = sessions["sessions"].as_array().unwrap();
    assert!(list.iter().any(|s| s["agent"] == "claude-code" && s["source"] == "process"), "{sessions}");
    assert!(read("costs-api.json")["totalCost"].as_f64().unwrap() > 0.0);
    // MCP through the official client; a hook; the MCP proxy.
    let mcp = read("mcp.json");
    assert!(mcp.get("error").is_none() && mcp["calls"].as_object().is_some_and(|c| !c.is_empty()), "{mcp}");
    let proxy = read("proxy.json");
    assert_eq!(proxy["calls"].as_array().map(Vec::len), Some(3), "{proxy}");
    let killed = std::fs::read_to_string(out.join("kill.txt")).unwrap();
    assert!(killed.starts_with("Stopped Claude Code"), "{killed}");
    let hooks = env.json(&["sessions", "--source", "hook", "--no-ingest"]);
    assert_eq!(hooks["sessions"][0]["sessionId"], "offline-hook", "{hooks}");

    // Every connection was to loopback or a local socket.
    let trace = std::fs::read_to_string(&log).unwrap();
    let (remote, to_api) = remote_addresses(&trace, port);
    assert!(remote.is_empty(), "connections beyond loopback:\n{}", remote.join("\n"));
    assert!(to_api >= 5, "the trace saw the API's connections ({to_api}); is strace tracing?\n{trace}");
}

#[test]
#[cfg(unix)]
fn the_trace_check_sees_remote_addresses() {
    let log = r#"101 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)
101 connect(5, {sa_family=AF_INET, sin_port=htons(4242), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
102 connect(7, {sa_family=AF_INET6, sin6_port=htons(4242), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0
103 connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.2")}, 16) = -1 ENETUNREACH (Network is unreachable)
103 sendto(9, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2606:4700::1111", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH
104 sendmsg(4, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, msg_namelen=12}, 0) = 32"#;
    let (remote, to_api) = remote_addresses(log, 4242);
    assert_eq!(to_api, 2);
    assert_eq!(remote.len(), 2, "{remote:?}");
    assert!(remote[0].contains("10.0.0.2") && remote[1].contains("2606:4700::1111"));
}

/// Run inside the network namespace: everything agentwatch does, with only `lo`.
#[cfg(unix)]
const OFFLINE_SCRIPT: &str = r#"set -u
AW="$1"; PY="$2"; ROOT="$3"; PORT="$4"; OUT="$5"; REPO="$6"
fail() { echo "offline: $*" >&2; [ -f "$OUT/daemon.err" ] && cat "$OUT/daemon.err" >&2; exit 1; }
A=; D=
trap '[ -n "$A" ] && kill $A 2>/dev/null; [ -n "$D" ] && kill $D 2>/dev/null; true' EXIT
"$AW" costs daily --format json > "$OUT/costs.json" || fail "costs daily"
"$AW" daemon --scan-interval 1 --port "$PORT" > "$OUT/daemon.out" 2> "$OUT/daemon.err" &
D=$!
ok=no
for i in $(seq 1 300); do
  if curl -sf "http://127.0.0.1:$PORT/health" > /dev/null; then ok=yes; break; fi
  sleep 0.1
done
[ $ok = yes ] || fail "the API never answered"
TOKEN=$(sed -n 's/.*"token": *"\([0-9a-f]*\)".*/\1/p' "$AGENTWATCH_DATA_DIR/api.json")
(cd "$ROOT/src/web-app" && exec "$ROOT/bin/claude" 600) &
A=$!
seen=no
for i in $(seq 1 300); do
  if curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/sessions" | grep -q "\"pid\":$A[,}]"; then seen=yes; break; fi
  sleep 0.1
done
[ $seen = yes ] || fail "the daemon never saw the agent (pid $A)"
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/sessions" > "$OUT/sessions.json" || fail "GET /api/sessions"
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/costs?range=all" > "$OUT/costs-api.json" || fail "GET /api/costs"
"$PY" "$REPO/tests/mcp/client.py" --url "http://127.0.0.1:$PORT/mcp" --token "$TOKEN" > "$OUT/mcp.json" || fail "the MCP client"
echo '{"session_id":"offline-hook","cwd":"/home/u/app","hook_event_name":"Stop"}' | "$AW" hook || fail "hook"
"$PY" "$REPO/tests/proxy/client.py" "$AW" mcp-proxy --label offline -- "$PY" "$REPO/tests/proxy/server.py" > "$OUT/proxy.json" || fail "mcp-proxy"
ID=$("$AW" sessions --active --no-ingest --format json | "$PY" -c "import json,sys; print(next(s['sessionId'] for s in json.load(sys.stdin)['sessions'] if s['pid'] == $A))") || fail "the agent's session id"
"$AW" kill "$ID" --yes --grace 3 > "$OUT/kill.txt" || fail "kill"
wait $A
kill -TERM $D
wait $D || fail "the daemon exited with $?"
"#;
