use std::collections::HashMap;
use std::time::Duration;

use ingester::config::Config;

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> String {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned().unwrap_or_default()
}

#[test]
fn load_defaults() {
    let cfg = Config::load(env(&[("ARCHIVE_URL", "http://127.0.0.1:9999/")])).unwrap();
    let want = Config {
        listen_addr: "127.0.0.1:8080".to_string(),
        db_path: "logs.db".to_string(),
        archive_url: "http://127.0.0.1:9999".to_string(),
        archive_timeout: Duration::from_secs(2),
        max_body_bytes: 1_048_576,
        max_line_bytes: 8192,
        batch_size: 500,
        flush_interval: Duration::from_secs(1),
        max_queued_lines: 10000,
        quota_lines: 10000,
        quota_window: Duration::from_secs(60),
        quota_max_tenants: 10000,
        shutdown_timeout: Duration::from_secs(5),
    };
    assert_eq!(cfg, want);
}

#[test]
fn load_rejects_bad_values() {
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "ARCHIVE_URL is required"),
        (
            &[("ARCHIVE_URL", "http://a"), ("BATCH_SIZE", "x")],
            "BATCH_SIZE: not an integer",
        ),
        (
            &[("ARCHIVE_URL", "http://a"), ("QUOTA_LINES", "0")],
            "QUOTA_LINES: must be at least 1",
        ),
        (
            &[
                ("ARCHIVE_URL", "http://a"),
                ("BATCH_SIZE", "50"),
                ("MAX_QUEUED_LINES", "10"),
            ],
            "MAX_QUEUED_LINES (10) must be at least BATCH_SIZE (50)",
        ),
    ];
    for (vars, want) in cases {
        let err = Config::load(env(vars)).unwrap_err().to_string();
        assert!(err.contains(want), "{vars:?}: got {err:?}, want {want:?}");
    }
}
