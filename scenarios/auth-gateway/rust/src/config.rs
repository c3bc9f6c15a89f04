//! The gateway configuration, read from the environment.

use std::time::Duration;

/// The whole gateway configuration; see the README for meanings.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen_addr: String,
    pub backend_url: String,
    pub keys_url: String,
    pub rules_path: String,
    pub backend_timeout: Duration,
    pub keys_refresh: Duration,
    pub keys_min_refresh: Duration,
    pub keys_timeout: Duration,
    pub rules_poll: Duration,
    pub leeway: Duration,
    pub shutdown_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("{0}: not an integer: {1:?}")]
    NotInteger(&'static str, String),
    #[error("{0}: must be at least {1}, got {2}")]
    TooSmall(&'static str, u64, i64),
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::load(|k| std::env::var(k).ok())
    }

    /// Builds a Config from `getenv`; an empty variable counts as unset.
    pub fn load(getenv: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |k: &str| getenv(k).filter(|v| !v.is_empty());
        let required = |k: &'static str| get(k).ok_or(ConfigError::Missing(k));
        let num = |name: &'static str, def: u64, min: u64| -> Result<u64, ConfigError> {
            let Some(raw) = get(name) else {
                return Ok(def);
            };
            let n: i64 = raw
                .parse()
                .map_err(|_| ConfigError::NotInteger(name, raw.clone()))?;
            if n < min as i64 {
                return Err(ConfigError::TooSmall(name, min, n));
            }
            Ok(n as u64)
        };
        let ms = |name, def, min| num(name, def, min).map(Duration::from_millis);
        Ok(Config {
            listen_addr: get("LISTEN_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_string()),
            backend_url: required("BACKEND_URL")?,
            keys_url: required("KEYS_URL")?,
            rules_path: required("RULES_PATH")?,
            backend_timeout: ms("BACKEND_TIMEOUT_MS", 5000, 1)?,
            keys_refresh: ms("KEYS_REFRESH_MS", 60000, 1)?,
            keys_min_refresh: ms("KEYS_MIN_REFRESH_MS", 1000, 0)?,
            keys_timeout: ms("KEYS_TIMEOUT_MS", 2000, 1)?,
            rules_poll: ms("RULES_POLL_MS", 1000, 1)?,
            leeway: Duration::from_secs(num("LEEWAY_S", 30, 0)?),
            shutdown_timeout: ms("SHUTDOWN_TIMEOUT_MS", 5000, 0)?,
        })
    }
}
