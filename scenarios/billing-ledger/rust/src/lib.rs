//! billing-ledger: charges accounts through a payment provider and keeps a
//! ledger in SQLite.

pub mod config;
pub mod httpapi;
pub mod ledger;
pub mod logging;
pub mod metrics;
pub mod provider;
pub mod store;
