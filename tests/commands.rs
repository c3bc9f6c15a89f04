//! The command layer as a whole: the one results-directory rule every
//! command follows. Real `drill` binary, real toolchains, temp directories.

mod util;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use util::{both, heavy, stderr, stdout, Drill};

/// Inside a workspace started with `--results X`, every command that reads
/// or writes attempts means X — not `DRILL_RESULTS` (set to another
/// directory here), not the data directory. (Real clock: stats and plan
/// progress leave test-clock records out.)
#[test]
fn inside_a_workspace_started_with_results_every_command_reads_that_directory() {
    let _turn = heavy();
    let d = Drill::new();
    let x = d.tmp.path().join("x-results");
    let xs = x.to_str().unwrap();
    let run = |dir: &Path, args: &[&str]| d.expect_real_clock(dir, args);
    let records = |dir: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(dir)
            .map(|rd| rd.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        v.retain(|p| {
            p.extension().is_some_and(|e| e == "json")
                && !p.file_name().unwrap().to_string_lossy().starts_with('.')
        });
        v.sort();
        v
    };

    run(
        &d.home,
        &[
            "plan",
            "--engineers",
            "ada,bob",
            "--classes",
            "missing-timeout",
            "--results",
            xs,
        ],
    );
    run(
        &d.home,
        &["start", "--next", "--engineer", "ada", "--results", xs],
    );
    let first = records(&x);
    assert_eq!(first.len(), 1, "the attempt is recorded in X: {first:?}");
    let record: Value = serde_json::from_slice(&fs::read(&first[0]).unwrap()).unwrap();
    let id = record["attempt"]["id"].as_str().unwrap().to_string();
    let ws = PathBuf::from(record["attempt"]["workspace"].as_str().unwrap());
    run(&ws, &["abandon"]);

    let attempts: Value =
        serde_json::from_slice(&run(&ws, &["attempts", "--json"]).stdout).unwrap();
    assert_eq!(attempts["results"], xs, "attempts lists X");
    assert_eq!(attempts["attempts"][0]["attempt"], id.as_str());

    let stats: Value = serde_json::from_slice(&run(&ws, &["stats", "--json"]).stdout).unwrap();
    assert_eq!(stats["inputs"]["results_dirs"], serde_json::json!([xs]));
    assert_eq!(stats["inputs"]["attempts"], 1, "stats counts X's attempt");

    let page = d.tmp.path().join("report.html");
    let out = run(&ws, &["report", "--out", page.to_str().unwrap()]);
    assert!(
        stderr(&out).contains("(1 attempts,"),
        "report read X's attempt: {}",
        both(&out)
    );

    let status: Value =
        serde_json::from_slice(&run(&ws, &["plan", "status", "--json"]).stdout).unwrap();
    assert_eq!(status["engineers"][0]["engineer"], "ada");
    assert_eq!(
        status["engineers"][0]["done"], 1,
        "plan status reads X's plan and attempts"
    );

    let csv = stdout(&run(&ws, &["attempts", "export"]));
    assert_eq!(csv.lines().count(), 2, "a header and X's attempt: {csv}");
    assert!(csv.contains(&id), "{csv}");

    let next_dir = d.tmp.path().join("second");
    run(
        &ws,
        &[
            "start",
            "--next",
            "--engineer",
            "ada",
            "--dir",
            next_dir.to_str().unwrap(),
        ],
    );
    let second = records(&x);
    assert_eq!(second.len(), 2, "start --next wrote to X: {second:?}");
    let planned = &serde_json::from_slice::<Value>(&fs::read(x.join("plan.drill-plan")).unwrap())
        .unwrap()["engineers"]["ada"][1];
    // Read with the kit's reader: an open blind attempt's identity is sealed on disk.
    let new_id = second
        .iter()
        .find(|p| **p != first[0])
        .and_then(|p| p.file_stem())
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let new = drillkit::results::ResultsDir::at(&x).load(&new_id).unwrap();
    assert_eq!(
        new.attempt.drill,
        planned["drill"].as_str().unwrap(),
        "the plan's next drill"
    );
    assert_eq!(new.attempt.language, planned["language"].as_str().unwrap());
    assert!(
        records(&d.results).is_empty(),
        "nothing went to DRILL_RESULTS: {:?}",
        records(&d.results)
    );
}

/// `drill` with its stdout a pipe whose reader is already gone: the first
/// write fails with EPIPE, deterministically (no race with a reader).
fn with_closed_stdout(d: &Drill, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    std::process::Command::new(assert_cmd::cargo::cargo_bin("drill"))
        .args(args)
        .current_dir(&d.home)
        .env("DRILL_CATALOG", util::repo())
        .env("DRILL_RESULTS", &d.results)
        .stdout(writer)
        .output()
        .unwrap()
}

#[test]
fn a_closed_stdout_ends_list_and_stats_quietly_with_141() {
    let d = Drill::new();
    for args in [
        &["list", "--json"][..],
        &["list"],
        &["stats"],
        &["attempts"],
    ] {
        let out = with_closed_stdout(&d, args);
        assert_eq!(
            out.status.code(),
            Some(141),
            "drill {}: {}",
            args.join(" "),
            both(&out)
        );
        assert_eq!(stderr(&out), "", "drill {} says nothing", args.join(" "));
    }
}

#[test]
fn list_and_stats_piped_into_head_print_no_panic() {
    let d = Drill::new();
    let drill = assert_cmd::cargo::cargo_bin("drill");
    for (args, head) in [("list --json", "head -c 10"), ("stats", "head -1")] {
        let script = format!("'{}' {args} | {head}", drill.display());
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .current_dir(&d.home)
            .env("DRILL_CATALOG", util::repo())
            .env("DRILL_RESULTS", &d.results)
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}: {}", both(&out));
        assert!(!stdout(&out).is_empty(), "{script}: head got output");
        assert_eq!(stderr(&out), "", "{script}: no panic, no error");
    }
}

#[test]
fn a_temp_folder_that_cannot_be_made_is_the_machine_exit_8_and_leaves_nothing() {
    let d = Drill::new();
    // TMPDIR names a file: no temporary folder can be made under it.
    let not_a_folder = d.tmp.path().join("a-file");
    fs::write(&not_a_folder, "").unwrap();
    let out = d
        .cmd()
        .env("TMPDIR", &not_a_folder)
        .args([
            "start",
            "billing-ledger/retry-double-charge",
            "--lang",
            "go",
            "--engineer",
            "t",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", both(&out));
    assert!(stderr(&out).contains("a-file"), "{}", both(&out));
    assert!(d.record_paths().is_empty(), "nothing recorded");
    let left: Vec<_> = fs::read_dir(&d.home).unwrap().collect();
    assert!(left.is_empty(), "no workspace left: {left:?}");
}

#[test]
fn a_bugged_tree_that_does_not_build_is_could_not_judge_exit_5() {
    let _turn = heavy();
    let d = Drill::new();
    // A catalog whose bug patch also breaks the build: the kit cannot judge.
    let catalog = d.tmp.path().join("catalog");
    drillkit::builder::copy_tree(&util::repo().join("scenarios"), &catalog.join("scenarios"))
        .unwrap();
    drillkit::builder::copy_tree(&util::repo().join("drills"), &catalog.join("drills")).unwrap();
    let patch = catalog.join("drills/billing-ledger/retry-double-charge/go.patch");
    let text = fs::read_to_string(&patch).unwrap();
    let broken = text.replacen(
        "\n+\t\tid, err := c.attempt(",
        "\n+\t\tid, err := c.attempt(((",
        1,
    );
    assert_ne!(broken, text, "the patch has the line this test breaks");
    fs::write(&patch, broken).unwrap();
    let out = d
        .cmd()
        .env("DRILL_CATALOG", &catalog)
        .args([
            "start",
            "billing-ledger/retry-double-charge",
            "--lang",
            "go",
            "--engineer",
            "t",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", both(&out));
    assert!(stderr(&out).contains("does not build"), "{}", both(&out));
    assert!(d.record_paths().is_empty(), "nothing recorded");
}

#[test]
fn a_panic_is_a_bug_exit_70_with_its_message() {
    let d = Drill::new();
    let out = d
        .cmd()
        .env("DRILL_TEST_PANIC", "1")
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(70), "{}", both(&out));
    let err = stderr(&out);
    assert!(err.contains("a deliberate panic"), "{err}");
    assert!(err.contains("please report it"), "{err}");
}

#[test]
fn the_exit_codes_are_documented_in_help_and_readme() {
    let d = Drill::new();
    let help = stdout(&d.expect(&d.home, &["--help"], 0));
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for code in [0, 1, 2, 3, 4, 5, 6, 7, 8, 70, 130, 141, 143] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{code:<4}"))),
            "drill --help has a line for exit code {code}:\n{help}"
        );
        assert!(
            readme.contains(&format!("| `{code}` |")),
            "the README's exit code table has {code}"
        );
    }
}
