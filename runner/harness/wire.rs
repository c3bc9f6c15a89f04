//! The request a fake receives: its head parsed by `httparse`, its body read
//! by Content-Length or chunked (chunk sizes parsed by `httparse` too).
//!
//! The fakes read requests off the raw socket rather than through an HTTP
//! server library because their faults act on the connection itself (see
//! `fake.rs`); this module is only the reading half, so nothing of HTTP
//! framing is hand-parsed but the loop that feeds bytes to `httparse`.

use std::io;

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Larger heads are refused: nothing the kit talks to needs more.
const MAX_HEAD: usize = 64 * 1024;
/// Larger bodies are refused, so a runaway service cannot exhaust memory.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Headers of one request at most.
const MAX_HEADERS: usize = 128;

#[derive(Debug, Error)]
pub enum WireError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("connection closed before a complete message")]
    UnexpectedEof,
    #[error("header section larger than {MAX_HEAD} bytes")]
    HeadTooLarge,
    #[error("body larger than {MAX_BODY} bytes")]
    BodyTooLarge,
    #[error("malformed HTTP: {0}")]
    Malformed(String),
}

/// One request as received: header names as sent (case kept).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target as sent, query included.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The value of the first header called `name` (case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads one request from `stream`; `None` on a clean EOF before any byte.
pub async fn read_request<R: AsyncRead + Unpin>(
    stream: &mut R,
) -> Result<Option<Request>, WireError> {
    let mut buf = Vec::new();
    let (head_len, mut request) = loop {
        if let Some(parsed) = parse_head(&buf)? {
            break parsed;
        }
        if buf.len() > MAX_HEAD {
            return Err(WireError::HeadTooLarge);
        }
        if !fill(stream, &mut buf).await? {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(WireError::UnexpectedEof)
            };
        }
    };
    buf.drain(..head_len);
    let chunked = header(&request.headers, "transfer-encoding").is_some_and(|te| {
        te.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("chunked"))
    });
    request.body = if chunked {
        read_chunked(stream, buf).await?
    } else if let Some(len) = header(&request.headers, "content-length") {
        let len: usize = len
            .trim()
            .parse()
            .map_err(|_| WireError::Malformed(format!("Content-Length {len:?}")))?;
        if len > MAX_BODY {
            return Err(WireError::BodyTooLarge);
        }
        take(stream, &mut buf, len).await?
    } else {
        Vec::new()
    };
    Ok(Some(request))
}

/// The head at the start of `buf` and its length, or `None` if incomplete.
fn parse_head(buf: &[u8]) -> Result<Option<(usize, Request)>, WireError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(WireError::Malformed(e.to_string())),
    };
    Ok(Some((
        len,
        Request {
            method: parsed.method.unwrap_or_default().to_string(),
            path: parsed.path.unwrap_or_default().to_string(),
            headers: parsed
                .headers
                .iter()
                .map(|h| {
                    let value = String::from_utf8_lossy(h.value).trim().to_string();
                    (h.name.to_string(), value)
                })
                .collect(),
            body: Vec::new(),
        },
    )))
}

/// Reads more bytes into `buf`; `false` at EOF.
async fn fill<R: AsyncRead + Unpin>(stream: &mut R, buf: &mut Vec<u8>) -> Result<bool, WireError> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

/// The next `n` bytes: from `buf` first, then from the stream.
async fn take<R: AsyncRead + Unpin>(
    stream: &mut R,
    buf: &mut Vec<u8>,
    n: usize,
) -> Result<Vec<u8>, WireError> {
    while buf.len() < n {
        if !fill(stream, buf).await? {
            return Err(WireError::UnexpectedEof);
        }
    }
    Ok(buf.drain(..n).collect())
}

async fn read_chunked<R: AsyncRead + Unpin>(
    stream: &mut R,
    mut buf: Vec<u8>,
) -> Result<Vec<u8>, WireError> {
    let mut body = Vec::new();
    loop {
        let (consumed, size) = loop {
            match httparse::parse_chunk_size(&buf) {
                Ok(httparse::Status::Complete(parsed)) => break parsed,
                Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
                    return Err(WireError::HeadTooLarge)
                }
                Ok(httparse::Status::Partial) => {
                    if !fill(stream, &mut buf).await? {
                        return Err(WireError::UnexpectedEof);
                    }
                }
                Err(_) => {
                    let line = String::from_utf8_lossy(&buf[..buf.len().min(40)]).into_owned();
                    return Err(WireError::Malformed(format!("chunk size {line:?}")));
                }
            }
        };
        buf.drain(..consumed);
        let size = usize::try_from(size).map_err(|_| WireError::BodyTooLarge)?;
        if size == 0 {
            // Trailers are not read: the fake answers and closes.
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(WireError::BodyTooLarge);
        }
        let chunk = take(stream, &mut buf, size + 2).await?;
        if &chunk[size..] != b"\r\n" {
            return Err(WireError::Malformed("chunk not followed by CRLF".into()));
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(mut bytes: &[u8]) -> Result<Option<Request>, WireError> {
        read_request(&mut bytes).await
    }

    #[tokio::test]
    async fn a_content_length_request_keeps_its_header_case_and_exact_body() {
        let r = read(
            b"POST /v1/charges?x=1 HTTP/1.1\r\nIdempotency-Key: k1\r\nContent-Length: 5\r\nX-A:  b \r\n\r\nhelloEXTRA",
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("POST", "/v1/charges?x=1")
        );
        assert_eq!(
            r.headers[0],
            ("Idempotency-Key".to_string(), "k1".to_string())
        );
        assert_eq!(header(&r.headers, "x-a"), Some("b"));
        assert_eq!(r.body, b"hello");
    }

    #[tokio::test]
    async fn a_chunked_request_body_is_joined_with_extensions_ignored() {
        let raw = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
        assert_eq!(read(raw).await.unwrap().unwrap().body, b"Wikipedia");
    }

    #[tokio::test]
    async fn a_request_without_length_has_no_body() {
        let r = read(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nignored")
            .await
            .unwrap();
        assert!(r.unwrap().body.is_empty());
    }

    #[tokio::test]
    async fn truncated_and_malformed_requests_are_errors() {
        assert!(matches!(
            read(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort").await,
            Err(WireError::UnexpectedEof)
        ));
        assert!(matches!(
            read(b"POST / HTTP/1.1\r\nContent-Len").await,
            Err(WireError::UnexpectedEof)
        ));
        assert!(matches!(
            read(b"POST / HTTP/1.1\r\nno colon\r\n\r\n").await,
            Err(WireError::Malformed(_))
        ));
        assert!(matches!(
            read(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").await,
            Err(WireError::Malformed(_))
        ));
        assert!(read(b"").await.unwrap().is_none());
    }
}
