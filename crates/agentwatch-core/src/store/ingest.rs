//! Writing parsed transcript records into the store.
//!
//! The writer keeps one transaction open and commits in batches. Each batch
//! holds whole file chunks together with their cursors, so a crash at any
//! point leaves events, rollups, session totals and cursors consistent: a
//! re-run resumes from the last committed cursor and deduplication absorbs
//! anything read twice.
//!
//! The writer is the one thread ingest cannot parallelise, so it keeps its
//! statements prepared, looks names up without allocating, and sums rollups
//! in memory between commits.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, Statement, params};

use super::Store;
use crate::error::{Error, Result};
use crate::liveness::in_span;
use crate::model::{EventKey, Tokens, UsageEvent};
use crate::pricing::{PriceBook, TIER_THRESHOLD, TieredTokens};
use crate::sources::{Record, SessionInfo};

/// Event flags, as stored in `usage_events.flags` and `usage_rollup.flags`.
pub mod flags {
    pub const SIDECHAIN: i64 = 1;
    pub const FAST: i64 = 2;
    pub const MODEL_FALLBACK: i64 = 4;
    /// Priced by the transcript's own cost figure (rollup only).
    pub const TRANSCRIPT_COST: i64 = 8;
    /// A message the agent wrote itself ([`SYNTHETIC_MODEL`]): an entry of a
    /// 5-hour block, left out of every other report and of the session's
    /// totals.
    ///
    /// [`SYNTHETIC_MODEL`]: crate::model::SYNTHETIC_MODEL
    pub const SYNTHETIC: i64 = 16;
}

/// Events per transaction before committing.
const BATCH_EVENTS: usize = 50_000;

/// How long the writer keeps the write lock, in milliseconds, once another
/// writer (a hook, the MCP server or proxy, the collector) has asked for it:
/// then it commits and pauses for [`YIELD_MS`], so that they get their turn
/// during a long ingest instead of waiting for all of it. Waiting writers
/// ask by touching the store's wanted file (`store::Waiting`).
pub const HOLD_MS: u64 = 50;
/// How long it keeps the lock while nobody asks. Each commit writes every
/// page the transaction changed to the log, and new calls change pages all
/// over the calls' indexes, so committing once a second instead of every
/// 50 ms takes about a quarter off a first read of a large history
/// (bench/README.md). Readers see the ingest's progress at each commit.
const MAX_HOLD_MS: u64 = 1000;
/// How often, at most, the writer looks at the wanted file.
const ASKED_CHECK_MS: u64 = 5;
const YIELD_MS: u64 = 2;

/// The rollup bucket width: 15 minutes, so that every timezone offset in use
/// falls on a bucket boundary.
pub const BUCKET_MS: i64 = 15 * 60 * 1000;

/// Where ingest stopped in one file (the default: nothing read yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCursor {
    pub path: String,
    pub agent: String,
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
    /// The end of the last complete line read.
    pub offset: u64,
    /// Hash of the bytes just before `offset`.
    pub tail_hash: u64,
    pub state: Option<String>,
    /// Malformed lines seen in this file so far.
    pub malformed: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    pub new_events: u64,
    pub duplicate_events: u64,
    /// Copies replaced by a better copy of the same call (a main copy over a
    /// side chain's, a complete count over a streaming snapshot).
    pub replaced_events: u64,
    /// Calls removed because the document that held them no longer does.
    pub removed_events: u64,
}

#[derive(Default)]
struct SessionAcc {
    /// The first and last plausible times (see [`in_span`]).
    first: Option<i64>,
    last: Option<i64>,
    /// The first and last of all times, for a session that has no plausible one.
    any_first: Option<i64>,
    any_last: Option<i64>,
    events: i64,
    tokens: [i64; 6],
    info: Option<SessionInfo>,
    transcript_path: Option<String>,
}

#[derive(Hash, PartialEq, Eq, Clone, Copy)]
struct RollupKey {
    session: i64,
    bucket: i64,
    model: i64,
    flags: i64,
}

#[derive(Default)]
struct RollupAcc {
    events: i64,
    tokens: [i64; 6],
    over: [i64; 5],
    over_n: [i64; 5],
    cost: f64,
}

impl RollupAcc {
    fn add(&mut self, o: &RollupAcc) {
        self.events += o.events;
        for (a, x) in self
            .tokens
            .iter_mut()
            .chain(&mut self.over)
            .chain(&mut self.over_n)
            .zip(o.tokens.iter().chain(&o.over).chain(&o.over_n))
        {
            *a += x;
        }
        self.cost += o.cost;
    }

    /// Adds these sums to the row `k` of the table `st` upserts into
    /// ([`rollup_upsert`]).
    fn upsert(&self, st: &mut Statement, k: &RollupKey) -> rusqlite::Result<usize> {
        let (t, o, n) = (&self.tokens, &self.over, &self.over_n);
        st.execute(params![
            k.session,
            k.bucket,
            k.model,
            k.flags,
            self.events,
            t[0],
            t[1],
            t[2],
            t[3],
            t[4],
            t[5],
            o[0],
            o[1],
            o[2],
            o[3],
            o[4],
            n[0],
            n[1],
            n[2],
            n[3],
            n[4],
            self.cost
        ])
    }
}

/// The statement that adds one row's sums to a rollup table, keyed by
/// `time_col` (the 15-minute bucket or the hour), session, model and flags.
fn rollup_upsert(table: &str, time_col: &str) -> String {
    const SUMMED: [&str; 18] = [
        "events",
        "input",
        "output",
        "cw5m",
        "cw1h",
        "cr",
        "reasoning",
        "over_input",
        "over_output",
        "over_cw5m",
        "over_cw1h",
        "over_cr",
        "n_over_input",
        "n_over_output",
        "n_over_cw5m",
        "n_over_cw1h",
        "n_over_cr",
        "cost_usd",
    ];
    let params: Vec<String> = (1..=SUMMED.len() + 4).map(|i| format!("?{i}")).collect();
    let set: Vec<String> = SUMMED.iter().map(|c| format!("{c} = {c} + excluded.{c}")).collect();
    format!(
        "INSERT INTO {table} (session, {time_col}, model, flags, {}) VALUES ({})
         ON CONFLICT (session, {time_col}, model, flags) DO UPDATE SET {}",
        SUMMED.join(", "),
        params.join(", "),
        set.join(", ")
    )
}

/// One copy of a call, as [`supersedes`] compares copies.
pub(crate) struct CallCopy<'a> {
    pub sidechain: bool,
    pub tokens: Tokens,
    pub cost_usd: Option<f64>,
    pub model: &'a str,
    pub fast: bool,
}

impl<'a> CallCopy<'a> {
    pub fn of(e: &'a UsageEvent) -> CallCopy<'a> {
        CallCopy { sidechain: e.sidechain, tokens: e.tokens, cost_usd: e.cost_usd, model: &e.model, fast: e.fast }
    }
}

/// Whether `new` should replace `old`, a copy of the same call. A main copy
/// beats a side-chain copy; otherwise the copy with more tokens (Claude Code
/// writes streaming snapshots) or, on a tie, the higher cost. On a full tie
/// the earlier copy stays: the kept copy is the first of the greatest.
pub(crate) fn supersedes(prices: &PriceBook, new: &CallCopy, old: &CallCopy) -> bool {
    match (old.sidechain, new.sidechain) {
        (true, false) => return true,
        (false, true) => return false,
        _ => {}
    }
    let (a, b) = (new.tokens.total(), old.tokens.total());
    if a != b {
        return a > b;
    }
    let cost = |e: &CallCopy| {
        e.cost_usd.unwrap_or_else(|| {
            prices.price_group(e.model, e.fast, None, &TieredTokens::of_event(&e.tokens)).usd.unwrap_or(0.0)
        })
    };
    cost(new) > cost(old)
}

/// A stored event, as needed to compare copies and undo a contribution.
struct StoredEvent {
    check: i64,
    session: i64,
    ts: i64,
    model: i64,
    flags: i64,
    tokens: Tokens,
    cost_usd: Option<f64>,
}

impl StoredEvent {
    fn token_array(&self) -> [u64; 6] {
        let t = &self.tokens;
        [t.input, t.output, t.cache_write_5m, t.cache_write_1h, t.cache_read, t.reasoning]
    }
}

struct Statements<'c> {
    insert_event: Statement<'c>,
    select_event: Statement<'c>,
    update_event: Statement<'c>,
    delete_event: Statement<'c>,
    exists_event: Statement<'c>,
    save_cursor: Statement<'c>,
}

const INSERT_EVENT: &str = "INSERT INTO usage_events
      (id, key_check, session, ts, model, flags, input, output, cw5m, cw1h, cr, reasoning, cost_usd)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT (id) DO NOTHING";
const SELECT_EVENT: &str =
    "SELECT key_check, session, ts, model, flags, input, output, cw5m, cw1h, cr, reasoning, cost_usd
    FROM usage_events WHERE id = ?1";
const UPDATE_EVENT: &str = "UPDATE usage_events SET session = ?2, ts = ?3, model = ?4, flags = ?5, input = ?6,
      output = ?7, cw5m = ?8, cw1h = ?9, cr = ?10, reasoning = ?11, cost_usd = ?12 WHERE id = ?1";
const SAVE_CURSOR: &str =
    "INSERT INTO files (path, agent, dev, ino, size, mtime_ns, offset, tail_hash, state, malformed)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
    ON CONFLICT (path) DO UPDATE SET agent = excluded.agent, dev = excluded.dev, ino = excluded.ino,
      size = excluded.size, mtime_ns = excluded.mtime_ns, offset = excluded.offset,
      tail_hash = excluded.tail_hash, state = excluded.state, malformed = excluded.malformed";

const SELECT_CURSOR: &str = "SELECT path, agent, dev, ino, size, mtime_ns, offset, tail_hash, state, malformed";

fn cursor_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FileCursor> {
    Ok(FileCursor {
        path: r.get(0)?,
        agent: r.get(1)?,
        dev: r.get::<_, i64>(2)? as u64,
        ino: r.get::<_, i64>(3)? as u64,
        size: r.get::<_, i64>(4)? as u64,
        mtime_ns: r.get(5)?,
        offset: r.get::<_, i64>(6)? as u64,
        tail_hash: r.get::<_, i64>(7)? as u64,
        state: r.get(8)?,
        malformed: r.get::<_, i64>(9)? as u64,
    })
}

impl Store {
    /// Every file's cursor, by path.
    pub fn file_cursors(&self) -> Result<HashMap<String, FileCursor>> {
        let mut st = self.conn.prepare(&format!("{SELECT_CURSOR} FROM files")).map_err(|e| self.err(e))?;
        let rows = st.query_map([], cursor_row).map_err(|e| self.err(e))?;
        let mut out = HashMap::new();
        for c in rows {
            let c = c.map_err(|e| self.err(e))?;
            out.insert(c.path.clone(), c);
        }
        Ok(out)
    }

    /// The cursors of these files only (those the store has), by path: a
    /// watcher's few changed files need not load every file's.
    pub fn file_cursors_of(&self, paths: &[String]) -> Result<HashMap<String, FileCursor>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("{SELECT_CURSOR} FROM files WHERE path = ?1"))
            .map_err(|e| self.err(e))?;
        let mut out = HashMap::new();
        for p in paths {
            if let Some(c) = st.query_row([p], cursor_row).optional().map_err(|e| self.err(e))? {
                out.insert(c.path.clone(), c);
            }
        }
        Ok(out)
    }

    /// Where `agent` ran, as far as the store knows: the folders of its
    /// sessions (their projects, their processes' working directories) and
    /// its files (read before, or linked to a process). For a source that finds its files from
    /// there ([`crate::sources::Source::follow`]).
    pub fn leads(&self, agent: &str) -> Result<crate::sources::Leads> {
        let paths = |sql: &str| -> Result<Vec<std::path::PathBuf>> {
            let mut st = self.conn.prepare(sql).map_err(|e| self.err(e))?;
            let rows = st.query_map([agent], |r| r.get::<_, String>(0)).map_err(|e| self.err(e))?;
            rows.map(|p| p.map(std::path::PathBuf::from).map_err(|e| self.err(e))).collect()
        };
        Ok(crate::sources::Leads {
            processes: Vec::new(),
            dirs: paths("SELECT DISTINCT project_path FROM sessions WHERE agent = ?1 AND project_path IS NOT NULL")?,
            files: paths(
                "SELECT path FROM files WHERE agent = ?1
                 UNION SELECT transcript_path FROM sessions WHERE agent = ?1 AND transcript_path IS NOT NULL",
            )?,
        })
    }
}

/// A plan-window reading and the session (pk) that reported it.
type SessionReading = (crate::limits::LimitReading, Option<i64>);

pub struct IngestWriter<'s> {
    store: &'s Store,
    prices: &'s PriceBook,
    st: Statements<'s>,
    models: HashMap<String, i64>,
    /// agent → external id → session pk.
    session_pks: HashMap<String, HashMap<String, i64>>,
    sessions: HashMap<i64, SessionAcc>,
    rollup: HashMap<RollupKey, RollupAcc>,
    /// Plan-window readings since the last flush, per agent and window,
    /// with their session.
    limits: HashMap<(String, i64), Vec<SessionReading>>,
    touched: HashSet<i64>,
    pending: usize,
    /// When the open transaction began.
    since: std::time::Instant,
    /// The same, by the wall clock the wanted file's time is compared with.
    since_wall: std::time::SystemTime,
    /// When the wanted file was last looked at.
    checked: std::time::Instant,
    /// When this writer started: times far ahead of it do not count as activity.
    now: i64,
    stats: WriterStats,
}

impl<'s> IngestWriter<'s> {
    pub fn new(store: &'s Store, prices: &'s PriceBook) -> Result<IngestWriter<'s>> {
        let c = &store.conn;
        let models = {
            let mut st = c.prepare("SELECT name, id FROM models")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<HashMap<_, _>>>()?
        };
        c.execute_batch("BEGIN IMMEDIATE").map_err(|e| store.err(e))?;
        let st = Statements {
            insert_event: c.prepare(INSERT_EVENT)?,
            select_event: c.prepare(SELECT_EVENT)?,
            update_event: c.prepare(UPDATE_EVENT)?,
            delete_event: c.prepare("DELETE FROM usage_events WHERE id = ?1")?,
            exists_event: c.prepare("SELECT 1 FROM usage_events WHERE id = ?1")?,
            save_cursor: c.prepare(SAVE_CURSOR)?,
        };
        Ok(IngestWriter {
            store,
            prices,
            st,
            models,
            session_pks: HashMap::new(),
            sessions: HashMap::new(),
            rollup: HashMap::new(),
            limits: HashMap::new(),
            touched: HashSet::new(),
            pending: 0,
            since: std::time::Instant::now(),
            since_wall: std::time::SystemTime::now(),
            checked: std::time::Instant::now(),
            now: crate::util::now_ms(),
            stats: WriterStats::default(),
        })
    }

    fn conn(&self) -> &'s Connection {
        &self.store.conn
    }

    fn db_err(&self, e: rusqlite::Error) -> Error {
        self.store.err(e)
    }

    /// Stores the records read from one chunk of a file, then its cursor.
    pub fn apply(
        &mut self,
        agent: &str,
        records: &[Record],
        cursor: &FileCursor,
        transcript_path: Option<&str>,
    ) -> Result<()> {
        for r in records {
            match r {
                Record::Session(info) => {
                    let now = self.now;
                    let raw = info.started_at.map(|t| t.timestamp_millis());
                    let ts = raw.filter(|t| in_span(*t, now));
                    let pk = self.session_pk(agent, &info.external_id, ts)?;
                    let acc = self.sessions.entry(pk).or_default();
                    if let Some(r) = raw {
                        acc.any_first = Some(acc.any_first.map_or(r, |f| f.min(r)));
                        acc.any_last = Some(acc.any_last.map_or(r, |l| l.max(r)));
                    }
                    if let Some(ts) = ts {
                        acc.first = Some(acc.first.map_or(ts, |f| f.min(ts)));
                    }
                    acc.info = Some(info.clone());
                    if acc.transcript_path.is_none() {
                        acc.transcript_path = transcript_path.map(str::to_string);
                    }
                }
                Record::Usage(ev) => self.event(agent, ev, transcript_path)?,
                Record::Limit(r) => self.limit(agent, r, transcript_path)?,
            }
        }
        self.save_cursor(cursor)?;
        let held = self.since.elapsed();
        let asked = held >= std::time::Duration::from_millis(HOLD_MS) && self.lock_wanted();
        if asked || self.pending >= BATCH_EVENTS || held >= std::time::Duration::from_millis(MAX_HOLD_MS) {
            self.flush()?;
            self.conn().execute_batch("COMMIT").map_err(|e| self.db_err(e))?;
            if asked {
                // Writers waiting for the lock try every millisecond.
                std::thread::sleep(std::time::Duration::from_millis(YIELD_MS));
            }
            self.conn().execute_batch("BEGIN IMMEDIATE").map_err(|e| self.db_err(e))?;
            self.since = std::time::Instant::now();
            self.since_wall = std::time::SystemTime::now();
            self.pending = 0;
        }
        Ok(())
    }

    /// Whether another writer has asked for the lock since this
    /// transaction began (looked at every [`ASKED_CHECK_MS`] at most). The
    /// file's time comes from the kernel's coarse clock, up to a tick
    /// behind: a touch a little before the transaction began counts too.
    fn lock_wanted(&mut self) -> bool {
        if self.checked.elapsed() < std::time::Duration::from_millis(ASKED_CHECK_MS) {
            return false;
        }
        self.checked = std::time::Instant::now();
        let since = self.since_wall - std::time::Duration::from_millis(20);
        std::fs::metadata(self.store.lock_wanted_path()).and_then(|m| m.modified()).is_ok_and(|t| t >= since)
    }

    /// Commits what is pending and returns the counts and the sessions whose
    /// usage changed.
    pub fn finish(mut self) -> Result<(WriterStats, Vec<i64>)> {
        self.flush()?;
        self.conn().execute_batch("COMMIT").map_err(|e| self.db_err(e))?;
        let mut touched: Vec<i64> = self.touched.drain().collect();
        touched.sort_unstable();
        Ok((self.stats, touched))
    }

    fn session_pk(&mut self, agent: &str, external_id: &str, ts: Option<i64>) -> Result<i64> {
        if let Some(pk) = self.session_pks.get(agent).and_then(|m| m.get(external_id)) {
            return Ok(*pk);
        }
        // No usable time yet (none given, or 1970): a placeholder until the
        // flush fills in the first plausible one (or, when none comes, the
        // times the lines have, or now when they have none).
        let pk = ensure_session(self.conn(), agent, external_id, ts.unwrap_or(NO_TIME_YET))?;
        self.session_pks.entry(agent.to_string()).or_default().insert(external_id.to_string(), pk);
        Ok(pk)
    }

    /// Stores a plan-window reading that passes its check, against the
    /// session the file's meta line made, if any: a reading makes no
    /// session of its own.
    fn limit(&mut self, agent: &str, r: &crate::limits::LimitReading, transcript_path: Option<&str>) -> Result<()> {
        if let Err(why) = r.check() {
            tracing::warn!(path = transcript_path.unwrap_or(""), "{why}; not recorded");
            return Ok(());
        }
        let session = match r.session.as_deref() {
            Some(id) => match self.session_pks.get(agent).and_then(|m| m.get(id)) {
                Some(pk) => Some(*pk),
                None => self.store.session_by_external_id(agent, id)?,
            },
            None => None,
        };
        self.limits.entry((r.agent.clone(), r.window_minutes)).or_default().push((r.clone(), session));
        Ok(())
    }

    fn model_id(&mut self, name: &str) -> Result<i64> {
        if let Some(id) = self.models.get(name) {
            return Ok(*id);
        }
        let c = self.conn();
        c.execute("INSERT OR IGNORE INTO models (name) VALUES (?1)", [name])?;
        let id: i64 = c.query_row("SELECT id FROM models WHERE name = ?1", [name], |r| r.get(0))?;
        self.models.insert(name.to_string(), id);
        Ok(id)
    }

    fn event(&mut self, agent: &str, ev: &UsageEvent, transcript_path: Option<&str>) -> Result<()> {
        let ts = ev.timestamp.timestamp_millis();
        let session = self.session_pk(agent, &ev.session_external_id, Some(ts).filter(|t| in_span(*t, self.now)))?;
        if transcript_path.is_some() {
            let acc = self.sessions.entry(session).or_default();
            if acc.transcript_path.is_none() {
                acc.transcript_path = transcript_path.map(str::to_string);
            }
        }
        let model = self.model_id(&ev.model)?;
        let new = StoredEvent {
            check: ev.key.check,
            session,
            ts,
            model,
            flags: (if ev.sidechain { flags::SIDECHAIN } else { 0 })
                | (if ev.fast { flags::FAST } else { 0 })
                | (if ev.model_fallback { flags::MODEL_FALLBACK } else { 0 })
                | (if &*ev.model == crate::model::SYNTHETIC_MODEL { flags::SYNTHETIC } else { 0 }),
            tokens: ev.tokens,
            cost_usd: ev.cost_usd,
        };
        let mut id = ev.key.id;
        loop {
            let t = new.token_array();
            let inserted = self
                .st
                .insert_event
                .execute(params![
                    id,
                    new.check,
                    new.session,
                    new.ts,
                    new.model,
                    new.flags,
                    t[0] as i64,
                    t[1] as i64,
                    t[2] as i64,
                    t[3] as i64,
                    t[4] as i64,
                    t[5] as i64,
                    new.cost_usd,
                ])
                .map_err(|e| self.db_err(e))?;
            if inserted == 1 {
                self.count(&new, 1);
                self.stats.new_events += 1;
                self.pending += 1;
                return Ok(());
            }
            let old = self.stored(id)?;
            if old.check != new.check {
                // Another call has this row id: probe the next one.
                id = id.wrapping_add(1) & i64::MAX;
                continue;
            }
            if self.supersedes(&new, &old) {
                self.st
                    .update_event
                    .execute(params![
                        id,
                        new.session,
                        new.ts,
                        new.model,
                        new.flags,
                        t[0] as i64,
                        t[1] as i64,
                        t[2] as i64,
                        t[3] as i64,
                        t[4] as i64,
                        t[5] as i64,
                        new.cost_usd,
                    ])
                    .map_err(|e| self.db_err(e))?;
                self.count(&old, -1);
                self.count(&new, 1);
                self.stats.replaced_events += 1;
                self.pending += 1;
            } else {
                self.stats.duplicate_events += 1;
            }
            return Ok(());
        }
    }

    /// Takes these calls out of the events and every total they counted in
    /// (a document rewritten without them). A key no row has is skipped.
    pub fn remove(&mut self, keys: &[EventKey]) -> Result<()> {
        for key in keys {
            let mut id = key.id;
            while let Some(old) = self.stored_opt(id)? {
                if old.check != key.check {
                    // Another call has this row id: probe on, as inserts do.
                    id = id.wrapping_add(1) & i64::MAX;
                    continue;
                }
                self.st.delete_event.execute([id]).map_err(|e| self.db_err(e))?;
                self.count(&old, -1);
                self.stats.removed_events += 1;
                self.pending += 1;
                break;
            }
        }
        Ok(())
    }

    fn stored_opt(&mut self, id: i64) -> Result<Option<StoredEvent>> {
        let exists = self.st.exists_event.query_row([id], |_| Ok(())).optional().map_err(|e| self.db_err(e))?;
        match exists {
            Some(()) => self.stored(id).map(Some),
            None => Ok(None),
        }
    }

    /// Whether `new` should replace `old`, a copy of the same call.
    fn supersedes(&self, new: &StoredEvent, old: &StoredEvent) -> bool {
        let copy = |e: &StoredEvent| CallCopy {
            sidechain: e.flags & flags::SIDECHAIN != 0,
            tokens: e.tokens,
            cost_usd: e.cost_usd,
            model: self.models.iter().find(|(_, id)| **id == e.model).map_or("", |(m, _)| m.as_str()),
            fast: e.flags & flags::FAST != 0,
        };
        supersedes(self.prices, &copy(new), &copy(old))
    }

    fn stored(&mut self, id: i64) -> Result<StoredEvent> {
        let n = |r: &rusqlite::Row<'_>, i: usize| r.get::<_, i64>(i).map(|v| v as u64);
        self.st
            .select_event
            .query_row([id], |r| {
                Ok(StoredEvent {
                    check: r.get(0)?,
                    session: r.get(1)?,
                    ts: r.get(2)?,
                    model: r.get(3)?,
                    flags: r.get(4)?,
                    tokens: Tokens {
                        input: n(r, 5)?,
                        output: n(r, 6)?,
                        cache_write_5m: n(r, 7)?,
                        cache_write_1h: n(r, 8)?,
                        cache_read: n(r, 9)?,
                        reasoning: n(r, 10)?,
                    },
                    cost_usd: r.get(11)?,
                })
            })
            .map_err(|e| self.store.err(e))
    }

    /// Adds (`sign` 1) or removes (`sign` -1) an event's contribution to the
    /// rollup and its session's totals.
    fn count(&mut self, e: &StoredEvent, sign: i64) {
        let t = e.token_array();
        let rflags = (e.flags & (flags::FAST | flags::MODEL_FALLBACK | flags::SYNTHETIC))
            | if e.cost_usd.is_some() { flags::TRANSCRIPT_COST } else { 0 };
        let key = RollupKey { session: e.session, bucket: e.ts.div_euclid(BUCKET_MS), model: e.model, flags: rflags };
        let r = self.rollup.entry(key).or_default();
        r.events += sign;
        for (acc, v) in r.tokens.iter_mut().zip(t) {
            *acc += sign * v as i64;
        }
        for (i, v) in t.into_iter().take(5).enumerate() {
            if v > TIER_THRESHOLD {
                r.over[i] += sign * v as i64;
                r.over_n[i] += sign;
            }
        }
        r.cost += sign as f64 * e.cost_usd.unwrap_or(0.0);

        let s = self.sessions.entry(e.session).or_default();
        // A synthetic message is activity, not a call.
        if e.flags & flags::SYNTHETIC == 0 {
            s.events += sign;
            for (acc, v) in s.tokens.iter_mut().zip(t) {
                *acc += sign * v as i64;
            }
        }
        // A time far from any this session can have (1970, 9999) counts its
        // usage but does not stretch the session's span.
        if sign > 0 {
            s.any_first = Some(s.any_first.map_or(e.ts, |f| f.min(e.ts)));
            s.any_last = Some(s.any_last.map_or(e.ts, |l| l.max(e.ts)));
        }
        if sign > 0 && in_span(e.ts, self.now) {
            s.first = Some(s.first.map_or(e.ts, |f| f.min(e.ts)));
            s.last = Some(s.last.map_or(e.ts, |l| l.max(e.ts)));
        }
        self.touched.insert(e.session);
    }

    fn save_cursor(&mut self, c: &FileCursor) -> Result<()> {
        self.st
            .save_cursor
            .execute(params![
                c.path,
                c.agent,
                c.dev as i64,
                c.ino as i64,
                c.size as i64,
                c.mtime_ns,
                c.offset as i64,
                c.tail_hash as i64,
                c.state,
                c.malformed as i64
            ])
            .map_err(|e| self.store.err(e))?;
        Ok(())
    }

    /// Writes the accumulated rollup and session changes.
    fn flush(&mut self) -> Result<()> {
        let conn = self.conn();
        // A Codex rollout says where its plan's windows stand at every call;
        // the store keeps each window's last hours only (store/limits.rs),
        // so readings older than that are dropped here, not written and
        // deleted one by one.
        for (_, readings) in self.limits.drain() {
            self.store.record_limits(&readings)?;
        }
        // The same sums per hour (schema 5): one more upsert per hour touched.
        let mut hours: HashMap<RollupKey, RollupAcc> = HashMap::with_capacity(self.rollup.len());
        for (k, r) in &self.rollup {
            hours.entry(RollupKey { bucket: k.bucket.div_euclid(4), ..*k }).or_default().add(r);
        }
        let mut up = conn.prepare_cached(&rollup_upsert("usage_rollup", "bucket"))?;
        for (k, r) in self.rollup.drain() {
            r.upsert(&mut up, &k)?;
        }
        let mut up = conn.prepare_cached(&rollup_upsert("usage_rollup_hour", "hour"))?;
        for (k, r) in hours {
            r.upsert(&mut up, &k)?;
        }
        let mut st = conn.prepare_cached(
            "UPDATE sessions SET
               started_at = CASE WHEN started_at = ?15 THEN COALESCE(?2, ?16, ?14)
                                 ELSE MIN(started_at, COALESCE(?2, started_at)) END,
               last_activity = CASE WHEN last_activity = ?15 THEN COALESCE(?3, ?2, ?17, ?14)
                                    ELSE MAX(last_activity, COALESCE(?3, last_activity)) END,
               events = events + ?4, input_tokens = input_tokens + ?5, output_tokens = output_tokens + ?6,
               cache_write_5m_tokens = cache_write_5m_tokens + ?7, cache_write_1h_tokens = cache_write_1h_tokens + ?8,
               cache_read_tokens = cache_read_tokens + ?9, reasoning_tokens = reasoning_tokens + ?10,
               project_path = COALESCE(project_path, ?11), agent_version = COALESCE(?12, agent_version),
               transcript_path = COALESCE(transcript_path, ?13), updated_at = ?14,
               cost_version = CASE WHEN ?4 != 0 THEN NULL ELSE cost_version END
             WHERE pk = ?1",
        )?;
        let now = crate::util::now_ms();
        for (pk, acc) in self.sessions.drain() {
            let info = acc.info;
            st.execute(params![
                pk,
                acc.first,
                acc.last,
                acc.events,
                acc.tokens[0],
                acc.tokens[1],
                acc.tokens[2],
                acc.tokens[3],
                acc.tokens[4],
                acc.tokens[5],
                info.as_ref().and_then(|i| i.project_path.clone()),
                info.as_ref().and_then(|i| i.agent_version.clone()),
                acc.transcript_path,
                now,
                NO_TIME_YET,
                acc.any_first,
                acc.any_last,
            ])?;
        }
        Ok(())
    }
}

/// A new session's start and last activity until its first flush: no time
/// a line can carry (ms since 1970 fit in far fewer bits).
const NO_TIME_YET: i64 = i64::MIN;

/// The session row for an agent's own session id, created if missing. Its
/// public id is the agent's id, unless another agent already uses it.
pub(crate) fn ensure_session(conn: &Connection, agent: &str, external_id: &str, ts: i64) -> Result<i64> {
    if let Some(pk) = conn
        .prepare_cached("SELECT pk FROM sessions WHERE agent = ?1 AND external_id = ?2")?
        .query_row([agent, external_id], |r| r.get(0))
        .optional()?
    {
        return Ok(pk);
    }
    let taken: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?1)")?
        .query_row([external_id], |r| r.get(0))?;
    let id = if taken || !super::sessions::usable_as_id(external_id) {
        uuid::Uuid::new_v4().to_string()
    } else {
        external_id.to_string()
    };
    conn.prepare_cached(
        "INSERT INTO sessions (id, agent, external_id, source, state, started_at, last_activity, updated_at)
         VALUES (?1, ?2, ?3, 'transcript', 'completed', ?4, ?4, ?4)",
    )?
    .execute(params![id, agent, external_id, ts])?;
    Ok(conn.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use super::*;

    /// An ingest keeps the write lock while nobody asks for it, committing
    /// at least every `MAX_HOLD_MS`, and lets a writer that asks (here with
    /// a hook's 250 ms) in within `HOLD_MS`: without the asking, each of
    /// those writes would find the lock held for up to a second and fail as
    /// busy.
    #[test]
    fn a_long_ingest_commits_now_and_then_and_lets_in_a_writer_that_asks() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("a.db");
        let other = Store::open(&path).unwrap();
        other.busy_timeout(Duration::from_millis(250)).unwrap();
        let done = AtomicBool::new(false);
        let (began, began_rx) = mpsc::channel();
        std::thread::scope(|s| {
            let ingest = s.spawn(|| {
                let store = Store::open(&path).unwrap();
                let prices = PriceBook::embedded();
                let mut w = IngestWriter::new(&store, &prices).unwrap();
                began.send(()).unwrap();
                let started = Instant::now();
                let mut i = 0;
                // A file chunk every 5 ms, for longer than the longest hold.
                while !done.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(10) {
                    let cursor =
                        FileCursor { path: format!("f{i}"), agent: "claude-code".into(), ..Default::default() };
                    w.apply("claude-code", &[], &cursor, None).unwrap();
                    i += 1;
                    std::thread::sleep(Duration::from_millis(5));
                }
                w.finish().unwrap();
                i
            });
            began_rx.recv().unwrap();
            // Readers see what the ingest has written by its first commit.
            let started = Instant::now();
            while other.file_cursors().unwrap().is_empty() {
                assert!(started.elapsed() < Duration::from_millis(3 * MAX_HOLD_MS), "no commit seen");
                std::thread::sleep(Duration::from_millis(10));
            }
            for k in 0..3 {
                other.set_meta("asked", &k.to_string()).unwrap();
                std::thread::sleep(Duration::from_millis(120));
            }
            done.store(true, Ordering::Relaxed);
            let chunks = ingest.join().unwrap();
            assert!(chunks > 100, "{chunks} chunks");
            assert_eq!(other.file_cursors().unwrap().len(), chunks);
        });
        assert_eq!(other.meta("asked").unwrap().as_deref(), Some("2"));
    }
}
