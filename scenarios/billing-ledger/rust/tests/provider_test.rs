use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use ledger::metrics::Metrics;
use ledger::provider::{Client, Options, ProviderError, Request};

/// Serves `app` on 127.0.0.1:0 for the rest of the test; returns its base URL.
async fn serve(app: Router) -> String {
    let ln = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", ln.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(ln, app).await.unwrap() });
    url
}

/// Answers attempt n (1-based) with `statuses[n-1]`, or the last status once
/// the list runs out; a 200 carries {"id":"pch_1"}. It counts calls.
async fn fake_provider(statuses: &'static [u16]) -> (String, Arc<AtomicI64>) {
    let calls = Arc::new(AtomicI64::new(0));
    let counter = calls.clone();
    let app = Router::new().route(
        "/v1/charges",
        post(move || {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst) as usize + 1;
                let status = statuses[n.min(statuses.len()) - 1];
                let body = if status == 200 {
                    r#"{"id":"pch_1","status":"succeeded"}"#
                } else {
                    r#"{"error":"nope"}"#
                };
                (
                    StatusCode::from_u16(status).unwrap(),
                    [("Content-Type", "application/json")],
                    body,
                )
            }
        }),
    );
    (serve(app).await, calls)
}

/// A client with a generous timeout (nothing here is slow) and a 1 ms backoff
/// so retries cost no real time.
fn new_client(url: &str, m: Arc<Metrics>) -> Client {
    Client::new(
        Options {
            base_url: url.to_string(),
            timeout: Duration::from_secs(5),
            max_attempts: 3,
            backoff: Duration::from_millis(1),
        },
        m,
    )
}

fn sample_request() -> Request {
    Request {
        reference: "ch_0123456789abcdef".to_string(),
        account: "acct_1".to_string(),
        amount_cents: 1500,
        currency: "usd".to_string(),
    }
}

#[tokio::test]
async fn provider_charge_success() {
    let got: Arc<Mutex<Option<(HeaderMap, String)>>> = Arc::default();
    let seen = got.clone();
    let app = Router::new().route(
        "/v1/charges",
        post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                *seen.lock().unwrap() = Some((headers, body));
                r#"{"id":"pch_42","status":"succeeded"}"#
            }
        }),
    );
    let url = serve(app).await;

    let id = new_client(&url, Arc::new(Metrics::new()))
        .charge("ledger-ch_0123456789abcdef", &sample_request())
        .await
        .unwrap();
    assert_eq!(id, "pch_42", "provider charge id");

    let (headers, body) = got.lock().unwrap().take().expect("provider not called");
    assert_eq!(
        headers.get("Content-Type").map(|v| v.as_bytes()),
        Some(&b"application/json"[..]),
        "Content-Type"
    );
    let body: Request = serde_json::from_str(&body).unwrap();
    assert_eq!(body, sample_request(), "provider got body");
}

#[tokio::test]
async fn provider_retries_503_then_succeeds() {
    let (url, calls) = fake_provider(&[503, 200]).await;
    let m = Arc::new(Metrics::new());
    let id = new_client(&url, m.clone())
        .charge("ledger-ch_1", &sample_request())
        .await
        .unwrap();
    assert_eq!(
        (id.as_str(), calls.load(Ordering::SeqCst)),
        ("pch_1", 2),
        "id and provider calls"
    );
    assert_eq!(
        (m.provider_calls(), m.provider_failures()),
        (2, 1),
        "metrics: calls, failures"
    );
}

#[tokio::test]
async fn provider_does_not_retry_400() {
    let (url, calls) = fake_provider(&[400, 200]).await;
    let err = new_client(&url, Arc::new(Metrics::new()))
        .charge("ledger-ch_1", &sample_request())
        .await;
    assert!(
        matches!(err, Err(ProviderError::Unavailable(_))),
        "error = {err:?}, want Unavailable"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "provider calls");
}

#[tokio::test]
async fn provider_gives_up_after_max_attempts() {
    let (url, calls) = fake_provider(&[500]).await;
    let m = Arc::new(Metrics::new());
    let err = new_client(&url, m.clone())
        .charge("ledger-ch_1", &sample_request())
        .await;
    assert!(
        matches!(err, Err(ProviderError::Unavailable(_))),
        "error = {err:?}, want Unavailable"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3, "provider calls");
    assert_eq!(
        (m.provider_calls(), m.provider_failures()),
        (3, 3),
        "metrics: calls, failures"
    );
}
