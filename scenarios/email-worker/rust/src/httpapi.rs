//! The HTTP layer: routes, handlers, JSON errors, the request log and the
//! metrics middleware.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::logging;
use crate::metrics::Metrics;
use crate::queue::{self, Email, Queue, QueueError};

/// Bounds the request body we are willing to parse.
const MAX_REQUEST_BYTES: usize = 1 << 20;

// Limits of an email, checked before it is queued.
const MAX_TO_BYTES: usize = 254;
const MAX_SUBJECT_CHARS: usize = 200;
const MAX_EMAIL_BODY_SIZE: usize = 64 << 10;

#[derive(Clone)]
struct Server {
    q: Arc<Queue>,
    metrics: Arc<Metrics>,
}

/// The service's HTTP handler.
pub fn new(q: Arc<Queue>, metrics: Arc<Metrics>) -> Router {
    let s = Server {
        q,
        metrics: metrics.clone(),
    };
    Router::new()
        .route("/v1/emails", post(enqueue))
        .route("/v1/emails/{id}", get(get_email))
        .route("/healthz", get(healthz))
        .route("/metrics", get(serve_metrics))
        // Other methods on known paths get our JSON 405 instead of axum's
        // empty one.
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(s)
        .layer(middleware::from_fn_with_state(metrics, serve_http))
}

/// Wraps every request with the in-flight gauge, the request counter and the
/// request log line. The request runs in its own task, so it finishes (and
/// is counted and logged) even if the client hangs up.
async fn serve_http(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let task = tokio::spawn(async move {
        let start = Instant::now();
        metrics.add_in_flight(1);
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let pattern = req
            .extensions()
            .get::<MatchedPath>()
            .map(|p| p.as_str().to_string());

        let resp = next.run(req).await;
        metrics.add_in_flight(-1);

        let status = resp.status().as_u16();
        metrics.observe_request(&route_label(pattern.as_deref()), status);
        tracing::info!(
            method = %method,
            path = %path,
            status,
            duration_ms = start.elapsed().as_millis() as u64,
            "request"
        );
        resp
    });
    match task.await {
        Ok(resp) => resp,
        Err(err) => {
            tracing::error!(error = %err, "internal error");
            write_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// The route pattern as the metrics label; unmatched paths become "other"
/// so arbitrary paths cannot blow up the number of series.
fn route_label(pattern: Option<&str>) -> String {
    match pattern {
        Some(p) if !p.is_empty() && p != "/" => p.to_string(),
        _ => "other".to_string(),
    }
}

/// Every field is required and must be a string (a missing or null field is
/// "invalid JSON body").
#[derive(Deserialize)]
struct EmailBody {
    to: String,
    subject: String,
    body: String,
}

async fn enqueue(State(s): State<Server>, body: Body) -> Response {
    let raw = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await;
    let Some(body) = raw
        .ok()
        .and_then(|raw| serde_json::from_slice::<EmailBody>(&raw).ok())
    else {
        return write_error(StatusCode::BAD_REQUEST, "invalid JSON body");
    };
    if let Some(msg) = validate(&body.to, &body.subject, &body.body) {
        return write_error(StatusCode::BAD_REQUEST, msg);
    }

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut e = Email {
        id: queue::new_id(),
        to: body.to,
        subject: body.subject,
        body: body.body,
        created_at: logging::rfc3339_seconds(now.as_secs() as i64),
        ..Email::default()
    };
    if let Err(err) = s.q.enqueue(&mut e) {
        return internal_error(&err);
    }
    s.metrics.enqueued();
    tracing::info!(email_id = %e.id, "email queued");
    write_json(StatusCode::ACCEPTED, &e)
}

/// The error message for the first invalid field, or `None`.
fn validate(to: &str, subject: &str, body: &str) -> Option<&'static str> {
    let valid_to = match to.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && to.len() <= MAX_TO_BYTES
                && !to.chars().any(|c| c <= ' ' || c == '\u{7f}')
        }
        None => false,
    };
    if !valid_to {
        return Some("invalid to");
    }
    if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS {
        return Some("invalid subject");
    }
    if body.len() > MAX_EMAIL_BODY_SIZE {
        return Some("invalid body");
    }
    None
}

async fn get_email(State(s): State<Server>, Path(id): Path<String>) -> Response {
    match s.q.get(&id) {
        Err(QueueError::NotFound) => write_error(StatusCode::NOT_FOUND, "email not found"),
        Err(err) => internal_error(&err),
        Ok(e) => write_json(StatusCode::OK, &e),
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

/// Writes `v` as a JSON body with its status.
fn write_json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    (status, Json(v)).into_response()
}
