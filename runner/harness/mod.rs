//! The acceptance harness: judges a scenario service black-box against its
//! `acceptance.toml` (format: docs/drill-format.md, "acceptance.toml").
//!
//! - `suite`: the file's types, loading and validation;
//! - `fake`: fake HTTP dependencies that record calls and apply faults;
//! - `faults`: fault rules, call selectors and the seeded jitter;
//! - `client` / `wire`: the minimal HTTP/1.1 client and shared framing;
//! - `template`: `{name}` placeholders;
//! - `run`: [`Env`] (fakes + the service) and the check runner.

pub mod client;
pub mod fake;
pub mod faults;
mod hmac;
mod run;
mod suite;
mod template;
mod wire;

pub use fake::{CallRecord, FakeSummary};
pub use faults::{CallSelector, FaultKind, FaultRule};
pub use run::{run_check, run_suite, CheckResult, Env, EnvError, Outcome, RunOptions};
pub use suite::{Suite, SuiteError};
