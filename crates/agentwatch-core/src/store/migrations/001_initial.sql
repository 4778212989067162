-- agentwatch schema, version 1: sessions, usage events, rollups, file cursors.
-- Times are milliseconds since the Unix epoch, UTC.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per agent session, whatever signals describe it.
CREATE TABLE sessions (
    pk              INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,     -- public id: the agent's own id when it has one
    agent           TEXT NOT NULL,            -- agent type id: claude-code, codex, ...
    external_id     TEXT,                     -- the agent's own session id
    name            TEXT,
    agent_label     TEXT,                     -- who the agent says it is (MCP clientInfo, config); NULL: the type's name
    project_path    TEXT,
    source          TEXT NOT NULL,            -- the signal that created it: transcript, process, mcp, hook
    state           TEXT NOT NULL DEFAULT 'completed',
    started_at      INTEGER NOT NULL,
    last_activity   INTEGER NOT NULL,
    ended_at        INTEGER,
    agent_version   TEXT,
    transcript_path TEXT,
    events          INTEGER NOT NULL DEFAULT 0,
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0,
    cache_write_5m_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens      INTEGER NOT NULL DEFAULT 0,
    -- Cached from the rollup, recomputed after ingest and when prices change.
    models          TEXT,                     -- comma-separated model names, costliest first
    cost_usd        REAL,                     -- cost of the priced part
    cost_source     TEXT,
    unpriced_models TEXT,                     -- comma-separated model names without a price
    cost_version    TEXT,
    UNIQUE (agent, external_id)
);
CREATE INDEX sessions_last_activity ON sessions (last_activity);

CREATE TABLE models (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

-- One row per billed model call, deduplicated. `id` is a stable 63-bit hash
-- of the call's identity and `key_check` a second, independent hash of it: the
-- dedup check is the primary-key lookup itself, confirmed by `key_check`
-- (a row id taken by another call is probed forward).
CREATE TABLE usage_events (
    id        INTEGER PRIMARY KEY,
    key_check INTEGER NOT NULL,
    session   INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    model     INTEGER NOT NULL,
    flags     INTEGER NOT NULL,               -- 1 sidechain, 2 fast, 4 model fallback
    input     INTEGER NOT NULL,
    output    INTEGER NOT NULL,
    cw5m      INTEGER NOT NULL,
    cw1h      INTEGER NOT NULL,
    cr        INTEGER NOT NULL,
    reasoning INTEGER NOT NULL,
    cost_usd  REAL                            -- recorded by the agent (legacy costUSD)
);
CREATE INDEX usage_events_ts ON usage_events (ts);

-- Usage summed per session, 15-minute bucket, model and pricing flags, kept
-- up to date at ingest. Reports read this, never the events, so they cost the
-- same however much history there is. `over_*` hold the sums and counts of
-- the events above the 200k tier, per category, for tiered pricing.
CREATE TABLE usage_rollup (
    session   INTEGER NOT NULL,
    bucket    INTEGER NOT NULL,               -- ts / 900000
    model     INTEGER NOT NULL,
    flags     INTEGER NOT NULL,               -- 2 fast, 4 model fallback, 8 priced by the transcript
    events    INTEGER NOT NULL DEFAULT 0,
    input     INTEGER NOT NULL DEFAULT 0,
    output    INTEGER NOT NULL DEFAULT 0,
    cw5m      INTEGER NOT NULL DEFAULT 0,
    cw1h      INTEGER NOT NULL DEFAULT 0,
    cr        INTEGER NOT NULL DEFAULT 0,
    reasoning INTEGER NOT NULL DEFAULT 0,
    over_input INTEGER NOT NULL DEFAULT 0, over_output INTEGER NOT NULL DEFAULT 0,
    over_cw5m  INTEGER NOT NULL DEFAULT 0, over_cw1h   INTEGER NOT NULL DEFAULT 0,
    over_cr    INTEGER NOT NULL DEFAULT 0,
    n_over_input INTEGER NOT NULL DEFAULT 0, n_over_output INTEGER NOT NULL DEFAULT 0,
    n_over_cw5m  INTEGER NOT NULL DEFAULT 0, n_over_cw1h   INTEGER NOT NULL DEFAULT 0,
    n_over_cr    INTEGER NOT NULL DEFAULT 0,
    cost_usd  REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (session, bucket, model, flags)
) WITHOUT ROWID;
CREATE INDEX usage_rollup_bucket ON usage_rollup (bucket);

-- Ingest cursor per transcript file: a re-run reads only the bytes after
-- `offset` (the end of the last complete line). `tail_hash` hashes the bytes
-- just before `offset`, to notice a file rewritten in place.
CREATE TABLE files (
    path      TEXT PRIMARY KEY,
    agent     TEXT NOT NULL,
    dev       INTEGER NOT NULL,
    ino       INTEGER NOT NULL,
    size      INTEGER NOT NULL,
    mtime_ns  INTEGER NOT NULL,
    offset    INTEGER NOT NULL,
    tail_hash INTEGER NOT NULL,
    state     TEXT,                           -- the parser's state at `offset`, JSON
    malformed INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
