use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use emailworker::httpapi;
use emailworker::metrics::Metrics;
use emailworker::queue::Queue;
use tower::ServiceExt;

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "emailworker-httpapi-test-{}-{}",
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

/// Wires the HTTP layer, as main does, to a temp queue. No worker runs:
/// enqueued emails stay queued. Keep the TempDir alive while using it.
fn new_handler() -> (Router, TempDir) {
    let dir = TempDir::new();
    let q = Arc::new(Queue::open(dir.0.join("emails.db")).unwrap());
    (httpapi::new(q, Arc::new(Metrics::new())), dir)
}

struct Recorded {
    code: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn call(h: &Router, method: &str, path: &str, body: &str) -> Recorded {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = h.clone().oneshot(req).await.unwrap();
    let code = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    Recorded {
        code,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// Checks status, JSON content type and the exact body.
fn expect(rec: &Recorded, status: u16, body: &str) {
    assert_eq!(
        (rec.code.as_u16(), rec.body.as_str()),
        (status, body),
        "status and body"
    );
    assert_eq!(rec.headers["content-type"], "application/json");
}

#[tokio::test]
async fn enqueue_validation() {
    let long = format!("{}@example.com", "a".repeat(250));
    let long_subject = "é".repeat(201);
    let long_body = "x".repeat((64 << 10) + 1);
    let tests = [
        ("not json", "not json".to_string(), "invalid JSON body"),
        ("not an object", "[1,2]".to_string(), "invalid JSON body"),
        (
            "missing field",
            r#"{"to":"a@example.com","subject":"hi"}"#.to_string(),
            "invalid JSON body",
        ),
        (
            "null field",
            r#"{"to":null,"subject":"hi","body":""}"#.to_string(),
            "invalid JSON body",
        ),
        (
            "number field",
            r#"{"to":"a@example.com","subject":1,"body":""}"#.to_string(),
            "invalid JSON body",
        ),
        (
            "no at sign",
            r#"{"to":"example.com","subject":"hi","body":""}"#.to_string(),
            "invalid to",
        ),
        (
            "empty local part",
            r#"{"to":"@example.com","subject":"hi","body":""}"#.to_string(),
            "invalid to",
        ),
        (
            "two at signs",
            r#"{"to":"a@b@example.com","subject":"hi","body":""}"#.to_string(),
            "invalid to",
        ),
        (
            "space in address",
            r#"{"to":"a b@example.com","subject":"hi","body":""}"#.to_string(),
            "invalid to",
        ),
        (
            "address too long",
            format!(r#"{{"to":"{long}","subject":"hi","body":""}}"#),
            "invalid to",
        ),
        (
            "empty subject",
            r#"{"to":"a@example.com","subject":"","body":""}"#.to_string(),
            "invalid subject",
        ),
        (
            "subject too long",
            format!(r#"{{"to":"a@example.com","subject":"{long_subject}","body":""}}"#),
            "invalid subject",
        ),
        (
            "body too long",
            format!(r#"{{"to":"a@example.com","subject":"hi","body":"{long_body}"}}"#),
            "invalid body",
        ),
    ];
    let (h, _dir) = new_handler();
    for (name, body, want_msg) in tests {
        let rec = call(&h, "POST", "/v1/emails", &body).await;
        assert_eq!(
            (rec.code.as_u16(), rec.body.clone()),
            (400, format!(r#"{{"error":"{want_msg}"}}"#)),
            "{name}"
        );
    }
}

#[tokio::test]
async fn enqueue_and_get() {
    let (h, _dir) = new_handler();
    let rec = call(
        &h,
        "POST",
        "/v1/emails",
        r#"{"to":"a@example.com","subject":"Hi <you>","body":"hello","extra":1}"#,
    )
    .await;
    assert_eq!(rec.code, StatusCode::ACCEPTED, "{}", rec.body);
    let e: serde_json::Value = serde_json::from_str(&rec.body).unwrap();
    let id = e["id"].as_str().unwrap().to_string();
    let created_at = e["created_at"].as_str().unwrap().to_string();
    assert!(
        id.len() == 19
            && id.starts_with("em_")
            && id[3..]
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "id = {id:?}, want em_ and 16 hex digits"
    );
    let want = format!(
        r#"{{"id":"{id}","to":"a@example.com","subject":"Hi <you>","status":"queued","last_error":"","created_at":"{created_at}"}}"#
    );
    expect(&rec, 202, &want);
    let b = created_at.as_bytes();
    assert!(
        b.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z',
        "created_at = {created_at:?}, want RFC 3339 UTC seconds"
    );
    expect(
        &call(&h, "GET", &format!("/v1/emails/{id}"), "").await,
        200,
        &want,
    );
}

#[tokio::test]
async fn not_found_and_method_not_allowed() {
    let (h, _dir) = new_handler();
    expect(
        &call(&h, "GET", "/v1/emails/em_0000000000000000", "").await,
        404,
        r#"{"error":"email not found"}"#,
    );
    expect(
        &call(&h, "GET", "/nope", "").await,
        404,
        r#"{"error":"not found"}"#,
    );
    expect(
        &call(&h, "DELETE", "/v1/emails/em_0000000000000000", "").await,
        405,
        r#"{"error":"method not allowed"}"#,
    );
    expect(
        &call(&h, "GET", "/v1/emails", "").await,
        405,
        r#"{"error":"method not allowed"}"#,
    );
}

#[tokio::test]
async fn healthz() {
    let (h, _dir) = new_handler();
    expect(
        &call(&h, "GET", "/healthz", "").await,
        200,
        r#"{"status":"ok"}"#,
    );
}

#[tokio::test]
async fn metrics_text() {
    let (h, _dir) = new_handler();
    call(
        &h,
        "POST",
        "/v1/emails",
        r#"{"to":"a@example.com","subject":"hi","body":""}"#,
    )
    .await;
    call(&h, "POST", "/v1/emails", "{}").await;
    call(&h, "GET", "/nope", "").await;
    let rec = call(&h, "GET", "/metrics", "").await;
    let want = r#"# TYPE email_http_requests_total counter
email_http_requests_total{route="/v1/emails",status="202"} 1
email_http_requests_total{route="/v1/emails",status="400"} 1
email_http_requests_total{route="other",status="404"} 1
# TYPE email_http_in_flight gauge
email_http_in_flight 1
# TYPE email_enqueued_total counter
email_enqueued_total 1
# TYPE email_sent_total counter
email_sent_total 0
# TYPE email_failed_total counter
email_failed_total 0
# TYPE email_released_total counter
email_released_total 0
# TYPE email_send_attempts_total counter
email_send_attempts_total 0
# TYPE email_send_failures_total counter
email_send_failures_total 0
# TYPE email_sending gauge
email_sending 0
# TYPE email_buffered gauge
email_buffered 0
"#;
    assert_eq!((rec.code.as_u16(), rec.body.as_str()), (200, want));
    assert_eq!(rec.headers["content-type"], "text/plain; version=0.0.4");
}
