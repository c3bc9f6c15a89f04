//! A catalog is input, an interrupt leaves nothing behind, a start is all or
//! nothing: the real `drill` binary against hostile catalogs, concurrent
//! starts, kill -9, Ctrl-C and SIGTERM.

mod util;

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use util::{both, events, heavy, stderr, stdout, Drill};

const DOUBLE_CHARGE: &str = "billing-ledger/retry-double-charge";

/// A catalog of one scenario and its drills, copied from the kit's own.
fn small_catalog(root: &Path) -> PathBuf {
    let cat = root.join("catalog");
    drillkit::builder::copy_tree(
        &util::repo().join("scenarios/billing-ledger"),
        &cat.join("scenarios/billing-ledger"),
    )
    .unwrap();
    drillkit::builder::copy_tree(
        &util::repo().join("drills/billing-ledger"),
        &cat.join("drills/billing-ledger"),
    )
    .unwrap();
    cat
}

fn drill_with_catalog(d: &Drill, catalog: &Path, args: &[&str]) -> std::process::Output {
    d.cmd()
        .env("DRILL_CATALOG", catalog)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_symlinked_file_in_a_catalog_is_refused_and_nothing_outside_is_written() {
    let d = Drill::new();
    let cat = small_catalog(d.tmp.path());
    let outside = d.tmp.path().join("outside.go");
    let client = cat.join("scenarios/billing-ledger/go/internal/provider/client.go");
    fs::copy(&client, &outside).unwrap();
    let before = fs::read(&outside).unwrap();
    fs::remove_file(&client).unwrap();
    std::os::unix::fs::symlink(&outside, &client).unwrap();

    for args in [
        vec!["list"],
        vec![
            "start",
            DOUBLE_CHARGE,
            "--lang",
            "go",
            "--engineer",
            "x",
            "--dir",
            "ws",
        ],
    ] {
        let out = drill_with_catalog(&d, &cat, &args);
        assert_eq!(out.status.code(), Some(3), "{}", both(&out));
        let err = stderr(&out);
        assert!(err.contains("client.go: a symbolic link (to "), "{err}");
        assert!(err.contains("a catalog may not hold links"), "{err}");
    }
    assert_eq!(fs::read(&outside).unwrap(), before);
    assert!(!d.home.join("ws").exists());
    assert!(d.record_paths().is_empty());
}

#[test]
fn a_symlinked_folder_in_a_catalog_is_refused_and_nothing_outside_is_written() {
    let d = Drill::new();
    let cat = small_catalog(d.tmp.path());
    let provider = cat.join("scenarios/billing-ledger/go/internal/provider");
    let outside = d.tmp.path().join("elsewhere");
    fs::rename(&provider, &outside).unwrap();
    std::os::unix::fs::symlink(&outside, &provider).unwrap();
    let before: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(&outside)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();

    let out = drill_with_catalog(
        &d,
        &cat,
        &["start", DOUBLE_CHARGE, "--lang", "go", "--engineer", "x"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", both(&out));
    assert!(
        stderr(&out).contains("internal/provider: a symbolic link"),
        "{}",
        both(&out)
    );
    for (p, bytes) in before {
        assert_eq!(fs::read(&p).unwrap(), bytes, "{} changed", p.display());
    }
    assert_eq!(fs::read_dir(&d.home).unwrap().count(), 0);
}

#[test]
fn a_missing_catalog_says_so_once_and_how_to_point_at_one() {
    let d = Drill::new();
    let out = drill_with_catalog(&d, &d.tmp.path().join("nope"), &["list"]);
    assert_eq!(out.status.code(), Some(3), "{}", both(&out));
    let err = stderr(&out);
    assert!(
        err.contains("nope: no such folder: point --catalog or DRILL_CATALOG at a drill catalog"),
        "{err}"
    );
    assert!(!err.contains("os error"), "{err}");
}

#[test]
fn a_misnamed_drill_file_and_a_patch_that_does_not_apply_are_reported_by_list() {
    let d = Drill::new();
    let cat = small_catalog(d.tmp.path());
    let lost = cat.join("drills/billing-ledger/lost-update");
    fs::rename(lost.join("drill.toml"), lost.join("Drill.toml")).unwrap();
    // The Go patch of another drill no longer matches the clean tree.
    let stalled = cat.join("drills/billing-ledger/stalled-provider/go.patch");
    let broken = fs::read_to_string(&stalled)
        .unwrap()
        .lines()
        .map(|l| {
            if l.starts_with(' ') {
                format!(
                    " {}",
                    l.trim_start().replace(|c: char| c.is_alphanumeric(), "z")
                )
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    fs::write(&stalled, broken).unwrap();

    let out = drill_with_catalog(&d, &cat, &["list"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let err = stderr(&out);
    assert!(
        err.contains("lost-update is not loaded: it has Drill.toml"),
        "{err}"
    );
    assert!(
        err.contains(
            "drill billing-ledger/stalled-provider is listed without go: its patch does not apply"
        ),
        "{err}"
    );
    let text = stdout(&out);
    let row = text
        .lines()
        .find(|l| l.starts_with("billing-ledger/stalled-provider"))
        .unwrap();
    assert!(row.trim_end().ends_with("rust"), "{row}");
    assert!(!row.contains("go,"), "{row}");
    assert!(!text.contains("billing-ledger/lost-update"), "{text}");
}

#[test]
fn a_results_path_that_is_a_file_fails_before_anything_is_built() {
    let d = Drill::new();
    let file = d.tmp.path().join("results-file");
    fs::write(&file, "not a directory").unwrap();
    let started = Instant::now();
    let out = d
        .cmd()
        .args([
            "start",
            DOUBLE_CHARGE,
            "--lang",
            "go",
            "--engineer",
            "x",
            "--results",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let err = stderr(&out);
    assert!(err.contains("results-file is not a directory"), "{err}");
    assert!(!err.contains("Building"), "{err}");
    assert_eq!(fs::read_dir(&d.home).unwrap().count(), 0);
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn an_engineer_name_with_an_escape_code_is_refused_at_start_and_printed_escaped_from_a_record() {
    let d = Drill::new();
    let out = d.run_in(
        &d.home,
        &[
            "start",
            DOUBLE_CHARGE,
            "--lang",
            "go",
            "--engineer",
            "ev\u{1b}[31mil",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        stderr(&out).contains("the engineer name \"ev\\u{1b}[31mil\" holds control characters"),
        "{}",
        both(&out)
    );
    assert!(!stderr(&out).contains('\u{1b}'));

    // A record written elsewhere (shared results) with such a name.
    let _turn = heavy();
    d.start(&[DOUBLE_CHARGE, "--lang", "go"]);
    let path = d.record_paths().remove(0);
    let mut record: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    record["attempt"]["engineer"] = "ev\u{1b}[31mil\u{1b}]0;owned\u{7}".into();
    fs::write(&path, serde_json::to_vec_pretty(&record).unwrap()).unwrap();
    let id = path.file_stem().unwrap().to_string_lossy().into_owned();
    for args in [vec!["attempts"], vec!["status", "--attempt", &id]] {
        let out = d.expect(&d.home, &args, 0);
        let text = stdout(&out);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(
            text.contains("ev\\u{1b}[31mil\\u{1b}]0;owned\\u{7}"),
            "{text}"
        );
    }
}

/// `drill <args>` from `dir` as a child in its own process group, with this
/// test's results, clock and scratch folder (`TMPDIR`).
fn spawn(d: &Drill, dir: &Path, tmpdir: &Path, args: &[&str]) -> Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("drill"))
        .args(args)
        .current_dir(dir)
        .env("DRILL_CATALOG", util::repo())
        .env("DRILL_RESULTS", &d.results)
        .env("DRILL_TEST_CLOCK", d.tmp.path().join("clock"))
        .env("TMPDIR", tmpdir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap()
}

/// Waits (bounded) until `cond` holds.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What is left under `tmpdir`: the kit's scratch folders (inside its
/// `drillkit-<uid>/` root, which may stay, empty) and anything else.
fn scratch_entries(tmpdir: &Path) -> Vec<String> {
    let names = |dir: &Path| -> Vec<String> {
        fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    let mut out = Vec::new();
    for name in names(tmpdir) {
        if name.starts_with("drillkit-") {
            out.extend(
                names(&tmpdir.join(&name))
                    .into_iter()
                    .map(|n| format!("{name}/{n}")),
            );
        } else {
            out.push(name);
        }
    }
    out.sort();
    out
}

#[test]
fn two_concurrent_starts_on_one_dir_leave_one_good_workspace_and_one_clear_error() {
    let _turn = heavy();
    let d = Drill::new();
    let tmpdir = d.tmp.path().join("tmp");
    fs::create_dir_all(&tmpdir).unwrap();
    let args = [
        "start",
        DOUBLE_CHARGE,
        "--lang",
        "go",
        "--engineer",
        "first",
        "--dir",
        "ws",
    ];
    let first = spawn(&d, &d.home, &tmpdir, &args);
    wait_for("the first start's claim", || {
        d.home.join(".drill-claim-ws").exists()
    });
    let out = d.run_in(
        &d.home,
        &[
            "start",
            DOUBLE_CHARGE,
            "--lang",
            "go",
            "--engineer",
            "second",
            "--dir",
            "ws",
        ],
    );
    assert_eq!(out.status.code(), Some(7), "{}", both(&out));
    let err = stderr(&out);
    assert!(
        err.contains("ws is in use: another `drill start, pid"),
        "{err}"
    );
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", both(&first));
    let record = d.only_record();
    assert_eq!(record["attempt"]["engineer"], "first");
    let ws = d.home.join("ws");
    assert_eq!(
        record["attempt"]["workspace"].as_str().unwrap(),
        fs::canonicalize(&ws).unwrap().to_str().unwrap()
    );
    assert!(ws.join(".git/drillkit/attempt.json").is_file());
    assert_eq!(d.status(&ws)["state"], "active");
    let mut left: Vec<String> = fs::read_dir(&d.home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["ws"]);
}

#[test]
fn a_kill_9_during_start_leaves_no_workspace_and_the_next_start_clears_what_it_left() {
    let _turn = heavy();
    let d = Drill::new();
    let tmpdir = d.tmp.path().join("tmp");
    fs::create_dir_all(&tmpdir).unwrap();
    let args = [
        "start",
        DOUBLE_CHARGE,
        "--lang",
        "go",
        "--engineer",
        "x",
        "--dir",
        "ws",
    ];
    let mut child = spawn(&d, &d.home, &tmpdir, &args);
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    assert!(line.starts_with("Building the workspace"), "{line}");
    assert_eq!(unsafe { libc::killpg(child.id() as i32, libc::SIGKILL) }, 0);
    child.wait().unwrap();

    // Nothing at the workspace's path, no record.
    assert!(!d.home.join("ws").exists());
    assert!(d.record_paths().is_empty());
    // The next start in that folder clears the leftovers and succeeds.
    let out = d.cmd().env("TMPDIR", &tmpdir).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let mut left: Vec<String> = fs::read_dir(&d.home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["ws"]);
    assert_eq!(scratch_entries(&tmpdir), Vec::<String>::new());
    assert_eq!(events(&d.only_record()), ["start"]);
}

/// Starts an attempt, then runs `drill <command>` in its workspace and sends
/// `signal` to the drill process (not its group: as a terminal's Ctrl-C
/// reaches only the foreground command) once its build is under way.
fn interrupt(command: &str, signal: i32) -> (Drill, std::process::Output, PathBuf) {
    let d = Drill::new();
    let ws = d.start(&[DOUBLE_CHARGE, "--lang", "go"]);
    d.advance_secs(60);
    let tmpdir = d.tmp.path().join("tmp");
    fs::create_dir_all(&tmpdir).unwrap();
    let child = spawn(&d, &ws, &tmpdir, &[command]);
    wait_for("a scratch folder of the build", || {
        scratch_entries(&tmpdir).iter().any(|e| e.contains("/bin-"))
    });
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let out = child.wait_with_output().unwrap();
    (d, out, tmpdir)
}

#[test]
fn ctrl_c_and_sigterm_during_submit_say_nothing_was_recorded_and_leave_no_temp_dir() {
    let _turn = heavy();
    for (signal, code, said) in [
        (
            libc::SIGINT,
            130,
            "Interrupted (Ctrl-C) before the verdict: nothing was recorded",
        ),
        (libc::SIGTERM, 143, "Interrupted (SIGTERM)"),
    ] {
        let (d, out, tmpdir) = interrupt("submit", signal);
        assert_eq!(out.status.code(), Some(code), "{}", both(&out));
        assert!(stderr(&out).contains(said), "{}", both(&out));
        assert_eq!(events(&d.only_record()), ["start"]);
        assert_eq!(scratch_entries(&tmpdir), Vec::<String>::new());
    }
}

#[test]
fn ctrl_c_and_sigterm_during_run_leave_no_temp_dir() {
    let _turn = heavy();
    for (signal, code, name) in [
        (libc::SIGINT, 130, "Ctrl-C"),
        (libc::SIGTERM, 143, "SIGTERM"),
    ] {
        let (d, out, tmpdir) = interrupt("run", signal);
        assert_eq!(out.status.code(), Some(code), "{}", both(&out));
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert!(text.contains(&format!("({name})")), "{text}");
        assert_eq!(scratch_entries(&tmpdir), Vec::<String>::new());
        d.only_attempt().validate().unwrap();
    }
}

#[test]
fn after_an_attempt_ends_its_private_build_directory_is_gone() {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[DOUBLE_CHARGE, "--lang", "rust"]);
    let id = d.record_paths()[0]
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let private = drillkit::builder::Cache::from_env()
        .root
        .join("private/attempts")
        .join(&id);
    assert!(
        private.is_dir(),
        "{} should hold the warm build",
        private.display()
    );
    d.advance_secs(60);
    d.expect(&ws, &["abandon"], 0);
    assert!(!private.exists(), "{} is still there", private.display());
}

#[test]
fn a_workspace_whose_git_folder_was_deleted_is_repaired_and_keeps_the_engineers_files() {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[DOUBLE_CHARGE, "--lang", "go"]);
    d.advance_secs(120);
    let (file, _) = util::touched_line(DOUBLE_CHARGE, "go");
    let edited = format!(
        "{}\n// my notes\n",
        fs::read_to_string(ws.join(&file)).unwrap()
    );
    fs::write(ws.join(&file), &edited).unwrap();
    fs::remove_dir_all(ws.join(".git")).unwrap();

    let out = d.expect(&ws, &["status"], 6);
    assert!(
        stderr(&out).contains("but its .git folder (which links it to the attempt) is gone or damaged; run `drill repair` here"),
        "{}",
        both(&out)
    );
    let out = d.expect(&ws, &["repair"], 0);
    assert!(
        stdout(&out).contains("a new git repository holds the snapshot"),
        "{}",
        both(&out)
    );
    assert!(
        stdout(&out).contains("1 file(s) differ from the snapshot"),
        "{}",
        both(&out)
    );
    assert_eq!(fs::read_to_string(ws.join(&file)).unwrap(), edited);
    // The attempt goes on where it was; the fix still passes.
    assert_eq!(d.status(&ws)["state"], "active");
    util::apply_reference_fix(&ws, DOUBLE_CHARGE, "go");
    let out = d.expect(&ws, &["submit"], 0);
    assert!(stdout(&out).starts_with("PASS"), "{}", both(&out));
    assert_eq!(events(&d.only_record()), ["start", "submit", "fixed"]);
}

#[test]
fn a_workspace_that_lost_its_snapshot_commit_says_so_and_is_repaired() {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[DOUBLE_CHARGE, "--lang", "go"]);
    d.advance_secs(60);
    // Rewrite history and collect the snapshot, as `git checkout --orphan` + gc would.
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&ws)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", both(&out));
    };
    git(&["checkout", "-q", "--orphan", "fresh"]);
    git(&["commit", "-q", "-m", "fresh start"]);
    git(&["branch", "-D", "main"]);
    git(&["update-ref", "-d", drillkit::workspace::SNAPSHOT_REF]);
    git(&["reflog", "expire", "--expire=now", "--all"]);
    git(&["gc", "-q", "--prune=now"]);

    let out = d.expect(&ws, &["submit"], 6);
    assert!(
        stderr(&out).contains("has lost its snapshot commit"),
        "{}",
        both(&out)
    );
    assert!(
        stderr(&out).contains("run `drill repair` in it"),
        "{}",
        both(&out)
    );
    let out = d.expect(&ws, &["repair"], 0);
    assert!(
        stdout(&out).contains("the snapshot commit is back"),
        "{}",
        both(&out)
    );
    util::apply_reference_fix(&ws, DOUBLE_CHARGE, "go");
    let out = d.expect(&ws, &["submit"], 0);
    assert!(stdout(&out).starts_with("PASS"), "{}", both(&out));
}

#[test]
fn clean_shows_and_frees_what_a_kill_9_left_and_what_ended_attempts_used() {
    let d = Drill::new();
    let tmpdir = d.tmp.path().join("tmp");
    let cache = d.tmp.path().join("cache");
    // What a killed command leaves: a scratch folder of a process that is gone.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let uid = unsafe { libc::getuid() };
    let left = tmpdir.join(format!("drillkit-{uid}/bin-{dead}-abcdef"));
    fs::create_dir_all(&left).unwrap();
    fs::write(left.join("binary"), vec![0u8; 300_000]).unwrap();
    // A build staging copy, rebuilt by the next build.
    fs::create_dir_all(cache.join("build/billing-ledger/go")).unwrap();
    fs::write(
        cache.join("build/billing-ledger/go/main.go"),
        vec![b'x'; 200_000],
    )
    .unwrap();
    let clean = |args: &[&str]| {
        d.cmd()
            .env("TMPDIR", &tmpdir)
            .env("DRILL_CACHE", &cache)
            .arg("clean")
            .args(args)
            .output()
            .unwrap()
    };
    let out = clean(&["--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let text = stdout(&out);
    assert!(text.contains("would free 500.0 KB"), "{text}");
    assert!(left.exists(), "a dry run frees nothing");
    let out = clean(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(stdout(&out).contains("freed 500.0 KB"), "{}", both(&out));
    assert!(!left.exists());
    assert!(!cache.join("build/billing-ledger/go").exists());
}
