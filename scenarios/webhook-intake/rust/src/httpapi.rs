//! The HTTP layer: routes, handlers, JSON errors, the request log and the
//! metrics middleware.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;

use crate::intake::{self, Service};
use crate::metrics::Metrics;
use crate::signature::SignatureError;
use crate::store::StoreError;

#[derive(Clone)]
struct Server {
    svc: Arc<Service>,
    metrics: Arc<Metrics>,
    max_body_bytes: usize,
}

/// The service's HTTP handler; webhook bodies above `max_body_bytes` are
/// refused.
pub fn new(svc: Arc<Service>, metrics: Arc<Metrics>, max_body_bytes: usize) -> Router {
    let s = Server {
        svc,
        metrics: metrics.clone(),
        max_body_bytes,
    };
    Router::new()
        .route("/v1/webhooks", post(receive_webhook))
        .route("/v1/events/{id}", get(get_event))
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
        let _in_flight = metrics.in_flight();
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let pattern = req
            .extensions()
            .get::<MatchedPath>()
            .map(|p| p.as_str().to_string());

        let resp = next.run(req).await;

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

#[derive(Serialize)]
struct Receipt<'a> {
    id: &'a str,
    status: &'a str,
}

async fn receive_webhook(State(s): State<Server>, headers: HeaderMap, body: Body) -> Response {
    let Ok(body) = axum::body::to_bytes(body, s.max_body_bytes).await else {
        return reject(
            &s,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "body too large",
        );
    };

    let sig = headers
        .get("Webhook-Signature")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    match s.svc.receive(&sig, &body).await {
        Err(intake::Error::Signature(err @ SignatureError::Stale)) => {
            reject(&s, StatusCode::UNAUTHORIZED, "timestamp", &err.to_string())
        }
        Err(intake::Error::Signature(err @ SignatureError::Invalid)) => {
            reject(&s, StatusCode::UNAUTHORIZED, "signature", &err.to_string())
        }
        Err(err @ intake::Error::InvalidEvent) => reject(
            &s,
            StatusCode::BAD_REQUEST,
            "invalid_event",
            &err.to_string(),
        ),
        Err(err) => internal_error(&err),
        Ok(out) if out.duplicate => write_json(
            StatusCode::OK,
            &Receipt {
                id: &out.id,
                status: "duplicate",
            },
        ),
        Ok(out) => write_json(
            StatusCode::ACCEPTED,
            &Receipt {
                id: &out.id,
                status: "accepted",
            },
        ),
    }
}

/// Answers a refused webhook, counts it and says why in the log.
fn reject(s: &Server, status: StatusCode, reason: &str, msg: &str) -> Response {
    s.metrics.event_rejected();
    tracing::warn!(reason, "webhook rejected");
    write_error(status, msg)
}

async fn get_event(State(s): State<Server>, Path(id): Path<String>) -> Response {
    match s.svc.get(&id) {
        Err(StoreError::NotFound) => write_error(StatusCode::NOT_FOUND, "event not found"),
        Err(err) => internal_error(&err),
        Ok(ev) => write_json(StatusCode::OK, &ev),
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

/// Writes `v` as a JSON body without a trailing newline, as the README's
/// examples show the bodies.
fn write_json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    (status, Json(v)).into_response()
}
