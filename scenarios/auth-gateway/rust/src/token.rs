//! Parsing and verifying bearer tokens:
//!
//! ```text
//! v1.<kid>.<sub>.<scopes>.<iat>.<ttl>.<hexhmac>
//! ```
//!
//! where scopes are joined with '+', iat is the issue time in Unix seconds,
//! ttl the lifetime in seconds, and hexhmac the lowercase hex HMAC-SHA256,
//! under the secret of key kid, of everything before the last dot.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a token is refused; each maps to a 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("unknown key")]
    UnknownKey,
    #[error("bad signature")]
    Signature,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
}

/// The parsed fields of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub kid: String,
    pub subject: String,
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub issued_at: i64,
    /// Seconds.
    pub ttl: i64,
    signed: String,
    mac: Vec<u8>,
}

/// Unix seconds of `t`.
pub fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Claims {
    /// Claims without a signature (for tests of the rules).
    pub fn new(subject: &str, scopes: &[&str], issued_at: i64, ttl: i64) -> Claims {
        Claims {
            kid: String::new(),
            subject: subject.to_string(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            issued_at,
            ttl,
            signed: String::new(),
            mac: Vec::new(),
        }
    }

    /// The Unix second the token stops being valid.
    pub fn expires(&self) -> i64 {
        self.issued_at + self.ttl
    }

    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Splits a token into its claims without checking the signature.
    pub fn parse(raw: &str) -> Result<Claims, TokenError> {
        let parts: Vec<&str> = raw.split('.').collect();
        if parts.len() != 7 || parts[0] != "v1" || parts[1..4].iter().any(|p| p.is_empty()) {
            return Err(TokenError::Malformed);
        }
        let iat: i64 = parts[4].parse().map_err(|_| TokenError::Malformed)?;
        let ttl: i64 = parts[5].parse().map_err(|_| TokenError::Malformed)?;
        let mac = hex_decode(parts[6]).ok_or(TokenError::Malformed)?;
        if iat < 0 || ttl <= 0 || mac.len() != 32 {
            return Err(TokenError::Malformed);
        }
        Ok(Claims {
            kid: parts[1].to_string(),
            subject: parts[2].to_string(),
            scopes: parts[3].split('+').map(str::to_string).collect(),
            issued_at: iat,
            ttl,
            signed: parts[..6].join("."),
            mac,
        })
    }

    /// Whether the token was signed with `secret`.
    pub fn check_signature(&self, secret: &str) -> Result<(), TokenError> {
        let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        m.update(self.signed.as_bytes());
        m.verify_slice(&self.mac).map_err(|_| TokenError::Signature)
    }

    /// Whether the token is valid at `now`, allowing `leeway` of clock
    /// difference between the issuer and this host on both bounds: a token
    /// issued up to leeway in the future is accepted, as is one that expired
    /// up to leeway ago.
    pub fn check_time(&self, now: SystemTime, leeway: Duration) -> Result<(), TokenError> {
        let t = unix(now);
        let l = leeway.as_secs() as i64;
        if self.issued_at > t + l {
            return Err(TokenError::NotYetValid);
        }
        if self.expires() + l <= t {
            return Err(TokenError::Expired);
        }
        Ok(())
    }
}

/// The hex HMAC of `payload` under `secret` (tests and tools mint tokens
/// with it).
pub fn sign(secret: &str, payload: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    m.update(payload.as_bytes());
    m.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}
