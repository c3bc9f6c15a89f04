//! Engineer profiles: `drill profile` set / show / `--json`, its kill-safe
//! file, the copy `drill start` puts in each attempt, the experience
//! warnings and band comparisons of `drill stats`, and `drill plan`
//! balancing on profiles. Real binary, real files, the test clock.

mod util;

use std::fs;
use std::path::PathBuf;

use serde_json::Value;
use util::{stderr, stdout, Drill};

const ADA: &str = "Ada Lovelace";

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

fn show(d: &Drill, engineer: &str) -> Value {
    json(&d.expect(&d.home, &["profile", "--engineer", engineer, "--json"], 0))
}

fn profile_files(d: &Drill) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(d.results.join("profiles"))
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_profile_is_set_shown_and_round_trips_through_json() {
    let d = Drill::new();
    let none = show(&d, ADA);
    assert_eq!(none["profile"], Value::Null);
    let out = d.expect(&d.home, &["profile", "--engineer", ADA], 0);
    assert!(
        stdout(&out).contains("drill profile --engineer \"Ada Lovelace\" --go-years N"),
        "{}",
        stdout(&out)
    );

    let set = [
        "profile",
        "--engineer",
        ADA,
        "--go-years",
        "6",
        "--go-oncall",
        "--rust-years",
        "0.5",
        "--no-rust-oncall",
    ];
    let out = d.expect(&d.home, &set, 0);
    let text = stdout(&out);
    assert!(text.contains("go    6 years, has been on call"), "{text}");
    assert!(text.contains("rust  0.5 years, never on call"), "{text}");

    let v = show(&d, ADA);
    assert_eq!(v["format"], "drillkit-profile-show");
    let p = &v["profile"];
    assert_eq!(p["format"], "drillkit-profile");
    assert_eq!(p["format_version"], 1);
    assert_eq!(p["engineer"], ADA);
    assert_eq!(p["languages"]["go"]["years"], 6.0);
    assert_eq!(p["languages"]["go"]["oncall"], true);
    assert_eq!(p["languages"]["rust"]["oncall"], false);
    // The test clock, plus the real milliseconds the command took.
    let at = |p: &Value| p["updated_at"].as_str().unwrap()[..19].to_string();
    assert_eq!(at(p), "2030-01-01T09:00:00");
    // The file is what --json shows, and the kit reads it back as such.
    let files = profile_files(&d);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(v["path"], files[0].display().to_string());
    let on_disk: Value = serde_json::from_slice(&fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(&on_disk, p);
    let read = drillkit::results::ResultsDir::at(&d.results)
        .load_profile(ADA)
        .unwrap()
        .unwrap();
    assert_eq!(serde_json::to_value(&read).unwrap(), on_disk);

    // A later change touches only what it names.
    d.advance_secs(3600);
    d.expect(
        &d.home,
        &["profile", "--engineer", ADA, "--rust-years", "2"],
        0,
    );
    let p = show(&d, ADA)["profile"].clone();
    assert_eq!(p["languages"]["rust"]["years"], 2.0);
    assert_eq!(p["languages"]["rust"]["oncall"], false);
    assert_eq!(p["languages"]["go"]["years"], 6.0);
    assert_eq!(at(&p), "2030-01-01T10:00:00");

    let all = json(&d.expect(&d.home, &["profile", "--all", "--json"], 0));
    assert_eq!(all["profiles"].as_array().unwrap().len(), 1);
    assert_eq!(all["profiles"][0], p);
}

#[test]
fn a_new_language_needs_its_on_call_answer_and_bad_years_are_refused() {
    let d = Drill::new();
    let out = d.expect(
        &d.home,
        &["profile", "--engineer", ADA, "--go-years", "3"],
        2,
    );
    assert!(
        stderr(&out).contains("--go-oncall or --no-go-oncall"),
        "{}",
        stderr(&out)
    );
    let out = d.expect(
        &d.home,
        &[
            "profile",
            "--engineer",
            ADA,
            "--go-years",
            "75",
            "--go-oncall",
        ],
        2,
    );
    assert!(stderr(&out).contains("0 to 60"), "{}", stderr(&out));
    assert!(profile_files(&d).is_empty(), "nothing written on a refusal");
}

#[test]
fn a_profile_write_killed_at_any_moment_leaves_the_old_or_the_new_profile() {
    let d = Drill::new();
    let set = |years: &str| {
        [
            "profile".to_string(),
            "--engineer".into(),
            ADA.into(),
            "--go-years".into(),
            years.into(),
            "--go-oncall".into(),
        ]
    };
    d.expect(&d.home, &set("1").each_ref().map(String::as_str), 0);
    let file = profile_files(&d).remove(0);
    // Writers killed by SIGKILL at whatever point they reached: some before
    // writing, some mid-write, some after.
    for i in 0..25 {
        let mut child = d
            .process_in(&d.home)
            .args(set(&format!("{}", 2 + i)))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        if i % 5 != 4 {
            child.kill().unwrap();
        }
        let _ = child.wait();
        let p: Value = serde_json::from_slice(&fs::read(&file).unwrap())
            .unwrap_or_else(|e| panic!("after kill {i}: {e}"));
        let years = p["languages"]["go"]["years"].as_f64().unwrap();
        assert!((1.0..=26.0).contains(&years), "{p}");
    }
    // What a writer killed mid-write leaves: a stray temp file, half written.
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let stray = file.with_file_name(format!(".{name}.99999.tmp"));
    fs::write(&stray, b"{\"format\": \"drillkit-pro").unwrap();
    let all = d.expect(&d.home, &["profile", "--all", "--json"], 0);
    assert_eq!(json(&all)["damaged"], serde_json::json!([]));
    d.expect(&d.home, &set("30").each_ref().map(String::as_str), 0);
    assert!(!stray.exists(), "the next write sweeps it");
    assert_eq!(show(&d, ADA)["profile"]["languages"]["go"]["years"], 30.0);
}

#[test]
fn start_records_the_profile_as_it_was_and_a_later_change_rewrites_no_history() {
    let _turn = util::heavy();
    let d = Drill::new();
    let drill = "billing-ledger/retry-double-charge";
    // Without a profile: one line on how to record one, and no experience.
    let out = d.expect(
        &d.home,
        &[
            "start",
            drill,
            "--lang",
            "go",
            "--engineer",
            "Test Engineer",
        ],
        0,
    );
    assert!(
        stderr(&out).contains("no experience profile for Test Engineer")
            && stderr(&out).contains("drill profile --engineer \"Test Engineer\""),
        "{}",
        stderr(&out)
    );
    let record = d.only_record();
    assert_eq!(record["format_version"], 3);
    assert!(record["attempt"].get("experience").is_none(), "{record}");

    // Given at start: saved in the profile and copied into the attempt.
    let d = Drill::new();
    d.start(&[
        drill,
        "--lang",
        "go",
        "--go-years",
        "4",
        "--go-oncall",
        "--rust-years",
        "1",
        "--no-rust-oncall",
    ]);
    let before = d.only_record();
    let exp = &before["attempt"]["experience"];
    assert_eq!(exp["languages"]["go"]["years"], 4.0);
    assert_eq!(exp["languages"]["rust"]["oncall"], false);
    assert_eq!(
        show(&d, "Test Engineer")["profile"]["languages"],
        exp["languages"]
    );
    assert_eq!(
        d.only_attempt().attempt.experience.unwrap().languages.len(),
        2
    );

    d.advance_secs(600);
    d.expect(
        &d.home,
        &["profile", "--engineer", "Test Engineer", "--go-years", "9"],
        0,
    );
    assert_eq!(d.only_record()["attempt"], before["attempt"]);
}

// ---- drill stats on hand-made records (tests/util/records.rs) ----

#[path = "util/records.rs"]
mod records;

/// A profile copy as a record carries it: the same experience in both languages.
fn experience(go: (f64, bool), rust: (f64, bool)) -> drillkit::profile::Experience {
    use drillkit::profile::LanguageExperience;
    let e = |(years, oncall)| LanguageExperience { years, oncall };
    drillkit::profile::Experience {
        updated_at: "2025-03-01T00:00:00Z".parse().unwrap(),
        languages: [("go".to_string(), e(go)), ("rust".to_string(), e(rust))].into(),
    }
}

/// Each engineer does one go and one rust attempt (times in minutes), with
/// the given experience at start.
fn write_team(d: &Drill, team: &[(f64, f64, drillkit::profile::Experience)]) {
    for (i, (go, rust, exp)) in team.iter().enumerate() {
        let e = format!("e{i}");
        for (lang, minutes) in [("go", *go), ("rust", *rust)] {
            let mut s = records::Spec::new(
                &format!("{lang}{i}"),
                &e,
                "lost-update",
                lang,
                minutes,
                records::End::Fixed,
            );
            s.experience = Some(exp.clone());
            records::write(&d.results, &s);
        }
    }
}

fn stats(d: &Drill, extra: &[&str]) -> Value {
    let mut args = vec!["stats", "--json"];
    args.extend_from_slice(extra);
    json(&d.expect(&d.home, &args, 0))
}

fn warnings_of(v: &Value, kind: &str) -> Vec<String> {
    v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == kind)
        .map(|w| w["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn stats_warn_when_the_languages_attempts_come_from_unlike_experience() {
    let d = Drill::new();
    // Go veterans who are Rust novices, and one engineer without a profile.
    let veteran = experience((6.0, true), (0.5, false));
    let mut team: Vec<_> = (0..4)
        .map(|i| (20.0 + i as f64, 30.0 + i as f64, veteran.clone()))
        .collect();
    write_team(&d, &team);
    team.clear();
    let mut s = records::Spec::new("go9", "e9", "lost-update", "go", 25.0, records::End::Fixed);
    s.experience = None;
    records::write(&d.results, &s);

    let v = stats(&d, &[]);
    assert_eq!(v["format_version"], 4);
    let w = warnings_of(&v, "unbalanced_experience");
    assert_eq!(w.len(), 1, "{:#}", v["warnings"]);
    assert!(
        w[0].contains("years in the language, on-call experience"),
        "{}",
        w[0]
    );
    assert!(
        w[0].contains("go: median 6.0 years of go, 100% on call (4 of 5 attempts"),
        "{}",
        w[0]
    );
    assert!(
        w[0].contains("rust: median 0.5 years of rust, 0% on call (4 of 4 attempts"),
        "{}",
        w[0]
    );
    let w = warnings_of(&v, "experience_not_recorded");
    assert!(
        w.len() == 1 && w[0].contains("1 of 5 go and 0 of 4 rust"),
        "{w:?}"
    );

    let x = &v["experience"];
    assert_eq!(x["sides"][0]["median_years"], 6.0);
    assert_eq!(x["sides"][1]["oncall_share"], 0.0);
    assert_eq!(x["sides"][0]["bands"]["years3_plus"], 4);
    assert_eq!(x["unbalanced"], serde_json::json!(["years", "oncall"]));
    // No band holds both languages: nothing is compared within bands.
    assert_eq!(x["band_comparisons"], serde_json::json!([]));
    assert_eq!(x["bands_too_thin"].as_array().unwrap().len(), 4);
    let text = stdout(&d.expect(&d.home, &["stats"], 0));
    assert!(text.contains("no comparison within bands"), "{text}");
    assert!(text.contains("experience unbalanced"), "{text}");
}

#[test]
fn stats_compare_within_the_experience_bands_the_data_allows_and_stay_quiet_when_balanced() {
    let d = Drill::new();
    let senior = experience((5.0, true), (5.0, true));
    let junior = experience((0.5, false), (0.5, false));
    let middle = experience((2.0, false), (2.0, false));
    let mut team = Vec::new();
    for i in 0..4 {
        team.push((20.0 + i as f64, 24.0 + i as f64, senior.clone()));
        team.push((40.0 + i as f64, 50.0 + i as f64, junior.clone()));
    }
    team.push((30.0, 31.0, middle));
    write_team(&d, &team);

    let v = stats(&d, &[]);
    assert!(
        warnings_of(&v, "unbalanced_experience").is_empty(),
        "{:#}",
        v["warnings"]
    );
    assert!(
        warnings_of(&v, "experience_not_recorded").is_empty(),
        "{:#}",
        v["warnings"]
    );
    let x = &v["experience"];
    assert_eq!(x["unbalanced"], serde_json::json!([]));
    let bands: Vec<(String, Value)> = x["band_comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["band"].as_str().unwrap().to_string(), c["n"].clone()))
        .collect();
    let n44 = serde_json::json!([4, 4]);
    let n55 = serde_json::json!([5, 5]);
    assert_eq!(
        bands,
        vec![
            ("years_under1".to_string(), n44.clone()),
            ("years3_plus".to_string(), n44.clone()),
            ("oncall".to_string(), n44),
            ("not_oncall".to_string(), n55),
        ]
    );
    // The same comparison as the groups': medians, ratio, tests, verdict.
    let senior_band = &x["band_comparisons"][1];
    assert_eq!(senior_band["group"], "≥ 3 years");
    assert_eq!(senior_band["median"][0]["seconds"], 21.5 * 60.0);
    assert!(senior_band["ratio_ci"].is_object(), "{senior_band:#}");
    assert!(senior_band["log_rank_p_holm"].is_number());
    // One engineer at 1–3 years: too thin to compare, and said so.
    assert_eq!(
        x["bands_too_thin"],
        serde_json::json!([{ "band": "years1_to3", "n": [1, 1] }])
    );
    let text = stdout(&d.expect(&d.home, &["stats"], 0));
    assert!(text.contains("go vs rust by experience"), "{text}");
    assert!(text.contains("experience band"), "{text}");
    assert!(
        text.contains("Not compared, fewer than 2 attempts a side: 1–3 years (1/1)."),
        "{text}"
    );
    let md = stdout(&d.expect(&d.home, &["stats", "--markdown"], 0));
    assert!(md.contains("| ≥ 3 years | 4/4 |"), "{md}");
}

// ---- drill plan ----

fn first_languages(d: &Drill) -> std::collections::BTreeMap<String, String> {
    let plan: Value =
        serde_json::from_slice(&fs::read(d.results.join("plan.drill-plan")).unwrap()).unwrap();
    plan["engineers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(e, seq)| (e.clone(), seq[0]["language"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn plan_alternates_the_first_language_within_experience_groups_and_says_so() {
    let plan = [
        "plan",
        "--engineers",
        "ada,cy,bob,dee",
        "--classes",
        "missing-timeout",
    ];
    // No profiles: it says it could not balance on experience.
    let d = Drill::new();
    let text = stdout(&d.expect(&d.home, &plan, 0));
    assert!(
        text.contains("Not balanced on experience: no engineer has a profile"),
        "{text}"
    );
    // In the order given, ada and bob (both stronger in Go) would start in the same language.
    let plain = first_languages(&d);
    assert_eq!(plain["ada"], plain["bob"], "{plain:?}");

    let d = Drill::new();
    for (e, go, rust) in [
        ("ada", "6", "1"),
        ("bob", "5", "0"),
        ("cy", "1", "4"),
        ("dee", "0.5", "3"),
    ] {
        d.expect(
            &d.home,
            &[
                "profile",
                "--engineer",
                e,
                "--go-years",
                go,
                "--go-oncall",
                "--rust-years",
                rust,
                "--no-rust-oncall",
            ],
            0,
        );
    }
    let text = stdout(&d.expect(&d.home, &plan, 0));
    assert!(
        text.contains("Balanced on experience (drill profile)"),
        "{text}"
    );
    assert!(text.contains("stronger in go: ada starts "), "{text}");
    assert!(
        text.contains("go median 3.0 years, 4 of 4 on call"),
        "{text}"
    );
    let first = first_languages(&d);
    assert_ne!(first["ada"], first["bob"], "{first:?}");
    assert_ne!(first["cy"], first["dee"], "{first:?}");
}
