//! The service counters, rendered in the Prometheus text format. Hand-rolled
//! (no client library): ten series do not need one, and the output is
//! exactly the README's.

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
    accepted: AtomicU64,
    duplicates: AtomicU64,
    rejected: AtomicU64,
    queue_depth: AtomicI64,
    downstream_calls: AtomicU64,
    downstream_failures: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
}

/// A request counted in `webhook_http_in_flight`; dropping it ends the count.
pub struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
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

    /// Counts one request in flight until the guard is dropped.
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    /// Counts one new event.
    pub fn event_accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one delivery of an event id already seen.
    pub fn event_duplicate(&self) {
        self.duplicates.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one refused webhook (signature, size or shape).
    pub fn event_rejected(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Moves the queue gauge by delta (+1 queued, -1 taken).
    pub fn add_queue_depth(&self, delta: i64) {
        self.queue_depth.fetch_add(delta, Ordering::Relaxed);
    }

    /// Counts one downstream attempt and whether it failed.
    pub fn downstream_attempt(&self, failed: bool) {
        self.downstream_calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.downstream_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Downstream attempts so far (`webhook_downstream_attempts_total`).
    pub fn downstream_calls(&self) -> u64 {
        self.downstream_calls.load(Ordering::Relaxed)
    }

    /// Counts one event the downstream took.
    pub fn event_delivered(&self) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one event given up on.
    pub fn event_failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// Writes every family in the Prometheus text format, request series
    /// sorted by route then status so the output is deterministic.
    pub fn write_text(&self, w: &mut impl fmt::Write) -> fmt::Result {
        let rows: Vec<((String, u16), u64)> = {
            let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
            requests.iter().map(|(k, n)| (k.clone(), *n)).collect()
        };

        writeln!(w, "# TYPE webhook_http_requests_total counter")?;
        for ((route, status), count) in rows {
            writeln!(
                w,
                "webhook_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
            )?;
        }
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        writeln!(w, "# TYPE webhook_http_in_flight gauge")?;
        writeln!(
            w,
            "webhook_http_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        )?;
        writeln!(w, "# TYPE webhook_events_accepted_total counter")?;
        writeln!(w, "webhook_events_accepted_total {}", load(&self.accepted))?;
        writeln!(w, "# TYPE webhook_events_duplicate_total counter")?;
        writeln!(
            w,
            "webhook_events_duplicate_total {}",
            load(&self.duplicates)
        )?;
        writeln!(w, "# TYPE webhook_events_rejected_total counter")?;
        writeln!(w, "webhook_events_rejected_total {}", load(&self.rejected))?;
        writeln!(w, "# TYPE webhook_queue_depth gauge")?;
        writeln!(
            w,
            "webhook_queue_depth {}",
            self.queue_depth.load(Ordering::Relaxed)
        )?;
        writeln!(w, "# TYPE webhook_downstream_attempts_total counter")?;
        writeln!(
            w,
            "webhook_downstream_attempts_total {}",
            load(&self.downstream_calls)
        )?;
        writeln!(w, "# TYPE webhook_downstream_failures_total counter")?;
        writeln!(
            w,
            "webhook_downstream_failures_total {}",
            load(&self.downstream_failures)
        )?;
        writeln!(w, "# TYPE webhook_events_delivered_total counter")?;
        writeln!(
            w,
            "webhook_events_delivered_total {}",
            load(&self.delivered)
        )?;
        writeln!(w, "# TYPE webhook_events_failed_total counter")?;
        writeln!(w, "webhook_events_failed_total {}", load(&self.failed))
    }
}
