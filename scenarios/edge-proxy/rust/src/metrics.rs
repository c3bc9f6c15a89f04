//! The proxy's counters, printed in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// The upper bounds, in seconds, of the time-to-head histogram
/// (Prometheus' default buckets).
const HEAD_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Safe for concurrent use. Per-upstream series are labelled by the
/// upstream's position in UPSTREAM_URLS, which is stable across restarts
/// and machines (a URL with a random port would not be).
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<u16, u64>,   // status → count
    failures: BTreeMap<usize, u64>, // upstream index → count
    // Time from a request's arrival to its response head: what a client
    // waits for its first byte.
    head_counts: [u64; HEAD_BUCKETS.len()], // per bucket, not cumulative
    head_sum: Duration,
    head_count: u64,
}

/// What the upstream pool reports for one upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamState {
    pub healthy: bool,
    pub in_flight: i64,
}

impl Metrics {
    /// Zeroed metrics.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Counts one client request by its status, when its response head is
    /// sent after `head`.
    pub fn request(&self, status: u16, head: Duration) {
        let mut inner = self.lock();
        *inner.requests.entry(status).or_default() += 1;
        if let Some(i) = HEAD_BUCKETS.iter().position(|le| head.as_secs_f64() <= *le) {
            inner.head_counts[i] += 1;
        }
        inner.head_sum += head;
        inner.head_count += 1;
    }

    /// Counts one failed call to an upstream (refused, reset, timed out; an
    /// answer of any status is not a failure).
    pub fn upstream_failure(&self, upstream: usize) {
        *self.lock().failures.entry(upstream).or_default() += 1;
    }

    /// Renders every family; `upstreams` comes from the pool at render time.
    pub fn text(&self, upstreams: &[UpstreamState]) -> String {
        let inner = self.lock();
        let mut b = String::new();
        b.push_str("# TYPE proxy_requests_total counter\n");
        for (status, n) in &inner.requests {
            let _ = writeln!(b, "proxy_requests_total{{status=\"{status}\"}} {n}");
        }
        b.push_str("# TYPE proxy_response_head_seconds histogram\n");
        let mut cumulative = 0;
        for (i, le) in HEAD_BUCKETS.iter().enumerate() {
            cumulative += inner.head_counts[i];
            let _ = writeln!(
                b,
                "proxy_response_head_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            b,
            "proxy_response_head_seconds_bucket{{le=\"+Inf\"}} {}",
            inner.head_count
        );
        let _ = writeln!(
            b,
            "proxy_response_head_seconds_sum {:.6}",
            inner.head_sum.as_secs_f64()
        );
        let _ = writeln!(b, "proxy_response_head_seconds_count {}", inner.head_count);
        b.push_str("# TYPE proxy_upstream_healthy gauge\n");
        for (i, u) in upstreams.iter().enumerate() {
            let _ = writeln!(
                b,
                "proxy_upstream_healthy{{upstream=\"{i}\"}} {}",
                u8::from(u.healthy)
            );
        }
        b.push_str("# TYPE proxy_upstream_in_flight gauge\n");
        for (i, u) in upstreams.iter().enumerate() {
            let _ = writeln!(
                b,
                "proxy_upstream_in_flight{{upstream=\"{i}\"}} {}",
                u.in_flight
            );
        }
        b.push_str("# TYPE proxy_upstream_failures_total counter\n");
        for i in 0..upstreams.len() {
            let n = inner.failures.get(&i).copied().unwrap_or(0);
            let _ = writeln!(b, "proxy_upstream_failures_total{{upstream=\"{i}\"}} {n}");
        }
        b
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while counting leaves consistent counters: keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
