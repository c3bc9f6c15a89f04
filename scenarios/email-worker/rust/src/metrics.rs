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
    enqueued: AtomicU64,
    sent: AtomicU64,
    failed: AtomicU64,
    released: AtomicU64,
    attempts: AtomicU64,
    attempt_fails: AtomicU64,
    sending: AtomicI64,
    buffered: AtomicI64,
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

    /// Moves the HTTP in-flight gauge by delta.
    pub fn add_in_flight(&self, delta: i64) {
        self.in_flight.fetch_add(delta, Ordering::Relaxed);
    }

    /// Counts one accepted email.
    pub fn enqueued(&self) {
        self.enqueued.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one email acknowledged as sent.
    pub fn sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one email given up on.
    pub fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one claimed email handed back to the queue.
    pub fn released(&self) {
        self.released.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one provider attempt and whether it failed.
    pub fn send_attempt(&self, failed: bool) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.attempt_fails.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Provider attempts so far (`email_send_attempts_total`).
    pub fn send_attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// Moves the gauge of sends in progress by delta.
    pub fn add_sending(&self, delta: i64) {
        self.sending.fetch_add(delta, Ordering::Relaxed);
    }

    /// Moves the gauge of claimed emails waiting for a worker by delta.
    pub fn add_buffered(&self, delta: i64) {
        self.buffered.fetch_add(delta, Ordering::Relaxed);
    }

    /// Writes every family in the Prometheus text format, request series
    /// sorted by route then status so the output is deterministic.
    pub fn write_text(&self, w: &mut impl fmt::Write) -> fmt::Result {
        let rows: Vec<((String, u16), u64)> = {
            let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
            requests.iter().map(|(k, n)| (k.clone(), *n)).collect()
        };

        writeln!(w, "# TYPE email_http_requests_total counter")?;
        for ((route, status), count) in rows {
            writeln!(
                w,
                "email_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
            )?;
        }
        let load_u = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let load_i = |a: &AtomicI64| a.load(Ordering::Relaxed);
        writeln!(w, "# TYPE email_http_in_flight gauge")?;
        writeln!(w, "email_http_in_flight {}", load_i(&self.in_flight))?;
        writeln!(w, "# TYPE email_enqueued_total counter")?;
        writeln!(w, "email_enqueued_total {}", load_u(&self.enqueued))?;
        writeln!(w, "# TYPE email_sent_total counter")?;
        writeln!(w, "email_sent_total {}", load_u(&self.sent))?;
        writeln!(w, "# TYPE email_failed_total counter")?;
        writeln!(w, "email_failed_total {}", load_u(&self.failed))?;
        writeln!(w, "# TYPE email_released_total counter")?;
        writeln!(w, "email_released_total {}", load_u(&self.released))?;
        writeln!(w, "# TYPE email_send_attempts_total counter")?;
        writeln!(w, "email_send_attempts_total {}", load_u(&self.attempts))?;
        writeln!(w, "# TYPE email_send_failures_total counter")?;
        writeln!(
            w,
            "email_send_failures_total {}",
            load_u(&self.attempt_fails)
        )?;
        writeln!(w, "# TYPE email_sending gauge")?;
        writeln!(w, "email_sending {}", load_i(&self.sending))?;
        writeln!(w, "# TYPE email_buffered gauge")?;
        writeln!(w, "email_buffered {}", load_i(&self.buffered))
    }
}
