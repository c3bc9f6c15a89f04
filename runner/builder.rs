//! Building a language tree and running its visible tests, with caches shared
//! between drills of a scenario so the kit does not rebuild the world each time.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::catalog::{LanguageSpec, Toolchain};
use crate::confined::Dest;
use crate::process::{run_captured, Captured};
use crate::scratch::Scratch;

/// Builds and test runs are bounded so a wedged toolchain cannot hang the kit.
pub(crate) const BUILD_TIMEOUT: Duration = Duration::from_secs(900);
pub(crate) const TEST_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("build failed: {summary}")]
    Failed { summary: String, output: String },
    #[error("build did not finish within {0:?}")]
    TimedOut(Duration),
    #[error("the build succeeded but left no binary at {0}; check `binary` in scenario.toml")]
    NoBinary(PathBuf),
    #[error("cannot run `{program}`: {message}")]
    Spawn { program: String, message: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BuildError {
    let context = context.into();
    move |source| BuildError::Io { context, source }
}

/// Where the kit keeps what it can rebuild: shared Cargo target directories
/// and build locks. `DRILL_CACHE` overrides the default.
#[derive(Debug, Clone)]
pub struct Cache {
    pub root: PathBuf,
}

impl Cache {
    pub fn from_env() -> Cache {
        let root = std::env::var_os("DRILL_CACHE")
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|d| d.join("drillkit")))
            .unwrap_or_else(|| std::env::temp_dir().join("drillkit-cache"));
        Cache { root }
    }

    /// Cargo target directory shared by every build of one scenario.
    pub fn target_dir(&self, scenario: &str) -> PathBuf {
        self.root.join("cargo-target").join(scenario)
    }

    /// The fixed path every tree of one scenario language is built from.
    fn staging_dir(&self, scenario: &str, lang: &str) -> PathBuf {
        self.root.join("build").join(scenario).join(lang)
    }

    fn lock_path(&self, scenario: &str, lang: &str) -> PathBuf {
        self.root
            .join("locks")
            .join(format!("{scenario}-{lang}.lock"))
    }
}

/// A built service binary; the binary lives as long as this value.
#[derive(Debug)]
pub struct Built {
    pub binary: PathBuf,
    pub duration: Duration,
    _dir: Scratch,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestRun {
    pub passed: bool,
    #[serde(with = "crate::util::duration_ms")]
    pub duration: Duration,
    /// The first lines that explain a failure, empty on success.
    pub summary: String,
    #[serde(skip)]
    pub output: String,
}

/// Placeholder expansion for `build`, `binary` and `test`.
pub(crate) fn expand(s: &str, bin_dir: &Path, target_dir: &Path) -> String {
    s.replace("{bin_dir}", &bin_dir.to_string_lossy())
        .replace("{target_dir}", &target_dir.to_string_lossy())
}

pub(crate) fn command(
    spec: &LanguageSpec,
    argv: &[String],
    src: &Path,
    bin_dir: &Path,
    target_dir: &Path,
    tmp: &Path,
) -> tokio::process::Command {
    let argv: Vec<String> = argv
        .iter()
        .map(|a| expand(a, bin_dir, target_dir))
        .collect();
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..]).current_dir(src);
    // The toolchains' own temporary files (Go's work directories, test
    // binaries, a test's t.TempDir) go into the caller's scratch directory,
    // so an interrupted build leaves nothing in the system's temp folder.
    cmd.env("TMPDIR", tmp).env("GOTMPDIR", tmp);
    if spec.toolchain == Toolchain::Cargo {
        cmd.env("CARGO_TARGET_DIR", target_dir);
        // The scenario's `.cargo/config.toml` decides the flags (a task dump's
        // `--cfg tokio_unstable`, say): any of these in the caller's shell
        // would replace its `build.rustflags`, and the verdict would depend on
        // whose shell ran the kit.
        for var in [
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
        ] {
            cmd.env_remove(var);
        }
        // Colour codes would end up in summaries and records.
        cmd.env("CARGO_TERM_COLOR", "never");
    }
    cmd
}

/// The drill loop's settings on top of the service's own: the loop
/// rebuilds one small crate after a small edit, over and over, and
/// incremental compilation halves that rebuild in the optimised profile
/// (30 s -> 16 s for edge-proxy, measured on a loaded 2-core machine) at the
/// same opt-level; it is what a Rust engineer sets for such a loop. The
/// service's Cargo.toml is untouched, and [`build_shipped`] leaves it out.
pub(crate) fn drill_loop(spec: &LanguageSpec, cmd: &mut tokio::process::Command) {
    if spec.toolchain == Toolchain::Cargo {
        cmd.env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true");
    }
}

/// Build the tree at `src` (a copy of, or the same shape as, `spec.dir`) as
/// the drills judge it: the service's build command with the drill loop's
/// settings ([`drill_loop`]).
pub async fn build(
    spec: &LanguageSpec,
    scenario: &str,
    src: &Path,
    cache: &Cache,
) -> Result<Built, BuildError> {
    build_as(spec, scenario, src, cache, true).await
}

/// Build the tree exactly as the service ships (its own build command and
/// profile, nothing of the kit's): what `drill bench` measures.
pub async fn build_shipped(
    spec: &LanguageSpec,
    scenario: &str,
    src: &Path,
    cache: &Cache,
) -> Result<Built, BuildError> {
    build_as(spec, scenario, src, cache, false).await
}

async fn build_as(
    spec: &LanguageSpec,
    scenario: &str,
    src: &Path,
    cache: &Cache,
    for_drill_loop: bool,
) -> Result<Built, BuildError> {
    let out = Scratch::new("bin").map_err(io("creating a directory for the binary"))?;
    let bin_dir = out.path().join("build");
    let tmp = out.path().join("tmp");
    fs::create_dir_all(&bin_dir)
        .and_then(|_| fs::create_dir_all(&tmp))
        .map_err(io("creating the build output directory"))?;
    let target_dir = cache.target_dir(scenario);
    fs::create_dir_all(&target_dir).map_err(io(format!("creating {}", target_dir.display())))?;
    let (lock, staging) = stage(spec, scenario, src, cache).await?;
    let produced = PathBuf::from(expand(&spec.binary, &bin_dir, &target_dir));
    // A stale binary must never pass for this build's output.
    if produced.exists() {
        fs::remove_file(&produced).map_err(io(format!("removing stale {}", produced.display())))?;
    }
    let mut cmd = command(spec, &spec.build, &staging, &bin_dir, &target_dir, &tmp);
    if for_drill_loop {
        drill_loop(spec, &mut cmd);
    }
    let cap = run(cmd, &spec.build[0], BUILD_TIMEOUT).await?;
    if cap.timed_out {
        return Err(BuildError::TimedOut(BUILD_TIMEOUT));
    }
    if !cap.success() {
        let output = format!("{}{}", cap.stdout, cap.stderr);
        return Err(BuildError::Failed {
            summary: first_error(&output),
            output,
        });
    }
    if !produced.is_file() {
        return Err(BuildError::NoBinary(produced));
    }
    let name = produced.file_name().expect("binary has a file name");
    let binary = out.path().join(name);
    fs::copy(&produced, &binary).map_err(io(format!("copying {}", produced.display())))?;
    drop(lock);
    Ok(Built {
        binary,
        duration: cap.duration,
        _dir: out,
    })
}

/// Take the scenario language's build lock and copy the tree at `src` to the
/// fixed staging path every tree of that scenario language is built from.
///
/// Cargo names a package's artifacts (binaries, test executables) by the
/// package's name and a hash that does not depend on where the tree is
/// (each tree is its own workspace root): two trees of one scenario share
/// every file name in the shared target directory, and whichever compiled
/// last wins. The lock, held until the returned file is dropped, keeps one
/// caller's build (and its tests' run) from replacing another's; the fixed
/// path with freshly copied sources (new mtimes) makes every caller's build
/// recompile the crate, incrementally, so what runs is always this tree's.
async fn stage(
    spec: &LanguageSpec,
    scenario: &str,
    src: &Path,
    cache: &Cache,
) -> Result<(File, PathBuf), BuildError> {
    let lock_path = cache.lock_path(scenario, &spec.lang);
    fs::create_dir_all(lock_path.parent().expect("lock path has a parent"))
        .map_err(io("creating the lock directory"))?;
    let lock = File::create(&lock_path).map_err(io(format!("opening {}", lock_path.display())))?;
    let lock = tokio::task::spawn_blocking(move || lock.lock().map(|_| lock))
        .await
        .expect("lock task")
        .map_err(io(format!("locking {}", lock_path.display())))?;
    let staging = cache.staging_dir(scenario, &spec.lang);
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io(format!("clearing {}", staging.display())))?;
    }
    copy_tree(src, &staging).map_err(io(format!(
        "copying {} to {}",
        src.display(),
        staging.display()
    )))?;
    Ok((lock, staging))
}

/// Run the visible tests of the tree at `src`.
pub async fn run_tests(
    spec: &LanguageSpec,
    scenario: &str,
    src: &Path,
    cache: &Cache,
) -> Result<TestRun, BuildError> {
    let target_dir = cache.target_dir(scenario);
    fs::create_dir_all(&target_dir).map_err(io(format!("creating {}", target_dir.display())))?;
    let scratch = Scratch::new("test").map_err(io("creating a directory for the tests"))?;
    // Cargo's test binaries land in the shared target directory under names
    // that do not depend on the tree: two trees tested at once could each run
    // the other's. Rust tests run from the staging path under the build lock,
    // as builds do ([`stage`]); Go's build cache is keyed by content, so Go
    // trees are tested where they are, in parallel.
    let staged = match spec.toolchain {
        Toolchain::Cargo => Some(stage(spec, scenario, src, cache).await?),
        _ => None,
    };
    let dir = staged
        .as_ref()
        .map_or(src, |(_, staging)| staging.as_path());
    let mut cmd = command(
        spec,
        &spec.test,
        dir,
        &target_dir,
        &target_dir,
        scratch.path(),
    );
    drill_loop(spec, &mut cmd);
    let cap = run(cmd, &spec.test[0], TEST_TIMEOUT).await?;
    drop(staged);
    drop(scratch);
    let output = format!("{}{}", cap.stdout, cap.stderr);
    let passed = cap.success() && !cap.timed_out;
    Ok(TestRun {
        passed,
        duration: cap.duration,
        summary: if passed {
            String::new()
        } else if cap.timed_out {
            format!("tests did not finish within {TEST_TIMEOUT:?}")
        } else {
            first_failure(&output)
        },
        output,
    })
}

async fn run(
    cmd: tokio::process::Command,
    program: &str,
    timeout: Duration,
) -> Result<Captured, BuildError> {
    run_captured(cmd, timeout)
        .await
        .map_err(|e| BuildError::Spawn {
            program: program.to_string(),
            message: e.to_string(),
        })
}

/// The first compiler error, as one line: what an engineer reads first.
pub fn first_error(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        // rustc: `error[E0308]: mismatched types` then ` --> src/x.rs:3:5`
        if l.starts_with("error") && !l.starts_with("error: could not compile") {
            let at = lines[i + 1..]
                .iter()
                .take(3)
                .find_map(|n| n.trim_start().strip_prefix("--> "))
                .map(|loc| format!(" at {loc}"))
                .unwrap_or_default();
            return format!("{}{at}", l.trim());
        }
        // go: `./main.go:3:5: undefined: x`
        if is_go_location(l) {
            return l.trim().to_string();
        }
    }
    lines
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .unwrap_or_else(|| "no output".into())
}

fn is_go_location(l: &str) -> bool {
    let l = l.trim_start_matches("./");
    let mut parts = l.splitn(4, ':');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(f), Some(line), Some(_)) if f.ends_with(".go") && line.parse::<u32>().is_ok()
    )
}

/// The failing tests, as one line.
pub fn first_failure(output: &str) -> String {
    failure_line(output, "visible test(s)")
}

/// The failing tests as one line, naming them `what` (`visible test(s)`).
pub fn failure_line(output: &str, what: &str) -> String {
    let mut failed: Vec<String> = Vec::new();
    for l in output.lines() {
        let t = l.trim();
        // go: `--- FAIL: TestX (0.00s)`; cargo: `test x ... FAILED`
        if let Some(rest) = t.strip_prefix("--- FAIL: ") {
            failed.push(rest.split_whitespace().next().unwrap_or(rest).to_string());
        } else if t.starts_with("test ") && t.ends_with("... FAILED") {
            failed.push(t[5..t.len() - 10].trim().to_string());
        }
    }
    if failed.is_empty() {
        return format!("tests failed: {}", first_error(output));
    }
    failed.dedup();
    let n = failed.len();
    let shown: Vec<String> = failed.into_iter().take(3).collect();
    format!(
        "{n} {what} failed: {}{}",
        shown.join(", "),
        if n > 3 { ", …" } else { "" }
    )
}

/// Copy a source tree, leaving out build output and version control.
///
/// A symbolic link in `from` is an error, never followed nor recreated: a
/// copied link would let a patch, a build or the engineer's editor write
/// outside the copy. Every write goes through [`Dest`], below `to`.
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let dest = Dest::create(to)?;
    copy_into(&dest, from, Path::new(""))
}

fn copy_into(dest: &Dest, from: &Path, rel: &Path) -> std::io::Result<()> {
    dest.create_dir_all(rel)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let ty = entry.file_type()?;
        let child = rel.join(&name);
        if ty.is_symlink() {
            return Err(crate::confined::link_refused(&entry.path()));
        } else if ty.is_dir() {
            copy_into(dest, &entry.path(), &child)?;
        } else if ty.is_file() {
            dest.copy_file(&entry.path(), &child)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_error_finds_rust_and_go_errors() {
        let rust = "   Compiling ledger v0.1.0\nerror[E0425]: cannot find value `x` in this scope\n  --> src/provider.rs:10:5\n   |\nerror: could not compile `ledger`\n";
        assert_eq!(
            first_error(rust),
            "error[E0425]: cannot find value `x` in this scope at src/provider.rs:10:5"
        );
        let go = "# ledger/internal/provider\ninternal/provider/client.go:12:2: undefined: x\n";
        assert_eq!(
            first_error(go),
            "internal/provider/client.go:12:2: undefined: x"
        );
    }

    #[test]
    fn first_failure_lists_failed_tests() {
        let go = "--- FAIL: TestA (0.00s)\n--- FAIL: TestB (0.01s)\nFAIL\n";
        assert_eq!(first_failure(go), "2 visible test(s) failed: TestA, TestB");
        let rust = "test store_works ... ok\ntest replay ... FAILED\n";
        assert_eq!(first_failure(rust), "1 visible test(s) failed: replay");
    }
}
