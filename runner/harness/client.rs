//! The HTTP/1.1 client checks drive the service with: hyper's low-level
//! connection API, one request per connection (`Connection: close`), the
//! whole response read (any framing, at most [`MAX_BODY`] bytes).
//!
//! No pool and no retries, on purpose: a check must tell "no answer in time"
//! (the caller's deadline) from "connection reset" from "bad status" exactly,
//! and a request must never be re-sent behind its back.

use std::error::Error as _;
use std::io;
use std::net::SocketAddr;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{header, Method, Request};
use hyper_util::rt::TokioIo;
use thiserror::Error;
use tokio::net::TcpStream;

/// Larger response bodies are refused, so a runaway service cannot exhaust memory.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("bad base URL {0:?}: expected http://HOST:PORT with a numeric loopback host")]
    BadUrl(String),
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("cannot build the request: {0}")]
    Request(String),
    #[error("connection reset")]
    Reset,
    #[error("connection closed before a complete message")]
    Incomplete,
    #[error("body larger than {MAX_BODY} bytes")]
    BodyTooLarge,
    #[error("{0}")]
    Http(String),
}

impl ClientError {
    /// The error as a check's failure reason: what went wrong with the service.
    pub(crate) fn reason(&self) -> String {
        match self {
            ClientError::Reset => "connection reset by the service".to_string(),
            ClientError::Connect { source, .. } => {
                format!("cannot connect to the service: {source}")
            }
            ClientError::Request(_) => self.to_string(),
            other => format!("bad response: {other}"),
        }
    }

    fn from_hyper(e: hyper::Error) -> ClientError {
        let mut eof = false;
        let mut source = e.source();
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<io::Error>() {
                if is_reset(io) {
                    return ClientError::Reset;
                }
                // A body cut short: "end of file before message length reached".
                eof |= io.kind() == io::ErrorKind::UnexpectedEof;
            }
            source = s.source();
        }
        if e.is_incomplete_message() || eof {
            ClientError::Incomplete
        } else {
            ClientError::Http(e.to_string())
        }
    }
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header names as hyper gives them (lower case); look them up with [`Response::header`].
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// `http://127.0.0.1:8080` (optionally with a trailing `/`) → its socket address.
pub fn parse_base_url(url: &str) -> Result<SocketAddr, ClientError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| ClientError::BadUrl(url.into()))?;
    rest.trim_end_matches('/')
        .parse()
        .map_err(|_| ClientError::BadUrl(url.into()))
}

/// Sends one request and reads the whole response. No timeout here: callers
/// wrap the future in their own deadline, so a hang is theirs to judge (and
/// dropping the future closes the connection).
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Result<Response, ClientError> {
    let body = body.unwrap_or_default();
    let request = build(addr, method, path, headers, body)?;
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| ClientError::Connect { addr, source })?;
    stream
        .set_nodelay(true)
        .map_err(|source| ClientError::Connect { addr, source })?;
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        // `Idempotency-Key`, not `idempotency-key`: as a hand-written client
        // would send it (HTTP does not care; people reading a capture do).
        .title_case_headers(true)
        .handshake(TokioIo::new(stream))
        .await
        .map_err(ClientError::from_hyper)?;
    let exchange = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(ClientError::from_hyper)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_string(), value)
            })
            .collect();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| match e.downcast::<hyper::Error>() {
                Ok(e) => ClientError::from_hyper(*e),
                Err(_) => ClientError::BodyTooLarge,
            })?
            .to_bytes()
            .to_vec();
        Ok(Response {
            status,
            headers,
            body,
        })
    };
    // The connection is driven here, not in a task of its own, so that a
    // caller giving up (dropping this future) closes the socket at once.
    tokio::pin!(conn, exchange);
    tokio::select! {
        result = &mut exchange => result,
        // The connection ended first (the service closed or reset it); the
        // exchange sees why.
        _ = &mut conn => exchange.await,
    }
}

fn build(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Request<Full<Bytes>>, ClientError> {
    let method =
        Method::from_bytes(method.as_bytes()).map_err(|e| ClientError::Request(e.to_string()))?;
    let mut request = Request::builder()
        .method(method.clone())
        .uri(path)
        .header(header::HOST, addr.to_string())
        .header(header::CONNECTION, "close");
    let has = |name: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    for (k, v) in headers {
        request = request.header(k.as_str(), v.as_str());
    }
    if !body.is_empty() && !has("content-type") {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let bodiless = matches!(
        method,
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS
    );
    if (!body.is_empty() || !bodiless) && !has("content-length") {
        request = request.header(header::CONTENT_LENGTH, body.len());
    }
    request
        .body(Full::new(Bytes::copy_from_slice(body)))
        .map_err(|e| ClientError::Request(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Serves one connection with a canned answer; returns what the client sent.
    async fn one_shot(answer: &'static [u8]) -> (SocketAddr, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // Read until the request (head + declared body) is complete.
            loop {
                let n = s.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some(i) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .map(|v| v.trim().parse::<usize>().unwrap())
                        .unwrap_or(0);
                    if got.len() >= i + 4 + len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            s.write_all(answer).await.unwrap();
            String::from_utf8(got).unwrap()
        });
        (addr, task)
    }

    #[tokio::test]
    async fn sends_close_and_content_length_and_parses_the_answer() {
        let (addr, server) = one_shot(b"HTTP/1.1 201 Created\r\nContent-Length: 11\r\nIdempotent-Replayed: true\r\n\r\n{\"id\":\"x\"}\n").await;
        let headers = vec![("Idempotency-Key".to_string(), "k1".to_string())];
        let resp = send(addr, "POST", "/v1/charges", &headers, Some(b"{\"a\":1}"))
            .await
            .unwrap();
        assert_eq!(resp.status, 201);
        assert_eq!(resp.header("idempotent-replayed"), Some("true"));
        assert_eq!(resp.json().unwrap()["id"], "x");
        let sent = server.await.unwrap();
        assert!(sent.starts_with("POST /v1/charges HTTP/1.1\r\n"), "{sent}");
        assert!(sent.contains("Connection: close\r\n"));
        assert!(sent.contains("Idempotency-Key: k1\r\n"));
        assert!(sent.contains("Content-Length: 7\r\n"));
        assert!(sent.ends_with("\r\n\r\n{\"a\":1}"));
    }

    #[tokio::test]
    async fn parses_chunked_answers_after_100_continue() {
        let (addr, _server) = one_shot(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab \r\n2\r\nok\r\n0\r\n\r\n",
        )
        .await;
        let resp = send(addr, "GET", "/metrics", &[], None).await.unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.text(), "ab ok");
    }

    #[tokio::test]
    async fn bad_status_lines_and_refused_connections_are_errors() {
        let (addr, _server) = one_shot(b"SSH-2.0-OpenSSH\r\n\r\n").await;
        let err = send(addr, "GET", "/", &[], None).await.unwrap_err();
        assert!(matches!(err, ClientError::Http(_)), "{err:?}");
        assert!(err.reason().starts_with("bad response: "), "{err}");

        let (addr, _server) = one_shot(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").await;
        let err = send(addr, "GET", "/", &[], None).await.unwrap_err();
        assert!(matches!(err, ClientError::Incomplete), "{err:?}");

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed = listener.local_addr().unwrap();
        drop(listener);
        assert!(matches!(
            send(closed, "GET", "/", &[], None).await,
            Err(ClientError::Connect { .. })
        ));
    }

    #[tokio::test]
    async fn a_reset_after_the_request_is_told_apart() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await.unwrap();
            // SO_LINGER 0: close() sends a RST instead of a FIN.
            s.set_zero_linger().unwrap();
        });
        let err = send(addr, "GET", "/", &[], None).await.unwrap_err();
        server.await.unwrap();
        assert!(matches!(err, ClientError::Reset), "{err:?}");
        assert_eq!(err.reason(), "connection reset by the service");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await.unwrap();
            let len = MAX_BODY + 1;
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n");
            s.write_all(head.as_bytes()).await.unwrap();
            // The client stops reading at the limit: later writes may fail.
            let _ = s.write_all(&vec![b'a'; len]).await;
        });
        let err = send(addr, "GET", "/", &[], None).await.unwrap_err();
        assert!(matches!(err, ClientError::BodyTooLarge), "{err:?}");
    }

    #[test]
    fn base_urls_parse_to_socket_addresses() {
        assert_eq!(
            parse_base_url("http://127.0.0.1:8080/").unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert!(parse_base_url("https://127.0.0.1:1").is_err());
        assert!(parse_base_url("http://localhost:1").is_err());
    }
}
