//! `agentwatch prices` and price provenance in reports.

use crate::support::*;

fn one_call(env: &Env) {
    write_lines(
        &env.claude_file("/home/u/web-app", "s1.jsonl"),
        &lines(&[claude("2026-11-20T10:00:00.000Z", "s1", "m1", "r1", SONNET, U(100_000, 0, 0, 0))]),
    );
}

#[test]
fn the_users_override_file_wins_and_is_named_as_the_source() {
    let env = Env::new();
    one_call(&env);
    let before = env.json(&["costs", "daily"]);
    assert!(close(num(&breakdown(&before, "2026-11-20", SONNET)["cost"]), 0.3));
    std::fs::create_dir_all(&env.config).unwrap();
    std::fs::write(
        env.config.join("prices.json"),
        r#"{"claude-sonnet-4-5": {"input_cost_per_token": 1e-6, "output_cost_per_token": 5e-6}}"#,
    )
    .unwrap();
    // Nothing new to ingest, but cached costs follow the new prices.
    let after = env.json(&["costs", "daily"]);
    let m = breakdown(&after, "2026-11-20", SONNET);
    assert!(close(num(&m["cost"]), 0.1), "{m}");
    assert_eq!(m["priceSource"], "user override");
    let s = env.json(&["sessions", "show", "s1", "--no-ingest"]);
    assert!(close(num(&s["session"]["costUsd"]), 0.1));
    assert_eq!(s["session"]["priceSource"], "user override");
}

#[test]
fn a_broken_override_file_is_an_error_not_a_wrong_price() {
    let env = Env::new();
    std::fs::create_dir_all(&env.config).unwrap();
    std::fs::write(env.config.join("prices.json"), "{oops").unwrap();
    let o = env.run(&["costs", "daily"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("prices.json") && err.contains("not a valid price list"), "{err}");
}

#[test]
fn update_imports_a_newer_list_from_a_file() {
    let env = Env::new();
    write_lines(
        &env.claude_file("/home/u/web-app", "s1.jsonl"),
        &lines(&[claude("2026-11-20T10:00:00.000Z", "s1", "m1", "r1", "claude-newmodel-9", U(1_000_000, 0, 0, 0))]),
    );
    let r = env.json(&["costs", "daily"]);
    assert!(breakdown(&r, "2026-11-20", "claude-newmodel-9")["cost"].is_null());
    let list = env.root.join("model_prices.json");
    std::fs::write(
        &list,
        r#"{"sample_spec": {"max_tokens": "x"}, "claude-newmodel-9": {"input_cost_per_token": 2e-6, "output_cost_per_token": 1e-5, "litellm_provider": "anthropic", "mode": "chat"}}"#,
    )
    .unwrap();
    let out = env.ok(&["prices", "update", "--from", list.to_str().unwrap()]);
    assert!(out.contains("Imported prices for 1 model from"), "{out}");
    let r = env.json(&["costs", "daily", "--no-ingest"]);
    let m = breakdown(&r, "2026-11-20", "claude-newmodel-9");
    assert!(close(num(&m["cost"]), 2.0));
    assert!(m["priceSource"].as_str().unwrap().starts_with("imported "), "{m}");
    let shown = env.json(&["prices", "show", "claude-newmodel-9", "gpt-5"]);
    assert_eq!(shown["models"][0]["inputPerMTok"], 2.0);
    assert_eq!(shown["models"][1]["source"], "snapshot 2026-09-20");
    assert_eq!(shown["lists"].as_array().unwrap().len(), 2);

    let junk = env.root.join("junk.json");
    std::fs::write(&junk, "[1, 2, 3]").unwrap();
    let o = env.run(&["prices", "update", "--from", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn update_refuses_negative_and_absurd_prices_naming_the_model_and_field() {
    let env = Env::new();
    let list = env.root.join("bad.json");
    for (entry, field, why) in [
        (r#"{"input_cost_per_token": -3e-6}"#, "input_cost_per_token", "not a price"),
        (
            r#"{"input_cost_per_token": 3e-6, "output_cost_per_token": 18446744073.71}"#,
            "output_cost_per_token",
            "unit mistake",
        ),
        (
            r#"{"input_cost_per_token": 3e-6, "cache_read_input_token_cost": 0.5}"#,
            "cache_read_input_token_cost",
            "unit mistake",
        ),
        (r#"{"input_cost_per_token": 3e-6, "provider_specific_entry": {"fast": -2}}"#, "fast", "multiplier"),
    ] {
        std::fs::write(&list, format!(r#"{{"good-model": {{"input_cost_per_token": 1e-6}}, "bad-model": {entry}}}"#))
            .unwrap();
        let o = env.run(&["prices", "update", "--from", list.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{entry}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("'bad-model'") && err.contains(field) && err.contains(why), "{err}");
        assert!(
            !env.data.join("prices-imported.json").exists()
                && env.json(&["prices", "show"])["lists"].as_array().unwrap().len() == 1
        );
        // The same entry in the user's override file is refused just as clearly.
        std::fs::create_dir_all(&env.config).unwrap();
        std::fs::copy(&list, env.config.join("prices.json")).unwrap();
        let o = env.run(&["costs", "daily"]);
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("prices.json") && err.contains("'bad-model'") && err.contains(field), "{err}");
        std::fs::remove_file(env.config.join("prices.json")).unwrap();
    }
}

#[test]
fn prices_show_lists_the_models_in_use() {
    let env = Env::new();
    one_call(&env);
    env.ok(&["ingest"]);
    let out = env.ok(&["prices", "show"]);
    assert!(out.contains(SONNET) && out.contains("$3.00") && out.contains("$15.00") && out.contains("$0.30"), "{out}");
    assert!(out.contains("snapshot 2026-09-20"), "{out}");
}
