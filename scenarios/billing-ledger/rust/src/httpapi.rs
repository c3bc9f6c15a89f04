//! The HTTP layer: routes, handlers, JSON errors, the request log and the
//! metrics middleware.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::ledger::{self, Service};
use crate::metrics::Metrics;
use crate::store::StoreError;

/// Bounds the request body we are willing to parse.
const MAX_BODY_BYTES: usize = 1 << 20;

#[derive(Clone)]
struct Server {
    svc: Arc<Service>,
    metrics: Arc<Metrics>,
}

/// The service's HTTP handler.
pub fn new(svc: Arc<Service>, metrics: Arc<Metrics>) -> Router {
    let s = Server {
        svc,
        metrics: metrics.clone(),
    };
    Router::new()
        .route("/v1/charges", post(create_charge))
        .route("/v1/charges/{id}", get(get_charge))
        .route("/v1/accounts/{id}", get(get_account))
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

/// Every field is required and must have its type (a missing or null field
/// is "invalid JSON body", not "invalid amount_cents").
#[derive(Deserialize)]
struct ChargeBody {
    account: String,
    amount_cents: i64,
    currency: String,
}

async fn create_charge(State(s): State<Server>, headers: HeaderMap, body: Body) -> Response {
    let key = headers
        .get("Idempotency-Key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    if let Err(err) = ledger::validate_key(&key) {
        return write_error(StatusCode::BAD_REQUEST, &err.to_string());
    }
    let raw = axum::body::to_bytes(body, MAX_BODY_BYTES).await;
    let Some(body) = raw
        .ok()
        .and_then(|raw| serde_json::from_slice::<ChargeBody>(&raw).ok())
    else {
        return write_error(StatusCode::BAD_REQUEST, "invalid JSON body");
    };

    let result = s
        .svc
        .charge(ledger::Request {
            idempotency_key: key,
            account: body.account,
            amount_cents: body.amount_cents,
            currency: body.currency,
        })
        .await;
    match result {
        Ok((ch, replayed)) => {
            let mut resp = write_json(StatusCode::CREATED, &ch);
            if replayed {
                resp.headers_mut()
                    .insert("Idempotent-Replayed", HeaderValue::from_static("true"));
            }
            resp
        }
        Err(err @ ledger::Error::Validation(_)) => {
            write_error(StatusCode::BAD_REQUEST, &err.to_string())
        }
        Err(err @ ledger::Error::Conflict) => write_error(StatusCode::CONFLICT, &err.to_string()),
        Err(err @ ledger::Error::LimitExceeded) => {
            write_error(StatusCode::UNPROCESSABLE_ENTITY, &err.to_string())
        }
        Err(err @ ledger::Error::ProviderUnavailable) => {
            write_error(StatusCode::BAD_GATEWAY, &err.to_string())
        }
        Err(err) => internal_error(&err),
    }
}

async fn get_charge(State(s): State<Server>, Path(id): Path<String>) -> Response {
    match s.svc.get_charge(&id) {
        Err(StoreError::NotFound) => write_error(StatusCode::NOT_FOUND, "charge not found"),
        Err(err) => internal_error(&err),
        Ok(ch) => write_json(StatusCode::OK, &ch),
    }
}

async fn get_account(State(s): State<Server>, Path(id): Path<String>) -> Response {
    match s.svc.account(&id) {
        Err(StoreError::NotFound) => write_error(StatusCode::NOT_FOUND, "account not found"),
        Err(err) => internal_error(&err),
        Ok(acct) => write_json(StatusCode::OK, &acct),
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
