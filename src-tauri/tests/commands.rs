//! The IPC commands through Tauri's mock runtime, against a temp data dir
//! with fixture transcripts, in both modes: embedded (the app reads the
//! store) and attached (through a real API server on the same data dir).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once, mpsc};
use std::time::Duration;

use agentwatch_core::api::{ApiContext, ApiInfo, EventHub, Server};
use agentwatch_core::paths::Dirs;
use agentwatch_core::pricing::PriceBook;
use agentwatch_core::sources::{Source, SourceEnv};
use agentwatch_core::store::Store;
use agentwatch_desktop::backend::{Attached, Backend, Embedded};
use agentwatch_desktop::{EVENT, Shared, commands};
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;
use tauri::{App, Listener, Manager, WebviewWindow, WebviewWindowBuilder};

const SONNET: &str = "claude-sonnet-4-5-20250929";
const SID: &str = "5e1f0000-0000-4000-8000-00000000aaaa";
/// Everything the tests start lives under this directory, which is also
/// the process scope (only processes working in it count as agents).
static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

fn root() -> &'static Path {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Under the target dir; runs that ended leave theirs, removed here.
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("desktop-tests");
        for old in std::fs::read_dir(&base).into_iter().flatten().flatten() {
            let _ = std::fs::remove_dir_all(old.path());
        }
        let dir = base.join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let fake_cli = dir.join("bin/agentwatch");
        std::fs::create_dir_all(fake_cli.parent().unwrap()).unwrap();
        std::fs::write(&fake_cli, "#!/bin/sh\n").unwrap();
        // SAFETY: set once, before any test reads the environment.
        unsafe {
            std::env::set_var("AGENTWATCH_PROCESS_SCOPE", &dir);
            std::env::set_var("AGENTWATCH_BIN", &fake_cli);
            std::env::set_var("HOME", dir.join("home"));
            std::env::set_var("TZ", "UTC");
        }
        ROOT.set(dir).unwrap();
    });
    ROOT.get().unwrap()
}

struct Fixture {
    _t: Arc<tempfile::TempDir>,
    dirs: Dirs,
    home: PathBuf,
    app: App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
    shared: Arc<Shared>,
}

fn ago(secs: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(secs)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A Claude Code session in /home/u/web-app: two calls today, priced from
/// the snapshot (Sonnet 4.5: $3/M input, $15/M output).
fn write_transcript(home: &Path) -> PathBuf {
    let dir = home.join(".claude/projects/-home-u-web-app");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{SID}.jsonl"));
    // Over 5 minutes ago: the session shows as completed, not working.
    let user = json!({"type": "user", "sessionId": SID, "cwd": "/home/u/web-app", "version": "2.0.14",
        "uuid": "u1", "timestamp": ago(420), "message": {"role": "user", "content": "Fix the login form"}});
    let call = |msg: &str, req: &str, ts: String, input: u64, output: u64| {
        json!({"type": "assistant", "sessionId": SID, "cwd": "/home/u/web-app", "version": "2.0.14",
            "uuid": format!("{msg}-uuid"), "timestamp": ts, "requestId": req,
            "message": {"id": msg, "type": "message", "role": "assistant", "model": SONNET,
                "content": [{"type": "text", "text": format!("Done with {msg}.")}],
                "usage": {"input_tokens": input, "output_tokens": output,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}})
    };
    let lines = [user, call("m1", "r1", ago(400), 100_000, 2_000), call("m2", "r2", ago(360), 50_000, 1_000)];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&p, text).unwrap();
    p
}

/// 150,000 input and 3,000 output tokens of Sonnet 4.5.
const COST: f64 = 150_000.0 * 3e-6 + 3_000.0 * 15e-6;

fn sources(home: &Path) -> Vec<Box<dyn Source>> {
    agentwatch_core::sources::all(&SourceEnv { home: Some(home.to_path_buf()), vars: Default::default() })
}

fn fixture() -> Fixture {
    let _ = root();
    let t = Arc::new(tempfile::tempdir_in(root()).unwrap());
    let home = t.path().join("home");
    write_transcript(&home);
    let dirs = Dirs::under(t.path());
    let mut store = Store::open_in(&dirs).unwrap();
    agentwatch_core::ingest::ingest(&mut store, &PriceBook::embedded(), &sources(&home), &|_| {}).unwrap();
    drop(store);
    app_on(t, false)
}

/// The app over a data dir, embedded or attached to an API server on it.
fn app_on(t: Arc<tempfile::TempDir>, attach: bool) -> Fixture {
    let dirs = Dirs::under(t.path());
    let home = t.path().join("home");
    let backend = if attach {
        // A real API server on this data dir, as a daemon would run.
        let server = tauri::async_runtime::block_on(Server::bind(&dirs, 0, EventHub::watching(&dirs))).unwrap();
        tauri::async_runtime::spawn(async move { server.serve(std::future::pending()).await });
        Backend::Attached(Attached::new(&dirs, 4242))
    } else {
        let ctx = ApiContext::new(
            &dirs,
            ApiInfo { port: 0, token: String::new(), hook_token: None },
            EventHub::watching(&dirs),
        )
        .unwrap();
        Backend::Embedded(Embedded { ctx, monitor: None, stop_api: Mutex::new(None), _lock: None })
    };
    let shared = Arc::new(Shared::with_sources(&dirs, backend, sources(&home)));
    let app = mock_builder()
        .invoke_handler(commands::handlers())
        .manage(shared.clone())
        .build(mock_context(noop_assets()))
        .unwrap();
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    Fixture { _t: t, dirs, home, app, webview, shared }
}

impl Fixture {
    fn call(&self, cmd: &str, args: Value) -> Result<Value, String> {
        let req = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.webview, req)
            .map(|b| b.deserialize::<Value>().unwrap())
            .map_err(|e| e.as_str().map(str::to_string).unwrap_or_else(|| e.to_string()))
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args.clone()).unwrap_or_else(|e| panic!("{cmd} {args} failed: {e}"))
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn sessions_are_listed_with_their_usage_and_cleared_when_completed() {
    let f = fixture();
    let r = f.ok("list_sessions", json!({"filter": {"active": true}}));
    let list = r["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{r}");
    let s = &list[0];
    assert_eq!(s["externalId"], SID);
    assert_eq!(s["agent"], "claude-code");
    assert_eq!(s["agentLabel"], "Claude Code");
    assert_eq!(s["projectPath"], "/home/u/web-app");
    assert_eq!(s["tokens"]["input"], 150_000);
    assert_eq!(s["tokens"]["output"], 3_000);
    assert!(close(num(&s["costUsd"]), COST), "{s}");
    assert_eq!(s["model"], SONNET);
    assert_eq!(s["archived"], false);
    // Filters.
    assert_eq!(
        f.ok("list_sessions", json!({"filter": {"search": "web-app"}}))["sessions"].as_array().unwrap().len(),
        1
    );
    assert!(f.ok("list_sessions", json!({"filter": {"agent": "codex"}}))["sessions"].as_array().unwrap().is_empty());
    let e = f.call("list_sessions", json!({"filter": {"state": "sleeping"}})).unwrap_err();
    assert!(e.contains("sleeping"), "{e}");
    // The session is not live: Clear completed archives it.
    let state = s["state"].as_str().unwrap();
    assert!(matches!(state, "completed" | "dead"), "{state}");
    assert_eq!(f.ok("clear_completed", json!({})), json!({"archived": 1}));
    assert!(f.ok("list_sessions", json!({"filter": {"active": true}}))["sessions"].as_array().unwrap().is_empty());
    // Still in the history.
    let h = f.ok("history", json!({"range": "today", "limit": 10, "offset": 0}));
    assert_eq!(h["total"], 1);
    assert_eq!(h["sessions"][0]["archived"], true);
}

#[test]
fn history_pages_and_searches() {
    let f = fixture();
    let h = f.ok("history", json!({"range": "7d", "limit": 10, "offset": 0, "search": "web"}));
    assert_eq!((h["total"].as_u64(), h["sessions"].as_array().unwrap().len()), (Some(1), 1));
    let none = f.ok("history", json!({"range": "7d", "limit": 10, "offset": 1}));
    assert_eq!((none["total"].as_u64(), none["sessions"].as_array().unwrap().len()), (Some(1), 0));
    assert_eq!(f.ok("history", json!({"range": "all", "limit": 5, "offset": 0, "agent": "Codex"}))["total"], 0);
    let e = f.call("history", json!({"range": "fortnight", "limit": 10, "offset": 0})).unwrap_err();
    assert!(e.contains("unknown range 'fortnight'"), "{e}");
}

#[test]
fn a_session_in_detail_with_its_models_and_transcript() {
    let f = fixture();
    let d = f.ok("get_session", json!({"id": SID}));
    assert_eq!(d["session"]["externalId"], SID);
    let models = d["models"].as_array().unwrap();
    assert_eq!(models.len(), 1);
    assert_eq!(models[0]["modelName"], SONNET);
    assert_eq!(models[0]["inputTokens"], 150_000);
    assert!(close(num(&models[0]["cost"]), COST));
    assert!(models[0]["priceSource"].as_str().unwrap().starts_with("snapshot"), "{d}");
    assert!(d["stateHistory"].is_array() && d["toolCalls"].is_array() && d["alerts"].is_array());
    // A unique prefix will do; an unknown id is a one-line error.
    let id = d["session"]["sessionId"].as_str().unwrap().to_string();
    assert_eq!(f.ok("get_session", json!({"id": &id[..8]}))["session"]["sessionId"], id);
    let e = f.call("get_session", json!({"id": "nope"})).unwrap_err();
    assert_eq!(e, "no session matches 'nope'");

    let t = f.ok("transcript_tail", json!({"id": id, "lines": 10}));
    assert!(t["path"].as_str().unwrap().ends_with(&format!("{SID}.jsonl")), "{t}");
    let lines = t["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3, "{t}");
    assert_eq!(lines[0]["role"], "user");
    assert_eq!(lines[0]["text"], "Fix the login form");
    assert_eq!(lines[2]["role"], "assistant");
    assert!(lines[2]["text"].as_str().unwrap().contains("Done with m2"), "{t}");
    assert_eq!(f.ok("transcript_tail", json!({"id": id, "lines": 1}))["lines"].as_array().unwrap().len(), 1);
}

#[test]
fn costs_by_range_and_blocks() {
    let f = fixture();
    let c = f.ok("cost_summary", json!({"range": "today"}));
    assert_eq!(c["range"], "today");
    assert!(close(num(&c["totalCost"]), COST), "{c}");
    assert_eq!(c["tokens"]["total"], 153_000);
    assert_eq!(c["byAgent"][0]["key"], "claude-code");
    assert_eq!(c["byModel"][0]["label"], SONNET);
    assert_eq!(c["byProject"][0]["label"], "web-app");
    assert_eq!(c["daily"].as_array().unwrap().len(), 1);
    assert!(close(num(&c["budgets"]["daily"]["spentUsd"]), COST));
    assert!(c["budgets"]["daily"]["limitUsd"].is_null());
    assert_eq!(f.ok("cost_summary", json!({"range": "7d"}))["daily"].as_array().unwrap().len(), 7);
    let e = f.call("cost_summary", json!({"range": "yesterday"})).unwrap_err();
    assert!(e.contains("unknown range"), "{e}");

    let b = f.ok("cost_blocks", json!({}));
    let blocks: Vec<&Value> = b["blocks"].as_array().unwrap().iter().filter(|b| b["isGap"] == false).collect();
    assert_eq!(blocks.len(), 1, "{b}");
    assert_eq!(blocks[0]["isActive"], true);
    assert_eq!(blocks[0]["entries"], 2);
    assert!(close(num(&blocks[0]["costUSD"]), COST));
    assert_eq!(blocks[0]["tokenCounts"]["inputTokens"], 150_000);
}

#[test]
fn settings_round_trip_through_config_toml() {
    let f = fixture();
    let s = f.ok("get_settings", json!({}));
    assert_eq!(s["scanIntervalSecs"], 2);
    assert_eq!(s["archiveAfterHours"], 4);
    assert_eq!(s["notifications"], json!({"enabled": true, "quietHours": null}));
    assert_eq!(s["budgets"], json!({"dailyUsd": null, "monthlyUsd": null}));
    assert_eq!(s["startAtLogin"], false);
    assert_eq!(s["dataDir"], f.dirs.data.display().to_string());
    assert_eq!(s["priceOverrideFile"], f.dirs.config.join("prices.json").display().to_string());

    let mut new = s.clone();
    new["scanIntervalSecs"] = json!(5);
    new["budgets"]["dailyUsd"] = json!(20.0);
    new["notifications"]["quietHours"] = json!({"start": "22:00", "end": "07:00"});
    new["dataDir"] = json!("/ignored");
    let saved = f.ok("save_settings", json!({"settings": new}));
    assert_eq!(saved["scanIntervalSecs"], 5);
    assert_eq!(saved["budgets"]["dailyUsd"], 20.0);
    assert_eq!(saved["dataDir"], f.dirs.data.display().to_string(), "read-only");
    let toml = std::fs::read_to_string(f.dirs.config.join("config.toml")).unwrap();
    assert!(toml.contains("scan_interval_secs = 5") && toml.contains("daily_usd = 20.0"), "{toml}");
    assert!(toml.contains("start = \"22:00\""), "{toml}");
    assert_eq!(f.ok("get_settings", json!({})), saved);
    // The budget is in force for the cost summary at once (the context reloaded).
    assert_eq!(f.ok("cost_summary", json!({"range": "today"}))["budgets"]["daily"]["limitUsd"], 20.0);

    let mut bad = saved.clone();
    bad["scanIntervalSecs"] = json!(0);
    let e = f.call("save_settings", json!({"settings": bad})).unwrap_err();
    assert!(e.contains("between 1 and 60"), "{e}");
    let mut bad = saved.clone();
    bad["notifications"]["quietHours"] = json!({"start": "25:00", "end": "07:00"});
    assert!(f.call("save_settings", json!({"settings": bad})).unwrap_err().contains("25:00"));
    assert_eq!(f.ok("get_settings", json!({})), saved, "nothing saved by refused calls");
}

#[test]
fn installing_hooks_previews_the_diff_then_applies_it() {
    let f = fixture();
    let args = json!({"target": "hooks", "agent": "claude-code", "uninstall": false});
    let p = f.ok("install_preview", args.clone());
    assert_eq!(
        (p["target"].as_str(), p["agent"].as_str(), p["installed"].as_bool()),
        (Some("hooks"), Some("claude-code"), Some(false))
    );
    let changes = p["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    let home = root().join("home");
    assert_eq!(changes[0]["path"], home.join(".claude/settings.json").display().to_string());
    let diff = changes[0]["diff"].as_str().unwrap();
    assert!(diff.contains("+") && diff.contains("agentwatch") && diff.contains("hook"), "{diff}");
    assert!(!home.join(".claude/settings.json").exists() || f.home.exists(), "preview changes nothing");

    let m = f.ok("install_apply", args.clone());
    assert!(m["message"].as_str().unwrap().starts_with("Installed agentwatch hooks for claude-code"), "{m}");
    let after = f.ok("install_preview", args);
    assert_eq!((after["installed"].as_bool(), after["changes"].as_array().unwrap().len()), (Some(true), 0));
    let un = json!({"target": "hooks", "agent": "claude-code", "uninstall": true});
    assert_eq!(f.ok("install_preview", un.clone())["installed"], true);
    assert!(f.ok("install_apply", un.clone())["message"].as_str().unwrap().starts_with("Removed"));
    assert_eq!(f.ok("install_preview", un)["installed"], false);

    let e = f.call("install_preview", json!({"target": "hooks", "agent": "cursor", "uninstall": false})).unwrap_err();
    assert!(e.contains("Cursor Agent has no hooks") && e.contains("mcp-proxy install --agent cursor-agent"), "{e}");
    let e = f.call("install_preview", json!({"target": "plugins", "agent": "codex", "uninstall": false})).unwrap_err();
    assert!(e.contains("unknown target"), "{e}");
}

#[test]
fn the_integrations_offered_are_the_agents_installs_and_each_previews() {
    // Beside a running API (telemetry is sent to it, with its token).
    let f = app_on(fixture()._t.clone(), true);
    let o = f.ok("install_options", json!({}));
    let rows: Vec<(String, Vec<String>)> = o["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let targets = r["targets"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect();
            (r["agent"].as_str().unwrap().to_string(), targets)
        })
        .collect();
    let want: Vec<(String, Vec<String>)> = [
        ("claude-code", &["hooks", "mcp-proxy", "statusline", "telemetry"][..]),
        ("codex", &["hooks", "mcp-proxy", "telemetry"]),
        ("gemini-cli", &["hooks", "telemetry"]),
        ("opencode", &["hooks"]),
        ("qwen-code", &["hooks"]),
        ("cursor-agent", &["mcp-proxy"]),
    ]
    .iter()
    .map(|(a, t)| (a.to_string(), t.iter().map(|t| t.to_string()).collect()))
    .collect();
    assert_eq!(rows, want);
    assert_eq!(o["options"][2]["name"], "Gemini CLI");
    // Every pair offered previews, on a machine where nothing is installed:
    // a change to make, except the MCP proxy, which wraps the agent's MCP
    // servers, and it has none here.
    for (agent, targets) in &rows {
        for t in targets {
            let p = f.ok("install_preview", json!({"target": t, "agent": agent, "uninstall": false}));
            let nothing_to_wrap = t == "mcp-proxy";
            assert_eq!(
                (&p["agent"], &p["installed"], p["changes"].as_array().unwrap().is_empty()),
                (&json!(agent), &json!(nothing_to_wrap), nothing_to_wrap),
                "{agent} {t}: {p}"
            );
        }
    }
}

#[test]
fn kill_stops_a_live_agent_and_refuses_an_ended_one() {
    use agentwatch_core::collector::process::Scanner;
    use agentwatch_core::model::SessionState;
    use agentwatch_core::store::ProcessFacts;
    let f = fixture();
    let ended = f.ok("list_sessions", json!({"filter": {}}))["sessions"][0]["sessionId"].as_str().unwrap().to_string();
    let r = f.ok("kill_session", json!({"id": ended}));
    assert_eq!(r["ok"], false);
    assert!(r["message"].as_str().unwrap().contains("no running process to kill"), "{r}");

    // A live agent: a process of ours, recorded as the collector would.
    let cwd = f._t.path().join("proj");
    std::fs::create_dir_all(&cwd).unwrap();
    struct Child(std::process::Child);
    impl Drop for Child {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Child(std::process::Command::new("sleep").arg("600").current_dir(&cwd).spawn().unwrap());
    let pid = child.0.id();
    let key = Scanner::new().unwrap().scan().into_iter().find(|p| p.key.pid == pid).expect("the child is seen").key;
    let store = Store::open_in(&f.dirs).unwrap();
    let facts = ProcessFacts {
        agent: "claude-code".into(),
        pid,
        start: key.start,
        command: "sleep 600".into(),
        cwd: Some(cwd.display().to_string()),
        name: None,
        transcript: None,
    };
    let (pk, _) = store.attach_process(&facts, None, agentwatch_core::util::now_ms()).unwrap();
    store.transition(pk, SessionState::Working, agentwatch_core::util::now_ms(), "running", Some(1)).unwrap();
    let id = store.session_by_pk(pk).unwrap().unwrap().id;
    let r = f.ok("kill_session", json!({"id": id}));
    assert_eq!(r["ok"], true, "{r}");
    assert!(
        r["message"].as_str().unwrap().starts_with(&format!("Stopped Claude Code in proj (pid {pid}) with SIGTERM")),
        "{r}"
    );
    let status = child.0.wait().unwrap();
    assert!(!status.success(), "terminated by a signal");
    let d = f.ok("get_session", json!({"id": id}));
    assert_eq!(d["session"]["state"], "dead");
    assert_eq!(d["stateHistory"].as_array().unwrap().last().unwrap()["reason"], "killed by the user");
}

#[test]
fn agents_come_with_their_sessions_and_costs_and_none_recorded_is_not_zero() {
    let f = fixture();
    let r = f.ok("agents", json!({}));
    let list = r["agents"].as_array().unwrap();
    assert_eq!(list.len(), agentwatch_core::sources::AGENTS.len(), "{r}");
    let get = |id: &str| list.iter().find(|a| a["id"] == id).unwrap_or_else(|| panic!("{id} in {r}"));
    let claude = get("claude-code");
    assert_eq!((&claude["found"], &claude["sessions"]), (&json!(true), &json!(1)), "{claude}");
    for period in ["last30Days", "allTime"] {
        let u = &claude[period];
        assert_eq!(
            (&u["provenance"], &u["provenanceText"], &u["calls"]),
            (&json!("priced"), &json!("priced"), &json!(2))
        );
        assert!(close(num(&u["costUsd"]), COST), "{u}");
        assert_eq!(u["tokens"]["total"], 153_000);
    }
    let cursor = &get("cursor-agent")["allTime"];
    assert_eq!((&cursor["provenance"], &cursor["costUsd"]), (&json!("not-recorded"), &Value::Null), "{cursor}");
    let codex = &get("codex")["last30Days"];
    assert_eq!((&codex["provenance"], &codex["costUsd"]), (&json!("no-usage"), &Value::Null), "{codex}");
}

#[test]
fn a_session_window_opens_once_and_is_focused_again() {
    let f = fixture();
    let id = f.ok("list_sessions", json!({"filter": {}}))["sessions"][0]["sessionId"].as_str().unwrap().to_string();
    assert_eq!(f.ok("open_session_window", json!({"id": id})), Value::Null);
    let label = agentwatch_desktop::windows::session_label(&id);
    let w = f.app.get_webview_window(&label).expect("the session window exists");
    assert!(w.url().unwrap().as_str().ends_with(&format!("index.html?session={id}")), "{}", w.url().unwrap());
    assert_eq!(f.app.webview_windows().len(), 2);
    f.ok("open_session_window", json!({"id": id}));
    assert_eq!(f.app.webview_windows().len(), 2, "opening it again focuses it");
}

#[test]
fn store_changes_reach_the_ui_as_live_events() {
    let f = fixture();
    let (tx, rx) = mpsc::channel::<Value>();
    let tx = Mutex::new(tx);
    f.app.listen_any(EVENT, move |e| {
        let _ = tx.lock().unwrap().send(serde_json::from_str(e.payload()).unwrap());
    });
    agentwatch_desktop::follow::start(f.app.handle(), &f.shared);
    std::thread::sleep(Duration::from_millis(500));
    let id = f.ok("list_sessions", json!({"filter": {}}))["sessions"][0]["sessionId"].as_str().unwrap().to_string();
    let store = Store::open_in(&f.dirs).unwrap();
    store.push_event("session.updated", Some(&id), None).unwrap();
    let ev = rx.recv_timeout(Duration::from_secs(5)).expect("an agentwatch://event");
    assert_eq!(ev["kind"], "session.updated");
    assert_eq!(ev["sessionId"], id.as_str());
    assert_eq!(ev["session"]["sessionId"], id.as_str());
    assert!(close(num(&ev["session"]["costUsd"]), COST));
    assert!(ev["id"].as_i64().unwrap() > 0 && ev["at"].is_string());
}

#[test]
fn the_tray_reads_active_sessions_and_todays_costs() {
    let f = fixture();
    let snap = agentwatch_desktop::tray::snapshot(f.app.handle(), &f.shared, &PriceBook::embedded()).unwrap();
    assert_eq!(snap.sessions.len(), 1);
    assert!(close(snap.today_usd, COST) && close(snap.week_usd, COST), "{} {}", snap.today_usd, snap.week_usd);
    let id = snap.sessions[0]["sessionId"].as_str().unwrap();
    assert!(close(snap.cost_today[id].unwrap(), COST));
    assert!(!snap.paused);
    f.shared.local.pause(agentwatch_core::util::now_ms() + 60_000).unwrap();
    assert!(f.shared.local.paused().unwrap());
    f.shared.local.resume().unwrap();
    assert!(!f.shared.local.paused().unwrap());
}

#[test]
fn attached_to_a_daemon_the_answers_are_the_same() {
    let embedded = fixture();
    let attached = app_on(embedded._t.clone(), true);
    assert_eq!(attached.shared.backend().mode(), "attached");
    let strip = |mut v: Value| {
        // Times relative to "now" move between the two calls.
        for s in v["sessions"].as_array_mut().into_iter().flatten() {
            s.as_object_mut().unwrap().remove("heartbeatAgeSeconds");
        }
        v
    };
    for (cmd, args) in [
        ("list_sessions", json!({"filter": {"active": true}})),
        ("list_sessions", json!({"filter": {"search": "web"}})),
        ("history", json!({"range": "today", "limit": 10, "offset": 0})),
    ] {
        let (a, b) = (strip(embedded.ok(cmd, args.clone())), strip(attached.ok(cmd, args.clone())));
        assert_eq!(a, b, "{cmd} {args}");
        assert_eq!(a["sessions"].as_array().unwrap().len(), 1, "{cmd} {args}: {a}");
    }
    for range in ["today", "7d"] {
        assert_eq!(
            embedded.ok("cost_summary", json!({"range": range})),
            attached.ok("cost_summary", json!({"range": range})),
            "{range}"
        );
    }
    // The agents' figures (the daemon reads the agents' folders of its own
    // home, the app those of its sources: the same here).
    let figures = |v: Value| -> Vec<Value> {
        let list = v["agents"].as_array().unwrap().clone();
        list.iter().map(|a| json!([a["id"], a["sessions"], a["last30Days"], a["allTime"]])).collect()
    };
    assert_eq!(figures(embedded.ok("agents", json!({}))), figures(attached.ok("agents", json!({}))));
    let id =
        attached.ok("list_sessions", json!({"filter": {}}))["sessions"][0]["sessionId"].as_str().unwrap().to_string();
    let d = attached.ok("get_session", json!({"id": id}));
    assert!(close(num(&d["models"][0]["cost"]), COST));
    assert_eq!(attached.call("get_session", json!({"id": "nope"})).unwrap_err(), "no session matches 'nope'");
    assert_eq!(
        attached.ok("cost_blocks", json!({}))["blocks"].as_array().unwrap().len(),
        embedded.ok("cost_blocks", json!({}))["blocks"].as_array().unwrap().len()
    );
    // Local actions work the same on the daemon's data dir.
    assert_eq!(attached.ok("clear_completed", json!({})), json!({"archived": 1}));
    assert!(
        attached.ok("list_sessions", json!({"filter": {"active": true}}))["sessions"].as_array().unwrap().is_empty()
    );
}

#[test]
fn the_capability_allows_exactly_the_commands_and_the_event_stream() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cap: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("capabilities/default.json")).unwrap()).unwrap();
    let mut perms: Vec<String> =
        cap["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
    perms.sort();
    let mut want: Vec<String> = commands::NAMES.iter().map(|c| format!("allow-{}", c.replace('_', "-"))).collect();
    want.extend(["core:event:allow-listen".to_string(), "core:event:allow-unlisten".to_string()]);
    want.sort();
    assert_eq!(perms, want);
    assert_eq!(cap["windows"], json!(["main", "session-*"]));
    let conf: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("tauri.conf.json")).unwrap()).unwrap();
    assert_eq!(
        conf["app"]["security"]["csp"],
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ipc: http://ipc.localhost; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    );
    assert_eq!(conf["build"]["frontendDist"], "../ui/dist");
    assert!(conf["build"].get("devUrl").is_none(), "no dev server at run time");
}
