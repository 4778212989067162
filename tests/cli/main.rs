//! Black-box tests of the `agentwatch` binary: each test builds its own home
//! with Claude Code and Codex transcripts, runs the real binary, and checks
//! its output.

mod api;
mod costs;
mod errors;
mod export;
mod faults;
mod hooks;
mod ingest;
mod limits;
mod live;
mod mcp;
mod metrics;
mod otlp;
mod polish;
mod prices;
mod proxy;
mod security;
mod sessions;
mod support;
