//! What `drill run` shows of the service's log: the lines the service wrote
//! for the incident, with the harness's own polling (its `metric` steps
//! scraping `GET /metrics` until a value shows) folded into one line per
//! path ("polled GET /_proxy/metrics ×90"). `--verbose` shows every line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::harness::log_line;

/// The paths the scenario's acceptance suite polls with `metric` steps, read
/// from its `acceptance.toml` (the steps of every check: the suite is small).
pub fn polled_paths(scenario_dir: &Path) -> BTreeSet<String> {
    let Ok(text) = std::fs::read_to_string(scenario_dir.join("acceptance.toml")) else {
        return BTreeSet::new();
    };
    let Ok(doc) = text.parse::<toml::Table>() else {
        return BTreeSet::new();
    };
    let steps = doc
        .get("checks")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
        .filter_map(|check| check.get("steps").and_then(|s| s.as_array()))
        .flatten();
    steps
        .filter(|s| s.get("do").and_then(|d| d.as_str()) == Some("metric"))
        // A step without a path scrapes the default one (most suites).
        .map(|s| {
            s.get("path")
                .and_then(|p| p.as_str())
                .unwrap_or(crate::harness::DEFAULT_METRICS_PATH)
        })
        .map(str::to_string)
        .collect()
}

/// Folds the polling out of one run's log lines.
#[derive(Debug, Default)]
pub struct Fold {
    polled: BTreeSet<String>,
    verbose: bool,
    /// Path → status → how many polls.
    counts: BTreeMap<String, BTreeMap<u64, usize>>,
}

impl Fold {
    pub fn new(polled: BTreeSet<String>, verbose: bool) -> Fold {
        Fold {
            polled,
            verbose,
            counts: BTreeMap::new(),
        }
    }

    /// Whether to print `line`; a poll is counted instead (unless verbose).
    pub fn show(&mut self, line: &str) -> bool {
        if self.verbose || self.polled.is_empty() {
            return true;
        }
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            return true;
        };
        let text = |name: &str| log_line::field(&v, name).and_then(|x| x.as_str());
        let (Some(method), Some(path)) = (text("method"), text("path")) else {
            return true;
        };
        if !method.eq_ignore_ascii_case("GET") || !self.polled.contains(path) {
            return true;
        }
        let status = log_line::field(&v, "status")
            .and_then(|s| s.as_u64())
            .unwrap_or(0);
        *self
            .counts
            .entry(path.to_string())
            .or_default()
            .entry(status)
            .or_default() += 1;
        false
    }

    /// One line per polled path: `polled GET /metrics ×90 (200 ×88, 503 ×2)`.
    pub fn summary(&self) -> Vec<String> {
        self.counts
            .iter()
            .map(|(path, by_status)| {
                let total: usize = by_status.values().sum();
                let statuses: Vec<String> = by_status
                    .iter()
                    .map(|(s, n)| {
                        if *s == 0 {
                            format!("no status ×{n}")
                        } else {
                            format!("{s} ×{n}")
                        }
                    })
                    .collect();
                format!(
                    "polled GET {path} ×{total} ({}; the harness's own scraping, --verbose shows each)",
                    statuses.join(", ")
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(path: &str, status: u16) -> String {
        format!(
            r#"{{"level":"INFO","msg":"request","method":"GET","path":"{path}","status":{status},"duration_ms":0}}"#
        )
    }

    #[test]
    fn the_harness_polling_folds_into_one_line_and_the_incident_stays() {
        let mut f = Fold::new(BTreeSet::from(["/metrics".to_string()]), false);
        let incident = [
            r#"{"level":"WARN","msg":"provider call failed","attempt":1}"#.to_string(),
            r#"{"level":"INFO","msg":"request","method":"POST","path":"/v1/charges","status":201}"#
                .to_string(),
            // A GET of another path and a tracing-style request line stay.
            poll("/v1/accounts/a", 200),
            r#"{"level":"INFO","fields":{"message":"request","method":"GET","path":"/health","status":200}}"#.to_string(),
            "not json at all".to_string(),
        ];
        let mut shown = Vec::new();
        for (i, line) in incident.iter().enumerate() {
            for _ in 0..30 {
                assert!(!f.show(&poll("/metrics", if i == 4 { 503 } else { 200 })));
            }
            if f.show(line) {
                shown.push(line.clone());
            }
        }
        assert_eq!(shown, incident);
        assert_eq!(
            f.summary(),
            ["polled GET /metrics ×150 (200 ×120, 503 ×30; the harness's own scraping, --verbose shows each)"]
        );
        // Tracing's nesting is read too.
        let nested =
            r#"{"fields":{"message":"request","method":"GET","path":"/metrics","status":200}}"#;
        assert!(!f.show(nested));
    }

    #[test]
    fn verbose_shows_every_line() {
        let mut f = Fold::new(BTreeSet::from(["/metrics".to_string()]), true);
        assert!(f.show(&poll("/metrics", 200)));
        assert!(f.summary().is_empty());
    }

    #[test]
    fn the_polled_paths_are_the_suites_metric_steps() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let paths = polled_paths(&root.join("scenarios/edge-proxy"));
        assert_eq!(paths, BTreeSet::from(["/_proxy/metrics".to_string()]));
        // Steps that name no path poll the default one (billing-ledger's
        // suite has no metric step: nothing to fold there).
        for scenario in ["email-worker", "webhook-intake"] {
            assert_eq!(
                polled_paths(&root.join("scenarios").join(scenario)),
                BTreeSet::from(["/metrics".to_string()]),
                "{scenario}"
            );
        }
        assert!(polled_paths(&root.join("scenarios/does-not-exist")).is_empty());
    }
}
