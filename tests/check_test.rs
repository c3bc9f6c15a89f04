//! Test-first attempts, end to end: `drill start --test-first`, `drill
//! check-test` on real go/cargo test runs against the bugged and the fixed
//! trees, the recorded events, and a submit that also runs the engineer's
//! test. Never does an output show the reference fix.

mod util;

use std::fs;
use std::path::{Path, PathBuf};

use util::{both, events, heavy, stdout, Drill};

/// A drill whose Go and Rust trees build fast, with a bug a unit-level test
/// reproduces deterministically (the fixtures in tests/fixtures/check-test/).
const ACK: &str = "email-worker/ack-before-send";

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/check-test")
        .join(name);
    fs::read_to_string(&path).unwrap()
}

/// The lines of the reference fix: what the bug patch removed (its `-`
/// lines), the distinctive ones (not blank, not a lone brace).
fn fix_lines(drill: &str, lang: &str) -> Vec<String> {
    let patch = fs::read_to_string(util::drill_dir(drill).join(format!("{lang}.patch"))).unwrap();
    let lines: Vec<String> = patch
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .map(|l| l[1..].trim().to_string())
        .filter(|l| l.len() > 12)
        .collect();
    assert!(!lines.is_empty(), "the patch removes lines");
    lines
}

fn assert_no_fix(out: &std::process::Output, fix: &[String]) {
    let text = both(out);
    for line in fix {
        assert!(
            !text.contains(line.as_str()),
            "the fix's line {line:?} is shown:\n{text}"
        );
    }
}

/// What one language's trees and test files look like.
struct Lang {
    lang: &'static str,
    /// The test file the engineer edits, relative to the workspace.
    file: &'static str,
    /// A test that passes everywhere, one that fails everywhere (appended to
    /// `file`, or its whole content for Go).
    passes: &'static str,
    fails: &'static str,
    /// The fixture that reproduces the incident.
    reproduces: &'static str,
    /// The name `check-test` reports for the reproducing test.
    reproducing_name: &'static str,
}

const GO: Lang = Lang {
    lang: "go",
    file: "internal/worker/ack_test.go",
    passes: "package worker\n\nimport \"testing\"\n\nfunc TestNothing(t *testing.T) {}\n",
    fails: "package worker\n\nimport \"testing\"\n\nfunc TestNothing(t *testing.T) {\n\tt.Fatal(\"always\")\n}\n",
    reproduces: "ack_test.go",
    reproducing_name: "internal/worker:TestPoolDoesNotMarkSentBeforeTheProviderAnswers",
};

const RUST: Lang = Lang {
    lang: "rust",
    file: "tests/worker_test.rs",
    passes: "\n#[test]\nfn nothing() {}\n",
    fails: "\n#[test]\nfn nothing() {\n    panic!(\"always\");\n}\n",
    reproduces: "ack_test.rs",
    reproducing_name: "worker_test:an_email_is_not_marked_sent_before_the_provider_answers",
};

/// Writes the engineer's version of the test file: Go's is a new file,
/// Rust's the shipped file with `extra` appended.
fn write_test(ws: &Path, l: &Lang, original: &Option<String>, extra: &str) {
    let text = match original {
        Some(base) => format!("{base}{extra}"),
        None => extra.to_string(),
    };
    fs::write(ws.join(l.file), text).unwrap();
}

/// The four verdicts, in one attempt, in the order an engineer meets them.
fn four_verdicts(l: &Lang) -> (Drill, PathBuf) {
    let d = Drill::new();
    let ws = d.start(&[ACK, "--lang", l.lang, "--test-first"]);
    let fix = fix_lines(ACK, l.lang);
    let original = fs::read_to_string(ws.join(l.file)).ok();

    d.advance_secs(60);
    let out = d.expect(&ws, &["check-test"], 1);
    assert!(stdout(&out).starts_with("NO TEST: "), "{}", both(&out));

    d.advance_secs(60);
    write_test(&ws, l, &original, l.passes);
    let out = d.expect(&ws, &["check-test"], 1);
    assert!(
        stdout(&out).starts_with("DOES NOT REPRODUCE: your test passes on the bugged code"),
        "{}",
        both(&out)
    );
    assert!(stdout(&out).contains(":nothing") || stdout(&out).contains(":TestNothing"));
    assert_no_fix(&out, &fix);

    d.advance_secs(60);
    write_test(&ws, l, &original, l.fails);
    let out = d.expect(&ws, &["check-test"], 1);
    assert!(
        stdout(&out)
            .starts_with("BROKEN: your test fails on the bugged code and on the fixed code"),
        "{}",
        both(&out)
    );
    assert_no_fix(&out, &fix);

    d.advance_secs(60);
    write_test(&ws, l, &original, &fixture(l.reproduces));
    let out = d.expect(&ws, &["check-test"], 0);
    let text = stdout(&out);
    assert!(text.starts_with("REPRODUCING: "), "{}", both(&out));
    assert!(
        text.contains(&format!("Tests run: {}\n", l.reproducing_name)),
        "{text}"
    );
    assert!(text.contains("Time to a reproducing test: 4m0"), "{text}");
    assert_no_fix(&out, &fix);

    let record = d.only_record();
    assert_eq!(record["format_version"], 5);
    assert_eq!(record["attempt"]["test_first"], true);
    let verdicts: Vec<&str> = record["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "check_test")
        .map(|e| e["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        ["no_test", "does_not_reproduce", "broken", "reproducing"]
    );
    let status = d.status(&ws);
    assert_eq!(status["check_tests"], 4);
    // Four minutes of the engineer's time; the checks' own time is excluded.
    let ttt = status["time_to_test_ms"].as_u64().unwrap();
    assert!((240_000..242_000).contains(&ttt), "time to test {ttt}");
    (d, ws)
}

#[test]
fn go_check_test_gives_the_four_verdicts_and_submit_runs_the_engineers_test() {
    let _turn = heavy();
    let (d, ws) = four_verdicts(&GO);
    // While open, `hint --all` is refused; the fix with the test passes.
    let out = d.expect(&ws, &["hint", "--all"], 2);
    assert!(util::stderr(&out).contains("still open"), "{}", both(&out));
    d.advance_secs(120);
    util::apply_reference_fix(&ws, ACK, "go");
    let out = d.expect(&ws, &["submit"], 0);
    assert!(stdout(&out).starts_with("PASS"), "{}", both(&out));
    assert_eq!(
        events(&d.only_record()).last().map(String::as_str),
        Some("fixed")
    );
    let out = d.expect(&ws, &["hint", "--all"], 0);
    let text = stdout(&out);
    assert!(text.contains("You used 0 of 3 hint(s)"), "{text}");
    assert!(text.contains("Hint 3/3: "), "{text}");
}

#[test]
fn rust_check_test_gives_the_four_verdicts() {
    let _turn = heavy();
    four_verdicts(&RUST);
}

#[test]
fn submit_on_a_test_first_attempt_needs_the_engineers_test() {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[ACK, "--lang", "go", "--test-first"]);
    d.advance_secs(60);
    util::apply_reference_fix(&ws, ACK, "go");
    let out = d.expect(&ws, &["submit"], 1);
    assert!(
        stdout(&out).contains("test first: no test of yours to run"),
        "{}",
        both(&out)
    );
    // A test that fails on the engineer's code fails the submit.
    fs::write(ws.join(GO.file), GO.fails).unwrap();
    let out = d.expect(&ws, &["submit"], 1);
    assert!(
        stdout(&out).contains("TestNothing"),
        "the engineer's failing test is named: {}",
        both(&out)
    );
}

#[test]
fn check_test_is_refused_on_an_attempt_not_started_test_first() {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[ACK, "--lang", "go"]);
    let out = d.expect(&ws, &["check-test"], 2);
    assert!(
        util::stderr(&out).contains("not started test-first"),
        "{}",
        both(&out)
    );
    assert_eq!(events(&d.only_record()), ["start"]);
}

/// A timing-dependent drill (`timing = true`) runs the test 10 times per
/// tree and reports the rates: here, a copy of the catalog marks the drill.
#[test]
fn a_timing_dependent_drill_runs_the_test_ten_times_per_tree() {
    let _turn = heavy();
    let d = Drill::new();
    let catalog = d.tmp.path().join("catalog");
    for dir in ["scenarios", "drills"] {
        drillkit::builder::copy_tree(&util::repo().join(dir), &catalog.join(dir)).unwrap();
    }
    let toml = catalog.join("drills").join(ACK).join("drill.toml");
    let text = fs::read_to_string(&toml).unwrap();
    assert!(
        !text.contains("timing = "),
        "{ACK} is not a timing drill yet"
    );
    let timed = text.replacen("\ndifficulty = ", "\ntiming = true\ndifficulty = ", 1);
    assert_ne!(timed, text, "{} has no difficulty line", toml.display());
    fs::write(&toml, timed).unwrap();
    let start = d
        .cmd()
        .env("DRILL_CATALOG", &catalog)
        .args([
            "start",
            ACK,
            "--lang",
            "go",
            "--test-first",
            "--engineer",
            "t",
        ])
        .output()
        .unwrap();
    assert_eq!(start.status.code(), Some(0), "{}", both(&start));
    let ws = PathBuf::from(d.only_record()["attempt"]["workspace"].as_str().unwrap());
    fs::write(ws.join(GO.file), fixture(GO.reproduces)).unwrap();
    let out = d
        .cmd_in(&ws)
        .env("DRILL_CATALOG", &catalog)
        .arg("check-test")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let text = stdout(&out);
    assert!(
        text.contains("failed on the bugged code 10/10, passed on the fixed code 10/10"),
        "{text}"
    );
    let record = d.only_record();
    let ev = record["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            ev["runs"].as_u64(),
            ev["bugged_failed"].as_u64(),
            ev["fixed_passed"].as_u64()
        ),
        (Some(10), Some(10), Some(10))
    );
}
