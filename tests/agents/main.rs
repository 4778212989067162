//! The real agent CLIs, driven like a person drives them (in tmux, offline
//! against tests/agents/model_stub.py), with a real agentwatch daemon
//! watching: every state agentwatch shows is checked against what the agent
//! is really doing. `make agents` installs the pinned CLIs and runs these.
//!
//! They are `#[ignore]`d in a plain `cargo test`: they need the CLIs from
//! npm and tmux, and take minutes.

#[path = "../cli/support.rs"]
mod support;

mod claude;
mod cline;
mod codex;
mod copilot;
mod gemini;
mod harness;
mod opencode;
mod parity;
mod pi;
mod qwen;
