-- agentwatch schema, version 2: live monitoring.
-- Process links, self-reported state (hooks, MCP), state history, alerts,
-- tool calls, and a change feed for live views.

-- The process running the session, identified by (pid, start time).
ALTER TABLE sessions ADD COLUMN pid INTEGER;
ALTER TABLE sessions ADD COLUMN proc_start INTEGER;        -- seconds since the epoch
ALTER TABLE sessions ADD COLUMN command TEXT;
ALTER TABLE sessions ADD COLUMN cpu REAL;                  -- % of one core at the last scan, process tree
ALTER TABLE sessions ADD COLUMN memory INTEGER;            -- bytes at the last scan, process tree
-- What the transcript's tail says: 'working' (mid-turn) or 'waiting' (turn ended).
ALTER TABLE sessions ADD COLUMN turn TEXT;
-- What the agent says about itself (hooks, MCP).
ALTER TABLE sessions ADD COLUMN heartbeat_at INTEGER;
ALTER TABLE sessions ADD COLUMN reported_state TEXT;
ALTER TABLE sessions ADD COLUMN reported_at INTEGER;
ALTER TABLE sessions ADD COLUMN ide_type TEXT;
ALTER TABLE sessions ADD COLUMN program_id TEXT;
ALTER TABLE sessions ADD COLUMN progress INTEGER;
ALTER TABLE sessions ADD COLUMN status_text TEXT;
ALTER TABLE sessions ADD COLUMN context_bytes INTEGER;
ALTER TABLE sessions ADD COLUMN handoff_required INTEGER;
ALTER TABLE sessions ADD COLUMN mcp_session TEXT;          -- MCP session id, for MCP-registered sessions
ALTER TABLE sessions ADD COLUMN tool_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN last_tool TEXT;
ALTER TABLE sessions ADD COLUMN errors INTEGER NOT NULL DEFAULT 0;
-- Bookkeeping.
ALTER TABLE sessions ADD COLUMN state_changed_at INTEGER;
ALTER TABLE sessions ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;

CREATE INDEX sessions_pid ON sessions (pid) WHERE pid IS NOT NULL;
CREATE INDEX sessions_state ON sessions (state);
CREATE INDEX sessions_mcp ON sessions (mcp_session) WHERE mcp_session IS NOT NULL;

-- Every state transition, with when and why. `scan` is the collector's scan
-- number when it decided, for "within N scans" checks.
CREATE TABLE state_changes (
    id         INTEGER PRIMARY KEY,
    session    INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    reason     TEXT,
    scan       INTEGER
);
CREATE INDEX state_changes_session ON state_changes (session, at);

-- Every alert raised, delivered or not. `key` de-duplicates.
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    session    INTEGER,
    kind       TEXT NOT NULL,                -- died, stale, waiting, budget_daily, budget_monthly
    key        TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    delivered  INTEGER NOT NULL DEFAULT 0,
    suppressed TEXT                          -- why it was not shown: paused, quiet hours, snoozed
);
CREATE INDEX alerts_at ON alerts (at);

-- Alert snoozes: scope 'all' or a session id.
CREATE TABLE snoozes (
    scope TEXT PRIMARY KEY,
    until INTEGER NOT NULL
) WITHOUT ROWID;

-- Tool calls seen by hooks and the MCP proxy/server.
CREATE TABLE tool_calls (
    id       INTEGER PRIMARY KEY,
    session  INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    tool     TEXT NOT NULL,
    source   TEXT NOT NULL,                  -- hook, mcp, proxy
    is_error INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tool_calls_session ON tool_calls (session, at);

-- Change feed. Every writer (daemon, mcp-proxy, hook) appends what changed;
-- live views (SSE, the desktop app) follow it by id.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    kind    TEXT NOT NULL,                   -- session.created, session.updated, session.state, tool.call, usage, alert
    session TEXT,                            -- public session id
    data    TEXT                             -- JSON
);
