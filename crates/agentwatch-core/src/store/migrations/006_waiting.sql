-- agentwatch schema, version 6: what a waiting agent waits for, the tool a
-- permission prompt or question is about, and which signal decided each
-- state; alerts that are withdrawn once the person answered.

-- The session's current verdict (liveness::decide): waiting_for is set only
-- while the state is 'waiting'; pending_tool is JSON {"name", "summary"}.
ALTER TABLE sessions ADD COLUMN waiting_for TEXT;          -- permission, question, input
ALTER TABLE sessions ADD COLUMN pending_tool TEXT;
ALTER TABLE sessions ADD COLUMN state_signal TEXT;         -- registry, hook, transcript, process, mcp, otel

-- What a push signal (hook, plugin, MCP) said about the turn, apart from
-- what the collector reads from the agent's files (the `turn` column).
ALTER TABLE sessions ADD COLUMN reported_turn TEXT;        -- liveness::Turn names
ALTER TABLE sessions ADD COLUMN reported_tool TEXT;        -- JSON {"name", "summary"}
ALTER TABLE sessions ADD COLUMN reported_by TEXT;          -- hook, mcp, otel

ALTER TABLE state_changes ADD COLUMN signal TEXT;
ALTER TABLE state_changes ADD COLUMN waiting_for TEXT;

-- A permission or question alert is withdrawn (its notification closed)
-- once the session no longer waits for that answer.
ALTER TABLE alerts ADD COLUMN resolved_at INTEGER;
CREATE INDEX alerts_open ON alerts (kind) WHERE resolved_at IS NULL AND kind IN ('permission', 'question');
