use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use emailworker::metrics::Metrics;
use emailworker::provider::{Client, Message, Options};

/// Serves `app` on 127.0.0.1:0 for the rest of the test; returns its base URL.
async fn serve(app: Router) -> String {
    let ln = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", ln.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(ln, app).await.unwrap() });
    url
}

/// Answers attempt n (1-based) with `statuses[n-1]`, or the last status once
/// the list runs out. It counts calls.
async fn fake_provider(statuses: &'static [u16]) -> (String, Arc<AtomicI64>) {
    let calls = Arc::new(AtomicI64::new(0));
    let counter = calls.clone();
    let app = Router::new().route(
        "/v1/messages",
        post(move || {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst) as usize + 1;
                let status = statuses[n.min(statuses.len()) - 1];
                (StatusCode::from_u16(status).unwrap(), r#"{"id":"msg_1"}"#)
            }
        }),
    );
    (serve(app).await, calls)
}

/// A client with a generous timeout, a 1 ms backoff so retries cost no real
/// time, and no rate limit.
fn new_client(url: &str, m: Arc<Metrics>) -> Client {
    Client::new(
        Options {
            base_url: url.to_string(),
            timeout: Duration::from_secs(5),
            max_attempts: 3,
            backoff: Duration::from_millis(1),
            rate_per_sec: 0,
        },
        m,
    )
}

fn sample_message() -> Message {
    Message {
        message_id: "em_0123456789abcdef".to_string(),
        to: "a@example.com".to_string(),
        subject: "hi".to_string(),
        body: "hello".to_string(),
    }
}

#[tokio::test]
async fn send_success() {
    let got: Arc<Mutex<Option<(HeaderMap, Message)>>> = Arc::new(Mutex::new(None));
    let seen = got.clone();
    let app = Router::new().route(
        "/v1/messages",
        post(move |headers: HeaderMap, body: axum::Json<Message>| {
            let seen = seen.clone();
            async move {
                *seen.lock().unwrap() = Some((headers, body.0));
                r#"{"id":"msg_42"}"#
            }
        }),
    );
    let url = serve(app).await;

    let m = Arc::new(Metrics::new());
    let (attempts, result) = new_client(&url, m.clone()).send(&sample_message()).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(attempts, 1);
    let (headers, msg) = got.lock().unwrap().take().expect("provider was called");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["idempotency-key"], "em_0123456789abcdef");
    assert_eq!(msg, sample_message());
    assert_eq!(m.send_attempts(), 1);
}

#[tokio::test]
async fn send_retries_503_then_succeeds() {
    let (url, calls) = fake_provider(&[503, 503, 200]).await;
    let (attempts, result) = new_client(&url, Arc::new(Metrics::new()))
        .send(&sample_message())
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!((attempts, calls.load(Ordering::SeqCst)), (3, 3));
}

#[tokio::test]
async fn send_does_not_retry_400() {
    let (url, calls) = fake_provider(&[400]).await;
    let (attempts, result) = new_client(&url, Arc::new(Metrics::new()))
        .send(&sample_message())
        .await;
    assert_eq!(result.unwrap_err().to_string(), "provider answered 400");
    assert_eq!((attempts, calls.load(Ordering::SeqCst)), (1, 1));
}

#[tokio::test]
async fn send_gives_up_after_max_attempts() {
    let (url, calls) = fake_provider(&[500]).await;
    let (attempts, result) = new_client(&url, Arc::new(Metrics::new()))
        .send(&sample_message())
        .await;
    assert_eq!(result.unwrap_err().to_string(), "provider answered 500");
    assert_eq!((attempts, calls.load(Ordering::SeqCst)), (3, 3));
}

#[tokio::test]
async fn send_attempt_times_out() {
    let app = Router::new().route(
        "/v1/messages",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            ""
        }),
    );
    let url = serve(app).await;
    let client = Client::new(
        Options {
            base_url: url,
            timeout: Duration::from_millis(50),
            max_attempts: 2,
            backoff: Duration::from_millis(1),
            rate_per_sec: 0,
        },
        Arc::new(Metrics::new()),
    );
    let start = Instant::now();
    let (attempts, result) = client.send(&sample_message()).await;
    assert!(result.is_err());
    assert_eq!(attempts, 2);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "send took {:?}; the per-attempt timeout did not fire",
        start.elapsed()
    );
}
