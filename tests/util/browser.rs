//! Headless Chromium for the HTML tests (`drill report`, the game-day
//! debrief): finding the browser and dumping a page's DOM after load.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

pub fn chromium() -> Option<PathBuf> {
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
pub fn dump_dom(browser: &Path, page: &Path, profile: &Path) -> String {
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
