//! The engineer's drill, end to end: the real `drill` binary, real `go` and
//! `cargo`, temp directories, and a test clock moved by the test (never by
//! sleeping).

mod util;

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;

use util::{both, events, heavy, stderr, stdout, Drill};

const DOUBLE_CHARGE: &str = "billing-ledger/retry-double-charge";

/// start → the reference fix, as an engineer would apply it → submit passes;
/// the record says fixed, with a time > 0 that excludes verification.
fn whole_drill(lang: &str) {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[DOUBLE_CHARGE, "--lang", lang]);
    d.advance_secs(600);
    util::apply_reference_fix(&ws, DOUBLE_CHARGE, lang);
    let out = d.expect(&ws, &["submit"], 0);
    let text = stdout(&out);
    assert!(text.starts_with("PASS"), "{}", both(&out));
    assert!(text.contains("== Your change"), "{text}");
    assert!(text.contains("== The reference fix"), "{text}");
    assert!(text.contains("Root cause"), "{text}");

    let record = d.only_record();
    assert_eq!(events(&record), ["start", "submit", "fixed"]);
    let ev = record["events"].as_array().unwrap();
    assert_eq!(ev[1]["verdict"], "pass");
    let verification_ms = ev[1]["verification_ms"].as_u64().unwrap();
    assert!(verification_ms > 0, "verification was timed");

    let status = d.status(&ws);
    assert_eq!(status["state"], "fixed");
    assert_eq!(status["censored"], false);
    let fix_ms = status["time_to_fix_ms"].as_u64().unwrap();
    // Ten minutes of the engineer's time, plus the few milliseconds between
    // the submit reading the clock and starting to verify.
    assert!((600_000..605_000).contains(&fix_ms), "time to fix {fix_ms}");
    assert_eq!(status["verification_ms"].as_u64().unwrap(), verification_ms);
    // Verification is excluded exactly: wall time = active + verification.
    let attempt = d.only_attempt();
    let wall = attempt.events[2].at.ms_since(attempt.events[0].at);
    assert_eq!(wall, fix_ms + verification_ms);
}

#[test]
fn whole_go_drill_with_the_reference_fix_is_recorded_as_fixed() {
    whole_drill("go");
}

#[test]
fn whole_rust_drill_with_the_reference_fix_is_recorded_as_fixed() {
    whole_drill("rust");
}

#[test]
fn submit_with_wrong_fix_fails_and_the_timer_keeps_running() {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[DOUBLE_CHARGE, "--lang", "go"]);
    d.advance_secs(300);
    // A plausible but wrong change: the retry loop is untouched.
    let (file, _) = util::touched_line(DOUBLE_CHARGE, "go");
    let path = ws.join(&file);
    let text = fs::read_to_string(&path).unwrap();
    fs::write(
        &path,
        format!("{text}\n// TODO: investigate duplicate charges\n"),
    )
    .unwrap();
    let out = d.expect(&ws, &["submit"], 1);
    let text = stdout(&out);
    assert!(text.starts_with("FAIL"), "{}", both(&out));
    assert!(
        text.contains("acceptance check") && text.contains("expected"),
        "the failing check and its reason are shown: {text}"
    );
    assert!(
        !text.contains("late_provider_answer_charges_once"),
        "the check's name, which says what the bug is, is not: {text}"
    );
    let record = d.only_record();
    let reasons = record["events"][1]["reasons"].to_string();
    assert!(
        reasons.contains("late_provider_answer_charges_once"),
        "the record keeps the name: {reasons}"
    );
    assert!(text.contains("the timer keeps running"), "{text}");

    let first = d.status(&ws);
    assert_eq!(first["state"], "active");
    assert_eq!(first["submits"], 1);
    assert_eq!(first["failed_submits"], 1);
    d.advance_secs(300);
    let second = d.status(&ws);
    let (a, b) = (
        first["active_ms"].as_u64().unwrap(),
        second["active_ms"].as_u64().unwrap(),
    );
    assert!(b >= a + 300_000, "the timer kept running: {a} then {b}");
    assert!((600_000..605_000).contains(&b), "active {b}");
}

#[test]
fn found_is_judged_against_the_lines_the_bug_touched_and_both_answers_are_recorded() {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[DOUBLE_CHARGE, "--lang", "go"]);
    let (file, line) = util::touched_line(DOUBLE_CHARGE, "go");
    d.advance_secs(120);
    let out = d.expect(&ws, &["found", "cmd/ledger/main.go:1"], 0);
    assert!(stdout(&out).starts_with("Not there"), "{}", both(&out));
    assert_eq!(d.status(&ws)["time_to_find_ms"], serde_json::Value::Null);

    // The engineer adds lines above the bug, then claims it from the file's
    // own directory: the claim is mapped back to the snapshot's numbering.
    let path = ws.join(&file);
    let text = fs::read_to_string(&path).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    fs::write(&path, format!("{first}\n// debugging\n// notes\n{rest}")).unwrap();
    d.advance_secs(60);
    let dir = path.parent().unwrap();
    let name = path.file_name().unwrap().to_string_lossy();
    let claim = format!("{name}:{}", line + 2);
    let out = d.expect(dir, &["found", &claim], 0);
    assert!(stdout(&out).starts_with("Right"), "{}", both(&out));
    assert!(
        stdout(&out).contains(&format!(
            "its line {} now is line {line} of the code as handed out",
            line + 2
        )),
        "an edited file's claim says which line was judged: {}",
        both(&out)
    );

    let status = d.status(&ws);
    assert_eq!(status["found_claims"], 2);
    let find = status["time_to_find_ms"].as_u64().unwrap();
    assert!((180_000..185_000).contains(&find), "time to find {find}");
    let record = d.only_record();
    let claims: Vec<(String, bool)> = record["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "found")
        .map(|e| {
            (
                e["location"].as_str().unwrap().to_string(),
                e["correct"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        claims,
        [
            ("cmd/ledger/main.go:1".to_string(), false),
            (format!("{file}:{line}"), true)
        ]
    );
    // A file that is not in the workspace is a usage error, not a claim.
    d.expect(&ws, &["found", "nope.go:3"], 2);
    assert_eq!(d.status(&ws)["found_claims"], 2);
}

#[test]
fn pause_is_excluded_from_active_time() {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[DOUBLE_CHARGE, "--lang", "go"]);
    d.advance_secs(120);
    d.expect(&ws, &["pause"], 0);
    d.advance_secs(3600);
    // Work is refused while paused, and not recorded.
    let out = d.expect(&ws, &["hint"], 2);
    assert!(stderr(&out).contains("drill resume"), "{}", both(&out));
    let paused = d.status(&ws);
    assert_eq!(paused["state"], "paused");
    d.expect(&ws, &["resume"], 0);
    d.advance_secs(180);
    let status = d.status(&ws);
    let active = status["active_ms"].as_u64().unwrap();
    assert!((300_000..305_000).contains(&active), "active {active}");
    let paused_ms = status["paused_ms"].as_u64().unwrap();
    assert!(
        (3_600_000..3_605_000).contains(&paused_ms),
        "paused {paused_ms}"
    );
    assert_eq!(status["hints_used"], 0);
}

#[test]
fn abandon_keeps_a_censored_record_and_reveals_the_drill() {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[DOUBLE_CHARGE, "--lang", "go"]);
    d.advance_secs(420);
    let out = d.expect(&ws, &["abandon"], 0);
    let text = stdout(&out);
    assert!(text.contains("censored"), "{text}");
    assert!(
        text.contains(DOUBLE_CHARGE) && text.contains("Root cause"),
        "{text}"
    );
    d.advance_secs(600);
    let status = d.status(&ws);
    assert_eq!(status["state"], "abandoned");
    assert_eq!(status["censored"], true);
    assert_eq!(status["time_to_fix_ms"], serde_json::Value::Null);
    let active = status["active_ms"].as_u64().unwrap();
    assert!((420_000..425_000).contains(&active), "active {active}");
    assert_eq!(events(&d.only_record()), ["start", "abandon"]);
    // Nothing more can be recorded on it.
    let out = d.expect(&ws, &["submit"], 2);
    assert!(stderr(&out).contains("has ended"), "{}", both(&out));
    let out = d.expect(&d.home, &["attempts", "--json"], 0);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["attempts"][0]["state"], "abandoned");
}

#[test]
fn blind_start_hides_the_drill_until_the_attempt_ends() {
    let _turn = heavy();
    let d = Drill::new();
    let out = d.expect(
        &d.home,
        &["start", "--random", "--lang", "go", "--engineer", "Blind"],
        0,
    );
    // The record's file keeps the drill sealed; the kit's reader unseals it.
    let record = d.only_attempt();
    let id = record.attempt.drill.clone();
    let title = record.attempt.title.clone();
    let class = record.attempt.class.clone();
    let bug = id.rsplit('/').next().unwrap().to_string();
    let ws = Path::new(&record.attempt.workspace).to_path_buf();
    let secret = |text: &str, what: &str| {
        for s in [&id, &bug, &title, &class] {
            assert!(!text.contains(s.as_str()), "{what} reveals {s:?}:\n{text}");
        }
    };
    secret(&stdout(&out), "start's output");
    secret(&stderr(&out), "start's errors");
    secret(&ws.display().to_string(), "the workspace path");
    for file in ["DRILL.md", "INCIDENT.md"] {
        secret(&fs::read_to_string(ws.join(file)).unwrap(), file);
    }
    secret(
        &fs::read_to_string(ws.join(".git/drillkit/attempt.json")).unwrap(),
        "the workspace link",
    );
    secret(&d.only_record().to_string(), "the record's file");
    let status = d.status(&ws);
    assert_eq!(status["hidden"], true);
    assert_eq!(status["drill"], serde_json::Value::Null);
    secret(&status.to_string(), "status --json");
    secret(&stdout(&d.expect(&ws, &["status"], 0)), "status");
    secret(&stdout(&d.expect(&ws, &["attempts"], 0)), "attempts");
    secret(
        &stdout(&d.expect(&ws, &["attempts", "--json"], 0)),
        "attempts --json",
    );

    d.expect(&ws, &["abandon"], 0);
    let status = d.status(&ws);
    assert_eq!(status["hidden"], false);
    assert_eq!(status["drill"], id.as_str());
}

#[test]
fn workspace_has_one_commit_and_nothing_from_the_drill_folder() {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[DOUBLE_CHARGE, "--lang", "rust"]);
    let repo = git2::Repository::open(&ws).unwrap();
    let mut walk = repo.revwalk().unwrap();
    walk.push_head().unwrap();
    assert_eq!(walk.count(), 1, "exactly one commit");
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true);
    assert!(
        repo.statuses(Some(&mut opts)).unwrap().is_empty(),
        "a fresh workspace has no changes"
    );

    // What must never be found: the drill's files, the clean version of
    // what the bug changed, the hints and the debrief.
    let drill_dir = util::drill_dir(DOUBLE_CHARGE);
    let mut forbidden: Vec<Vec<u8>> = Vec::new();
    // Its files, and those of its folders (the wrong-fix corpus).
    for entry in fs::read_dir(&drill_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            for inner in fs::read_dir(&path).unwrap() {
                forbidden.push(fs::read(inner.unwrap().path()).unwrap());
            }
        } else {
            forbidden.push(fs::read(path).unwrap());
        }
    }
    let patch = drillkit::patch::Patch::load(&drill_dir.join("rust.patch")).unwrap();
    for p in patch.paths() {
        let clean = util::repo().join("scenarios/billing-ledger/rust").join(p);
        forbidden.push(fs::read(clean).unwrap());
    }
    let toml: toml::Value =
        toml::from_str(&fs::read_to_string(drill_dir.join("drill.toml")).unwrap()).unwrap();
    let mut phrases: Vec<String> = toml["hints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["text"].as_str().unwrap().to_string())
        .collect();
    phrases.push(toml["debrief"]["root_cause"].as_str().unwrap().to_string());
    phrases.push(toml["debrief"]["fix"].as_str().unwrap().to_string());
    phrases.push(DOUBLE_CHARGE.to_string());

    let odb = repo.odb().unwrap();
    let mut objects = 0;
    odb.foreach(|oid| {
        objects += 1;
        let obj = odb.read(*oid).unwrap();
        let data = obj.data();
        assert!(
            !forbidden.iter().any(|f| f.as_slice() == data),
            "git object {oid} is a file of the drill or the clean tree"
        );
        let text = String::from_utf8_lossy(data);
        for p in &phrases {
            assert!(
                !text.contains(p.as_str()),
                "git object {oid} contains {p:?}"
            );
        }
        true
    })
    .unwrap();
    assert!(objects > 3);
    // And the working tree: no drill file, no patch leftovers.
    for entry in walk_files(&ws) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !(name == "drill.toml"
                || name.ends_with(".patch")
                || name.ends_with(".orig")
                || name.ends_with(".rej")),
            "{} must not be in the workspace",
            entry.display()
        );
        if entry.components().any(|c| c.as_os_str() == ".git") {
            continue;
        }
        let data = fs::read(&entry).unwrap();
        assert!(!forbidden.contains(&data), "{}", entry.display());
    }
}

fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn kill_9_during_submit_leaves_a_valid_record_and_a_second_command_is_refused_meanwhile() {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[DOUBLE_CHARGE, "--lang", "go"]);
    d.advance_secs(60);
    d.expect(&ws, &["hint"], 0);
    d.advance_secs(60);
    util::apply_reference_fix(&ws, DOUBLE_CHARGE, "go");

    let bin = assert_cmd::cargo::cargo_bin("drill");
    let mut child = std::process::Command::new(bin)
        .arg("submit")
        .current_dir(&ws)
        .env("DRILL_CATALOG", util::repo())
        .env("DRILL_RESULTS", &d.results)
        .env("DRILL_TEST_CLOCK", d.tmp.path().join("clock"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group, so the kill reaches the build and the
        // service too, as a closed terminal would.
        .process_group(0)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("Verifying"), "{first}");
    // While it verifies, a second command on the attempt is refused clearly.
    let out = d.expect(&ws, &["pause"], 7);
    assert!(stderr(&out).contains("drill submit, pid"), "{}", both(&out));
    // Mid-verification: kill the whole group, no chance to clean up.
    let pgid = child.id() as i32;
    assert_eq!(unsafe { libc::killpg(pgid, libc::SIGKILL) }, 0);
    let status = child.wait().unwrap();
    assert!(!status.success());

    // The record is valid; its last event is the last one completed.
    let attempt = d.only_attempt();
    attempt.validate().unwrap();
    assert_eq!(events(&d.only_record()), ["start", "hint"]);
    // The lock died with the process: the attempt goes on.
    let out = d.expect(&d.home, &["attempts"], 0);
    assert!(stderr(&out).is_empty(), "{}", both(&out));
    d.expect(&ws, &["pause"], 0);
    d.expect(&ws, &["resume"], 0);
    assert_eq!(d.status(&ws)["state"], "active");
}

#[test]
fn a_corrupted_record_is_reported_by_path_and_the_others_still_listed() {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[DOUBLE_CHARGE, "--lang", "go"]);
    let good = d.record_paths()[0].clone();
    let bad = d.results.join("20300101T080000Z-someone-abcdef.json");
    let text = fs::read_to_string(&good).unwrap();
    fs::write(&bad, &text[..text.len() / 2]).unwrap();

    let out = d.expect(&d.home, &["attempts"], 6);
    assert!(
        stderr(&out).contains(&bad.display().to_string()),
        "the damaged record is named: {}",
        both(&out)
    );
    let good_id = good.file_stem().unwrap().to_string_lossy().into_owned();
    assert!(stdout(&out).contains(&good_id), "{}", both(&out));
    let out = d.expect(&d.home, &["attempts", "--json"], 6);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(
        list["damaged"][0]["path"].as_str().unwrap(),
        bad.display().to_string()
    );

    // The workspace's own record, damaged: its commands say which file.
    fs::write(&good, "{ not json").unwrap();
    let out = d.expect(&ws, &["status"], 6);
    assert!(
        stderr(&out).contains(&good.display().to_string()),
        "{}",
        both(&out)
    );
    // And nothing rewrites it.
    d.expect(&ws, &["pause"], 6);
    assert_eq!(fs::read_to_string(&good).unwrap(), "{ not json");
}

#[test]
fn submit_outside_a_workspace_says_how_to_find_the_attempt() {
    let d = Drill::new();
    let out = d.expect(&d.home, &["submit"], 2);
    let err = stderr(&out);
    assert!(err.contains("not inside a drill workspace"), "{err}");
    assert!(
        err.contains("--attempt") && err.contains("drill attempts"),
        "{err}"
    );
}

#[test]
fn unknown_drill_id_suggests_the_closest() {
    let d = Drill::new();
    let out = d.expect(
        &d.home,
        &[
            "start",
            "retry-double-charg",
            "--lang",
            "go",
            "--engineer",
            "x",
        ],
        2,
    );
    assert!(
        stderr(&out).contains("did you mean `billing-ledger/retry-double-charge`"),
        "{}",
        both(&out)
    );
    assert!(d.record_paths().is_empty());
}

#[test]
fn non_empty_dir_is_refused_and_left_alone() {
    let d = Drill::new();
    let dir = d.home.join("mine");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("notes.txt"), "keep me").unwrap();
    let out = d.expect(
        &d.home,
        &[
            "start",
            DOUBLE_CHARGE,
            "--lang",
            "go",
            "--engineer",
            "x",
            "--dir",
            "mine",
        ],
        2,
    );
    assert!(stderr(&out).contains("not empty"), "{}", both(&out));
    assert_eq!(
        fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    assert!(d.record_paths().is_empty());
}

#[test]
fn missing_toolchain_is_a_clear_error_and_creates_nothing() {
    let d = Drill::new();
    let empty = d.tmp.path().join("empty-path");
    fs::create_dir_all(&empty).unwrap();
    let out = d
        .cmd()
        .env("PATH", &empty)
        .args(["start", DOUBLE_CHARGE, "--lang", "go", "--engineer", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", both(&out));
    let err = stderr(&out);
    assert!(err.contains("`go` was not found"), "{err}");
    assert_eq!(
        fs::read_dir(&d.home).unwrap().count(),
        0,
        "no workspace left"
    );
    assert!(d.record_paths().is_empty());
}

/// `drill plan` then `drill start --next`: the engineer gets, blind, the
/// first drill and language the plan assigned, and once it ends the plan
/// moves on without naming the next one.
/// (Real clock here: stats and plan progress leave test-clock records out.)
#[test]
fn start_next_starts_the_engineers_next_planned_drill() {
    let _turn = heavy();
    let d = Drill::new();
    let run = |dir: &Path, args: &[&str]| d.expect_real_clock(dir, args);
    run(
        &d.home,
        &[
            "plan",
            "--engineers",
            "ada,bob",
            "--classes",
            "missing-timeout",
        ],
    );
    let plan: serde_json::Value =
        serde_json::from_slice(&fs::read(d.results.join("plan.drill-plan")).unwrap()).unwrap();
    let first = &plan["engineers"]["ada"][0];
    let second = &plan["engineers"]["ada"][1];
    assert_ne!(
        first["drill"], second["drill"],
        "never the same drill twice"
    );
    assert_ne!(first["language"], second["language"], "languages alternate");

    run(&d.home, &["start", "--next", "--engineer", "ada"]);
    let record = d.only_attempt();
    assert_eq!(record.attempt.drill, first["drill"].as_str().unwrap());
    assert_eq!(record.attempt.language, first["language"].as_str().unwrap());
    assert_eq!(record.attempt.engineer, "ada");
    assert!(record.attempt.blind, "a planned attempt is dealt blind");

    let ws = Path::new(&record.attempt.workspace).to_path_buf();
    run(&ws, &["abandon"]);
    let text = stdout(&run(&d.home, &["plan", "status"]));
    let next = format!(
        "ada: 1/2 done, next: assignment 2 ({}, drill hidden until done)",
        second["language"].as_str().unwrap()
    );
    assert!(text.contains(&next), "{text}");
    assert!(
        text.contains(first["drill"].as_str().unwrap()),
        "the done one is named: {text}"
    );
    assert!(
        !text.contains(second["drill"].as_str().unwrap()),
        "the next one is not: {text}"
    );
}

/// billing-ledger's Rust tree ships its own `.cargo/config.toml` (`--cfg
/// tokio_unstable`, for its task dump). The workspace keeps every line of it
/// and gains the kit's target directory, in the snapshot (so nothing shows as
/// changed, and `repair` makes the same snapshot); the kit's warm build and
/// the engineer's own build both honour it, even when the shell that runs the
/// kit sets RUSTFLAGS (which would replace the config's flags).
#[test]
fn a_scenarios_own_cargo_config_is_kept_and_points_at_the_workspaces_target_dir() {
    let _turn = heavy();
    let d = Drill::new();
    let out = d
        .cmd()
        .env("RUSTFLAGS", "-C debuginfo=0")
        .args([
            "start",
            DOUBLE_CHARGE,
            "--lang",
            "rust",
            "--engineer",
            "Test Engineer",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let ws = std::path::PathBuf::from(d.only_record()["attempt"]["workspace"].as_str().unwrap());

    let shipped =
        fs::read_to_string(util::repo().join("scenarios/billing-ledger/rust/.cargo/config.toml"))
            .unwrap();
    let config = fs::read_to_string(ws.join(".cargo/config.toml")).unwrap();
    for line in shipped.lines() {
        assert!(config.contains(line), "lost `{line}`:\n{config}");
    }
    let table: toml::Table = toml::from_str(&config).unwrap();
    let target_dir = Path::new(table["build"]["target-dir"].as_str().unwrap());
    assert!(
        target_dir.join("release/ledger").is_file(),
        "the warm build went to {}",
        target_dir.display()
    );
    let repo = git2::Repository::open(&ws).unwrap();
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true);
    assert!(
        repo.statuses(Some(&mut opts)).unwrap().is_empty(),
        "the merged config is the snapshot's"
    );
    drop(repo);

    // The engineer's own build: the scenario's flags, the kit's compiled
    // dependencies.
    let build = std::process::Command::new("cargo")
        .args(["build", "--locked", "--release", "--bin", "ledger"])
        .current_dir(&ws)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .unwrap();
    let log = stderr(&build);
    assert!(build.status.success(), "{log}");
    assert!(
        !log.contains("Compiling tokio"),
        "dependencies rebuilt:\n{log}"
    );
    assert!(!ws.join("target").exists(), "built into the workspace");

    // A lost repository: `repair` commits the same snapshot again.
    fs::remove_dir_all(ws.join(".git")).unwrap();
    let out = d.expect(&ws, &["repair"], 0);
    assert!(
        stdout(&out).contains("0 file(s) differ from the snapshot"),
        "{}",
        both(&out)
    );
}
