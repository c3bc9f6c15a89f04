//! Judging checks: [`run_check`] runs one check of a suite in a fresh
//! [`Env`] and returns its outcome; [`run_suite`] runs several in order.
//!
//! Every wait is bounded: the startup by `startup_timeout_ms`, each step by
//! its `within_ms` (default 5000 ms) and the whole check by its `timeout_ms`
//! (default 30 s). The service's process group is killed at the end whatever
//! happens, including a panic in the harness.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::broadcast;

use super::env::{Env, EnvError, RunOptions};
use super::faults::FaultRule;
use super::suite::{Check, Suite};

/// Lines of service output kept in a [`CheckResult`].
const RESULT_TAIL: usize = 40;

impl Env {
    /// Starts every fake of `suite` with `faults`, then the service at
    /// `binary` with `service.env`, and waits for its ready line: the service
    /// under its fakes, to drive by hand. (Here rather than in `env.rs` so the
    /// environment does not depend on the suite.)
    pub async fn start(
        suite: &Suite,
        faults: &[FaultRule],
        binary: &Path,
        opts: &RunOptions,
    ) -> Result<Env, EnvError> {
        Env::launch(
            &suite.service,
            &suite.fakes,
            "env",
            faults,
            &BTreeMap::new(),
            binary,
            opts,
        )
        .await
    }

    /// As [`Env::start`], with `extra_env` over the suite's `[service.env]`
    /// and `label` seeding the faults and the run token (a bench workload).
    pub async fn start_with(
        suite: &Suite,
        label: &str,
        faults: &[FaultRule],
        extra_env: &BTreeMap<String, String>,
        binary: &Path,
        opts: &RunOptions,
    ) -> Result<Env, EnvError> {
        Env::launch(
            &suite.service,
            &suite.fakes,
            label,
            faults,
            extra_env,
            binary,
            opts,
        )
        .await
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    /// The service misbehaved.
    Fail {
        reason: String,
    },
    /// The harness could not judge (never a pass, never a reproduction).
    Error {
        reason: String,
    },
}

impl Outcome {
    pub fn is_pass(&self) -> bool {
        matches!(self, Outcome::Pass)
    }

    pub fn is_fail(&self) -> bool {
        matches!(self, Outcome::Fail { .. })
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Pass => None,
            Outcome::Fail { reason } | Outcome::Error { reason } => Some(reason),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub name: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    #[serde(rename = "duration_ms", serialize_with = "as_millis")]
    pub duration: Duration,
    /// The last lines the service printed (stderr, and stdout prefixed).
    pub log_tail: Vec<String>,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// Runs one check of `suite` against the service at `binary`.
pub async fn run_check(suite: &Suite, name: &str, binary: &Path, opts: &RunOptions) -> CheckResult {
    let start = Instant::now();
    if !suite.has_check(name) {
        return CheckResult {
            name: name.to_string(),
            outcome: Outcome::Error {
                reason: format!("no check named {name:?} in {}", suite.path().display()),
            },
            duration: start.elapsed(),
            log_tail: Vec::new(),
        };
    }
    // In a task of its own, so that a panic in the harness becomes an `error`
    // outcome (and the Env's guards kill the service while unwinding).
    let task = tokio::spawn(judge(
        suite.clone(),
        name.to_string(),
        binary.to_path_buf(),
        opts.clone(),
    ));
    let (outcome, log_tail) = match task.await {
        Ok(r) => r,
        Err(e) => (
            Outcome::Error {
                reason: format!("the harness itself failed: {e}"),
            },
            Vec::new(),
        ),
    };
    CheckResult {
        name: name.to_string(),
        outcome,
        duration: start.elapsed(),
        log_tail,
    }
}

/// Runs the named checks (all if `None`) one after the other, in suite order.
/// A name the suite does not have yields an `error` result at the end.
pub async fn run_suite(
    suite: &Suite,
    names: Option<&[String]>,
    binary: &Path,
    opts: &RunOptions,
) -> Vec<CheckResult> {
    let mut results = Vec::new();
    for check in &suite.checks {
        if names.is_none_or(|n| n.contains(&check.name)) {
            results.push(run_check(suite, &check.name, binary, opts).await);
        }
    }
    for unknown in names
        .unwrap_or_default()
        .iter()
        .filter(|n| !suite.has_check(n))
    {
        results.push(run_check(suite, unknown, binary, opts).await);
    }
    results
}

async fn judge(
    suite: Suite,
    name: String,
    binary: PathBuf,
    opts: RunOptions,
) -> (Outcome, Vec<String>) {
    let Some(check) = suite.check(&name) else {
        return (
            Outcome::Error {
                reason: format!("no check named {name:?}"),
            },
            Vec::new(),
        );
    };
    let started = tokio::time::timeout(
        check.timeout,
        Env::launch(
            &suite.service,
            &suite.fakes,
            &check.name,
            &check.faults,
            &check.env,
            &binary,
            &opts,
        ),
    )
    .await;
    let mut env = match started {
        Ok(Ok(env)) => env,
        Ok(Err(e)) => {
            let tail = e.tail();
            return (
                Outcome::Error {
                    reason: e.to_string(),
                },
                tail,
            );
        }
        Err(_) => {
            return (
                Outcome::Error {
                    reason: format!(
                        "the service did not start within the check's {} ms limit",
                        check.timeout.as_millis()
                    ),
                },
                Vec::new(),
            )
        }
    };
    if let Some(sink) = opts.log_sink.clone() {
        // Subscribe before copying what was printed so far, so no line falls
        // between the two (a line may at worst appear twice).
        let mut rx = env.subscribe_logs();
        for line in env.log_lines() {
            let _ = sink.send(line);
        }
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(line) => {
                        if sink.send(line).is_err() {
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        let _ = sink.send(format!("[drill: {n} log line(s) skipped]"));
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
    }
    let current = Arc::new(Mutex::new(String::from("startup")));
    let outcome =
        match tokio::time::timeout(check.timeout, run_steps(&mut env, check, &current)).await {
            Ok(Ok(())) => Outcome::Pass,
            Ok(Err(reason)) => Outcome::Fail { reason },
            Err(_) => Outcome::Error {
                reason: format!(
                    "the check did not finish within its {} ms limit (during {})",
                    check.timeout.as_millis(),
                    current.lock().map(|s| s.clone()).unwrap_or_default()
                ),
            },
        };
    let tail = env.log_tail(RESULT_TAIL);
    env.shutdown().await;
    (outcome, tail)
}

/// Runs the steps; `Err` is the one-line failure reason.
async fn run_steps(env: &mut Env, check: &Check, current: &Mutex<String>) -> Result<(), String> {
    let mut vars = env.vars().clone();
    for (i, step) in check.steps.iter().enumerate() {
        let desc = format!("step {} ({})", i + 1, step.describe(&vars));
        if let Ok(mut c) = current.lock() {
            c.clone_from(&desc);
        }
        step.run(env, &mut vars)
            .await
            .map_err(|why| format!("{desc}: {why}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::ExitStatusExt;

    use super::*;

    fn suite(service_env: &str, startup_ms: u64) -> Suite {
        let text = format!(
            r#"
format_version = 1
[service]
startup_timeout_ms = {startup_ms}
ready = {{ msg = "listening", addr_field = "addr" }}
[service.env]
{service_env}
[fakes.provider]
[[checks]]
name = "only"
[[checks.steps]]
do = "sleep"
ms = 1
"#
        );
        Suite::parse(&text, Path::new("test.toml")).unwrap()
    }

    fn script(dir: &Path, body: &str) -> PathBuf {
        let path = dir.join("svc.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn reason(r: &CheckResult) -> &str {
        match &r.outcome {
            Outcome::Error { reason } => reason,
            other => panic!("expected an error outcome, got {other:?}"),
        }
    }

    #[test]
    fn outcomes_serialize_with_a_lowercase_tag() {
        let r = CheckResult {
            name: "c".into(),
            outcome: Outcome::Fail {
                reason: "why".into(),
            },
            duration: Duration::from_millis(12),
            log_tail: vec![],
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["outcome"], "fail");
        assert_eq!(v["reason"], "why");
        assert_eq!(v["duration_ms"], 12);
        assert_eq!(
            serde_json::to_value(Outcome::Pass).unwrap()["outcome"],
            "pass"
        );
    }

    /// A suite whose only check waits for one log line with `expect_fields`.
    fn log_suite(expect_fields: &str) -> Suite {
        let text = format!(
            r#"
format_version = 1
[service]
ready = {{ msg = "listening", addr_field = "addr" }}
[[checks]]
name = "only"
[[checks.steps]]
do = "log"
expect_msg = "request"
expect_fields = {expect_fields}
within_ms = 2000
"#
        );
        Suite::parse(&text, Path::new("test.toml")).unwrap()
    }

    #[tokio::test]
    async fn tracing_json_lines_satisfy_the_ready_line_and_log_steps() {
        let dir = tempfile::tempdir().unwrap();
        // tracing-subscriber's JSON formatter without flatten_event: the
        // message and the fields nested under `fields`.
        let bin = script(
            dir.path(),
            r#"echo '{"timestamp":"t","level":"INFO","fields":{"message":"listening","addr":"127.0.0.1:9"},"target":"svc"}' >&2
echo '{"timestamp":"t","level":"INFO","fields":{"message":"request","method":"GET","status":200},"target":"svc"}' >&2
exec sleep 30"#,
        );
        let pass = run_check(
            &log_suite(r#"{ level = "info", method = "GET", status = 200 }"#),
            "only",
            &bin,
            &RunOptions::default(),
        )
        .await;
        assert_eq!(pass.outcome, Outcome::Pass, "{pass:?}");
        let fail = run_check(
            &log_suite("{ status = 500 }"),
            "only",
            &bin,
            &RunOptions::default(),
        )
        .await;
        let Outcome::Fail { reason } = &fail.outcome else {
            panic!("expected a failure, got {fail:?}");
        };
        assert!(
            reason.contains(r#"a "request" line was printed but with other fields"#),
            "{reason}"
        );
    }

    #[tokio::test]
    async fn a_service_announcing_every_interface_is_an_error_naming_the_address() {
        let dir = tempfile::tempdir().unwrap();
        let bin = script(
            dir.path(),
            r#"echo '{"level":"INFO","msg":"listening","addr":"0.0.0.0:9"}' >&2; exec sleep 30"#,
        );
        let r = run_check(&suite("", 5000), "only", &bin, &RunOptions::default()).await;
        assert_eq!(
            reason(&r).split("; last output").next().unwrap(),
            r#"the ready line's "addr" is "0.0.0.0:9": the service listens on every interface; it must listen on 127.0.0.1 only (set its listen address to 127.0.0.1:0 in service.env)"#
        );
    }

    #[tokio::test]
    async fn a_missing_binary_is_an_error_not_a_failure() {
        let s = suite("", 1000);
        let r = run_check(
            &s,
            "only",
            Path::new("/nonexistent/ledger"),
            &RunOptions::default(),
        )
        .await;
        assert!(reason(&r).contains("does not exist"), "{r:?}");
    }

    #[tokio::test]
    async fn a_service_exiting_at_startup_is_an_error_quoting_its_output() {
        let dir = tempfile::tempdir().unwrap();
        let bin = script(
            dir.path(),
            r#"echo '{"level":"ERROR","msg":"invalid configuration","error":"PROVIDER_URL is required"}' >&2; exit 2"#,
        );
        let r = run_check(&suite("", 5000), "only", &bin, &RunOptions::default()).await;
        let why = reason(&r);
        assert!(why.contains("exited (exit code 2)"), "{why}");
        assert!(why.contains("PROVIDER_URL is required"), "{why}");
        assert_eq!(r.log_tail.len(), 1);
    }

    #[tokio::test]
    async fn a_service_that_never_gets_ready_is_an_error_after_the_startup_limit() {
        let dir = tempfile::tempdir().unwrap();
        let bin = script(dir.path(), "echo booting >&2; exec sleep 30");
        let t = Instant::now();
        let r = run_check(&suite("", 300), "only", &bin, &RunOptions::default()).await;
        assert!(
            reason(&r).contains("within 300 ms; last output: booting"),
            "{r:?}"
        );
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn env_templates_reach_the_service_and_nothing_else_leaks_in() {
        let dir = tempfile::tempdir().unwrap();
        // Prints the ready line with an address, then echoes its environment.
        let bin = script(
            dir.path(),
            r#"echo "{\"msg\":\"listening\",\"addr\":\"127.0.0.1:9\"}" >&2
echo "P=$PROVIDER_URL D=$DB_PATH H=${HOME:-unset}" >&2
exec sleep 30"#,
        );
        let s = suite(
            r#"PROVIDER_URL = "{fake.provider.url}/v1"
DB_PATH = "{run_dir}/x.db""#,
            5000,
        );
        let mut env = Env::start(&s, &[], &bin, &RunOptions::default())
            .await
            .unwrap();
        assert_eq!(env.base_url(), "http://127.0.0.1:9");
        let deadline = Instant::now() + Duration::from_secs(5);
        let line = loop {
            if let Some(l) = env.log_lines().into_iter().find(|l| l.starts_with("P=")) {
                break l;
            }
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let url = env.fake_url("provider").unwrap();
        assert_eq!(
            line,
            format!("P={url}/v1 D={}/x.db H=unset", env.run_dir().display())
        );
        assert!(env
            .wait_exit(Duration::from_millis(10))
            .await
            .unwrap()
            .is_none());
        let run_dir = env.run_dir().to_path_buf();
        let status = env.shutdown().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGTERM));
        assert!(!run_dir.exists());
    }

    #[tokio::test]
    async fn a_restart_starts_the_service_again_in_the_same_run_directory() {
        let dir = tempfile::tempdir().unwrap();
        // Counts its starts in a file of the run directory (its cwd), and says
        // so before its ready line, so the line is read before any signal.
        let bin = script(
            dir.path(),
            r#"echo x >> starts
n=$(wc -l < starts)
echo "{\"msg\":\"started\",\"n\":$n}" >&2
echo "{\"msg\":\"listening\",\"addr\":\"127.0.0.1:9\"}" >&2
exec sleep 30"#,
        );
        let text = r#"
format_version = 1
[service]
ready = { msg = "listening", addr_field = "addr" }
[[checks]]
name = "only"
[[checks.steps]]
do = "signal"
signal = "TERM"
[[checks.steps]]
do = "restart"
[[checks.steps]]
do = "log"
expect_msg = "started"
expect_fields = { n = 2 }
"#;
        let s = Suite::parse(text, Path::new("test.toml")).unwrap();
        let r = run_check(&s, "only", &bin, &RunOptions::default()).await;
        assert_eq!(r.outcome, Outcome::Pass, "{r:?}");
        let starts: Vec<&String> = r
            .log_tail
            .iter()
            .filter(|l| l.contains("started"))
            .collect();
        assert_eq!(starts.len(), 2, "{:?}", r.log_tail);
    }
}
