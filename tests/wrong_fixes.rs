//! The wrong-fix corpus, `prevented_in` drills and the giveaway lint, on
//! copies of the kit's catalog.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

mod util;

const DRILL: &str = "billing-ledger/stalled-provider";

fn drill_cmd(catalog: &Path) -> Command {
    let mut c = Command::cargo_bin("drill").expect("drill binary");
    c.env("DRILL_CATALOG", catalog);
    c
}

fn catalog_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["scenarios", "drills"] {
        drillkit::builder::copy_tree(&util::repo().join(sub), &dir.path().join(sub)).unwrap();
    }
    dir
}

fn drill_dir(cat: &Path) -> PathBuf {
    cat.join("drills").join(DRILL)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// A unified diff of one file between two texts, as `git diff` writes it.
fn diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// The Go bugged tree of the drill, in a temp dir.
fn bugged_go_tree(cat: &Path) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("go");
    drillkit::builder::copy_tree(&cat.join("scenarios/billing-ledger/go"), &tree).unwrap();
    let bug = drillkit::patch::Patch::load(&drill_dir(cat).join("go.patch")).unwrap();
    bug.apply_to_dir(&tree).unwrap();
    (tmp, tree)
}

fn list_refused(cat: &Path) -> String {
    let out = drill_cmd(cat).arg("list").output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", util::both(&out));
    util::stderr(&out)
}

#[test]
fn a_wrong_fix_the_suite_accepts_fails_verify_and_one_it_rejects_passes() {
    let _heavy = util::heavy();
    let cat = catalog_copy();
    let dir = drill_dir(cat.path());
    // Go only, so the test builds one language.
    edit(
        &dir.join("drill.toml"),
        "checks = [",
        "languages = [\"go\"]\nchecks = [",
    );
    // A ticket that names the mechanism.
    edit(
        &dir.join("drill.toml"),
        "body = \"\"\"\n",
        "body = \"\"\"\nEvery checkout waited for its timeout.\n",
    );
    let wrong = dir.join("wrong-fixes");
    let _ = fs::remove_dir_all(&wrong);
    fs::create_dir_all(&wrong).unwrap();
    let bug = drillkit::patch::Patch::load(&dir.join("go.patch")).unwrap();
    let (_tmp, bugged) = bugged_go_tree(cat.path());
    let file = bug.files[0].path.clone();
    let bugged_text = fs::read_to_string(bugged.join(&file)).unwrap();
    // "Wrong" fix 1 is the reference fix itself: the suite accepts it, so verify must fail.
    let clean_text =
        fs::read_to_string(cat.path().join("scenarios/billing-ledger/go").join(&file)).unwrap();
    let mut reference = String::from("Restores the clean code: the suite accepts it.\n\n");
    for f in &bug.files {
        let b = fs::read_to_string(bugged.join(&f.path)).unwrap();
        let c = fs::read_to_string(cat.path().join("scenarios/billing-ledger/go").join(&f.path))
            .unwrap();
        reference.push_str(&diff(&f.path, &b, &c));
    }
    assert_ne!(bugged_text, clean_text);
    fs::write(wrong.join("partial-reference.go.patch"), reference).unwrap();
    // Wrong fix 2 only adds a comment: the bug stays, the suite must reject it.
    let commented = bugged_text.replacen("package ", "// Package notes.\npackage ", 1);
    fs::write(
        wrong.join("overfix-comment-only.go.patch"),
        format!(
            "Adds a comment and nothing else.\n\n{}",
            diff(&file, &bugged_text, &commented)
        ),
    )
    .unwrap();

    let out = drill_cmd(cat.path())
        .args(["verify", DRILL, "--runs", "1", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", util::both(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let job = |name: &str| -> Value {
        report["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["wrong_fix"] == name)
            .unwrap_or_else(|| panic!("no job for {name}: {report:#}"))
            .clone()
    };
    let step = |job: &Value, prefix: &str| -> Value {
        job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"].as_str().unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("no step {prefix}: {job:#}"))
            .clone()
    };

    let accepted = job("partial-reference");
    assert_eq!(accepted["status"], "failed", "{accepted:#}");
    let s = step(&accepted, "suite rejects");
    assert_eq!(s["status"], "failed");
    assert!(
        s["detail"].as_str().unwrap().contains(
            "this wrong fix (Restores the clean code: the suite accepts it.) would be accepted"
        ),
        "{s:#}"
    );

    let rejected = job("overfix-comment-only");
    assert_eq!(rejected["status"], "ok", "{rejected:#}");
    let s = step(&rejected, "suite rejects");
    assert_eq!(
        s["detail"], "rejected by stalled_provider_fails_fast",
        "{s:#}"
    );

    // The bug job sees a complete corpus and unchanged lockfiles.
    let bug_job = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["drill"] == DRILL && j["wrong_fix"].is_null())
        .unwrap()
        .clone();
    assert_eq!(step(&bug_job, "wrong-fix corpus")["status"], "ok");
    assert_eq!(step(&bug_job, "lockfiles unchanged")["status"], "ok");

    let giveaways = report["giveaways"].as_array().unwrap();
    assert!(
        giveaways
            .iter()
            .any(|g| g["drill"] == DRILL && g["place"] == "ticket body" && g["word"] == "timeout"),
        "{giveaways:#?}"
    );
}

#[test]
fn a_misnamed_or_undescribed_wrong_fix_is_refused_at_load() {
    let cat = catalog_copy();
    let wrong = drill_dir(cat.path()).join("wrong-fixes");
    fs::create_dir_all(&wrong).unwrap();
    let bug = fs::read_to_string(drill_dir(cat.path()).join("go.patch")).unwrap();

    let misnamed = wrong.join("typo-longer-timeout.go.patch");
    fs::write(&misnamed, format!("Waits longer.\n\n{bug}")).unwrap();
    let err = list_refused(cat.path());
    assert!(
        err.contains("typo-longer-timeout.go.patch")
            && err.contains("does not start with `partial-` or `overfix-`"),
        "{err}"
    );
    fs::remove_file(&misnamed).unwrap();

    fs::write(wrong.join("partial-longer-timeout.go.patch"), &bug).unwrap();
    let err = list_refused(cat.path());
    assert!(
        err.contains("partial-longer-timeout.go.patch") && err.contains("no description"),
        "{err}"
    );
}

#[test]
fn a_prevented_drill_exists_only_in_the_other_language() {
    let cat = catalog_copy();
    let toml = drill_dir(cat.path()).join("drill.toml");
    edit(
        &toml,
        "checks = [",
        "prevented_in = \"rust\"\nprevented_note = \"the type system rules it out\"\nchecks = [",
    );
    // Its rust.patch is still there: refused, naming the file.
    let err = list_refused(cat.path());
    assert!(
        err.contains("rust.patch") && err.contains("prevented_in = \"rust\""),
        "{err}"
    );
    fs::remove_file(drill_dir(cat.path()).join("rust.patch")).unwrap();
    let wrong = drill_dir(cat.path()).join("wrong-fixes");
    if wrong.is_dir() {
        for e in fs::read_dir(&wrong).unwrap() {
            let p = e.unwrap().path();
            if p.to_string_lossy().ends_with(".rust.patch") {
                fs::remove_file(p).unwrap();
            }
        }
    }
    let out = drill_cmd(cat.path())
        .args(["list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", util::both(&out));
    let items: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let d = items.iter().find(|i| i["id"] == DRILL).unwrap();
    assert_eq!(d["languages"], serde_json::json!(["go"]));

    // A note is required.
    edit(
        &toml,
        "prevented_note = \"the type system rules it out\"\n",
        "",
    );
    let err = list_refused(cat.path());
    assert!(err.contains("prevented_note"), "{err}");
}
