//! `drill bench` as a user runs it: against the reference server on loopback,
//! with bad input, and against a port nothing listens on. Counts only: the
//! latency figures are the self-checks' business (tests/bench_loadgen.rs).

use std::time::Duration;

use assert_cmd::Command;
use drillkit::bench::selfcheck::FixedDelayServer;
use serde_json::Value;

mod util;

fn drill() -> Command {
    Command::cargo_bin("drill").expect("drill binary")
}

#[test]
fn bench_url_json_counts_every_scheduled_request() {
    let server = FixedDelayServer::start(Duration::from_millis(1), None).unwrap();
    let out = drill()
        .args([
            "bench",
            "--url",
            &server.url(),
            "--rate",
            "50",
            "--duration",
            "1",
        ])
        .args(["--warmup", "0.2", "--connections", "4", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", util::both(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["format_version"], 1);
    assert_eq!(r["counts"]["scheduled"], 50, "{r:#}");
    assert_eq!(r["counts"]["ok"], 50, "{r:#}");
    assert_eq!(r["counts"]["dropped"], 0);
    assert_eq!(r["latency_ms"]["corrected"]["count"], 50);
    assert_eq!(r["latency_ms"]["raw"]["count"], 50);
    assert_eq!(r["per_second"].as_array().unwrap().len(), 1);
    assert_eq!(r["per_second"][0]["requests"], 50);
    assert!(r["machine"]["cores"].as_u64().unwrap() >= 1);
    assert_eq!(r["interrupted"], false);
}

#[test]
fn bench_refuses_a_url_it_cannot_load_with_a_usage_error() {
    let out = drill()
        .args(["bench", "--url", "https://127.0.0.1:1/", "--duration", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", util::both(&out));
    assert!(
        util::stderr(&out).contains("only http:// is supported"),
        "{}",
        util::both(&out)
    );
    let out = drill()
        .args(["bench", "--url", "http://127.0.0.1:1/", "--rate", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", util::both(&out));
    assert!(
        util::stderr(&out).contains("--rate 0"),
        "{}",
        util::both(&out)
    );
}

#[test]
fn bench_against_a_closed_port_fails_every_request_and_says_nothing_answered() {
    // Bind then drop a listener: the port is free and refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = drill()
        .args(["bench", "--url", &format!("http://127.0.0.1:{port}/")])
        .args(["--rate", "20", "--duration", "1", "--warmup", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", util::both(&out));
    let text = util::stdout(&out);
    assert!(
        text.contains("20 scheduled, 0 ok, 0 4xx, 0 5xx, 20 failed"),
        "{text}"
    );
    assert!(text.contains("nothing was answered"), "{text}");
}
