use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use axum::routing::post;
use axum::Router;
use intake::downstream::{self, Client};
use intake::httpapi;
use intake::intake::Service;
use intake::metrics::Metrics;
use intake::signature::{sign, Verifier};
use intake::store::Store;
use intake::worker::Pool;
use tokio_util::sync::{CancellationToken, DropGuard};
use tower::ServiceExt;

const SECRET: &str = "whsec_test";

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "intake-httpapi-test-{}-{}",
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

/// A fake downstream that accepts every event and keeps the bodies.
type Recorder = Arc<Mutex<Vec<String>>>;

fn received(rec: &Recorder) -> Vec<String> {
    rec.lock().unwrap().clone()
}

/// Everything a test keeps alive while it uses the handler.
struct Harness {
    h: Router,
    down: Recorder,
    /// Stops the workers when the test ends.
    _stop: DropGuard,
    _dir: TempDir,
}

/// Wires the whole service, as main does, to a temp database, two workers
/// and a fake downstream that accepts everything.
async fn new_handler() -> Harness {
    let down: Recorder = Arc::default();
    let rec = down.clone();
    let app = Router::new().route(
        "/events",
        post(move |body: Bytes| {
            let rec = rec.clone();
            async move {
                rec.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
            }
        }),
    );
    let ln = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", ln.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(ln, app).await.unwrap() });

    let dir = TempDir::new();
    let st = Arc::new(Store::open(dir.0.join("webhooks.db")).unwrap());
    let m = Arc::new(Metrics::new());
    let dc = Client::new(
        downstream::Options {
            base_url: url,
            timeout: Duration::from_secs(5),
            max_attempts: 3,
            backoff: Duration::from_millis(1),
        },
        m.clone(),
    );
    let pool = Arc::new(Pool::new(100, dc, st.clone(), m.clone()));
    let stop = CancellationToken::new();
    pool.start(stop.clone(), 2);

    let svc = Service::new(
        Verifier::new(SECRET, Duration::from_secs(300)),
        st,
        pool,
        m.clone(),
    );
    Harness {
        h: httpapi::new(Arc::new(svc), m, 1024),
        down,
        _stop: stop.drop_guard(),
        _dir: dir,
    }
}

struct Recorded {
    code: StatusCode,
    content_type: String,
    body: String,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Sends a webhook signed with SECRET at timestamp now+offset.
async fn post_signed(h: &Router, body: &str, offset: Duration) -> Recorded {
    let ts = unix_now() + offset.as_secs() as i64;
    let header = format!("t={ts},v1={}", sign(SECRET, ts, body.as_bytes()));
    post_with_header(h, body, &header).await
}

async fn post_with_header(h: &Router, body: &str, sig: &str) -> Recorded {
    let mut req = Request::builder().method("POST").uri("/v1/webhooks");
    if !sig.is_empty() {
        req = req.header("Webhook-Signature", sig);
    }
    send(h, req.body(Body::from(body.to_string())).unwrap()).await
}

async fn get(h: &Router, path: &str) -> Recorded {
    send(
        h,
        Request::builder()
            .method("GET")
            .uri(path)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn send(h: &Router, req: Request<Body>) -> Recorded {
    let resp = h.clone().oneshot(req).await.unwrap();
    let code = resp.status();
    let content_type = resp
        .headers()
        .get("Content-Type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    Recorded {
        code,
        content_type,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// Checks status and the exact body.
fn expect(rec: &Recorded, status: u16, body: &str) {
    assert_eq!(
        (rec.code.as_u16(), rec.body.as_str()),
        (status, body),
        "got {} {}",
        rec.code,
        rec.body
    );
}

/// Polls the event until the worker has delivered it.
async fn wait_delivered(h: &Router, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let rec = get(h, &format!("/v1/events/{id}")).await;
        if rec.code == StatusCode::OK {
            let ev: serde_json::Value = serde_json::from_str(&rec.body).unwrap();
            if ev["status"] == "delivered" {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("event {id} not delivered within 5s");
}

#[tokio::test]
async fn webhook_is_accepted_and_delivered() {
    let t = new_handler().await;
    let body = r#"{"id":"evt_1","type":"invoice.paid","data":{"amount":1500}}"#;
    let rec = post_signed(&t.h, body, Duration::ZERO).await;
    expect(&rec, 202, r#"{"id":"evt_1","status":"accepted"}"#);
    assert_eq!(rec.content_type, "application/json");
    wait_delivered(&t.h, "evt_1").await;

    let rec = get(&t.h, "/v1/events/evt_1").await;
    let ev: serde_json::Value = serde_json::from_str(&rec.body).unwrap();
    assert!(
        ev["type"] == "invoice.paid" && ev["attempts"] == 1 && ev["received_at"] != "",
        "GET event = {}",
        rec.body
    );
    assert_eq!(received(&t.down), [body]);
}

#[tokio::test]
async fn webhook_rejections() {
    let valid = r#"{"id":"evt_1","type":"invoice.paid"}"#;
    let ts = unix_now();
    let too_large = format!(r#"{{"id":"evt_1","type":"{}"}}"#, "x".repeat(1024));
    let tests: Vec<(&str, &str, String, u16, &str)> = vec![
        (
            "no signature",
            valid,
            String::new(),
            401,
            "invalid signature",
        ),
        (
            "wrong secret",
            valid,
            format!("t={ts},v1={}", sign("other", ts, valid.as_bytes())),
            401,
            "invalid signature",
        ),
        (
            "stale",
            valid,
            format!(
                "t={},v1={}",
                ts - 600,
                sign(SECRET, ts - 600, valid.as_bytes())
            ),
            401,
            "timestamp outside tolerance",
        ),
        (
            "too large",
            &too_large,
            String::new(),
            413,
            "body too large",
        ),
        ("not json", "not json", String::new(), 400, "invalid event"),
        (
            "missing type",
            r#"{"id":"evt_1"}"#,
            String::new(),
            400,
            "invalid event",
        ),
        (
            "bad id",
            r#"{"id":"evt 1","type":"invoice.paid"}"#,
            String::new(),
            400,
            "invalid event",
        ),
    ];
    for (name, body, header, status, msg) in tests {
        let t = new_handler().await;
        let header = if header.is_empty() && status != 401 {
            format!("t={ts},v1={}", sign(SECRET, ts, body.as_bytes()))
        } else {
            header
        };
        let rec = post_with_header(&t.h, body, &header).await;
        assert_eq!(
            (rec.code.as_u16(), rec.body.as_str()),
            (status, format!(r#"{{"error":"{msg}"}}"#).as_str()),
            "{name}"
        );
        expect(
            &get(&t.h, "/v1/events/evt_1").await,
            404,
            r#"{"error":"event not found"}"#,
        );
        assert!(received(&t.down).is_empty(), "{name}: downstream received");
    }
}

#[tokio::test]
async fn duplicate_webhook_is_not_forwarded_twice() {
    let t = new_handler().await;
    let body = r#"{"id":"evt_dup","type":"invoice.paid"}"#;
    expect(
        &post_signed(&t.h, body, Duration::ZERO).await,
        202,
        r#"{"id":"evt_dup","status":"accepted"}"#,
    );
    wait_delivered(&t.h, "evt_dup").await;
    // A sender retry, signed again a little later.
    expect(
        &post_signed(&t.h, body, Duration::from_secs(1)).await,
        200,
        r#"{"id":"evt_dup","status":"duplicate"}"#,
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(received(&t.down).len(), 1, "deliveries downstream");
}

#[tokio::test]
async fn routes_and_metrics() {
    let t = new_handler().await;
    expect(&get(&t.h, "/healthz").await, 200, r#"{"status":"ok"}"#);
    expect(
        &get(&t.h, "/v1/events/evt_404").await,
        404,
        r#"{"error":"event not found"}"#,
    );
    expect(&get(&t.h, "/nope").await, 404, r#"{"error":"not found"}"#);
    expect(
        &get(&t.h, "/v1/webhooks").await,
        405,
        r#"{"error":"method not allowed"}"#,
    );
    post_signed(
        &t.h,
        r#"{"id":"evt_m","type":"invoice.paid"}"#,
        Duration::ZERO,
    )
    .await;
    wait_delivered(&t.h, "evt_m").await;

    let rec = get(&t.h, "/metrics").await;
    assert_eq!(rec.content_type, "text/plain; version=0.0.4");
    for line in [
        r#"webhook_http_requests_total{route="/healthz",status="200"} 1"#,
        r#"webhook_http_requests_total{route="/v1/webhooks",status="202"} 1"#,
        r#"webhook_http_requests_total{route="/v1/webhooks",status="405"} 1"#,
        r#"webhook_http_requests_total{route="other",status="404"} 1"#,
        "webhook_http_in_flight 1",
        "webhook_events_accepted_total 1",
        "webhook_events_duplicate_total 0",
        "webhook_events_rejected_total 0",
        "webhook_queue_depth 0",
        "webhook_downstream_attempts_total 1",
        "webhook_downstream_failures_total 0",
        "webhook_events_delivered_total 1",
        "webhook_events_failed_total 0",
    ] {
        assert!(
            rec.body.contains(&format!("{line}\n")),
            "metrics lack {line:?}:\n{}",
            rec.body
        );
    }
}
