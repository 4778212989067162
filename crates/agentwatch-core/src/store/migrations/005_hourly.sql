-- agentwatch schema, version 5: the rollup summed again per hour.
--
-- Reports over the whole history read every 15-minute rollup row (36,700 at
-- a million calls) and missed their 50 ms. An hour whose four buckets fall
-- on one local day (every hour, in a zone whose offset is whole hours) is
-- read here as one row; the other hours, and the window's partial edges,
-- still come from `usage_rollup` (store::usage::rollup). Ingest writes both
-- tables in the same transaction; `hour` is floor(bucket / 4).
CREATE TABLE usage_rollup_hour (
    session   INTEGER NOT NULL,
    hour      INTEGER NOT NULL,
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
    PRIMARY KEY (hour, session, model, flags)
) WITHOUT ROWID;

-- SQLite's `/` truncates toward zero: floor by hand for buckets before 1970.
INSERT INTO usage_rollup_hour
SELECT session, CASE WHEN bucket >= 0 THEN bucket / 4 ELSE (bucket - 3) / 4 END, model, flags,
       SUM(events), SUM(input), SUM(output), SUM(cw5m), SUM(cw1h), SUM(cr), SUM(reasoning),
       SUM(over_input), SUM(over_output), SUM(over_cw5m), SUM(over_cw1h), SUM(over_cr),
       SUM(n_over_input), SUM(n_over_output), SUM(n_over_cw5m), SUM(n_over_cw1h), SUM(n_over_cr),
       SUM(cost_usd)
FROM usage_rollup
GROUP BY 2, 1, 3, 4;
