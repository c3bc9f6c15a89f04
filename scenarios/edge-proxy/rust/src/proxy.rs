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
use crate::upstream::{Pool, Upstream};
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
#[derive(Debug)]
enum UpstreamError {
    Timeout,
    Failed(String),
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
            self.admin(&path).await
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

    async fn admin(&self, path: &str) -> Response<ProxyBody> {
        match path.strip_prefix(ADMIN_PREFIX) {
            Some("healthz") => json_response(StatusCode::OK, r#"{"status":"ok"}"#.to_string()),
            Some("metrics") => {
                let text = self.metrics.text(&self.pool.states().await);
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
        let Some(up) = self.pool.acquire().await else {
            return error_response(StatusCode::SERVICE_UNAVAILABLE, "no healthy upstream");
        };

        let resp = match self.call_upstream(outgoing_request(req, &up, peer)).await {
            Ok(resp) => resp,
            Err(err) => {
                up.release();
                return self.upstream_failed(&up, err);
            }
        };

        let (mut parts, body) = resp.into_parts();
        remove_hop_by_hop(&mut parts.headers);
        // From here the body holds the slot: it is released when the body
        // is finished or dropped (the client went away).
        let body = UpstreamBody::new(body, self.opts.body_idle_timeout, up);
        Response::from_parts(parts, body.boxed_unsync())
    }

    /// Sends `out` and waits for the response headers, at most the upstream
    /// timeout.
    async fn call_upstream(
        &self,
        out: Request<ProxyBody>,
    ) -> Result<Response<Incoming>, UpstreamError> {
        match tokio::time::timeout(self.opts.upstream_timeout, self.client.request(out)).await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(err)) => Err(UpstreamError::Failed(err.to_string())),
            Err(_) => Err(UpstreamError::Timeout),
        }
    }

    /// Answers a request whose upstream call failed: 504 when the upstream
    /// timeout fired, 502 otherwise.
    fn upstream_failed(&self, up: &Upstream, err: UpstreamError) -> Response<ProxyBody> {
        self.metrics.upstream_failure(up.index);
        match err {
            UpstreamError::Timeout => {
                tracing::warn!(
                    upstream = up.index,
                    error = "no response headers within the upstream timeout",
                    "upstream failed"
                );
                error_response(StatusCode::GATEWAY_TIMEOUT, "upstream timeout")
            }
            UpstreamError::Failed(msg) => {
                tracing::warn!(upstream = up.index, error = %msg, "upstream failed");
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

/// The upstream's response body, passed through frame by frame, so neither
/// a large nor a slow body is ever held whole. It fails when the upstream
/// stays silent longer than the idle timeout, and releases the upstream's
/// connection slot when dropped.
struct UpstreamBody {
    inner: Incoming,
    idle: Duration,
    timer: Pin<Box<Sleep>>,
    upstream: Arc<Upstream>,
}

impl UpstreamBody {
    fn new(inner: Incoming, idle: Duration, upstream: Arc<Upstream>) -> UpstreamBody {
        UpstreamBody {
            inner,
            idle,
            timer: Box::pin(tokio::time::sleep(idle)),
            upstream,
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
                Poll::Ready(()) => {
                    let err = "upstream body idle for longer than the body idle timeout".into();
                    Poll::Ready(Some(Err(this.abort(err))))
                }
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
    fn abort(&self, err: BoxError) -> BoxError {
        tracing::warn!(upstream = self.upstream.index, error = %err, "response aborted");
        err
    }
}

impl Drop for UpstreamBody {
    fn drop(&mut self) {
        self.upstream.release();
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
