//! `drill clean`: what the kit's cache and scratch space hold, and freeing
//! what no open attempt needs.
//!
//! The cache (`DRILL_CACHE`, see `builder::Cache`) holds, per scenario: the
//! shared Cargo target directory (compiled dependencies, the reason a start
//! is fast), the fixed build staging copies, the submit copies and their
//! private target directories, and one private target directory per Rust
//! attempt. Scratch (`scratch.rs`) holds the temporary folders of running
//! commands and what a `kill -9` left.
//!
//! Freed: scratch folders of dead processes; private build folders of
//! attempts that have ended (or whose record is nowhere to be found and that
//! nobody has touched for [`UNKNOWN_AFTER`]); build staging and submit copies
//! (rebuilt on the next build), each only while its lock is free. Kept unless
//! `all`: the shared target directories. Sizes count a hard-linked file once,
//! under what is kept, so "freed" is what the disk gets back.

use std::collections::HashSet;
use std::fs::{self, File, TryLockError};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::builder::Cache;
use crate::results::ResultsDir;

/// A private build folder whose attempt cannot be found is freed once
/// nothing in it changed for this long.
pub const UNKNOWN_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// Written into each attempt's private build folder: whose it is.
pub const OWNER_FILE: &str = "drillkit-owner.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Owner {
    pub attempt: String,
    pub results: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub what: String,
    pub path: PathBuf,
    pub bytes: u64,
    /// `None`: freed (or, in a dry run, to be freed); `Some(why)`: kept.
    pub kept: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub items: Vec<Item>,
    pub dry_run: bool,
}

impl Report {
    pub fn freed_bytes(&self) -> u64 {
        self.items
            .iter()
            .filter(|i| i.kept.is_none())
            .map(|i| i.bytes)
            .sum()
    }

    pub fn kept_bytes(&self) -> u64 {
        self.items
            .iter()
            .filter(|i| i.kept.is_some())
            .map(|i| i.bytes)
            .sum()
    }
}

/// Bytes of the files under `path` not yet in `seen` (by device and inode).
fn usage(path: &Path, seen: &mut HashSet<(u64, u64)>) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        return fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| usage(&e.path(), seen))
            .sum();
    }
    if seen.insert((meta.dev(), meta.ino())) {
        meta.len()
    } else {
        0
    }
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// Runs `f` while holding `lock` (try-lock); `None` when someone holds it.
fn with_lock<T>(lock: &Path, f: impl FnOnce() -> T) -> Option<T> {
    let file = match File::open(lock) {
        Ok(f) => f,
        // No lock file: nobody has ever locked it.
        Err(_) => return Some(f()),
    };
    match file.try_lock() {
        Ok(()) => Some(f()),
        Err(TryLockError::WouldBlock) | Err(TryLockError::Error(_)) => None,
    }
}

fn newest_change(path: &Path) -> SystemTime {
    let own = fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH);
    subdirs(path)
        .iter()
        .map(|d| newest_change(d))
        .fold(own, SystemTime::max)
}

/// Whether attempt `id`'s private build folder is still needed, and why.
fn attempt_needs(dir: &Path, id: &str) -> Option<String> {
    let owner: Option<Owner> = fs::read(dir.join(OWNER_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let results = match &owner {
        Some(o) => ResultsDir::at(&o.results),
        None => match ResultsDir::resolve(None) {
            Ok(r) => r,
            Err(_) => return Some("its results directory is unknown".into()),
        },
    };
    match results.load(id) {
        Ok(record) if !record.state().is_ended() => Some(format!("attempt {id} is open")),
        Ok(_) => None,
        Err(crate::results::ResultsError::NotFound { .. }) => {
            let idle = SystemTime::now()
                .duration_since(newest_change(dir))
                .unwrap_or_default();
            (idle < UNKNOWN_AFTER).then(|| {
                format!(
                    "no record of attempt {id} in {}; freed once unused for 7 days",
                    results.root().display()
                )
            })
        }
        // A damaged or unreadable record: never guess, keep.
        Err(e) => Some(format!("its record cannot be read ({e})")),
    }
}

/// Marks attempt `attempt`'s private build folder `dir` as its own, so
/// `clean` can tell whether the attempt has ended (best effort).
pub fn write_owner(dir: &Path, attempt: &str, results: &Path) {
    let owner = Owner {
        attempt: attempt.to_string(),
        results: results.to_path_buf(),
    };
    if fs::create_dir_all(dir).is_ok() {
        let _ = fs::write(
            dir.join(OWNER_FILE),
            serde_json::to_vec_pretty(&owner).expect("owners serialize"),
        );
    }
}

/// Inventories the cache and scratch space and frees what is not needed
/// (nothing when `dry_run`). `all` frees the shared target directories too.
pub fn clean(cache: &Cache, dry_run: bool, all: bool) -> Report {
    let mut report = Report {
        dry_run,
        ..Report::default()
    };
    let mut seen = HashSet::new();
    let mut freeable: Vec<(String, PathBuf, Option<PathBuf>)> = Vec::new();

    // Kept first, so files hard-linked from a kept folder count there.
    let mut keep = |what: &str, path: PathBuf, why: String, seen: &mut HashSet<(u64, u64)>| {
        let bytes = usage(&path, seen);
        report.items.push(Item {
            what: what.into(),
            path,
            bytes,
            kept: Some(why),
        });
    };
    for dir in subdirs(&cache.root.join("cargo-target")) {
        if all {
            freeable.push(("shared build cache".into(), dir, None));
        } else {
            keep(
                "shared build cache",
                dir,
                "compiled dependencies that make starts fast (--all frees them)".into(),
                &mut seen,
            );
        }
    }
    for dir in subdirs(&cache.root.join("private/attempts")) {
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match attempt_needs(&dir, &id) {
            Some(why) => keep("attempt build folder", dir, why, &mut seen),
            None => freeable.push(("attempt build folder".into(), dir, None)),
        }
    }
    for scenario in subdirs(&cache.root.join("build")) {
        for lang_dir in subdirs(&scenario) {
            let name = format!(
                "{}-{}.lock",
                scenario.file_name().unwrap_or_default().to_string_lossy(),
                lang_dir.file_name().unwrap_or_default().to_string_lossy()
            );
            freeable.push((
                "build staging copy".into(),
                lang_dir,
                Some(cache.root.join("locks").join(name)),
            ));
        }
    }
    for scenario in subdirs(&cache.root.join("verify")) {
        for lang_dir in subdirs(&scenario) {
            let lang = lang_dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let lock = scenario.join(format!("{lang}.lock"));
            let private = cache.root.join("private/verify").join(format!(
                "{}-{lang}",
                scenario.file_name().unwrap_or_default().to_string_lossy()
            ));
            freeable.push(("submit copy".into(), lang_dir, Some(lock.clone())));
            if private.exists() {
                freeable.push(("submit build folder".into(), private, Some(lock)));
            }
        }
    }
    for dir in subdirs(&crate::scratch::root()) {
        freeable.push(("scratch folder".into(), dir, None));
    }

    for (what, path, lock) in freeable {
        if what == "scratch folder" {
            // Only those of dead processes; a live one belongs to a running command.
            if !crate::scratch::is_abandoned(&path) {
                let bytes = usage(&path, &mut seen);
                report.items.push(Item {
                    what,
                    path,
                    bytes,
                    kept: Some("a running drill command uses it".into()),
                });
                continue;
            }
        }
        let bytes = usage(&path, &mut seen);
        let freed = match &lock {
            Some(lock) => with_lock(lock, || dry_run || fs::remove_dir_all(&path).is_ok()),
            None => Some(dry_run || fs::remove_dir_all(&path).is_ok()),
        };
        let kept = match freed {
            Some(true) => None,
            Some(false) => Some("could not be removed".to_string()),
            None => Some("a build or submit is using it".to_string()),
        };
        report.items.push(Item {
            what,
            path,
            bytes,
            kept,
        });
    }
    report
}

/// What `drill clean` prints: each folder, its size and what happened.
pub fn render(report: &Report) -> String {
    let mut rows = vec![vec![
        "".to_string(),
        "what".into(),
        "size".into(),
        "path".into(),
        "why kept".into(),
    ]];
    for item in &report.items {
        let mark = match (&item.kept, report.dry_run) {
            (Some(_), _) => "kept",
            (None, true) => "would free",
            (None, false) => "freed",
        };
        rows.push(vec![
            mark.to_string(),
            item.what.clone(),
            human_bytes(item.bytes),
            item.path.display().to_string(),
            item.kept.clone().unwrap_or_default(),
        ]);
    }
    let mut out = String::new();
    if report.items.is_empty() {
        out.push_str("Nothing in the cache or the scratch space.\n");
        return out;
    }
    out.push_str(&crate::console::table(&rows));
    let freed = report.items.iter().filter(|i| i.kept.is_none()).count();
    out.push_str(&format!(
        "\n{} {} ({freed} folder(s)); kept {}\n",
        if report.dry_run {
            "would free"
        } else {
            "freed"
        },
        human_bytes(report.freed_bytes()),
        human_bytes(report.kept_bytes()),
    ));
    out
}

/// `1.2 GB`, `340 MB`, `12 KB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ended_attempts_and_idle_copies_are_freed_open_ones_and_shared_caches_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache {
            root: tmp.path().join("cache"),
        };
        let results = ResultsDir::at(&tmp.path().join("results"));
        let write = |p: PathBuf, n: usize| {
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, vec![b'x'; n]).unwrap();
        };
        write(cache.target_dir("s").join("debug/libdep.rlib"), 1000);
        // A private folder hard-linked to the shared cache, plus its own file.
        let open = cache.root.join("private/attempts/open-1");
        let ended = cache.root.join("private/attempts/ended-1");
        for (dir, id) in [(&open, "open-1"), (&ended, "ended-1")] {
            fs::create_dir_all(dir.join("debug")).unwrap();
            fs::hard_link(
                cache.target_dir("s").join("debug/libdep.rlib"),
                dir.join("debug/libdep.rlib"),
            )
            .unwrap();
            write(dir.join("debug/own"), 100);
            let owner = Owner {
                attempt: id.into(),
                results: results.root().to_path_buf(),
            };
            fs::write(dir.join(OWNER_FILE), serde_json::to_vec(&owner).unwrap()).unwrap();
            write_record(&results, id, id == "ended-1");
        }
        write(cache.root.join("build/s/go/main.go"), 50);

        let dry = clean(&cache, true, false);
        assert!(ended.exists(), "a dry run frees nothing");
        let find = |r: &Report, p: &Path| r.items.iter().find(|i| i.path == p).cloned().unwrap();
        assert!(find(&dry, &open)
            .kept
            .as_deref()
            .unwrap()
            .contains("open-1 is open"));
        assert_eq!(find(&dry, &ended).kept, None);
        // The linked dependency counts under the shared cache, not as freed.
        let owner_len = fs::metadata(ended.join(OWNER_FILE)).unwrap().len();
        assert_eq!(find(&dry, &ended).bytes, 100 + owner_len);

        let done = clean(&cache, false, false);
        assert_eq!(done.freed_bytes(), dry.freed_bytes());
        assert!(!ended.exists() && open.exists());
        assert!(!cache.root.join("build/s/go").exists());
        assert!(cache.target_dir("s").join("debug/libdep.rlib").exists());
    }

    fn write_record(results: &ResultsDir, id: &str, ended: bool) {
        use crate::attempt::{EventKind, Header, Record};
        use crate::clock::Timestamp;
        let header = Header {
            id: id.into(),
            drill: "s/b".into(),
            title: "t".into(),
            class: "lost-update".into(),
            difficulty: 1,
            language: "rust".into(),
            blind: false,
            repeat: false,
            prevented_in: None,
            engineer: "ada".into(),
            toolchains: Default::default(),
            kit_version: "0".into(),
            catalog_revision: "unknown".into(),
            catalog: None,
            workspace: "/nowhere".into(),
            hints_available: 2,
            test_clock: true,
            experience: None,
            test_first: false,
        };
        let at: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
        let lock = results.lock(id, "test").unwrap();
        results.create(&lock, &Record::new(header, at)).unwrap();
        if ended {
            lock.append(vec![EventKind::Abandon], at.plus_ms(1000))
                .unwrap();
        }
    }
}
