//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`: seeds and
//! every input that once crashed a target) through the fuzz targets' own
//! checks, as an ordinary test. The fuzzing itself (libFuzzer, minutes per
//! target) is `fuzz/run.sh`; this keeps what it found fixed, in `make test`.

#[path = "../../../fuzz/src/lib.rs"]
mod harness;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        // A panic names the input, so it can be replayed by hand.
        eprintln!("{target}: {}", path.display());
        run(&data);
        n += 1;
    }
    assert!(n > 0, "no corpus for {target}");
}

#[test]
fn claude_line() {
    replay("claude_line", harness::claude_line);
}

#[test]
fn codex_line() {
    replay("codex_line", harness::codex_line);
}

#[test]
fn gemini_line() {
    replay("gemini_line", harness::gemini_line);
}

#[test]
fn qwen_line() {
    replay("qwen_line", harness::qwen_line);
}

#[test]
fn document() {
    replay("document", harness::document);
}

#[test]
fn hook_payload() {
    replay("hook_payload", harness::hook_payload);
}

#[test]
fn mcp_framing() {
    replay("mcp_framing", harness::mcp_framing);
}

#[test]
fn rest_query() {
    replay("rest_query", harness::rest_query);
}
