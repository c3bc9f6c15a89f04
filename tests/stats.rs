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
    assert_eq!(v["format_version"], 1);
    let c = &v["comparisons"][0];
    assert_eq!(c["group"], "lost-update");
    assert_eq!(c["verdict"], "too_thin");
    assert!((c["min_attainable_p"].as_f64().unwrap() - 0.1).abs() < 1e-12);
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w["kind"] == "small_sample"
            && w["message"]
                .as_str()
                .unwrap()
                .contains("cannot go below p = 0.10")
            || w["message"]
                .as_str()
                .unwrap()
                .contains("can go below p = 0.10")),
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
        text(&out.stdout).contains("> 15m00s"),
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
    assert!(o.contains("ada: 1/2 done, next: s/lu-2 (rust)"), "{o}");
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
