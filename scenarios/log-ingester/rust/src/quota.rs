//! Limits how many lines each tenant may send per window.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One tenant's current fixed window.
struct Window {
    start: Instant,
    used: usize,
}

/// Gives each tenant `limit` lines per fixed window, the window starting at
/// the tenant's first line after the previous one ended. It tracks at most
/// `max_tenants` tenants at once; `sweep` forgets the ones whose window has
/// ended. Safe for concurrent use.
pub struct Limiter {
    limit: usize,
    window: Duration,
    max_tenants: usize,
    tenants: Mutex<HashMap<String, Window>>,
}

impl Limiter {
    pub fn new(limit: usize, window: Duration, max_tenants: usize) -> Limiter {
        Limiter {
            limit,
            window,
            max_tenants,
            tenants: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Window>> {
        self.tenants.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes `n` lines from `tenant`'s quota at `now`. When it refuses, the
    /// error says how long until the caller may try again.
    pub fn allow(&self, tenant: &str, n: usize, now: Instant) -> Result<(), Duration> {
        let mut tenants = self.lock();
        let full = tenants.len() >= self.max_tenants;
        let w = match tenants.get_mut(tenant) {
            Some(w) => {
                if now.saturating_duration_since(w.start) >= self.window {
                    w.start = now;
                    w.used = 0;
                }
                w
            }
            // Full: the tenant is told to come back after one window, by
            // which time the ones tracked now can be swept.
            None if full => return Err(self.window),
            None => tenants.entry(tenant.to_string()).or_insert(Window {
                start: now,
                used: 0,
            }),
        };
        if w.used + n > self.limit {
            return Err((w.start + self.window).saturating_duration_since(now));
        }
        w.used += n;
        Ok(())
    }

    /// Gives back `n` lines taken by `allow` for lines that were not kept.
    pub fn refund(&self, tenant: &str, n: usize) {
        if let Some(w) = self.lock().get_mut(tenant) {
            w.used = w.used.saturating_sub(n);
        }
    }

    /// Forgets the tenants whose window ended by `now` and returns how many
    /// are still tracked.
    pub fn sweep(&self, now: Instant) -> usize {
        let mut tenants = self.lock();
        tenants.retain(|_, w| now.saturating_duration_since(w.start) < self.window);
        tenants.len()
    }
}
