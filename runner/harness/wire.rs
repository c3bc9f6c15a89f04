//! HTTP/1.1 framing shared by the fake servers and the client: the head
//! (start line + headers) and bodies by Content-Length, chunked or until EOF.
//!
//! Hand-rolled on purpose: the harness must control every byte and every
//! close (resets, hangs, trickled bodies), which a full HTTP stack hides.

use std::io;

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Larger heads are refused: nothing the kit talks to needs more.
const MAX_HEAD: usize = 64 * 1024;
/// Larger bodies are refused, so a runaway service cannot exhaust memory.
const MAX_BODY: usize = 16 * 1024 * 1024;

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

#[derive(Debug, Clone)]
pub struct Head {
    pub start_line: String,
    pub headers: Vec<(String, String)>,
}

/// The value of the first header called `name` (case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A reader with a buffer of bytes received but not yet consumed.
pub struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            buf: Vec::new(),
        }
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Reads more bytes into the buffer; `false` at EOF.
    async fn fill(&mut self) -> Result<bool, WireError> {
        let mut chunk = [0u8; 8192];
        let n = self.inner.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// The next head, or `None` on a clean EOF before any byte of it.
    pub async fn read_head(&mut self) -> Result<Option<Head>, WireError> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head: Vec<u8> = self.buf.drain(..end + 4).collect();
                return parse_head(&head[..end]).map(Some);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(WireError::HeadTooLarge);
            }
            if !self.fill().await? {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(WireError::UnexpectedEof)
                };
            }
        }
    }

    /// The body that follows `headers`. `to_eof` allows a body delimited by the
    /// end of the connection (responses only).
    pub async fn read_body(
        &mut self,
        headers: &[(String, String)],
        to_eof: bool,
    ) -> Result<Vec<u8>, WireError> {
        let chunked = header(headers, "transfer-encoding").is_some_and(|te| {
            te.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("chunked"))
        });
        if chunked {
            return self.read_chunked().await;
        }
        if let Some(len) = header(headers, "content-length") {
            let len: usize = len
                .trim()
                .parse()
                .map_err(|_| WireError::Malformed(format!("Content-Length {len:?}")))?;
            if len > MAX_BODY {
                return Err(WireError::BodyTooLarge);
            }
            return self.take(len).await;
        }
        if !to_eof {
            return Ok(Vec::new());
        }
        while self.fill().await? {
            if self.buf.len() > MAX_BODY {
                return Err(WireError::BodyTooLarge);
            }
        }
        Ok(std::mem::take(&mut self.buf))
    }

    async fn take(&mut self, n: usize) -> Result<Vec<u8>, WireError> {
        while self.buf.len() < n {
            if !self.fill().await? {
                return Err(WireError::UnexpectedEof);
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    async fn line(&mut self) -> Result<String, WireError> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..end + 2).collect();
                return Ok(String::from_utf8_lossy(&line[..end]).into_owned());
            }
            if self.buf.len() > MAX_HEAD {
                return Err(WireError::HeadTooLarge);
            }
            if !self.fill().await? {
                return Err(WireError::UnexpectedEof);
            }
        }
    }

    async fn read_chunked(&mut self) -> Result<Vec<u8>, WireError> {
        let mut body = Vec::new();
        loop {
            let line = self.line().await?;
            let size_hex = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| WireError::Malformed(format!("chunk size {line:?}")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.line().await?.is_empty() {}
                return Ok(body);
            }
            if body.len() + size > MAX_BODY {
                return Err(WireError::BodyTooLarge);
            }
            let chunk = self.take(size + 2).await?;
            if &chunk[size..] != b"\r\n" {
                return Err(WireError::Malformed("chunk not followed by CRLF".into()));
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(bytes: &[u8]) -> Result<Head, WireError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| WireError::Malformed("head is not UTF-8".into()))?;
    let mut lines = text.split("\r\n");
    let start_line = lines.next().unwrap_or("").to_string();
    if start_line.is_empty() {
        return Err(WireError::Malformed("empty start line".into()));
    }
    let mut headers = Vec::new();
    for line in lines {
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| WireError::Malformed(format!("header line {line:?}")))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(Head {
        start_line,
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(bytes: &[u8], to_eof: bool) -> Result<(Head, Vec<u8>), WireError> {
        let mut r = Reader::new(bytes);
        let head = r.read_head().await?.ok_or(WireError::UnexpectedEof)?;
        let body = r.read_body(&head.headers, to_eof).await?;
        Ok((head, body))
    }

    #[tokio::test]
    async fn content_length_body() {
        let (head, body) = read_all(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b \r\n\r\nhelloEXTRA",
            true,
        )
        .await
        .unwrap();
        assert_eq!(head.start_line, "HTTP/1.1 200 OK");
        assert_eq!(header(&head.headers, "x-a"), Some("b"));
        assert_eq!(body, b"hello");
    }

    #[tokio::test]
    async fn chunked_body_with_extensions_and_trailers() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n";
        let (_, body) = read_all(raw, true).await.unwrap();
        assert_eq!(body, b"Wikipedia");
    }

    #[tokio::test]
    async fn body_to_eof_only_when_allowed() {
        let raw = b"HTTP/1.1 200 OK\r\n\r\nall of it";
        assert_eq!(read_all(raw, true).await.unwrap().1, b"all of it");
        assert_eq!(read_all(raw, false).await.unwrap().1, b"");
    }

    #[tokio::test]
    async fn truncated_and_malformed_messages_are_errors() {
        assert!(matches!(
            read_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true).await,
            Err(WireError::UnexpectedEof)
        ));
        assert!(matches!(
            read_all(b"HTTP/1.1 200 OK\r\nContent-Len", true).await,
            Err(WireError::UnexpectedEof)
        ));
        assert!(matches!(
            read_all(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", true).await,
            Err(WireError::Malformed(_))
        ));
        assert!(matches!(
            read_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                true
            )
            .await,
            Err(WireError::Malformed(_))
        ));
        let mut r = Reader::new(&b""[..]);
        assert!(r.read_head().await.unwrap().is_none());
    }
}
