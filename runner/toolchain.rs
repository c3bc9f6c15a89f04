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

/// The minimum toolchain version a language tree's own manifest declares:
/// go.mod's `go` directive, Cargo.toml's `package.rust-version`. `Ok(None)`
/// when the manifest declares none. The path in an error names the file.
pub fn manifest_min_version(
    tc: Toolchain,
    dir: &std::path::Path,
) -> Result<Option<String>, String> {
    let (file, field) = tc.manifest();
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let found = match tc {
        Toolchain::Go => text.lines().find_map(|l| {
            let l = l.split("//").next().unwrap_or("").trim();
            l.strip_prefix("go ").map(|v| v.trim().to_string())
        }),
        Toolchain::Cargo => {
            let doc: toml::Table = text
                .parse()
                .map_err(|e| format!("{}: not valid TOML: {e}", path.display()))?;
            doc.get("package")
                .and_then(|p| p.get("rust-version"))
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        format!("{}: `package.{field}` is not a string", path.display())
                    })
                })
                .transpose()?
        }
    };
    Ok(found)
}

/// Whether two versions name the same release, trailing zeros aside
/// (`1.26` and `1.26.0` are equal; `1.26` and `1.26.1` are not).
pub fn same_version(a: &str, b: &str) -> bool {
    let trim = |v: Vec<u32>| {
        let mut v = v;
        while v.len() > 1 && v.last() == Some(&0) {
            v.pop();
        }
        v
    };
    match (parse_version(a), parse_version(b)) {
        (Some(a), Some(b)) => trim(a) == trim(b),
        _ => false,
    }
}

#[cfg(test)]
mod manifest_tests {
    use super::*;

    #[test]
    fn reads_the_go_directive_and_the_rust_version() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("go.mod"),
            "module m\n\ngo 1.26.0 // the loop-variable semantics\n\nrequire x v1\n",
        )
        .unwrap();
        assert_eq!(
            manifest_min_version(Toolchain::Go, d.path())
                .unwrap()
                .as_deref(),
            Some("1.26.0")
        );
        std::fs::write(
            d.path().join("Cargo.toml"),
            "[package]\nname = \"x\"\nversion = \"0.1.0\"\nrust-version = \"1.89\"\n",
        )
        .unwrap();
        assert_eq!(
            manifest_min_version(Toolchain::Cargo, d.path())
                .unwrap()
                .as_deref(),
            Some("1.89")
        );
        std::fs::write(d.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        assert_eq!(
            manifest_min_version(Toolchain::Cargo, d.path()).unwrap(),
            None
        );
        std::fs::write(d.path().join("Cargo.toml"), "[package\n").unwrap();
        let e = manifest_min_version(Toolchain::Cargo, d.path()).unwrap_err();
        assert!(e.contains("Cargo.toml") && e.contains("TOML"), "{e}");
    }

    #[test]
    fn versions_are_equal_up_to_trailing_zeros() {
        assert!(same_version("1.26", "1.26.0"));
        assert!(same_version("1.89.0", "1.89"));
        assert!(!same_version("1.26", "1.26.1"));
        assert!(!same_version("1.24", "1.26"));
        assert!(!same_version("latest", "1.26"));
    }
}
