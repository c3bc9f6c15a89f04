//! The service counters, rendered in the Prometheus text format.
//! Hand-rolled: eight series do not need a client library, and the output
//! is exactly the README's.

use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Safe for concurrent use.
#[derive(Default)]
pub struct Metrics {
    accepted: AtomicU64,
    rejected: AtomicU64,
    dropped_quota: AtomicU64,
    dropped_overload: AtomicU64,
    queue_depth: AtomicI64,
    batches: AtomicU64,
    lines_flushed: AtomicU64,
    archive_failures: AtomicU64,
}

fn add(a: &AtomicU64, n: usize) {
    a.fetch_add(n as u64, Ordering::Relaxed);
}

impl Metrics {
    /// Zeroed metrics.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Counts lines taken into a batch.
    pub fn lines_accepted(&self, n: usize) {
        add(&self.accepted, n);
    }

    /// Counts lines refused as malformed or too long.
    pub fn lines_rejected(&self, n: usize) {
        add(&self.rejected, n);
    }

    /// Counts valid lines refused, by reason ("quota", "overload").
    pub fn lines_dropped(&self, reason: &str, n: usize) {
        if reason == "quota" {
            add(&self.dropped_quota, n);
        } else {
            add(&self.dropped_overload, n);
        }
    }

    /// Sets the gauge of lines waiting to be written.
    pub fn set_queue_depth(&self, n: usize) {
        self.queue_depth.store(n as i64, Ordering::Relaxed);
    }

    /// Counts one batch written to the store.
    pub fn batch_flushed(&self, lines: usize) {
        add(&self.batches, 1);
        add(&self.lines_flushed, lines);
    }

    /// Counts one batch the archive did not take.
    pub fn archive_failed(&self) {
        add(&self.archive_failures, 1);
    }

    /// Writes every family in the Prometheus text format.
    pub fn write_text(&self, w: &mut impl fmt::Write) -> fmt::Result {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        write!(
            w,
            "# TYPE ingest_lines_accepted_total counter
ingest_lines_accepted_total {}
# TYPE ingest_lines_rejected_total counter
ingest_lines_rejected_total {}
# TYPE ingest_lines_dropped_total counter
ingest_lines_dropped_total{{reason=\"overload\"}} {}
ingest_lines_dropped_total{{reason=\"quota\"}} {}
# TYPE ingest_queue_depth gauge
ingest_queue_depth {}
# TYPE ingest_batches_flushed_total counter
ingest_batches_flushed_total {}
# TYPE ingest_lines_flushed_total counter
ingest_lines_flushed_total {}
# TYPE ingest_archive_failures_total counter
ingest_archive_failures_total {}
",
            load(&self.accepted),
            load(&self.rejected),
            load(&self.dropped_overload),
            load(&self.dropped_quota),
            self.queue_depth.load(Ordering::Relaxed),
            load(&self.batches),
            load(&self.lines_flushed),
            load(&self.archive_failures),
        )
    }
}
