//! `agentwatch costs`: every counting and pricing rule, through the binary.
//! Expected costs were computed by ccusage 20.0.24 on the same lines.

use serde_json::json;

use crate::support::*;

#[test]
fn each_call_is_counted_once_across_its_content_block_lines() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    let call = claude("2026-11-20T10:00:01.000Z", "s1", "msg_1", "req_1", SONNET, U(100, 50, 0, 2000));
    write_lines(&f, &lines(&[call.clone(), call.clone(), call]));
    let r = env.json(&["costs", "daily"]);
    let m = breakdown(&r, "2026-11-20", SONNET);
    assert_eq!(m["inputTokens"], 100);
    assert_eq!(m["outputTokens"], 50);
    assert_eq!(m["cacheReadTokens"], 2000);
    // 100×3e-6 + 50×15e-6 + 2000×0.3e-6
    assert!(close(num(&m["cost"]), 0.00165), "{m}");
    // A second run adds nothing.
    let again = env.json(&["costs", "daily"]);
    assert_eq!(again["totals"], r["totals"]);
}

#[test]
fn of_several_copies_of_a_call_the_most_complete_counts() {
    // Claude Code writes a line per content block while the response streams:
    // earlier lines may carry a partial output count.
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    let snap = |out: u64| claude("2026-11-20T10:00:01.000Z", "s1", "msg_1", "req_1", SONNET, U(10, out, 0, 0));
    write_lines(&f, &lines(&[snap(100), snap(500)]));
    let r = env.json(&["costs", "daily"]);
    assert_eq!(breakdown(&r, "2026-11-20", SONNET)["outputTokens"], 500);
    // A later, smaller copy does not replace it; a bigger one does.
    append(&f, &format!("{}\n", line(&snap(200))));
    assert_eq!(env.json(&["costs", "daily"])["totals"]["outputTokens"], 500);
    append(&f, &format!("{}\n", line(&snap(900))));
    let r = env.json(&["costs", "daily"]);
    assert_eq!(r["totals"]["outputTokens"], 900);
    assert!(close(num(&r["totals"]["totalCost"]), 10.0 * 3e-6 + 900.0 * 15e-6));
    assert_eq!(env.json(&["sessions", "show", "s1", "--no-ingest"])["session"]["tokens"]["output"], 900);
}

#[test]
fn a_side_chain_copy_loses_to_the_main_copy_in_either_order() {
    // Main copy first, then the sub-agent's copy: the main one stays.
    let env = Env::new();
    let main = env.claude_file("/home/u/web-app", "s1.jsonl");
    let sub = env.claude_file("/home/u/web-app", "s1/subagents/agent-a.jsonl");
    let mut side = claude("2026-11-20T10:00:02.000Z", "s1", "msg_1", "req_1", SONNET, U(999, 999, 0, 0));
    side["isSidechain"] = json!(true);
    write_lines(&main, &lines(&[claude("2026-11-20T10:00:01.000Z", "s1", "msg_1", "req_1", SONNET, U(100, 10, 0, 0))]));
    write_lines(&sub, &lines(&[side.clone()]));
    let r = env.json(&["costs", "daily"]);
    assert_eq!(breakdown(&r, "2026-11-20", SONNET)["inputTokens"], 100);

    // Side-chain copy ingested first, the main copy arrives in a later run:
    // it replaces the side-chain copy.
    let env = Env::new();
    let main = env.claude_file("/home/u/web-app", "s1.jsonl");
    let sub = env.claude_file("/home/u/web-app", "s1/subagents/agent-a.jsonl");
    write_lines(&sub, &lines(&[side]));
    let r = env.json(&["costs", "daily"]);
    assert_eq!(breakdown(&r, "2026-11-20", SONNET)["inputTokens"], 999);
    write_lines(&main, &lines(&[claude("2026-11-20T10:00:01.000Z", "s1", "msg_1", "req_1", SONNET, U(100, 10, 0, 0))]));
    let r = env.json(&["costs", "daily"]);
    let m = breakdown(&r, "2026-11-20", SONNET);
    assert_eq!((m["inputTokens"].as_u64(), m["outputTokens"].as_u64()), (Some(100), Some(10)));
    assert_eq!(r["totals"]["totalTokens"], 110);
    // The session's own totals were corrected too.
    let s = env.json(&["sessions", "show", "s1"]);
    assert_eq!(s["session"]["tokens"]["total"], 110);
}

#[test]
fn the_200k_tier_applies_per_event_and_per_category() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(
        &f,
        &lines(&[
            claude("2026-11-01T10:00:00.000Z", "s1", "m1", "r1", SONNET, U(250_000, 1000, 0, 0)),
            // Below the tier in every category, though the sum is above it.
            claude("2026-11-02T10:00:00.000Z", "s1", "m2", "r2", SONNET, U(100_000, 1000, 150_000, 150_000)),
        ]),
    );
    let r = env.json(&["costs", "daily"]);
    assert!(close(num(&breakdown(&r, "2026-11-01", SONNET)["cost"]), 0.915));
    assert!(close(num(&breakdown(&r, "2026-11-02", SONNET)["cost"]), 0.9225));
}

#[test]
fn one_hour_cache_writes_have_their_own_price() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    let mut one_hour = claude("2026-11-08T10:00:00.000Z", "s1", "m1", "r1", SONNET, U(1000, 1000, 300_000, 0));
    one_hour["message"]["usage"]["cache_creation"] =
        json!({"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 300_000});
    let five_min = claude("2026-11-09T10:00:00.000Z", "s1", "m2", "r2", SONNET, U(1000, 1000, 300_000, 0));
    write_lines(&f, &lines(&[one_hour, five_min]));
    let r = env.json(&["costs", "daily"]);
    assert!(close(num(&breakdown(&r, "2026-11-08", SONNET)["cost"]), 2.418));
    assert!(close(num(&breakdown(&r, "2026-11-09", SONNET)["cost"]), 1.518));
    assert_eq!(breakdown(&r, "2026-11-08", SONNET)["cacheCreationTokens"], 300_000);
}

#[test]
fn fast_mode_calls_are_reported_and_priced_as_fast() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    let mut fast = claude("2026-11-03T10:00:00.000Z", "s1", "m1", "r1", "claude-opus-4-8", U(1000, 1000, 0, 0));
    fast["message"]["usage"]["speed"] = json!("fast");
    let normal = claude("2026-11-03T11:00:00.000Z", "s1", "m2", "r2", "claude-opus-4-8", U(1000, 1000, 0, 0));
    write_lines(&f, &lines(&[fast, normal]));
    let r = env.json(&["costs", "daily"]);
    assert!(close(num(&breakdown(&r, "2026-11-03", "claude-opus-4-8-fast")["cost"]), 0.06));
    assert!(close(num(&breakdown(&r, "2026-11-03", "claude-opus-4-8")["cost"]), 0.03));
}

#[test]
fn unknown_models_count_tokens_with_unknown_cost_and_a_warning() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(
        &f,
        &lines(&[
            claude("2026-11-20T10:00:00.000Z", "s1", "m1", "r1", "my-local-model", U(10, 10, 0, 0)),
            claude("2026-11-20T11:00:00.000Z", "s1", "m2", "r2", SONNET, U(1000, 1000, 0, 0)),
        ]),
    );
    let o = env.run(&["costs", "daily", "--format", "json"]);
    assert!(o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("my-local-model") && stderr.contains("no price"), "{stderr}");
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = breakdown(&r, "2026-11-20", "my-local-model");
    assert!(m["cost"].is_null(), "never a silent $0: {m}");
    assert_eq!(m["priceSource"], "unknown");
    assert_eq!(m["inputTokens"], 10);
    assert_eq!(r["totals"]["unpricedModels"], json!(["my-local-model"]));
    assert_eq!(r["totals"]["totalTokens"], 2020);
    assert!(close(num(&r["totals"]["totalCost"]), 0.018));
    assert_eq!(breakdown(&r, "2026-11-20", SONNET)["priceSource"], "snapshot 2026-09-20");
}

#[test]
fn legacy_cost_figures_are_used_as_written() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    let mut l = claude("2026-11-05T10:00:00.000Z", "s1", "m1", "r1", SONNET, U(1000, 1000, 0, 0));
    l["costUSD"] = json!(1.5);
    write_lines(&f, &lines(&[l]));
    let r = env.json(&["costs", "daily"]);
    let m = breakdown(&r, "2026-11-05", SONNET);
    assert!(close(num(&m["cost"]), 1.5));
    assert_eq!(m["priceSource"], "transcript");
}

#[test]
fn synthetic_and_timestamp_less_lines_are_skipped() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    let mut no_ts = claude("2026-11-20T10:00:00.000Z", "s1", "m2", "r2", SONNET, U(7, 7, 0, 0));
    no_ts.as_object_mut().unwrap().remove("timestamp");
    write_lines(
        &f,
        &lines(&[
            claude("2026-11-20T10:00:00.000Z", "s1", "m1", "r1", "<synthetic>", U(5, 5, 0, 0)),
            no_ts,
            claude("2026-11-20T10:00:00.000Z", "s1", "m3", "r3", SONNET, U(1, 1, 0, 0)),
        ]),
    );
    let r = env.json(&["costs", "daily"]);
    assert_eq!(r["totals"]["totalTokens"], 2);
    assert_eq!(r["daily"][0]["modelsUsed"], json!([SONNET]));
}

#[test]
fn codex_usage_from_last_usage_or_from_deltas_of_totals() {
    let env = Env::new();
    let f = env.codex_file("2026-11-20", "rollout-2026-11-20T10-00-00-abc.jsonl");
    write_lines(
        &f,
        &lines(&[
            codex_meta("2026-11-20T10:00:00.000Z", "abc", "/home/u/api"),
            codex_turn("2026-11-20T10:00:00.100Z", "gpt-5-codex"),
            codex_tokens("2026-11-20T10:00:01.000Z", Some([1000, 400, 200, 50]), Some([1000, 400, 200, 50])),
            json!({"timestamp": "2026-11-20T10:00:02.000Z", "type": "event_msg", "payload": {"type": "token_count", "info": null}}),
            // No last usage: the delta of totals (2000 input, 1000 cached, 300 output).
            codex_tokens("2026-11-20T10:00:03.000Z", Some([3000, 1400, 500, 80]), None),
            // Unchanged totals: nothing new.
            codex_tokens("2026-11-20T10:00:04.000Z", Some([3000, 1400, 500, 80]), None),
        ]),
    );
    let r = env.json(&["costs", "daily"]);
    let m = breakdown(&r, "2026-11-20", "gpt-5-codex");
    // Cached input is reported as cache reads, not input; reasoning is part of output.
    assert_eq!(m["inputTokens"], 1600);
    assert_eq!(m["cacheReadTokens"], 1400);
    assert_eq!(m["outputTokens"], 500);
    assert!(close(num(&m["cost"]), 0.007175), "{m}");
    assert_eq!(r["daily"][0]["agents"], json!(["codex"]));
}

#[test]
fn codex_repeating_an_unchanged_total_adds_nothing() {
    let env = Env::new();
    let f = env.codex_file("2026-11-20", "rollout-2026-11-20T10-00-00-rep.jsonl");
    write_lines(
        &f,
        &lines(&[
            codex_meta("2026-11-20T10:00:00.000Z", "rep", "/home/u/api"),
            codex_turn("2026-11-20T10:00:00.000Z", "gpt-5-codex"),
            codex_tokens("2026-11-20T10:00:01.000Z", Some([1000, 400, 100, 20]), Some([1000, 400, 100, 20])),
            codex_tokens("2026-11-20T10:00:02.000Z", Some([1000, 400, 100, 20]), Some([1000, 400, 100, 20])),
            codex_tokens("2026-11-20T10:00:03.000Z", Some([3000, 1400, 300, 20]), Some([2000, 1000, 200, 0])),
        ]),
    );
    let m = env.json(&["costs", "daily"]);
    let m = breakdown(&m, "2026-11-20", "gpt-5-codex");
    assert_eq!(
        (m["inputTokens"].as_u64(), m["outputTokens"].as_u64(), m["cacheReadTokens"].as_u64()),
        (Some(1600), Some(300), Some(1400))
    );
    assert!(close(num(&m["cost"]), 0.005175));
}

#[test]
fn codex_without_a_model_falls_back_to_gpt5_and_says_so() {
    let env = Env::new();
    let f = env.codex_file("2026-11-02", "rollout-2026-11-02T10-00-00-a.jsonl");
    write_lines(
        &f,
        &lines(&[
            codex_meta("2026-11-02T10:00:00.000Z", "a", "/home/u/api"),
            codex_tokens("2026-11-02T10:00:01.000Z", Some([1000, 0, 100, 0]), None),
            codex_tokens("2026-11-02T10:00:03.000Z", Some([900, 0, 300, 0]), None),
        ]),
    );
    // The same rollout, archived: counted once.
    let archived = env.codex.join("archived_sessions/rollout-2026-11-02T10-00-00-a.jsonl");
    std::fs::create_dir_all(archived.parent().unwrap()).unwrap();
    std::fs::copy(&f, &archived).unwrap();
    let r = env.json(&["costs", "daily"]);
    let m = breakdown(&r, "2026-11-02", "gpt-5");
    assert_eq!(m["isFallback"], true);
    // Totals going down never give negative usage.
    assert_eq!((m["inputTokens"].as_u64(), m["outputTokens"].as_u64()), (Some(1000), Some(300)));
    assert!(close(num(&m["cost"]), 0.00425));
}

#[test]
fn days_follow_the_timezone() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(&f, &lines(&[claude("2026-11-20T20:00:00.000Z", "s1", "m1", "r1", SONNET, U(1, 1, 0, 0))]));
    let utc = env.json(&["costs", "daily", "--timezone", "UTC"]);
    assert_eq!(utc["daily"][0]["date"], "2026-11-20");
    let india = env.json(&["costs", "daily", "--timezone", "Asia/Kolkata"]);
    assert_eq!(india["daily"][0]["date"], "2026-11-21");
    assert_eq!(india["timezone"], "Asia/Kolkata");
    let la = env.json(&["costs", "daily", "--timezone", "America/Los_Angeles", "--no-ingest"]);
    assert_eq!(la["daily"][0]["date"], "2026-11-20");
}

fn three_days(env: &Env) {
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    let g = env.claude_file("/home/u/billing-api", "s2.jsonl");
    write_lines(
        &f,
        &lines(&[
            claude("2026-10-31T10:00:00.000Z", "s1", "m1", "r1", SONNET, U(1, 0, 0, 0)),
            claude("2026-11-01T10:00:00.000Z", "s1", "m2", "r2", SONNET, U(10, 0, 0, 0)),
            claude("2026-11-02T10:00:00.000Z", "s1", "m3", "r3", SONNET, U(100, 0, 0, 0)),
        ]),
    );
    let mut other = claude("2026-11-02T11:00:00.000Z", "s2", "m4", "r4", SONNET, U(1000, 0, 0, 0));
    other["cwd"] = json!("/home/u/billing-api");
    write_lines(&g, &lines(&[other]));
    let h = env.codex_file("2026-11-02", "rollout-2026-11-02T10-00-00-x.jsonl");
    write_lines(
        &h,
        &lines(&[
            codex_meta("2026-11-02T10:00:00.000Z", "x", "/home/u/api"),
            codex_turn("2026-11-02T10:00:00.000Z", "gpt-5"),
            codex_tokens("2026-11-02T10:00:01.000Z", None, Some([10000, 0, 0, 0])),
        ]),
    );
}

#[test]
fn since_until_agent_and_project_filter_the_report() {
    let env = Env::new();
    three_days(&env);
    let all = env.json(&["costs", "daily"]);
    assert_eq!(all["totals"]["inputTokens"], 11111);
    let r = env.json(&["costs", "daily", "--since", "2026-11-01", "--until", "2026-11-01"]);
    assert_eq!(r["daily"].as_array().unwrap().len(), 1);
    assert_eq!(r["totals"]["inputTokens"], 10);
    let r = env.json(&["costs", "daily", "--since", "20261102"]);
    assert_eq!(r["totals"]["inputTokens"], 11100);
    let r = env.json(&["costs", "daily", "--agent", "codex"]);
    assert_eq!(r["totals"]["inputTokens"], 10000);
    assert_eq!(r["daily"][0]["agent"], "codex");
    let r = env.json(&["costs", "daily", "--agent", "claude"]);
    assert_eq!(r["totals"]["inputTokens"], 1111);
    let r = env.json(&["costs", "daily", "--project", "billing"]);
    assert_eq!(r["totals"]["inputTokens"], 1000);
}

#[test]
fn weekly_and_monthly_group_by_monday_and_month() {
    let env = Env::new();
    three_days(&env);
    let w = env.json(&["costs", "weekly"]);
    let weeks: Vec<&str> = w["weekly"].as_array().unwrap().iter().map(|r| r["week"].as_str().unwrap()).collect();
    // 2026-10-31 is a Saturday, 11-01 a Sunday: both in the week of Monday 10-26.
    assert_eq!(weeks, vec!["2026-10-26", "2026-11-02"]);
    assert_eq!(w["weekly"][0]["inputTokens"], 11);
    let m = env.json(&["costs", "monthly"]);
    let months: Vec<&str> = m["monthly"].as_array().unwrap().iter().map(|r| r["month"].as_str().unwrap()).collect();
    assert_eq!(months, vec!["2026-10", "2026-11"]);
    assert_eq!(m["monthly"][1]["inputTokens"], 11110);
}

#[test]
fn session_report_groups_by_session() {
    let env = Env::new();
    three_days(&env);
    let r = env.json(&["costs", "session"]);
    let ids: Vec<&str> = r["session"].as_array().unwrap().iter().map(|s| s["sessionId"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["x", "s2", "s1"], "costliest first, as ccusage sorts them");
    let s1 = &r["session"][2];
    assert_eq!(s1["inputTokens"], 111);
    assert_eq!(s1["projectPath"], "/home/u/web-app");
    assert_eq!((s1["agent"].as_str(), s1["agentType"].as_str()), (Some("claude"), Some("claude-code")));
    assert_eq!(r["totals"]["inputTokens"], 11111);
}

#[test]
fn blocks_are_five_hour_windows_with_gaps() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(
        &f,
        &lines(&[
            claude("2026-11-20T10:20:00.000Z", "s1", "m1", "r1", SONNET, U(1000, 0, 0, 0)),
            claude("2026-11-20T14:59:00.000Z", "s1", "m2", "r2", SONNET, U(1000, 0, 0, 0)),
            claude("2026-11-20T15:01:00.000Z", "s1", "m3", "r3", SONNET, U(1000, 0, 0, 0)),
            claude("2026-11-21T09:00:00.000Z", "s1", "m4", "r4", SONNET, U(1000, 0, 0, 0)),
        ]),
    );
    let r = env.json(&["costs", "blocks"]);
    let b = r["blocks"].as_array().unwrap();
    let summary: Vec<(bool, u64)> =
        b.iter().map(|x| (x["isGap"].as_bool().unwrap(), x["entries"].as_u64().unwrap())).collect();
    assert_eq!(summary, vec![(false, 2), (false, 1), (true, 0), (false, 1)]);
    assert_eq!(b[0]["startTime"], "2026-11-20T10:00:00.000Z");
    assert_eq!(b[0]["endTime"], "2026-11-20T15:00:00.000Z");
    assert!(close(num(&b[0]["costUSD"]), 0.006));
    assert_eq!(b[0]["tokenCounts"]["inputTokens"], 2000);
    assert!(b.iter().all(|x| x["isActive"] == false));
}

#[test]
fn the_active_block_has_a_burn_rate_and_projection() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(
        &f,
        &lines(&[
            claude(&ago(600), "s1", "m1", "r1", SONNET, U(5000, 0, 0, 0)),
            claude(&ago(60), "s1", "m2", "r2", SONNET, U(4000, 500, 0, 0)),
        ]),
    );
    let r = env.json(&["costs", "blocks"]);
    let last = r["blocks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["isActive"], true, "{last}");
    let rate = num(&last["burnRate"]["tokensPerMinute"]);
    assert!((rate - 1055.55).abs() < 1.0, "9,500 tokens over 9 minutes: {rate}");
    assert!(last["projection"]["totalTokens"].as_u64().unwrap() > 9500);
    let table = env.ok(&["costs", "blocks", "--no-ingest"]);
    assert!(table.contains("active") && table.contains("Burn rate"), "{table}");
}

#[test]
fn tables_fit_80_columns_even_with_huge_numbers() {
    let env = Env::new();
    let f = env.claude_file("/home/u/a-project-with-a-rather-long-name", "s1.jsonl");
    write_lines(
        &f,
        &lines(&[
            claude(
                "2026-11-20T10:00:00.000Z",
                "s1",
                "m1",
                "r1",
                SONNET,
                U(900_000_000, 800_000_000, 700_000_000, 9_000_000_000),
            ),
            claude("2026-11-20T11:00:00.000Z", "s1", "m2", "r2", "claude-opus-4-1-20250805", U(1, 1, 1, 1)),
        ]),
    );
    for args in [
        vec!["costs", "daily", "--breakdown"],
        vec!["costs", "session", "--breakdown"],
        vec!["costs", "blocks"],
        vec!["sessions"],
        vec!["sessions", "history"],
    ] {
        let out = env.ok(&args);
        for l in out.lines() {
            assert!(l.chars().count() <= 80, "{args:?} line is {} wide:\n{out}", l.chars().count());
        }
    }
    // `sessions show` prints paths as they are; its table fits.
    let show = env.ok(&["sessions", "show", "s1"]);
    let table = show.split("Cost by model").nth(1).unwrap();
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{show}");
    let small = env.ok(&["costs", "daily", "--since", "2026-11-21"]);
    assert!(small.contains("No usage found"), "{small}");
}

#[test]
fn table_output_uses_thousands_separators_and_shows_provenance() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(&f, &lines(&[claude("2026-11-20T10:00:00.000Z", "s1", "m1", "r1", SONNET, U(1_234_567, 1000, 0, 0))]));
    let out = env.ok(&["costs", "daily", "--breakdown"]);
    assert!(out.contains("1,234,567"), "{out}");
    assert!(out.contains("sonnet-4-5"), "{out}");
    assert!(out.contains("Prices: snapshot 2026-09-20"), "{out}");
}

const OPUS: &str = "claude-opus-4-1-20250805";

/// A `<synthetic>` message, as Claude Code writes one ("No response
/// requested.", API errors): zero usage, no request id.
fn claude_synthetic(ts: &str, session: &str, msg: &str) -> serde_json::Value {
    let mut v = claude(ts, session, msg, "", "<synthetic>", U(0, 0, 0, 0));
    v.as_object_mut().unwrap().remove("requestId");
    v
}

/// (id, endTime, actualEndTime, entries, totalTokens) of each block.
fn block_rows(r: &serde_json::Value) -> Vec<(String, String, Option<String>, u64, u64)> {
    r["blocks"]
        .as_array()
        .unwrap_or_else(|| panic!("no blocks in {r}"))
        .iter()
        .map(|b| {
            (
                b["id"].as_str().unwrap().to_string(),
                b["endTime"].as_str().unwrap().to_string(),
                b["actualEndTime"].as_str().map(String::from),
                b["entries"].as_u64().unwrap(),
                b["totalTokens"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn block_ids(r: &serde_json::Value) -> Vec<String> {
    block_rows(r).into_iter().map(|b| b.0).collect()
}

#[test]
fn blocks_are_claude_only_unless_codex_is_asked_for() {
    // Blocks are Claude's 5-hour billing windows: Codex calls in the same
    // hours must not join them (ccusage's `blocks` reads Claude only).
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(&f, &lines(&[claude("2026-11-20T10:20:00.000Z", "s1", "m1", "r1", SONNET, U(1000, 0, 0, 0))]));
    let x = env.codex_file("2026-11-20", "rollout-2026-11-20T13-00-00-abc.jsonl");
    write_lines(
        &x,
        &lines(&[
            codex_meta("2026-11-20T13:00:00.000Z", "abc", "/home/u/api"),
            codex_turn("2026-11-20T13:00:00.100Z", "gpt-5-codex"),
            codex_tokens("2026-11-20T13:00:01.000Z", Some([1000, 400, 200, 50]), Some([1000, 400, 200, 50])),
            codex_tokens("2026-11-21T08:00:01.000Z", Some([3000, 400, 400, 50]), Some([2000, 0, 200, 0])),
        ]),
    );
    let want = vec![(
        "2026-11-20T10:00:00.000Z".to_string(),
        "2026-11-20T15:00:00.000Z".to_string(),
        Some("2026-11-20T10:20:00.000Z".to_string()),
        1,
        1000,
    )];
    let r = env.json(&["costs", "blocks"]);
    assert_eq!(block_rows(&r), want, "{r}");
    assert_eq!(r["blocks"][0]["models"], json!([SONNET]));
    assert_eq!(block_rows(&env.json(&["costs", "blocks", "--agent", "claude-code", "--no-ingest"])), want);
    // Codex gets blocks of its own when asked for.
    let r = env.json(&["costs", "blocks", "--agent", "codex", "--no-ingest"]);
    assert_eq!(
        block_ids(&r),
        ["2026-11-20T13:00:00.000Z", "gap-2026-11-20T18:00:01.000Z", "2026-11-21T08:00:00.000Z"],
        "{r}"
    );
    assert_eq!(r["blocks"][0]["models"], json!(["gpt-5-codex"]));
    assert_eq!(r["blocks"][0]["totalTokens"], 1200);
    let table = env.ok(&["costs", "blocks", "--no-ingest"]);
    assert!(!table.contains("gpt-5"), "{table}");
}

/// Calls around the edges of blocks; what ccusage 20.0.24 makes of them.
fn edge_calls(env: &Env) {
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(
        &f,
        &lines(&[
            claude("2026-11-20T10:20:00.000Z", "s1", "m1", "r1", SONNET, U(1000, 100, 0, 0)),
            claude_synthetic("2026-11-20T10:30:00.000Z", "s1", "syn1"),
            // Exactly 5 hours after the block's start: still in it.
            claude("2026-11-20T15:00:00.000Z", "s1", "m2", "r2", OPUS, U(2000, 0, 0, 0)),
            claude("2026-11-20T15:00:00.001Z", "s1", "m3", "r3", SONNET, U(10, 0, 0, 0)),
            claude("2026-11-21T09:00:00.000Z", "s1", "m4", "r4", SONNET, U(1, 1, 0, 0)),
            claude("2026-11-21T22:30:00.000Z", "s1", "m5", "r5", SONNET, U(5, 0, 0, 0)),
            claude("2026-11-22T01:00:00.000Z", "s1", "m6", "r6", SONNET, U(7, 0, 0, 0)),
        ]),
    );
}

#[test]
fn blocks_match_ccusage_at_their_edges_gaps_and_synthetic_lines() {
    let env = Env::new();
    edge_calls(&env);
    let r = env.json(&["costs", "blocks"]);
    let s = |x: &str| x.to_string();
    assert_eq!(
        block_rows(&r),
        vec![
            // The synthetic line is an entry (as ccusage counts it), not a model.
            (
                s("2026-11-20T10:00:00.000Z"),
                s("2026-11-20T15:00:00.000Z"),
                Some(s("2026-11-20T15:00:00.000Z")),
                3,
                3100
            ),
            (s("2026-11-20T15:00:00.000Z"), s("2026-11-20T20:00:00.000Z"), Some(s("2026-11-20T15:00:00.001Z")), 1, 10),
            // A gap starts when the last block would have ended: 5 hours after its last call.
            (s("gap-2026-11-20T20:00:00.001Z"), s("2026-11-21T09:00:00.000Z"), None, 0, 0),
            (s("2026-11-21T09:00:00.000Z"), s("2026-11-21T14:00:00.000Z"), Some(s("2026-11-21T09:00:00.000Z")), 1, 2),
            (s("gap-2026-11-21T14:00:00.000Z"), s("2026-11-21T22:30:00.000Z"), None, 0, 0),
            (s("2026-11-21T22:00:00.000Z"), s("2026-11-22T03:00:00.000Z"), Some(s("2026-11-22T01:00:00.000Z")), 2, 12),
        ],
        "{r}"
    );
    let b = &r["blocks"][0];
    assert_eq!(b["models"], json!([SONNET, OPUS]));
    assert!(close(num(&b["costUSD"]), 0.0345), "{b}");
    assert_eq!(r["blocks"][2]["startTime"], "2026-11-20T20:00:00.001Z");
    assert!(r["blocks"][2]["actualEndTime"].is_null());
    // The synthetic line stays out of every other report.
    let d = env.json(&["costs", "daily", "--no-ingest"]);
    assert_eq!(d["daily"][0]["modelsUsed"], json!([OPUS, SONNET]), "{d}");
    assert!(d["totals"]["unpricedModels"].as_array().unwrap().is_empty(), "{d}");
    let warn = env.run(&["costs", "blocks", "--no-ingest"]);
    assert!(!String::from_utf8_lossy(&warn.stderr).contains("synthetic"));

    // --since/--until keep the blocks that start on those days, whole (as
    // ccusage filters blocks, not calls).
    let ids = |args: &[&str]| {
        let mut a = vec!["costs", "blocks", "--no-ingest"];
        a.extend(args);
        block_ids(&env.json(&a))
    };
    assert_eq!(
        ids(&["--since", "2026-11-21"]),
        ["2026-11-21T09:00:00.000Z", "gap-2026-11-21T14:00:00.000Z", "2026-11-21T22:00:00.000Z"]
    );
    assert!(ids(&["--since", "2026-11-22"]).is_empty(), "the last block started on the 21st");
    assert_eq!(
        ids(&["--since", "2026-11-20", "--until", "2026-11-20"]),
        ["2026-11-20T10:00:00.000Z", "2026-11-20T15:00:00.000Z", "gap-2026-11-20T20:00:00.001Z"]
    );
    // A block that starts on the 21st keeps its calls of the 22nd.
    let r = env.json(&["costs", "blocks", "--no-ingest", "--until", "2026-11-21", "--since", "2026-11-21"]);
    assert_eq!(r["blocks"][2]["entries"], 2, "{r}");
}

#[test]
fn blocks_breakdown_active_recent_token_limit_and_order() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    let day = 86_400;
    write_lines(
        &f,
        &lines(&[
            claude(&ago(10 * day), "s1", "m1", "r1", SONNET, U(4000, 0, 0, 0)),
            claude(&ago(day), "s1", "m2", "r2", SONNET, U(1000, 0, 0, 0)),
            claude(&ago(day - 60), "s1", "m3", "r3", OPUS, U(500, 100, 0, 0)),
            claude(&ago(600), "s1", "m4", "r4", SONNET, U(5000, 0, 0, 0)),
            claude(&ago(60), "s1", "m5", "r5", SONNET, U(4000, 500, 0, 0)),
        ]),
    );
    let all = env.json(&["costs", "blocks"]);
    let blocks = all["blocks"].as_array().unwrap();
    let entries: Vec<(bool, bool, u64)> = blocks
        .iter()
        .map(|b| (b["isGap"].as_bool().unwrap(), b["isActive"].as_bool().unwrap(), b["entries"].as_u64().unwrap()))
        .collect();
    assert_eq!(entries, [(false, false, 1), (true, false, 0), (false, false, 2), (true, false, 0), (false, true, 2)]);

    // --breakdown: a line per model under each block (JSON: modelBreakdowns).
    let two = &blocks[2];
    let m: Vec<(&str, u64, u64)> = two["modelBreakdowns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (m["modelName"].as_str().unwrap(), m["inputTokens"].as_u64().unwrap(), m["outputTokens"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(m, [(OPUS, 500, 100), (SONNET, 1000, 0)], "costliest first: {two}");
    assert!(close(num(&two["modelBreakdowns"][0]["cost"]), 500.0 * 15e-6 + 100.0 * 75e-6));
    assert_eq!(two["models"], json!([SONNET, OPUS]), "in order of use");
    let plain = env.ok(&["costs", "blocks", "--no-ingest"]);
    let table = env.ok(&["costs", "blocks", "--no-ingest", "--breakdown"]);
    assert!(!plain.contains("  opus-4-1") && table.contains("  opus-4-1"), "{table}");
    assert!(table.lines().filter(|l| l.contains("  sonnet-4-5")).count() >= 3, "{table}");
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");

    // --active: only the block of now; --recent: the last 3 days (and the active one).
    let active = env.json(&["costs", "blocks", "--no-ingest", "--active"]);
    assert_eq!(active["blocks"].as_array().unwrap().len(), 1);
    assert_eq!(active["blocks"][0]["isActive"], true);
    let recent = env.json(&["costs", "blocks", "--no-ingest", "--recent"]);
    assert_eq!(recent["blocks"].as_array().unwrap().len(), 3, "{recent}");
    assert_eq!(recent["blocks"][0], blocks[2]);

    // --order desc: newest first.
    let desc = env.json(&["costs", "blocks", "--no-ingest", "--order", "desc"]);
    let ids: Vec<&str> = desc["blocks"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    let mut asc: Vec<&str> = blocks.iter().map(|b| b["id"].as_str().unwrap()).collect();
    asc.reverse();
    assert_eq!(ids, asc);

    // --token-limit: the active block's projection against a limit.
    let r = env.json(&["costs", "blocks", "--no-ingest", "--active", "--token-limit", "1000000"]);
    let b = &r["blocks"][0];
    let projected = b["projection"]["totalTokens"].as_u64().unwrap();
    assert_eq!(b["tokenLimitStatus"]["limit"], 1_000_000, "{b}");
    assert_eq!(b["tokenLimitStatus"]["projectedUsage"], projected);
    assert!(close(num(&b["tokenLimitStatus"]["percentUsed"]), projected as f64 / 1e4));
    assert_eq!(b["tokenLimitStatus"]["status"], "ok");
    // `max`: the most tokens of a finished block (4,000 here).
    let r = env.json(&["costs", "blocks", "--no-ingest", "--token-limit", "max"]);
    let b = r["blocks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(b["tokenLimitStatus"]["limit"], 4000, "{b}");
    assert_eq!(b["tokenLimitStatus"]["status"], "exceeds");
    assert!(r["blocks"][0].get("tokenLimitStatus").is_none(), "only the active block has one");
    let t = env.ok(&["costs", "blocks", "--no-ingest", "--token-limit", "max"]);
    assert!(t.contains('%') && t.contains("4,000"), "{t}");
    let o = env.run(&["costs", "blocks", "--no-ingest", "--token-limit", "lots"]);
    assert_eq!(o.status.code(), Some(2));
    let o = env.run(&["costs", "blocks", "--no-ingest", "--order", "sideways"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn json_reports_carry_ccusage_fields_beside_ours() {
    // What ccusage 20.0.24 writes for these lines: `agent` and
    // `metadata.agents` in its names, a Codex session's `period` is its
    // rollout's path, Codex's reasoning tokens, sessions costliest first.
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(&f, &lines(&[claude("2026-11-20T10:00:00.000Z", "s1", "m1", "r1", SONNET, U(100, 10, 0, 0))]));
    let g = env.claude_file("/home/u/web-app", "s2.jsonl");
    write_lines(&g, &lines(&[claude("2026-11-20T12:00:00.000Z", "s2", "m2", "r2", SONNET, U(100_000, 1000, 0, 0))]));
    let x = env.codex_file("2026-11-20", "rollout-2026-11-20T11-00-00-abc.jsonl");
    write_lines(
        &x,
        &lines(&[
            codex_meta("2026-11-20T11:00:00.000Z", "abc", "/home/u/api"),
            codex_turn("2026-11-20T11:00:00.100Z", "gpt-5-codex"),
            codex_tokens("2026-11-20T11:00:01.000Z", Some([1000, 400, 200, 50]), Some([1000, 400, 200, 50])),
        ]),
    );
    let d = env.json(&["costs", "daily"]);
    let row = &d["daily"][0];
    assert_eq!(row["agent"], "all");
    assert_eq!(row["metadata"]["agents"], json!(["claude", "codex"]));
    assert_eq!(row["agents"], json!(["claude-code", "codex"]), "our own ids stay");
    assert_eq!(row["reasoningOutputTokens"], 50);
    assert_eq!(d["totals"]["reasoningOutputTokens"], 50);
    assert_eq!(breakdown(&d, "2026-11-20", "gpt-5-codex")["reasoningOutputTokens"], 50);
    assert!(close(num(&row["totalCost"]), 0.31825));
    let d = env.json(&["costs", "monthly", "--agent", "claude-code", "--no-ingest"]);
    assert_eq!(d["monthly"][0]["agent"], "claude");
    assert_eq!(d["monthly"][0]["metadata"]["agents"], json!(["claude"]));

    let s = env.json(&["costs", "session", "--no-ingest"]);
    let rows = s["session"].as_array().unwrap();
    let periods: Vec<&str> = rows.iter().map(|r| r["period"].as_str().unwrap()).collect();
    assert_eq!(periods, ["s2", "2026/11/20/rollout-2026-11-20T11-00-00-abc", "s1"], "costliest first: {s}");
    let codex = &rows[1];
    assert_eq!(codex["agent"], "codex");
    assert_eq!(codex["agentType"], "codex");
    assert_eq!(codex["sessionId"], "abc");
    assert_eq!(codex["metadata"], json!({"lastActivity": "2026-11-20T11:00:01.000Z", "reasoningOutputTokens": 50}));
    assert_eq!(codex["reasoningOutputTokens"], 50);
    assert_eq!((codex["inputTokens"].as_u64(), codex["cacheReadTokens"].as_u64()), (Some(600), Some(400)));
    let claude_row = &rows[0];
    assert_eq!(claude_row["agent"], "claude");
    assert_eq!(claude_row["agentType"], "claude-code");
    assert_eq!(claude_row["metadata"], json!({"lastActivity": "2026-11-20T12:00:00.000Z"}));
    assert_eq!(claude_row["lastActivity"], "2026-11-20T12:00:00.000Z");
    assert_eq!(s["totals"]["reasoningOutputTokens"], 50);
}
