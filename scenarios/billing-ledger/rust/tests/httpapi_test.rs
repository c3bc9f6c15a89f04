use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::post;
use axum::Router;
use ledger::httpapi;
use ledger::ledger::Service;
use ledger::metrics::Metrics;
use ledger::provider::{self, Client};
use ledger::store::Store;
use tower::ServiceExt;

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ledger-httpapi-test-{}-{}",
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

/// Wires the whole service, as main does, to a temp database and a fake
/// provider that always succeeds. Keep the TempDir alive while using it.
async fn new_handler() -> (Router, TempDir) {
    let prov = Router::new().route(
        "/v1/charges",
        post(|| async { r#"{"id":"pch_1","status":"succeeded"}"# }),
    );
    let ln = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", ln.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(ln, prov).await.unwrap() });

    let dir = TempDir::new();
    let st = Arc::new(Store::open(dir.0.join("ledger.db")).unwrap());

    let m = Arc::new(Metrics::new());
    let pc = Client::new(
        provider::Options {
            base_url: url,
            timeout: Duration::from_secs(5),
            max_attempts: 3,
            backoff: Duration::from_millis(1),
        },
        m.clone(),
    );
    let svc = Arc::new(Service::new(st, pc, m.clone(), 100000000));
    (httpapi::new(svc, m), dir)
}

struct Recorded {
    code: StatusCode,
    headers: HeaderMap,
    body: String,
}

/// Sends one request; `key` is the Idempotency-Key header, omitted when empty.
async fn send(h: &Router, method: &str, path: &str, key: &[u8], body: &str) -> Recorded {
    let mut req = Request::builder().method(method).uri(path);
    if !key.is_empty() {
        req = req.header("Idempotency-Key", key);
    }
    let resp = h
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let code = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    Recorded {
        code,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// Checks status, JSON content type and the exact body.
fn expect(rec: &Recorded, status: u16, body: &str) {
    assert_eq!(
        (rec.code.as_u16(), rec.body.as_str()),
        (status, body),
        "status and body"
    );
    assert_eq!(
        header(rec, "Content-Type"),
        "application/json",
        "Content-Type"
    );
}

fn header<'a>(rec: &'a Recorded, name: &str) -> &'a str {
    rec.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

const VALID_BODY: &str = r#"{"account":"acct_1","amount_cents":1500,"currency":"usd"}"#;

#[tokio::test]
async fn create_charge_validation() {
    let long_key = "k".repeat(129);
    let long_account = format!(
        r#"{{"account":"{}","amount_cents":1500,"currency":"usd"}}"#,
        "a".repeat(65)
    );
    // (name, key, body, want message). The key "not printable" is non-ASCII:
    // an HTTP client cannot even send a control character in a header.
    let tests: [(&str, &[u8], &str, &str); 18] = [
        (
            "missing key",
            b"",
            VALID_BODY,
            "missing or invalid Idempotency-Key header",
        ),
        (
            "key too long",
            long_key.as_bytes(),
            VALID_BODY,
            "missing or invalid Idempotency-Key header",
        ),
        (
            "key not printable",
            b"key\xe9",
            VALID_BODY,
            "missing or invalid Idempotency-Key header",
        ),
        (
            "key checked before body",
            b"",
            "not json",
            "missing or invalid Idempotency-Key header",
        ),
        ("not json", b"k1", "not json", "invalid JSON body"),
        ("not an object", b"k1", "[1,2]", "invalid JSON body"),
        (
            "missing field",
            b"k1",
            r#"{"account":"acct_1","amount_cents":1500}"#,
            "invalid JSON body",
        ),
        (
            "null field",
            b"k1",
            r#"{"account":null,"amount_cents":1500,"currency":"usd"}"#,
            "invalid JSON body",
        ),
        (
            "amount is a string",
            b"k1",
            r#"{"account":"acct_1","amount_cents":"1500","currency":"usd"}"#,
            "invalid JSON body",
        ),
        (
            "amount is fractional",
            b"k1",
            r#"{"account":"acct_1","amount_cents":15.5,"currency":"usd"}"#,
            "invalid JSON body",
        ),
        (
            "empty account",
            b"k1",
            r#"{"account":"","amount_cents":1500,"currency":"usd"}"#,
            "invalid account",
        ),
        (
            "account with space",
            b"k1",
            r#"{"account":"acct 1","amount_cents":1500,"currency":"usd"}"#,
            "invalid account",
        ),
        ("account too long", b"k1", &long_account, "invalid account"),
        (
            "account checked before amount",
            b"k1",
            r#"{"account":"a/b","amount_cents":0,"currency":"usd"}"#,
            "invalid account",
        ),
        (
            "zero amount",
            b"k1",
            r#"{"account":"acct_1","amount_cents":0,"currency":"usd"}"#,
            "invalid amount_cents",
        ),
        (
            "amount too large",
            b"k1",
            r#"{"account":"acct_1","amount_cents":100000001,"currency":"usd"}"#,
            "invalid amount_cents",
        ),
        (
            "uppercase currency",
            b"k1",
            r#"{"account":"acct_1","amount_cents":1500,"currency":"USD"}"#,
            "invalid currency",
        ),
        (
            "short currency",
            b"k1",
            r#"{"account":"acct_1","amount_cents":1500,"currency":"us"}"#,
            "invalid currency",
        ),
    ];
    let (h, _dir) = new_handler().await;
    for (name, key, body, want_msg) in tests {
        let rec = send(&h, "POST", "/v1/charges", key, body).await;
        let want = format!(r#"{{"error":"{want_msg}"}}"#);
        assert_eq!(
            (rec.code.as_u16(), rec.body.as_str()),
            (400, want.as_str()),
            "{name}"
        );
        assert_eq!(header(&rec, "Content-Type"), "application/json", "{name}");
    }
}

#[tokio::test]
async fn create_charge_replay_and_get() {
    let (h, _dir) = new_handler().await;
    let created = send(&h, "POST", "/v1/charges", b"k1", VALID_BODY).await;
    assert_eq!(created.code, StatusCode::CREATED, "POST: {}", created.body);
    let ch: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    let id = ch["id"].as_str().unwrap_or("");
    assert!(
        id.len() == 19
            && id.starts_with("ch_")
            && id[3..]
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "id = {id:?}, want ch_ + 16 hex digits"
    );
    // ^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$
    let ts = ch["created_at"].as_str().unwrap_or("");
    let shape: String = ts
        .chars()
        .map(|c| if c.is_ascii_digit() { 'd' } else { c })
        .collect();
    assert_eq!(
        shape, "dddd-dd-ddTdd:dd:ddZ",
        "created_at = {ts:?}, want RFC 3339 UTC with seconds"
    );
    for (field, want) in [
        ("account", serde_json::json!("acct_1")),
        ("amount_cents", serde_json::json!(1500)),
        ("currency", serde_json::json!("usd")),
        ("status", serde_json::json!("succeeded")),
        ("provider_charge_id", serde_json::json!("pch_1")),
        ("balance_cents", serde_json::json!(1500)),
    ] {
        assert_eq!(ch[field], want, "{field}");
    }
    assert_eq!(
        header(&created, "Idempotent-Replayed"),
        "",
        "first answer carries Idempotent-Replayed"
    );

    let replay = send(&h, "POST", "/v1/charges", b"k1", VALID_BODY).await;
    expect(&replay, 201, &created.body);
    assert_eq!(
        header(&replay, "Idempotent-Replayed"),
        "true",
        "replay lacks Idempotent-Replayed: true"
    );
    let conflict = send(
        &h,
        "POST",
        "/v1/charges",
        b"k1",
        r#"{"account":"acct_1","amount_cents":1,"currency":"usd"}"#,
    )
    .await;
    expect(
        &conflict,
        409,
        r#"{"error":"idempotency key reused with a different request"}"#,
    );

    let got = send(&h, "GET", &format!("/v1/charges/{id}"), b"", "").await;
    expect(&got, 200, &created.body);
    let acct = send(&h, "GET", "/v1/accounts/acct_1", b"", "").await;
    expect(
        &acct,
        200,
        r#"{"account":"acct_1","balance_cents":1500,"charges":1}"#,
    );
}

#[tokio::test]
async fn not_found_and_method_not_allowed() {
    let tests = [
        (
            "GET",
            "/v1/charges/ch_0000000000000000",
            404,
            r#"{"error":"charge not found"}"#,
        ),
        (
            "GET",
            "/v1/accounts/acct_none",
            404,
            r#"{"error":"account not found"}"#,
        ),
        ("GET", "/nope", 404, r#"{"error":"not found"}"#),
        (
            "GET",
            "/v1/charges/ch_1/extra",
            404,
            r#"{"error":"not found"}"#,
        ),
        (
            "GET",
            "/v1/charges",
            405,
            r#"{"error":"method not allowed"}"#,
        ),
        (
            "DELETE",
            "/v1/charges/ch_1",
            405,
            r#"{"error":"method not allowed"}"#,
        ),
        (
            "POST",
            "/v1/accounts/acct_1",
            405,
            r#"{"error":"method not allowed"}"#,
        ),
        ("POST", "/healthz", 405, r#"{"error":"method not allowed"}"#),
        ("PUT", "/metrics", 405, r#"{"error":"method not allowed"}"#),
    ];
    let (h, _dir) = new_handler().await;
    for (method, path, status, body) in tests {
        let rec = send(&h, method, path, b"", "").await;
        assert_eq!(
            (rec.code.as_u16(), rec.body.as_str()),
            (status, body),
            "{method} {path}"
        );
        assert_eq!(
            header(&rec, "Content-Type"),
            "application/json",
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn healthz() {
    let (h, _dir) = new_handler().await;
    expect(
        &send(&h, "GET", "/healthz", b"", "").await,
        200,
        r#"{"status":"ok"}"#,
    );
}

#[tokio::test]
async fn metrics_text() {
    let (h, _dir) = new_handler().await;
    send(&h, "POST", "/v1/charges", b"k1", VALID_BODY).await;
    send(&h, "POST", "/v1/charges", b"k1", VALID_BODY).await; // replay: no new charge, no provider call
    send(&h, "GET", "/healthz", b"", "").await;
    send(&h, "POST", "/healthz", b"", "").await;
    send(&h, "GET", "/nope", b"", "").await;

    let rec = send(&h, "GET", "/metrics", b"", "").await;
    assert_eq!(
        header(&rec, "Content-Type"),
        "text/plain; version=0.0.4",
        "Content-Type"
    );
    // The scrape itself is in flight, and is counted only once it has finished.
    let want = r#"# TYPE ledger_http_requests_total counter
ledger_http_requests_total{route="/healthz",status="200"} 1
ledger_http_requests_total{route="/healthz",status="405"} 1
ledger_http_requests_total{route="/v1/charges",status="201"} 2
ledger_http_requests_total{route="other",status="404"} 1
# TYPE ledger_http_in_flight gauge
ledger_http_in_flight 1
# TYPE ledger_provider_calls_total counter
ledger_provider_calls_total 1
# TYPE ledger_provider_failures_total counter
ledger_provider_failures_total 0
# TYPE ledger_charges_total counter
ledger_charges_total 1
"#;
    assert_eq!(rec.body, want, "metrics text");
}
