//! `drill stats`, `drill attempts export|import`, `drill report` and `drill
//! plan` on records written in the documented results format (no drill is
//! run; see tests/util/records.rs).

#[path = "util/records.rs"]
mod records;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use records::{End, Spec};
use serde_json::Value;

fn drill() -> Command {
    let mut c = Command::cargo_bin("drill").expect("drill binary");
    c.env_remove("DRILL_RESULTS")
        .env_remove("DRILL_TEST_CLOCK")
        .env_remove("DRILL_CATALOG");
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn stats_json(dirs: &[&Path], extra: &[&str]) -> Value {
    let mut cmd = drill();
    cmd.arg("stats").arg("--json");
    for d in dirs {
        cmd.arg("--results").arg(d);
    }
    let out = cmd.args(extra).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Three engineers, one class, both languages: the smallest honest table.
fn three_by_three(dir: &Path) {
    for (i, (go, rust)) in [(10.0, 31.0), (12.0, 35.0), (15.0, 40.0)]
        .into_iter()
        .enumerate()
    {
        let e = format!("e{i}");
        records::write(
            dir,
            &Spec::new(&format!("g{i}"), &e, "lost-update", "go", go, End::Fixed),
        );
        records::write(
            dir,
            &Spec::new(
                &format!("r{i}"),
                &e,
                "lost-update",
                "rust",
                rust,
                End::Fixed,
            ),
        );
    }
}

#[test]
fn times_come_from_the_event_log_with_pauses_and_verification_excluded() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = Spec::new("a1", "ada", "lost-update", "go", 20.0, End::Fixed);
    s.pause_ms = 3_600_000;
    s.submits = 3;
    s.hints = 2;
    s.find_ms = Some(5 * 60_000);
    records::write(tmp.path(), &s);
    let v = stats_json(&[tmp.path()], &[]);
    let cell = &v["cells"][0];
    assert_eq!(
        cell["time_to_fix"]["median"],
        serde_json::json!({"kind": "at", "seconds": 1200.0})
    );
    assert_eq!(cell["time_to_find"]["median"]["seconds"], 300.0);
    assert_eq!(cell["submits_per_attempt"], 3.0);
    assert_eq!(cell["hints_per_attempt"], 2.0);
}

#[test]
fn three_against_three_is_called_too_small_to_reach_significance() {
    let tmp = tempfile::tempdir().unwrap();
    three_by_three(tmp.path());
    let v = stats_json(&[tmp.path()], &[]);
    assert_eq!(v["format"], "drillkit-stats");
    assert_eq!(v["format_version"], 4);
    let c = &v["comparisons"][0];
    assert_eq!(c["group"], "lost-update");
    assert_eq!(c["verdict"], "too_thin");
    assert!((c["min_attainable_p"].as_f64().unwrap() - 0.1).abs() < 1e-12);
    let warnings = v["warnings"].as_array().unwrap();
    let small: Vec<&Value> = warnings
        .iter()
        .filter(|w| w["kind"] == "small_sample" && w["group"] == "lost-update")
        .collect();
    assert_eq!(small.len(), 1, "{warnings:?}");
    assert!(
        small[0]["message"]
            .as_str()
            .unwrap()
            .contains("no two-sided rank test can go below p = 0.10"),
        "{warnings:?}"
    );
    // The terminal table says it too.
    let out = drill()
        .args(["stats", "--results"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let s = text(&out.stdout);
    assert!(
        s.contains("too thin to say") && s.contains("p = 0.10"),
        "{s}"
    );
}

#[test]
fn give_ups_are_censored_never_dropped_and_an_unreached_median_is_a_bound() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..6 {
        let end = if i < 2 { End::Fixed } else { End::Abandoned };
        records::write(
            tmp.path(),
            &Spec::new(
                &format!("a{i}"),
                "ada",
                "task-leak",
                "rust",
                10.0 + i as f64,
                end,
            ),
        );
    }
    let v = stats_json(&[tmp.path()], &[]);
    let cell = &v["cells"][0];
    assert_eq!(
        (cell["attempts"].as_u64(), cell["abandoned"].as_u64()),
        (Some(6), Some(4))
    );
    assert_eq!(
        cell["time_to_fix"]["median"],
        serde_json::json!({"kind": "after", "seconds": 900.0})
    );
    let out = drill()
        .args(["stats", "--results"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("> 15.0 [10.0, > 15.0]"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn several_results_dirs_merge_and_duplicates_count_once() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    three_by_three(a.path());
    three_by_three(b.path());
    records::write(
        b.path(),
        &Spec::new("extra", "e9", "lost-update", "go", 11.0, End::Fixed),
    );
    let v = stats_json(&[a.path(), b.path()], &[]);
    assert_eq!(v["inputs"]["attempts"], 7);
    assert_eq!(v["inputs"]["duplicates"], 6);
    // Filters apply after the merge.
    let v = stats_json(
        &[a.path(), b.path()],
        &["--lang", "go", "--engineer", "e9,e0"],
    );
    assert_eq!(v["inputs"]["attempts"], 2);
}

#[test]
fn a_damaged_record_is_reported_by_path_and_the_rest_still_counted() {
    let tmp = tempfile::tempdir().unwrap();
    three_by_three(tmp.path());
    let torn = tmp.path().join("torn.json");
    fs::write(&torn, b"{\"format\": \"drillkit-att").unwrap();
    let out = drill()
        .args(["stats", "--json", "--results"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&torn.display().to_string()));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inputs"]["attempts"], 6);
    assert_eq!(
        v["inputs"]["damaged"][0]["path"],
        torn.display().to_string()
    );
}

#[test]
fn csv_and_markdown_outputs_have_a_row_per_class_and_language() {
    let tmp = tempfile::tempdir().unwrap();
    three_by_three(tmp.path());
    let out = drill()
        .args(["stats", "--csv", "--results"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let csv = text(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("group,language,attempts,fixed"));
    assert_eq!(lines.len(), 1 + 4, "{csv}"); // lost-update × 2 + all × 2
    assert!(lines[1].starts_with("lost-update,go,3,3,0,0,0,"), "{csv}");
    let out = drill()
        .args(["stats", "--markdown", "--results"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let md = text(&out.stdout);
    assert!(md.contains("| lost-update | go | 3 |"), "{md}");
}

#[test]
fn hourly_rate_prices_a_median_incident() {
    let tmp = tempfile::tempdir().unwrap();
    three_by_three(tmp.path());
    let v = stats_json(
        &[tmp.path()],
        &["--hourly-rate", "120", "--engineers-per-incident", "2"],
    );
    // Median go 12 min -> 0.2 h × 120 × 2 = 48; rust 35 min -> 140.
    let rows = v["cost"]["rows"].as_array().unwrap();
    let go = rows
        .iter()
        .find(|r| r["group"] == "lost-update" && r["language"] == "go")
        .unwrap();
    assert!((go["median_cost"]["seconds"].as_f64().unwrap() - 48.0).abs() < 1e-9);
    assert!((v["cost"]["difference"]["lost-update"].as_f64().unwrap() - 92.0).abs() < 1e-9);
}

#[test]
fn attempts_round_trip_through_csv_export_and_import() {
    let (a, b, tmp) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    for s in records::generate_specs(40, 5) {
        records::write(a.path(), &s);
    }
    let export = |dir: &Path| {
        let out = drill()
            .args(["attempts", "export", "--csv", "--results"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let first = export(a.path());
    assert_eq!(first.lines().count(), 41);
    let file = tmp.path().join("attempts.csv");
    fs::write(&file, &first).unwrap();
    let out = drill()
        .args(["attempts", "import"])
        .arg(&file)
        .arg("--results")
        .arg(b.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("imported 40 attempt(s)"));
    assert_eq!(export(b.path()), first);
    // Same statistics from the records and from their CSV.
    let (va, vb) = (stats_json(&[a.path()], &[]), stats_json(&[b.path()], &[]));
    assert_eq!(va["cells"], vb["cells"]);
    assert_eq!(va["comparisons"], vb["comparisons"]);
    // Importing again adds nothing.
    let out = drill()
        .args(["attempts", "import"])
        .arg(&file)
        .arg("--results")
        .arg(b.path())
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("nothing new"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_bad_csv_names_each_bad_line_and_imports_nothing() {
    let (dir, tmp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = tmp.path().join("paper.csv");
    fs::write(
        &file,
        "engineer,drill,language,class,started,outcome,time_to_find_s,time_to_fix_s,submits,hints\n\
         ada,billing-ledger/lost-update,go,lost-update,2025-03-01T10:00:00Z,fixed,300,900,1,0\n\
         bob,billing-ledger/lost-update,rust,lost-update,2025-03-01T10:00:00Z,gave_up,,900,1,0\n\
         cy,billing-ledger/lost-update,rust,lost-update,yesterday,fixed,,900,1,0\n",
    )
    .unwrap();
    let out = drill()
        .args(["attempts", "import"])
        .arg(&file)
        .arg("--results")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("line 3: outcome is \"gave_up\""), "{err}");
    assert!(err.contains("line 4: started"), "{err}");
    assert!(err.contains("nothing imported"), "{err}");
    assert_eq!(fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0), 0);
}

#[test]
fn report_is_one_self_contained_page() {
    let (dir, tmp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for s in records::generate_specs(300, 2) {
        records::write(dir.path(), &s);
    }
    let page = tmp.path().join("report.html");
    let out = drill()
        .args(["report", "--hourly-rate", "100", "--out"])
        .arg(&page)
        .arg("--results")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("content=\"default-src 'none'"),
        "a CSP that forbids every fetch"
    );
    for needle in ["http:", "https:", "src=", "<script", "@import", "url("] {
        assert!(
            !html.contains(needle),
            "the page must not reference {needle}"
        );
    }
    assert!(html.contains("Decision record"));
    assert!(html.matches("<svg").count() > 2 * records::CLASSES.len());
    assert!(html.contains("class=\"curve\""));
}

#[test]
fn plan_status_shows_progress_from_the_results() {
    let dir = tempfile::tempdir().unwrap();
    let plan = serde_json::json!({
        "format": "drillkit-plan", "format_version": 1,
        "languages": ["go", "rust"], "classes": ["lost-update"],
        "engineers": {
            "ada": [
                {"order": 1, "drill": "s/lu-1", "class": "lost-update", "language": "go"},
                {"order": 2, "drill": "s/lu-2", "class": "lost-update", "language": "rust"}
            ]
        }
    });
    fs::write(dir.path().join("plan.drill-plan"), plan.to_string()).unwrap();
    let mut s = Spec::new("a1", "ada", "lost-update", "go", 12.0, End::Fixed);
    s.drill = "s/lu-1".into();
    records::write(dir.path(), &s);
    let out = drill()
        .args(["plan", "status", "--results"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let o = text(&out.stdout);
    assert!(
        o.contains("ada: 1/2 done, next: assignment 2 (rust, drill hidden until done)"),
        "{o}"
    );
    // A planned attempt is blind: the drill of an assignment is named once done.
    assert!(o.contains("s/lu-1") && !o.contains("s/lu-2"), "{o}");
    // The plan file is not mistaken for a damaged attempt record.
    let v = stats_json(&[dir.path()], &[]);
    assert_eq!(v["inputs"]["damaged"].as_array().unwrap().len(), 0);
}

#[test]
fn plan_refuses_a_class_with_a_single_drill_and_start_next_needs_a_plan() {
    let dir = tempfile::tempdir().unwrap();
    let out = drill()
        .args([
            "plan",
            "--engineers",
            "ada,bob",
            "--drills",
            "billing-ledger/lost-update",
            "--results",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("needs at least 2"),
        "{}",
        text(&out.stderr)
    );
    let out = drill()
        .args(["start", "--next", "--engineer", "ada", "--results"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no plan"),
        "{}",
        text(&out.stderr)
    );
}

/// A drill whose bug one language's idioms prevent exists in the other only:
/// it has no pair, so a plan refuses it by name and leaves it out by class.
#[test]
fn plan_never_assigns_a_drill_in_a_language_it_does_not_exist_in() {
    let dir = tempfile::tempdir().unwrap();
    let plan = |what: &[&str]| {
        drill()
            .args(["plan", "--engineers", "ada,bob,cy,dee"])
            .args(what)
            .arg("--results")
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let out = plan(&[
        "--drills",
        "email-worker/send-lock-convoy,edge-proxy/health-check-convoy",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("edge-proxy/health-check-convoy exists only in go"),
        "{err}"
    );
    // lock-across-io keeps one two-language drill once the Go-only one is left
    // out: named, and the plan refused rather than made in the wrong language.
    let out = plan(&["--classes", "lock-across-io,shutdown-loss"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("left out of the plan, as they exist in one language only: edge-proxy/health-check-convoy"),
        "{err}"
    );
    assert!(err.contains("class lock-across-io has 1 drill(s)"), "{err}");
}

/// The hand-made sets a real team's first week produces.
fn edge_case(dir: &Path, go: &[(f64, End)], rust: &[(f64, End)]) {
    for (lang, side) in [("go", go), ("rust", rust)] {
        for (k, &(minutes, end)) in side.iter().enumerate() {
            records::write(
                dir,
                &Spec::new(
                    &format!("{lang}{k}"),
                    &format!("e{k}"),
                    "lost-update",
                    lang,
                    minutes,
                    end,
                ),
            );
        }
    }
}

/// The level a row prints for an interval whose level is not the header's.
fn printed_level(conf: f64) -> String {
    format!("({:.1}% CI)", conf * 100.0)
}

#[test]
fn edge_cases_print_no_infinite_estimate_no_interval_outside_its_estimate_and_the_json_level() {
    use End::{Abandoned as A, Fixed as F};
    type Side = Vec<(f64, End)>;
    let cases: [(&str, Side, Side); 6] = [
        ("n = 1", vec![(10.0, F)], vec![(15.0, F)]),
        (
            "n = 2",
            vec![(10.0, F), (12.0, F)],
            vec![(15.0, F), (17.0, F)],
        ),
        (
            "all censored",
            vec![(10.0, A), (12.0, A)],
            vec![(15.0, A), (17.0, A), (2.0, A)],
        ),
        (
            "one side all censored",
            vec![(10.0, F), (12.0, F), (11.0, F)],
            vec![(40.0, A), (50.0, A), (45.0, A)],
        ),
        (
            "the other side all censored",
            vec![(40.0, A), (50.0, A), (45.0, A)],
            vec![(10.0, F), (12.0, F), (11.0, F)],
        ),
        (
            "ties",
            vec![(10.0, F); 4],
            vec![(10.0, F), (10.0, F), (10.0, A)],
        ),
    ];
    for (name, go, rust) in cases {
        let tmp = tempfile::tempdir().unwrap();
        edge_case(tmp.path(), &go, &rust);
        let v = stats_json(&[tmp.path()], &[]);
        for c in v["cells"].as_array().unwrap() {
            let ci = &c["time_to_fix"]["median_ci"];
            if c["attempts"].as_u64().unwrap() < 2 {
                assert!(ci.is_null(), "{name}: an interval from one attempt: {c}");
            }
        }
        let mut levels = Vec::new();
        for c in v["comparisons"].as_array().unwrap() {
            let n = c["n"].as_array().unwrap();
            let thin = n.iter().any(|x| x.as_u64().unwrap() < 2);
            let r = &c["ratio_ci"];
            if thin {
                assert!(
                    r.is_null() && c["hodges_lehmann"]["ci"].is_null(),
                    "{name}: {c}"
                );
            }
            if !r.is_null() {
                assert_eq!(c["ratio"]["kind"], "value", "{name}: {c}");
                let x = c["ratio"]["value"].as_f64().unwrap();
                let hi = r["hi"].as_f64().unwrap_or(f64::INFINITY);
                assert!(r["lo"].as_f64().unwrap() <= x && x <= hi, "{name}: {c}");
            }
            let h = &c["hodges_lehmann"];
            if h["estimate"]["kind"] != "undefined" {
                assert!(
                    h["estimate"]["value"].is_f64(),
                    "{name}: an infinite shift: {c}"
                );
            }
            if !h["ci"].is_null() {
                let x = h["estimate"]["value"].as_f64().unwrap();
                let lo = h["ci"]["lo"].as_f64().unwrap_or(f64::NEG_INFINITY);
                let hi = h["ci"]["hi"].as_f64().unwrap_or(f64::INFINITY);
                assert!(lo <= x && x <= hi, "{name}: {c}");
                let conf = h["ci"]["conf"].as_f64().unwrap();
                if (conf - 0.95).abs() > 1e-12 {
                    levels.push((c["group"].as_str().unwrap().to_string(), conf));
                }
            }
        }
        for format in [None, Some("--markdown")] {
            let mut cmd = drill();
            cmd.arg("stats").arg("--results").arg(tmp.path());
            if let Some(f) = format {
                cmd.arg(f);
            }
            let s = text(&cmd.output().unwrap().stdout);
            for bad in ["∞×", "−∞ [", "+∞ [", "inf", "NaN"] {
                assert!(!s.contains(bad), "{name} {format:?} prints {bad:?}:\n{s}");
            }
            for (group, conf) in &levels {
                let row = s
                    .lines()
                    .find(|l| l.contains(group.as_str()) && l.contains(" CI)"))
                    .unwrap_or_else(|| panic!("{name}: no row for {group} states its level:\n{s}"));
                assert!(
                    row.contains(&printed_level(*conf)),
                    "{name}: {row} vs JSON {conf}"
                );
            }
        }
    }
}

#[test]
fn two_against_two_states_the_shift_interval_at_its_real_level() {
    let tmp = tempfile::tempdir().unwrap();
    edge_case(
        tmp.path(),
        &[(10.0, End::Fixed), (12.0, End::Fixed)],
        &[(15.0, End::Fixed), (17.0, End::Fixed)],
    );
    let v = stats_json(&[tmp.path()], &[]);
    let conf = v["comparisons"][0]["hodges_lehmann"]["ci"]["conf"]
        .as_f64()
        .unwrap();
    // R's exact interval for 2 vs 2 covers every difference: 1 − 2/6.
    assert!((conf - 2.0 / 3.0).abs() < 1e-12, "{conf}");
    let out = drill()
        .arg("stats")
        .arg("--results")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("(66.7% CI)"),
        "{}",
        text(&out.stdout)
    );
    let page = tmp.path().join("r.html");
    let out = drill()
        .arg("report")
        .arg("--out")
        .arg(&page)
        .arg("--results")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(fs::read_to_string(&page).unwrap().contains("(66.7% CI)"));
}

#[test]
fn open_attempts_and_repeats_stay_out_of_the_comparison_and_prevented_drills_get_their_own_rows() {
    let tmp = tempfile::tempdir().unwrap();
    three_by_three(tmp.path());
    // Started two seconds ago: not fixed yet, and it must not move a median.
    records::write(
        tmp.path(),
        &Spec::new("open1", "e0", "lost-update", "rust", 0.03, End::Open),
    );
    // e1 meets a lost-update drill again: a repeat.
    let mut again = records::record(&Spec::new(
        "again1",
        "e1",
        "lost-update",
        "go",
        1.0,
        End::Fixed,
    ));
    again.attempt.repeat = true;
    let mut prevented = records::record(&Spec::new(
        "prev1",
        "e2",
        "lost-update",
        "go",
        50.0,
        End::Fixed,
    ));
    prevented.attempt.drill = "billing-ledger/use-after-close".into();
    prevented.attempt.prevented_in = Some("rust".into());
    for r in [&again, &prevented] {
        fs::write(
            tmp.path().join(format!("{}.json", r.attempt.id)),
            serde_json::to_vec_pretty(r).unwrap(),
        )
        .unwrap();
    }
    let v = stats_json(&[tmp.path()], &[]);
    let i = &v["inputs"];
    assert_eq!(
        (
            i["attempts"].as_u64(),
            i["compared"].as_u64(),
            i["open_left_out"].as_u64(),
            i["repeats_left_out"].as_u64(),
            i["prevented"].as_u64()
        ),
        (Some(9), Some(6), Some(1), Some(1), Some(1))
    );
    assert_eq!(v["comparisons"][0]["n"], serde_json::json!([3, 3]));
    assert_eq!(
        v["comparisons"][0]["median"][1],
        serde_json::json!({"kind": "at", "seconds": 2100.0})
    );
    let p = &v["prevented"][0];
    assert_eq!(
        (&p["group"], &p["language"], &p["prevented_in"]),
        (
            &serde_json::json!("billing-ledger/use-after-close"),
            &serde_json::json!("go"),
            &serde_json::json!("rust")
        )
    );
    let kinds: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"open_attempts") && kinds.contains(&"repeats"),
        "{kinds:?}"
    );
    let out = drill()
        .arg("stats")
        .arg("--results")
        .arg(tmp.path())
        .output()
        .unwrap();
    let s = text(&out.stdout);
    assert!(
        s.contains("Drills one language prevents") && s.contains("billing-ledger/use-after-close"),
        "{s}"
    );
}

/// The number before " engineer(s)" on the line containing `label`.
fn engineers_on(out: &str, label: &str) -> usize {
    let line = out
        .lines()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{out}"));
    line.rsplit(':')
        .next()
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number of engineers in {line:?}"))
}

#[test]
fn plan_power_says_how_many_engineers_from_the_pilot_or_a_stated_assumption() {
    let dir = tempfile::tempdir().unwrap();
    for s in records::generate_specs(400, 9) {
        records::write(dir.path(), &s);
    }
    let power = |extra: &[&str]| {
        let out = drill()
            .args([
                "plan",
                "--power",
                "--classes",
                "missing-timeout",
                "--simulations",
                "100",
            ])
            .args(extra)
            .arg("--results")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let pilot = power(&["--ratio", "2"]);
    assert!(
        pilot.contains("Baseline: the ") && pilot.contains(" go attempt(s) in "),
        "{pilot}"
    );
    let (all, one) = (
        engineers_on(&pilot, "overall comparison"),
        engineers_on(&pilot, "each class on its own"),
    );
    assert!((2..=60).contains(&all) && one >= all, "{pilot}");
    let assumed = power(&[
        "--ratio",
        "2",
        "--assume-median",
        "20",
        "--engineers",
        "a,b,c,d",
    ]);
    assert!(
        assumed.contains("Baseline: an assumption") && assumed.contains("go median 20.0 min"),
        "{assumed}"
    );
    assert!(
        assumed.contains("with the 4 engineer(s) named: overall "),
        "{assumed}"
    );
    // A smaller ratio needs more engineers.
    let small = power(&["--ratio", "1.3", "--assume-median", "20"]);
    assert!(
        engineers_on(&small, "overall comparison") > engineers_on(&assumed, "overall comparison"),
        "{small}"
    );
    let out = drill()
        .args([
            "plan",
            "--power",
            "--classes",
            "missing-timeout",
            "--ratio",
            "1",
        ])
        .arg("--results")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn time_to_a_reproducing_test_is_a_third_outcome_of_test_first_attempts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Go: two test-first attempts reproduced at 5 and 8 minutes and fixed at
    // 20 and 16; one gave up at 30 without a reproducing test (censored).
    for (id, test, fix, end) in [
        ("g1", Some(5.0), 20.0, End::Fixed),
        ("g2", Some(8.0), 16.0, End::Fixed),
        ("g3", None, 30.0, End::Abandoned),
    ] {
        let mut s = Spec::new(id, id, "lost-update", "go", fix, end);
        s.test_first = Some(test.map(|m: f64| (m * 60_000.0) as u64));
        records::write(dir, &s);
    }
    // Rust: one test-first attempt (no interval from one), one ordinary.
    let mut s = Spec::new("r1", "r1", "lost-update", "rust", 25.0, End::Fixed);
    s.test_first = Some(Some(12 * 60_000));
    records::write(dir, &s);
    records::write(
        dir,
        &Spec::new("r2", "r2", "lost-update", "rust", 10.0, End::Fixed),
    );

    let v = stats_json(&[dir], &[]);
    assert_eq!(v["format_version"], 4);
    let cell = |lang: &str| {
        v["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["language"] == lang)
            .unwrap()
            .clone()
    };
    let go = cell("go");
    assert_eq!(go["test_first"], 3);
    assert_eq!(
        go["time_to_test"]["median"],
        serde_json::json!({"kind": "at", "seconds": 480.0})
    );
    let fraction = go["time_to_test"]["fraction"].as_f64().unwrap();
    assert!((fraction - 2.0 / 3.0).abs() < 1e-9, "{fraction}");
    // The share of time-to-fix: 5/20 and 8/16, median 0.375 over two.
    assert_eq!(
        go["test_share_of_fix"],
        serde_json::json!({"median": 0.375, "attempts": 2})
    );
    let rust = cell("rust");
    assert_eq!(rust["test_first"], 1);
    assert_eq!(rust["time_to_test"]["median"]["seconds"], 720.0);
    assert_eq!(
        rust["time_to_test"]["median_ci"],
        Value::Null,
        "no interval from one attempt"
    );

    let out = drill()
        .args(["stats", "--results"])
        .arg(dir)
        .output()
        .unwrap();
    let table = text(&out.stdout);
    assert!(
        table.contains("Time to a reproducing test (test-first attempts"),
        "{table}"
    );
    assert!(
        table.contains("38% (2)"),
        "the share and its count: {table}"
    );
    let page = tmp.path().join("report.html");
    let out = drill()
        .args(["report", "--results"])
        .arg(dir)
        .arg("--out")
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("<h2>Time to a reproducing test (test-first attempts"),
        "the report has the table"
    );

    // Without test-first attempts, no such table and no such figure.
    let plain = tempfile::tempdir().unwrap();
    three_by_three(plain.path());
    let v = stats_json(&[plain.path()], &[]);
    assert_eq!(v["cells"][0]["time_to_test"], Value::Null);
    let out = drill()
        .args(["stats", "--results"])
        .arg(plain.path())
        .output()
        .unwrap();
    assert!(!text(&out.stdout).contains("reproducing test"));
}
