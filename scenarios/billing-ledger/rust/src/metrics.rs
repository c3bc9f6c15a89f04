//! The service counters, rendered in the Prometheus text format. Hand-rolled
//! (no client library): a handful of counters and gauges do not need one.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// Safe for concurrent use.
#[derive(Default)]
pub struct Metrics {
    /// (route, status) → count; the BTreeMap keeps them sorted by route then
    /// status.
    requests: Mutex<BTreeMap<(String, u16), u64>>,

    in_flight: AtomicI64,
    provider_calls: AtomicU64,
    provider_failures: AtomicU64,
    charges: AtomicU64,
}

impl Metrics {
    /// Zeroed metrics.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Counts one finished HTTP request.
    pub fn observe_request(&self, route: &str, status: u16) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *requests.entry((route.to_string(), status)).or_insert(0) += 1;
    }

    /// Moves the in-flight gauge by delta (+1 on entry, -1 on exit).
    pub fn add_in_flight(&self, delta: i64) {
        self.in_flight.fetch_add(delta, Ordering::Relaxed);
    }

    /// Counts one provider attempt and whether it failed.
    pub fn provider_attempt(&self, failed: bool) {
        self.provider_calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.provider_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Provider attempts so far (`ledger_provider_calls_total`).
    pub fn provider_calls(&self) -> u64 {
        self.provider_calls.load(Ordering::Relaxed)
    }

    /// Failed provider attempts so far (`ledger_provider_failures_total`).
    pub fn provider_failures(&self) -> u64 {
        self.provider_failures.load(Ordering::Relaxed)
    }

    /// Counts one newly recorded charge (replays are not counted).
    pub fn charge_created(&self) {
        self.charges.fetch_add(1, Ordering::Relaxed);
    }

    /// Writes every family in the Prometheus text format, request series
    /// sorted by route then status so the output is deterministic.
    pub fn write_text(&self, w: &mut impl fmt::Write) -> fmt::Result {
        let rows: Vec<((String, u16), u64)> = {
            let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
            requests.iter().map(|(k, n)| (k.clone(), *n)).collect()
        };

        writeln!(w, "# TYPE ledger_http_requests_total counter")?;
        for ((route, status), count) in rows {
            writeln!(
                w,
                "ledger_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
            )?;
        }
        writeln!(w, "# TYPE ledger_http_in_flight gauge")?;
        writeln!(
            w,
            "ledger_http_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        )?;
        writeln!(w, "# TYPE ledger_provider_calls_total counter")?;
        writeln!(
            w,
            "ledger_provider_calls_total {}",
            self.provider_calls.load(Ordering::Relaxed)
        )?;
        writeln!(w, "# TYPE ledger_provider_failures_total counter")?;
        writeln!(
            w,
            "ledger_provider_failures_total {}",
            self.provider_failures.load(Ordering::Relaxed)
        )?;
        writeln!(w, "# TYPE ledger_charges_total counter")?;
        writeln!(
            w,
            "ledger_charges_total {}",
            self.charges.load(Ordering::Relaxed)
        )
    }
}
