//! The billing-ledger acceptance suite against real builds of the service.
//!
//! `clean_go_build_passes_every_check` builds the clean Go tree with the real
//! `go` toolchain into a temp dir and runs the whole suite; it is skipped
//! (with a note) where `go` is not installed.
//!
//! `suite_against_given_binary` is a tool for catalog authors, ignored by
//! default: `DRILL_LEDGER_BIN=/path/to/ledger [DRILL_CHECKS=a,b] [DRILL_RUNS=5]
//! cargo test --test acceptance_billing_ledger -- --ignored --nocapture`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use drillkit::harness::{run_suite, CheckResult, Outcome, RunOptions, Suite};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn suite() -> Suite {
    Suite::load(&root().join("scenarios/billing-ledger/acceptance.toml"))
        .expect("the suite is valid")
}

fn report(results: &[CheckResult]) -> String {
    let mut out = String::new();
    for r in results {
        let verdict = match &r.outcome {
            Outcome::Pass => "pass".to_string(),
            Outcome::Fail { reason } => format!("FAIL {reason}"),
            Outcome::Error { reason } => format!("ERROR {reason}"),
        };
        out.push_str(&format!(
            "{:>6} ms  {:<36} {verdict}\n",
            r.duration.as_millis(),
            r.name
        ));
        if !r.outcome.is_pass() {
            for line in r.log_tail.iter().rev().take(8).rev() {
                out.push_str(&format!("            | {line}\n"));
            }
        }
    }
    out
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn go_available() -> bool {
    Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The clean Go service, built once per test binary into Cargo's per-test
/// scratch dir; `None` (test skipped) without a Go toolchain.
fn go_ledger() -> Option<&'static Path> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let src = root().join("scenarios/billing-ledger/go");
            if !src.join("cmd/ledger/main.go").exists() || !go_available() {
                eprintln!("skipped: no Go toolchain or no Go source of billing-ledger");
                return None;
            }
            let bin = Path::new(env!("CARGO_TARGET_TMPDIR")).join("billing-ledger-go");
            let build = Command::new("go")
                .args(["build", "-o"])
                .arg(&bin)
                .arg("./cmd/ledger")
                .current_dir(&src)
                .output()
                .expect("go runs");
            assert!(
                build.status.success(),
                "go build failed:\n{}",
                String::from_utf8_lossy(&build.stderr)
            );
            Some(bin)
        })
        .as_deref()
}

#[test]
fn clean_go_build_passes_every_check() {
    let Some(bin) = go_ledger() else { return };
    let suite = suite();
    let results = rt().block_on(run_suite(&suite, None, bin, &RunOptions::default()));
    let text = report(&results);
    eprintln!("{text}");
    assert_eq!(results.len(), suite.check_names().len());
    assert!(results.iter().all(|r| r.outcome.is_pass()), "{text}");
}

/// The steps other scenarios rely on (restart, metric, process, count,
/// polled fake_calls, signing, generated bodies), driven against a real
/// service so their plumbing is proven end to end.
#[test]
fn generic_steps_work_against_the_go_ledger() {
    let Some(bin) = go_ledger() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acceptance.toml");
    let base =
        std::fs::read_to_string(root().join("scenarios/billing-ledger/acceptance.toml")).unwrap();
    let head = &base[..base.find("[[checks]]").unwrap()];
    let checks = r#"
[[checks]]
name = "restart_keeps_the_ledger"
[[checks.steps]]
do = "request"
method = "POST"
path = "/v1/charges"
count = 6
concurrency = 2
headers = { "Idempotency-Key" = "r-{i}" }
body = '{"account":"acct_r","amount_cents":100,"currency":"usd"}'
sign = { header = "X-Signature", secret = "k", payload = "{timestamp}.{body}", value = "t={timestamp},v1={hmac}" }
expect_status = [201]
[[checks.steps]]
do = "fake_calls"
fake = "provider"
expect_min_calls = 6
within_ms = 1000
[[checks.steps]]
do = "metric"
name = 'ledger_http_requests_total{route="/v1/charges",status="201"}'
expect = 6
within_ms = 1000
[[checks.steps]]
do = "process"
expect_rss_max_mb = 1024
expect_fds_max = 512
[[checks.steps]]
do = "restart"
[[checks.steps]]
do = "request"
method = "GET"
path = "/v1/accounts/acct_r"
expect_json = { "/balance_cents" = 600, "/charges" = 6 }
[[checks.steps]]
do = "metric"
name = "ledger_charges_total"
expect = 0
[[checks.steps]]
do = "signal"
signal = "TERM"
expect_exit_code = 0
[[checks.steps]]
do = "restart"
signal = "TERM"
[[checks.steps]]
do = "request"
method = "POST"
path = "/v1/charges"
headers = { "Idempotency-Key" = "big" }
body_bytes = 100000
expect_status = [400]
expect_json = { "/error" = "invalid JSON body" }
"#;
    std::fs::write(&path, format!("{head}{checks}")).unwrap();
    let suite = Suite::load(&path).unwrap();
    let results = rt().block_on(run_suite(&suite, None, bin, &RunOptions::default()));
    let text = report(&results);
    assert!(results.iter().all(|r| r.outcome.is_pass()), "{text}");
}

#[test]
#[ignore = "needs DRILL_LEDGER_BIN"]
fn suite_against_given_binary() {
    let Some(bin) = std::env::var_os("DRILL_LEDGER_BIN") else {
        eprintln!("set DRILL_LEDGER_BIN");
        return;
    };
    let names: Option<Vec<String>> = std::env::var("DRILL_CHECKS")
        .ok()
        .map(|s| s.split(',').map(str::to_string).collect());
    let runs: u32 = std::env::var("DRILL_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let suite = suite();
    let rt = rt();
    for run_index in 0..runs {
        let opts = RunOptions {
            run_index,
            ..RunOptions::default()
        };
        let t = std::time::Instant::now();
        let results = rt.block_on(run_suite(&suite, names.as_deref(), Path::new(&bin), &opts));
        println!(
            "run {run_index}: {} ms total\n{}",
            t.elapsed().as_millis(),
            report(&results)
        );
    }
}
