//! email-worker: queues emails in SQLite and sends them through a mail
//! provider. The modules mirror the Go packages under `go/internal/`.

pub mod config;
pub mod httpapi;
pub mod logging;
pub mod metrics;
pub mod provider;
pub mod queue;
pub mod worker;
