//! JSON log lines on stderr, one object per line: `timestamp`, `level`,
//! `message`, then the event's fields.

use tracing::Level;

/// Installs the JSON logger as the global default (INFO and above, stderr).
pub fn init() {
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_max_level(Level::INFO)
        .with_writer(std::io::stderr)
        .init();
}
