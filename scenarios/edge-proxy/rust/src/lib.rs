//! edge-proxy: a small reverse proxy with pooled, health-checked upstreams
//! and streamed bodies.

pub mod config;
pub mod headers;
pub mod logging;
pub mod metrics;
pub mod proxy;
pub mod upstream;

/// The error type of bodies and upstream calls.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
