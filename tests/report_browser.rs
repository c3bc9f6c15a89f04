//! `drill report` opened in a real browser (headless Chromium): the charts
//! render with a size, and the page fetches nothing.
//!
//! Needs Debian's `chromium` (installed by .ci/run). Without it the test is
//! skipped with a loud message — except in CI (`CI=true`), where a missing
//! browser is a failure, so the check can never silently stop running.

#[path = "util/records.rs"]
mod records;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Runs Chromium on `page` and returns the DOM after load. Chromium's own
/// background chatter (update checks, time sync) is switched off where a
/// flag allows and otherwise sent nowhere by the resolver rule; what the
/// *page* loads is checked from inside it (Resource Timing, below).
fn dump_dom(browser: &Path, page: &Path, profile: &Path) -> String {
    // To a file, not a pipe: a DOM larger than the pipe buffer would block
    // chromium until someone reads it.
    let dom_file = profile.with_extension("dom.html");
    let mut child = Process::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(fs::File::create(&dom_file).expect("dom file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().expect("wait for chromium").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    fs::read_to_string(&dom_file).unwrap_or_default()
}

/// A probe, allowed by a nonce in a copy of the page: measures every chart
/// and lists every resource the page loaded (Resource Timing).
const PROBE: &str = r#"<script nonce="probe">
addEventListener('load', () => {
  const charts = [...document.querySelectorAll('svg.chart')].map(s => {
    const r = s.getBoundingClientRect();
    return { w: r.width, h: r.height,
             curves: [...s.querySelectorAll('polyline.curve')].filter(c => c.getBBox().width > 0).length,
             dots: s.querySelectorAll('circle').length };
  });
  const fetched = performance.getEntriesByType('resource').map(e => e.name);
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify({ charts, fetched });
  document.body.appendChild(pre);
});
</script>"#;

#[test]
fn report_renders_its_charts_in_chromium_and_fetches_nothing() {
    let Some(browser) = chromium() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("chromium is not installed, and CI=true: this check must run in CI (apt-get install -y chromium)");
        }
        eprintln!("\n\n*** SKIPPED report_renders_its_charts_in_chromium_and_fetches_nothing: no `chromium` on PATH (apt-get install -y chromium) ***\n\n");
        return;
    };
    let (dir, tmp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for s in records::generate_specs(400, 9) {
        records::write(dir.path(), &s);
    }
    let page = tmp.path().join("report.html");
    let out = Command::cargo_bin("drill")
        .unwrap()
        .env_remove("DRILL_RESULTS")
        .args(["report", "--hourly-rate", "90", "--out"])
        .arg(&page)
        .arg("--results")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = fs::read_to_string(&page).unwrap();

    // 1. The page as shipped, under its own CSP: it loads and keeps its charts.
    let dom = dump_dom(&browser, &page, &tmp.path().join("profile-a"));
    assert!(
        dom.contains("Decision record"),
        "chromium did not render the page: {dom:.300}"
    );
    assert_eq!(dom.matches("<svg").count(), html.matches("<svg").count());
    // Nothing in it could fetch: no URL, no src, no script, no CSS import.
    for needle in [
        "http:", "https:", "//", "src=", "<script", "@import", "url(", "<link",
    ] {
        assert!(!html.contains(needle), "the page references {needle:?}");
    }

    // 2. A probed copy: every chart has a size, curves and dots are drawn,
    //    and the page loaded no resource at all.
    let csp_strict = format!("content=\"{}\"", drillkit::report::CSP);
    assert!(html.contains(&csp_strict));
    let probed = html
        .replace(
            &csp_strict,
            &format!(
                "content=\"{}; script-src 'nonce-probe'\"",
                drillkit::report::CSP
            ),
        )
        .replace("</body>", &format!("{PROBE}</body>"));
    let probed_page = tmp.path().join("probed.html");
    fs::write(&probed_page, probed).unwrap();
    let dom = dump_dom(&browser, &probed_page, &tmp.path().join("profile-b"));
    let json = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("the probe did not run: {dom:.500}"))
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let charts = v["charts"].as_array().unwrap();
    assert!(charts.len() > 2 * records::CLASSES.len(), "{v}");
    for c in charts {
        assert!(
            c["w"].as_f64().unwrap() > 100.0 && c["h"].as_f64().unwrap() > 50.0,
            "a chart without size: {c}"
        );
    }
    let curves: u64 = charts.iter().map(|c| c["curves"].as_u64().unwrap()).sum();
    let dots: u64 = charts.iter().map(|c| c["dots"].as_u64().unwrap()).sum();
    assert!(curves >= 2 * (1 + records::CLASSES.len() as u64), "{v}");
    assert_eq!(dots, 400, "one dot per attempt");
    assert_eq!(
        v["fetched"],
        serde_json::json!([]),
        "the page fetched resources"
    );
}
