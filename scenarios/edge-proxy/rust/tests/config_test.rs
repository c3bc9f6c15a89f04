use std::collections::HashMap;
use std::time::Duration;

use edgeproxy::config::Config;

/// A getenv over a fixed map.
fn env(vars: HashMap<&'static str, &'static str>) -> impl Fn(&str) -> String {
    move |k| vars.get(k).map(|v| v.to_string()).unwrap_or_default()
}

#[test]
fn load_defaults() {
    let cfg = Config::load(env(HashMap::from([(
        "UPSTREAM_URLS",
        "http://127.0.0.1:9001",
    )])))
    .unwrap();
    let want = Config {
        listen_addr: "127.0.0.1:8080".into(),
        upstream_urls: vec!["http://127.0.0.1:9001".into()],
        upstream_timeout: Duration::from_secs(5),
        body_idle_timeout: Duration::from_secs(10),
        upstream_max_conns: 64,
        upstream_max_idle: 16,
        health_interval: Duration::from_secs(1),
        health_timeout: Duration::from_millis(500),
        shutdown_timeout: Duration::from_secs(5),
    };
    assert_eq!(cfg, want);
}

#[test]
fn load_overrides() {
    let cfg = Config::load(env(HashMap::from([
        ("LISTEN_ADDR", "127.0.0.1:0"),
        (
            "UPSTREAM_URLS",
            " http://127.0.0.1:9001/ ,http://localhost:9002",
        ),
        ("UPSTREAM_TIMEOUT_MS", "300"),
        ("BODY_IDLE_TIMEOUT_MS", "400"),
        ("UPSTREAM_MAX_CONNS", "3"),
        ("UPSTREAM_MAX_IDLE", "2"),
        ("HEALTH_INTERVAL_MS", "50"),
        ("HEALTH_TIMEOUT_MS", "20"),
        ("SHUTDOWN_TIMEOUT_MS", "0"),
    ])))
    .unwrap();
    let want = Config {
        listen_addr: "127.0.0.1:0".into(),
        upstream_urls: vec![
            "http://127.0.0.1:9001".into(),
            "http://localhost:9002".into(),
        ],
        upstream_timeout: Duration::from_millis(300),
        body_idle_timeout: Duration::from_millis(400),
        upstream_max_conns: 3,
        upstream_max_idle: 2,
        health_interval: Duration::from_millis(50),
        health_timeout: Duration::from_millis(20),
        shutdown_timeout: Duration::ZERO,
    };
    assert_eq!(cfg, want);
}

#[test]
fn load_rejects_invalid() {
    let cases = [
        (
            "missing upstreams",
            "UPSTREAM_URLS",
            "",
            "UPSTREAM_URLS is required",
        ),
        (
            "https upstream",
            "UPSTREAM_URLS",
            "https://127.0.0.1:9001",
            "UPSTREAM_URLS",
        ),
        (
            "upstream with a path",
            "UPSTREAM_URLS",
            "http://127.0.0.1:9001/api",
            "UPSTREAM_URLS",
        ),
        (
            "empty list item",
            "UPSTREAM_URLS",
            "http://127.0.0.1:9001,",
            "UPSTREAM_URLS",
        ),
        (
            "not a number",
            "UPSTREAM_TIMEOUT_MS",
            "fast",
            "UPSTREAM_TIMEOUT_MS",
        ),
        (
            "zero timeout",
            "UPSTREAM_TIMEOUT_MS",
            "0",
            "UPSTREAM_TIMEOUT_MS",
        ),
        (
            "zero conns",
            "UPSTREAM_MAX_CONNS",
            "0",
            "UPSTREAM_MAX_CONNS",
        ),
        (
            "negative shutdown",
            "SHUTDOWN_TIMEOUT_MS",
            "-1",
            "SHUTDOWN_TIMEOUT_MS",
        ),
    ];
    for (name, key, value, want_err) in cases {
        let mut vars = HashMap::from([("UPSTREAM_URLS", "http://127.0.0.1:9001")]);
        vars.insert(key, value);
        match Config::load(env(vars)) {
            Err(err) if err.to_string().contains(want_err) => {}
            other => panic!("{name}: got {other:?}, want an error containing {want_err:?}"),
        }
    }
}
