//! The webhook flow, from a signed request to a queued event.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::metrics::Metrics;
use crate::signature::{SignatureError, Verifier};
use crate::store::{Event, Store, StoreError, STATUS_PENDING};
use crate::worker::Pool;

/// Why a webhook was not taken.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Signature(SignatureError),
    /// The body is not an event the service understands.
    #[error("invalid event")]
    InvalidEvent,
    #[error(transparent)]
    Store(StoreError),
}

/// What happened to a verified, well-formed webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub id: String,
    pub duplicate: bool,
}

/// Receives webhooks.
pub struct Service {
    verifier: Verifier,
    store: Arc<Store>,
    pool: Arc<Pool>,
    metrics: Arc<Metrics>,
}

impl Service {
    pub fn new(
        verifier: Verifier,
        store: Arc<Store>,
        pool: Arc<Pool>,
        metrics: Arc<Metrics>,
    ) -> Service {
        Service {
            verifier,
            store,
            pool,
            metrics,
        }
    }

    /// Handles one webhook: `sig_header` is the Webhook-Signature header,
    /// `body` the raw body it signs.
    pub async fn receive(&self, sig_header: &str, body: &[u8]) -> Result<Outcome, Error> {
        self.verifier
            .verify(sig_header, body, SystemTime::now())
            .map_err(Error::Signature)?;
        let ev = parse_event(body)?;

        let inserted = self.store.insert(&ev).map_err(Error::Store)?;
        if !inserted {
            self.metrics.event_duplicate();
            tracing::info!(event_id = %ev.id, "duplicate event");
            return Ok(Outcome {
                id: ev.id,
                duplicate: true,
            });
        }
        self.metrics.event_accepted();
        tracing::info!(event_id = %ev.id, r#type = %ev.kind, "event accepted");
        let id = ev.id.clone();
        // Not queued only when shutting down; the event is already durable
        // and is queued again at the next start.
        self.pool.submit(ev).await;
        Ok(Outcome {
            id,
            duplicate: false,
        })
    }

    /// The stored event with this id, or `StoreError::NotFound`.
    pub fn get(&self, id: &str) -> Result<Event, StoreError> {
        self.store.get(id)
    }
}

/// Reads the fields the service needs; the rest of the body is forwarded
/// untouched. A missing or null field fails to deserialize.
fn parse_event(body: &[u8]) -> Result<Event, Error> {
    #[derive(Deserialize)]
    struct Raw {
        id: String,
        #[serde(rename = "type")]
        kind: String,
    }
    let raw: Raw = serde_json::from_slice(body).map_err(|_| Error::InvalidEvent)?;
    if !valid_id(&raw.id) || raw.kind.is_empty() || raw.kind.len() > 128 {
        return Err(Error::InvalidEvent);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    Ok(Event {
        id: raw.id,
        kind: raw.kind,
        payload: body.to_vec(),
        status: STATUS_PENDING.to_string(),
        attempts: 0,
        received_at: rfc3339_seconds(now as i64),
    })
}

/// Accepts 1..=128 characters of `[A-Za-z0-9_-]`.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// `secs` since the Unix epoch as RFC 3339 in UTC, seconds precision
/// (`2026-11-27T10:00:00Z`).
fn rfc3339_seconds(secs: i64) -> String {
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
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
