//! Self-checks of the load generator against the reference server
//! (runner/bench/selfcheck.rs): a fixed delay must be measured as that delay,
//! and a stall must show in the corrected latency even when the raw one hides it.
//! `drill bench --self-check` runs the same two checks.
//!
//! They measure sub-millisecond overheads, so they run in the release profile
//! on an otherwise idle machine: `.ci/run` does that in a step of its own
//! (`cargo test --release --test bench_loadgen -- --ignored`). In a debug build
//! hyper's own overhead alone moves a 5 ms p50 by several percent.

use std::sync::Mutex;

use drillkit::bench::selfcheck;

/// The two checks measure time: they take turns.
static TURN: Mutex<()> = Mutex::new(());

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
#[ignore = "measures time: release profile, idle machine (.ci/run runs it)"]
fn p50_against_a_fixed_5ms_server_at_500_per_second_is_within_5_percent_of_5ms() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let check = rt().block_on(selfcheck::fixed_delay()).unwrap();
    assert!(check.passed, "{}", check.detail);
    assert!((check.corrected.p50 - 5.0).abs() <= 0.25, "{check:?}");
}

#[test]
#[ignore = "measures time: release profile, idle machine (.ci/run runs it)"]
fn a_one_second_stall_shows_in_corrected_p99_while_raw_p99_stays_low() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let check = rt().block_on(selfcheck::stall()).unwrap();
    assert!(check.passed, "{}", check.detail);
    assert!(check.corrected.p99 >= 900.0, "{check:?}");
    assert!(check.raw.p99 < 50.0, "{check:?}");
}
