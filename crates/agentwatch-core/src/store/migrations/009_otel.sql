-- 009: model calls the agents' OpenTelemetry reported (api/otlp.rs). They
-- are not usage: the transcript stays the ledger. A call counts as live
-- usage only until the session's transcript reaches its start
-- (store/otel.rs, `pending`), so no call is ever counted twice. Kept 2 days.
CREATE TABLE otel_calls (
    session     INTEGER NOT NULL,             -- sessions.pk
    call_key    TEXT NOT NULL,                -- the request id, or time+model+tokens
    at          INTEGER NOT NULL,             -- ms: when the call ended (the event's time)
    duration_ms INTEGER NOT NULL,
    model       TEXT NOT NULL,
    input       INTEGER NOT NULL,
    output      INTEGER NOT NULL,
    cache_read  INTEGER NOT NULL,
    cache_write INTEGER NOT NULL,
    reasoning   INTEGER NOT NULL,
    cost_usd    REAL,                         -- when the agent says it (Claude Code)
    PRIMARY KEY (session, call_key)
) WITHOUT ROWID;
CREATE INDEX otel_calls_at ON otel_calls (at);

-- The log records already applied (a 63-bit hash of agent, session, event,
-- time and sequence): an exporter that retries a batch changes nothing.
CREATE TABLE otel_seen (
    key INTEGER PRIMARY KEY,
    at  INTEGER NOT NULL
);
CREATE INDEX otel_seen_at ON otel_seen (at);
