//! The HTTP handler: authenticates the bearer token, applies the access
//! rules and forwards allowed requests to the backend with the token's
//! subject in X-Auth-Subject.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode};
use axum::Router;

use crate::keys::Cache;
use crate::metrics::{Gauges, Metrics};
use crate::routecache::RouteCache;
use crate::rules::{allow, Denial, Route, Store};
use crate::token::{unix, Claims, TokenError};

/// Carries the authenticated subject to the backend.
pub const SUBJECT_HEADER: &str = "x-auth-subject";

/// The largest request body forwarded.
const MAX_BODY: usize = 1 << 20;

/// The headers that describe one connection, not the request.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Configures a Gateway.
#[derive(Debug, Clone)]
pub struct Options {
    pub backend_url: String,
    pub backend_timeout: Duration,
    pub leeway: Duration,
}

/// Serves /healthz, /metrics and forwards everything else.
pub struct Gateway {
    opts: Options,
    keys: Arc<Cache>,
    rules: Arc<Store>,
    routes: RouteCache,
    metrics: Arc<Metrics>,
    client: reqwest::Client,
}

impl Gateway {
    pub fn new(
        opts: Options,
        keys: Arc<Cache>,
        rules: Arc<Store>,
        metrics: Arc<Metrics>,
    ) -> Gateway {
        let client = reqwest::Client::builder()
            // Redirects are the client's business, not the gateway's.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client without TLS builds");
        Gateway {
            opts,
            keys,
            rules,
            routes: RouteCache::new(),
            metrics,
            client,
        }
    }

    /// The router: every path goes through [`Gateway::serve`].
    pub fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(move |req: Request<Body>| {
            let gw = self.clone();
            async move { gw.serve(req).await }
        })
    }

    pub async fn serve(&self, req: Request<Body>) -> Response<Body> {
        match req.uri().path() {
            "/healthz" => return json(StatusCode::OK, serde_json::json!({"status": "ok"})),
            "/metrics" => {
                let (set, _) = self.rules.current();
                let text = self.metrics.text(Gauges {
                    keys: self.keys.len(),
                    routes: set.len(),
                    route_cache_entries: self.routes.len(),
                });
                let mut resp = Response::new(Body::from(text));
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4"),
                );
                return resp;
            }
            _ => {}
        }
        let path = req.uri().path().to_string();
        let claims = match self.authenticate(req.headers()).await {
            Ok(c) => c,
            Err(err) => {
                self.metrics.request("unauthenticated");
                tracing::info!(path, status = 401, reason = %err, "request refused");
                return unauthorized(&err.to_string());
            }
        };
        let route = self.route(&path);
        if let Err(denial) = allow(
            route.as_deref(),
            &claims,
            SystemTime::now(),
            self.opts.leeway,
        ) {
            let status = if denial == Denial::AuthTooOld {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::FORBIDDEN
            };
            let outcome = if status == StatusCode::UNAUTHORIZED {
                "unauthenticated"
            } else {
                "forbidden"
            };
            self.metrics.request(outcome);
            tracing::info!(path, status = status.as_u16(), subject = claims.subject, reason = %denial, "request refused");
            if status == StatusCode::UNAUTHORIZED {
                return unauthorized(&denial.to_string());
            }
            return json(status, serde_json::json!({"error": denial.to_string()}));
        }
        self.forward(req, &claims.subject).await
    }

    /// Verifies the bearer token of a request.
    async fn authenticate(&self, headers: &HeaderMap) -> Result<Claims, String> {
        let raw = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or("missing bearer token")?;
        let c = Claims::parse(raw.trim()).map_err(|e| e.to_string())?;
        let key = self
            .keys
            .lookup(&c.kid)
            .await
            .ok_or(TokenError::UnknownKey.to_string())?;
        c.check_signature(&key.secret).map_err(|e| e.to_string())?;
        let now = SystemTime::now();
        if key.not_after > 0 && unix(now) > key.not_after {
            return Err(TokenError::UnknownKey.to_string());
        }
        c.check_time(now, self.opts.leeway)
            .map_err(|e| e.to_string())?;
        Ok(c)
    }

    /// The route deciding `path`, through the cache.
    fn route(&self, path: &str) -> Option<Arc<Route>> {
        let (set, generation) = self.rules.current();
        if let Some(route) = self.routes.lookup(path, generation) {
            self.metrics.route_cache_hit();
            return route;
        }
        let route = set.matching(path);
        self.routes.store(path, generation, route.clone());
        route
    }

    /// Sends the request to the backend and copies the answer back.
    async fn forward(&self, req: Request<Body>, subject: &str) -> Response<Body> {
        let path = req.uri().path().to_string();
        let target = match req.uri().path_and_query() {
            Some(pq) => format!("{}{pq}", self.opts.backend_url),
            None => format!("{}{path}", self.opts.backend_url),
        };
        let (parts, body) = req.into_parts();
        let Ok(body) = to_bytes(body, MAX_BODY).await else {
            return json(
                StatusCode::PAYLOAD_TOO_LARGE,
                serde_json::json!({"error": "body too large"}),
            );
        };
        let mut headers = parts.headers.clone();
        for h in HOP_BY_HOP {
            headers.remove(*h);
        }
        headers.remove(header::AUTHORIZATION);
        headers.remove(header::HOST);
        headers.remove(header::CONTENT_LENGTH);
        match HeaderValue::from_str(subject) {
            Ok(v) => {
                headers.insert(SUBJECT_HEADER, v);
            }
            Err(_) => {
                return json(
                    StatusCode::BAD_REQUEST,
                    serde_json::json!({"error": "bad subject"}),
                )
            }
        }
        let sent = self
            .client
            .request(parts.method, target)
            .headers(headers)
            .body(body)
            .timeout(self.opts.backend_timeout)
            .send()
            .await;
        let answer = match sent {
            Ok(resp) => {
                let status = resp.status();
                let headers = resp.headers().clone();
                resp.bytes().await.map(|b| (status, headers, b))
            }
            Err(e) => Err(e),
        };
        let (status, resp_headers, bytes) = match answer {
            Ok(a) => a,
            Err(err) if err.is_timeout() => {
                self.metrics.request("backend_timeout");
                tracing::warn!(
                    path,
                    timeout_ms = self.opts.backend_timeout.as_millis() as u64,
                    "backend timed out"
                );
                return json(
                    StatusCode::GATEWAY_TIMEOUT,
                    serde_json::json!({"error": "backend timed out"}),
                );
            }
            Err(err) => {
                self.metrics.request("backend_error");
                tracing::warn!(path, error = %err, "backend failed");
                return json(
                    StatusCode::BAD_GATEWAY,
                    serde_json::json!({"error": "backend unavailable"}),
                );
            }
        };
        let mut resp = Response::new(Body::from(bytes));
        *resp.status_mut() = status;
        for (k, v) in resp_headers.iter() {
            if !HOP_BY_HOP.contains(&k.as_str()) && k != header::CONTENT_LENGTH {
                resp.headers_mut().append(k, v.clone());
            }
        }
        self.metrics.request("forwarded");
        resp
    }
}

fn json(status: StatusCode, v: serde_json::Value) -> Response<Body> {
    let mut resp = Response::new(Body::from(v.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn unauthorized(reason: &str) -> Response<Body> {
    let mut resp = json(
        StatusCode::UNAUTHORIZED,
        serde_json::json!({"error": reason}),
    );
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    resp
}
