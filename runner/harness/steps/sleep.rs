//! `do = "sleep"`: wait `ms` milliseconds.

use std::time::Duration;

use serde::Deserialize;

use super::{StepCx, StepFuture, StepKind, Vars};
use crate::harness::env::Env;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SleepStep {
    pub ms: u64,
}

impl StepKind for SleepStep {
    fn validate(&self, cx: &mut StepCx<'_>) {
        if self.ms > cx.timeout_ms {
            let limit = cx.timeout_ms;
            cx.problem(format!(
                "field `ms` exceeds the check's limit of {limit} ms"
            ));
        }
    }

    fn describe(&self, _vars: &Vars) -> String {
        format!("sleep {} ms", self.ms)
    }

    fn run<'a>(&'a self, _env: &'a mut Env, _vars: &'a mut Vars) -> StepFuture<'a> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(self.ms)).await;
            Ok(())
        })
    }
}
