//! The HTTP handler: the proxy's own routes under `/_proxy/` and the
//! forwarding of everything else to an upstream, streaming both bodies.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper::http::uri::{PathAndQuery, Scheme};
use hyper::{Request, Response, StatusCode, Uri, Version};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::Sleep;

use crate::headers::{append_forwarded_for, remove_hop_by_hop};
use crate::metrics::Metrics;
use crate::upstream::{Pool, Slot, Upstream};
use crate::BoxError;

/// The path prefix the proxy answers itself; nothing under it is forwarded.
pub const ADMIN_PREFIX: &str = "/_proxy/";

/// The body of every response the proxy sends, and of every request it
/// forwards.
pub type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

/// Configures a Proxy.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// From sending the request to the response headers.
    pub upstream_timeout: Duration,
    /// Longest wait for the next piece of the upstream body.
    pub body_idle_timeout: Duration,
    /// Idle pooled connections kept per upstream.
    pub max_idle: usize,
}

/// Forwards requests to the upstreams of a pool.
pub struct Proxy {
    pool: Arc<Pool>,
    opts: Options,
    client: Client<HttpConnector, ProxyBody>,
    metrics: Arc<Metrics>,
}

/// Why an upstream call produced no response.
#[derive(Debug, thiserror::Error)]
enum UpstreamError {
    #[error("no response headers within the upstream timeout")]
    Timeout,
    #[error(transparent)]
    Failed(#[from] hyper_util::client::legacy::Error),
}

/// Why a response body was cut short.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("upstream body idle for longer than the body idle timeout")]
    Idle,
    #[error(transparent)]
    Upstream(#[from] hyper::Error),
}

impl Proxy {
    /// Builds a Proxy with one connection pool shared by every upstream.
    pub fn new(pool: Arc<Pool>, opts: Options, metrics: Arc<Metrics>) -> Proxy {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(opts.upstream_timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(opts.max_idle)
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_timer(TokioTimer::new())
            .build(connector);
        Proxy {
            pool,
            opts,
            client,
            metrics,
        }
    }

    /// Answers the proxy's own routes and forwards everything else.
    pub async fn serve<B>(&self, req: Request<B>, peer: SocketAddr) -> Response<ProxyBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let start = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let resp = if path.starts_with(ADMIN_PREFIX) {
            self.admin(&path)
        } else {
            self.forward(req, peer).await
        };
        self.log_request(method.as_str(), &path, start, resp.status());
        resp
    }

    /// Logs and counts a request once its response head is ready.
    fn log_request(&self, method: &str, path: &str, start: Instant, status: StatusCode) {
        let elapsed = start.elapsed();
        self.metrics.request(status.as_u16(), elapsed);
        tracing::info!(
            method,
            path,
            status = status.as_u16(),
            duration_ms = elapsed.as_millis() as u64,
            "request"
        );
    }

    fn admin(&self, path: &str) -> Response<ProxyBody> {
        match path.strip_prefix(ADMIN_PREFIX) {
            Some("healthz") => json_response(StatusCode::OK, r#"{"status":"ok"}"#.to_string()),
            Some("metrics") => {
                let text = self.metrics.text(&self.pool.states());
                let mut resp = Response::new(full(text));
                resp.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4"),
                );
                resp
            }
            _ => error_response(StatusCode::NOT_FOUND, "not found"),
        }
    }

    /// Sends the request to an upstream and streams the answer back.
    async fn forward<B>(&self, req: Request<B>, peer: SocketAddr) -> Response<ProxyBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let Some(slot) = self.pool.acquire() else {
            return error_response(StatusCode::SERVICE_UNAVAILABLE, "no healthy upstream");
        };

        let resp = match self.call_upstream(outgoing_request(req, &slot, peer)).await {
            Ok(resp) => resp,
            Err(err) => return self.upstream_failed(&slot, err),
        };

        let (mut parts, body) = resp.into_parts();
        remove_hop_by_hop(&mut parts.headers);
        // hyper polls the body after this handler returns: the slot goes
        // with it.
        let body = UpstreamBody::new(body, self.opts.body_idle_timeout, slot);
        Response::from_parts(parts, body.boxed_unsync())
    }

    /// Sends `out` and waits for the response headers, at most the upstream
    /// timeout.
    async fn call_upstream(
        &self,
        out: Request<ProxyBody>,
    ) -> Result<Response<Incoming>, UpstreamError> {
        match tokio::time::timeout(self.opts.upstream_timeout, self.client.request(out)).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(UpstreamError::Timeout),
        }
    }

    /// Answers a request whose upstream call failed: 504 when the upstream
    /// timeout fired, 502 otherwise.
    fn upstream_failed(&self, up: &Upstream, err: UpstreamError) -> Response<ProxyBody> {
        self.metrics.upstream_failure(up.index);
        tracing::warn!(upstream = up.index, error = %err, "upstream failed");
        match err {
            UpstreamError::Timeout => {
                error_response(StatusCode::GATEWAY_TIMEOUT, "upstream timeout")
            }
            UpstreamError::Failed(_) => {
                error_response(StatusCode::BAD_GATEWAY, "upstream unavailable")
            }
        }
    }
}

/// `req` addressed to `up`: same method, path, query and body, end-to-end
/// headers only, the client added to X-Forwarded-For.
fn outgoing_request<B>(req: Request<B>, up: &Upstream, peer: SocketAddr) -> Request<ProxyBody>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let authority = up.url.strip_prefix("http://").unwrap_or(&up.url);
    parts.uri = Uri::builder()
        .scheme(Scheme::HTTP)
        .authority(authority)
        .path_and_query(path)
        .build()
        // The authority was validated with the configuration and the path
        // came from a parsed request.
        .expect("upstream URL and request path form a URI");
    parts.version = Version::HTTP_11;
    parts.headers.remove(HOST); // the upstream's host, from the URI
    remove_hop_by_hop(&mut parts.headers);
    append_forwarded_for(&mut parts.headers, peer);
    // Streamed, not copied.
    Request::from_parts(parts, body.map_err(Into::into).boxed_unsync())
}

/// The upstream's response body, passed on frame by frame. It fails when
/// the upstream stays silent longer than the idle timeout, and holds the
/// upstream's connection slot until it is dropped.
struct UpstreamBody {
    inner: Incoming,
    idle: Duration,
    timer: Pin<Box<Sleep>>,
    slot: Slot,
}

impl UpstreamBody {
    fn new(inner: Incoming, idle: Duration, slot: Slot) -> UpstreamBody {
        UpstreamBody {
            inner,
            idle,
            timer: Box::pin(tokio::time::sleep(idle)),
            slot,
        }
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let deadline = tokio::time::Instant::now() + this.idle;
                this.timer.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(this.abort(err.into())))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(this.abort(BodyError::Idle)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl UpstreamBody {
    /// Logs why the response is cut short; the head is already sent, so
    /// the only honest signal left is the error that makes the server cut
    /// the connection and the client see a truncated response.
    fn abort(&self, err: BodyError) -> BoxError {
        tracing::warn!(upstream = self.slot.index, error = %err, "response aborted");
        err.into()
    }
}

fn full(data: impl Into<Bytes>) -> ProxyBody {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn json_response(status: StatusCode, json: String) -> Response<ProxyBody> {
    let mut resp = Response::new(full(json + "\n"));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn error_response(status: StatusCode, msg: &str) -> Response<ProxyBody> {
    let json = serde_json::json!({ "error": msg }).to_string();
    json_response(status, json)
}
