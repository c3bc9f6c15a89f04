//! The catalog built into the binary (see `build.rs`): the default catalog
//! of an installed `drill`, so it works on a machine that never had the
//! source checkout. It is unpacked once into the cache directory
//! (`<cache>/catalogs/<content hash>/`) and loaded from there like any other.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One file of the embedded catalog.
pub struct File {
    /// Relative to the catalog's root, `/`-separated.
    pub path: &'static str,
    pub executable: bool,
    pub bytes: &'static [u8],
}

mod generated {
    use super::File;
    include!(concat!(env!("OUT_DIR"), "/embedded_catalog.rs"));
}

pub use generated::{CONTENT_HASH, FILES};

/// A file in an unpacked catalog's root that says which revision it is.
pub const MARKER: &str = ".drillkit-catalog";

#[derive(Debug, thiserror::Error)]
#[error("unpacking the kit's built-in catalog into {path}: {source}; set DRILL_CACHE to a writable directory, or pass --catalog DIR")]
pub struct UnpackError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// The revision recorded in attempts started from the built-in catalog.
pub fn revision() -> String {
    format!("built-in-{CONTENT_HASH}")
}

/// The unpacked catalog under `cache_root`, unpacking it first if needed.
/// Safe against concurrent first uses: each unpacks into its own temporary
/// directory and renames it into place; the first rename wins.
pub fn unpack(cache_root: &Path) -> Result<PathBuf, UnpackError> {
    let parent = cache_root.join("catalogs");
    let dest = parent.join(CONTENT_HASH);
    if dest.join(MARKER).is_file() {
        return Ok(dest);
    }
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| UnpackError { path, source }
    };
    fs::create_dir_all(&parent).map_err(err(&parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".unpacking-{CONTENT_HASH}-"))
        .tempdir_in(&parent)
        .map_err(err(&parent))?;
    for f in FILES {
        let path = tmp.path().join(f.path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(err(dir))?;
        }
        fs::write(&path, f.bytes).map_err(err(&path))?;
        if f.executable {
            set_executable(&path).map_err(err(&path))?;
        }
    }
    // Last, so a catalog with its marker is always complete.
    fs::write(tmp.path().join(MARKER), format!("{}\n", revision())).map_err(err(tmp.path()))?;
    let staged = tmp.keep();
    match fs::rename(&staged, &dest) {
        Ok(()) => Ok(dest),
        // Another `drill` got there first (or a half-made one from before is in the way).
        Err(_) if dest.join(MARKER).is_file() => {
            let _ = fs::remove_dir_all(&staged);
            Ok(dest)
        }
        Err(_) => {
            let _ = fs::remove_dir_all(&dest);
            let renamed = fs::rename(&staged, &dest);
            if renamed.is_err() {
                let _ = fs::remove_dir_all(&staged);
            }
            renamed.map(|()| dest.clone()).map_err(err(&dest))
        }
    }
}

/// The revision an unpacked built-in catalog at `root` says it is.
pub fn revision_at(root: &Path) -> Option<String> {
    let text = fs::read_to_string(root.join(MARKER)).ok()?;
    Some(text.trim().to_string()).filter(|r| !r.is_empty())
}

#[cfg(unix)]
fn set_executable(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = fs::metadata(path)?.permissions();
    perms.set_mode(perms.mode() | 0o111);
    fs::set_permissions(path, perms)
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_catalog_holds_scenarios_and_drills_and_no_build_output() {
        assert!(FILES.iter().any(|f| f.path.ends_with("/scenario.toml")));
        assert!(FILES.iter().any(|f| f.path.ends_with("/drill.toml")));
        assert!(FILES
            .iter()
            .all(|f| f.path.starts_with("scenarios/") || f.path.starts_with("drills/")));
        assert!(
            FILES
                .iter()
                .all(|f| !f.path.split('/').any(|c| c == "target")),
            "no target/ directory is embedded"
        );
    }

    #[test]
    fn unpacking_twice_reuses_the_first_copy() {
        let cache = tempfile::tempdir().unwrap();
        let first = unpack(cache.path()).unwrap();
        let marker = first.join(MARKER);
        assert_eq!(revision_at(&first), Some(revision()));
        let before = fs::metadata(&marker).unwrap().modified().unwrap();
        let again = unpack(cache.path()).unwrap();
        assert_eq!(first, again);
        assert_eq!(fs::metadata(&marker).unwrap().modified().unwrap(), before);
        for f in FILES {
            assert_eq!(fs::read(first.join(f.path)).unwrap(), f.bytes, "{}", f.path);
        }
        let leftovers: Vec<_> = fs::read_dir(cache.path().join("catalogs"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, [std::ffi::OsString::from(CONTENT_HASH)]);
    }
}
