//! `[export.otlp]` against a real OTLP receiver that decodes with the
//! official protobuf definitions (tests/export/receiver.py).

use std::io::BufRead;

use serde_json::Value;

use crate::support::*;

const CLAUDE_FIXTURE: &str = "crates/agentwatch-core/src/sources/claude/fixtures/turns-2.1.197.jsonl";

/// The receiver, and the file it writes what it decoded to.
struct Receiver {
    child: std::process::Child,
    port: u16,
    out: std::path::PathBuf,
}

impl Receiver {
    fn start(env: &Env) -> Receiver {
        let out = env.root.join("received.jsonl");
        let mut child = std::process::Command::new(python())
            .arg(repo_root().join("tests/export/receiver.py"))
            .arg(&out)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        Receiver { child, port: line.trim().parse().expect("the receiver's port"), out }
    }

    fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Protobuf's JSON mapping of a KeyValue list, as a map.
fn attrs(kvs: &Value) -> std::collections::BTreeMap<String, Value> {
    kvs.as_array()
        .map(|a| {
            a.iter()
                .map(|kv| {
                    let v = &kv["value"];
                    let v = v.get("stringValue").or(v.get("intValue")).or(v.get("doubleValue")).cloned();
                    (kv["key"].as_str().unwrap().to_string(), v.unwrap_or(Value::Null))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every data point of metric `name` in the requests: (attributes, value).
fn data_points(received: &[Value], name: &str) -> Vec<(std::collections::BTreeMap<String, Value>, f64)> {
    let mut out = Vec::new();
    for r in received.iter().filter(|r| r["path"] == "/v1/metrics") {
        for rm in r["body"]["resourceMetrics"].as_array().into_iter().flatten() {
            for sm in rm["scopeMetrics"].as_array().into_iter().flatten() {
                for m in sm["metrics"].as_array().into_iter().flatten().filter(|m| m["name"] == name) {
                    let data = m.get("sum").or(m.get("gauge")).unwrap();
                    for p in data["dataPoints"].as_array().into_iter().flatten() {
                        let v = p.get("asDouble").and_then(Value::as_f64).or_else(|| {
                            p.get("asInt").and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_f64()))
                        });
                        out.push((attrs(&p["attributes"]), v.unwrap_or(f64::NAN)));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn export_is_off_until_configured_and_says_so() {
    let env = Env::new();
    let out = env.ok(&["export", "status"]);
    assert!(out.starts_with("OTLP export is off: nothing leaves this machine."), "{out}");
    assert_eq!(env.json(&["export", "status"])["enabled"], false);
    std::fs::create_dir_all(&env.config).unwrap();
    std::fs::write(env.config.join("config.toml"), "[export.otlp]\nendpoint = \"https://otel.example.com\"\n").unwrap();
    let o = env.run(&["export", "status"]);
    // A mistake in the settings file: a failure (1), said in one line.
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("https is not supported"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn the_metrics_and_state_changes_reach_a_real_otlp_receiver() {
    let env = Env::new();
    let claude = env.claude_file("/home/u/web-app", "30f5ad3d-e7df-4fdb-abdb-ee264e2b753c.jsonl");
    std::fs::copy(repo_root().join(CLAUDE_FIXTURE), &claude).unwrap();
    let rx = Receiver::start(&env);
    std::fs::create_dir_all(&env.config).unwrap();
    std::fs::write(
        env.config.join("config.toml"),
        format!(
            "[export.otlp]\nendpoint = \"http://127.0.0.1:{}\"\ninterval_secs = 1\nstate_changes = true\n\
             headers = {{ x-team-key = \"k-123\" }}\nresource_attributes = {{ developer = \"ana\" }}\n",
            rx.port
        ),
    )
    .unwrap();
    // What would be sent, before anything is.
    let status = env.ok(&["export", "status"]);
    assert!(
        status.contains(&format!("Metrics     POST http://127.0.0.1:{}/v1/metrics every 1 s", rx.port)),
        "{status}"
    );
    assert!(status.contains("Headers     x-team-key (values not shown)") && !status.contains("k-123"), "{status}");
    assert!(status.contains("  developer = ana"), "{status}");
    let preview = env.json(&["export", "status"]);
    let instance = std::fs::read_to_string(env.data.join("instance-id")).unwrap().trim().to_string();
    let res: std::collections::BTreeMap<String, String> = preview["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(res["service.instance.id"], instance);

    let daemon = env.daemon(1, &[]);
    let totals = env.json(&["costs", "daily", "--no-ingest"])["totals"].clone();
    let received = wait_for(30, "the metrics", || {
        let r = rx.received();
        let input: f64 = data_points(&r, "agentwatch_tokens")
            .iter()
            .filter(|(a, _)| a["kind"] == "input")
            .map(|(_, v)| v)
            .sum::<f64>();
        (input > 0.0).then_some(r)
    });
    // The first export of one moment: every token of the ledger, once.
    let first: Vec<Value> = received.iter().filter(|r| r["path"] == "/v1/metrics").take(1).cloned().collect();
    let tokens = data_points(&first, "agentwatch_tokens");
    let kind = |k: &str| tokens.iter().filter(|(a, _)| a["kind"] == k).map(|(_, v)| v).sum::<f64>();
    assert_eq!(kind("input"), totals["inputTokens"].as_f64().unwrap());
    assert_eq!(kind("output"), totals["outputTokens"].as_f64().unwrap());
    assert_eq!(kind("cache_read"), totals["cacheReadTokens"].as_f64().unwrap());
    let cost: f64 = data_points(&first, "agentwatch_cost_usd").iter().map(|(_, v)| v).sum();
    assert!(close(cost, totals["totalCost"].as_f64().unwrap()), "{cost} vs {totals}");
    assert!(tokens.iter().all(|(a, _)| a["agent"] == "claude-code" && !a.contains_key("project")), "{tokens:?}");
    let sessions = data_points(&first, "agentwatch_sessions");
    assert_eq!(sessions.iter().map(|(_, v)| v).sum::<f64>(), 1.0, "{sessions:?}");
    // Who sent it, with the configured header.
    let r = &first[0];
    assert_eq!(r["headers"]["x-team-key"], "k-123");
    let resource = attrs(&r["body"]["resourceMetrics"][0]["resource"]["attributes"]);
    assert_eq!(resource["service.name"], "agentwatch");
    assert_eq!(resource["service.instance.id"], instance.as_str());
    assert_eq!(resource["developer"], "ana");
    assert!(resource["host.name"].as_str().is_some_and(|h| !h.is_empty()));

    // A state change goes out as a log event: a session that starts.
    let proc = env.spawn(&env.native_agent("claude"), &["300"], &env.root.join("src/api"));
    let log = wait_for(30, "a state change", || {
        rx.received().into_iter().filter(|r| r["path"] == "/v1/logs").find_map(|r| {
            let recs = r["body"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"].as_array()?.clone();
            recs.into_iter().find(|l| {
                let a = attrs(&l["attributes"]);
                a.get("agent").is_some_and(|x| x == "claude-code")
                    && a.get("session.id").is_some_and(|x| x != "30f5ad3d-e7df-4fdb-abdb-ee264e2b753c")
            })
        })
    });
    let a = attrs(&log["attributes"]);
    assert_eq!(a["event.name"], "agentwatch.session.state");
    assert!(a.contains_key("state.to"), "{a:?}");
    drop(proc);
    let (code, _) = daemon.stop();
    assert_eq!(code, Some(0));
}
