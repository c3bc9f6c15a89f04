//! auth-gateway: an HTTP gateway that authenticates bearer tokens under keys
//! from a key service, applies an access rules file and forwards allowed
//! requests to one backend.

pub mod config;
pub mod gateway;
pub mod keys;
pub mod logging;
pub mod metrics;
pub mod routecache;
pub mod rules;
pub mod token;
