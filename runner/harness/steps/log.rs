//! `do = "log"`: the service printed a JSON log line with this message and
//! these fields (found in slog's or tracing-subscriber's shape: `log_line`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{StepCx, StepFuture, StepKind, Vars};
use crate::harness::env::{clip, Env};
use crate::harness::json_match::{json_eq, toml_to_json};
use crate::harness::log_line;

const DEFAULT_LOG_WAIT_MS: u64 = 1000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogStep {
    pub expect_msg: String,
    #[serde(default)]
    pub expect_fields: BTreeMap<String, toml::Value>,
    #[serde(default = "default_log_wait")]
    pub within_ms: u64,
}

fn default_log_wait() -> u64 {
    DEFAULT_LOG_WAIT_MS
}

impl StepKind for LogStep {
    fn validate(&self, cx: &mut StepCx<'_>) {
        if self.expect_msg.is_empty() {
            cx.problem("field `expect_msg` is empty");
        }
        for (k, v) in &self.expect_fields {
            cx.value_placeholders(v, &format!("expect_fields {k}"));
        }
    }

    fn describe(&self, _vars: &Vars) -> String {
        format!("log {:?}", self.expect_msg)
    }

    fn run<'a>(&'a self, env: &'a mut Env, vars: &'a mut Vars) -> StepFuture<'a> {
        Box::pin(run(self, env, vars))
    }
}

async fn run(l: &LogStep, env: &Env, vars: &Vars) -> Result<(), String> {
    let lookup = |k: &str| vars.get(k).cloned();
    let fields: Vec<(String, serde_json::Value)> = l
        .expect_fields
        .iter()
        .map(|(k, v)| Ok((k.clone(), toml_to_json(v, &lookup)?)))
        .collect::<Result<_, String>>()?;
    let deadline = Instant::now() + Duration::from_millis(l.within_ms);
    loop {
        let mut near_miss = None;
        for line in env.log_lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if log_line::message(&v) != Some(l.expect_msg.as_str()) {
                continue;
            }
            if fields.iter().all(|(k, want)| log_field_eq(&v, k, want)) {
                return Ok(());
            }
            near_miss.get_or_insert(line);
        }
        // Polling is fine here: the log is in memory and the wait is short.
        if Instant::now() >= deadline || env.exited().is_some() {
            return Err(match near_miss {
                Some(line) => format!(
                    "a {:?} line was printed but with other fields: {}",
                    l.expect_msg,
                    clip(&line, 200)
                ),
                None => format!(
                    "no log line with msg {:?} within {} ms",
                    l.expect_msg, l.within_ms
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Whether field `name` of log line `line` is `want`; `level` is compared
/// without regard to case (`INFO` = `info`).
fn log_field_eq(line: &serde_json::Value, name: &str, want: &serde_json::Value) -> bool {
    match (log_line::field(line, name), want) {
        (Some(serde_json::Value::String(got)), serde_json::Value::String(w)) if name == "level" => {
            got.eq_ignore_ascii_case(w)
        }
        (Some(got), want) => json_eq(want, got),
        (None, _) => false,
    }
}
