//! Codex, driven offline.
