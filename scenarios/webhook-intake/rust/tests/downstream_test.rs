use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use axum::Router;
use intake::downstream::{self, retryable, Client};
use intake::metrics::Metrics;
use intake::store::Event;
use tokio_util::sync::CancellationToken;

/// A fake downstream that answers the n-th call (1-based) with
/// `statuses[n-1]`, and 200 once the list is used up; it counts the calls.
async fn fake_downstream(statuses: &'static [u16]) -> (String, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let app = Router::new().route(
        "/events",
        post(move |uri: Uri, headers: HeaderMap| {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst) as usize + 1;
                assert_eq!(uri.path(), "/events");
                assert_eq!(headers.get("Event-Id").unwrap(), "evt_1");
                let code = statuses.get(n - 1).copied().unwrap_or(200);
                StatusCode::from_u16(code).unwrap()
            }
        }),
    );
    let ln = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", ln.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(ln, app).await.unwrap() });
    (url, calls)
}

fn new_client(url: &str, max_attempts: u32) -> Client {
    Client::new(
        downstream::Options {
            base_url: url.to_string(),
            timeout: Duration::from_secs(2),
            max_attempts,
            backoff: Duration::from_millis(1),
        },
        Arc::new(Metrics::new()),
    )
}

fn ev() -> Event {
    Event {
        id: "evt_1".to_string(),
        kind: "invoice.paid".to_string(),
        payload: br#"{"id":"evt_1"}"#.to_vec(),
        ..Event::default()
    }
}

#[tokio::test]
async fn deliver_retries_server_errors() {
    let (url, calls) = fake_downstream(&[503, 500]).await;
    let stop = CancellationToken::new();
    let (attempts, result) = new_client(&url, 5).deliver(&ev(), &stop).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!((attempts, calls.load(Ordering::SeqCst)), (3, 3));
}

#[tokio::test]
async fn deliver_does_not_retry_client_errors() {
    let (url, calls) = fake_downstream(&[422]).await;
    let stop = CancellationToken::new();
    let (attempts, result) = new_client(&url, 5).deliver(&ev(), &stop).await;
    let err = result.unwrap_err();
    assert!(!retryable(&err), "{err}");
    assert_eq!((attempts, calls.load(Ordering::SeqCst)), (1, 1));
}

#[tokio::test]
async fn deliver_gives_up_after_max_attempts() {
    let (url, calls) = fake_downstream(&[503, 503, 503, 503]).await;
    let stop = CancellationToken::new();
    let (attempts, result) = new_client(&url, 3).deliver(&ev(), &stop).await;
    assert!(result.is_err());
    assert_eq!((attempts, calls.load(Ordering::SeqCst)), (3, 3));
}

#[test]
fn backoff_stays_within_equal_jitter_bounds() {
    let c = Client::new(
        downstream::Options {
            base_url: "http://127.0.0.1:1".to_string(),
            timeout: Duration::from_secs(1),
            max_attempts: 5,
            backoff: Duration::from_millis(100),
        },
        Arc::new(Metrics::new()),
    );
    for (n, ceiling) in [(1, 100), (2, 200), (4, 800)] {
        let ceiling = Duration::from_millis(ceiling);
        for _ in 0..100 {
            let d = c.backoff_after(n);
            assert!(
                d >= ceiling / 2 && d <= ceiling,
                "backoff_after({n}) = {d:?}, want within [{:?}, {ceiling:?}]",
                ceiling / 2
            );
        }
    }
}
