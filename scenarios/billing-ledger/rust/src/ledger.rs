//! The charge flow: validate, replay, limit, provider, record.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::metrics::Metrics;
use crate::provider::{self, Client};
use crate::store::{Account, Charge, Store, StoreError};

/// Errors the HTTP layer maps to status codes; the texts are the API's.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad request; its message is returned to the client.
    #[error("{0}")]
    Validation(&'static str),
    /// Same idempotency key, different request.
    #[error("idempotency key reused with a different request")]
    Conflict,
    #[error("balance limit exceeded")]
    LimitExceeded,
    /// No provider attempt succeeded (the provider client logged why).
    #[error("payment provider unavailable")]
    ProviderUnavailable,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The provider charged but the charge could not be recorded.
    #[error("record charge {id}: {source}")]
    Record { id: String, source: StoreError },
    /// The task running the charge flow failed.
    #[error("charge task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A validated-on-use charge request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub idempotency_key: String,
    pub account: String,
    pub amount_cents: i64,
    pub currency: String,
}

const MAX_AMOUNT_CENTS: i64 = 100_000_000;

/// Checks an Idempotency-Key header: 1..=128 printable ASCII characters
/// (0x21..0x7E). It is public because the HTTP layer must check the header
/// before it even parses the body.
pub fn validate_key(key: &str) -> Result<(), Error> {
    if key.is_empty() || key.len() > 128 {
        return Err(Error::Validation(
            "missing or invalid Idempotency-Key header",
        ));
    }
    if !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(Error::Validation(
            "missing or invalid Idempotency-Key header",
        ));
    }
    Ok(())
}

impl Request {
    /// Checks the request in the README's order.
    pub fn validate(&self) -> Result<(), Error> {
        validate_key(&self.idempotency_key)?;
        // ^[A-Za-z0-9_-]{1,64}$
        if self.account.is_empty()
            || self.account.len() > 64
            || !self
                .account
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(Error::Validation("invalid account"));
        }
        if self.amount_cents < 1 || self.amount_cents > MAX_AMOUNT_CENTS {
            return Err(Error::Validation("invalid amount_cents"));
        }
        // ^[a-z]{3}$
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(Error::Validation("invalid currency"));
        }
        Ok(())
    }
}

/// Runs the charge flow.
pub struct Service {
    store: Arc<Store>,
    provider: Client,
    metrics: Arc<Metrics>,
    max_balance: i64,
    keys: KeyLocks,
}

impl Service {
    pub fn new(
        store: Arc<Store>,
        provider: Client,
        metrics: Arc<Metrics>,
        max_balance_cents: i64,
    ) -> Service {
        Service {
            store,
            provider,
            metrics,
            max_balance: max_balance_cents,
            keys: KeyLocks::default(),
        }
    }

    /// Runs one charge. The bool (replayed) is true when the answer is a
    /// charge recorded earlier under the same idempotency key.
    pub async fn charge(self: &Arc<Self>, req: Request) -> Result<(Charge, bool), Error> {
        req.validate()?;
        // Once the provider may have charged, the charge must be recorded even
        // if the client hangs up, so the flow runs in its own task: dropping
        // this future (hyper does when the client goes away) does not cancel
        // it. Each provider attempt still has its own timeout.
        let svc = Arc::clone(self);
        tokio::spawn(async move { svc.charge_flow(req).await }).await?
    }

    async fn charge_flow(&self, req: Request) -> Result<(Charge, bool), Error> {
        // A second request with this key waits here, then finds the first
        // one's charge and replays it instead of charging again.
        let _key = self.keys.lock(&req.idempotency_key).await;

        match self.store.charge_by_key(&req.idempotency_key) {
            Ok(prior) => return self.replay(prior, &req),
            Err(StoreError::NotFound) => {}
            Err(err) => return Err(err.into()),
        }

        let balance = self.store.balance(&req.account)?;
        if balance + req.amount_cents > self.max_balance {
            return Err(Error::LimitExceeded);
        }

        let id = new_charge_id();
        let provider_id = match self
            .provider
            .charge(
                &format!("ledger-{id}"),
                &provider::Request {
                    reference: id.clone(),
                    account: req.account.clone(),
                    amount_cents: req.amount_cents,
                    currency: req.currency.clone(),
                },
            )
            .await
        {
            Ok(provider_id) => provider_id,
            Err(_) => return Err(Error::ProviderUnavailable),
        };

        let mut ch = Charge {
            id: id.clone(),
            idempotency_key: req.idempotency_key.clone(),
            account: req.account.clone(),
            amount_cents: req.amount_cents,
            currency: req.currency.clone(),
            status: "succeeded".to_string(),
            provider_charge_id: provider_id,
            created_at: now_rfc3339(),
            ..Charge::default()
        };
        if let Err(err) = self.store.record_charge(&mut ch) {
            // A concurrent request with the same key may have recorded first;
            // answer as its replay rather than failing.
            if let Ok(prior) = self.store.charge_by_key(&req.idempotency_key) {
                return self.replay(prior, &req);
            }
            return Err(Error::Record { id, source: err });
        }
        self.metrics.charge_created();
        tracing::info!(
            charge_id = %ch.id,
            account = %ch.account,
            amount_cents = ch.amount_cents,
            balance_cents = ch.balance_cents,
            "charge created"
        );
        Ok((ch, false))
    }

    /// Answers a request whose key already has a recorded charge.
    fn replay(&self, prior: Charge, req: &Request) -> Result<(Charge, bool), Error> {
        if prior.account != req.account
            || prior.amount_cents != req.amount_cents
            || prior.currency != req.currency
        {
            return Err(Error::Conflict);
        }
        tracing::info!(
            charge_id = %prior.id,
            idempotency_key = %req.idempotency_key,
            "idempotent replay"
        );
        Ok((prior, true))
    }

    /// A charge by id (`StoreError::NotFound` if unknown).
    pub fn get_charge(&self, id: &str) -> Result<Charge, StoreError> {
        self.store.get_charge(id)
    }

    /// An account (`StoreError::NotFound` if unknown).
    pub fn account(&self, id: &str) -> Result<Account, StoreError> {
        self.store.account(id)
    }
}

/// One lock per idempotency key in use, so requests with the same key run
/// one at a time.
#[derive(Default)]
struct KeyLocks {
    held: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

impl KeyLocks {
    /// Locks `key` until the guard is dropped.
    async fn lock(&self, key: &str) -> KeyGuard<'_> {
        let lock = Arc::clone(self.held().entry(key.to_string()).or_default());
        KeyGuard {
            locks: self,
            key: key.to_string(),
            guard: Some(lock.lock_owned().await),
        }
    }

    fn held(&self) -> MutexGuard<'_, HashMap<String, Arc<AsyncMutex<()>>>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A locked key; dropping it unlocks the key and forgets it once no other
/// request holds or waits for it.
struct KeyGuard<'a> {
    locks: &'a KeyLocks,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        let mut held = self.locks.held();
        drop(self.guard.take());
        if held
            .get(&self.key)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            held.remove(&self.key);
        }
    }
}

/// "ch_" + 16 random lowercase hex digits.
fn new_charge_id() -> String {
    format!("ch_{:016x}", rand::random::<u64>())
}

/// Now, RFC 3339 UTC with seconds precision (`2026-11-27T10:00:00Z`).
fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    crate::logging::rfc3339_seconds(secs)
}
