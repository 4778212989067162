-- 010: calls stored in the order they were read. Keyed by their 63-bit
-- hash, every new call went to a random place of the table, so each commit
-- of an ingest (one every 50 ms, so other writers get their turn) rewrote
-- most of the table's pages: the writer's time went into page splits and
-- the write-ahead log. Now a new call appends to the table, and the hash
-- is a unique column with an index of its own (small entries, so far fewer
-- pages). Measured in bench/README.md, "Dense and mixed corpora".
CREATE TABLE usage_events_v10 (
    seq       INTEGER PRIMARY KEY,            -- the order calls were stored in
    id        INTEGER NOT NULL UNIQUE,        -- the call's stable 63-bit hash (see 001)
    key_check INTEGER NOT NULL,
    session   INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    model     INTEGER NOT NULL,
    flags     INTEGER NOT NULL,
    input     INTEGER NOT NULL,
    output    INTEGER NOT NULL,
    cw5m      INTEGER NOT NULL,
    cw1h      INTEGER NOT NULL,
    cr        INTEGER NOT NULL,
    reasoning INTEGER NOT NULL,
    cost_usd  REAL
);
INSERT INTO usage_events_v10
      (id, key_check, session, ts, model, flags, input, output, cw5m, cw1h, cr, reasoning, cost_usd)
    SELECT id, key_check, session, ts, model, flags, input, output, cw5m, cw1h, cr, reasoning, cost_usd
    FROM usage_events ORDER BY ts;
DROP TABLE usage_events;
ALTER TABLE usage_events_v10 RENAME TO usage_events;
CREATE INDEX usage_events_time ON usage_events (ts, session, model, flags);

-- Plan-window samples are kept 2 hours before each window's newest (the
-- forecast reads 30 minutes; store/limits.rs), no longer 8 days.
DELETE FROM limit_samples WHERE observed_at < (
    SELECT MAX(n.observed_at) - 7200000 FROM limit_samples n
    WHERE n.agent = limit_samples.agent AND n.window_minutes = limit_samples.window_minutes);
