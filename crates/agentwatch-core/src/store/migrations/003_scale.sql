-- agentwatch schema, version 3: indexes for a big history (bench/scale: 1,000
-- sessions, 1,000,000 usage events), chosen from EXPLAIN QUERY PLAN of the
-- queries in store/plans.rs.

-- The rollup keyed by time first. Reports read a time window (or all of it)
-- in bucket order: a range of the primary key, read in order, instead of the
-- bucket index and a lookup per row. A session's rows (session detail, cost
-- refresh) go through the new session index.
CREATE TABLE usage_rollup_v3 (
    session   INTEGER NOT NULL,
    bucket    INTEGER NOT NULL,
    model     INTEGER NOT NULL,
    flags     INTEGER NOT NULL,
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
    PRIMARY KEY (bucket, session, model, flags)
) WITHOUT ROWID;
INSERT INTO usage_rollup_v3 SELECT * FROM usage_rollup;
DROP TABLE usage_rollup;
ALTER TABLE usage_rollup_v3 RENAME TO usage_rollup;
CREATE INDEX usage_rollup_session ON usage_rollup (session);

-- Billing blocks need exact times only at their edges (a block's first and
-- last call, the gaps, the order models were first used): the calls of one
-- 15-minute bucket, read from this index alone. Event rows are keyed by a
-- hash, so reading them in time order through the old (ts) index meant a
-- random page read per call.
DROP INDEX usage_events_ts;
CREATE INDEX usage_events_time ON usage_events (ts, session, model, flags);

-- `sessions show <id>` also finds a session by the agent's own id.
CREATE INDEX sessions_external ON sessions (external_id) WHERE external_id IS NOT NULL;

-- A session's alerts (session detail), without reading every alert.
CREATE INDEX alerts_session ON alerts (session, at);

-- Sessions whose cached cost must be computed (every report checks).
CREATE INDEX sessions_uncosted ON sessions (events) WHERE cost_version IS NULL;
