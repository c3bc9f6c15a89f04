//! The signing keys of the key service: fetched at startup, refreshed in the
//! background and when a token names a key the cache does not hold (at most
//! once per minimum interval). A failed fetch keeps the keys already held.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::metrics::Metrics;

/// One entry of the key service's list.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Key {
    pub kid: String,
    pub secret: String,
    /// Unix seconds; 0: no end.
    #[serde(default)]
    pub not_after: i64,
}

/// Shared by every request.
pub struct Cache {
    url: String,
    client: reqwest::Client,
    min_interval: Duration,
    metrics: Arc<Metrics>,
    keys: RwLock<HashMap<String, Key>>,
    /// One fetch at a time; holds when a token's unknown kid last caused one.
    refresh: tokio::sync::Mutex<Option<Instant>>,
}

impl Cache {
    /// An empty cache for the key service at `base_url`.
    pub fn new(
        base_url: &str,
        timeout: Duration,
        min_interval: Duration,
        metrics: Arc<Metrics>,
    ) -> Cache {
        Cache {
            url: format!("{base_url}/keys"),
            client: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .expect("a client without TLS builds"),
            min_interval,
            metrics,
            keys: RwLock::new(HashMap::new()),
            refresh: tokio::sync::Mutex::new(None),
        }
    }

    /// The number of keys held.
    pub fn len(&self) -> usize {
        self.keys.read().unwrap().len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, kid: &str) -> Option<Key> {
        self.keys.read().unwrap().get(kid).cloned()
    }

    /// The key `kid`, fetching the list again first when the cache does not
    /// hold it and the last fetch an unknown kid caused is older than the
    /// minimum interval.
    pub async fn lookup(&self, kid: &str) -> Option<Key> {
        if let Some(k) = self.get(kid) {
            return Some(k);
        }
        let mut last = self.refresh.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(k) = self.get(kid) {
            return Some(k);
        }
        if last.is_some_and(|t| t.elapsed() < self.min_interval) {
            return None;
        }
        *last = Some(Instant::now());
        let _ = self.refresh_locked("unknown_kid").await;
        self.get(kid)
    }

    /// Fetches the list now.
    pub async fn refresh(&self, reason: &str) -> Result<(), String> {
        let _one_at_a_time = self.refresh.lock().await;
        self.refresh_locked(reason).await
    }

    /// Fetches with the refresh lock held.
    async fn refresh_locked(&self, reason: &str) -> Result<(), String> {
        let list = match self.fetch().await {
            Ok(list) => list,
            Err(err) => {
                self.metrics.key_refresh("error");
                tracing::warn!(reason, error = %err, keys = self.len(), "key refresh failed, keeping cached keys");
                return Err(err);
            }
        };
        let next: HashMap<String, Key> = list.into_iter().map(|k| (k.kid.clone(), k)).collect();
        let n = next.len();
        *self.keys.write().unwrap() = next;
        self.metrics.key_refresh("ok");
        tracing::info!(reason, keys = n, "keys refreshed");
        Ok(())
    }

    async fn fetch(&self) -> Result<Vec<Key>, String> {
        let resp = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        if status != reqwest::StatusCode::OK {
            return Err(format!("key service answered {}", status.as_u16()));
        }
        parse_list(&body)
    }

    /// Refreshes every `interval`, forever (the task is aborted at shutdown).
    pub async fn run(&self, interval: Duration) {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        loop {
            tick.tick().await;
            let _ = self.refresh("interval").await;
        }
    }
}

/// Decodes and validates the key service's answer. An empty list is
/// refused: no key service means to revoke every key at once.
pub fn parse_list(body: &[u8]) -> Result<Vec<Key>, String> {
    let list: Vec<Key> = serde_json::from_slice(body).map_err(|e| format!("key list: {e}"))?;
    if list.is_empty() {
        return Err("key list is empty".to_string());
    }
    if list.iter().any(|k| k.kid.is_empty() || k.secret.is_empty()) {
        return Err("key list: an entry lacks kid or secret".to_string());
    }
    Ok(list)
}
