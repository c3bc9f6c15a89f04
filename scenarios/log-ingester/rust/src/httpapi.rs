//! The HTTP layer: routes, handlers, JSON errors and the request log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;

use crate::batch::BatchError;
use crate::ingest::{self, Format, Service};
use crate::metrics::Metrics;
use crate::store::Line;

#[derive(Clone)]
struct Server {
    svc: Arc<Service>,
    metrics: Arc<Metrics>,
    max_body_bytes: usize,
}

/// The service's HTTP handler; bodies above `max_body_bytes` are refused.
pub fn new(svc: Arc<Service>, metrics: Arc<Metrics>, max_body_bytes: usize) -> Router {
    let s = Server {
        svc,
        metrics,
        max_body_bytes,
    };
    Router::new()
        .route(
            "/v1/logs",
            post(|st, h, b| ingest_handler(st, h, b, Format::Ndjson)),
        )
        .route(
            "/v1/lines",
            post(|st, h, b| ingest_handler(st, h, b, Format::Plain)),
        )
        .route("/v1/query", get(query))
        .route("/healthz", get(healthz))
        .route("/metrics", get(serve_metrics))
        // Other methods on known paths get our JSON 405.
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(s)
        .layer(middleware::from_fn(serve_http))
}

/// Logs every request once it has been answered.
async fn serve_http(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    tracing::info!(
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        duration_ms = start.elapsed().as_millis() as u64,
        "request"
    );
    resp
}

async fn ingest_handler(
    State(s): State<Server>,
    headers: HeaderMap,
    body: Body,
    format: Format,
) -> Response {
    let Ok(body) = axum::body::to_bytes(body, s.max_body_bytes).await else {
        return write_error(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
    };
    let tenant = headers
        .get("X-Tenant")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match s.svc.ingest(tenant, format, &body) {
        Err(err @ ingest::Error::InvalidTenant) => {
            write_error(StatusCode::BAD_REQUEST, &err.to_string())
        }
        Err(err @ ingest::Error::Quota { retry_after }) => with_retry_after(
            write_error(StatusCode::TOO_MANY_REQUESTS, &err.to_string()),
            &retry_after_secs(retry_after),
        ),
        Err(ingest::Error::Batch(BatchError::Overloaded | BatchError::Closed)) => with_retry_after(
            write_error(StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            "1",
        ),
        Err(err) => internal_error(&err),
        Ok(receipt) => write_json(StatusCode::ACCEPTED, &receipt),
    }
}

fn with_retry_after(mut resp: Response, secs: &str) -> Response {
    if let Ok(v) = secs.parse() {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// `d` in whole seconds, rounded up, at least 1.
fn retry_after_secs(d: Duration) -> String {
    d.as_secs_f64().ceil().max(1.0).to_string()
}

#[derive(Serialize)]
struct QueryAnswer {
    lines: Vec<Line>,
    count: usize,
}

async fn query(State(s): State<Server>, uri: Uri) -> Response {
    let (mut tenant, mut q, mut raw_limit) = (String::new(), String::new(), String::new());
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        // The first value of each key counts; later repeats are ignored.
        match k.as_ref() {
            "tenant" if tenant.is_empty() => tenant = v.into_owned(),
            "q" if q.is_empty() => q = v.into_owned(),
            "limit" if raw_limit.is_empty() => raw_limit = v.into_owned(),
            _ => {}
        }
    }
    let mut limit = 100;
    if !raw_limit.is_empty() {
        match raw_limit.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => limit = n,
            _ => return write_error(StatusCode::BAD_REQUEST, "limit must be 1..1000"),
        }
    }
    match s.svc.query(&tenant, &q, limit) {
        Err(err @ ingest::Error::InvalidTenant) => {
            write_error(StatusCode::BAD_REQUEST, &err.to_string())
        }
        Err(err) => internal_error(&err),
        Ok(lines) => write_json(
            StatusCode::OK,
            &QueryAnswer {
                count: lines.len(),
                lines,
            },
        ),
    }
}

async fn healthz() -> Response {
    write_json(StatusCode::OK, &json!({ "status": "ok" }))
}

async fn serve_metrics(State(s): State<Server>) -> Response {
    let mut text = String::new();
    let _ = s.metrics.write_text(&mut text); // writing to a String cannot fail
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        text,
    )
        .into_response()
}

fn internal_error(err: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %err, "internal error");
    write_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

async fn method_not_allowed() -> Response {
    write_error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
}

async fn not_found() -> Response {
    write_error(StatusCode::NOT_FOUND, "not found")
}

fn write_error(status: StatusCode, msg: &str) -> Response {
    write_json(status, &json!({ "error": msg }))
}

/// Writes `v` as a JSON body without a trailing newline.
fn write_json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    (status, Json(v)).into_response()
}
