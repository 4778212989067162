-- 007: secrets on stored command lines (`ANTHROPIC_API_KEY=…`, `--api-key …`,
-- URL credentials) are masked. The work is Rust (crate::redact), run as this
-- migration's hook: see store::redact_stored_commands.
SELECT 1;
