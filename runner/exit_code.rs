//! Exit codes of `drill`. They are part of the interface: scripts and CI rely
//! on them, so a code's meaning never changes (documented in the README and
//! in `drill --help`). [`Kind::exit_code`] is the one mapping from an error
//! to its code; a command's own outcome (a verdict) is one of the constants.

/// Everything asked for was done and passed.
pub const SUCCESS: u8 = 0;
/// A verdict failed: `verify` found a broken drill, `submit` rejected a fix,
/// `check-test` found no reproducing test, `run` could not build the
/// engineer's code. Nothing else exits 1.
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
/// The machine got in the way: a file or directory could not be read,
/// written or copied (disk full, permissions), a git operation on the
/// workspace failed, no temp directory, no current directory.
pub const ENVIRONMENT: u8 = 8;
/// A bug in drill itself: a panic, or what cannot happen (signal handlers
/// that could not be installed).
pub const INTERNAL: u8 = 70;
// 130 and 143: stopped by Ctrl-C or SIGTERM (128 + the signal), from
// `process::Interrupt::exit_code`: the command cleaned up and says what it kept.
/// Whoever read stdout stopped reading (`drill list | head -1`): the command
/// ends quietly with 128 + SIGPIPE, the status the shell reports for `git`
/// or `cat` in the same place.
pub const CLOSED_STDOUT: u8 = 141;

/// What kind of error ended a command; each maps to exactly one code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Usage,
    Catalog,
    Toolchain,
    Infrastructure,
    Records,
    Locked,
    Environment,
    ClosedStdout,
    /// Stopped by Ctrl-C or SIGTERM before the work was done.
    Interrupted(crate::process::Interrupt),
    Internal,
}

impl Kind {
    /// The one mapping from an error to the process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Usage => USAGE,
            Kind::Catalog => CATALOG,
            Kind::Toolchain => TOOLCHAIN,
            Kind::Infrastructure => INFRASTRUCTURE,
            Kind::Records => RECORDS,
            Kind::Locked => LOCKED,
            Kind::Environment => ENVIRONMENT,
            Kind::ClosedStdout => CLOSED_STDOUT,
            Kind::Interrupted(i) => i.exit_code(),
            Kind::Internal => INTERNAL,
        }
    }
}
