//! Hop-by-hop headers and X-Forwarded-For.

use std::net::SocketAddr;

use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONNECTION};

/// The headers that describe one connection, not the message (RFC 9110
/// section 7.6.1), so a proxy never forwards them, in either direction.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Deletes the hop-by-hop headers and every header that the Connection
/// header names.
pub fn remove_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<HeaderName> = h
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        h.remove(name);
    }
    for name in HOP_BY_HOP {
        h.remove(name);
    }
}

/// Adds the client's IP to X-Forwarded-For, after any addresses earlier
/// proxies put there.
pub fn append_forwarded_for(h: &mut HeaderMap, peer: SocketAddr) {
    let mut ips: Vec<String> = h
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    ips.push(peer.ip().to_string());
    if let Ok(v) = HeaderValue::from_str(&ips.join(", ")) {
        h.insert("x-forwarded-for", v);
    }
}
