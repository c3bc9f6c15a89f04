//! `do = "metric"`: a series of the service's Prometheus text endpoint has
//! a value (exact, at least, at most), optionally polled until it does.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{StepCx, StepFuture, StepKind, Vars, DEFAULT_STEP_LIMIT_MS};
use crate::harness::client;
use crate::harness::env::Env;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricStep {
    #[serde(default = "default_metrics_path")]
    pub path: String,
    /// The series exactly as printed, labels included.
    pub name: String,
    pub expect: Option<f64>,
    pub expect_min: Option<f64>,
    pub expect_max: Option<f64>,
    pub within_ms: Option<u64>,
}

/// The path a `metric` step scrapes when it names none.
pub const DEFAULT_METRICS_PATH: &str = "/metrics";

fn default_metrics_path() -> String {
    DEFAULT_METRICS_PATH.to_string()
}

impl StepKind for MetricStep {
    fn validate(&self, cx: &mut StepCx<'_>) {
        if self.name.is_empty() {
            cx.problem("field `name` is empty");
        }
        if !self.path.starts_with('/') {
            cx.problem("field `path` must start with `/`");
        }
        if self.expect.is_none() && self.expect_min.is_none() && self.expect_max.is_none() {
            cx.problem("expects nothing: add `expect`, `expect_min` or `expect_max`");
        }
        cx.within_check_limit(self.within_ms, "within_ms");
    }

    fn describe(&self, _vars: &Vars) -> String {
        format!("metric {}", self.name)
    }

    fn run<'a>(&'a self, env: &'a mut Env, _vars: &'a mut Vars) -> StepFuture<'a> {
        Box::pin(run(self, env))
    }

    fn needs_service(&self) -> bool {
        true
    }
}

async fn run(m: &MetricStep, env: &Env) -> Result<(), String> {
    let limit_ms = m.within_ms.unwrap_or(0);
    let deadline = Instant::now() + Duration::from_millis(limit_ms);
    loop {
        let remaining = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(DEFAULT_STEP_LIMIT_MS.min(1000)));
        let call = client::send(env.addr(), "GET", &m.path, &[], None);
        let why = match tokio::time::timeout(remaining, call).await {
            Err(_) => format!("GET {}: no response", m.path),
            Ok(Err(e)) => format!("GET {}: {}", m.path, e.reason()),
            Ok(Ok(resp)) if resp.status != 200 => format!("GET {}: status {}", m.path, resp.status),
            Ok(Ok(resp)) => match metric_value(&resp.text(), &m.name) {
                None => format!("no series {} in {}", m.name, m.path),
                Some(v) => match judge_metric(v, m) {
                    None => return Ok(()),
                    Some(why) => why,
                },
            },
        };
        if Instant::now() >= deadline {
            return Err(if limit_ms > 0 {
                format!("{why} after {limit_ms} ms")
            } else {
                why
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn judge_metric(v: f64, m: &MetricStep) -> Option<String> {
    if let Some(want) = m.expect {
        if v != want {
            return Some(format!("expected {want}, got {v}"));
        }
    }
    if let Some(min) = m.expect_min {
        if v < min {
            return Some(format!("expected at least {min}, got {v}"));
        }
    }
    if let Some(max) = m.expect_max {
        if v > max {
            return Some(format!("expected at most {max}, got {v}"));
        }
    }
    None
}

/// The value of the series printed exactly as `name` (labels included) in
/// Prometheus text format.
fn metric_value(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| match v {
            "+Inf" => Some(f64::INFINITY),
            "-Inf" => Some(f64::NEG_INFINITY),
            v => v.parse().ok(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_values_are_read_by_exact_series() {
        let text = "# TYPE a counter\na 3\na_total 9\nreq{route=\"/x\",status=\"201\"} 4 1700000000\ng +Inf\n";
        assert_eq!(metric_value(text, "a"), Some(3.0));
        assert_eq!(metric_value(text, "a_total"), Some(9.0));
        assert_eq!(
            metric_value(text, r#"req{route="/x",status="201"}"#),
            Some(4.0)
        );
        assert_eq!(metric_value(text, "g"), Some(f64::INFINITY));
        assert_eq!(metric_value(text, "missing"), None);
    }
}
