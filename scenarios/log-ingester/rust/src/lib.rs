//! log-ingester: receives log lines over HTTP, applies per-tenant quotas,
//! batches them into SQLite and ships every batch to an archive.

pub mod archive;
pub mod batch;
pub mod config;
pub mod httpapi;
pub mod ingest;
pub mod logging;
pub mod metrics;
pub mod parse;
pub mod quota;
pub mod store;
