//! Blind means blind, and no engineer meets a drill twice: the real `drill`
//! binary on a small copy of the kit's catalog (one scenario, so a random
//! deal's pool is known), real builds, real records.

mod util;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use util::{both, heavy, stderr, stdout, Drill};

const SCENARIO: &str = "edge-proxy";

/// A catalog with the one scenario and those of its drills that have both a
/// Go and a Rust version (at most `max`), and their ids.
fn small_catalog(tmp: &Path, max: usize) -> (PathBuf, Vec<String>) {
    let root = tmp.join("catalog");
    let src = util::repo();
    drillkit::builder::copy_tree(
        &src.join("scenarios").join(SCENARIO),
        &root.join("scenarios").join(SCENARIO),
    )
    .unwrap();
    let mut bugs: Vec<String> = fs::read_dir(src.join("drills").join(SCENARIO))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("go.patch").exists() && p.join("rust.patch").exists())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    bugs.sort();
    bugs.truncate(max);
    for bug in &bugs {
        drillkit::builder::copy_tree(
            &src.join("drills").join(SCENARIO).join(bug),
            &root.join("drills").join(SCENARIO).join(bug),
        )
        .unwrap();
    }
    let ids = bugs.iter().map(|b| format!("{SCENARIO}/{b}")).collect();
    (root, ids)
}

/// `drill` on the small catalog; `real_clock` drops the test clock (stats,
/// report and plan progress leave test-clock records out).
fn run(d: &Drill, catalog: &Path, dir: &Path, args: &[&str], real_clock: bool) -> Output {
    let mut c = d.cmd_in(dir);
    c.env("DRILL_CATALOG", catalog).args(args);
    if real_clock {
        c.env_remove("DRILL_TEST_CLOCK");
    }
    c.output().unwrap()
}

fn record_of(d: &Drill, path: &Path) -> drillkit::attempt::Record {
    let id = path.file_stem().unwrap().to_string_lossy().into_owned();
    drillkit::results::ResultsDir::at(&d.results)
        .load(&id)
        .unwrap()
}

/// The records started after `before` (paths).
fn new_records(d: &Drill, before: &[PathBuf]) -> Vec<PathBuf> {
    d.record_paths()
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect()
}

#[test]
fn no_command_names_an_open_blind_attempts_drill_until_it_ends() {
    let _turn = heavy();
    let d = Drill::new();
    let (catalog, _) = small_catalog(d.tmp.path(), usize::MAX);
    let engineer = "Blind Engineer";
    // A plan made beforehand (on the kit's whole catalog: each class needs
    // two drills) that may well hold the drill the deal gives.
    let out = d
        .cmd()
        .env_remove("DRILL_TEST_CLOCK")
        .args([
            "plan",
            "--engineers",
            &format!("{engineer},Other"),
            "--classes",
            "missing-timeout",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));

    let out = run(
        &d,
        &catalog,
        &d.home,
        &["start", "--random", "--lang", "go", "--engineer", engineer],
        true,
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let path = d.record_paths().pop().unwrap();
    let record = record_of(&d, &path);
    let h = &record.attempt;
    assert!(h.blind);
    let ws = PathBuf::from(&h.workspace);
    let toml: toml::Value = toml::from_str(
        &fs::read_to_string(catalog.join("drills").join(&h.drill).join("drill.toml")).unwrap(),
    )
    .unwrap();
    let ticket_title = toml["ticket"]["title"].as_str().unwrap().to_string();
    let ticket_number: String = ticket_title
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches(':')
        .to_string();
    assert!(ticket_number.starts_with("INC-"), "{ticket_title}");
    let bug = h.drill.rsplit('/').next().unwrap().to_string();
    let secrets = [
        h.drill.clone(),
        bug,
        SCENARIO.to_string(),
        h.class.clone(),
        h.title.clone(),
        ticket_number,
        ticket_title,
    ];
    let check = |what: &str, text: &str| {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{what} reveals {s:?}:\n{text}");
        }
    };

    // A submit of the bugged code fails; its output and the record (whose
    // path `status` prints) name neither the drill nor the checks that failed.
    let out = run(&d, &catalog, &ws, &["submit"], true);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    check("drill submit", &both(&out));
    let file = fs::read_to_string(&path).unwrap();
    check("the record file", &file);
    for name in toml["checks"].as_array().unwrap() {
        let name = name.as_str().unwrap();
        assert!(
            !file.contains(name),
            "the record names check {name}:\n{file}"
        );
        assert!(!both(&out).contains(name), "submit names check {name}");
    }
    assert!(file.contains("sealed_reasons"), "{file}");
    let report = d.tmp.path().join("report.html");
    let report_arg = report.display().to_string();
    let bad = ws.join("no-such-file.go").display().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["list"],
        vec!["list", "--json"],
        vec!["show", &h.drill],
        vec!["show", &h.drill, "--json"],
        vec!["start", &h.drill, "--lang", "rust", "--engineer", engineer],
        vec!["status"],
        vec!["status", "--json"],
        vec!["attempts"],
        vec!["attempts", "--json"],
        vec!["attempts", "export", "--csv"],
        vec!["stats"],
        vec!["stats", "--json"],
        vec!["stats", "--csv"],
        vec!["stats", "--markdown"],
        vec!["stats", "--by", "drill"],
        vec!["report", "--out", &report_arg],
        vec!["plan", "status"],
        vec!["plan", "status", "--json"],
        vec!["found", &bad],
        vec!["found", "main.go:99999"],
        vec!["found", "not a location"],
    ];
    for args in &commands {
        let out = run(&d, &catalog, &ws, args, true);
        check(&format!("drill {}", args.join(" ")), &both(&out));
    }
    check("the report", &fs::read_to_string(&report).unwrap());
    // `show` and `start ID` refuse the drills the deal could have been
    // (here: every one), and say why.
    let out = run(&d, &catalog, &ws, &["show", &h.drill], true);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        stderr(&out).contains("a blind attempt is open"),
        "{}",
        both(&out)
    );
    // A game day by name is refused the same way, before any folder is made.
    let gameday_dir = d.tmp.path().join("gameday-by-name");
    let gameday_arg = gameday_dir.display().to_string();
    let out = run(
        &d,
        &catalog,
        &ws,
        &[
            "gameday",
            "start",
            &h.drill,
            "--lang",
            "rust",
            "--dir",
            &gameday_arg,
        ],
        true,
    );
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        stderr(&out).contains("cannot be started by name now: a blind attempt is open"),
        "{}",
        both(&out)
    );
    check("drill gameday start ID", &both(&out));
    assert!(
        !gameday_dir.exists(),
        "the refused game day made its folder"
    );
    let listed: serde_json::Value =
        serde_json::from_slice(&run(&d, &catalog, &ws, &["list", "--json"], true).stdout).unwrap();
    assert_eq!(listed, serde_json::json!([]), "every drill is withheld");
    assert_eq!(
        d.record_paths().len(),
        1,
        "the refused start left no record"
    );

    let out = run(&d, &catalog, &ws, &["stats", "--json"], true);
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        stats["inputs"]["blind_open_left_out"], 1,
        "{:#}",
        stats["inputs"]
    );
    assert_eq!(stats["inputs"]["attempts"], 0, "{:#}", stats["inputs"]);

    // Once it ends, everything names it again.
    let out = run(&d, &catalog, &ws, &["abandon"], true);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(fs::read_to_string(&path).unwrap().contains(&h.drill));
    let out = run(&d, &catalog, &ws, &["status"], true);
    assert!(stdout(&out).contains(&h.drill), "{}", both(&out));
    let out = run(&d, &catalog, &ws, &["show", &h.drill], true);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let out = run(&d, &catalog, &ws, &["stats", "--by", "drill"], true);
    assert!(stdout(&out).contains(&h.drill), "{}", both(&out));
}

#[test]
fn random_deals_never_repeat_a_drill_in_either_language_and_say_when_none_is_left() {
    let _turn = heavy();
    let d = Drill::new();
    let (catalog, ids) = small_catalog(d.tmp.path(), 3);
    assert_eq!(
        ids.len(),
        3,
        "{SCENARIO} has three drills in both languages"
    );
    let engineer = ["--engineer", "Test Engineer"];

    // Fixed in Go.
    let fixed = &ids[0];
    let mut args = vec!["start", fixed.as_str(), "--lang", "go"];
    args.extend(engineer);
    let out = run(&d, &catalog, &d.home, &args, false);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        stdout(&out).contains("not blind"),
        "a chosen drill is marked as not blind:\n{}",
        both(&out)
    );
    let go = d.record_paths();
    let go_record = record_of(&d, &go[0]);
    assert!(!go_record.attempt.blind && !go_record.attempt.repeat);
    let ws = PathBuf::from(&go_record.attempt.workspace);
    util::apply_reference_fix(&ws, fixed, "go");
    d.advance_secs(300);
    let out = run(&d, &catalog, &ws, &["submit"], false);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));

    // Rust deals until none is left, abandoning each.
    let mut dealt = Vec::new();
    loop {
        let before = d.record_paths();
        let mut args = vec!["start", "--random", "--lang", "rust"];
        args.extend(engineer);
        let out = run(&d, &catalog, &d.home, &args, false);
        if out.status.code() != Some(0) {
            assert_eq!(out.status.code(), Some(2), "{}", both(&out));
            let err = stderr(&out);
            assert!(
                err.contains(
                    "nothing left to deal: Test Engineer has met every drill with a rust version"
                ),
                "{err}"
            );
            assert_eq!(d.record_paths(), before, "nothing started");
            break;
        }
        let new = new_records(&d, &before);
        assert_eq!(new.len(), 1, "{}", both(&out));
        let r = record_of(&d, &new[0]);
        assert!(r.attempt.blind && !r.attempt.repeat, "{:?}", r.attempt);
        assert_eq!(r.attempt.language, "rust");
        let out = run(
            &d,
            &catalog,
            Path::new(&r.attempt.workspace),
            &["abandon"],
            false,
        );
        assert_eq!(out.status.code(), Some(0), "{}", both(&out));
        dealt.push(r.attempt.drill);
        assert!(dealt.len() <= ids.len(), "dealt {dealt:?} from {ids:?}");
    }
    let mut sorted = dealt.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ids[1..].to_vec(),
        "every other drill once, never {fixed}"
    );

    // Forced: the fixed drill again, in Rust, by name. On the real clock, so
    // that stats read it (they leave test-clock records out).
    let before = d.record_paths();
    let mut args = vec!["start", fixed.as_str(), "--lang", "rust"];
    args.extend(engineer);
    let out = run(&d, &catalog, &d.home, &args, true);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        stdout(&out).contains("Repeat: you attempted this drill before"),
        "{}",
        both(&out)
    );
    let new = new_records(&d, &before);
    let raw: serde_json::Value = serde_json::from_slice(&fs::read(&new[0]).unwrap()).unwrap();
    assert_eq!(raw["attempt"]["repeat"], true, "{raw:#}");
    assert_eq!(raw["attempt"]["blind"], false, "{raw:#}");
    let ws = raw["attempt"]["workspace"].as_str().unwrap();
    let out = run(&d, &catalog, Path::new(ws), &["status"], false);
    assert!(
        stdout(&out).contains("Mode       not blind (chosen by id), repeat"),
        "{}",
        both(&out)
    );
    let out = run(&d, &catalog, Path::new(ws), &["abandon"], true);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    // Left out of the comparisons, and said so.
    let out = run(&d, &catalog, &d.home, &["stats", "--json"], true);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["inputs"]["attempts"], 1, "{:#}", stats["inputs"]);
    assert_eq!(
        stats["inputs"]["repeats_left_out"], 1,
        "{:#}",
        stats["inputs"]
    );
    assert_eq!(stats["inputs"]["compared"], 0, "{:#}", stats["inputs"]);
    let kinds: Vec<&str> = stats["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"repeats"), "{kinds:?}");
}

#[test]
fn an_attempt_on_a_drill_prevented_in_one_language_says_so_in_its_header() {
    let _turn = heavy();
    let d = Drill::new();
    let (catalog, ids) = small_catalog(d.tmp.path(), 1);
    let dir = catalog.join("drills").join(&ids[0]);
    let toml = fs::read_to_string(dir.join("drill.toml")).unwrap();
    fs::write(
        dir.join("drill.toml"),
        format!("prevented_in = \"rust\"\nprevented_note = \"a compile error in Rust\"\n{toml}"),
    )
    .unwrap();
    fs::remove_file(dir.join("rust.patch")).unwrap();
    for entry in fs::read_dir(dir.join("wrong-fixes")).into_iter().flatten() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with(".rust.patch") {
            fs::remove_file(path).unwrap();
        }
    }
    let out = run(
        &d,
        &catalog,
        &d.home,
        &["start", &ids[0], "--engineer", "Test Engineer"],
        false,
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let record = d.only_record();
    assert_eq!(record["attempt"]["prevented_in"], "rust", "{record:#}");
    assert_eq!(record["attempt"]["language"], "go");
    let ws = record["attempt"]["workspace"].as_str().unwrap();
    let out = run(&d, &catalog, Path::new(ws), &["abandon"], false);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}
