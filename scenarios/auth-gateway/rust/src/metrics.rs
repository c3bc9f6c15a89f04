//! The gateway's counters, printed in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

#[derive(Default)]
struct Counters {
    requests: BTreeMap<String, u64>,
    refreshes: BTreeMap<String, u64>,
    reloads: BTreeMap<String, u64>,
    cache_hits: u64,
}

/// Safe for concurrent use.
#[derive(Default)]
pub struct Metrics {
    c: Mutex<Counters>,
}

/// Gauges read from their owners at render time.
pub struct Gauges {
    pub keys: usize,
    pub routes: usize,
    pub route_cache_entries: usize,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// One request by outcome (forwarded, unauthenticated, forbidden,
    /// backend_error, backend_timeout).
    pub fn request(&self, outcome: &str) {
        *self
            .c
            .lock()
            .unwrap()
            .requests
            .entry(outcome.to_string())
            .or_default() += 1;
    }

    /// One fetch of the key list (ok, error).
    pub fn key_refresh(&self, result: &str) {
        *self
            .c
            .lock()
            .unwrap()
            .refreshes
            .entry(result.to_string())
            .or_default() += 1;
    }

    /// One reload of the rules file (ok, error).
    pub fn rules_reload(&self, result: &str) {
        *self
            .c
            .lock()
            .unwrap()
            .reloads
            .entry(result.to_string())
            .or_default() += 1;
    }

    /// One path answered from the route cache.
    pub fn route_cache_hit(&self) {
        self.c.lock().unwrap().cache_hits += 1;
    }

    /// Every family.
    pub fn text(&self, g: Gauges) -> String {
        let c = self.c.lock().unwrap();
        let mut b = String::new();
        let mut family = |name: &str, label: &str, values: &BTreeMap<String, u64>| {
            let _ = writeln!(b, "# TYPE {name} counter");
            for (k, v) in values {
                let _ = writeln!(b, "{name}{{{label}=\"{k}\"}} {v}");
            }
        };
        family("authgw_requests_total", "outcome", &c.requests);
        family("authgw_key_refreshes_total", "result", &c.refreshes);
        family("authgw_rules_reloads_total", "result", &c.reloads);
        let _ = writeln!(
            b,
            "# TYPE authgw_route_cache_hits_total counter\nauthgw_route_cache_hits_total {}",
            c.cache_hits
        );
        let _ = writeln!(
            b,
            "# TYPE authgw_route_cache_entries gauge\nauthgw_route_cache_entries {}",
            g.route_cache_entries
        );
        let _ = writeln!(b, "# TYPE authgw_keys gauge\nauthgw_keys {}", g.keys);
        let _ = writeln!(b, "# TYPE authgw_routes gauge\nauthgw_routes {}", g.routes);
        b
    }
}
