//! Ships flushed batches to the long-term archive over HTTP.

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;

use crate::store::Line;

/// Why a batch did not reach the archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{0}")]
    Request(String),
    #[error("archive answered {0}")]
    Status(u16),
}

/// Shows an error with its sources, joined with ": " (reqwest's own message
/// alone hides whether it was a timeout or a refused connection).
fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}

/// Posts batches to `{base_url}/v1/batches`.
pub struct Client {
    url: String,
    http: reqwest::Client,
}

impl Client {
    /// A client whose every call is bounded by `timeout` (connect, headers
    /// and body).
    pub fn new(base_url: &str, timeout: Duration) -> Client {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .unwrap_or_default();
        Client {
            url: format!("{base_url}/v1/batches"),
            http,
        }
    }

    /// Posts `lines` as NDJSON, one object per line; any answer but 2xx is
    /// an error.
    pub async fn send(&self, lines: &[Line]) -> Result<(), ArchiveError> {
        let mut body = Vec::new();
        for l in lines {
            serde_json::to_writer(&mut body, l).map_err(|e| ArchiveError::Request(chain(&e)))?;
            body.push(b'\n');
        }
        let resp = self
            .http
            .post(&self.url)
            .header(CONTENT_TYPE, "application/x-ndjson")
            .body(body)
            .send()
            .await
            .map_err(|e| ArchiveError::Request(chain(&e)))?;
        let status = resp.status();
        // Reading the body to its end lets the connection be reused.
        let _ = resp.bytes().await;
        if !status.is_success() {
            return Err(ArchiveError::Status(status.as_u16()));
        }
        Ok(())
    }
}
