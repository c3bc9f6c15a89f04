//! Test helpers: a real upstream server on loopback and a proxy in front
//! of it.

#![allow(dead_code)] // each test file uses a different subset

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use edgeproxy::metrics::Metrics;
use edgeproxy::proxy::{self, Proxy};
use edgeproxy::upstream::{self, Pool};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub type Handler = Arc<
    dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>>
        + Send
        + Sync,
>;

/// Wraps an async closure as a Handler.
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    Arc::new(move |req| Box::pin(f(req)))
}

/// A running upstream; dropping it stops accepting (like `srv.Close()`).
pub struct Upstream {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    pub fn close(&self) {
        self.task.abort();
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves every request with `h` on a fresh loopback port.
pub async fn serve(h: Handler) -> Upstream {
    let ln = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", ln.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((stream, _)) = ln.accept().await {
            let h = h.clone();
            conns.spawn(async move {
                let svc = service_fn(move |req| {
                    let h = h.clone();
                    async move { Ok::<_, Infallible>(h(req).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Upstream { url, task }
}

/// Serves /healthz with 200 and everything else with `h`.
pub async fn new_upstream(h: Handler) -> Upstream {
    serve(handler(move |req: Request<Incoming>| {
        let h = h.clone();
        async move {
            if req.uri().path() == "/healthz" {
                return Response::new(Full::new(Bytes::new()));
            }
            h(req).await
        }
    }))
    .await
}

/// An answer with a status and a body.
pub fn answer(status: u16, body: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    resp
}

/// A proxy in front of the given upstream URLs, already health-checked.
pub async fn new_proxy(upstream_timeout: Duration, urls: &[&str]) -> Proxy {
    let urls: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
    let pool = Arc::new(Pool::new(
        &urls,
        upstream::Options {
            max_conns: 8,
            health_timeout: Duration::from_secs(1),
        },
    ));
    pool.check_all().await;
    Proxy::new(
        pool,
        proxy::Options {
            upstream_timeout,
            body_idle_timeout: Duration::from_secs(1),
            max_idle: 4,
        },
        Arc::new(Metrics::new()),
    )
}

/// What a request through the proxy produced.
pub struct Recorded {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: String,
}

/// Runs one request through the proxy from client 192.0.2.1.
pub async fn send(
    px: &Proxy,
    method: &str,
    target: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> Recorded {
    let mut req = Request::builder().method(method).uri(target);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::from(body.to_string()))).unwrap();
    let peer: SocketAddr = "192.0.2.1:40000".parse().unwrap();
    let resp = px.serve(req, peer).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Recorded {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Asserts a JSON error answer.
pub fn assert_error(r: &Recorded, status: u16, msg: &str) {
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
    assert!(
        r.status == status && body["error"] == msg,
        "got {} {:?}, want {status} {{\"error\":{msg:?}}}",
        r.status,
        r.body
    );
}
