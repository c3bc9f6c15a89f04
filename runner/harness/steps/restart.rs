//! `do = "restart"`: stop the service (`KILL` or `TERM`) and start it again
//! with the same environment and run directory, as a crash or a deploy would.

use serde::Deserialize;

use super::signal::signal_number;
use super::{StepCx, StepFuture, StepKind, Vars};
use crate::harness::env::Env;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RestartStep {
    #[serde(default = "default_restart_signal")]
    pub signal: String,
}

fn default_restart_signal() -> String {
    "KILL".to_string()
}

impl StepKind for RestartStep {
    fn validate(&self, cx: &mut StepCx<'_>) {
        if !matches!(self.signal.as_str(), "KILL" | "TERM") {
            cx.problem(format!(
                "field `signal`: {:?} is not KILL or TERM",
                self.signal
            ));
        }
    }

    fn describe(&self, _vars: &Vars) -> String {
        format!("restart after {}", self.signal)
    }

    fn run<'a>(&'a self, env: &'a mut Env, _vars: &'a mut Vars) -> StepFuture<'a> {
        Box::pin(async move {
            let sig = signal_number(&self.signal).unwrap_or(libc::SIGKILL);
            env.restart(sig).await.map_err(|e| e.to_string())
        })
    }

    fn service_after(&self) -> Option<bool> {
        Some(true)
    }
}
