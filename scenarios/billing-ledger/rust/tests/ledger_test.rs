use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use ledger::ledger::{Error, Request, Service};
use ledger::metrics::Metrics;
use ledger::provider::{self, Client};
use ledger::store::{Store, StoreError};

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ledger-ledger-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        // A directory of this name can only be left over from a dead process
        // whose pid this one reuses (a killed test run): start from empty.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Fixture {
    svc: Arc<Service>,
    store: Arc<Store>,
    /// Provider calls.
    calls: Arc<AtomicI64>,
    _dir: TempDir,
}

/// Wires a Service to a temp database and a fake provider that answers every
/// call with `status` (200 → a fresh "pch_<n>" id).
async fn new_fixture(max_balance: i64, status: u16) -> Fixture {
    let calls = Arc::new(AtomicI64::new(0));
    let counter = calls.clone();
    let app = Router::new().route(
        "/v1/charges",
        post(move || {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                let body = if status == 200 {
                    format!(r#"{{"id":"pch_{n}","status":"succeeded"}}"#)
                } else {
                    String::new()
                };
                (StatusCode::from_u16(status).unwrap(), body)
            }
        }),
    );
    let ln = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", ln.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(ln, app).await.unwrap() });

    let dir = TempDir::new();
    let st = Arc::new(Store::open(dir.0.join("ledger.db")).unwrap());

    let m = Arc::new(Metrics::new());
    let pc = Client::new(
        provider::Options {
            base_url: url,
            timeout: Duration::from_secs(5),
            max_attempts: 2,
            backoff: Duration::from_millis(1),
        },
        m.clone(),
    );
    Fixture {
        svc: Arc::new(Service::new(st.clone(), pc, m, max_balance)),
        store: st,
        calls,
        _dir: dir,
    }
}

fn charge(key: &str, account: &str, amount: i64) -> Request {
    Request {
        idempotency_key: key.to_string(),
        account: account.to_string(),
        amount_cents: amount,
        currency: "usd".to_string(),
    }
}

#[tokio::test]
async fn charges_accumulate_balance() {
    let f = new_fixture(100000000, 200).await;
    let mut balances = Vec::new();
    for (i, amount) in [1500, 2500, 1000].into_iter().enumerate() {
        let (ch, replayed) = f
            .svc
            .charge(charge(&format!("key-{i}"), "acct_1", amount))
            .await
            .unwrap_or_else(|err| panic!("charge {i}: {err}"));
        assert!(!replayed, "charge {i}: replayed");
        balances.push(ch.balance_cents);
    }
    assert_eq!(balances, [1500, 4000, 5000], "balances after each charge");
    let acct = f.svc.account("acct_1").unwrap();
    assert_eq!(
        (acct.balance_cents, acct.charges),
        (5000, 3),
        "account = {acct:?}, want balance 5000 and 3 charges"
    );
}

#[tokio::test]
async fn replay_returns_same_charge() {
    let f = new_fixture(100000000, 200).await;
    let (first, replayed) = f.svc.charge(charge("key-1", "acct_1", 1500)).await.unwrap();
    assert!(!replayed, "first charge: replayed");
    let (again, replayed) = f.svc.charge(charge("key-1", "acct_1", 1500)).await.unwrap();
    assert!(replayed, "second charge: want a replay");
    assert_eq!(again, first, "replay");
    assert_eq!(f.calls.load(Ordering::SeqCst), 1, "provider calls");
    assert_eq!(f.store.balance("acct_1").unwrap(), 1500, "balance");
}

#[tokio::test]
async fn reused_key_with_different_request_conflicts() {
    let f = new_fixture(100000000, 200).await;
    f.svc.charge(charge("key-1", "acct_1", 1500)).await.unwrap();
    for req in [
        charge("key-1", "acct_1", 1600),
        charge("key-1", "acct_2", 1500),
        Request {
            idempotency_key: "key-1".to_string(),
            account: "acct_1".to_string(),
            amount_cents: 1500,
            currency: "eur".to_string(),
        },
    ] {
        let res = f.svc.charge(req.clone()).await;
        assert!(
            matches!(res, Err(Error::Conflict)),
            "charge({req:?}) = {res:?}, want Conflict"
        );
    }
    assert_eq!(f.calls.load(Ordering::SeqCst), 1, "provider calls");
}

#[tokio::test]
async fn balance_limit_exceeded() {
    let f = new_fixture(2000, 200).await;
    f.svc.charge(charge("key-1", "acct_1", 1500)).await.unwrap();
    let res = f.svc.charge(charge("key-2", "acct_1", 501)).await;
    assert!(
        matches!(res, Err(Error::LimitExceeded)),
        "got {res:?}, want LimitExceeded"
    );
    // Reaching the limit exactly is allowed.
    let (ch, _) = f.svc.charge(charge("key-3", "acct_1", 500)).await.unwrap();
    assert_eq!(ch.balance_cents, 2000, "charge to the limit: balance");
    assert_eq!(
        f.calls.load(Ordering::SeqCst),
        2,
        "provider calls (not for the refused charge)"
    );
}

#[tokio::test]
async fn provider_failure_records_nothing() {
    let f = new_fixture(100000000, 503).await;
    let res = f.svc.charge(charge("key-1", "acct_1", 1500)).await;
    assert!(
        matches!(res, Err(Error::ProviderUnavailable)),
        "got {res:?}, want ProviderUnavailable"
    );
    assert!(
        matches!(f.store.charge_by_key("key-1"), Err(StoreError::NotFound)),
        "charge_by_key should be NotFound"
    );
    assert!(
        matches!(f.store.account("acct_1"), Err(StoreError::NotFound)),
        "account should be NotFound"
    );
}
