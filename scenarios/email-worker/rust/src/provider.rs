//! The client of the external mail provider.

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::metrics::Metrics;

/// The body sent to the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Our email id.
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Configures a [`Client`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Without the trailing slash.
    pub base_url: String,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// The first attempt included.
    pub max_attempts: u32,
    /// Base of the exponential backoff.
    pub backoff: Duration,
    /// Sends per second for the whole process; 0: unlimited.
    pub rate_per_sec: u32,
}

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// A non-2xx answer from the provider.
    #[error("provider answered {0}")]
    Status(u16),
    /// The request failed: a network error or a timeout.
    #[error("{}", error_chain(.0))]
    Request(#[source] reqwest::Error),
    /// The answer could not be read.
    #[error("read provider response: {}", error_chain(.0))]
    Read(#[source] reqwest::Error),
    /// The message could not be encoded.
    #[error("encode message: {0}")]
    Encode(#[from] serde_json::Error),
    /// `max_attempts` was zero.
    #[error("no attempt made")]
    NoAttempt,
}

/// Whether another attempt may succeed. A 4xx other than 429 means the
/// provider rejected the message itself, so repeating it is pointless;
/// network errors, timeouts, 429 and 5xx may be transient.
fn retryable(err: &ProviderError) -> bool {
    match err {
        ProviderError::Status(code) => *code == 429 || !(400..=499).contains(code),
        _ => true,
    }
}

/// Sends mail through the provider with retries and pacing.
pub struct Client {
    http: reqwest::Client,
    url: String,
    timeout: Duration,
    max_attempts: u32,
    backoff: Duration,
    /// Between two sends; zero: unlimited.
    interval: Duration,
    metrics: Arc<Metrics>,

    /// When the next send may start.
    next_slot: Mutex<Instant>,
}

impl Client {
    /// The reqwest client deliberately has no timeout: the deadline is set
    /// per attempt on the request (see `attempt`).
    pub fn new(opts: Options, metrics: Arc<Metrics>) -> Client {
        let interval = match opts.rate_per_sec {
            0 => Duration::ZERO,
            rate => Duration::from_secs(1) / rate,
        };
        Client {
            http: reqwest::Client::new(),
            url: format!("{}/v1/messages", opts.base_url),
            timeout: opts.timeout,
            max_attempts: opts.max_attempts,
            backoff: opts.backoff,
            interval,
            metrics,
            next_slot: Mutex::new(Instant::now()),
        }
    }

    /// Delivers `msg`, retrying as the README says, and returns how many
    /// attempts it made with the outcome. Every attempt carries
    /// `msg.message_id` as its Idempotency-Key, so the provider delivers a
    /// retried message once. Dropping the future abandons the send.
    pub async fn send(&self, msg: &Message) -> (u32, Result<(), ProviderError>) {
        let body = match serde_json::to_vec(msg) {
            Ok(body) => body,
            Err(err) => return (0, Err(err.into())),
        };
        let mut last_err = ProviderError::NoAttempt;
        let mut attempts = 0;
        while attempts < self.max_attempts {
            if attempts > 0 {
                tokio::time::sleep(self.backoff_after(attempts)).await;
            }
            attempts += 1;
            let result = self.attempt(&msg.message_id, &body).await;
            self.metrics.send_attempt(result.is_err());
            let err = match result {
                Ok(()) => return (attempts, Ok(())),
                Err(err) => err,
            };
            tracing::warn!(
                email_id = %msg.message_id,
                attempt = attempts,
                error = %err,
                "send attempt failed"
            );
            let retry = retryable(&err);
            last_err = err;
            if !retry {
                break;
            }
        }
        (attempts, Err(last_err))
    }

    /// Waits for a send slot, then makes one provider call. The request's
    /// timeout covers the whole call: connecting, the response headers and
    /// reading the body.
    async fn attempt(&self, key: &str, body: &[u8]) -> Result<(), ProviderError> {
        self.pace().await;
        let mut resp = self
            .http
            .post(&self.url)
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", key)
            .body(body.to_vec())
            .send()
            .await
            .map_err(ProviderError::Request)?;
        let mut read = 0;
        while let Some(chunk) = resp.chunk().await.map_err(ProviderError::Read)? {
            read += chunk.len();
            if read >= 1 << 20 {
                break;
            }
        }
        let status = resp.status().as_u16();
        if !(200..=299).contains(&status) {
            return Err(ProviderError::Status(status));
        }
        Ok(())
    }

    /// Waits until the next send slot of the process-wide rate and takes it;
    /// callers get their slots in arrival order.
    async fn pace(&self) {
        if self.interval.is_zero() {
            return;
        }
        let mut next_slot = self.next_slot.lock().await;
        tokio::time::sleep_until(*next_slot).await;
        *next_slot = Instant::now() + self.interval;
    }

    /// The full-jitter sleep after `n` failed attempts, before attempt n+1: a
    /// random duration in `[0, base * 2^(n-1)]`. Full jitter keeps many
    /// failing sends from retrying in lockstep.
    fn backoff_after(&self, n: u32) -> Duration {
        // The cap keeps the shift from overflowing.
        let ceiling = self.backoff.as_nanos() << (n - 1).min(30);
        let ceiling = u64::try_from(ceiling).unwrap_or(u64::MAX);
        if ceiling == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(rand::random_range(0..=ceiling))
    }
}

/// `err` and its sources, joined with ": " (reqwest's own message alone
/// hides whether it was a timeout or a refused connection).
fn error_chain(err: &reqwest::Error) -> String {
    let mut msg = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        msg.push_str(": ");
        msg.push_str(&cause.to_string());
        source = cause.source();
    }
    msg
}
