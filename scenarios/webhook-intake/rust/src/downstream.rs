//! The client of the service events are forwarded to.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::store::Event;

/// Configures a [`Client`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Without the trailing slash.
    pub base_url: String,
    /// Per attempt: connect, headers and body.
    pub timeout: Duration,
    /// The first attempt included.
    pub max_attempts: u32,
    /// Base of the exponential backoff.
    pub backoff: Duration,
}

/// Why an attempt, or the whole delivery, failed.
#[derive(Debug, thiserror::Error)]
pub enum DownstreamError {
    /// A non-2xx answer from the downstream.
    #[error("downstream answered {0}")]
    Status(u16),
    /// No answer: connecting failed, the time ran out, the connection broke.
    #[error(transparent)]
    Request(reqwest::Error),
    /// The answer's body could not be read.
    #[error("read downstream response")]
    ReadBody(#[source] reqwest::Error),
    /// Shutdown interrupted the backoff.
    #[error("shutting down")]
    Stopped,
}

/// Shows an error with its sources, joined with ": " (reqwest's own message
/// alone hides whether it was a timeout or a refused connection).
pub struct Chain<'a>(pub &'a dyn std::error::Error);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Whether another attempt may succeed. A 4xx means the downstream rejected
/// the event itself, so repeating it is pointless; network errors, timeouts
/// and 5xx may be transient.
pub fn retryable(err: &DownstreamError) -> bool {
    match err {
        DownstreamError::Status(code) => !(400..=499).contains(code),
        _ => true,
    }
}

/// Delivers events downstream with retries.
pub struct Client {
    http: reqwest::Client,
    url: String,
    timeout: Duration,
    max_attempts: u32,
    backoff: Duration,
    metrics: Arc<Metrics>,
}

impl Client {
    /// The reqwest client deliberately has no timeout: the deadline is set
    /// per attempt on the request (see `attempt`).
    pub fn new(opts: Options, metrics: Arc<Metrics>) -> Client {
        Client {
            http: reqwest::Client::new(),
            url: format!("{}/events", opts.base_url),
            timeout: opts.timeout,
            max_attempts: opts.max_attempts,
            backoff: opts.backoff,
            metrics,
        }
    }

    /// Sends `ev` downstream, retrying as the README says, and returns how
    /// many attempts it made with the outcome. `stop` is cancelled on
    /// shutdown: the backoff stops and the delivery ends with `Stopped`; an
    /// attempt already on the wire runs to its own timeout.
    pub async fn deliver(
        &self,
        ev: &Event,
        stop: &CancellationToken,
    ) -> (u32, Result<(), DownstreamError>) {
        let mut attempt = 1;
        loop {
            let result = self.attempt(ev).await;
            self.metrics.downstream_attempt(result.is_err());
            let err = match result {
                Ok(()) => return (attempt, Ok(())),
                Err(err) => err,
            };
            tracing::warn!(
                event_id = %ev.id,
                attempt,
                error = %Chain(&err),
                "downstream attempt failed"
            );
            if attempt >= self.max_attempts || !retryable(&err) {
                return (attempt, Err(err));
            }
            // Back off before the next attempt; shutdown cuts the wait short.
            let wait = tokio::time::sleep(self.backoff_after(attempt));
            tokio::select! {
                () = stop.cancelled() => return (attempt, Err(DownstreamError::Stopped)),
                () = wait => {}
            }
            attempt += 1;
        }
    }

    /// Makes one downstream call. The request's timeout covers the whole
    /// attempt: connecting, the response headers and reading the body.
    async fn attempt(&self, ev: &Event) -> Result<(), DownstreamError> {
        let mut resp = self
            .http
            .post(&self.url)
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "application/json")
            .header("Event-Id", &ev.id)
            .body(ev.payload.clone())
            .send()
            .await
            .map_err(DownstreamError::Request)?;
        // Drain (bounded) so the connection can be reused.
        let mut read = 0;
        while let Some(chunk) = resp.chunk().await.map_err(DownstreamError::ReadBody)? {
            read += chunk.len();
            if read >= 1 << 20 {
                break;
            }
        }
        let status = resp.status().as_u16();
        if !(200..=299).contains(&status) {
            return Err(DownstreamError::Status(status));
        }
        Ok(())
    }

    /// The sleep after `n` failed attempts, before attempt n+1: with
    /// c = base * 2^(n-1), a random duration in `[c/2, c]` ("equal jitter").
    /// The jitter keeps failing events from retrying in lockstep; the floor
    /// keeps a struggling downstream from being hit again within
    /// milliseconds.
    pub fn backoff_after(&self, n: u32) -> Duration {
        // The cap keeps the shift from overflowing.
        let ceiling = self.backoff.as_nanos() << n.saturating_sub(1).min(30);
        let ceiling = u64::try_from(ceiling).unwrap_or(u64::MAX);
        let half = ceiling / 2;
        if half == 0 {
            return Duration::from_nanos(ceiling);
        }
        Duration::from_nanos(rand::random_range(half..=ceiling))
    }
}
