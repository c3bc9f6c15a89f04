use std::collections::HashMap;
use std::time::Duration;

use intake::config::Config;

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> String {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned().unwrap_or_default()
}

#[test]
fn load_defaults() {
    let cfg = Config::load(env(&[
        ("WEBHOOK_SECRET", "s3cret"),
        ("DOWNSTREAM_URL", "http://127.0.0.1:9999/"),
    ]))
    .unwrap();
    let want = Config {
        listen_addr: "127.0.0.1:8080".to_string(),
        db_path: "webhooks.db".to_string(),
        webhook_secret: "s3cret".to_string(),
        signature_tolerance: Duration::from_secs(300),
        max_body_bytes: 65536,
        downstream_url: "http://127.0.0.1:9999".to_string(),
        downstream_timeout: Duration::from_secs(2),
        downstream_max_attempts: 5,
        downstream_backoff: Duration::from_millis(200),
        workers: 4,
        queue_size: 1000,
        shutdown_timeout: Duration::from_secs(5),
    };
    assert_eq!(cfg, want);
}

#[test]
fn load_rejects_bad_values() {
    let base = [("WEBHOOK_SECRET", "s"), ("DOWNSTREAM_URL", "http://x")];
    let with = |extra: (&'static str, &'static str)| {
        let mut v = base.to_vec();
        v.push(extra);
        v
    };
    let tests: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("missing secret", vec![("DOWNSTREAM_URL", "http://x")]),
        ("missing downstream", vec![("WEBHOOK_SECRET", "s")]),
        ("not a number", with(("WORKERS", "four"))),
        ("zero attempts", with(("DOWNSTREAM_MAX_ATTEMPTS", "0"))),
        ("zero body limit", with(("MAX_BODY_BYTES", "0"))),
        ("negative tolerance", with(("SIGNATURE_TOLERANCE_S", "-1"))),
    ];
    for (name, vars) in tests {
        assert!(
            Config::load(env(&vars)).is_err(),
            "{name}: load succeeded, want an error"
        );
    }
}
