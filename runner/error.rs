//! `Failure`: an error and its [`Kind`], which decides the exit code
//! ([`Kind::exit_code`], the one mapping). The library's typed errors are
//! classified here, each variant once. Below the command layer, so any
//! module may use it.

use std::io;

use crate::attempt::TransitionError;
use crate::bench::build::BuildBenchError;
use crate::catalog::CatalogError;
use crate::exit_code::Kind;
use crate::results::ResultsError;
use crate::workspace::WorkspaceError;

/// An error that ends a command, with what kind of error it is.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn new(kind: Kind, error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            kind,
            error: error.into(),
        }
    }

    /// Bad usage: a message for the person at the terminal.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(Kind::Usage, anyhow::anyhow!(message.into()))
    }

    /// The machine got in the way (a file, a directory, git, a temp dir).
    pub fn environment(message: impl Into<String>) -> Failure {
        Failure::new(Kind::Environment, anyhow::anyhow!(message.into()))
    }

    /// Writing the command's output failed: a reader that went away
    /// (`| head -1`) ends the command quietly; anything else is the machine's.
    pub fn stdout(e: io::Error) -> Failure {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::new(Kind::ClosedStdout, e)
        } else {
            Failure::environment(format!("writing to stdout: {e}"))
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }
}

impl From<CatalogError> for Failure {
    fn from(e: CatalogError) -> Failure {
        let kind = match e {
            CatalogError::UnknownDrill { .. } => Kind::Usage,
            _ => Kind::Catalog,
        };
        Failure::new(kind, e)
    }
}

impl From<ResultsError> for Failure {
    fn from(e: ResultsError) -> Failure {
        let kind = match &e {
            ResultsError::Busy { .. } => Kind::Locked,
            ResultsError::Transition(_)
            | ResultsError::NotFound { .. }
            | ResultsError::NotADirectory { .. }
            | ResultsError::NoDataDir => Kind::Usage,
            ResultsError::Io { .. }
            | ResultsError::Damaged { .. }
            | ResultsError::Exists { .. } => Kind::Records,
        };
        Failure::new(kind, e)
    }
}

impl From<WorkspaceError> for Failure {
    fn from(e: WorkspaceError) -> Failure {
        let kind = match &e {
            WorkspaceError::NotEmpty { .. } | WorkspaceError::NotInWorkspace { .. } => Kind::Usage,
            WorkspaceError::BadLink { .. }
            | WorkspaceError::SnapshotGone { .. }
            | WorkspaceError::RepositoryDamaged { .. } => Kind::Records,
            WorkspaceError::Glob { .. } => Kind::Catalog,
            WorkspaceError::Io { .. } | WorkspaceError::Git { .. } => Kind::Environment,
        };
        Failure::new(kind, e)
    }
}

impl From<TransitionError> for Failure {
    fn from(e: TransitionError) -> Failure {
        Failure::new(Kind::Usage, e)
    }
}

impl From<BuildBenchError> for Failure {
    fn from(e: BuildBenchError) -> Failure {
        let kind = match &e {
            // The clean tree must build and pass its tests: when it does not,
            // the kit has nothing to measure.
            BuildBenchError::Failed { .. }
            | BuildBenchError::TimedOut { .. }
            | BuildBenchError::NoBinary { .. } => Kind::Infrastructure,
            BuildBenchError::Spawn { .. } => Kind::Toolchain,
            BuildBenchError::NoEditFile { .. } => Kind::Catalog,
            BuildBenchError::Io { .. } => Kind::Environment,
            BuildBenchError::Options(_) => Kind::Usage,
        };
        Failure::new(kind, e)
    }
}

impl From<crate::gameday::record::RecordError> for Failure {
    fn from(e: crate::gameday::record::RecordError) -> Failure {
        use crate::gameday::record::RecordError;
        match e {
            RecordError::Results(r) => r.into(),
            RecordError::Damaged { .. } => Failure::new(Kind::Records, e),
            RecordError::NotFound { .. } | RecordError::Ended { .. } => {
                Failure::new(Kind::Usage, e)
            }
        }
    }
}

impl From<crate::gameday::live::LiveError> for Failure {
    fn from(e: crate::gameday::live::LiveError) -> Failure {
        use crate::gameday::live::LiveError;
        match e {
            LiveError::Record(r) => r.into(),
            LiveError::Env(_) => Failure::new(Kind::Infrastructure, e),
            LiveError::Io { .. } => Failure::new(Kind::Environment, e),
        }
    }
}
