//! drillkit: the library behind the `drill` binary. One concern per module;
//! `docs/architecture.md` has a line for each and the data flow between them.

pub mod builder;
pub mod catalog;
pub mod cli;
pub mod console;
pub mod exit_code;
pub mod harness;
pub mod pairing;
pub mod patch;
pub mod process;
pub mod taxonomy;
pub mod toolchain;
pub mod util;
pub mod verify;
// The engineer's drill (issue 3).
pub mod attempt;
pub mod clock;
pub mod results;
pub mod session;
pub mod workspace;
// Statistics, export, report and plan (issue 4).
pub mod analysis;
pub mod csvio;
pub mod export;
pub mod plan;
pub mod report;
pub mod stats;
