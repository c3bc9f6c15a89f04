//! The step kinds of a check, one module each: the step's fields (decoded by
//! serde, unknown keys refused), what [`StepKind::validate`] checks at load
//! beyond its shape, and how [`StepKind::run`] judges the service.
//!
//! Adding a step kind: a new module here with a `Deserialize` struct that
//! implements [`StepKind`], plus one line in [`KINDS`]. Nothing else in the
//! harness names a kind. (Document it in docs/drill-format.md, "Steps".)

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::env::Env;
use super::fake::FakeSpec;
use super::validate;

mod fake_calls;
mod log;
mod metric;
mod process;
mod request;
mod restart;
mod signal;
mod sleep;
mod write_file;

pub(crate) use metric::DEFAULT_METRICS_PATH;
pub(crate) use request::{RequestTemplate, SignSpec};

/// Every step kind: the `do = "..."` that selects it and its parser.
const KINDS: &[(&str, Parse)] = &[
    ("request", parse::<request::RequestStep>),
    ("fake_calls", parse::<fake_calls::FakeCallsStep>),
    ("sleep", parse::<sleep::SleepStep>),
    ("signal", parse::<signal::SignalStep>),
    ("log", parse::<log::LogStep>),
    ("metric", parse::<metric::MetricStep>),
    ("process", parse::<process::ProcessStep>),
    ("restart", parse::<restart::RestartStep>),
    ("write_file", parse::<write_file::WriteFileStep>),
];

/// The hard limit of a step without `within_ms`.
pub(crate) const DEFAULT_STEP_LIMIT_MS: u64 = 5000;

/// Template variables while a check runs: the environment's (`run`,
/// `run_dir`, `fake.<name>.url`) and the names saved by earlier steps.
pub(crate) type Vars = BTreeMap<String, String>;

/// What [`StepKind::run`] returns: `Err` is the one-line reason the check fails.
pub(crate) type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// One kind of step.
pub(crate) trait StepKind: fmt::Debug + Send + Sync {
    /// What serde cannot check: report each problem with [`StepCx::problem`].
    fn validate(&self, cx: &mut StepCx<'_>);

    /// What the step does, in a few words, for progress and failure messages
    /// (`POST /v1/charges/ch_1 ×3`); `vars` may fill its templates.
    fn describe(&self, vars: &Vars) -> String;

    /// Runs the step against the service.
    fn run<'a>(&'a self, env: &'a mut Env, vars: &'a mut Vars) -> StepFuture<'a>;

    /// Whether the step needs the service running (it is refused after a
    /// step that stopped it, unless a restart came between).
    fn needs_service(&self) -> bool {
        false
    }

    /// Whether the service runs after this step: `Some(false)` when the step
    /// stops it, `Some(true)` when it starts it again, `None` when unchanged.
    fn service_after(&self) -> Option<bool> {
        None
    }

    /// The names this step saves for the templates of later steps.
    fn saves(&self) -> Vec<String> {
        Vec::new()
    }
}

type Parse = fn(toml::Value) -> Result<Arc<dyn StepKind>, String>;

fn parse<T: StepKind + DeserializeOwned + 'static>(
    value: toml::Value,
) -> Result<Arc<dyn StepKind>, String> {
    value
        .try_into::<T>()
        .map(|s| Arc::new(s) as Arc<dyn StepKind>)
        .map_err(|e| e.message().to_string())
}

/// A parsed step: its kind's name and the step itself.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    kind: &'static str,
    step: Arc<dyn StepKind>,
}

impl Step {
    /// Decodes one `[[checks.steps]]` table: `do` picks the kind, the other
    /// keys are that kind's fields.
    pub(crate) fn parse(value: toml::Value) -> Result<Step, String> {
        let toml::Value::Table(mut table) = value else {
            return Err("a step must be a table".to_string());
        };
        let kind = match table.remove("do") {
            None => return Err("missing field `do`".to_string()),
            Some(toml::Value::String(kind)) => kind,
            Some(other) => {
                return Err(format!(
                    "field `do`: expected a string, found {}",
                    other.type_str()
                ))
            }
        };
        let Some((name, parse)) = KINDS.iter().find(|(name, _)| *name == kind) else {
            let known: Vec<String> = KINDS.iter().map(|(name, _)| format!("`{name}`")).collect();
            return Err(format!(
                "field `do`: unknown step kind `{kind}`, expected one of {}",
                known.join(", ")
            ));
        };
        Ok(Step {
            kind: name,
            step: parse(toml::Value::Table(table))?,
        })
    }

    /// The `do` name of this step.
    pub(crate) fn kind(&self) -> &'static str {
        self.kind
    }
}

impl Deref for Step {
    type Target = dyn StepKind;

    fn deref(&self) -> &Self::Target {
        &*self.step
    }
}

/// What a step's validation may consult, and where it reports problems.
pub(crate) struct StepCx<'a> {
    /// `check "c1", step 2 (request)`: every problem starts with it.
    pub at: String,
    /// The check's overall limit in milliseconds; no wait of a step may exceed it.
    pub timeout_ms: u64,
    /// The suite's fakes, by name.
    pub fakes: &'a BTreeMap<String, FakeSpec>,
    /// Whether a placeholder name is defined at this step.
    pub known: &'a dyn Fn(&str) -> bool,
    pub problems: &'a mut Vec<String>,
}

impl StepCx<'_> {
    /// Reports a problem of this step.
    pub fn problem(&mut self, message: impl fmt::Display) {
        self.problems.push(format!("{}: {message}", self.at));
    }

    /// Reports each placeholder of `text` that is not defined here (`where_`:
    /// ``field `path` `` or `header X-Key`).
    pub fn placeholders(&mut self, text: &str, where_: &str) {
        self.placeholders_with(text, where_, &[]);
    }

    /// As [`StepCx::placeholders`], with `extra` names also defined.
    pub fn placeholders_with(&mut self, text: &str, where_: &str, extra: &[&str]) {
        let known = |n: &str| extra.contains(&n) || (self.known)(n);
        validate::check_placeholders(
            text,
            &known,
            &format!("{}: {where_}", self.at),
            self.problems,
        );
    }

    /// Reports undefined placeholders in the strings of a TOML value.
    pub fn value_placeholders(&mut self, value: &toml::Value, where_: &str) {
        validate::check_value_placeholders(
            value,
            self.known,
            &format!("{}: {where_}", self.at),
            self.problems,
        );
    }

    /// Reports `field` unless `ms` is within 1..=the check's limit.
    pub fn within_check_limit(&mut self, ms: Option<u64>, field: &str) {
        if ms.is_some_and(|ms| ms == 0 || ms > self.timeout_ms) {
            let limit = self.timeout_ms;
            self.problem(format_args!("field `{field}` must be 1..={limit}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_kind_is_found_by_its_do_name_once() {
        let mut names: Vec<&str> = KINDS.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KINDS.len());
        let step = Step::parse(toml::from_str("do = \"sleep\"\nms = 5").unwrap()).unwrap();
        assert_eq!(step.kind(), "sleep");
        assert_eq!(step.describe(&Vars::new()), "sleep 5 ms");
    }

    #[test]
    fn a_step_without_a_string_do_is_refused() {
        let no_do = Step::parse(toml::from_str("ms = 5").unwrap()).unwrap_err();
        assert_eq!(no_do, "missing field `do`");
        let number = Step::parse(toml::from_str("do = 3").unwrap()).unwrap_err();
        assert_eq!(number, "field `do`: expected a string, found integer");
    }
}
