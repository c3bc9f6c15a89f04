//! `do = "signal"`: send the service a signal and expect it to exit (within
//! a limit, optionally with a given code).

use std::time::Duration;

use serde::Deserialize;

use super::{StepCx, StepFuture, StepKind, Vars, DEFAULT_STEP_LIMIT_MS};
use crate::harness::env::{describe, Env};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignalStep {
    pub signal: String,
    #[serde(default = "default_step_limit")]
    pub expect_exit_within_ms: u64,
    pub expect_exit_code: Option<i32>,
}

fn default_step_limit() -> u64 {
    DEFAULT_STEP_LIMIT_MS
}

/// The number of a signal name accepted by `do = "signal"`.
pub(crate) fn signal_number(name: &str) -> Option<i32> {
    match name {
        "TERM" => Some(libc::SIGTERM),
        "INT" => Some(libc::SIGINT),
        "KILL" => Some(libc::SIGKILL),
        _ => None,
    }
}

impl StepKind for SignalStep {
    fn validate(&self, cx: &mut StepCx<'_>) {
        if signal_number(&self.signal).is_none() {
            cx.problem(format!(
                "field `signal`: {:?} is not one of TERM, INT, KILL",
                self.signal
            ));
        }
        if self.expect_exit_within_ms == 0 || self.expect_exit_within_ms > cx.timeout_ms {
            let limit = cx.timeout_ms;
            cx.problem(format!("field `expect_exit_within_ms` must be 1..={limit}"));
        }
    }

    fn describe(&self, _vars: &Vars) -> String {
        format!("signal {}", self.signal)
    }

    fn run<'a>(&'a self, env: &'a mut Env, _vars: &'a mut Vars) -> StepFuture<'a> {
        Box::pin(run(self, env))
    }

    fn needs_service(&self) -> bool {
        true
    }

    fn service_after(&self) -> Option<bool> {
        Some(false)
    }
}

async fn run(s: &SignalStep, env: &mut Env) -> Result<(), String> {
    let sig = signal_number(&s.signal).ok_or_else(|| format!("unknown signal {:?}", s.signal))?;
    if let Some(status) = env.exited() {
        return Err(format!(
            "the service had already exited ({})",
            describe(Some(status))
        ));
    }
    env.signal(sig)
        .map_err(|e| format!("cannot signal the service: {e}"))?;
    let status = env
        .wait_exit(Duration::from_millis(s.expect_exit_within_ms))
        .await
        .map_err(|e| e.to_string())?;
    let Some(status) = status else {
        return Err(format!(
            "the service did not exit within {} ms after SIG{}",
            s.expect_exit_within_ms, s.signal
        ));
    };
    if let Some(want) = s.expect_exit_code {
        if status.code() != Some(want) {
            return Err(format!(
                "expected exit code {want}, the service exited with {}",
                describe(Some(status))
            ));
        }
    }
    Ok(())
}
