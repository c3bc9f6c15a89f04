//! `do = "process"`: the running service's memory (RSS now, peak RSS) and
//! open file descriptors, read from `/proc`.

use serde::Deserialize;

use super::{StepCx, StepFuture, StepKind, Vars};
use crate::harness::env::Env;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProcessStep {
    pub expect_rss_max_mb: Option<u64>,
    /// The peak RSS since the process started (`VmHWM`): catches a spike that
    /// was already freed when the step runs.
    pub expect_peak_rss_max_mb: Option<u64>,
    pub expect_fds_max: Option<u64>,
}

impl StepKind for ProcessStep {
    fn validate(&self, cx: &mut StepCx<'_>) {
        if self.expect_rss_max_mb.is_none()
            && self.expect_peak_rss_max_mb.is_none()
            && self.expect_fds_max.is_none()
        {
            cx.problem(
                "expects nothing: add `expect_rss_max_mb`, `expect_peak_rss_max_mb` or `expect_fds_max`",
            );
        }
    }

    fn describe(&self, _vars: &Vars) -> String {
        "process".to_string()
    }

    fn run<'a>(&'a self, env: &'a mut Env, _vars: &'a mut Vars) -> StepFuture<'a> {
        Box::pin(async move { run(self, env) })
    }

    fn needs_service(&self) -> bool {
        true
    }
}

fn run(p: &ProcessStep, env: &Env) -> Result<(), String> {
    let pid = env.pid();
    let memory = |field: &str, what: &str, max: u64| -> Result<(), String> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| format!("no {field} in /proc/{pid}/status"))?;
        let mb = kb / 1024;
        if mb > max {
            return Err(format!("expected {what} of at most {max} MB, got {mb} MB"));
        }
        Ok(())
    };
    if let Some(max) = p.expect_rss_max_mb {
        memory("VmRSS:", "an RSS", max)?;
    }
    if let Some(max) = p.expect_peak_rss_max_mb {
        memory("VmHWM:", "a peak RSS", max)?;
    }
    if let Some(max) = p.expect_fds_max {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map_err(|e| format!("cannot read /proc/{pid}/fd: {e}"))?
            .count() as u64;
        if fds > max {
            return Err(format!(
                "expected at most {max} open file descriptors, got {fds}"
            ));
        }
    }
    Ok(())
}
