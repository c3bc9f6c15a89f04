//! Configuration from the environment.

use std::num::ParseIntError;
use std::time::Duration;

/// The whole proxy configuration; see the README for meanings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub listen_addr: String,
    pub upstream_urls: Vec<String>,
    pub upstream_timeout: Duration,
    pub body_idle_timeout: Duration,
    pub upstream_max_conns: usize,
    pub upstream_max_idle: usize,
    pub health_interval: Duration,
    pub health_timeout: Duration,
    pub shutdown_timeout: Duration,
}

/// Why the configuration could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("UPSTREAM_URLS is required")]
    NoUpstreams,
    #[error("UPSTREAM_URLS: not an http://host:port URL: {0:?}")]
    BadUpstreamUrl(String),
    #[error("{name}: not an integer: {raw:?}")]
    NotAnInteger {
        name: &'static str,
        raw: String,
        #[source]
        source: ParseIntError,
    },
    #[error("{name}: must be at least {min}, got {value}")]
    TooSmall {
        name: &'static str,
        min: i64,
        value: i64,
    },
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::load(|name| std::env::var(name).unwrap_or_default())
    }

    /// Builds a Config from `getenv` (the process environment in
    /// production). Taking the lookup function instead of reading the
    /// environment directly keeps tests free of process-wide environment
    /// mutation. An empty variable counts as unset.
    pub fn load<F>(getenv: F) -> Result<Config, ConfigError>
    where
        F: Fn(&str) -> String,
    {
        let listen_addr = or_default(getenv("LISTEN_ADDR"), "127.0.0.1:8080");
        let upstream_urls = upstream_urls(&getenv("UPSTREAM_URLS"))?;

        // Each numeric variable: name, default, minimum accepted value.
        let nums: [(&'static str, i64, i64); 7] = [
            ("UPSTREAM_TIMEOUT_MS", 5000, 1),
            ("BODY_IDLE_TIMEOUT_MS", 10000, 1),
            ("UPSTREAM_MAX_CONNS", 64, 1),
            ("UPSTREAM_MAX_IDLE", 16, 1),
            ("HEALTH_INTERVAL_MS", 1000, 1),
            ("HEALTH_TIMEOUT_MS", 500, 1),
            ("SHUTDOWN_TIMEOUT_MS", 5000, 0),
        ];
        let mut vals = [0i64; 7];
        for (i, (name, def, min)) in nums.into_iter().enumerate() {
            vals[i] = int_var(&getenv, name, def, min)?;
        }
        Ok(Config {
            listen_addr,
            upstream_urls,
            upstream_timeout: millis(vals[0]),
            body_idle_timeout: millis(vals[1]),
            upstream_max_conns: usize::try_from(vals[2]).unwrap_or(usize::MAX),
            upstream_max_idle: usize::try_from(vals[3]).unwrap_or(usize::MAX),
            health_interval: millis(vals[4]),
            health_timeout: millis(vals[5]),
            shutdown_timeout: millis(vals[6]),
        })
    }
}

/// Splits the comma-separated list, trims spaces and a trailing slash, and
/// accepts only absolute http URLs without a path, so the proxy can append
/// the request path blindly.
fn upstream_urls(raw: &str) -> Result<Vec<String>, ConfigError> {
    if raw.trim().is_empty() {
        return Err(ConfigError::NoUpstreams);
    }
    let mut urls = Vec::new();
    for part in raw.split(',') {
        let s = part.trim();
        let s = s.strip_suffix('/').unwrap_or(s);
        let valid = s.parse::<hyper::Uri>().is_ok()
            && s.strip_prefix("http://")
                .is_some_and(|host| !host.is_empty() && !host.contains(['/', '?', '#']));
        if !valid {
            return Err(ConfigError::BadUpstreamUrl(part.to_string()));
        }
        urls.push(s.to_string());
    }
    Ok(urls)
}

fn or_default(v: String, def: &str) -> String {
    if v.is_empty() {
        def.to_string()
    } else {
        v
    }
}

/// Parses a base-10 integer variable, applying `def` when unset and
/// rejecting values below `min`.
fn int_var<F>(getenv: &F, name: &'static str, def: i64, min: i64) -> Result<i64, ConfigError>
where
    F: Fn(&str) -> String,
{
    let raw = getenv(name);
    if raw.is_empty() {
        return Ok(def);
    }
    let n = raw
        .parse::<i64>()
        .map_err(|source| ConfigError::NotAnInteger {
            name,
            raw: raw.clone(),
            source,
        })?;
    if n < min {
        return Err(ConfigError::TooSmall {
            name,
            min,
            value: n,
        });
    }
    Ok(n)
}

fn millis(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}
