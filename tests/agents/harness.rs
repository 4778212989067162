//! Driving the real agent CLIs like a person: in tmux, against the loopback
//! model stub, with a real agentwatch daemon watching.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// Processes of one agent's tree, by the pid a test follows it by: a
/// session follows the agent's process that lives longest, and after a
/// `kill -9` of the tree that may be a child (Qwen Code's relaunched CLI
/// outliving its launcher for a scan). See [`same_agent`].
static TREES: std::sync::Mutex<Vec<(u32, Vec<u32>)>> = std::sync::Mutex::new(Vec::new());

/// From now on, a session whose process is any of `tree` is the one the
/// test follows as `pid`.
pub fn same_agent(pid: u32, tree: &[u32]) {
    TREES.lock().unwrap().push((pid, tree.to_vec()));
}

/// Follows `pid`'s session through its children too: an agent whose
/// terminal closes may leave one of them running a moment after `pid`,
/// and the session follows it.
pub fn follow_tree(pid: u32) {
    let mut tree = children(pid);
    tree.push(pid);
    same_agent(pid, &tree);
}

/// Whether a session's pid is the followed `pid`, or one of its tree.
fn is_followed(session_pid: &Value, pid: u32) -> bool {
    let Some(p) = session_pid.as_u64().map(|p| p as u32) else { return false };
    p == pid || TREES.lock().unwrap().iter().any(|(k, tree)| *k == pid && tree.contains(&p))
}

/// How long a state may take to show in these tests: generous, so a busy
/// CI machine does not fail them. How fast states really show is measured
/// in bench/agent-latency, not asserted here.
pub const SETTLE: u64 = 30;

/// An agent CLI installed by tests/agents/install.sh.
pub fn agent_bin(name: &str) -> PathBuf {
    let p = repo_root().join("tests/agents/node_modules/.bin").join(name);
    assert!(p.exists(), "{} is missing: run tests/agents/install.sh (make agents does)", p.display());
    p
}

/// The loopback model stub (tests/agents/model_stub.py).
pub struct Stub {
    _proc: Proc,
    pub port: u16,
}

impl Stub {
    pub fn start(env: &Env) -> Stub {
        let port_file = env.root.join("stub.port");
        let proc = env.spawn(
            Path::new("python3"),
            &[
                repo_root().join("tests/agents/model_stub.py").to_str().unwrap(),
                "--port-file",
                port_file.to_str().unwrap(),
                "--log",
                env.root.join("stub.log").to_str().unwrap(),
            ],
            &env.root,
        );
        let port =
            wait_for(10, "the model stub's port", || std::fs::read_to_string(&port_file).ok()?.trim().parse().ok());
        Stub { _proc: proc, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

static SOCKETS: AtomicUsize = AtomicUsize::new(0);

/// Every terminal opened, as (tmux socket, name, pid of its process): a
/// timeout shows the screen of the one it waited on.
static TERMINALS: std::sync::Mutex<Vec<(String, String, u32)>> = std::sync::Mutex::new(Vec::new());

/// The screen of the terminal whose process is `pid`, if it is still open.
fn screen_of(pid: u32) -> Option<String> {
    let (socket, name, _) = TERMINALS.lock().unwrap().iter().find(|t| t.2 == pid).cloned()?;
    let o = Command::new("tmux").args(["-L", &socket, "capture-pane", "-p", "-t", &name]).output().ok()?;
    o.status.success().then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// A tmux server of the test's own: one terminal per agent.
pub struct Tmux {
    socket: String,
    /// The terminals' processes: each leads a session of its own.
    panes: std::sync::Mutex<Vec<u32>>,
}

impl Tmux {
    pub fn new() -> Tmux {
        let socket = format!("aw-test-{}-{}", std::process::id(), SOCKETS.fetch_add(1, Ordering::Relaxed));
        Tmux { socket, panes: Default::default() }
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux is installed by make test")
    }

    /// Opens a terminal `name` in `cwd` running `argv` with exactly the
    /// environment `vars`; returns the pid of the terminal's process.
    pub fn open(&self, name: &str, cwd: &Path, vars: &[(String, String)], argv: &[String]) -> u32 {
        std::fs::create_dir_all(cwd).unwrap();
        let mut cmd = vec!["exec".to_string(), "env".into(), "-i".into()];
        cmd.extend(vars.iter().map(|(k, v)| shell_quote(&format!("{k}={v}"))));
        cmd.extend(argv.iter().map(|a| shell_quote(a)));
        let line = cmd.join(" ");
        let o =
            self.tmux(&["new-session", "-d", "-s", name, "-x", "200", "-y", "50", "-c", cwd.to_str().unwrap(), &line]);
        assert!(o.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&o.stderr));
        let o = self.tmux(&["display-message", "-p", "-t", name, "#{pane_pid}"]);
        let pid = String::from_utf8_lossy(&o.stdout).trim().parse().expect("the pane's pid");
        self.panes.lock().unwrap().push(pid);
        TERMINALS.lock().unwrap().push((self.socket.clone(), name.to_string(), pid));
        pid
    }

    /// Sends tmux key names (`Enter`, `Escape`, `C-d`, `BTab`).
    pub fn keys(&self, name: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", name];
        args.extend(keys);
        self.tmux(&args);
    }

    /// Types a line as a person would, then Enter once the text shows in the
    /// prompt (a loaded machine can draw it late; an Enter inside the agent's
    /// paste-burst window would be taken as a newline).
    pub fn type_line(&self, name: &str, text: &str) {
        self.tmux(&["send-keys", "-t", name, "-l", text]);
        let head: String = text.chars().take(12).collect();
        self.wait_screen(name, &format!("the typed {head:?} to show"), |s| s.contains(&head));
        std::thread::sleep(Duration::from_millis(400));
        self.keys(name, &["Enter"]);
    }

    pub fn screen(&self, name: &str) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", name]).stdout).into_owned()
    }

    pub fn wait_screen(&self, name: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let until = Instant::now() + Duration::from_secs(SETTLE);
        loop {
            let s = self.screen(name);
            if pred(&s) {
                return s;
            }
            assert!(Instant::now() < until, "timed out waiting for {what}; the screen:\n{s}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Answers the dialog on screen with `keys`, and again while it is
    /// still `up` 5 s later: a TUI that draws a dialog before it listens
    /// for keys drops those that come in between.
    pub fn answer(&self, name: &str, keys: &[&str], up: impl Fn(&str) -> bool) {
        for _ in 0..3 {
            self.keys(name, keys);
            let until = Instant::now() + Duration::from_secs(5);
            while Instant::now() < until {
                if !up(&self.screen(name)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            eprintln!("{name}: the dialog is still up 5 s after {keys:?}; sending them again");
        }
        panic!("{name}: the dialog stays up after three answers; the screen:\n{}", self.screen(name));
    }

    /// Closes the terminal, as closing its window does (SIGHUP).
    pub fn close(&self, name: &str) {
        self.tmux(&["kill-session", "-t", name]);
    }
}

impl Drop for Tmux {
    /// Ends every terminal and whatever outlived it (Gemini CLI survives its
    /// terminal closing).
    fn drop(&mut self) {
        for pid in self.panes.lock().unwrap().iter() {
            let _ = Command::new("pkill").args(["-KILL", "-s", &pid.to_string()]).status();
        }
        self.tmux(&["kill-server"]);
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The basic environment every agent gets: the test's home, a terminal.
pub fn base_vars(env: &Env) -> Vec<(String, String)> {
    vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("HOME".into(), env.home.display().to_string()),
        ("TERM".into(), "xterm-256color".into()),
        ("LANG".into(), "C.UTF-8".into()),
        ("SHELL".into(), "/bin/bash".into()),
        ("TZ".into(), "UTC".into()),
    ]
}

/// Sends SIGKILL to `pids`, in that order, at once (none: nothing to do,
/// rather than `kill`'s usage text in the test output).
pub fn kill9(pids: &[u32]) {
    if pids.is_empty() {
        return;
    }
    let mut c = Command::new("kill");
    c.arg("-KILL");
    c.args(pids.iter().map(|p| p.to_string()));
    let _ = c.status();
}

/// Waits for `pid` to end after its terminal closed. One that outlives it
/// by 10 s hangs in its own shutdown, which is the agent's affair, not
/// agentwatch's: it is ended with SIGKILL, as its user would, and said so.
/// Either way its session ends at the prompt.
pub fn ends_with_its_terminal(pid: u32) {
    let until = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        if Instant::now() >= until {
            eprintln!("pid {pid} outlived its terminal by 10 s; ending it with SIGKILL");
            kill9(&[pid]);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The pids of `pid`'s children.
pub fn children(pid: u32) -> Vec<u32> {
    let out = Command::new("pgrep").args(["-P", &pid.to_string()]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.trim().parse().ok()).collect()
}

pub fn alive(pid: u32) -> bool {
    // A zombie is no longer running.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
}

/// The test's view of agentwatch: sessions followed by their process's pid
/// (a session's id may change once: a process seen before its transcript
/// or hooks gets an id of its own, merged into theirs when they appear).
pub struct Watch<'a> {
    pub env: &'a Env,
    pub agent: &'static str,
}

impl Watch<'_> {
    /// The agent's session whose process is `pid`, once the daemon has seen it.
    pub fn session_of(&self, pid: u32) -> Value {
        let until = Instant::now() + Duration::from_secs(SETTLE);
        loop {
            let all = self.env.json(&["sessions", "--no-ingest", "--limit", "1000"]);
            let found = all["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| is_followed(&s["pid"], pid) && s["agent"] == self.agent);
            if let Some(s) = found {
                return s.clone();
            }
            assert!(
                Instant::now() < until,
                "timed out waiting for the daemon to see {} (pid {pid}); the sessions:\n{}",
                self.agent,
                serde_json::to_string_pretty(&all).unwrap()
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// What a timeout needs said besides the session: whether the followed
    /// processes still run, every alert, the daemon's last scan, the end of
    /// its log, and the screen of the terminal running `pid`.
    fn diagnosis(&self, pid: u32) -> String {
        let mut tree = vec![pid];
        tree.extend(TREES.lock().unwrap().iter().filter(|(k, _)| *k == pid).flat_map(|(_, t)| t.clone()));
        tree.extend(children(pid));
        tree.sort_unstable();
        tree.dedup();
        let procs: Vec<String> =
            tree.iter().map(|p| format!("{p} {}", if alive(*p) { "runs" } else { "is gone" })).collect();
        let mut out = format!("processes: {}\n", procs.join(", "));
        out += &format!("every alert: {}\n", self.env.json(&["alerts", "--limit", "50"]));
        if let Some(screen) = screen_of(pid) {
            out += &format!("its terminal:\n{screen}\n");
        }
        // A daemon that stopped scanning shows here.
        let last_scan = &self.env.json(&["status"])["monitor"]["lastScan"];
        out += &format!("the daemon's last scan: {last_scan}\n");
        for e in std::fs::read_dir(self.env.data.join("logs")).into_iter().flatten().flatten() {
            let log = std::fs::read_to_string(e.path()).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            out += &format!("the daemon's log {}, its end:\n", e.path().display());
            for l in &lines[lines.len().saturating_sub(25)..] {
                out += &format!("  {l}\n");
            }
        }
        out
    }

    /// The session's detail (state history, tool calls, alerts).
    pub fn show(&self, pid: u32) -> Value {
        for _ in 0..20 {
            let id = self.session_of(pid)["sessionId"].as_str().unwrap().to_string();
            let o = self.env.run(&["sessions", "show", &id, "--no-ingest", "--format", "json"]);
            if o.status.success() {
                return serde_json::from_slice(&o.stdout).unwrap();
            }
            // Merged into its transcript's or hooks' session meanwhile: look again.
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the session of pid {pid} keeps vanishing");
    }

    /// Waits until the session's state (and what it waits for) is `state`;
    /// returns the session's detail.
    pub fn wait_state(&self, pid: u32, state: &str, waiting_for: Option<&str>) -> Value {
        let started = Instant::now();
        let d = self.wait_on(pid, &format!("{state} {waiting_for:?}"), |d| {
            let s = &d["session"];
            (s["state"] == state && s["waitingFor"].as_str() == waiting_for).then(|| d.clone())
        });
        eprintln!("{}: {state} {waiting_for:?} after {:.1} s", self.agent, started.elapsed().as_secs_f64());
        d
    }

    /// Waits until `found` finds something in the session's detail. A
    /// timeout says what the session is now, and [`Watch::diagnosis`].
    fn wait_on<T>(&self, pid: u32, what: &str, found: impl Fn(&Value) -> Option<T>) -> T {
        let until = Instant::now() + Duration::from_secs(SETTLE);
        loop {
            let d = self.show(pid);
            if let Some(v) = found(&d) {
                return v;
            }
            assert!(
                Instant::now() < until,
                "{}: timed out waiting for {what}; the session now:\n{}\n{}",
                self.agent,
                serde_json::to_string_pretty(&d).unwrap(),
                self.diagnosis(pid)
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// The states the session went through, in order (with what it waited for).
    pub fn history(&self, pid: u32) -> Vec<String> {
        self.show(pid)["stateHistory"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| match c["waitingFor"].as_str() {
                Some(w) => format!("{}:{w}", c["to"].as_str().unwrap()),
                None => c["to"].as_str().unwrap().to_string(),
            })
            .collect()
    }

    /// The session's alerts of `kind`, oldest first.
    pub fn alerts(&self, pid: u32, kind: &str) -> Vec<Value> {
        self.show(pid)["alerts"].as_array().unwrap().iter().filter(|a| a["kind"] == kind).cloned().collect()
    }

    /// The session died, for `reason`, and raised exactly one died alert,
    /// titled `title`.
    pub fn died_once(&self, pid: u32, reason: &str, title: &str) {
        let d = self.wait_state(pid, "dead", None);
        assert_eq!(d["stateHistory"].as_array().unwrap().last().unwrap()["reason"], reason);
        self.wait_alert(pid, "died");
        // A few scans later, still one: the session did not come back to
        // die again (a child that outlived its launcher, a late hook event).
        std::thread::sleep(Duration::from_secs(3));
        let died = self.alerts(pid, "died");
        let history = &self.show(pid)["stateHistory"];
        assert_eq!((died.len(), died[0]["title"].as_str()), (1, Some(title)), "{died:?}\n{history:#}");
    }

    pub fn wait_alert(&self, pid: u32, kind: &str) -> Value {
        self.wait_on(pid, &format!("a {kind} alert"), |d| {
            d["alerts"].as_array().unwrap().iter().find(|a| a["kind"] == kind).cloned()
        })
    }

    /// A fresh agent waits for input, and stays that way: starting up is
    /// not a turn.
    pub fn fresh_at_the_prompt(&self, pid: u32) {
        self.wait_state(pid, "waiting", Some("input"));
        std::thread::sleep(std::time::Duration::from_secs(3));
        assert!(!self.history(pid).iter().any(|s| s == "working"), "{:?}", self.history(pid));
    }

    /// After a permission prompt was approved: the turn goes on, the
    /// permission alert is withdrawn, and the turn ends at the prompt.
    pub fn approved(&self, pid: u32) {
        self.wait_state(pid, "working", None);
        wait_for(SETTLE, "the permission alert to be withdrawn", || {
            self.alerts(pid, "permission")[0]["resolvedAt"].as_str().map(|_| ())
        });
        self.wait_state(pid, "waiting", Some("input"));
    }

    /// The agent ended at its prompt: completed, and nobody is told it died.
    pub fn completed(&self, pid: u32) {
        self.wait_state(pid, "completed", None);
        assert!(self.alerts(pid, "died").is_empty(), "{:?}", self.alerts(pid, "died"));
    }
}

/// agentwatch's settings for these tests: the waiting alert after 3 s.
pub fn quick_alerts(env: &Env) {
    std::fs::create_dir_all(&env.config).unwrap();
    std::fs::write(env.config.join("config.toml"), "waiting_alert_delay_secs = 3\n").unwrap();
}

/// Runs `agentwatch hooks install --agent <agent>` for this test's home
/// (the test's data dir goes into the installed commands).
pub fn install_hooks(env: &Env, agent: &str) -> String {
    env.ok(&["hooks", "install", "--agent", agent])
}
