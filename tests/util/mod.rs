//! A small builder for tests that drive the real `drill` binary: a temp
//! directory with its own results directory and a test clock file, so time
//! moves when a test says so and never by sleeping.

#![allow(dead_code)] // each test binary uses a different subset

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Mutex, MutexGuard};

use assert_cmd::Command;
use drillkit::clock::Timestamp;
use serde_json::Value;

/// The catalog under test: the kit's own, or `DRILL_TEST_CATALOG` (a copy,
/// to run these tests while the kit's catalog is being edited).
pub fn repo() -> PathBuf {
    std::env::var_os("DRILL_TEST_CATALOG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Tests that build and judge services take turns: acceptance checks have
/// deadlines of a few hundred milliseconds, and two builds competing for a
/// 2-core machine would make verdicts depend on scheduling.
pub fn heavy() -> MutexGuard<'static, ()> {
    static HEAVY: Mutex<()> = Mutex::new(());
    HEAVY.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Both streams, for assertion messages.
pub fn both(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    )
}

pub struct Drill {
    pub tmp: tempfile::TempDir,
    /// Where `drill start` runs (workspaces are created here).
    pub home: PathBuf,
    pub results: PathBuf,
    clock_file: PathBuf,
    now_ms: std::cell::Cell<i64>,
}

impl Drill {
    pub fn new() -> Drill {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        fs::create_dir_all(&home).unwrap();
        let d = Drill {
            results: tmp.path().join("results"),
            clock_file: tmp.path().join("clock"),
            home,
            tmp,
            now_ms: std::cell::Cell::new(
                "2030-01-01T09:00:00Z"
                    .parse::<Timestamp>()
                    .unwrap()
                    .unix_ms(),
            ),
        };
        d.write_clock();
        d
    }

    fn write_clock(&self) {
        let ts = Timestamp::from_unix_ms(self.now_ms.get());
        fs::write(&self.clock_file, format!("{ts}\n")).unwrap();
    }

    /// Moves the test clock forward. Inside one command real time still
    /// passes (a submit's verification), so time continues from the last
    /// event recorded if that is later than the clock file.
    pub fn advance_secs(&self, secs: i64) {
        let last = self
            .record_paths()
            .iter()
            .filter_map(|p| serde_json::from_slice::<Value>(&fs::read(p).ok()?).ok())
            .filter_map(|r| {
                let at = r["events"].as_array()?.last()?["at"].as_str()?.to_string();
                at.parse::<Timestamp>().ok()
            })
            .map(Timestamp::unix_ms)
            .max()
            .unwrap_or(i64::MIN);
        self.now_ms.set(self.now_ms.get().max(last) + secs * 1000);
        self.write_clock();
    }

    /// `drill` run from `dir`, with this test's results dir and clock.
    pub fn cmd_in(&self, dir: &Path) -> Command {
        Command::from_std(self.process_in(dir))
    }

    /// [`Drill::cmd_in`] as a plain process, for a test that spawns it
    /// (and kills it) instead of waiting for its output.
    pub fn process_in(&self, dir: &Path) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("drill"));
        c.current_dir(dir)
            .env("DRILL_CATALOG", repo())
            .env("DRILL_RESULTS", &self.results)
            .env("DRILL_TEST_CLOCK", &self.clock_file)
            .env("NO_COLOR", "1");
        c
    }

    pub fn cmd(&self) -> Command {
        self.cmd_in(&self.home)
    }

    pub fn run_in(&self, dir: &Path, args: &[&str]) -> Output {
        self.cmd_in(dir).args(args).output().unwrap()
    }

    /// Runs and expects exit code `code`.
    pub fn expect(&self, dir: &Path, args: &[&str], code: i32) -> Output {
        let out = self.run_in(dir, args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "drill {}\n{}",
            args.join(" "),
            both(&out)
        );
        out
    }

    /// Like [`Drill::expect`] with exit code 0, on the real clock: stats and
    /// plan progress leave records made on the test clock out.
    pub fn expect_real_clock(&self, dir: &Path, args: &[&str]) -> Output {
        let out = self
            .cmd_in(dir)
            .env_remove("DRILL_TEST_CLOCK")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "drill {}\n{}",
            args.join(" "),
            both(&out)
        );
        out
    }

    /// `drill start` with an engineer name; returns the workspace.
    pub fn start(&self, args: &[&str]) -> PathBuf {
        let mut all = vec!["start"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--engineer", "Test Engineer"]);
        self.expect(&self.home, &all, 0);
        let record = self.only_record();
        // The timer started after the warm build, which took real time: move
        // the test clock to the start, so later advances are relative to it.
        let started: Timestamp = record["events"][0]["at"].as_str().unwrap().parse().unwrap();
        self.now_ms.set(started.unix_ms());
        self.write_clock();
        PathBuf::from(record["attempt"]["workspace"].as_str().unwrap())
    }

    /// `drill status --json` from `ws`.
    pub fn status(&self, ws: &Path) -> Value {
        let out = self.expect(ws, &["status", "--json"], 0);
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn record_paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = fs::read_dir(&self.results)
            .map(|rd| {
                rd.map(|e| e.unwrap().path())
                    .filter(|p| {
                        p.extension().is_some_and(|e| e == "json")
                            && !p.file_name().unwrap().to_string_lossy().starts_with('.')
                    })
                    .collect()
            })
            .unwrap_or_default();
        paths.sort();
        paths
    }

    /// The single attempt record of this test, as raw JSON.
    pub fn only_record(&self) -> Value {
        let paths = self.record_paths();
        assert_eq!(paths.len(), 1, "expected one record: {paths:?}");
        serde_json::from_slice(&fs::read(&paths[0]).unwrap()).unwrap()
    }

    /// The record parsed and validated by the kit's own reader.
    pub fn only_attempt(&self) -> drillkit::attempt::Record {
        let paths = self.record_paths();
        assert_eq!(paths.len(), 1, "expected one record: {paths:?}");
        let id = paths[0].file_stem().unwrap().to_string_lossy().into_owned();
        drillkit::results::ResultsDir::at(&self.results)
            .load(&id)
            .unwrap()
    }
}

impl Drop for Drill {
    /// Removes the private build directories of this test's attempts (Rust
    /// workspaces get one in the kit's cache; see runner/commands/session/target_dir.rs).
    fn drop(&mut self) {
        let cache = drillkit::builder::Cache::from_env();
        for path in self.record_paths() {
            if let Some(id) = path.file_stem() {
                let _ = fs::remove_dir_all(cache.root.join("private/attempts").join(id));
            }
        }
    }
}

pub fn events(record: &Value) -> Vec<String> {
    record["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

/// The drill's folder in the kit's catalog.
pub fn drill_dir(id: &str) -> PathBuf {
    repo().join("drills").join(id)
}

/// Applies the reference fix to a workspace, as an engineer would by editing:
/// the bug patch, reversed.
pub fn apply_reference_fix(ws: &Path, drill: &str, lang: &str) {
    let patch =
        drillkit::patch::Patch::load(&drill_dir(drill).join(format!("{lang}.patch"))).unwrap();
    patch.revert_in_dir(ws).unwrap();
}

/// The first line the bug's patch touched, in the bugged tree: `path`, `line`.
pub fn touched_line(drill: &str, lang: &str) -> (String, usize) {
    let patch =
        drillkit::patch::Patch::load(&drill_dir(drill).join(format!("{lang}.patch"))).unwrap();
    let t = patch.touched_lines().into_iter().next().unwrap();
    (t.path, t.lines[0])
}
