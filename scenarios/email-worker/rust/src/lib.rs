//! email-worker: queues emails in SQLite and sends them through a mail
//! provider.

pub mod config;
pub mod httpapi;
pub mod logging;
pub mod metrics;
pub mod provider;
pub mod queue;
pub mod worker;
