//! The ingest flow: parse, quota, batch; the flush of a batch to the store
//! and the archive; queries; periodic housekeeping.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::archive;
use crate::batch::{BatchError, Batcher};
use crate::metrics::Metrics;
use crate::parse;
use crate::quota::Limiter;
use crate::store::{Line, Store, StoreError};

/// Formats of a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Ndjson,
    Plain,
}

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid tenant")]
    InvalidTenant,
    /// The tenant is over its quota.
    #[error("quota exceeded")]
    Quota { retry_after: Duration },
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The answer to an accepted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub accepted: usize,
    pub rejected: usize,
}

/// Wires the parser, the limiter, the batcher and the store.
pub struct Service {
    max_line: usize,
    quotas: Limiter,
    batcher: Arc<Batcher>,
    store: Arc<Store>,
    archive: archive::Client,
    metrics: Arc<Metrics>,
}

impl Service {
    pub fn new(
        max_line: usize,
        quotas: Limiter,
        batcher: Arc<Batcher>,
        store: Arc<Store>,
        archive: archive::Client,
        metrics: Arc<Metrics>,
    ) -> Service {
        Service {
            max_line,
            quotas,
            batcher,
            store,
            archive,
            metrics,
        }
    }

    /// Parses `body`, charges the tenant's quota and queues the good lines.
    /// Bad lines are counted and skipped; the good ones are kept all or none.
    pub fn ingest(&self, tenant: &str, format: Format, body: &[u8]) -> Result<Receipt, Error> {
        if !parse::valid_tenant(tenant) {
            return Err(Error::InvalidTenant);
        }
        let res = match format {
            Format::Plain => parse::plain(body, self.max_line),
            Format::Ndjson => parse::ndjson(body, self.max_line),
        };
        self.metrics.lines_rejected(res.rejected);
        if res.rejected > 0 {
            tracing::warn!(tenant, count = res.rejected, "lines rejected");
        }
        let n = res.lines.len();
        if n == 0 {
            return Ok(Receipt {
                accepted: 0,
                rejected: res.rejected,
            });
        }
        let now = Instant::now();
        if let Err(retry_after) = self.quotas.allow(tenant, n, now) {
            self.metrics.lines_dropped("quota", n);
            tracing::warn!(tenant, lines = n, "quota exceeded");
            return Err(Error::Quota { retry_after });
        }
        let ts = rfc3339_millis(SystemTime::now());
        let lines = res
            .lines
            .into_iter()
            .map(|l| Line {
                tenant: tenant.to_string(),
                ts: ts.clone(),
                level: l.level,
                msg: l.msg,
            })
            .collect();
        if let Err(err) = self.batcher.add(lines, now) {
            self.quotas.refund(tenant, n);
            self.metrics.lines_dropped("overload", n);
            tracing::warn!(tenant, lines = n, error = %err, "lines dropped");
            return Err(err.into());
        }
        self.metrics.lines_accepted(n);
        Ok(Receipt {
            accepted: n,
            rejected: res.rejected,
        })
    }

    /// `tenant`'s newest lines whose message contains `q`.
    pub fn query(&self, tenant: &str, q: &str, limit: usize) -> Result<Vec<Line>, Error> {
        if !parse::valid_tenant(tenant) {
            return Err(Error::InvalidTenant);
        }
        Ok(self.store.query(tenant, q, limit)?)
    }

    /// Writes one batch to the store, then ships it to the archive. The
    /// store is the source of truth for queries: an archive failure is
    /// logged and counted, not retried.
    pub async fn flush(&self, lines: Vec<Line>) {
        let start = Instant::now();
        if let Err(err) = self.store.insert_batch(&lines) {
            tracing::error!(lines = lines.len(), error = %err, "flush failed");
            return;
        }
        self.metrics.batch_flushed(lines.len());
        if let Err(err) = self.archive.send(&lines).await {
            self.metrics.archive_failed();
            tracing::warn!(lines = lines.len(), error = %err, "archive failed");
        }
        tracing::info!(
            lines = lines.len(),
            duration_ms = start.elapsed().as_millis() as u64,
            "batch flushed"
        );
    }

    /// Runs on every tick: seals a batch that waited long enough and
    /// forgets tenants whose quota window is over.
    pub fn housekeep(&self, now: Instant) {
        let n = self.batcher.flush_aged(now);
        if n > 0 {
            tracing::info!(lines = n, reason = "age", "batch sealed");
        }
        self.quotas.sweep(now);
    }
}

/// `t` as RFC 3339 in UTC, milliseconds precision
/// (`2026-12-01T10:00:00.000Z`).
fn rfc3339_millis(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-from-civil, inverted.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}
