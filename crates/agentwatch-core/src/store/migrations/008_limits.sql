-- 008: plan limits (the 5-hour and weekly windows of Claude and Codex
-- subscriptions), as the agents report them: a sample per window per
-- observation, kept 8 days (the forecast reads the last 30 minutes, the
-- latest sample is what users see).
CREATE TABLE limit_samples (
    agent          TEXT NOT NULL,             -- claude-code, codex
    window_minutes INTEGER NOT NULL,          -- 300: 5 hours, 10080: a week
    observed_at    INTEGER NOT NULL,          -- ms
    used_percent   REAL NOT NULL,             -- 0..=100
    resets_at      INTEGER,                   -- ms; NULL: not said
    source         TEXT NOT NULL,             -- rollout, statusline
    plan           TEXT,                      -- plan type, when the agent says it
    session        INTEGER,                   -- sessions.pk of the session that reported it
    PRIMARY KEY (agent, window_minutes, observed_at)
) WITHOUT ROWID;

-- What Claude Code's status line last said about a session: its own cost
-- and context use (the transcript has neither).
CREATE TABLE statusline_reports (
    agent           TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    observed_at     INTEGER NOT NULL,
    model           TEXT,
    cost_usd        REAL,
    context_percent REAL,
    PRIMARY KEY (agent, external_id)
) WITHOUT ROWID;
