//! Test-first attempts: which of the engineer's tests `drill check-test`
//! runs, how they are run against a tree, and the verdict.
//!
//! The selection rule (documented in `docs/results-format.md`, "Test-first
//! attempts"): the test files the engineer added or modified (the scenario's
//! `test_files` globs, compared to the workspace's snapshot) name the tests.
//!
//! - Go: a changed `*_test.go` file selects its package; inside it, the
//!   `TestXxx(t *testing.T)` functions that are new or whose text changed
//!   (`go test -run '^(TestA|TestB)$' ./pkg`). If anything else in the file
//!   changed (a helper function, a method, a type, a variable; imports and
//!   comments aside), or a `testdata/` file changed, the whole package runs.
//! - Rust: a changed `tests/<name>.rs` (or `tests/<name>/main.rs`) selects
//!   the integration-test target `<name>`; inside it, the top-level
//!   functions with a test attribute (`#[test]`, `#[tokio::test]`, ...) that
//!   are new or changed (`cargo test --test <name> -- --exact a b`). Any
//!   other change in the file runs the whole target; a changed file under
//!   `tests/<dir>/` runs target `<dir>` if it has a `main.rs`, and any other
//!   changed file under `tests/` (a shared module, a fixture) runs every
//!   integration-test target.
//!
//! Top-level items are found the way `gofmt` and `rustfmt` lay them out: a
//! function starts at column 0 (`func `, `fn `, `async fn `, `pub fn `...),
//! with its attributes and doc comments directly above it, and ends at the
//! first `}` at column 0. Deleted tests select nothing.
//!
//! Each unit (package or target) is first compiled on its own (a compile
//! error is told apart from a failing test), then run `runs` times, each run
//! bounded by [`RUN_TIMEOUT`] (a run that hangs counts as failed).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::builder::{self, Cache, BUILD_TIMEOUT};
use crate::catalog::{LanguageSpec, Toolchain};
use crate::process::run_captured;
use crate::scratch::Scratch;
use crate::workspace::{ChangeKind, FileChange};

/// Runs per tree for a drill whose bug is timing-dependent (`timing = true`
/// in `drill.toml`).
pub const TIMING_RUNS: u32 = 10;
/// A timing-dependent drill's test must fail in at least this share of the
/// runs on the bugged tree (and pass in every run on the fixed one).
pub const TIMING_FAIL_PERCENT: u32 = 90;
/// One run of the selected tests (after they compiled); longer counts as a
/// failed run: a test that hangs on the bugged code fails.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The verdict on the engineer's tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestVerdict {
    /// No test added or changed since the snapshot.
    NoTest,
    /// Fails on the fixed tree every time (on both, or only there), or does
    /// not compile against one of the trees.
    Broken,
    /// Passes on the bugged tree (or fails there too rarely).
    DoesNotReproduce,
    /// Passes on the fixed tree in some runs only.
    FlakyOnFixed,
    /// Fails on the bugged tree (in at least 90% of the runs for a
    /// timing-dependent drill) and passes on the fixed one every time.
    Reproducing,
}

impl TestVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            TestVerdict::NoTest => "no test",
            TestVerdict::Broken => "broken",
            TestVerdict::DoesNotReproduce => "does not reproduce",
            TestVerdict::FlakyOnFixed => "flaky on the fixed code",
            TestVerdict::Reproducing => "reproducing",
        }
    }
}

/// One package (Go, `internal/worker`, `.` for the root) or integration-test
/// target (Rust, `worker_test`, `*` for all of them) and the tests in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub name: String,
    /// `None`: every test of the unit.
    pub tests: Option<BTreeSet<String>>,
}

impl Unit {
    /// For the record and the engineer: `pkg:TestName` per test, or
    /// `pkg (all tests)`.
    pub fn labels(&self) -> Vec<String> {
        match &self.tests {
            Some(tests) => tests.iter().map(|t| format!("{}:{t}", self.name)).collect(),
            None => vec![format!("{} (all tests)", self.name)],
        }
    }
}

/// The tests `check-test` runs, from the engineer's changes.
pub fn select(spec: &LanguageSpec, changes: &[FileChange], tree: &Path) -> Vec<Unit> {
    let mut units: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
    let mut add = |name: String, tests: Option<BTreeSet<String>>| {
        let slot = units.entry(name).or_insert_with(|| Some(BTreeSet::new()));
        match (slot.as_mut(), tests) {
            (Some(have), Some(more)) => have.extend(more),
            (Some(_), None) => *slot = None,
            (None, _) => {}
        }
    };
    for c in changes {
        if c.kind == ChangeKind::Deleted || !spec.is_test_file(&c.path) {
            continue;
        }
        let (unit, source) = match spec.toolchain {
            Toolchain::Go => go_unit(&c.path),
            Toolchain::Cargo => rust_unit(&c.path, tree),
        };
        // `None`: the whole unit (a fixture, a shared module, a binary file).
        let tests = match (source, &c.new) {
            (true, Some(new)) => changed_tests(spec.toolchain, c.old.as_deref().unwrap_or(""), new),
            _ => None,
        };
        match tests {
            Some(t) if t.is_empty() => {}
            tests => add(unit, tests),
        }
    }
    let mut out: Vec<Unit> = units
        .into_iter()
        .map(|(name, tests)| Unit { name, tests })
        .collect();
    // Every target runs anyway: the others would run twice.
    if let Some(all) = out.iter().position(|u| u.name == "*") {
        out = vec![out.swap_remove(all)];
    }
    out
}

/// The package of a Go test file, and whether it is Go source (a
/// `testdata/` file is not: its package runs whole).
fn go_unit(path: &str) -> (String, bool) {
    let parts: Vec<&str> = path.split('/').collect();
    if let Some(i) = parts.iter().position(|p| *p == "testdata") {
        return (join_or_dot(&parts[..i]), false);
    }
    (
        join_or_dot(&parts[..parts.len() - 1]),
        path.ends_with("_test.go"),
    )
}

fn join_or_dot(parts: &[&str]) -> String {
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// The integration-test target of a file under `tests/`, and whether the
/// file is that target's own source.
fn rust_unit(path: &str, tree: &Path) -> (String, bool) {
    let rest = path.strip_prefix("tests/").unwrap_or(path);
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        [file] if file.ends_with(".rs") => (file.trim_end_matches(".rs").to_string(), true),
        [dir, file, ..] if tree.join("tests").join(dir).join("main.rs").is_file() => {
            (dir.to_string(), parts.len() == 2 && *file == "main.rs")
        }
        _ => ("*".to_string(), false),
    }
}

/// The tests of a file that are new or changed; `None` when something other
/// than a test changed (the whole unit runs).
pub fn changed_tests(toolchain: Toolchain, old: &str, new: &str) -> Option<BTreeSet<String>> {
    let old = items(toolchain, old);
    let new = items(toolchain, new);
    if old.rest != new.rest {
        return None;
    }
    let mut tests = BTreeSet::new();
    for (name, item) in &new.functions {
        if old.functions.get(name) == Some(item) {
            continue;
        }
        if !item.is_test {
            return None;
        }
        tests.insert(name.clone());
    }
    Some(tests)
}

#[derive(Debug, PartialEq)]
struct Item {
    text: String,
    is_test: bool,
}

#[derive(Debug, Default)]
struct Items {
    /// Top-level functions by name (a Go method by `Receiver.Name`).
    functions: BTreeMap<String, Item>,
    /// Every other line that means something (not blank, not a comment,
    /// not a package clause, import or `use`), in order.
    rest: Vec<String>,
}

fn items(toolchain: Toolchain, text: &str) -> Items {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Items::default();
    let mut in_fn = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let Some(name) = function_name(toolchain, lines[i]) else {
            i += 1;
            continue;
        };
        let mut start = i;
        while start > 0 && is_decoration(lines[start - 1]) && !in_fn[start - 1] {
            start -= 1;
        }
        let end = if lines[i].trim_end().ends_with('}') {
            i
        } else {
            (i + 1..lines.len())
                .find(|&j| lines[j].starts_with('}'))
                .unwrap_or(lines.len() - 1)
        };
        for flag in &mut in_fn[start..=end] {
            *flag = true;
        }
        let head = &lines[start..=i];
        let is_test = match toolchain {
            Toolchain::Go => is_go_test(&name, lines[i]),
            Toolchain::Cargo => head
                .iter()
                .any(|l| l.starts_with("#[") && l.contains("test")),
        };
        out.functions.insert(
            name,
            Item {
                text: lines[start..=end].join("\n"),
                is_test,
            },
        );
        i = end + 1;
    }
    let mut in_import = false;
    for (line, _) in lines.iter().zip(&in_fn).filter(|(_, f)| !**f) {
        let t = line.trim();
        if in_import {
            in_import = !(t == ")" || t.ends_with(';'));
            continue;
        }
        if t.is_empty() || t.starts_with("//") || t.starts_with("package ") {
            continue;
        }
        if t == "import (" || (t.starts_with("use ") && !t.ends_with(';')) {
            in_import = true;
            continue;
        }
        if t.starts_with("import ") || t.starts_with("use ") {
            continue;
        }
        out.rest.push(t.to_string());
    }
    out
}

fn is_decoration(line: &str) -> bool {
    line.starts_with("#[") || line.starts_with("//")
}

/// The name of the function a column-0 line declares, if it does.
fn function_name(toolchain: Toolchain, line: &str) -> Option<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    match toolchain {
        Toolchain::Go => {
            let rest = line.strip_prefix("func ")?;
            if let Some(recv) = rest.strip_prefix('(') {
                // `func (s *Server) Name(`: a method, never a test.
                let (recv, after) = recv.split_once(')')?;
                let ty = recv.split_whitespace().last()?.trim_start_matches('*');
                Some(format!("{}.{}", ident(ty), ident(after.trim_start())))
            } else {
                Some(ident(rest)).filter(|n| !n.is_empty())
            }
        }
        Toolchain::Cargo => {
            let mut rest = line;
            for prefix in ["pub(crate) ", "pub ", "async ", "unsafe "] {
                rest = rest.strip_prefix(prefix).unwrap_or(rest);
            }
            Some(ident(rest.strip_prefix("fn ")?)).filter(|n| !n.is_empty())
        }
    }
}

/// `func TestXxx(t *testing.T)`: what `go test` runs as a test.
fn is_go_test(name: &str, line: &str) -> bool {
    name.strip_prefix("Test")
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_lowercase()))
        && line.contains("*testing.T)")
}

/// What one check found, for the record and the engineer.
#[derive(Debug, Clone)]
pub struct Checked {
    pub verdict: TestVerdict,
    /// One line; says nothing of what differs between the trees.
    pub reason: String,
    /// [`Unit::labels`] of what ran.
    pub tests: Vec<String>,
    /// Runs per tree.
    pub runs: u32,
    pub bugged: TreeRuns,
    pub fixed: TreeRuns,
}

/// How one tree did: `runs` runs of every unit (a run fails if any unit
/// fails), or a compile error.
#[derive(Debug, Clone, Default)]
pub struct TreeRuns {
    pub runs: u32,
    pub passed: u32,
    /// The selected tests do not compile against this tree: the toolchain's
    /// first error (never shown for the fixed tree).
    pub compile_error: Option<String>,
    /// The first failing run's failure line.
    pub first_failure: Option<String>,
}

/// Compiles the units in `tree`, then runs them `runs` times. `Err`: the kit
/// could not run the toolchain at all.
pub async fn run_units(
    spec: &LanguageSpec,
    scenario: &str,
    tree: &Path,
    cache: &Cache,
    units: &[Unit],
    runs: u32,
) -> Result<TreeRuns, builder::BuildError> {
    let scratch = Scratch::new("check-test").map_err(|source| builder::BuildError::Io {
        context: "creating a folder for the test runs".into(),
        source,
    })?;
    let target_dir = cache.target_dir(scenario);
    let mut out = TreeRuns {
        runs,
        ..TreeRuns::default()
    };
    let exec = |argv: Vec<String>, timeout: Duration| {
        // Built as the drill loop builds (incremental Rust release builds):
        // the trees differ by a few lines from one check to the next.
        let mut cmd = builder::command(spec, &argv, tree, &target_dir, &target_dir, scratch.path());
        builder::drill_loop(spec, &mut cmd);
        async move {
            let program = argv[0].clone();
            run_captured(cmd, timeout)
                .await
                .map_err(|e| builder::BuildError::Spawn {
                    program,
                    message: e.to_string(),
                })
        }
    };
    for unit in units {
        let cap = exec(argv(spec, unit, true), BUILD_TIMEOUT).await?;
        if !cap.success() || cap.timed_out {
            let output = format!("{}{}", cap.stdout, cap.stderr);
            out.compile_error = Some(if cap.timed_out {
                format!("compiling did not finish within {BUILD_TIMEOUT:?}")
            } else {
                builder::first_error(&output)
            });
            return Ok(out);
        }
    }
    for _ in 0..runs {
        let mut ok = true;
        for unit in units {
            let cap = exec(argv(spec, unit, false), RUN_TIMEOUT).await?;
            if cap.success() && !cap.timed_out {
                continue;
            }
            ok = false;
            if out.first_failure.is_none() {
                out.first_failure = Some(if cap.timed_out {
                    format!("did not finish within {RUN_TIMEOUT:?}")
                } else {
                    builder::failure_line(&format!("{}{}", cap.stdout, cap.stderr), "test(s)")
                });
            }
        }
        out.passed += u32::from(ok);
    }
    Ok(out)
}

/// The command for one unit: the scenario's own test command, narrowed.
/// `compile`: build the tests and run none of them.
fn argv(spec: &LanguageSpec, unit: &Unit, compile: bool) -> Vec<String> {
    match spec.toolchain {
        Toolchain::Go => {
            // The scenario's flags (`-count=1`), without its package patterns.
            let mut argv: Vec<String> = spec
                .test
                .iter()
                .filter(|a| !a.starts_with("./") && *a != "...")
                .cloned()
                .collect();
            let run = match (&unit.tests, compile) {
                (_, true) => Some("^$".to_string()),
                (Some(tests), false) => Some(format!(
                    "^({})$",
                    tests.iter().cloned().collect::<Vec<_>>().join("|")
                )),
                (None, false) => None,
            };
            if let Some(run) = run {
                argv.push("-run".into());
                argv.push(run);
            }
            argv.push(if unit.name == "." {
                ".".to_string()
            } else {
                format!("./{}", unit.name)
            });
            argv
        }
        Toolchain::Cargo => {
            let mut argv = spec.test.clone();
            argv.push("--test".into());
            argv.push(unit.name.clone());
            if compile {
                argv.push("--no-run".into());
            } else if let Some(tests) = &unit.tests {
                argv.push("--".into());
                argv.push("--exact".into());
                argv.extend(tests.iter().cloned());
            }
            argv
        }
    }
}

/// The verdict on one check, with its one-line reason. The reason says how
/// the test behaved on each tree, never what differs between them.
pub fn judge(bugged: &TreeRuns, fixed: &TreeRuns) -> (TestVerdict, String) {
    let n = bugged.runs;
    let bugged_failed = bugged.runs - bugged.passed;
    if let Some(e) = &bugged.compile_error {
        return (
            TestVerdict::Broken,
            format!("your test does not compile against the bugged code: {e}"),
        );
    }
    if fixed.compile_error.is_some() {
        return (
            TestVerdict::Broken,
            "your test compiles against the bugged code but not against the fixed code: \
             test the behaviour the incident describes, not the code as it is"
                .to_string(),
        );
    }
    if fixed.passed == 0 {
        let reason = if bugged_failed == n {
            "your test fails on the bugged code and on the fixed code alike: it fails for a \
             reason other than the bug"
        } else {
            "your test fails on the fixed code and passes on the bugged code"
        };
        return (TestVerdict::Broken, reason.to_string());
    }
    if fixed.passed < fixed.runs {
        return (
            TestVerdict::FlakyOnFixed,
            format!(
                "your test passed on the fixed code in only {} of {} runs: it must pass there \
                 every time",
                fixed.passed, fixed.runs
            ),
        );
    }
    if bugged_failed == 0 {
        return (
            TestVerdict::DoesNotReproduce,
            "your test passes on the bugged code: it does not reproduce the incident".to_string(),
        );
    }
    if bugged_failed * 100 < n * TIMING_FAIL_PERCENT {
        return (
            TestVerdict::DoesNotReproduce,
            format!(
                "your test failed on the bugged code in only {bugged_failed} of {n} runs: a \
                 reproducing test fails there in at least {TIMING_FAIL_PERCENT}% of the runs"
            ),
        );
    }
    (
        TestVerdict::Reproducing,
        format!(
            "your test fails on the bugged code ({bugged_failed} of {n} runs) and passes on the \
             fixed code ({} of {} runs): it reproduces the incident",
            fixed.passed, fixed.runs
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(runs: u32, passed: u32) -> TreeRuns {
        TreeRuns {
            runs,
            passed,
            ..TreeRuns::default()
        }
    }

    #[test]
    fn the_verdicts_follow_the_rates_on_each_tree() {
        let v = |b: TreeRuns, f: TreeRuns| judge(&b, &f).0;
        assert_eq!(v(runs(1, 0), runs(1, 1)), TestVerdict::Reproducing);
        assert_eq!(v(runs(1, 0), runs(1, 0)), TestVerdict::Broken);
        assert_eq!(v(runs(1, 1), runs(1, 0)), TestVerdict::Broken);
        assert_eq!(v(runs(1, 1), runs(1, 1)), TestVerdict::DoesNotReproduce);
        // Timing-dependent: 9 of 10 failures are enough, 8 are not; the
        // fixed tree must pass every run.
        assert_eq!(v(runs(10, 1), runs(10, 10)), TestVerdict::Reproducing);
        assert_eq!(v(runs(10, 2), runs(10, 10)), TestVerdict::DoesNotReproduce);
        assert_eq!(v(runs(10, 0), runs(10, 9)), TestVerdict::FlakyOnFixed);
        assert_eq!(v(runs(10, 10), runs(10, 9)), TestVerdict::FlakyOnFixed);
        let (_, reason) = judge(&runs(10, 2), &runs(10, 10));
        assert!(reason.contains("8 of 10"), "{reason}");
        let mut bad = runs(1, 0);
        bad.compile_error = Some("undefined: x".into());
        let (verdict, reason) = judge(&bad, &runs(1, 1));
        assert_eq!(verdict, TestVerdict::Broken);
        assert!(reason.contains("undefined: x"), "{reason}");
        let (verdict, reason) = judge(&runs(1, 0), &bad);
        assert_eq!(verdict, TestVerdict::Broken);
        assert!(
            !reason.contains("undefined"),
            "the fixed tree's error is not shown"
        );
    }

    const GO_OLD: &str = "package worker

import (
\t\"testing\"
)

// helper makes a pool.
func helper() int {
\treturn 1
}

func TestA(t *testing.T) {
\thelper()
}
";

    #[test]
    fn go_tests_added_or_changed_are_named_and_a_changed_helper_runs_the_package() {
        let added = format!(
            "{GO_OLD}\n// TestB checks b.\nfunc TestB(t *testing.T) {{\n\tt.Fatal(\"b\")\n}}\n"
        );
        let got = changed_tests(Toolchain::Go, GO_OLD, &added).unwrap();
        assert_eq!(got, BTreeSet::from(["TestB".to_string()]));
        // A new import with the new test is still just the test.
        let with_import = added.replace("\t\"testing\"\n", "\t\"testing\"\n\t\"time\"\n");
        assert_eq!(
            changed_tests(Toolchain::Go, GO_OLD, &with_import)
                .unwrap()
                .len(),
            1
        );
        let changed = GO_OLD.replace("\thelper()\n", "\thelper()\n\tt.Log(1)\n");
        assert_eq!(
            changed_tests(Toolchain::Go, GO_OLD, &changed).unwrap(),
            BTreeSet::from(["TestA".to_string()])
        );
        let helper = GO_OLD.replace("return 1", "return 2");
        assert_eq!(changed_tests(Toolchain::Go, GO_OLD, &helper), None);
        let var = format!("{GO_OLD}\nvar limit = 3\n");
        assert_eq!(changed_tests(Toolchain::Go, GO_OLD, &var), None);
        assert_eq!(
            changed_tests(Toolchain::Go, GO_OLD, GO_OLD).unwrap().len(),
            0
        );
        assert!(!is_go_test("Testify", "func Testify(t *testing.T) {"));
    }

    #[test]
    fn rust_test_functions_are_named_by_their_attribute() {
        let old = "use std::time::Duration;\n\nfn helper() -> u32 {\n    1\n}\n\n#[test]\nfn a() {\n    helper();\n}\n";
        let new = format!(
            "{old}\n/// Waits.\n#[tokio::test(flavor = \"multi_thread\")]\nasync fn b() {{\n    assert!(false);\n}}\n"
        );
        assert_eq!(
            changed_tests(Toolchain::Cargo, old, &new).unwrap(),
            BTreeSet::from(["b".to_string()])
        );
        let helper = old.replace("    1\n", "    2\n");
        assert_eq!(changed_tests(Toolchain::Cargo, old, &helper), None);
        let wrapped = old.replace(
            "use std::time::Duration;",
            "use std::{\n    sync::Arc,\n    time::Duration,\n};",
        );
        assert_eq!(
            changed_tests(Toolchain::Cargo, old, &wrapped)
                .unwrap()
                .len(),
            0
        );
    }
}
