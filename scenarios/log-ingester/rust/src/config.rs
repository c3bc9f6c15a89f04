//! Configuration from the environment.

use std::time::Duration;

/// The whole service configuration; see the README for meanings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub listen_addr: String,
    pub db_path: String,
    pub archive_url: String,
    pub archive_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_line_bytes: usize,
    pub batch_size: usize,
    pub flush_interval: Duration,
    pub max_queued_lines: usize,
    pub quota_lines: usize,
    pub quota_window: Duration,
    pub quota_max_tenants: usize,
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
    #[error("MAX_QUEUED_LINES ({queued}) must be at least BATCH_SIZE ({batch})")]
    QueueBelowBatch { queued: usize, batch: usize },
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::load(|name| std::env::var(name).unwrap_or_default())
    }

    /// Builds a Config from `getenv` (the process environment in
    /// production). Taking the lookup function keeps tests free of
    /// process-wide environment changes. An empty variable counts as unset.
    pub fn load<F>(getenv: F) -> Result<Config, ConfigError>
    where
        F: Fn(&str) -> String,
    {
        // Dropping a trailing slash lets us append "/v1/batches" blindly.
        let archive_url = getenv("ARCHIVE_URL");
        let archive_url = archive_url
            .strip_suffix('/')
            .unwrap_or(&archive_url)
            .to_string();
        if archive_url.is_empty() {
            return Err(ConfigError::Required("ARCHIVE_URL"));
        }

        // Each numeric variable: name, default, minimum accepted value.
        let nums: [(&'static str, i64, i64); 10] = [
            ("ARCHIVE_TIMEOUT_MS", 2000, 1),
            ("MAX_BODY_BYTES", 1_048_576, 1),
            ("MAX_LINE_BYTES", 8192, 1),
            ("BATCH_SIZE", 500, 1),
            ("FLUSH_INTERVAL_MS", 1000, 1),
            ("MAX_QUEUED_LINES", 10000, 1),
            ("QUOTA_LINES", 10000, 1),
            ("QUOTA_WINDOW_MS", 60000, 1),
            ("QUOTA_MAX_TENANTS", 10000, 1),
            ("SHUTDOWN_TIMEOUT_MS", 5000, 0),
        ];
        let mut vals = [0i64; 10];
        for (i, (name, def, min)) in nums.into_iter().enumerate() {
            let v = parse_int(name, &getenv(name), def)?;
            if v < min {
                return Err(ConfigError::TooSmall { name, min, got: v });
            }
            vals[i] = v;
        }
        let cfg = Config {
            listen_addr: or_default(getenv("LISTEN_ADDR"), "127.0.0.1:8080"),
            db_path: or_default(getenv("DB_PATH"), "logs.db"),
            archive_url,
            archive_timeout: Duration::from_millis(unsigned(vals[0])),
            max_body_bytes: size(vals[1]),
            max_line_bytes: size(vals[2]),
            batch_size: size(vals[3]),
            flush_interval: Duration::from_millis(unsigned(vals[4])),
            max_queued_lines: size(vals[5]),
            quota_lines: size(vals[6]),
            quota_window: Duration::from_millis(unsigned(vals[7])),
            quota_max_tenants: size(vals[8]),
            shutdown_timeout: Duration::from_millis(unsigned(vals[9])),
        };
        if cfg.max_queued_lines < cfg.batch_size {
            return Err(ConfigError::QueueBelowBatch {
                queued: cfg.max_queued_lines,
                batch: cfg.batch_size,
            });
        }
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

fn size(v: i64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}
