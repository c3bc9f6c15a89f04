use std::collections::HashMap;
use std::time::Duration;

use ledger::config::Config;

/// A getenv over a fixed map.
fn env(vars: HashMap<&'static str, &'static str>) -> impl Fn(&str) -> String {
    move |k| vars.get(k).map(|v| v.to_string()).unwrap_or_default()
}

#[test]
fn load_defaults() {
    let cfg = Config::load(env(HashMap::from([(
        "PROVIDER_URL",
        "http://127.0.0.1:9999",
    )])))
    .unwrap();
    let want = Config {
        listen_addr: "127.0.0.1:8080".to_string(),
        db_path: "ledger.db".to_string(),
        provider_url: "http://127.0.0.1:9999".to_string(),
        provider_timeout: Duration::from_secs(2),
        provider_max_attempts: 3,
        provider_backoff: Duration::from_millis(100),
        max_balance_cents: 100000000,
        shutdown_timeout: Duration::from_secs(5),
    };
    assert_eq!(cfg, want);
}

#[test]
fn load_overrides() {
    let cfg = Config::load(env(HashMap::from([
        ("LISTEN_ADDR", "127.0.0.1:0"),
        ("DB_PATH", "/tmp/x.db"),
        ("PROVIDER_URL", "http://provider.test/"),
        ("PROVIDER_TIMEOUT_MS", "250"),
        ("PROVIDER_MAX_ATTEMPTS", "5"),
        ("PROVIDER_BACKOFF_MS", "0"),
        ("MAX_BALANCE_CENTS", "1000"),
        ("SHUTDOWN_TIMEOUT_MS", "10"),
    ])))
    .unwrap();
    let want = Config {
        listen_addr: "127.0.0.1:0".to_string(),
        db_path: "/tmp/x.db".to_string(),
        provider_url: "http://provider.test".to_string(), // trailing slash dropped
        provider_timeout: Duration::from_millis(250),
        provider_max_attempts: 5,
        provider_backoff: Duration::ZERO,
        max_balance_cents: 1000,
        shutdown_timeout: Duration::from_millis(10),
    };
    assert_eq!(cfg, want);
}

/// A valid environment plus one variable under test.
fn with_url(k: &'static str, v: &'static str) -> HashMap<&'static str, &'static str> {
    HashMap::from([("PROVIDER_URL", "http://127.0.0.1:9999"), (k, v)])
}

#[test]
fn load_rejects_invalid() {
    // (name, vars, a substring naming the culprit)
    let tests = [
        ("missing provider url", HashMap::new(), "PROVIDER_URL"),
        (
            "timeout not a number",
            with_url("PROVIDER_TIMEOUT_MS", "2s"),
            "PROVIDER_TIMEOUT_MS",
        ),
        (
            "attempts not a number",
            with_url("PROVIDER_MAX_ATTEMPTS", "three"),
            "PROVIDER_MAX_ATTEMPTS",
        ),
        (
            "zero attempts",
            with_url("PROVIDER_MAX_ATTEMPTS", "0"),
            "PROVIDER_MAX_ATTEMPTS",
        ),
        (
            "zero timeout",
            with_url("PROVIDER_TIMEOUT_MS", "0"),
            "PROVIDER_TIMEOUT_MS",
        ),
        (
            "negative backoff",
            with_url("PROVIDER_BACKOFF_MS", "-1"),
            "PROVIDER_BACKOFF_MS",
        ),
        (
            "balance not a number",
            with_url("MAX_BALANCE_CENTS", "1e6"),
            "MAX_BALANCE_CENTS",
        ),
        (
            "shutdown not a number",
            with_url("SHUTDOWN_TIMEOUT_MS", "5000ms"),
            "SHUTDOWN_TIMEOUT_MS",
        ),
    ];
    for (name, vars, want_err) in tests {
        match Config::load(env(vars)) {
            Err(err) if err.to_string().contains(want_err) => {}
            other => panic!("{name}: got {other:?}, want an error mentioning {want_err}"),
        }
    }
}
