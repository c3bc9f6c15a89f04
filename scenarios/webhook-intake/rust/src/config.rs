//! Configuration from the environment.

use std::time::Duration;

/// The whole service configuration; see the README for meanings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub listen_addr: String,
    pub db_path: String,
    pub webhook_secret: String,
    pub signature_tolerance: Duration,
    pub max_body_bytes: usize,
    pub downstream_url: String,
    pub downstream_timeout: Duration,
    pub downstream_max_attempts: u32,
    pub downstream_backoff: Duration,
    pub workers: usize,
    pub queue_size: usize,
    pub shutdown_timeout: Duration,
}

/// Why the configuration could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required")]
    Required(&'static str),
    #[error("{name}: not an integer: {value:?}")]
    NotInteger { name: &'static str, value: String },
    #[error("{name}: must be at least {min}, got {got}")]
    TooSmall {
        name: &'static str,
        min: i64,
        got: i64,
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
        let webhook_secret = getenv("WEBHOOK_SECRET");
        if webhook_secret.is_empty() {
            return Err(ConfigError::Required("WEBHOOK_SECRET"));
        }
        // Dropping a trailing slash lets us append "/events" blindly.
        let downstream_url = getenv("DOWNSTREAM_URL");
        let downstream_url = downstream_url
            .strip_suffix('/')
            .unwrap_or(&downstream_url)
            .to_string();
        if downstream_url.is_empty() {
            return Err(ConfigError::Required("DOWNSTREAM_URL"));
        }

        // Each numeric variable: name, default, minimum accepted value.
        let nums: [(&'static str, i64, i64); 8] = [
            ("SIGNATURE_TOLERANCE_S", 300, 0),
            ("MAX_BODY_BYTES", 65536, 1),
            ("DOWNSTREAM_TIMEOUT_MS", 2000, 1),
            ("DOWNSTREAM_MAX_ATTEMPTS", 5, 1),
            ("DOWNSTREAM_BACKOFF_MS", 200, 0),
            ("WORKERS", 4, 1),
            ("QUEUE_SIZE", 1000, 1),
            ("SHUTDOWN_TIMEOUT_MS", 5000, 0),
        ];
        let mut vals = [0i64; 8];
        for (i, (name, def, min)) in nums.into_iter().enumerate() {
            let v = parse_int(name, &getenv(name), def)?;
            if v < min {
                return Err(ConfigError::TooSmall { name, min, got: v });
            }
            vals[i] = v;
        }
        Ok(Config {
            listen_addr: or_default(getenv("LISTEN_ADDR"), "127.0.0.1:8080"),
            db_path: or_default(getenv("DB_PATH"), "webhooks.db"),
            webhook_secret,
            signature_tolerance: Duration::from_secs(unsigned(vals[0])),
            max_body_bytes: usize::try_from(vals[1]).unwrap_or(usize::MAX),
            downstream_url,
            downstream_timeout: Duration::from_millis(unsigned(vals[2])),
            downstream_max_attempts: u32::try_from(vals[3]).unwrap_or(u32::MAX),
            downstream_backoff: Duration::from_millis(unsigned(vals[4])),
            workers: usize::try_from(vals[5]).unwrap_or(usize::MAX),
            queue_size: usize::try_from(vals[6]).unwrap_or(usize::MAX),
            shutdown_timeout: Duration::from_millis(unsigned(vals[7])),
        })
    }
}

fn or_default(v: String, def: &str) -> String {
    if v.is_empty() {
        def.to_string()
    } else {
        v
    }
}

/// Parses the base-10 integer variable `name`, `def` when unset.
fn parse_int(name: &'static str, v: &str, def: i64) -> Result<i64, ConfigError> {
    if v.is_empty() {
        return Ok(def);
    }
    v.parse::<i64>().map_err(|_| ConfigError::NotInteger {
        name,
        value: v.to_string(),
    })
}

fn unsigned(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
