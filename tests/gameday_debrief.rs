//! The read side of game days through the real `drill` binary, from
//! records and SLI files written by the kit's own record API (no service
//! runs: the record is what a game day leaves behind): `drill gameday
//! debrief` (terminal, `--json`, `--html` opened in headless Chromium),
//! `drill stats --gameday`, and the report's game-day section.
//!
//! Needs Debian's `chromium` for the page checks; without it those are
//! skipped loudly, except in CI (`CI=true`), where that is a failure.

#[path = "util/browser.rs"]
mod browser;
mod util;

use std::fs;
use std::path::{Path, PathBuf};

use drillkit::clock::Timestamp;
use drillkit::gameday::definition::{Inject, InjectKind};
use drillkit::gameday::record::{
    self, DeployOutcome, EndReason, EventKind, Header, MitigationAction, MitigationOutcome,
};
use drillkit::gameday::sli::{AlertRule, Slo, Window};
use drillkit::results::ResultsDir;
use util::{both, stdout, Drill};

const DRILL: &str = "edge-proxy/hung-health-probe";

fn base() -> Timestamp {
    "2030-01-01T08:00:00Z".parse().unwrap()
}

fn at(start_s: f64, s: f64) -> Timestamp {
    base().plus_ms(((start_s + s) * 1000.0) as u64)
}

fn header(id: &str, lang: &str, start_s: f64) -> Header {
    Header {
        id: id.into(),
        drill: DRILL.into(),
        language: lang.into(),
        seed: 7,
        started_at: at(start_s, 0.0),
        time_box_ms: 120_000,
        // Never created: the debrief needs only the results directory.
        folder: PathBuf::from("/nonexistent/gameday-folder"),
        slo: Slo {
            availability: 0.99,
            latency_ms: 500,
            window_ms: 1000,
        },
        alert: AlertRule {
            burn_rate: 14.4,
            long_windows: 10,
            short_windows: 2,
            mitigated_windows: 5,
        },
        fault_check: "hung_upstream_is_taken_out_of_rotation".into(),
        schedule: vec![Inject {
            at_ms: 5000,
            kind: InjectKind::Fault,
            text: "the dependency fault starts".into(),
        }],
        on_call: Some("ana".into()),
        blind: false,
        class: Some("missing-timeout".into()),
    }
}

/// Writes a game day through the record API: `events` at seconds after its
/// start, and one SLI line per window (`good` of 20 each).
fn write_gameday(
    results: &Path,
    h: Header,
    events: &[(f64, EventKind)],
    windows: &[u64],
) -> String {
    let r = ResultsDir::at(results);
    let id = h.id.clone();
    let start_s = (h.started_at.unix_ms() - base().unix_ms()) as f64 / 1000.0;
    record::create(&r, h, EventKind::Started, at(start_s, 0.0)).unwrap();
    for (s, k) in events {
        record::append(&r, &id, "test", k.clone(), at(start_s, *s)).unwrap();
    }
    let lines: String = windows
        .iter()
        .enumerate()
        .map(|(i, good)| {
            let w = Window {
                index: i as u64,
                total: 20,
                good: *good,
                shed: 0,
            };
            format!("{}\n", serde_json::to_string(&w).unwrap())
        })
        .collect();
    fs::write(r.gameday_sli_path(&id), lines).unwrap();
    id
}

fn fault() -> EventKind {
    EventKind::Inject {
        kind: InjectKind::Fault,
        text: "the dependency fault starts".into(),
        name: None,
        manual: false,
    }
}

fn alert() -> EventKind {
    EventKind::Alert {
        long_burn: 17.3,
        short_burn: 50.0,
    }
}

/// A whole game day: fault at 5 s, alert, ack, a failed build, the fix
/// live at 20 s, mitigated, resolved at 30 s.
fn full_events() -> Vec<(f64, EventKind)> {
    vec![
        (
            2.0,
            EventKind::Inject {
                kind: InjectKind::RedHerring,
                text: "disk usage on /var/log above 85%".into(),
                name: None,
                manual: false,
            },
        ),
        (5.0, fault()),
        (9.0, alert()),
        (12.0, EventKind::Ack),
        (
            13.0,
            EventKind::Note {
                text: "looks like the upstream pool".into(),
                by: "ann".into(),
            },
        ),
        (
            14.0,
            EventKind::Mitigation {
                action: MitigationAction::Restart,
                detail: "the bugged build".into(),
                outcome: MitigationOutcome::Live,
                reason: None,
                dropped: Some(2),
            },
        ),
        (
            14.5,
            EventKind::Inject {
                kind: InjectKind::Escalation,
                text: "paging the secondary".into(),
                name: Some("escalation-1".into()),
                manual: true,
            },
        ),
        (
            15.0,
            EventKind::Deploy {
                n: 1,
                outcome: DeployOutcome::BuildFailed,
                reason: Some("build failed: main.go:12: undefined: x".into()),
                dropped: None,
            },
        ),
        (
            20.0,
            EventKind::Deploy {
                n: 2,
                outcome: DeployOutcome::Live,
                reason: None,
                dropped: Some(0),
            },
        ),
        (
            24.0,
            EventKind::Judged {
                n: 2,
                passed: true,
                reasons: vec![],
            },
        ),
        (26.0, EventKind::Mitigated { windows: 5 }),
        (
            27.0,
            EventKind::DeployEffect {
                n: 2,
                before: Some(0.5),
                after: Some(1.0),
                worse: false,
            },
        ),
        (28.0, EventKind::AlertCleared { short_burn: 0.0 }),
        (30.0, EventKind::Resolved),
        (
            30.2,
            EventKind::Ended {
                reason: EndReason::Resolved,
            },
        ),
    ]
}

fn full_windows() -> Vec<u64> {
    (0..30)
        .map(|i| match i {
            0..=5 => 20,
            6..=20 => 10,
            _ => 20,
        })
        .collect()
}

/// The probe a copy of a page runs (allowed by a nonce): what a person
/// would see of the debrief's parts.
const PROBE: &str = r#"<script nonce="probe">
addEventListener('load', () => {
  const box = el => { const r = el.getBoundingClientRect(); return { w: r.width, h: r.height }; };
  const visible = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const charts = [...document.querySelectorAll('svg.chart')].map(s => {
    const r = s.getBoundingClientRect();
    const ticks = [...s.querySelectorAll('text')].map(t => {
      const b = t.getBoundingClientRect();
      return { text: t.textContent, tick: t.classList.contains('tick'),
               inside: b.left >= r.left - 0.5 && b.right <= r.right + 0.5 && b.top >= r.top - 0.5 && b.bottom <= r.bottom + 0.5 };
    });
    return { cls: s.getAttribute('class'), w: r.width, h: r.height,
             curves: [...s.querySelectorAll('polyline.curve')].filter(c => c.getBBox().width > 0).length,
             markers: [...s.querySelectorAll('g.marker')].map(m => m.getAttribute('data-kind')),
             objective: s.querySelectorAll('line.objective').length, texts: ticks };
  });
  const rows = sel => { const t = document.querySelector(sel); return t ? { rows: t.rows.length - 1, visible: visible(t) } : null; };
  const titles = [...document.querySelectorAll('figure')].map(f => {
    const cap = f.querySelector('figcaption'), svg = f.querySelector('svg');
    return !!cap && cap.getBoundingClientRect().bottom <= svg.getBoundingClientRect().top + 0.5;
  });
  const text = sel => { const e = document.querySelector(sel); return e ? e.textContent : null; };
  const fetched = performance.getEntriesByType('resource').map(e => e.name);
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify({ charts, titles, fetched,
    timeline: rows('table.timeline'), clocks: rows('table.clocks'), actions: rows('table.actions'),
    gamedays: rows('table.gamedays'), gamedayClocks: rows('table.gameday-clocks'),
    diff: text('pre.diff'), cause: text('section.cause'), running: text('p.running'),
    clocksText: text('table.clocks'), timelineText: text('table.timeline') });
  document.body.appendChild(pre);
});
</script>"#;

/// Opens `page` (as written, then a probed copy) in Chromium: the page
/// under its own CSP keeps its charts, and the probe's findings.
fn probe(browser: &Path, page: &Path, tmp: &Path) -> serde_json::Value {
    let html = fs::read_to_string(page).unwrap();
    for needle in [
        "http:", "https:", "src=", "<script", "@import", "url(", "<link",
    ] {
        assert!(!html.contains(needle), "the page references {needle:?}");
    }
    let name = page.file_stem().unwrap().to_string_lossy().into_owned();
    let dom = browser::dump_dom(browser, page, &tmp.join(format!("{name}-a")));
    assert_eq!(
        dom.matches("<svg").count(),
        html.matches("<svg").count(),
        "chromium did not render the page: {dom:.300}"
    );
    let csp = format!("content=\"{}\"", drillkit::report::CSP);
    assert!(html.contains(&csp));
    let probed = html
        .replace(
            &csp,
            &format!(
                "content=\"{}; script-src 'nonce-probe'\"",
                drillkit::report::CSP
            ),
        )
        .replace("</body>", &format!("{PROBE}</body>"));
    let probed_page = tmp.join(format!("{name}-probed.html"));
    fs::write(&probed_page, probed).unwrap();
    let dom = browser::dump_dom(browser, &probed_page, &tmp.join(format!("{name}-b")));
    let json = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("the probe did not run: {dom:.500}"))
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["fetched"],
        serde_json::json!([]),
        "the page fetched resources"
    );
    for t in v["titles"].as_array().unwrap() {
        assert_eq!(t, true, "a chart title below its chart: {v}");
    }
    for c in v["charts"].as_array().unwrap() {
        assert!(
            c["w"].as_f64().unwrap() > 100.0 && c["h"].as_f64().unwrap() > 50.0,
            "a chart without size: {c}"
        );
        for t in c["texts"].as_array().unwrap() {
            assert_eq!(t["inside"], true, "text outside its chart: {t} in {c}");
            if t["tick"] == true {
                let s = t["text"].as_str().unwrap();
                assert!(s.chars().count() <= 6, "tick label {s:?} longer than 6");
                assert!(!s.contains("0000"), "tick label {s:?} is not round");
            }
        }
    }
    v
}

fn browser_or_skip(test: &str) -> Option<PathBuf> {
    let b = browser::chromium();
    if b.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("chromium is not installed, and CI=true: this check must run in CI (apt-get install -y chromium)");
        }
        eprintln!("\n\n*** SKIPPED the page checks of {test}: no `chromium` on PATH (apt-get install -y chromium) ***\n\n");
    }
    b
}

#[test]
fn a_debrief_from_the_results_directory_alone_in_the_terminal_as_json_and_as_a_page() {
    let d = Drill::new();
    let id = write_gameday(
        &d.results,
        header("20300101T080000Z-hung-health-probe-go", "go", 0.0),
        &full_events(),
        &full_windows(),
    );

    // The terminal: the timeline from the fault, clocks, sparkline, the answer.
    let out = d.expect(&d.home, &["gameday", "debrief", &id], 0);
    let text = stdout(&out);
    for want in [
        "T-3.0 s",
        "red herring: disk usage",
        "T+0.0 s",
        "fault injected: the dependency fault starts",
        "T+4.0 s",
        "ALERT fired (burn 17.3x long, 50.0x short)",
        "acknowledged by the on-call",
        "note by ann: looks like the upstream pool",
        "mitigation: restart the bugged build: live, 2 requests got no answer during the swap",
        "escalation (fired by hand): paging the secondary",
        "deploy 1: build failed: main.go:12: undefined: x",
        "T+15.0 s",
        "deploy 2: live",
        "deploy 2 judged: passes the acceptance checks (fixed)",
        "deploy 2 effect: SLI 50.0% before, 100.0% after",
        "mitigated: 5 windows in a row",
        "alert cleared",
        "resolved by the on-call",
        "ended (resolved)",
        "detect         4.0 s",
        "acknowledge    7.0 s",
        "mitigate       21.0 s",
        "fix            15.0 s",
        "resolve        25.0 s",
        "██████▄▄▄",
        "30 windows, 600 requests, 75.0% good overall",
        "HEALTH_TIMEOUT_MS bounded only the connect step",
        "The fix",
        "The reference fix (go)",
        "--- a/",
        "Action items (for the team to fill in)",
        "on call ana; class missing-timeout",
    ] {
        assert!(text.contains(want), "the debrief lacks {want:?}:\n{text}");
    }
    assert!(!text.contains("NOT ENDED"), "{text}");

    // The same from the folder the game day ran in would need the folder;
    // by id it needs nothing else. --json: the versioned document.
    let out = d.expect(&d.home, &["gameday", "debrief", &id, "--json"], 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format_name"], "drillkit-gameday-debrief");
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["state"], "ended");
    assert_eq!(v["reason"], "resolved");
    assert_eq!(v["timeline"].as_array().unwrap().len(), 16);
    assert_eq!(v["timeline"][3]["event"], "alert");
    assert_eq!(v["timeline"][3]["since_fault_ms"], 4000);
    assert_eq!(v["timeline"][3]["marker"], "alert");
    assert_eq!(
        v["clocks"]["detect"],
        serde_json::json!({"state": "reached", "ms": 4000})
    );
    assert_eq!(v["sli"]["windows"].as_array().unwrap().len(), 30);
    assert!(v["reference"]["diff"].as_str().unwrap().contains("+++ b/"));
    assert_eq!(v["action_items"], serde_json::json!([]));
    assert_eq!(
        (&v["on_call"], &v["class"], &v["blind"]),
        (
            &serde_json::json!("ana"),
            &serde_json::json!("missing-timeout"),
            &serde_json::json!(false)
        )
    );

    // --html: the page, then Chromium.
    let page = d.tmp.path().join("debrief.html");
    let out = d
        .cmd()
        .args(["gameday", "debrief", &id, "--html"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    let html = fs::read_to_string(&page).unwrap();
    assert!(html.contains(r#"<svg class="chart sli""#), "no SLI chart");
    assert!(
        html.contains("On call: ana; class missing-timeout."),
        "no on-call"
    );
    // To look at the page by hand.
    if let Some(keep) = std::env::var_os("DRILL_KEEP_DEBRIEF") {
        fs::copy(&page, keep).unwrap();
    }
    let Some(b) = browser_or_skip("a_debrief_from_the_results_directory_alone") else {
        return;
    };
    let v = probe(&b, &page, d.tmp.path());
    let charts = v["charts"].as_array().unwrap();
    assert_eq!(charts.len(), 1, "{v}");
    let sli = &charts[0];
    assert!(sli["cls"].as_str().unwrap().contains("sli"), "{sli}");
    assert_eq!(sli["curves"], 1, "one unbroken SLI line: {sli}");
    assert_eq!(sli["objective"], 1, "{sli}");
    assert_eq!(
        sli["markers"],
        serde_json::json!([
            "fault",
            "alert",
            "ack",
            "mitigation",
            "deploy",
            "mitigated",
            "resolved"
        ]),
        "{sli}"
    );
    assert!(
        sli["texts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["tick"] == true)
            .count()
            >= 8,
        "{sli}"
    );
    assert_eq!(v["timeline"]["rows"], 16, "{v}");
    assert_eq!(v["timeline"]["visible"], true, "{v}");
    assert!(
        v["timelineText"].as_str().unwrap().contains("T+15.0 s"),
        "{v}"
    );
    assert_eq!(v["clocks"]["rows"], 6, "fault start and five clocks: {v}");
    assert!(v["clocksText"].as_str().unwrap().contains("21.0 s"), "{v}");
    assert_eq!(v["actions"]["visible"], true, "{v}");
    assert!(
        v["cause"].as_str().unwrap().contains("HEALTH_TIMEOUT_MS"),
        "{v}"
    );
    assert!(v["diff"].as_str().unwrap().contains("--- a/"), "{v}");
    assert!(
        v["running"].is_null(),
        "an ended game day is not running: {v}"
    );
}

#[test]
fn an_unfinished_game_day_debriefs_with_running_clocks_and_an_unknown_id_is_named() {
    let d = Drill::new();
    // Started at 08:00, the fault at 5 s, acknowledged at 12 s; the test
    // clock says 09:00, an hour on.
    let id = write_gameday(
        &d.results,
        header("20300101T080000Z-hung-health-probe-go", "go", 0.0),
        &[(5.0, fault()), (9.0, alert()), (12.0, EventKind::Ack)],
        &[20, 20, 20, 20, 20, 10, 10, 10, 10, 10, 10, 10],
    );
    let out = d.expect(&d.home, &["gameday", "debrief", &id], 0);
    let text = stdout(&out);
    assert!(text.contains("NOT ENDED: still running"), "{text}");
    assert!(text.contains("acknowledge    7.0 s"), "{text}");
    // The clock file says 09:00; the command's own run time adds a little.
    assert!(text.contains("mitigate       running (3595."), "{text}");
    let out = d.expect(&d.home, &["gameday", "debrief", &id, "--json"], 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["state"], "running");
    let so_far = v["clock_rows"][2]["so_far_ms"].as_u64().unwrap();
    assert!((3_595_000..3_600_000).contains(&so_far), "{so_far}");

    let page = d.tmp.path().join("running.html");
    d.cmd()
        .args(["gameday", "debrief", &id, "--html"])
        .arg(&page)
        .assert()
        .success();
    assert!(fs::read_to_string(&page)
        .unwrap()
        .contains(r#"<p class="running">"#));
    if let Some(b) = browser_or_skip("an_unfinished_game_day_debriefs") {
        let v = probe(&b, &page, d.tmp.path());
        assert!(
            v["running"].as_str().unwrap().contains("has not ended"),
            "{v}"
        );
    }

    // From the game day's folder (--dir, or anywhere inside it): its
    // pointer names the id and the results directory.
    let gd = drillkit::gameday::folder::Folder::at(&d.tmp.path().join("gd"));
    fs::create_dir_all(gd.workspace().join("src")).unwrap();
    gd.write_pointer(&drillkit::gameday::folder::Pointer {
        format_version: drillkit::gameday::folder::POINTER_VERSION,
        id: id.clone(),
        results: d.results.clone(),
        pager: gd.default_pager(),
    })
    .unwrap();
    let by_dir = d.expect(
        &d.home,
        &["gameday", "debrief", "--dir", gd.root.to_str().unwrap()],
        0,
    );
    assert!(stdout(&by_dir).contains(&format!("Debrief of game day {id}")));
    let inside = d
        .cmd_in(&gd.workspace().join("src"))
        .env_remove("DRILL_RESULTS")
        .args(["gameday", "debrief"])
        .output()
        .unwrap();
    assert!(inside.status.success(), "{}", both(&inside));
    assert!(stdout(&inside).contains("NOT ENDED"), "{}", both(&inside));

    // An id that is not there: the directory and the game days it holds.
    let out = d.expect(&d.home, &["gameday", "debrief", "hung-health"], 2);
    let err = util::stderr(&out);
    assert!(err.contains("no game day hung-health in"), "{err}");
    assert!(err.contains(&format!("did you mean {id}?")), "{err}");
    // Outside a game day's folder and without an id: what to give.
    let out = d.expect(&d.home, &["gameday", "debrief"], 2);
    assert!(
        util::stderr(&out).contains("give the game day's ID"),
        "{}",
        both(&out)
    );
    // A damaged SLI line: said, and no SLI shown rather than a wrong one.
    let sli = ResultsDir::at(&d.results).gameday_sli_path(&id);
    fs::write(
        &sli,
        "{\"index\":0,\"total\":20,\"good\":20}\ngarbage\n{\"index\":2,\"total\":2,\"good\":2}\n",
    )
    .unwrap();
    let out = d.expect(&d.home, &["gameday", "debrief", &id], 0);
    assert!(stdout(&out).contains("line 2 is damaged"), "{}", both(&out));
    assert!(
        stdout(&out).contains("no window recorded"),
        "{}",
        both(&out)
    );
}

/// Five ended game days and a running one: go detects in 4, 6, 8 s and
/// fixes two of three (one time-boxed at 115 s after the fault); rust
/// detects in 3 and 5 s and fixes both.
fn several(results: &Path) {
    let g = |id: &str, lang: &str, start: f64, detect: f64, fix: Option<f64>| {
        let mut ev = vec![
            (5.0, fault()),
            (5.0 + detect, alert()),
            (5.0 + detect + 2.0, EventKind::Ack),
        ];
        match fix {
            Some(f) => {
                ev.push((
                    5.0 + f,
                    EventKind::Deploy {
                        n: 1,
                        outcome: DeployOutcome::Live,
                        reason: None,
                        dropped: None,
                    },
                ));
                ev.push((
                    5.0 + f + 1.0,
                    EventKind::Judged {
                        n: 1,
                        passed: true,
                        reasons: vec![],
                    },
                ));
                ev.push((5.0 + f + 3.0, EventKind::Mitigated { windows: 5 }));
                ev.push((5.0 + f + 5.0, EventKind::Resolved));
                ev.push((
                    5.0 + f + 5.1,
                    EventKind::Ended {
                        reason: EndReason::Resolved,
                    },
                ));
            }
            None => ev.push((
                120.0,
                EventKind::Ended {
                    reason: EndReason::TimeBox,
                },
            )),
        }
        let mut h = header(id, lang, start);
        if id == "e-rust" {
            h.on_call = Some("lee".into());
        }
        write_gameday(results, h, &ev, &[20, 20, 10]);
    };
    g("a-go", "go", 0.0, 4.0, Some(30.0));
    g("b-go", "go", 200.0, 6.0, Some(50.0));
    g("c-go", "go", 400.0, 8.0, None);
    g("d-rust", "rust", 600.0, 3.0, Some(20.0));
    g("e-rust", "rust", 800.0, 5.0, Some(40.0));
    write_gameday(
        results,
        header("f-rust", "rust", 1000.0),
        &[(5.0, fault())],
        &[20],
    );
}

#[test]
fn stats_gameday_gives_kaplan_meier_clocks_per_language_with_censoring_and_bounds() {
    let d = Drill::new();
    let out = d.expect(&d.home, &["stats", "--gameday"], 0);
    assert!(
        stdout(&out).contains("No game day in the selection"),
        "{}",
        both(&out)
    );

    several(&d.results);
    let out = d.expect(&d.home, &["stats", "--gameday", "--json"], 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format_name"], "drillkit-gameday-stats");
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["conf"], 0.95);
    assert_eq!(v["gamedays"], 5);
    assert_eq!(v["not_ended"], 1);
    assert_eq!(v["rows"].as_array().unwrap().len(), 6);
    let cell = |clock: &str, lang: &str| -> serde_json::Value {
        v["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["clock"] == clock)
            .unwrap()["by_language"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["language"] == lang)
            .unwrap()
            .clone()
    };
    let detect = cell("detect", "go");
    assert_eq!(
        (detect["gamedays"].as_u64(), detect["reached"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(
        detect["distribution"]["median"],
        serde_json::json!({"kind": "at", "seconds": 6.0})
    );
    let fix = cell("fix", "go");
    assert_eq!(
        (fix["reached"].as_u64(), fix["censored"].as_u64()),
        (Some(2), Some(1))
    );
    // Go: fixed at 30 and 50 s, censored at 115 s: the median is 50 s; its
    // p90 is not reached, only bounded.
    assert_eq!(
        fix["distribution"]["median"],
        serde_json::json!({"kind": "at", "seconds": 50.0})
    );
    assert_eq!(
        fix["distribution"]["p90"],
        serde_json::json!({"kind": "after", "seconds": 115.0})
    );
    let rust_fix = cell("fix", "rust");
    assert_eq!(
        rust_fix["gamedays"], 2,
        "the running rust game day is not counted"
    );
    assert_eq!(
        rust_fix["distribution"]["median"],
        serde_json::json!({"kind": "at", "seconds": 30.0})
    );

    let out = d.expect(&d.home, &["stats", "--gameday"], 0);
    let text = stdout(&out);
    for want in [
        "Game-day clocks per language",
        "median 95% CI",
        "> 115 (censored)",
        "not ended",
        "1 game day(s) not ended",
        "no interval from fewer than 2 game days",
    ] {
        assert!(
            text.contains(want),
            "stats --gameday lacks {want:?}:\n{text}"
        );
    }

    // Filters: one language; a filter that does not apply is refused.
    let out = d.expect(
        &d.home,
        &["stats", "--gameday", "--json", "--lang", "rust"],
        0,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 3);
    assert_eq!(v["clocks"][0]["by_language"].as_array().unwrap().len(), 1);
    // The on-call and the class select too (both kept in the header).
    let rows = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["stats", "--gameday", "--json"];
        all.extend_from_slice(args);
        let v: serde_json::Value =
            serde_json::from_slice(&d.expect(&d.home, &all, 0).stdout).unwrap();
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(rows(&["--engineer", "lee"]), ["e-rust"]);
    assert_eq!(rows(&["--engineer", "ana"]).len(), 5);
    assert!(rows(&["--engineer", "ann"]).is_empty());
    assert_eq!(rows(&["--class", "missing-timeout"]).len(), 6);
    assert!(rows(&["--class", "deadlock"]).is_empty());
    let text = stdout(&d.expect(&d.home, &["stats", "--gameday", "--engineer", "lee"], 0));
    assert!(text.contains("lee"), "{text}");
    // A damaged record is named and the exit code says so.
    fs::write(d.results.join("gamedays/broken.json"), "{").unwrap();
    let out = d.expect(&d.home, &["stats", "--gameday"], 6);
    assert!(
        util::stderr(&out).contains("damaged game-day record"),
        "{}",
        both(&out)
    );
}

#[test]
fn the_report_has_a_game_day_section_only_when_game_days_exist() {
    let d = Drill::new();
    let plain = d.tmp.path().join("plain.html");
    d.cmd()
        .args(["report", "--out"])
        .arg(&plain)
        .assert()
        .success();
    assert!(!fs::read_to_string(&plain)
        .unwrap()
        .contains("section class=\"gamedays\""));

    several(&d.results);
    let page = d.tmp.path().join("report.html");
    let out = d
        .cmd()
        .args(["report", "--out"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        util::stderr(&out).contains("6 game day(s)"),
        "{}",
        both(&out)
    );
    let html = fs::read_to_string(&page).unwrap();
    assert!(html.contains("section class=\"gamedays\""));
    if let Some(keep) = std::env::var_os("DRILL_KEEP_GAMEDAY_REPORT") {
        fs::copy(&page, keep).unwrap();
    }
    let Some(b) = browser_or_skip("the_report_has_a_game_day_section") else {
        return;
    };
    let v = probe(&b, &page, d.tmp.path());
    let km: Vec<&serde_json::Value> = v["charts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cls"].as_str().unwrap().contains("km"))
        .collect();
    // Five clocks, a go and a rust curve each (the attempts' own KM charts
    // have no curve: there are no attempts).
    let drawn: Vec<u64> = km
        .iter()
        .map(|c| c["curves"].as_u64().unwrap())
        .filter(|&n| n > 0)
        .collect();
    assert_eq!(drawn, [2, 2, 2, 2, 2], "{v}");
    assert_eq!(v["gamedays"]["rows"], 6, "{v}");
    assert_eq!(v["gamedays"]["visible"], true, "{v}");
    assert_eq!(
        v["gamedayClocks"]["rows"], 10,
        "five clocks × two languages: {v}"
    );
}

#[test]
fn a_blind_game_days_debrief_is_refused_until_it_ends_and_its_stats_row_names_no_drill() {
    let d = Drill::new();
    let h = Header {
        blind: true,
        ..header("20300101T080000Z-blind-go-0a1b2c", "go", 0.0)
    };
    let id = write_gameday(&d.results, h, &[(5.0, fault()), (9.0, alert())], &[20, 10]);
    let out = d.expect(&d.home, &["gameday", "debrief", &id], 2);
    let err = util::stderr(&out);
    assert!(err.contains("dealt blind and has not ended"), "{err}");
    assert!(!err.contains(DRILL), "{err}");
    let out = d.expect(&d.home, &["gameday", "debrief", &id, "--json"], 2);
    assert!(out.stdout.is_empty(), "{}", both(&out));
    let stats = stdout(&d.expect(&d.home, &["stats", "--gameday", "--json"], 0));
    assert!(stats.contains("hidden (blind, not ended)"), "{stats}");
    assert!(!stats.contains(DRILL), "{stats}");
    // A drill filter does not pick it out while it runs.
    let v: serde_json::Value = serde_json::from_slice(
        &d.expect(
            &d.home,
            &["stats", "--gameday", "--json", "--drill", DRILL],
            0,
        )
        .stdout,
    )
    .unwrap();
    assert!(v["rows"].as_array().unwrap().is_empty(), "{v}");

    let r = ResultsDir::at(&d.results);
    let end = EventKind::Ended {
        reason: EndReason::TimeBox,
    };
    record::append(&r, &id, "test", end, at(0.0, 60.0)).unwrap();
    let text = stdout(&d.expect(&d.home, &["gameday", "debrief", &id], 0));
    assert!(text.contains(DRILL), "{text}");
    assert!(text.contains("dealt blind"), "{text}");
    let stats = stdout(&d.expect(&d.home, &["stats", "--gameday", "--json"], 0));
    assert!(stats.contains(DRILL), "{stats}");
}
