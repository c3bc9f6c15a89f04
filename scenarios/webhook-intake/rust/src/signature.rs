//! Webhook signatures: HMAC-SHA256 over `"<timestamp>.<raw body>"`, sent as
//! `Webhook-Signature: t=<unix>,v1=<hex>`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is missing or malformed, or no signature matches.
    #[error("invalid signature")]
    Invalid,
    /// The signed timestamp is outside the tolerance window.
    #[error("timestamp outside tolerance")]
    Stale,
}

/// Checks signatures made with one secret.
pub struct Verifier {
    secret: String,
    tolerance: Duration,
}

/// The hex HMAC-SHA256 of `"<timestamp>.<body>"` with `secret`: what a
/// sender puts after `v1=`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Verifier {
    /// A verifier; `tolerance` bounds |now - timestamp|.
    pub fn new(secret: &str, tolerance: Duration) -> Verifier {
        Verifier {
            secret: secret.to_string(),
            tolerance,
        }
    }

    /// Checks `header` against `body` at time `now`. The timestamp is signed
    /// together with the body, so a captured request cannot be replayed with
    /// a fresh timestamp, and the tolerance bounds how long a capture stays
    /// usable.
    pub fn verify(&self, header: &str, body: &[u8], now: SystemTime) -> Result<(), SignatureError> {
        let (ts, sigs) = parse_header(header)?;
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let age = now.saturating_sub(ts).unsigned_abs();
        if age > self.tolerance.as_secs() {
            return Err(SignatureError::Stale);
        }
        let want = sign(&self.secret, ts, body);
        // Senders list one v1 per active secret while they rotate keys: any
        // match will do. The comparison takes constant time.
        for sig in &sigs {
            if constant_time_eq(sig.as_bytes(), want.as_bytes()) {
                return Ok(());
            }
        }
        Err(SignatureError::Invalid)
    }
}

/// Splits `t=<unix>,v1=<hex>[,v1=<hex>...]` into the timestamp and the v1
/// signatures; other schemes (`v0=...`) are ignored.
fn parse_header(header: &str) -> Result<(i64, Vec<String>), SignatureError> {
    let mut ts = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(SignatureError::Invalid)?;
        match key {
            "t" => {
                let n = value.parse::<i64>().map_err(|_| SignatureError::Invalid)?;
                if ts.replace(n).is_some() {
                    return Err(SignatureError::Invalid);
                }
            }
            "v1" => sigs.push(value.to_ascii_lowercase()),
            _ => {}
        }
    }
    let ts = ts.ok_or(SignatureError::Invalid)?;
    Ok((ts, sigs))
}

/// Compares in time that depends on the lengths only.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
