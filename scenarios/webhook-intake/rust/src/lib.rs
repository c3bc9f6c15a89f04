//! webhook-intake: receives signed webhooks, deduplicates and persists them
//! in SQLite, and delivers them downstream from an in-process worker pool.

pub mod config;
pub mod downstream;
pub mod httpapi;
pub mod intake;
pub mod logging;
pub mod metrics;
pub mod signature;
pub mod store;
pub mod worker;
