-- agentwatch schema, version 4: hook events that waited in the spool
-- (hooks::spool) and were applied, by file name, so that a file left behind
-- by a writer killed between its commit and the file's removal is never
-- applied twice.
CREATE TABLE hook_spool_applied (
    name TEXT PRIMARY KEY,
    at INTEGER NOT NULL
) WITHOUT ROWID;
