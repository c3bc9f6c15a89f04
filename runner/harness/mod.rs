//! The acceptance harness: judges a scenario service black-box against its
//! `acceptance.toml` (format: docs/drill-format.md, "acceptance.toml").
//!
//! - `suite`: the file's types, loading and validation of the service, fakes and checks;
//! - `steps`: one module per step kind (fields, validation, run) and their registration table;
//! - `env`: [`Env`], the service under its fakes (start, ready line, logs, restart, teardown);
//! - `check`: [`run_check`] / [`run_suite`], the outcome of each check;
//! - `fake`: fake HTTP dependencies that record calls and apply faults;
//! - `faults`: fault rules, call selectors and the seeded jitter;
//! - `client`: the HTTP/1.1 client (hyper) checks drive the service with;
//! - `wire`: reading the request a fake receives (httparse);
//! - `json_match`: expected values against the JSON a service sent;
//! - `log_line`: a log line's message and fields, whichever logger wrote it;
//! - `loopback`: listen addresses and ready lines must be loopback;
//! - `signature`: the HMAC-SHA256 of `sign` on requests;
//! - `template`: `{name}` placeholders; `validate`: checks shared by suite and steps.

mod check;
pub mod client;
mod env;
pub mod fake;
pub mod faults;
mod json_match;
pub mod log_line;
pub(crate) mod loopback;
mod signature;
mod steps;
mod suite;
mod template;
pub(crate) mod validate;
mod wire;

pub use check::{run_check, run_suite, CheckResult, Outcome};
pub use env::{Env, EnvError, Replacement, RunOptions, Started};
pub use fake::{CallRecord, FakeSummary};
pub use faults::{CallSelector, FaultKind, FaultRule};
pub(crate) use steps::{RequestTemplate, SignSpec, DEFAULT_METRICS_PATH};
pub use suite::{Suite, SuiteError};
