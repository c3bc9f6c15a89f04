//! The results directory: one JSON file per attempt, written atomically.
//!
//! Layout (see `docs/results-format.md`):
//!
//! ```text
//! <results>/<attempt-id>.json     one attempt record (the only files that matter)
//! <results>/.locks/<id>.lock      per-attempt lock (local, never merged)
//! <results>/.<id>.json.<pid>.tmp  a write in progress (ignored by readers)
//! <results>/profiles/<name>.json  an engineer's profile (`drill profile`), written the same way
//! <results>/bench/<id>.json      one `drill bench <scenario>` result, written the same way
//! <results>/gamedays/<id>.json   one game-day record (`drill gameday`), written the same way
//! ```
//!
//! Every change rewrites the whole record: write a temporary file, fsync it,
//! rename it over the record, fsync the directory. A reader therefore sees the
//! old record or the new one, never a mix, whatever moment a `kill -9` or a
//! power cut strikes. Records are a few KiB, so rewriting costs nothing
//! measurable next to the commands that append to them.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::attempt::{Event, EventKind, Record, TransitionError};
use crate::clock::Timestamp;
use crate::profile::Profile;

/// Environment variable overriding the default results directory.
pub const RESULTS_ENV: &str = "DRILL_RESULTS";

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("no data directory on this system; pass --results DIR or set ${RESULTS_ENV}")]
    NoDataDir,
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("results directory {path} is not a directory; pass --results (or set ${RESULTS_ENV} to) a directory")]
    NotADirectory { path: PathBuf },
    #[error("no attempt {id} in {dir} (list them with `drill attempts`)")]
    NotFound { id: String, dir: PathBuf },
    #[error("attempt record {path} is damaged: {why}; move it aside or fix it, then run the command again")]
    Damaged { path: PathBuf, why: String },
    #[error(
        "attempt {id} is busy: another drill command ({holder}) is working on it; \
         try again when it finishes"
    )]
    Busy { id: String, holder: String },
    #[error("attempt {id} already exists in {dir}")]
    Exists { id: String, dir: PathBuf },
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ResultsError {
    let path = path.to_path_buf();
    move |source| ResultsError::Io {
        action,
        path,
        source,
    }
}

/// A record that could not be read, reported by path (never skipped silently).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Damaged {
    pub path: PathBuf,
    pub why: String,
}

/// What to do about a damaged record: said wherever one is reported.
pub const DAMAGED_ADVICE: &str = "move it aside or fix it";

/// Every record in a results directory.
#[derive(Debug, Default)]
pub struct Listing {
    /// Readable records, ordered by start time then id.
    pub records: Vec<(PathBuf, Record)>,
    pub damaged: Vec<Damaged>,
}

#[derive(Debug, Clone)]
pub struct ResultsDir {
    root: PathBuf,
}

impl ResultsDir {
    /// `--results DIR` if given, else `$DRILL_RESULTS`, else the user's data
    /// directory (`~/.local/share/drillkit/results` on Linux).
    pub fn resolve(flag: Option<&Path>) -> Result<Self, ResultsError> {
        if let Some(dir) = flag {
            return Ok(Self::at(dir));
        }
        if let Some(dir) = std::env::var_os(RESULTS_ENV).filter(|d| !d.is_empty()) {
            return Ok(Self::at(Path::new(&dir)));
        }
        let data = dirs::data_dir().ok_or(ResultsError::NoDataDir)?;
        Ok(Self::at(&data.join("drillkit").join("results")))
    }

    /// The directory at `root` (created on first write). A relative path is
    /// made absolute, so a workspace link stays valid from any directory.
    pub fn at(root: &Path) -> Self {
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        ResultsDir { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn record_path(&self, id: &str) -> PathBuf {
        self.root.join(format!("{id}.json"))
    }

    fn ensure(&self) -> Result<(), ResultsError> {
        if fs::metadata(&self.root).is_ok_and(|m| !m.is_dir()) {
            return Err(ResultsError::NotADirectory {
                path: self.root.clone(),
            });
        }
        fs::create_dir_all(self.root.join(".locks"))
            .map_err(io_err("creating the results directory", &self.root))
    }

    /// Creates the directory if needed and proves a record can be written
    /// there (a probe file, removed), so a command fails before its work,
    /// not after it.
    pub fn check_writable(&self) -> Result<(), ResultsError> {
        self.ensure()?;
        let probe = self.root.join(format!(".probe.{}.tmp", std::process::id()));
        File::create(&probe)
            .and_then(|f| f.sync_all())
            .map_err(io_err("writing in the results directory", &self.root))?;
        let _ = fs::remove_file(&probe);
        Ok(())
    }

    /// Takes the attempt's lock without waiting. `command` names the holder
    /// in the message another command gets while it is held.
    pub fn lock(&self, id: &str, command: &str) -> Result<AttemptLock, ResultsError> {
        self.ensure()?;
        let path = self.root.join(".locks").join(format!("{id}.lock"));
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err("opening the attempt lock", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&path)
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "unknown".to_string());
                return Err(ResultsError::Busy {
                    id: id.to_string(),
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io_err("locking", &path)(e)),
        }
        // Who holds it, for the message above; advisory only, so a failure
        // to write it is harmless.
        let _ = file.set_len(0);
        let _ = write!(file, "drill {command}, pid {}", std::process::id());
        Ok(AttemptLock {
            dir: self.clone(),
            id: id.to_string(),
            _file: file,
        })
    }

    /// Writes a new attempt's first record. The caller holds its lock.
    pub fn create(&self, lock: &AttemptLock, record: &Record) -> Result<(), ResultsError> {
        debug_assert_eq!(lock.id, record.attempt.id);
        let path = self.record_path(&record.attempt.id);
        if path.exists() {
            return Err(ResultsError::Exists {
                id: record.attempt.id.clone(),
                dir: self.root.clone(),
            });
        }
        self.write(&record.attempt.id, record)
    }

    /// Reads and validates one record.
    pub fn load(&self, id: &str) -> Result<Record, ResultsError> {
        let path = self.record_path(id);
        if !path.exists() {
            return Err(ResultsError::NotFound {
                id: id.to_string(),
                dir: self.root.clone(),
            });
        }
        read_record(&path)
    }

    /// Every record in the directory; damaged ones are listed, not dropped.
    pub fn list(&self) -> Result<Listing, ResultsError> {
        let mut listing = Listing::default();
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(listing),
            Err(e) => return Err(io_err("reading the results directory", &self.root)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(io_err("reading the results directory", &self.root))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            match read_record(&path) {
                Ok(record) => listing.records.push((path, record)),
                Err(ResultsError::Damaged { path, why }) => {
                    listing.damaged.push(Damaged { path, why })
                }
                Err(e) => listing.damaged.push(Damaged {
                    path,
                    why: e.to_string(),
                }),
            }
        }
        listing.records.sort_by(|a, b| {
            (a.1.events.first().map(|e| e.at), &a.1.attempt.id)
                .cmp(&(b.1.events.first().map(|e| e.at), &b.1.attempt.id))
        });
        listing.damaged.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(listing)
    }

    /// Replaces the record atomically: temp file, fsync, rename, fsync dir.
    fn write(&self, id: &str, record: &Record) -> Result<(), ResultsError> {
        self.ensure()?;
        let mut bytes = serde_json::to_vec_pretty(record).expect("records always serialize");
        bytes.push(b'\n');
        write_atomic(&self.root, &format!("{id}.json"), &bytes)
    }

    /// Removes temporary files a killed writer of `id` left behind.
    fn sweep_temp(&self, id: &str) {
        sweep_temp(&self.root, &format!("{id}.json"));
    }

    /// Where `engineer`'s profile lives: `profiles/<slug>-<hash>.json`, the
    /// hash (SHA-256 of the exact name, 8 hex digits) telling apart names
    /// with the same slug.
    pub fn profile_path(&self, engineer: &str) -> PathBuf {
        use sha2::{Digest, Sha256};
        let hash = Sha256::digest(engineer.as_bytes());
        let hex: String = hash[..4].iter().map(|b| format!("{b:02x}")).collect();
        self.root
            .join(PROFILES_DIR)
            .join(format!("{}-{hex}.json", crate::util::slug(engineer, 24)))
    }

    /// `engineer`'s profile, `None` when they have not recorded one.
    pub fn load_profile(&self, engineer: &str) -> Result<Option<Profile>, ResultsError> {
        let path = self.profile_path(engineer);
        if !path.exists() {
            return Ok(None);
        }
        let p = read_profile(&path)?;
        if p.engineer != engineer {
            return Err(ResultsError::Damaged {
                path,
                why: format!("it is the profile of {:?}, not {engineer:?}", p.engineer),
            });
        }
        Ok(Some(p))
    }

    /// Writes a profile atomically (as records are: nothing half-written
    /// survives a kill), under a lock so two commands changing the same
    /// profile do not lose either change.
    pub fn save_profile(&self, profile: &Profile) -> Result<PathBuf, ResultsError> {
        let path = self.profile_path(&profile.engineer);
        let dir = self.root.join(PROFILES_DIR);
        fs::create_dir_all(&dir).map_err(io_err("creating the profiles directory", &dir))?;
        let name = path
            .file_name()
            .expect("a profile path has a file name")
            .to_string_lossy()
            .into_owned();
        sweep_temp(&dir, &name);
        let mut bytes = serde_json::to_vec_pretty(profile).expect("profiles always serialize");
        bytes.push(b'\n');
        write_atomic(&dir, &name, &bytes)?;
        Ok(path)
    }

    /// Holds the lock of `engineer`'s profile (read, change, write under it).
    pub fn lock_profile(&self, engineer: &str) -> Result<AttemptLock, ResultsError> {
        let stem = self.profile_path(engineer);
        let stem = stem.file_stem().expect("a file name").to_string_lossy();
        self.lock(&format!("profile-{stem}"), "profile")
    }

    /// Every profile in the directory, by engineer; damaged ones listed.
    pub fn profiles(&self) -> Result<(Vec<Profile>, Vec<Damaged>), ResultsError> {
        let dir = self.root.join(PROFILES_DIR);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Default::default()),
            Err(e) => return Err(io_err("reading the profiles directory", &dir)(e)),
        };
        let (mut good, mut damaged) = (Vec::new(), Vec::new());
        for entry in entries {
            let path = entry
                .map_err(io_err("reading the profiles directory", &dir))?
                .path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if name.is_none_or(|n| n.starts_with('.') || !n.ends_with(".json")) {
                continue;
            }
            match read_profile(&path) {
                Ok(p) if self.profile_path(&p.engineer) == path => good.push(p),
                Ok(p) => damaged.push(Damaged {
                    why: format!(
                        "the profile of {:?} under another engineer's file name",
                        p.engineer
                    ),
                    path,
                }),
                Err(e) => damaged.push(Damaged {
                    path,
                    why: e.to_string(),
                }),
            }
        }
        good.sort_by(|a, b| a.engineer.cmp(&b.engineer));
        damaged.sort_by(|a, b| a.path.cmp(&b.path));
        Ok((good, damaged))
    }
}

/// The folder of the results directory holding the engineers' profiles.
pub const PROFILES_DIR: &str = "profiles";
/// Bench results (`drill bench <scenario>`): `<results>/bench/<id>.json`.
pub const BENCH_DIR: &str = "bench";

impl ResultsDir {
    /// Writes one bench result atomically as `<results>/bench/<id>.json`.
    pub fn save_bench(&self, id: &str, bytes: &[u8]) -> Result<PathBuf, ResultsError> {
        let dir = self.root.join(BENCH_DIR);
        fs::create_dir_all(&dir).map_err(io_err("creating the bench results directory", &dir))?;
        let name = format!("{id}.json");
        sweep_temp(&dir, &name);
        write_atomic(&dir, &name, bytes)?;
        Ok(dir.join(name))
    }
}

/// Game-day records (`drill gameday`): `<results>/gamedays/<id>.json`.
pub const GAMEDAYS_DIR: &str = "gamedays";

impl ResultsDir {
    pub fn gameday_path(&self, id: &str) -> PathBuf {
        self.root.join(GAMEDAYS_DIR).join(format!("{id}.json"))
    }

    /// Every closed SLI window of game day `id`, one JSON line each
    /// (`<results>/gamedays/<id>.sli.jsonl`): kept with the record, so the
    /// debrief and the statistics need nothing from the game day's folder.
    pub fn gameday_sli_path(&self, id: &str) -> PathBuf {
        self.root.join(GAMEDAYS_DIR).join(format!("{id}.sli.jsonl"))
    }

    /// Writes one game-day record atomically. The caller holds the game
    /// day's lock (`lock("gameday-<id>", ..)`) across its read and this write.
    pub fn save_gameday(&self, id: &str, bytes: &[u8]) -> Result<PathBuf, ResultsError> {
        self.ensure()?;
        let dir = self.root.join(GAMEDAYS_DIR);
        fs::create_dir_all(&dir).map_err(io_err("creating the game-day directory", &dir))?;
        let name = format!("{id}.json");
        sweep_temp(&dir, &name);
        write_atomic(&dir, &name, bytes)?;
        Ok(dir.join(name))
    }
}

fn read_profile(path: &Path) -> Result<Profile, ResultsError> {
    let bytes = fs::read(path).map_err(io_err("reading", path))?;
    let damaged = |why: String| ResultsError::Damaged {
        path: path.to_path_buf(),
        why,
    };
    let p: Profile = serde_json::from_slice(&bytes).map_err(|e| damaged(e.to_string()))?;
    p.validate().map_err(damaged)?;
    Ok(p)
}

/// Replaces `dir/name` atomically: `.<name>.<pid>.tmp`, fsync, rename over
/// it, fsync the directory. A reader sees the old file or the new one.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), ResultsError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp).map_err(io_err("creating", &tmp))?;
        f.write_all(bytes).map_err(io_err("writing", &tmp))?;
        f.sync_all().map_err(io_err("syncing", &tmp))?;
        drop(f);
        fs::rename(&tmp, &path).map_err(io_err("renaming into place", &path))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Removes temporary files a killed writer of `dir/name` left behind.
fn sweep_temp(dir: &Path, name: &str) {
    let prefix = format!(".{name}.");
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let entry_name = entry.file_name();
            let entry_name = entry_name.to_string_lossy();
            if entry_name.starts_with(&prefix) && entry_name.ends_with(".tmp") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

fn sync_dir(dir: &Path) -> Result<(), ResultsError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("syncing the directory", dir))
}

/// Reads and validates the record at `path` (also used by `stats::dataset`,
/// which streams a directory instead of holding every record).
pub fn read_record(path: &Path) -> Result<Record, ResultsError> {
    let bytes = fs::read(path).map_err(io_err("reading", path))?;
    let damaged = |why: String| ResultsError::Damaged {
        path: path.to_path_buf(),
        why,
    };
    let record: Record = serde_json::from_slice(&bytes).map_err(|e| damaged(e.to_string()))?;
    record.validate().map_err(damaged)?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    if stem.as_deref() != Some(record.attempt.id.as_str()) {
        return Err(damaged(format!(
            "file name does not match attempt.id {:?}",
            record.attempt.id
        )));
    }
    Ok(record)
}

/// Exclusive access to one attempt for as long as it lives; the OS releases
/// it if the process dies, so a `kill -9` never leaves an attempt locked.
#[derive(Debug)]
pub struct AttemptLock {
    dir: ResultsDir,
    id: String,
    _file: File,
}

impl AttemptLock {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Reads the record as it is now (under the lock, so it cannot change
    /// behind the caller's back).
    pub fn load(&self) -> Result<Record, ResultsError> {
        self.dir.load(&self.id)
    }

    /// Appends events in one atomic write: all of them land or none does
    /// (a passing `submit` and its `fixed` are never separated).
    pub fn append(
        &self,
        kinds: Vec<EventKind>,
        at: Timestamp,
    ) -> Result<(Record, Vec<Event>), ResultsError> {
        let mut record = self.load()?;
        let mut added = Vec::new();
        for kind in kinds {
            added.push(record.push(kind, at)?.clone());
        }
        self.dir.sweep_temp(&self.id);
        self.dir.write(&self.id, &record)?;
        Ok((record, added))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attempt::{Header, State, Verdict};
    use crate::clock::{Clock, TestClock};
    use std::collections::BTreeMap;

    fn record(id: &str, clock: &TestClock) -> Record {
        let header = Header {
            id: id.into(),
            drill: "billing-ledger/double-charge".into(),
            title: "t".into(),
            class: "retry-idempotency".into(),
            difficulty: 2,
            language: "rust".into(),
            blind: false,
            repeat: false,
            prevented_in: None,
            engineer: "ada".into(),
            toolchains: BTreeMap::new(),
            kit_version: "0.1.0".into(),
            catalog_revision: "unknown".into(),
            catalog: None,
            workspace: "/tmp/ws".into(),
            hints_available: 2,
            test_clock: true,
            experience: None,
            test_first: false,
        };
        Record::new(header, clock.now())
    }

    fn setup() -> (tempfile::TempDir, ResultsDir, TestClock) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ResultsDir::at(&tmp.path().join("results"));
        let clock = TestClock::at("2025-01-01T00:00:00Z".parse().unwrap());
        (tmp, dir, clock)
    }

    #[test]
    fn appended_events_survive_a_reload() {
        let (_tmp, dir, clock) = setup();
        let lock = dir.lock("a1", "start").unwrap();
        dir.create(&lock, &record("a1", &clock)).unwrap();
        clock.advance_secs(60);
        let submit = EventKind::Submit {
            verdict: Verdict::Pass,
            reasons: vec![],
            verification_ms: 3000,
            build_ms: None,
            test_files_changed: vec![],
        };
        lock.append(vec![submit, EventKind::Fixed], clock.now())
            .unwrap();
        drop(lock);
        let back = dir.load("a1").unwrap();
        assert_eq!(back.events.len(), 3);
        assert_eq!(back.state(), State::Fixed);
        assert_eq!(back.summary(clock.now()).active_ms, 57_000);
    }

    #[test]
    fn a_refused_event_leaves_the_record_untouched() {
        let (_tmp, dir, clock) = setup();
        let lock = dir.lock("a1", "start").unwrap();
        dir.create(&lock, &record("a1", &clock)).unwrap();
        let before = fs::read(dir.record_path("a1")).unwrap();
        let err = lock.append(vec![EventKind::Resume], clock.now());
        assert!(matches!(err, Err(ResultsError::Transition(_))));
        assert_eq!(fs::read(dir.record_path("a1")).unwrap(), before);
    }

    #[test]
    fn a_second_command_on_a_locked_attempt_is_refused_clearly() {
        let (_tmp, dir, _clock) = setup();
        let _held = dir.lock("a1", "submit").unwrap();
        let err = dir.lock("a1", "pause").unwrap_err().to_string();
        assert!(err.contains("busy"), "{err}");
        assert!(err.contains("drill submit, pid"), "{err}");
        // Other attempts are not affected.
        dir.lock("a2", "pause").unwrap();
    }

    #[test]
    fn the_lock_is_released_when_dropped() {
        let (_tmp, dir, _clock) = setup();
        drop(dir.lock("a1", "submit").unwrap());
        dir.lock("a1", "pause").unwrap();
    }

    #[test]
    fn damaged_records_are_reported_by_path_and_others_still_listed() {
        let (_tmp, dir, clock) = setup();
        for id in ["a1", "a2"] {
            let lock = dir.lock(id, "start").unwrap();
            dir.create(&lock, &record(id, &clock)).unwrap();
        }
        let torn = dir.record_path("a2");
        let bytes = fs::read(&torn).unwrap();
        fs::write(&torn, &bytes[..bytes.len() / 2]).unwrap();
        fs::write(dir.root().join("stray.json"), b"{}").unwrap();
        // Temp files of a killed writer and lock files are not records.
        fs::write(dir.root().join(".a1.json.123.tmp"), b"{").unwrap();
        let listing = dir.list().unwrap();
        assert_eq!(listing.records.len(), 1);
        assert_eq!(listing.records[0].1.attempt.id, "a1");
        let damaged: Vec<_> = listing.damaged.iter().map(|d| d.path.clone()).collect();
        assert_eq!(damaged, vec![torn, dir.root().join("stray.json")]);
        assert!(matches!(dir.load("a2"), Err(ResultsError::Damaged { .. })));
    }

    #[test]
    fn a_record_renamed_to_another_id_is_damaged() {
        let (_tmp, dir, clock) = setup();
        let lock = dir.lock("a1", "start").unwrap();
        dir.create(&lock, &record("a1", &clock)).unwrap();
        fs::copy(dir.record_path("a1"), dir.record_path("b1")).unwrap();
        let err = dir.load("b1").unwrap_err().to_string();
        assert!(err.contains("does not match"), "{err}");
    }

    #[test]
    fn missing_directory_lists_nothing_and_unknown_id_says_where_it_looked() {
        let (_tmp, dir, _clock) = setup();
        assert!(dir.list().unwrap().records.is_empty());
        let err = dir.load("nope").unwrap_err().to_string();
        assert!(err.contains("drill attempts"), "{err}");
    }

    #[test]
    fn stale_temp_files_are_swept_on_the_next_append() {
        let (_tmp, dir, clock) = setup();
        let lock = dir.lock("a1", "start").unwrap();
        dir.create(&lock, &record("a1", &clock)).unwrap();
        let stale = dir.root().join(".a1.json.999999.tmp");
        fs::write(&stale, b"{").unwrap();
        lock.append(vec![EventKind::Pause], clock.now()).unwrap();
        assert!(!stale.exists());
    }
}
