//! Configuration from the environment.

use std::time::Duration;

/// The whole service configuration; see the README for meanings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub listen_addr: String,
    pub db_path: String,
    pub provider_url: String,
    pub send_timeout: Duration,
    pub send_max_attempts: u32,
    pub send_backoff: Duration,
    pub send_rate_per_sec: u32,
    pub worker_concurrency: usize,
    pub buffer_size: usize,
    pub lease: Duration,
    pub poll_interval: Duration,
    pub shutdown_timeout: Duration,
}

/// Why the configuration could not be loaded: which variable, and what is
/// wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

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
        let provider_url = getenv("MAIL_PROVIDER_URL");
        // Dropping a trailing slash lets us append "/v1/messages" blindly.
        let provider_url = provider_url.strip_suffix('/').unwrap_or(&provider_url);
        if provider_url.is_empty() {
            return Err(ConfigError("MAIL_PROVIDER_URL is required".to_string()));
        }

        // Each numeric variable: name, default, minimum accepted value.
        let nums: [(&str, i64, i64); 9] = [
            ("MAIL_TIMEOUT_MS", 2000, 1),
            ("MAIL_MAX_ATTEMPTS", 5, 1),
            ("MAIL_BACKOFF_MS", 100, 0),
            ("MAIL_RATE_PER_SEC", 50, 0),
            ("WORKER_CONCURRENCY", 4, 1),
            ("BUFFER_SIZE", 16, 1),
            ("LEASE_MS", 30000, 1),
            ("POLL_INTERVAL_MS", 100, 1),
            ("SHUTDOWN_TIMEOUT_MS", 5000, 0),
        ];
        let mut vals = [0i64; 9];
        for (i, (name, def, min)) in nums.into_iter().enumerate() {
            vals[i] = int_var(&getenv, name, def, min)?;
        }
        Ok(Config {
            listen_addr: or_default(getenv("LISTEN_ADDR"), "127.0.0.1:8080"),
            db_path: or_default(getenv("DB_PATH"), "emails.db"),
            provider_url: provider_url.to_string(),
            send_timeout: millis(vals[0]),
            send_max_attempts: vals[1] as u32,
            send_backoff: millis(vals[2]),
            send_rate_per_sec: vals[3] as u32,
            worker_concurrency: vals[4] as usize,
            buffer_size: vals[5] as usize,
            lease: millis(vals[6]),
            poll_interval: millis(vals[7]),
            shutdown_timeout: millis(vals[8]),
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

/// Parses a base-10 integer variable (32-bit), applying
/// `def` when unset and rejecting values below `min` (zero workers or a zero
/// lease would stop all mail, which is a configuration mistake, not a
/// policy).
fn int_var<F>(getenv: &F, name: &str, def: i64, min: i64) -> Result<i64, ConfigError>
where
    F: Fn(&str) -> String,
{
    let raw = getenv(name);
    if raw.is_empty() {
        return Ok(def);
    }
    let n = raw
        .parse::<i32>()
        .map_err(|_| ConfigError(format!("{name}: not an integer: {raw:?}")))?;
    let n = i64::from(n);
    if n < min {
        return Err(ConfigError(format!(
            "{name}: must be at least {min}, got {n}"
        )));
    }
    Ok(n)
}

fn millis(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}
