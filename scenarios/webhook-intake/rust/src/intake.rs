//! The webhook flow: verify, parse, deduplicate, persist, queue.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::logging;
use crate::metrics::Metrics;
use crate::signature::{SignatureError, Verifier};
use crate::store::{Event, Store, StoreError, STATUS_PENDING};
use crate::worker::Pool;

/// Why a webhook was not taken.
#[derive(Debug)]
pub enum Error {
    Signature(SignatureError),
    /// The body is not an event the service understands.
    InvalidEvent,
    Store(StoreError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Signature(err) => err.fmt(f),
            Error::InvalidEvent => f.write_str("invalid event"),
            Error::Store(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

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
    /// `body` the raw body it signs. A new event is persisted before it is
    /// queued, so once `receive` returns it survives a crash.
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
        received_at: logging::rfc3339_seconds(now as i64),
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
