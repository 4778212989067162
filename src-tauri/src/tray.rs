//! The tray icon and its menu.
//!
//! The icon shows the worst current state (dead > stale > waiting >
//! normal). The menu lists who waits for you, what is stale or dead, every
//! active session (each opens its window), today's and this week's cost,
//! and the app's actions. On Linux the tray delivers no clicks, so
//! everything is in the menu.
//!
//! It is rebuilt from a [`model::MenuSpec`] computed off the main thread,
//! when the event stream pokes the [`Trigger`] (bursts coalesced), and once
//! a minute for the runtimes; only a changed spec touches the tray.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentwatch_core::pricing::PriceBook;
use agentwatch_core::reports::{Range, Zone, week_start};
use chrono::{Datelike, NaiveDate};
use serde_json::Value;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuEvent, MenuItem, MenuItemKind, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use crate::Shared;
use crate::backend::ListFilter;

pub const TRAY_ID: &str = "agentwatch";
/// Changes arriving this close together refresh the menu once.
const COALESCE: Duration = Duration::from_millis(250);
/// Runtimes move on even when nothing happens.
const PERIODIC: Duration = Duration::from_secs(60);

/// Asks the tray to refresh.
#[derive(Default)]
pub struct Trigger {
    tx: Mutex<Option<mpsc::Sender<()>>>,
}

impl Trigger {
    pub fn poke(&self) {
        if let Some(tx) = self.tx.lock().expect("trigger lock").as_ref() {
            let _ = tx.send(());
        }
    }
}

pub mod model {
    //! What the tray shows, as data: computed from sessions and costs, with
    //! no GUI types, so it is tested directly.

    use std::collections::HashMap;

    use agentwatch_core::liveness::WaitingFor;
    use serde_json::Value;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum IconState {
        Normal,
        Waiting,
        Stale,
        Dead,
    }

    #[derive(Debug, Clone, PartialEq)]
    pub enum Entry {
        /// A disabled line that names a section.
        Header(String),
        /// Opens the session's window.
        Session {
            id: String,
            label: String,
        },
        /// A disabled line of information.
        Text(String),
        Separator,
        Action {
            id: &'static str,
            label: String,
            enabled: bool,
        },
        Check {
            id: &'static str,
            label: String,
            checked: bool,
        },
        Submenu {
            label: String,
            items: Vec<Entry>,
        },
    }

    #[derive(Debug, Clone, PartialEq)]
    pub struct MenuSpec {
        pub icon: IconState,
        pub tooltip: String,
        pub entries: Vec<Entry>,
    }

    /// What the menu is made from.
    #[derive(Debug, Clone, Default)]
    pub struct Snapshot {
        /// Sessions not archived (SessionView JSON).
        pub sessions: Vec<Value>,
        /// Today's cost per session id (`None`: only unpriced usage).
        pub cost_today: HashMap<String, Option<f64>>,
        pub today_usd: f64,
        pub week_usd: f64,
        /// A line per plan's windows (`limits::plan_lines`, from the core).
        pub plans: Vec<String>,
        pub paused: bool,
        pub start_at_login: bool,
    }

    pub const MAX_ACTIVE: usize = 15;

    pub fn session_item_id(id: &str) -> String {
        format!("session:{id}")
    }

    /// "12m", "1h 05m", "2d 3h".
    pub fn runtime(secs: i64) -> String {
        let s = secs.max(0);
        match s {
            0..60 => format!("{s}s"),
            60..3600 => format!("{}m", s / 60),
            3600..86_400 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
            _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
        }
    }

    pub fn money(usd: f64) -> String {
        format!("${usd:.2}")
    }

    fn project(s: &Value) -> String {
        s["projectPath"]
            .as_str()
            .map(|p| p.trim_end_matches('/'))
            .and_then(|p| p.rsplit('/').next())
            .filter(|p| !p.is_empty())
            .unwrap_or("—")
            .to_string()
    }

    fn agent(s: &Value) -> &str {
        s["agentLabel"].as_str().filter(|l| !l.is_empty()).or(s["agent"].as_str()).unwrap_or("agent")
    }

    /// "Claude Code · web-app · 12m · $0.42 today".
    pub fn session_label(s: &Value, cost_today: &HashMap<String, Option<f64>>) -> String {
        let id = s["sessionId"].as_str().unwrap_or("");
        let cost = match cost_today.get(id) {
            None => money(0.0),
            Some(Some(c)) => money(*c),
            Some(None) => "—".to_string(),
        };
        let rt = runtime(s["durationSeconds"].as_i64().unwrap_or(0));
        format!("{} · {} · {rt} · {cost} today", agent(s), project(s))
    }

    fn state(s: &Value) -> &str {
        s["state"].as_str().unwrap_or("")
    }

    /// Live as the core decided it (`SessionState::is_live`, sent as `live`).
    fn live(s: &Value) -> bool {
        s["live"] == true
    }

    /// What a waiting session waits for: the core's order is the urgency
    /// (permission prompts, then questions, then idle prompts).
    fn waiting_for(s: &Value) -> WaitingFor {
        s["waitingFor"].as_str().and_then(WaitingFor::parse).unwrap_or(WaitingFor::Input)
    }

    /// At most `max` characters, `…` when cut.
    fn clip(s: &str, max: usize) -> String {
        if s.chars().count() <= max {
            return s.to_string();
        }
        s.chars().take(max - 1).chain(std::iter::once('…')).collect()
    }

    /// "Codex · api · asks permission: Bash(npm test)".
    fn needs_you_label(s: &Value, cost_today: &HashMap<String, Option<f64>>) -> String {
        let tool = s["pendingTool"]["name"].as_str().map(|name| {
            match s["pendingTool"]["summary"].as_str().filter(|x| !x.is_empty()) {
                Some(summary) => format!("{name}({})", clip(summary, 40)),
                None => name.to_string(),
            }
        });
        match (waiting_for(s), tool) {
            (WaitingFor::Permission, Some(t)) => format!("{} · {} · asks permission: {t}", agent(s), project(s)),
            (WaitingFor::Permission, None) => format!("{} · {} · asks permission", agent(s), project(s)),
            (WaitingFor::Question, _) => format!("{} · {} · asks a question", agent(s), project(s)),
            (WaitingFor::Input, _) => session_label(s, cost_today),
        }
    }

    /// A separator, unless the menu starts here or has one already.
    fn sep(e: &mut Vec<Entry>) {
        if e.last().is_some_and(|l| *l != Entry::Separator) {
            e.push(Entry::Separator);
        }
    }

    pub fn build(snap: &Snapshot) -> MenuSpec {
        let visible: Vec<&Value> = snap.sessions.iter().filter(|s| s["archived"] != true).collect();
        let of = |st: &str| visible.iter().copied().filter(|s| state(s) == st).collect::<Vec<_>>();
        let (waiting, stale, dead) = (of("waiting"), of("stale"), of("dead"));
        let live_count = visible.iter().filter(|s| live(s)).count();
        let icon = if !dead.is_empty() {
            IconState::Dead
        } else if !stale.is_empty() {
            IconState::Stale
        } else if !waiting.is_empty() {
            IconState::Waiting
        } else {
            IconState::Normal
        };
        let mut tip = vec![format!("{live_count} active")];
        for (n, what) in [(waiting.len(), "waiting"), (stale.len(), "stale"), (dead.len(), "dead")] {
            if n > 0 {
                tip.push(format!("{n} {what}"));
            }
        }
        tip.push(format!("{} today", money(snap.today_usd)));
        let tooltip = tip.join(" · ");

        let item =
            |s: &Value, label: String| Entry::Session { id: s["sessionId"].as_str().unwrap_or("").to_string(), label };
        let mut e = Vec::new();
        if !waiting.is_empty() {
            // Permission prompts first, then questions, then finished turns.
            let mut needs = waiting.clone();
            needs.sort_by_key(|s| waiting_for(s));
            e.push(Entry::Header("Needs you".into()));
            for s in &needs {
                e.push(item(s, needs_you_label(s, &snap.cost_today)));
            }
        }
        if !stale.is_empty() || !dead.is_empty() {
            e.push(Entry::Header("Stale or dead".into()));
            for s in stale.iter().chain(dead.iter()) {
                e.push(item(s, format!("{} · {} · {}", agent(s), project(s), state(s))));
            }
        }
        sep(&mut e);
        // Every other live session, longest running first.
        let mut active: Vec<&Value> =
            visible.iter().copied().filter(|s| live(s) && !matches!(state(s), "waiting" | "stale")).collect();
        active.sort_by_key(|s| std::cmp::Reverse(s["durationSeconds"].as_i64().unwrap_or(0)));
        if active.is_empty() && live_count == 0 {
            e.push(Entry::Text("No active sessions".into()));
        }
        for s in active.iter().take(MAX_ACTIVE) {
            e.push(item(s, session_label(s, &snap.cost_today)));
        }
        if active.len() > MAX_ACTIVE {
            e.push(Entry::Action {
                id: "open-dashboard-more",
                label: format!("… and {} more", active.len() - MAX_ACTIVE),
                enabled: true,
            });
        }
        sep(&mut e);
        e.push(Entry::Text(format!("Today {} · This week {}", money(snap.today_usd), money(snap.week_usd))));
        for p in &snap.plans {
            e.push(Entry::Text(p.clone()));
        }
        e.push(Entry::Separator);
        e.push(Entry::Action { id: "open-dashboard", label: "Open dashboard".into(), enabled: true });
        e.push(Entry::Submenu {
            label: if snap.paused { "Notifications paused".into() } else { "Pause notifications".into() },
            items: vec![
                Entry::Action { id: "pause-1h", label: "For 1 hour".into(), enabled: true },
                Entry::Action { id: "pause-tomorrow", label: "Until tomorrow".into(), enabled: true },
                Entry::Action { id: "resume", label: "Resume".into(), enabled: snap.paused },
            ],
        });
        e.push(Entry::Check { id: "autostart", label: "Start at login".into(), checked: snap.start_at_login });
        e.push(Entry::Separator);
        e.push(Entry::Action { id: "quit", label: "Quit".into(), enabled: true });
        MenuSpec { icon, tooltip, entries: e }
    }
}

use model::{Entry, IconState, MenuSpec, Snapshot};

fn icon(state: IconState) -> Image<'static> {
    let bytes: &'static [u8] = match state {
        IconState::Normal => include_bytes!("../../icons/tray-normal.png"),
        IconState::Waiting => include_bytes!("../../icons/tray-waiting.png"),
        IconState::Stale => include_bytes!("../../icons/tray-stale.png"),
        IconState::Dead => include_bytes!("../../icons/tray-dead.png"),
    };
    Image::from_bytes(bytes).expect("the tray icons are valid PNGs")
}

/// Labels are plain text; muda reads `&` as a mnemonic marker.
fn text(s: &str) -> String {
    s.replace('&', "&&")
}

fn make<R: Runtime>(app: &AppHandle<R>, e: &Entry) -> tauri::Result<MenuItemKind<R>> {
    Ok(match e {
        Entry::Header(t) | Entry::Text(t) => MenuItemKind::MenuItem(MenuItem::new(app, text(t), false, None::<&str>)?),
        Entry::Session { id, label } => {
            MenuItemKind::MenuItem(MenuItem::with_id(app, model::session_item_id(id), text(label), true, None::<&str>)?)
        }
        Entry::Separator => MenuItemKind::Predefined(PredefinedMenuItem::separator(app)?),
        Entry::Action { id, label, enabled } => {
            MenuItemKind::MenuItem(MenuItem::with_id(app, *id, text(label), *enabled, None::<&str>)?)
        }
        Entry::Check { id, label, checked } => {
            MenuItemKind::Check(CheckMenuItem::with_id(app, *id, text(label), true, *checked, None::<&str>)?)
        }
        Entry::Submenu { label, items } => {
            let kids = items.iter().map(|i| make(app, i)).collect::<tauri::Result<Vec<_>>>()?;
            let refs: Vec<&dyn IsMenuItem<R>> = kids.iter().map(|k| k as &dyn IsMenuItem<R>).collect();
            MenuItemKind::Submenu(Submenu::with_items(app, text(label), true, &refs)?)
        }
    })
}

fn menu<R: Runtime>(app: &AppHandle<R>, spec: &MenuSpec) -> tauri::Result<Menu<R>> {
    let items = spec.entries.iter().map(|e| make(app, e)).collect::<tauri::Result<Vec<_>>>()?;
    let refs: Vec<&dyn IsMenuItem<R>> = items.iter().map(|k| k as &dyn IsMenuItem<R>).collect();
    Menu::with_items(app, &refs)
}

/// Creates the tray icon and starts refreshing it.
pub fn create<R: Runtime>(app: &AppHandle<R>, shared: &Arc<Shared>) -> tauri::Result<()> {
    let (tx, rx) = mpsc::channel();
    *shared.tray.tx.lock().expect("trigger lock") = Some(tx);
    let first = model::build(&Snapshot::default());
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(first.icon))
        .tooltip(&first.tooltip)
        .title("agentwatch")
        .menu(&menu(app, &first)?)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu)
        .build(app)?;
    let app = app.clone();
    let shared = shared.clone();
    std::thread::Builder::new()
        .name("tray".into())
        .spawn(move || refresh_loop(&app, &shared, rx, first))
        .map_err(|e| tauri::Error::Anyhow(e.into()))?;
    Ok(())
}

fn refresh_loop<R: Runtime>(app: &AppHandle<R>, shared: &Shared, rx: mpsc::Receiver<()>, mut shown: MenuSpec) {
    let mut prices: Option<(Instant, PriceBook)> = None;
    let mut first = true;
    loop {
        if !first {
            match rx.recv_timeout(PERIODIC) {
                Ok(()) => {
                    // Let the rest of a burst arrive.
                    std::thread::sleep(COALESCE);
                    while rx.try_recv().is_ok() {}
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        first = false;
        if prices.as_ref().is_none_or(|(at, _)| at.elapsed() > Duration::from_secs(600)) {
            match PriceBook::load(&shared.local.dirs) {
                Ok(p) => prices = Some((Instant::now(), p)),
                Err(e) => tracing::warn!("tray: prices: {e}"),
            }
        }
        let Some((_, book)) = prices.as_ref() else { continue };
        let snap = match snapshot(app, shared, book) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("tray: {e}");
                continue;
            }
        };
        let spec = model::build(&snap);
        if spec == shown {
            continue;
        }
        if let Err(e) = apply(app, &shown, &spec) {
            tracing::warn!("tray: {e}");
            continue;
        }
        tracing::debug!("tray refreshed: {}", spec.tooltip);
        shown = spec;
    }
}

fn apply<R: Runtime>(app: &AppHandle<R>, old: &MenuSpec, new: &MenuSpec) -> tauri::Result<()> {
    let Some(tray) = app.tray_by_id(TRAY_ID) else { return Ok(()) };
    if old.icon != new.icon {
        tray.set_icon(Some(icon(new.icon)))?;
    }
    if old.tooltip != new.tooltip {
        tray.set_tooltip(Some(&new.tooltip))?;
    }
    if old.entries != new.entries {
        tray.set_menu(Some(menu(app, new)?))?;
    }
    Ok(())
}

/// Reads what the menu shows.
pub fn snapshot<R: Runtime>(
    app: &AppHandle<R>,
    shared: &Shared,
    prices: &PriceBook,
) -> agentwatch_core::Result<Snapshot> {
    let backend = shared.backend();
    let sessions = backend.list_sessions(&ListFilter { active: Some(true), limit: Some(500), ..Default::default() })?;
    let week = backend.cost_summary(Range::Days7)?;
    let today = Zone::Local.today();
    let (today_usd, week_usd) = week_costs(&week, today);
    // A daemon of an older version has no /api/limits: the menu goes on without.
    let limits = backend.limits().unwrap_or_else(|e| {
        tracing::debug!("tray: plan limits: {e}");
        Value::Null
    });
    let plans = limits["plans"].as_array().into_iter().flatten().filter_map(|p| p.as_str().map(String::from)).collect();
    Ok(Snapshot {
        sessions,
        cost_today: shared.local.costs_today(prices)?.into_iter().collect(),
        today_usd,
        week_usd,
        plans,
        paused: shared.local.paused()?,
        start_at_login: crate::commands::start_at_login(app, shared),
    })
}

/// Today's cost and this calendar week's (since Monday), from a 7-day summary.
pub fn week_costs(summary: &Value, today: NaiveDate) -> (f64, f64) {
    let monday = week_start(today);
    let mut t = 0.0;
    let mut w = 0.0;
    for d in summary["daily"].as_array().into_iter().flatten() {
        let Some(date) = d["date"].as_str().and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()) else {
            continue;
        };
        let cost = d["cost"].as_f64().unwrap_or(0.0);
        if date == today {
            t += cost;
        }
        if date >= monday && date <= today {
            w += cost;
        }
    }
    debug_assert!(monday.weekday() == chrono::Weekday::Mon);
    (t, w)
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    let id = event.id().as_ref().to_string();
    tracing::info!(item = %id, "tray menu");
    let Some(shared) = app.try_state::<Arc<Shared>>().map(|s| s.inner().clone()) else { return };
    if let Some(session) = id.strip_prefix("session:") {
        if let Err(e) = crate::windows::open_session_window(app, &shared, session) {
            tracing::warn!("cannot open the window of {session}: {e}");
        }
        return;
    }
    match id.as_str() {
        "open-dashboard" | "open-dashboard-more" => crate::windows::show_main(app),
        "quit" => {
            shared.backend().shutdown();
            app.exit(0);
        }
        "pause-1h" | "pause-tomorrow" | "resume" => {
            let app = app.clone();
            std::thread::spawn(move || {
                let now = agentwatch_core::util::now_ms();
                let r = match id.as_str() {
                    "pause-1h" => shared.local.pause(now + 3_600_000),
                    "pause-tomorrow" => shared.local.pause(tomorrow_morning(now)),
                    _ => shared.local.resume(),
                };
                if let Err(e) = r {
                    tracing::warn!("{id}: {e}");
                }
                shared.tray.poke();
                drop(app);
            });
        }
        "autostart" => {
            let on = !crate::commands::start_at_login(app, &shared);
            if let Err(e) = crate::commands::set_start_at_login(app, &shared, on) {
                tracing::warn!("start at login: {e}");
            }
            shared.tray.poke();
        }
        _ => {}
    }
}

/// 08:00 local time tomorrow, in ms.
pub fn tomorrow_morning(now_ms: i64) -> i64 {
    let today = Zone::Local.date_of(now_ms);
    let tomorrow = today.succ_opt().unwrap_or(today);
    Zone::Local.start_of(tomorrow) + 8 * 3_600_000
}

#[cfg(test)]
mod tests {
    use super::model::*;
    use super::*;
    use serde_json::json;

    fn s(id: &str, agent: &str, project: &str, state: &str, secs: i64) -> Value {
        // `live` as the core sends it (SessionState::is_live).
        let live = agentwatch_core::model::SessionState::parse(state).is_some_and(|st| st.is_live());
        json!({"sessionId": id, "agentLabel": agent, "agent": "x", "projectPath": format!("/home/u/{project}"),
               "state": state, "live": live, "durationSeconds": secs, "archived": false,
               "waitingFor": if state == "waiting" { json!("input") } else { Value::Null }})
    }

    #[test]
    fn needs_you_lists_permission_prompts_then_questions_then_finished_turns() {
        let mut ask = s("q", "Claude Code", "docs", "waiting", 5);
        ask["waitingFor"] = json!("question");
        let mut perm = s("p", "Codex", "api", "waiting", 5);
        perm["waitingFor"] = json!("permission");
        perm["pendingTool"] = json!({"name": "Bash", "summary": "npm run deploy"});
        let idle = s("i", "Gemini CLI", "site", "waiting", 50);
        let mut pinned = s("k", "Cursor Agent", "kept", "pinned", 50);
        pinned["live"] = json!(true);
        let snap = Snapshot { sessions: vec![idle, ask, pinned, perm], ..Default::default() };
        let m = build(&snap);
        let first: Vec<&Entry> = m.entries.iter().take(4).collect();
        assert_eq!(first[0], &Entry::Header("Needs you".into()));
        assert_eq!(
            first[1],
            &Entry::Session { id: "p".into(), label: "Codex · api · asks permission: Bash(npm run deploy)".into() }
        );
        assert_eq!(first[2], &Entry::Session { id: "q".into(), label: "Claude Code · docs · asks a question".into() });
        assert_eq!(first[3], &Entry::Session { id: "i".into(), label: "Gemini CLI · site · 50s · $0.00 today".into() });
        // A pinned session is live (the core says so): listed, and counted.
        assert!(m.entries.iter().any(|e| matches!(e, Entry::Session { id, .. } if id == "k")));
        assert_eq!(m.tooltip, "4 active · 3 waiting · $0.00 today");
    }

    #[test]
    fn the_menu_puts_what_needs_you_first_and_the_icon_shows_the_worst_state() {
        let snap = Snapshot {
            sessions: vec![
                s("a", "Claude Code", "web-app", "working", 750),
                s("b", "Codex", "api-server", "waiting", 30),
                s("c", "Codex", "builder", "dead", 5000),
                s("d", "Claude Code", "docs", "completed", 10),
                s("e", "Claude Code", "old", "idle", 4000),
            ],
            cost_today: [("a".to_string(), Some(0.4234)), ("e".to_string(), None)].into_iter().collect(),
            today_usd: 4.2,
            week_usd: 31.0,
            plans: vec!["Claude 5h 37% · resets 14:05 | week 21%".into(), "Codex 5h 42% | week 17%".into()],
            paused: false,
            start_at_login: true,
        };
        let m = build(&snap);
        assert_eq!(m.icon, IconState::Dead);
        assert_eq!(m.tooltip, "3 active · 1 waiting · 1 dead · $4.20 today");
        let labels: Vec<String> = m
            .entries
            .iter()
            .map(|e| match e {
                Entry::Header(t) | Entry::Text(t) => t.clone(),
                Entry::Session { id, label } => format!("[{id}] {label}"),
                Entry::Separator => "---".into(),
                Entry::Action { label, .. } | Entry::Check { label, .. } | Entry::Submenu { label, .. } => {
                    label.clone()
                }
            })
            .collect();
        assert_eq!(
            labels,
            vec![
                "Needs you",
                "[b] Codex · api-server · 30s · $0.00 today",
                "Stale or dead",
                "[c] Codex · builder · dead",
                "---",
                "[e] Claude Code · old · 1h 06m · — today",
                "[a] Claude Code · web-app · 12m · $0.42 today",
                "---",
                "Today $4.20 · This week $31.00",
                "Claude 5h 37% · resets 14:05 | week 21%",
                "Codex 5h 42% | week 17%",
                "---",
                "Open dashboard",
                "Pause notifications",
                "Start at login",
                "---",
                "Quit",
            ]
        );
        assert!(m.entries.contains(&Entry::Check { id: "autostart", label: "Start at login".into(), checked: true }));
    }

    #[test]
    fn icons_follow_the_worst_state_and_an_empty_menu_says_so() {
        let one = |st: &str| Snapshot { sessions: vec![s("a", "Codex", "p", st, 1)], ..Default::default() };
        assert_eq!(build(&one("working")).icon, IconState::Normal);
        assert_eq!(build(&one("waiting")).icon, IconState::Waiting);
        assert_eq!(build(&one("stale")).icon, IconState::Stale);
        assert_eq!(build(&one("dead")).icon, IconState::Dead);
        let empty = build(&Snapshot::default());
        assert_eq!(empty.entries[0], Entry::Text("No active sessions".into()));
        assert_eq!(empty.tooltip, "0 active · $0.00 today");
        // Only sessions that need attention: one separator between them and the costs.
        let waiting = build(&one("waiting"));
        let kinds: Vec<bool> = waiting.entries.iter().take(4).map(|e| *e == Entry::Separator).collect();
        assert_eq!(kinds, vec![false, false, true, false], "{:?}", waiting.entries);
        let paused = build(&Snapshot { paused: true, ..Default::default() });
        let Some(Entry::Submenu { label, items }) = paused.entries.iter().find(|e| matches!(e, Entry::Submenu { .. }))
        else {
            panic!("no submenu")
        };
        assert_eq!(label, "Notifications paused");
        assert!(items.contains(&Entry::Action { id: "resume", label: "Resume".into(), enabled: true }));
    }

    #[test]
    fn runtimes_and_weeks() {
        assert_eq!(runtime(59), "59s");
        assert_eq!(runtime(61), "1m");
        assert_eq!(runtime(3_900), "1h 05m");
        assert_eq!(runtime(90_000), "1d 1h");
        let sum = json!({"daily": [
            {"date": "2026-11-15", "cost": 100.0}, {"date": "2026-11-16", "cost": 1.0},
            {"date": "2026-11-20", "cost": 2.0}, {"date": "2026-11-21", "cost": 0.5}]});
        // Saturday 2026-11-21: the week started on Monday the 16th.
        assert_eq!(week_costs(&sum, NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()), (0.5, 3.5));
    }
}
