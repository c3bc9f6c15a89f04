//! Exit codes of `drill`. They are part of the interface: scripts and CI rely
//! on them, so a code's meaning never changes (documented in the README).

/// Everything asked for was done and passed.
pub const SUCCESS: u8 = 0;
/// The work ran and found a failure: `verify` found a broken drill, `submit` rejected a fix.
pub const FAILED: u8 = 1;
/// Bad command-line usage, an unknown drill id, no workspace here.
pub const USAGE: u8 = 2;
/// The catalog is invalid (malformed TOML, unknown class, patch that does not parse...).
pub const CATALOG: u8 = 3;
/// A toolchain (`go`, `cargo`) is missing or too old.
pub const TOOLCHAIN: u8 = 4;
/// The kit could not judge: the service never came up, the harness failed.
pub const INFRASTRUCTURE: u8 = 5;
/// A results record is damaged or could not be written.
pub const RECORDS: u8 = 6;
/// Another command holds the attempt's lock.
pub const LOCKED: u8 = 7;
/// A bug in drill itself.
pub const INTERNAL: u8 = 70;
