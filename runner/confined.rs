//! Writes confined to one destination tree.
//!
//! A catalog is input: a team exchanges drills as folders, and a folder can
//! hold a symbolic link to anywhere. So every file the kit writes into a tree
//! (a bugged tree, a workspace, a build's staging copy, the submit copy) goes
//! through [`Dest`], which refuses a path that is not a plain relative path
//! below its root and never follows a symbolic link on the way: not in the
//! directories it walks through, not at the file it writes. The catalog
//! loader refuses links outright (`catalog.rs`); this is the second wall, for
//! links made after loading or by the engineer inside a workspace.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// A directory the kit writes into, and only into.
#[derive(Debug, Clone)]
pub struct Dest {
    root: PathBuf,
}

fn refused(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// `path` is a symbolic link: the one message every refusal of a link uses.
pub fn link_refused(path: &Path) -> io::Error {
    let target = fs::read_link(path)
        .map(|t| format!(" (to {})", t.display()))
        .unwrap_or_default();
    refused(format!(
        "{} is a symbolic link{target}; drillkit never follows or copies links: \
         replace it with the file or folder itself",
        path.display()
    ))
}

/// Opens `path` for reading without following a link at its last component.
pub fn open_no_follow(path: &Path) -> io::Result<File> {
    match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Err(link_refused(path)),
        other => other,
    }
}

impl Dest {
    /// The existing directory `root` (itself may be reached through links:
    /// the caller chose it; what is below it may not).
    pub fn new(root: &Path) -> io::Result<Dest> {
        let root = fs::canonicalize(root)?;
        if !root.is_dir() {
            return Err(refused(format!("{} is not a directory", root.display())));
        }
        Ok(Dest { root })
    }

    /// Creates `root` (and its parents) if needed.
    pub fn create(root: &Path) -> io::Result<Dest> {
        fs::create_dir_all(root)?;
        Dest::new(root)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The absolute path for `rel`, after checking that it stays below the
    /// root: relative, made of plain names only, and with no link among the
    /// parts that exist.
    pub fn resolve(&self, rel: &Path) -> io::Result<PathBuf> {
        if rel.as_os_str().is_empty() {
            return Ok(self.root.clone());
        }
        if rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(refused(format!(
                "{} leaves {}: only plain relative paths are written",
                rel.display(),
                self.root.display()
            )));
        }
        let mut path = self.root.clone();
        for c in rel.components() {
            path.push(c);
            match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => return Err(link_refused(&path)),
                Ok(_) => {}
                // Nothing there yet: nothing below it can be a link either.
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(e) => return Err(e),
            }
        }
        Ok(self.root.join(rel))
    }

    /// Creates the directory `rel` and its parents, all below the root.
    pub fn create_dir_all(&self, rel: &Path) -> io::Result<PathBuf> {
        let mut at = PathBuf::new();
        for c in rel.components() {
            at.push(c);
            let path = self.resolve(&at)?;
            match fs::create_dir(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {}
                Err(e) => return Err(e),
            }
        }
        self.resolve(rel)
    }

    /// Writes `bytes` to `rel` (created or truncated), never through a link.
    pub fn write(&self, rel: &Path, bytes: &[u8]) -> io::Result<()> {
        if let Some(parent) = rel.parent() {
            self.create_dir_all(parent)?;
        }
        let path = self.resolve(rel)?;
        let mut f = match OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        {
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(link_refused(&path)),
            other => other?,
        };
        f.write_all(bytes)
    }

    /// Reads `rel`, never through a link.
    pub fn read(&self, rel: &Path) -> io::Result<Vec<u8>> {
        let path = self.resolve(rel)?;
        let mut bytes = Vec::new();
        open_no_follow(&path)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Copies the regular file `from` to `rel` with its permissions.
    pub fn copy_file(&self, from: &Path, rel: &Path) -> io::Result<()> {
        let mut src = open_no_follow(from)?;
        let meta = src.metadata()?;
        if !meta.is_file() {
            return Err(refused(format!("{} is not a regular file", from.display())));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        src.read_to_end(&mut bytes)?;
        self.write(rel, &bytes)?;
        fs::set_permissions(self.resolve(rel)?, meta.permissions())
    }

    /// Removes the file `rel` (not through a link; a link itself may go).
    pub fn remove_file(&self, rel: &Path) -> io::Result<()> {
        let parent = rel.parent().unwrap_or(Path::new(""));
        let dir = self.resolve(parent)?;
        fs::remove_file(dir.join(rel.file_name().unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_stay_below_the_root_and_never_pass_through_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("victim.txt"), "untouched").unwrap();
        let dest = Dest::create(&tmp.path().join("ws")).unwrap();
        dest.write(Path::new("a/b/c.txt"), b"ok").unwrap();
        assert_eq!(fs::read(dest.root().join("a/b/c.txt")).unwrap(), b"ok");

        std::os::unix::fs::symlink(outside.join("victim.txt"), dest.root().join("file-link"))
            .unwrap();
        std::os::unix::fs::symlink(&outside, dest.root().join("dir-link")).unwrap();
        for rel in [
            "file-link",
            "dir-link/victim.txt",
            "dir-link/new.txt",
            "../outside/x",
        ] {
            let err = dest.write(Path::new(rel), b"bad").unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{rel}: {err}");
        }
        assert!(dest.read(Path::new("file-link")).is_err());
        assert_eq!(
            fs::read_to_string(outside.join("victim.txt")).unwrap(),
            "untouched"
        );
        assert!(!outside.join("new.txt").exists());
        let err = dest
            .write(Path::new("/etc/x"), b"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("only plain relative paths"), "{err}");
    }
}
