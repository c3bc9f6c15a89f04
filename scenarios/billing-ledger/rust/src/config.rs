//! Configuration from the environment.

use std::time::Duration;

/// The whole service configuration; see the README for meanings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub listen_addr: String,
    pub db_path: String,
    pub provider_url: String,
    pub provider_timeout: Duration,
    pub provider_max_attempts: u32,
    pub provider_backoff: Duration,
    pub max_balance_cents: i64,
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
        let provider_url = getenv("PROVIDER_URL");
        let provider_url = provider_url.strip_suffix('/').unwrap_or(&provider_url);
        if provider_url.is_empty() {
            return Err(ConfigError("PROVIDER_URL is required".to_string()));
        }
        let mut cfg = Config {
            listen_addr: or_default(getenv("LISTEN_ADDR"), "127.0.0.1:8080"),
            db_path: or_default(getenv("DB_PATH"), "ledger.db"),
            provider_url: provider_url.to_string(),
            provider_timeout: Duration::ZERO,
            provider_max_attempts: 0,
            provider_backoff: Duration::ZERO,
            max_balance_cents: 0,
            shutdown_timeout: Duration::ZERO,
        };

        // Each numeric variable: name, default, minimum accepted value.
        let nums: [(&str, i64, i64); 5] = [
            ("PROVIDER_TIMEOUT_MS", 2000, 1),
            ("PROVIDER_MAX_ATTEMPTS", 3, 1),
            ("PROVIDER_BACKOFF_MS", 100, 0),
            ("MAX_BALANCE_CENTS", 100_000_000, 0),
            ("SHUTDOWN_TIMEOUT_MS", 5000, 0),
        ];
        let mut vals = [0i64; 5];
        for (i, (name, def, min)) in nums.into_iter().enumerate() {
            let v =
                parse_int(&getenv(name), def).map_err(|e| ConfigError(format!("{name}: {e}")))?;
            if v < min {
                return Err(ConfigError(format!(
                    "{name}: must be at least {min}, got {v}"
                )));
            }
            vals[i] = v;
        }
        cfg.provider_timeout = millis(vals[0]);
        cfg.provider_max_attempts = u32::try_from(vals[1]).unwrap_or(u32::MAX);
        cfg.provider_backoff = millis(vals[2]);
        cfg.max_balance_cents = vals[3];
        cfg.shutdown_timeout = millis(vals[4]);
        Ok(cfg)
    }
}

fn or_default(v: String, def: &str) -> String {
    if v.is_empty() {
        def.to_string()
    } else {
        v
    }
}

fn parse_int(v: &str, def: i64) -> Result<i64, String> {
    if v.is_empty() {
        return Ok(def);
    }
    v.parse::<i64>()
        .map_err(|_| format!("not an integer: {v:?}"))
}

fn millis(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}
