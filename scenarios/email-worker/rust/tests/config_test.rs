use std::collections::HashMap;
use std::time::Duration;

use emailworker::config::Config;

/// A getenv over a fixed map.
fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> String {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned().unwrap_or_default()
}

#[test]
fn load_defaults() {
    let cfg = Config::load(env(&[("MAIL_PROVIDER_URL", "http://127.0.0.1:9999/")])).unwrap();
    let want = Config {
        listen_addr: "127.0.0.1:8080".to_string(),
        db_path: "emails.db".to_string(),
        provider_url: "http://127.0.0.1:9999".to_string(),
        send_timeout: Duration::from_secs(2),
        send_max_attempts: 5,
        send_backoff: Duration::from_millis(100),
        send_rate_per_sec: 50,
        worker_concurrency: 4,
        buffer_size: 16,
        lease: Duration::from_secs(30),
        poll_interval: Duration::from_millis(100),
        shutdown_timeout: Duration::from_secs(5),
    };
    assert_eq!(cfg, want);
}

#[test]
fn load_overrides() {
    let cfg = Config::load(env(&[
        ("LISTEN_ADDR", "127.0.0.1:0"),
        ("DB_PATH", "/tmp/q.db"),
        ("MAIL_PROVIDER_URL", "http://mail"),
        ("MAIL_TIMEOUT_MS", "300"),
        ("MAIL_MAX_ATTEMPTS", "2"),
        ("MAIL_BACKOFF_MS", "0"),
        ("MAIL_RATE_PER_SEC", "0"),
        ("WORKER_CONCURRENCY", "8"),
        ("BUFFER_SIZE", "1"),
        ("LEASE_MS", "1500"),
        ("POLL_INTERVAL_MS", "20"),
        ("SHUTDOWN_TIMEOUT_MS", "0"),
    ]))
    .unwrap();
    let want = Config {
        listen_addr: "127.0.0.1:0".to_string(),
        db_path: "/tmp/q.db".to_string(),
        provider_url: "http://mail".to_string(),
        send_timeout: Duration::from_millis(300),
        send_max_attempts: 2,
        send_backoff: Duration::ZERO,
        send_rate_per_sec: 0,
        worker_concurrency: 8,
        buffer_size: 1,
        lease: Duration::from_millis(1500),
        poll_interval: Duration::from_millis(20),
        shutdown_timeout: Duration::ZERO,
    };
    assert_eq!(cfg, want);
}

#[test]
fn load_rejects_invalid() {
    let tests = [
        (
            "missing provider",
            "MAIL_PROVIDER_URL",
            "",
            "MAIL_PROVIDER_URL is required",
        ),
        (
            "not a number",
            "MAIL_TIMEOUT_MS",
            "2s",
            "MAIL_TIMEOUT_MS: not an integer",
        ),
        (
            "zero timeout",
            "MAIL_TIMEOUT_MS",
            "0",
            "MAIL_TIMEOUT_MS: must be at least 1",
        ),
        (
            "zero attempts",
            "MAIL_MAX_ATTEMPTS",
            "0",
            "MAIL_MAX_ATTEMPTS: must be at least 1",
        ),
        (
            "negative backoff",
            "MAIL_BACKOFF_MS",
            "-1",
            "MAIL_BACKOFF_MS: must be at least 0",
        ),
        (
            "zero workers",
            "WORKER_CONCURRENCY",
            "0",
            "WORKER_CONCURRENCY: must be at least 1",
        ),
        (
            "zero buffer",
            "BUFFER_SIZE",
            "0",
            "BUFFER_SIZE: must be at least 1",
        ),
        (
            "zero lease",
            "LEASE_MS",
            "0",
            "LEASE_MS: must be at least 1",
        ),
        (
            "fractional poll",
            "POLL_INTERVAL_MS",
            "1.5",
            "POLL_INTERVAL_MS: not an integer",
        ),
    ];
    for (name, variable, value, want_err) in tests {
        let mut vars = vec![("MAIL_PROVIDER_URL", "http://mail")];
        vars.push((variable, value));
        let err = Config::load(env(&vars)).unwrap_err();
        assert!(
            err.0.starts_with(want_err),
            "{name}: got {err}, want an error starting with {want_err:?}"
        );
    }
}
