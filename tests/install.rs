//! The kit installs like a tool: the `drill` binary alone, in a folder of its
//! own, run where the source checkout it was built from cannot be seen (a
//! private mount namespace lays an empty folder over it), with no
//! `DRILL_CATALOG`: `list`, `start --random` and `submit` work from an
//! unrelated empty directory, on the catalog built into the binary.
//!
//! Needs `unshare` and the right to mount (root, as in CI). Elsewhere it is
//! skipped with a loud message — except in CI (`CI=true`), where it must run.

mod util;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use util::{both, heavy, stdout};

fn can_unshare() -> bool {
    Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "mount --bind / /mnt 2>/dev/null || mount -t tmpfs none /mnt",
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Where `path`'s value is in the output of the script (`name=value` lines).
fn value<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
}

#[test]
fn the_binary_alone_lists_starts_and_submits_from_an_empty_folder_without_the_checkout() {
    if !can_unshare() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("unshare -m is not available, and CI=true: this check must run in CI (as root)");
        }
        eprintln!("SKIPPED: needs `unshare -m` and the right to mount (run as root)");
        return;
    }
    let _turn = heavy();
    let checkout = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    // Outside the checkout, whatever TMPDIR says.
    assert!(!tmp.path().starts_with(&checkout));
    let bin = tmp.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    fs::copy(assert_cmd::cargo::cargo_bin("drill"), bin.join("drill")).unwrap();
    let work = tmp.path().join("work");
    let empty = tmp.path().join("empty");
    fs::create_dir_all(&work).unwrap();
    fs::create_dir_all(&empty).unwrap();

    // The build cache stays (a cold Rust build would take minutes); when it
    // lives inside the checkout (CI), it is mounted elsewhere first.
    let cache = drillkit::builder::Cache::from_env().root;
    fs::create_dir_all(&cache).unwrap();
    let cache_seen = tmp.path().join("cache");
    fs::create_dir_all(&cache_seen).unwrap();

    let script = r#"
set -u
mount --bind "$CACHE" "$CACHE_SEEN" || exit 90
mount --bind "$EMPTY" "$CHECKOUT" || exit 91
echo "checkout-entries=$(ls -A "$CHECKOUT" | wc -l)"
cd "$WORK"
"$BIN" list > list.txt 2>&1; echo "list-exit=$?"
"$BIN" start --random --engineer x > start.txt 2>&1; echo "start-exit=$?"
ws=$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name 'drill-*' | head -1)
echo "workspace=$ws"
cd "$ws" && "$BIN" submit > "$WORK/submit.txt" 2>&1; echo "submit-exit=$?"
"#;
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env(
            "HOME",
            std::env::var_os("HOME").unwrap_or_else(|| tmp.path().into()),
        )
        .envs(
            [
                "GOPATH",
                "GOCACHE",
                "GOMODCACHE",
                "CARGO_HOME",
                "RUSTUP_HOME",
                "TMPDIR",
            ]
            .iter()
            .filter_map(|k| std::env::var_os(k).map(|v| (*k, v))),
        )
        .env("BIN", bin.join("drill"))
        .env("WORK", &work)
        .env("EMPTY", &empty)
        .env("CHECKOUT", &checkout)
        .env("CACHE", &cache)
        .env("CACHE_SEEN", &cache_seen)
        .env("DRILL_CACHE", &cache_seen)
        .env("DRILL_RESULTS", tmp.path().join("results"))
        .output()
        .unwrap();
    let text = stdout(&out);
    let read = |name: &str| fs::read_to_string(work.join(name)).unwrap_or_default();
    let report = format!(
        "{}\n--- list\n{}--- start\n{}--- submit\n{}",
        both(&out),
        read("list.txt"),
        read("start.txt"),
        read("submit.txt")
    );
    assert!(out.status.success(), "{report}");
    assert_eq!(
        value(&text, "checkout-entries"),
        Some("0"),
        "the checkout is hidden: {report}"
    );

    assert_eq!(value(&text, "list-exit"), Some("0"), "{report}");
    let list = read("list.txt");
    assert!(
        list.contains("billing-ledger/retry-double-charge"),
        "{report}"
    );
    let unpacked = fs::canonicalize(&cache_seen).unwrap().join("catalogs");
    assert!(
        list.contains(&format!(
            "from the built-in catalog (revision built-in-{}; unpacked in {}",
            drillkit::embedded::CONTENT_HASH,
            unpacked.join(drillkit::embedded::CONTENT_HASH).display()
        )),
        "list says which catalog and revision: {report}"
    );

    assert_eq!(value(&text, "start-exit"), Some("0"), "{report}");
    let ws = value(&text, "workspace").map(Path::new).unwrap();
    assert!(ws.starts_with(&work), "{report}");
    assert!(ws.join("INCIDENT.md").is_file(), "{report}");

    // No fix was made: the verdict is a failed submit, judged by the built-in
    // catalog's acceptance suite.
    assert_eq!(value(&text, "submit-exit"), Some("1"), "{report}");
    assert!(read("submit.txt").contains("FAIL"), "{report}");

    // The attempt's private build folder (Rust) lives in the shared cache.
    for e in fs::read_dir(tmp.path().join("results")).unwrap().flatten() {
        if let Some(id) = e.path().file_stem() {
            let _ = fs::remove_dir_all(cache.join("private/attempts").join(id));
        }
    }
}
