//! `GET /metrics` scraped by a real Prometheus (Debian's), fed by the
//! transcripts the real Claude Code and Codex wrote (tests/agents).

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

const CLAUDE_FIXTURE: &str = "crates/agentwatch-core/src/sources/claude/fixtures/turns-2.1.197.jsonl";
const CODEX_FIXTURE: &str = "crates/agentwatch-core/src/sources/codex/fixtures/turns-0.171.0.jsonl";

/// Asks Prometheus's HTTP API; the vector's samples as (labels, value).
fn query(port: u16, promql: &str) -> Vec<(Value, f64)> {
    let q: String = promql
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let r = http(port, "GET", &format!("/api/v1/query?query={q}"), &[], None);
    assert_eq!(r.status, 200, "{promql}");
    let v = r.json();
    assert_eq!(v["status"], "success", "{v}");
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["metric"].clone(), s["value"][1].as_str().unwrap().parse().unwrap()))
        .collect()
}

#[test]
fn a_real_prometheus_scrapes_the_metrics_with_the_token() {
    let env = Env::new();
    // What the real agents wrote, where they keep it.
    let claude = env.claude_file("/home/u/web-app", "30f5ad3d-e7df-4fdb-abdb-ee264e2b753c.jsonl");
    std::fs::copy(repo_root().join(CLAUDE_FIXTURE), &claude).unwrap();
    let codex = env.codex_file("2026/12/05", "rollout-2026-12-05T11-37-34-01a245fe-c7a3-7ae2-aaba-8b927a3cca7b.jsonl");
    std::fs::copy(repo_root().join(CODEX_FIXTURE), &codex).unwrap();
    // A plan window, as Claude Code's status line hands it over.
    let reset = chrono::Utc::now().timestamp() + 3600;
    let status =
        json!({"session_id": "x", "rate_limits": {"five_hour": {"used_percentage": 61.5, "resets_at": reset}}});
    assert!(env.run_with_stdin(&["statusline"], status.to_string().as_bytes()).status.success());

    let port = free_port();
    let _d = env.daemon(1, &["--port", &port.to_string()]);
    let token = env.api_token();
    // Without the token: refused, like every other endpoint.
    assert_eq!(http(port, "GET", "/metrics", &[], None).status, 401);
    let own = http(port, "GET", "/metrics", &[("Authorization", &format!("Bearer {token}"))], None);
    assert_eq!(own.status, 200);
    assert!(
        own.header("content-type").unwrap().starts_with("application/openmetrics-text"),
        "{:?}",
        own.header("content-type")
    );

    // Prometheus, scraping every second with the token from a file.
    let token_file = env.root.join("token");
    std::fs::write(&token_file, &token).unwrap();
    let prom_port = free_port();
    // The scrape config docs/fleet.md gives, with this test's token file,
    // port and a 1 s interval.
    let config = env.root.join("prometheus.yml");
    let documented = std::fs::read_to_string(repo_root().join("docs/fleet/prometheus.yml")).unwrap();
    let ours = documented
        .replace("30s", "1s")
        .replace("/etc/prometheus/agentwatch-token", &token_file.display().to_string())
        .replace("127.0.0.1:47821", &format!("127.0.0.1:{port}"));
    assert_ne!(ours, documented);
    std::fs::write(&config, ours).unwrap();
    let check = std::process::Command::new("promtool").arg("check").arg("config").arg(&config).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let storage = env.root.join("prometheus-data");
    let _prom = env.spawn(
        std::path::Path::new("prometheus"),
        &[
            &format!("--config.file={}", config.display()),
            &format!("--storage.tsdb.path={}", storage.display()),
            &format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ],
        &env.root,
    );
    let up = wait_for(60, "Prometheus to scrape agentwatch", || {
        std::thread::sleep(Duration::from_millis(200));
        std::net::TcpStream::connect(("127.0.0.1", prom_port)).ok()?;
        let r = http(prom_port, "GET", "/api/v1/query?query=up%7Bjob%3D%22agentwatch%22%7D", &[], None);
        (r.status == 200).then(|| r.json()).filter(|v| v["data"]["result"][0]["value"][1] == "1")
    });
    assert_eq!(up["data"]["result"][0]["metric"]["job"], "agentwatch");

    // What Prometheus stored equals what agentwatch reports.
    let daily = env.json(&["costs", "daily", "--no-ingest"]);
    let totals = &daily["totals"];
    let sum = |promql: &str| -> f64 {
        let r = wait_for(30, promql, || Some(query(prom_port, promql)).filter(|r| !r.is_empty()));
        r.iter().map(|(_, v)| v).sum()
    };
    assert_eq!(sum("sum(agentwatch_tokens_total{kind=\"input\"})"), totals["inputTokens"].as_f64().unwrap());
    assert_eq!(sum("sum(agentwatch_tokens_total{kind=\"output\"})"), totals["outputTokens"].as_f64().unwrap());
    assert_eq!(sum("sum(agentwatch_tokens_total{kind=\"cache_read\"})"), totals["cacheReadTokens"].as_f64().unwrap());
    let cost = sum("sum(agentwatch_cost_usd_total)");
    assert!(close(cost, totals["totalCost"].as_f64().unwrap()), "{cost} vs {totals}");
    // Both agents, by their model.
    let agents: Vec<String> = query(prom_port, "agentwatch_cost_usd_total")
        .iter()
        .map(|(m, _)| m["agent"].as_str().unwrap().to_string())
        .collect();
    assert!(agents.contains(&"claude-code".to_string()) && agents.contains(&"codex".to_string()), "{agents:?}");
    assert_eq!(sum("agentwatch_limit_used_percent{agent=\"claude-code\",window=\"5h\"}"), 61.5);
    let sessions = sum("sum(agentwatch_sessions)");
    assert_eq!(sessions, env.json(&["status"])["database"]["sessions"].as_f64().unwrap());
    assert!(sum("agentwatch_ingest_seconds") > 0.0);

    // Every panel of the Grafana dashboard docs/fleet.md gives is a query
    // Prometheus answers, with data where this machine has some.
    let dash: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("docs/fleet/grafana-dashboard.json")).unwrap())
            .unwrap();
    let panels = dash["panels"].as_array().unwrap();
    assert_eq!(panels.len(), 6);
    for p in panels {
        let title = p["title"].as_str().unwrap();
        for t in p["targets"].as_array().unwrap() {
            let expr = t["expr"].as_str().unwrap().replace("$__range", "1h");
            let r = wait_for(30, title, || {
                let r = query(prom_port, &expr);
                (!r.is_empty() || title == "Alerts").then_some(r)
            });
            if title != "Alerts" {
                assert!(r.iter().all(|(_, v)| v.is_finite()), "{title}: {r:?}");
            }
        }
    }
}
