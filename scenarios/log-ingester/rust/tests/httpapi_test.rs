use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use axum::routing::post;
use axum::Router;
use ingester::archive;
use ingester::batch::Batcher;
use ingester::httpapi;
use ingester::ingest::Service;
use ingester::metrics::Metrics;
use ingester::quota::Limiter;
use ingester::store::Store;
use serde_json::Value;
use tokio_util::sync::{CancellationToken, DropGuard};
use tower::ServiceExt;

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ingester-httpapi-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
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

/// Everything a test keeps alive while it uses the handler.
struct Harness {
    h: Router,
    archived: Arc<AtomicUsize>,
    _stop: DropGuard,
    _dir: TempDir,
}

/// Wires the whole service, as main does, to a temp database and a fake
/// archive that takes everything; batches of 2 lines, quota of 5.
async fn new_handler() -> Harness {
    let archived = Arc::new(AtomicUsize::new(0));
    let count = archived.clone();
    let app = Router::new().route(
        "/v1/batches",
        post(move |body: Bytes| {
            let count = count.clone();
            async move {
                let n = body.iter().filter(|&&c| c == b'\n').count();
                count.fetch_add(n, Ordering::Relaxed);
            }
        }),
    );
    let ln = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", ln.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(ln, app).await.unwrap() });

    let dir = TempDir::new();
    let st = Arc::new(Store::open(dir.0.join("logs.db")).unwrap());
    let m = Arc::new(Metrics::new());
    let depth = m.clone();
    let b = Arc::new(Batcher::new(2, 100, Duration::from_secs(3600), move |n| {
        depth.set_queue_depth(n)
    }));
    let svc = Arc::new(Service::new(
        64,
        Limiter::new(5, Duration::from_secs(60), 10),
        b.clone(),
        st,
        archive::Client::new(&url, Duration::from_secs(5)),
        m.clone(),
    ));
    let stop = CancellationToken::new();
    let flusher = svc.clone();
    let token = stop.clone();
    tokio::spawn(async move {
        b.run(token, |batch| {
            let svc = flusher.clone();
            async move { svc.flush(batch).await }
        })
        .await
    });
    Harness {
        h: httpapi::new(svc, m, 512),
        archived,
        _stop: stop.drop_guard(),
        _dir: dir,
    }
}

struct Recorded {
    code: StatusCode,
    retry_after: String,
    body: String,
}

async fn send(h: &Router, method: &str, path: &str, tenant: &str, body: &str) -> Recorded {
    let mut req = Request::builder().method(method).uri(path);
    if !tenant.is_empty() {
        req = req.header("X-Tenant", tenant);
    }
    let resp = h
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let code = resp.status();
    let retry_after = resp
        .headers()
        .get("Retry-After")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    Recorded {
        code,
        retry_after,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

#[tokio::test]
async fn ingest_flush_and_query() {
    let t = new_handler().await;
    let rec = send(
        &t.h,
        "POST",
        "/v1/logs",
        "acme",
        "{\"level\":\"error\",\"msg\":\"payment declined\"}\nnot json\n",
    )
    .await;
    assert_eq!(rec.code, 202);
    assert_eq!(rec.body, r#"{"accepted":1,"rejected":1}"#);
    let rec = send(&t.h, "POST", "/v1/lines", "acme", "info payment retried\n").await;
    assert_eq!(rec.code, 202);
    assert_eq!(rec.body, r#"{"accepted":1,"rejected":0}"#);

    let deadline = Instant::now() + Duration::from_secs(5);
    let mut ans = Value::Null;
    while ans["count"] != 2 && Instant::now() < deadline {
        let rec = send(
            &t.h,
            "GET",
            "/v1/query?tenant=acme&q=payment&limit=10",
            "",
            "",
        )
        .await;
        assert_eq!(rec.code, 200, "{}", rec.body);
        ans = serde_json::from_str(&rec.body).unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(ans["count"], 2, "{ans}");
    assert_eq!(ans["lines"][0]["msg"], "payment retried");
    assert_eq!(ans["lines"][1]["level"], "error");
    while t.archived.load(Ordering::Relaxed) < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(t.archived.load(Ordering::Relaxed), 2);
    let m = send(&t.h, "GET", "/metrics", "", "").await.body;
    assert!(m.contains("ingest_lines_accepted_total 2\n"), "{m}");
    assert!(m.contains("ingest_lines_rejected_total 1\n"), "{m}");
}

#[tokio::test]
async fn refusals() {
    let t = new_handler().await;
    assert_eq!(
        send(&t.h, "POST", "/v1/logs", "", r#"{"msg":"x"}"#)
            .await
            .code,
        400
    );
    let large = "info x\n".repeat(100);
    assert_eq!(
        send(&t.h, "POST", "/v1/lines", "acme", &large).await.code,
        413
    );
    let rec = send(
        &t.h,
        "POST",
        "/v1/lines",
        "acme",
        "info a\ninfo b\ninfo c\ninfo d\n",
    )
    .await;
    assert_eq!(rec.code, 202, "{}", rec.body);
    let rec = send(&t.h, "POST", "/v1/lines", "acme", "info e\ninfo f\n").await;
    assert_eq!(rec.code, 429);
    assert_eq!(rec.retry_after, "60");
    assert_eq!(rec.body, r#"{"error":"quota exceeded"}"#);
    let rec = send(&t.h, "GET", "/v1/query?tenant=acme&limit=0", "", "").await;
    assert_eq!(rec.code, 400);
    assert_eq!(send(&t.h, "DELETE", "/v1/logs", "acme", "").await.code, 405);
}
