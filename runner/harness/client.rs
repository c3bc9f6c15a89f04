//! A minimal HTTP/1.1 client: one request per connection (`Connection:
//! close`), Content-Length request bodies, any response framing.
//!
//! The harness needs to tell "no answer in time" from "connection reset" from
//! "bad status" exactly, and to talk to nothing but loopback, so a small
//! transparent client beats a general-purpose one.

use std::io;
use std::net::SocketAddr;

use thiserror::Error;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::wire::{self, Reader, WireError};

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
    #[error("connection reset")]
    Reset,
    #[error("{0}")]
    Wire(WireError),
}

impl From<WireError> for ClientError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Io(io) if is_reset(&io) => ClientError::Reset,
            e => ClientError::Wire(e),
        }
    }
}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        WireError::Io(e).into()
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
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        wire::header(&self.headers, name)
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
/// wrap the future in their own deadline, so a hang is theirs to judge.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Result<Response, ClientError> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|source| ClientError::Connect { addr, source })?;
    stream.set_nodelay(true)?;
    let mut msg = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        msg.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or_default();
    let has_type = wire::header(headers, "content-type").is_some();
    if !body.is_empty() && !has_type {
        msg.push_str("Content-Type: application/json\r\n");
    }
    if !body.is_empty() || !matches!(method, "GET" | "HEAD" | "DELETE" | "OPTIONS") {
        msg.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    msg.push_str("\r\n");
    let mut bytes = msg.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).await?;

    let mut reader = Reader::new(stream);
    loop {
        let head = reader.read_head().await?.ok_or(WireError::UnexpectedEof)?;
        let status = parse_status(&head.start_line)?;
        // Interim answers (100 Continue) precede the real one.
        if (100..200).contains(&status) {
            continue;
        }
        let body = if method == "HEAD" || status == 204 || status == 304 {
            Vec::new()
        } else {
            reader.read_body(&head.headers, true).await?
        };
        return Ok(Response {
            status,
            headers: head.headers,
            body,
        });
    }
}

fn parse_status(line: &str) -> Result<u16, WireError> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return Err(WireError::Malformed(format!("status line {line:?}")));
    }
    code.parse()
        .map_err(|_| WireError::Malformed(format!("status line {line:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
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
        assert!(err.to_string().contains("status line"), "{err}");

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed = listener.local_addr().unwrap();
        drop(listener);
        assert!(matches!(
            send(closed, "GET", "/", &[], None).await,
            Err(ClientError::Connect { .. })
        ));
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
