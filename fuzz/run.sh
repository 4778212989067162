#!/usr/bin/env bash
# Runs every fuzz target for the given time each (default 600 s), one after
# another, on stable Rust with libFuzzer (no sanitizer: see README.md).
#   fuzz/run.sh [seconds] [target...]
# New inputs go to fuzz/work/<target>/ (not committed); the seeds in
# fuzz/corpus/<target>/ are read, never written. A crash stops the run and
# leaves its input in fuzz/artifacts/<target>/; the exit status is non-zero.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(claude_line codex_line gemini_line qwen_line document hook_payload mcp_framing rest_query)

# Share the workspace's target dir (its own subfolder: different flags).
root="$(cd .. && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}/fuzz"
# SANITIZER=address uses rustc's ASan runtime, which stable Rust ships but
# only lets nightly use: RUSTC_BOOTSTRAP=1 unlocks the -Z flag it needs.
sanitizer="${SANITIZER:-none}"
[ "$sanitizer" = none ] || export RUSTC_BOOTSTRAP=1

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

for t in "${targets[@]}"; do
    mkdir -p "work/$t" "artifacts/$t"
    echo "== $t: ${secs}s (log: fuzz/work/$t.log)"
    set +e
    cargo fuzz run -s "$sanitizer" --target-dir "$target_dir" "$t" "work/$t" "corpus/$t" -- \
        -max_total_time="$secs" -dict="dict/$t.dict" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        >"work/$t.log" 2>&1
    status=$?
    set -e
    grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb))' "work/$t.log" || true
    if [ "$status" -ne 0 ]; then
        grep -E -A8 'panicked|==[0-9]+== ERROR|Test unit written|error(\[|:)' "work/$t.log" | head -n 40 >&2 || true
        echo "== $t: FAILED (exit $status); any crashing input is in fuzz/artifacts/$t/" >&2
        exit "$status"
    fi
done
echo "== all targets ran ${secs}s each without a crash"
