//! The client of the external payment provider.

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;

/// The body sent to the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Our charge id.
    pub reference: String,
    pub account: String,
    pub amount_cents: i64,
    pub currency: String,
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
}

/// Why an attempt, or the whole call, failed.
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
    /// A 2xx answer without a charge id.
    #[error("provider response has no charge id")]
    NoChargeId,
    /// The request could not be encoded.
    #[error("encode request: {0}")]
    Encode(#[from] serde_json::Error),
    /// `max_attempts` was zero.
    #[error("no attempt made")]
    NoAttempt,
    /// No attempt succeeded; holds the last attempt's error.
    #[error("payment provider unavailable: {0}")]
    Unavailable(#[source] Box<ProviderError>),
}

/// Whether another attempt may succeed. A 4xx means the provider rejected
/// the request itself, so repeating it is pointless; network errors,
/// timeouts, 5xx and malformed answers may be transient.
fn retryable(err: &ProviderError) -> bool {
    match err {
        ProviderError::Status(code) => !(400..=499).contains(code),
        _ => true,
    }
}

/// Charges through the provider with retries.
pub struct Client {
    http: reqwest::Client,
    url: String,
    timeout: Duration,
    max_attempts: u32,
    backoff: Duration,
    metrics: Arc<Metrics>,
}

impl Client {
    /// Returns a Client.
    pub fn new(opts: Options, metrics: Arc<Metrics>) -> Client {
        Client {
            http: reqwest::Client::new(),
            url: format!("{}/v1/charges", opts.base_url),
            timeout: opts.timeout,
            max_attempts: opts.max_attempts,
            backoff: opts.backoff,
            metrics,
        }
    }

    /// Charges `req` through the provider, retrying as the README says, and
    /// returns the provider's charge id. `key` is the provider idempotency key.
    pub async fn charge(&self, key: &str, req: &Request) -> Result<String, ProviderError> {
        let body = serde_json::to_vec(req)?;
        let mut last_err = ProviderError::NoAttempt;
        let mut attempts = 0;
        while attempts < self.max_attempts {
            if attempts > 0 {
                tokio::time::sleep(self.backoff_after(attempts)).await;
            }
            attempts += 1;
            // The same key on every attempt: if an attempt timed out after the
            // provider charged, the retry gets that charge back, not a new one.
            let result = self.attempt(key, &body).await;
            self.metrics.provider_attempt(result.is_err());
            let err = match result {
                Ok(id) => return Ok(id),
                Err(err) => err,
            };
            tracing::warn!(
                charge_id = %req.reference,
                attempt = attempts,
                error = %err,
                "provider attempt failed"
            );
            let retry = retryable(&err);
            last_err = err;
            if !retry {
                break;
            }
        }
        tracing::error!(
            charge_id = %req.reference,
            attempts,
            error = %last_err,
            "provider call failed"
        );
        Err(ProviderError::Unavailable(Box::new(last_err)))
    }

    /// Makes one provider call and returns the provider's charge id.
    async fn attempt(&self, key: &str, body: &[u8]) -> Result<String, ProviderError> {
        let mut resp = self
            .http
            .post(&self.url)
            // The deadline bounds the whole attempt, body included (the
            // reqwest client has no timeout), and ends with this attempt.
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", key)
            .body(body.to_vec())
            .send()
            .await
            .map_err(ProviderError::Request)?;
        let mut data = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(ProviderError::Read)? {
            data.extend_from_slice(&chunk);
            if data.len() >= 1 << 20 {
                data.truncate(1 << 20);
                break;
            }
        }
        let status = resp.status().as_u16();
        if !(200..=299).contains(&status) {
            return Err(ProviderError::Status(status));
        }
        #[derive(Deserialize)]
        struct Out {
            #[serde(default)]
            id: String,
        }
        match serde_json::from_slice::<Out>(&data) {
            Ok(out) if !out.id.is_empty() => Ok(out.id),
            _ => Err(ProviderError::NoChargeId),
        }
    }

    /// The full-jitter sleep after `n` failed attempts, before attempt n+1: a
    /// random duration in `[0, base * 2^(n-1)]`. Full jitter keeps many
    /// failing charges from retrying in lockstep.
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
