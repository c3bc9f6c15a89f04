//! Finding the Go and Rust toolchains and checking they are new enough.

use std::process::Command;

use serde::Serialize;

use crate::catalog::{parse_version, Toolchain};

#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    #[error("`{program}` was not found on PATH ({needed}); install it (Go: https://go.dev/doc/install, Rust: rustup) or put it on PATH")]
    Missing {
        program: &'static str,
        needed: String,
    },
    #[error("`{program}` is version {found}, but {needed} needs at least {min}; upgrade it")]
    TooOld {
        program: &'static str,
        found: String,
        min: String,
        needed: String,
    },
    #[error("could not understand `{program}`'s version output: {output}")]
    Unparsable {
        program: &'static str,
        output: String,
    },
}

/// The versions a result was measured with.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ToolchainVersion {
    pub program: String,
    pub version: String,
}

/// The installed version of a toolchain, e.g. `1.26.8` for go, `1.95.0` for cargo.
pub fn installed(tc: Toolchain) -> Result<ToolchainVersion, ToolchainError> {
    let program = tc.program();
    let out = Command::new(program)
        .arg(if tc == Toolchain::Go {
            "version"
        } else {
            "--version"
        })
        .output()
        .map_err(|_| ToolchainError::Missing {
            program,
            needed: "needed to build this scenario".into(),
        })?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // `go version go1.26.8 linux/amd64`, `cargo 1.95.0 (f2d3ce0bd 2026-03-21)`
    let version = text
        .split_whitespace()
        .find_map(|w| {
            let w = w.trim_start_matches("go");
            parse_version(w).map(|_| w.to_string())
        })
        .ok_or_else(|| ToolchainError::Unparsable {
            program,
            output: text.trim().to_string(),
        })?;
    Ok(ToolchainVersion {
        program: program.to_string(),
        version,
    })
}

/// Checks `tc` is installed and at least `min`; `needed` says who needs it.
pub fn require(tc: Toolchain, min: &str, needed: &str) -> Result<ToolchainVersion, ToolchainError> {
    let v = installed(tc).map_err(|e| match e {
        ToolchainError::Missing { program, .. } => ToolchainError::Missing {
            program,
            needed: format!("{needed} needs it"),
        },
        e => e,
    })?;
    let (Some(have), Some(want)) = (parse_version(&v.version), parse_version(min)) else {
        return Ok(v);
    };
    if have < want {
        return Err(ToolchainError::TooOld {
            program: tc.program(),
            found: v.version,
            min: min.to_string(),
            needed: needed.to_string(),
        });
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_toolchain_is_refused_with_the_versions() {
        // Needs a real `cargo` on PATH, as every test of the kit does.
        let e = require(Toolchain::Cargo, "99.0", "scenario `x` (rust)").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("needs at least 99.0"), "{msg}");
        assert!(msg.contains("scenario `x` (rust)"), "{msg}");
        assert!(require(Toolchain::Cargo, "1.0", "test").is_ok());
    }
}
