//! The kit's temporary directories ("scratch"): a built binary with its
//! copy, a bugged tree being prepared, the Go toolchain's own temp files.
//!
//! All of them live in one folder, `$TMPDIR/drillkit-<uid>/`, named
//! `<kind>-<pid>-<random>`, and each holds a lock file its owner keeps locked
//! for as long as it lives. A [`Scratch`] is removed when dropped — on
//! success, on error, and on Ctrl-C or SIGTERM, which the commands turn into
//! a normal return (see [`crate::process::Interrupts`]). A `kill -9` runs no
//! destructor; what it leaves is recognised by [`sweep`], which the next
//! command runs: a directory whose lock nobody holds and whose process is
//! gone (or only a zombie) is removed. Both must hold: the lock keeps a live
//! owner's directory even when its pid is not visible here (another user or
//! container), and a recycled pid only puts the removal off to a later sweep.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

const OWNER_LOCK: &str = ".owner.lock";

/// Where every scratch directory lives.
pub fn root() -> PathBuf {
    // SAFETY: getuid cannot fail and has no preconditions.
    let uid = unsafe { libc::getuid() };
    std::env::temp_dir().join(format!("drillkit-{uid}"))
}

/// A temporary directory, removed when dropped.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
    _lock: File,
}

impl Scratch {
    /// A new, empty directory `<root>/<kind>-<pid>-<random>`.
    pub fn new(kind: &str) -> io::Result<Scratch> {
        Scratch::new_in(&root(), kind)
    }

    pub fn new_in(root: &Path, kind: &str) -> io::Result<Scratch> {
        fs::create_dir_all(root)?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{kind}-{}-", std::process::id()))
            .rand_bytes(6)
            .tempdir_in(root)?
            .keep();
        let lock = File::create(dir.join(OWNER_LOCK)).and_then(|f| f.lock().map(|_| f));
        match lock {
            Ok(lock) => Ok(Scratch {
                path: dir,
                _lock: lock,
            }),
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// What a sweep found and removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub dirs: usize,
    pub bytes: u64,
}

/// The pid in `<kind>-<pid>-<random>`.
fn owner_pid(name: &str) -> Option<i32> {
    let mut parts = name.rsplitn(3, '-');
    let _random = parts.next()?;
    parts.next()?.parse().ok()
}

/// True when no process with this pid runs (as far as this process can see):
/// none exists, or only its zombie does. A `kill -9`ed command whose parent
/// has gone stays a zombie until PID 1 reaps it, which some container inits
/// do late; a zombie holds no file and never writes again.
pub fn pid_gone(pid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    if r != 0 {
        return io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    is_zombie(pid)
}

/// True when `/proc` says `pid` is a zombie (state `Z`). The state follows
/// the command name's closing parenthesis (a name may hold spaces and `)`).
fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// True when `dir` is a scratch folder whose owner lock is free (or
/// missing) and whose process is gone: what a `kill -9` left.
pub fn is_abandoned(dir: &Path) -> bool {
    let Some(pid) = dir.file_name().and_then(|n| n.to_str()).and_then(owner_pid) else {
        return false; // not one of ours
    };
    if pid == std::process::id() as i32 {
        return false;
    }
    let lock_free = match OpenOptions::new().read(true).open(dir.join(OWNER_LOCK)) {
        Ok(f) => match f.try_lock() {
            Ok(()) => true,
            Err(TryLockError::WouldBlock) => false,
            Err(TryLockError::Error(_)) => false,
        },
        Err(e) => e.kind() == io::ErrorKind::NotFound,
    };
    lock_free && pid_gone(pid)
}

/// Removes the scratch directories of processes that died without
/// cleaning up (kill -9). `dry_run` only counts them.
pub fn sweep(dry_run: bool) -> Swept {
    sweep_in(&root(), dry_run)
}

pub fn sweep_in(root: &Path, dry_run: bool) -> Swept {
    let mut swept = Swept::default();
    let Ok(entries) = fs::read_dir(root) else {
        return swept;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_dir()) || !is_abandoned(&path) {
            continue;
        }
        let bytes = disk_usage(&path);
        if dry_run || fs::remove_dir_all(&path).is_ok() {
            swept.dirs += 1;
            swept.bytes += bytes;
        }
    }
    swept
}

/// Bytes under `path` (files only, links not followed).
pub fn disk_usage(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| disk_usage(&e.path()))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_dir_goes_when_dropped_and_a_dead_owners_is_swept() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Scratch::new_in(tmp.path(), "bin").unwrap();
        let kept = s.path().to_path_buf();
        fs::write(kept.join("x"), "12345").unwrap();
        // A live owner's directory is never swept.
        assert_eq!(sweep_in(tmp.path(), false), Swept::default());
        assert!(kept.exists());
        drop(s);
        assert!(!kept.exists());

        // What a kill -9 leaves: a directory of a pid that no longer runs.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let left = tmp.path().join(format!("bin-{dead}-abcdef"));
        fs::create_dir_all(&left).unwrap();
        File::create(left.join(OWNER_LOCK)).unwrap();
        fs::write(left.join("binary"), vec![0u8; 1000]).unwrap();
        // Not ours: never touched.
        let foreign = tmp.path().join("something-else");
        fs::create_dir_all(&foreign).unwrap();
        assert_eq!(
            sweep_in(tmp.path(), true),
            Swept {
                dirs: 1,
                bytes: 1000
            }
        );
        assert!(left.exists(), "a dry run removes nothing");
        assert_eq!(sweep_in(tmp.path(), false).dirs, 1);
        assert!(!left.exists());
        assert!(foreign.exists());
    }

    #[test]
    fn a_zombie_owner_counts_as_gone() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        assert!(!pid_gone(std::process::id() as i32), "this process runs");
        // Wait for the exit without reaping it: the child stays a zombie.
        // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waits on our own child; WNOWAIT leaves it unreaped.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        assert_eq!(r, 0, "waitid: {}", io::Error::last_os_error());
        assert!(is_zombie(pid), "the exited, unreaped child is a zombie");
        assert!(pid_gone(pid), "a zombie owner is gone");

        let tmp = tempfile::tempdir().unwrap();
        let left = tmp.path().join(format!("submit-{pid}-abcdef"));
        fs::create_dir_all(&left).unwrap();
        File::create(left.join(OWNER_LOCK)).unwrap();
        assert_eq!(
            sweep_in(tmp.path(), false).dirs,
            1,
            "a zombie's folder is swept"
        );
        child.wait().unwrap();
    }
}
