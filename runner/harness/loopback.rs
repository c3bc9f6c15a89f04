//! Loopback only: what the kit runs must not be reachable from other machines.
//!
//! A catalog is input (teams exchange them), so a suite cannot make a service
//! listen beyond this machine: a listen address in `service.env` or a check's
//! `env` is refused at load unless it is a loopback one, and a ready line that
//! announces any other address is refused when the service starts. The fakes
//! bind `127.0.0.1:0` themselves.

use std::net::{IpAddr, SocketAddr};

/// Env keys whose value is taken as an address even in the short forms
/// (`:8080`, `0.0.0.0`, `example.com:80`). A full `IP:PORT` counts under any key.
const ADDRESS_KEY_PARTS: [&str; 4] = ["ADDR", "LISTEN", "BIND", "HOST"];

/// If `value` (of env key `key`) is a listen address that is not loopback,
/// the loopback value to write instead.
pub(crate) fn non_loopback_listen(key: &str, value: &str) -> Option<String> {
    let value = value.trim();
    // URLs are dependencies' addresses (the fakes'), and templates are filled
    // by the kit with loopback URLs and paths: neither is a listen address.
    if value.contains("://") || value.contains('{') {
        return None;
    }
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return (!addr.ip().is_loopback()).then(|| format!("127.0.0.1:{}", addr.port()));
    }
    let key = key.to_ascii_uppercase();
    if !ADDRESS_KEY_PARTS.iter().any(|part| key.contains(part)) {
        return None;
    }
    if let Ok(ip) = value.parse::<IpAddr>() {
        return (!ip.is_loopback()).then(|| "127.0.0.1".to_string());
    }
    let (host, port) = value.rsplit_once(':')?;
    let is_port = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    let is_host = !host.contains(['/', ' ']);
    (is_port && is_host && !host.eq_ignore_ascii_case("localhost"))
        .then(|| format!("127.0.0.1:{port}"))
}

/// The address to reach a service whose ready line announces `value`, or why
/// it is refused. Accepted: a loopback `IP:PORT` (`127.0.0.1:41234`,
/// `[::1]:41234`) or `localhost:PORT`, optionally prefixed `http://`.
pub(crate) fn ready_addr(value: &str) -> Result<SocketAddr, &'static str> {
    let value = value.trim();
    let value = value.strip_prefix("http://").unwrap_or(value);
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return if addr.ip().is_loopback() {
            Ok(addr)
        } else if addr.ip().is_unspecified() {
            Err(EVERY_INTERFACE)
        } else {
            Err(NOT_LOOPBACK)
        };
    }
    match value.rsplit_once(':') {
        Some((host, port)) if host.eq_ignore_ascii_case("localhost") => port
            .parse::<u16>()
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
            .map_err(|_| NOT_AN_ADDRESS),
        Some(("", port)) if port.parse::<u16>().is_ok() => Err(EVERY_INTERFACE),
        Some(_) => Err(NOT_LOOPBACK),
        None => Err(NOT_AN_ADDRESS),
    }
}

const EVERY_INTERFACE: &str =
    "the service listens on every interface; it must listen on 127.0.0.1 only";
const NOT_LOOPBACK: &str = "not a loopback address; the service must listen on 127.0.0.1";
const NOT_AN_ADDRESS: &str = "not an address (expected 127.0.0.1:PORT)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_listen_addresses_are_accepted_in_every_form() {
        for (key, value) in [
            ("LISTEN_ADDR", "127.0.0.1:0"),
            ("LISTEN_ADDR", "127.0.0.2:8080"),
            ("LISTEN_ADDR", "[::1]:0"),
            ("LISTEN_ADDR", "localhost:8080"),
            ("BIND_HOST", "127.0.0.1"),
            ("BIND_HOST", "::1"),
            ("PROVIDER_URL", "{fake.provider.url}"),
            ("UPSTREAM_URLS", "http://10.0.0.1:80,http://10.0.0.2:80"),
            ("DB_PATH", "{run_dir}/ledger.db"),
            ("WEBHOOK_SECRET", "whsec:123"),
            ("PROVIDER_TIMEOUT_MS", "300"),
        ] {
            assert_eq!(non_loopback_listen(key, value), None, "{key} = {value:?}");
        }
    }

    #[test]
    fn other_listen_addresses_are_refused_with_the_loopback_one_to_write() {
        for (key, value, instead) in [
            ("LISTEN_ADDR", "0.0.0.0:0", "127.0.0.1:0"),
            ("SOME_VALUE", "0.0.0.0:8080", "127.0.0.1:8080"),
            ("LISTEN_ADDR", "[::]:9000", "127.0.0.1:9000"),
            ("LISTEN_ADDR", "10.1.2.3:80", "127.0.0.1:80"),
            ("LISTEN_ADDR", ":8080", "127.0.0.1:8080"),
            ("listen", "example.com:80", "127.0.0.1:80"),
            ("BIND_HOST", "0.0.0.0", "127.0.0.1"),
            ("HOST", "::", "127.0.0.1"),
        ] {
            assert_eq!(
                non_loopback_listen(key, value).as_deref(),
                Some(instead),
                "{key} = {value:?}"
            );
        }
    }

    #[test]
    fn ready_lines_must_announce_a_loopback_address() {
        let lo: SocketAddr = "127.0.0.1:4100".parse().unwrap();
        for v in ["127.0.0.1:4100", "localhost:4100", "http://127.0.0.1:4100"] {
            assert_eq!(ready_addr(v), Ok(lo), "{v}");
        }
        assert_eq!(ready_addr("[::1]:4100"), Ok("[::1]:4100".parse().unwrap()));
        for v in ["0.0.0.0:4100", "[::]:4100", ":4100"] {
            assert_eq!(ready_addr(v), Err(EVERY_INTERFACE), "{v}");
        }
        for v in ["10.1.2.3:4100", "example.com:4100"] {
            assert_eq!(ready_addr(v), Err(NOT_LOOPBACK), "{v}");
        }
        assert_eq!(ready_addr("nonsense"), Err(NOT_AN_ADDRESS));
        assert_eq!(ready_addr("localhost:http"), Err(NOT_AN_ADDRESS));
    }
}
