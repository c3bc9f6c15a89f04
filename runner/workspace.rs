//! The engineer's workspace: a git repository whose only commit is the bugged
//! snapshot. The only module that uses git2.
//!
//! The workspace must not reveal the bug: it is a fresh repository holding
//! the bugged tree, `INCIDENT.md` and `DRILL.md`, and nothing else — no patch,
//! no drill folder, no clean version, neither in the working tree nor among
//! the git objects. The link back to the attempt lives inside `.git/` (never
//! committed, invisible to `git status`) and holds only the attempt id, the
//! results directory and the snapshot commit: nothing that names the drill.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use git2::{Repository, RepositoryInitOptions, Signature};
use globset::{Glob, GlobSetBuilder};
use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

use crate::confined::Dest;

/// Where the link lives, relative to the repository's `.git` directory.
pub const LINK_PATH: &str = "drillkit/attempt.json";
const LINK_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("{path} is not empty; pass an empty or new directory to --dir")]
    NotEmpty { path: PathBuf },
    #[error(
        "{from} is not inside a drill workspace; run this from the workspace \
         `drill start` created (list attempts and their workspaces with `drill attempts`)"
    )]
    NotInWorkspace { from: PathBuf },
    #[error("workspace link {path} is unreadable: {why}; the workspace's attempt cannot be found")]
    BadLink { path: PathBuf, why: String },
    #[error(
        "the workspace {root} has lost its snapshot commit {snapshot} (its git history was \
         rewritten or garbage-collected); run `drill repair` in it: the snapshot is re-created \
         from the catalog and your files are kept"
    )]
    SnapshotGone { root: PathBuf, snapshot: String },
    #[error(
        "the workspace {root} has a damaged git repository ({why}); run `drill repair` in it: \
         the repository is re-created from the catalog (the damaged .git is moved aside) and \
         your files are kept"
    )]
    RepositoryDamaged { root: PathBuf, why: String },
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("git: {action} in {path}: {source}")]
    Git {
        action: &'static str,
        path: PathBuf,
        source: git2::Error,
    },
    #[error("bad test_files glob {glob:?}: {source}")]
    Glob {
        glob: String,
        source: globset::Error,
    },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> WorkspaceError {
    let path = path.to_path_buf();
    move |source| WorkspaceError::Io {
        action,
        path,
        source,
    }
}

fn git_err(action: &'static str, path: &Path) -> impl FnOnce(git2::Error) -> WorkspaceError {
    let path = path.to_path_buf();
    move |source| WorkspaceError::Git {
        action,
        path,
        source,
    }
}

/// What `.git/drillkit/attempt.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub format_version: u32,
    pub attempt: String,
    pub results: PathBuf,
    /// The snapshot commit: diffs are taken against it even if the engineer
    /// commits on top.
    pub snapshot: String,
}

/// What goes into a new workspace.
#[derive(Debug, Clone)]
pub struct Snapshot<'a> {
    /// The bugged tree, prepared outside the workspace (so no patch
    /// leftovers such as `.orig` files can reach it). `.git` is skipped.
    pub source: &'a Path,
    pub incident_md: &'a str,
    pub drill_md: &'a str,
    /// Extra `.git/info/exclude` patterns (build outputs such as `target/`),
    /// so the engineer's builds never show up as changes.
    pub exclude: &'a [String],
}

#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
    link: Link,
}

/// Creates the workspace at `dest` (new or empty) and commits the snapshot.
pub fn create(
    dest: &Path,
    snapshot: &Snapshot<'_>,
    attempt: &str,
    results: &Path,
) -> Result<Workspace, WorkspaceError> {
    match fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(WorkspaceError::NotEmpty {
                    path: dest.to_path_buf(),
                });
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dest).map_err(io_err("creating the workspace", dest))?
        }
        Err(e) => return Err(io_err("reading", dest)(e)),
    }
    let root = fs::canonicalize(dest).map_err(io_err("resolving", dest))?;
    let out = Dest::new(&root).map_err(io_err("opening", &root))?;
    crate::builder::copy_tree(snapshot.source, &root)
        .map_err(io_err("copying the snapshot", snapshot.source))?;
    write_file(&out, "INCIDENT.md", snapshot.incident_md.as_bytes())?;
    write_file(&out, "DRILL.md", snapshot.drill_md.as_bytes())?;

    let mut opts = RepositoryInitOptions::new();
    // No templates: nothing but what the kit writes goes into `.git`.
    opts.initial_head("main").external_template(false);
    let repo = Repository::init_opts(&root, &opts).map_err(git_err("init", &root))?;
    if !snapshot.exclude.is_empty() {
        let mut text = String::from("# build outputs (drillkit)\n");
        for pattern in snapshot.exclude {
            text.push_str(pattern);
            text.push('\n');
        }
        write_file(&out, ".git/info/exclude", text.as_bytes())?;
    }
    let mut index = repo.index().map_err(git_err("opening the index", &root))?;
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .map_err(git_err("adding the snapshot", &root))?;
    index.write().map_err(git_err("writing the index", &root))?;
    let tree_id = index
        .write_tree()
        .map_err(git_err("writing the tree", &root))?;
    let tree = repo
        .find_tree(tree_id)
        .map_err(git_err("reading the tree", &root))?;
    let sig = Signature::now("drillkit", "drillkit@localhost")
        .map_err(git_err("making a signature", &root))?;
    let commit = repo
        .commit(
            Some("HEAD"),
            &sig,
            &sig,
            "Incident snapshot\n\nThe code as it ran when the incident in INCIDENT.md was reported.\n",
            &tree,
            &[],
        )
        .map_err(git_err("committing the snapshot", &root))?;

    // A hidden ref keeps the snapshot reachable whatever the engineer does
    // to their branches (an orphan checkout and a gc cannot collect it).
    repo.reference(SNAPSHOT_REF, commit, true, "drillkit snapshot")
        .map_err(git_err("naming the snapshot", &root))?;
    write_link(&out, attempt, results, commit)?;
    Ok(Workspace {
        link: read_link(&root)?,
        root,
    })
}

/// The ref that keeps the snapshot commit reachable.
pub const SNAPSHOT_REF: &str = "refs/drillkit/snapshot";

fn write_link(
    out: &Dest,
    attempt: &str,
    results: &Path,
    snapshot: git2::Oid,
) -> Result<(), WorkspaceError> {
    let link = Link {
        format_version: LINK_VERSION,
        attempt: attempt.to_string(),
        results: results.to_path_buf(),
        snapshot: snapshot.to_string(),
    };
    let bytes = serde_json::to_vec_pretty(&link).expect("links serialize");
    write_file(out, &format!(".git/{LINK_PATH}"), &bytes)
}

fn read_link(root: &Path) -> Result<Link, WorkspaceError> {
    let link_path = root.join(".git").join(LINK_PATH);
    let bad = |why: String| WorkspaceError::BadLink {
        path: link_path.clone(),
        why,
    };
    let bytes = fs::read(&link_path).map_err(|e| bad(e.to_string()))?;
    let link: Link = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    if link.format_version != LINK_VERSION {
        return Err(bad(format!(
            "format_version {} (this drill reads {LINK_VERSION})",
            link.format_version
        )));
    }
    Ok(link)
}

/// What [`repair`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repaired {
    /// The repository was gone or unreadable: a new one holds the snapshot;
    /// the damaged `.git`, if any, was moved to this path.
    NewRepository { moved_aside: Option<PathBuf> },
    /// The repository was fine but had lost the snapshot commit: it is back
    /// (under [`SNAPSHOT_REF`]); the engineer's branches are untouched.
    NewSnapshot,
}

/// Re-creates the snapshot of the workspace at `root` from `snapshot` (made
/// afresh from the catalog) and its link to the attempt. The engineer's
/// files are never touched: a new repository's index is the snapshot, so
/// `git status` and `drill submit` show their changes against it.
pub fn repair(
    root: &Path,
    snapshot: &Snapshot<'_>,
    attempt: &str,
    results: &Path,
) -> Result<(Repaired, Workspace), WorkspaceError> {
    fs::create_dir_all(root).map_err(io_err("creating the workspace", root))?;
    let root = fs::canonicalize(root).map_err(io_err("resolving", root))?;
    let out = Dest::new(&root).map_err(io_err("opening", &root))?;
    let own = Repository::open(&root).ok().filter(|r| {
        r.workdir()
            .and_then(|w| fs::canonicalize(w).ok())
            .as_deref()
            == Some(&root)
    });
    let (repo, fresh, moved_aside) = match own {
        Some(repo) => (repo, false, None),
        None => {
            let git = root.join(".git");
            let moved_aside = if fs::symlink_metadata(&git).is_ok() {
                let stamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let aside = root.join(format!(".git-damaged-{stamp}"));
                fs::rename(&git, &aside).map_err(io_err("moving aside", &git))?;
                Some(aside)
            } else {
                None
            };
            let mut opts = RepositoryInitOptions::new();
            opts.initial_head("main").external_template(false);
            let repo = Repository::init_opts(&root, &opts).map_err(git_err("init", &root))?;
            (repo, true, moved_aside)
        }
    };
    if fresh && !snapshot.exclude.is_empty() {
        let mut text = String::from("# build outputs (drillkit)\n");
        for pattern in snapshot.exclude {
            text.push_str(pattern);
            text.push('\n');
        }
        if let Some(aside) = &moved_aside {
            // The damaged repository is the engineer's to inspect, not a change.
            let name = aside.file_name().unwrap_or_default().to_string_lossy();
            text.push_str(&format!("/{name}/\n"));
        }
        write_file(&out, ".git/info/exclude", text.as_bytes())?;
    }
    // The snapshot's tree, written from files made outside the workspace.
    let staged = crate::scratch::Scratch::new("repair").map_err(io_err("creating", &root))?;
    let tree_dir = staged.path().join("tree");
    crate::builder::copy_tree(snapshot.source, &tree_dir)
        .map_err(io_err("copying the snapshot", snapshot.source))?;
    let staged_dest = Dest::new(&tree_dir).map_err(io_err("opening", &tree_dir))?;
    write_file(&staged_dest, "INCIDENT.md", snapshot.incident_md.as_bytes())?;
    write_file(&staged_dest, "DRILL.md", snapshot.drill_md.as_bytes())?;
    let tree_id = tree_of_dir(&repo, &tree_dir).map_err(git_err("writing the snapshot", &root))?;
    let tree = repo
        .find_tree(tree_id)
        .map_err(git_err("reading the tree", &root))?;
    let sig = Signature::now("drillkit", "drillkit@localhost")
        .map_err(git_err("making a signature", &root))?;
    let commit = repo
        .commit(
            None,
            &sig,
            &sig,
            "Incident snapshot\n\nThe code as it ran when the incident in INCIDENT.md was reported.\n",
            &tree,
            &[],
        )
        .map_err(git_err("committing the snapshot", &root))?;
    repo.reference(SNAPSHOT_REF, commit, true, "drillkit snapshot (repaired)")
        .map_err(git_err("naming the snapshot", &root))?;
    if fresh {
        repo.reference(
            "refs/heads/main",
            commit,
            true,
            "drillkit snapshot (repaired)",
        )
        .map_err(git_err("creating the branch", &root))?;
        repo.set_head("refs/heads/main")
            .map_err(git_err("setting HEAD", &root))?;
        let mut index = repo.index().map_err(git_err("opening the index", &root))?;
        index
            .read_tree(&tree)
            .and_then(|_| index.write())
            .map_err(git_err("writing the index", &root))?;
    }
    write_link(&out, attempt, results, commit)?;
    let ws = Workspace {
        link: read_link(&root)?,
        root,
    };
    let what = if fresh {
        Repaired::NewRepository { moved_aside }
    } else {
        Repaired::NewSnapshot
    };
    Ok((what, ws))
}

/// A git tree of the files under `dir` (executable bits kept, links never
/// present: the snapshot source comes from `copy_tree`).
fn tree_of_dir(repo: &Repository, dir: &Path) -> Result<git2::Oid, git2::Error> {
    use std::os::unix::fs::PermissionsExt;
    let mut builder = repo.treebuilder(None)?;
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)
        .map_err(|e| git2::Error::from_str(&e.to_string()))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let meta =
            fs::symlink_metadata(&path).map_err(|e| git2::Error::from_str(&e.to_string()))?;
        if meta.is_dir() {
            let sub = tree_of_dir(repo, &path)?;
            if repo.find_tree(sub)?.is_empty() {
                continue; // git has no empty folders
            }
            builder.insert(&name, sub, 0o040000)?;
        } else if meta.is_file() {
            let blob = repo.blob_path(&path)?;
            let mode = if meta.permissions().mode() & 0o111 != 0 {
                0o100755
            } else {
                0o100644
            };
            builder.insert(&name, blob, mode)?;
        }
    }
    builder.write()
}

/// Finds the workspace containing `from` (any subdirectory of it).
pub fn find(from: &Path) -> Result<Workspace, WorkspaceError> {
    let start = std::path::absolute(from).unwrap_or_else(|_| from.to_path_buf());
    for dir in start.ancestors() {
        let link_path = dir.join(".git").join(LINK_PATH);
        if !link_path.is_file() {
            continue; // a plain (or nested) repository: keep looking up
        }
        let link = read_link(dir)?;
        return Ok(Workspace {
            root: dir.to_path_buf(),
            link,
        });
    }
    Err(WorkspaceError::NotInWorkspace { from: start })
}

/// The engineer's name from git config (`user.name`), if set.
pub fn git_user_name() -> Option<String> {
    git2::Config::open_default()
        .ok()?
        .get_string("user.name")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// How a file differs from the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Relative to the workspace root, `/`-separated.
    pub path: String,
    pub kind: ChangeKind,
    /// `None` for a file that is absent on that side or not UTF-8 text.
    pub old: Option<String>,
    pub new: Option<String>,
}

impl FileChange {
    /// A unified diff (`--- a/path`, `+++ b/path`), plain text.
    pub fn unified(&self) -> String {
        let (a, b) = (format!("a/{}", self.path), format!("b/{}", self.path));
        match (&self.old, &self.new, self.kind) {
            (_, _, ChangeKind::Added) if self.new.is_none() => {
                format!("Binary file {} added\n", self.path)
            }
            (_, _, ChangeKind::Deleted) if self.old.is_none() => {
                format!("Binary file {} deleted\n", self.path)
            }
            (None, _, ChangeKind::Modified) | (_, None, ChangeKind::Modified) => {
                format!("Binary file {} changed\n", self.path)
            }
            (old, new, _) => {
                let old = old.as_deref().unwrap_or("");
                let new = new.as_deref().unwrap_or("");
                TextDiff::from_lines(old, new)
                    .unified_diff()
                    .context_radius(3)
                    .header(&a, &b)
                    .to_string()
            }
        }
    }
}

impl Workspace {
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn link(&self) -> &Link {
        &self.link
    }

    fn repo(&self) -> Result<Repository, WorkspaceError> {
        Repository::open(&self.root).map_err(|e| WorkspaceError::RepositoryDamaged {
            root: self.root.clone(),
            why: e.message().to_string(),
        })
    }

    /// Checks what the kit relies on: the repository opens and the snapshot
    /// commit is there. The error names the way out (`drill repair`).
    pub fn check(&self) -> Result<(), WorkspaceError> {
        let repo = self.repo()?;
        self.snapshot_tree(&repo).map(|_| ())
    }

    /// The number of commits reachable from HEAD (1 for a fresh workspace).
    pub fn commit_count(&self) -> Result<usize, WorkspaceError> {
        let repo = self.repo()?;
        let mut walk = repo
            .revwalk()
            .map_err(git_err("walking history", &self.root))?;
        walk.push_head()
            .map_err(git_err("walking history", &self.root))?;
        Ok(walk.count())
    }

    /// Whether git ignores `rel` (relative to the root) in this workspace:
    /// build output, the kit's own files.
    pub fn is_ignored(&self, rel: &Path) -> bool {
        let Ok(repo) = self.repo() else {
            return false;
        };
        let is_dir = self.root.join(rel).is_dir();
        is_ignored(&repo, rel, is_dir)
    }

    /// Every file of the engineer's current tree (tracked or new, not
    /// ignored), relative and `/`-separated, sorted.
    pub fn files(&self) -> Result<Vec<String>, WorkspaceError> {
        let repo = self.repo()?;
        let mut out = Vec::new();
        walk_tree(&repo, &self.root, Path::new(""), &mut out)?;
        out.sort();
        Ok(out)
    }

    /// The engineer's changes against the snapshot commit (not HEAD: an
    /// engineer who commits their fix still has a diff).
    pub fn changes(&self) -> Result<Vec<FileChange>, WorkspaceError> {
        let repo = self.repo()?;
        let snapshot = self.snapshot_tree(&repo)?;
        let mut snap_files = BTreeSet::new();
        snapshot
            .walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                if entry.kind() == Some(git2::ObjectType::Blob) {
                    snap_files.insert(format!("{dir}{}", entry.name().unwrap_or("")));
                }
                git2::TreeWalkResult::Ok
            })
            .map_err(git_err("reading the snapshot", &self.root))?;
        let current: BTreeSet<String> = self.files()?.into_iter().collect();
        let mut changes = Vec::new();
        for path in snap_files.union(&current) {
            let old = if snap_files.contains(path) {
                Some(self.snapshot_blob(&repo, &snapshot, path)?)
            } else {
                None
            };
            let new = if current.contains(path) {
                let p = self.root.join(path);
                Some(fs::read(&p).map_err(io_err("reading", &p))?)
            } else {
                None
            };
            let kind = match (&old, &new) {
                (Some(o), Some(n)) if o == n => continue,
                (Some(_), Some(_)) => ChangeKind::Modified,
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Deleted,
                (None, None) => continue,
            };
            changes.push(FileChange {
                path: path.clone(),
                kind,
                old: old.and_then(|b| String::from_utf8(b).ok()),
                new: new.and_then(|b| String::from_utf8(b).ok()),
            });
        }
        Ok(changes)
    }

    fn snapshot_tree<'r>(&self, repo: &'r Repository) -> Result<git2::Tree<'r>, WorkspaceError> {
        let gone = || WorkspaceError::SnapshotGone {
            root: self.root.clone(),
            snapshot: self.link.snapshot.chars().take(12).collect(),
        };
        let oid = git2::Oid::from_str(&self.link.snapshot).map_err(|_| gone())?;
        repo.find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(|_| gone())
    }

    fn snapshot_blob(
        &self,
        repo: &Repository,
        tree: &git2::Tree<'_>,
        path: &str,
    ) -> Result<Vec<u8>, WorkspaceError> {
        let entry = tree
            .get_path(Path::new(path))
            .map_err(git_err("reading the snapshot", &self.root))?;
        let blob = repo
            .find_blob(entry.id())
            .map_err(git_err("reading the snapshot", &self.root))?;
        Ok(blob.content().to_vec())
    }

    /// A file's content in the snapshot commit, if it is there.
    pub fn snapshot_file(&self, path: &str) -> Result<Option<Vec<u8>>, WorkspaceError> {
        let repo = self.repo()?;
        let tree = self.snapshot_tree(&repo)?;
        Ok(self.snapshot_blob(&repo, &tree, path).ok())
    }

    /// The workspace-relative path for a file the engineer named: relative
    /// to `cwd` if that exists inside the workspace, else to the root.
    pub fn relative_path(&self, cwd: &Path, file: &str) -> Option<String> {
        let candidates = [cwd.join(file), self.root.join(file)];
        for candidate in candidates {
            let Ok(abs) = fs::canonicalize(&candidate) else {
                continue;
            };
            if let Ok(rel) = abs.strip_prefix(&self.root) {
                return Some(to_slash(rel));
            }
        }
        // A file the engineer deleted: normalise the name lexically.
        let rel = Path::new(file);
        if rel.is_relative() && rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Some(to_slash(rel));
        }
        None
    }

    /// Maps `line` (1-based) of the engineer's current `path` to the line of
    /// the snapshot it corresponds to, so a claim made after editing the file
    /// is judged against the bugged tree's numbering. Lines the engineer
    /// added map to the snapshot line they were inserted before.
    pub fn snapshot_line(&self, path: &str, line: u32) -> Result<Option<u32>, WorkspaceError> {
        let repo = self.repo()?;
        let tree = self.snapshot_tree(&repo)?;
        let Ok(old) = self.snapshot_blob(&repo, &tree, path) else {
            return Ok(None);
        };
        let current = self.root.join(path);
        let Ok(new) = fs::read(&current) else {
            return Ok(Some(line));
        };
        let (Ok(old), Ok(new)) = (String::from_utf8(old), String::from_utf8(new)) else {
            return Ok(Some(line));
        };
        Ok(Some(map_line(&old, &new, line)))
    }

    /// Copies the engineer's current tree (no `.git`, nothing ignored) into
    /// `dest`, rewriting only files whose content differs and deleting files
    /// that are gone, so a build in `dest` stays incremental across submits.
    pub fn sync_to(&self, dest: &Path) -> Result<(), WorkspaceError> {
        let files = self.files()?;
        let out = Dest::create(dest).map_err(io_err("creating", dest))?;
        let wanted: BTreeSet<&str> = files.iter().map(String::as_str).collect();
        for rel in &files {
            let from = self.root.join(rel);
            let to = dest.join(rel);
            let mut bytes = Vec::new();
            crate::confined::open_no_follow(&from)
                .and_then(|mut f| io::Read::read_to_end(&mut f, &mut bytes))
                .map_err(io_err("reading", &from))?;
            if out.read(Path::new(rel)).ok().as_deref() == Some(&bytes[..]) {
                continue;
            }
            out.write(Path::new(rel), &bytes)
                .map_err(io_err("writing", &to))?;
            let perms = fs::metadata(&from)
                .map_err(io_err("reading", &from))?
                .permissions();
            fs::set_permissions(&to, perms).map_err(io_err("setting permissions", &to))?;
        }
        // Delete what the engineer deleted; leave anything the ignore rules
        // cover (a build's own output in `dest`).
        let repo = self.repo()?;
        let mut stale = Vec::new();
        list_dest(&repo, dest, Path::new(""), &wanted, &mut stale)?;
        for path in stale {
            let rel = path.strip_prefix(dest).unwrap_or(&path);
            out.remove_file(rel).map_err(io_err("removing", &path))?;
        }
        Ok(())
    }
}

fn to_slash(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn map_line(old: &str, new: &str, line: u32) -> u32 {
    let diff = TextDiff::from_lines(old, new);
    let mut old_line = 1u32;
    let mut new_line = 1u32;
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Equal => {
                if new_line == line {
                    return old_line;
                }
                old_line += 1;
                new_line += 1;
            }
            ChangeTag::Delete => old_line += 1,
            ChangeTag::Insert => {
                if new_line == line {
                    return old_line;
                }
                new_line += 1;
            }
        }
    }
    // Past the end of the current file: shift by the net change.
    let shift = i64::from(old_line) - i64::from(new_line);
    u32::try_from(i64::from(line) + shift).unwrap_or(1).max(1)
}

fn is_ignored(repo: &Repository, rel: &Path, is_dir: bool) -> bool {
    // libgit2 decides directory-only patterns (`target/`) from a trailing slash.
    let probe = if is_dir {
        PathBuf::from(format!("{}/", to_slash(rel)))
    } else {
        rel.to_path_buf()
    };
    repo.is_path_ignored(&probe).unwrap_or(false)
}

fn walk_tree(
    repo: &Repository,
    root: &Path,
    rel: &Path,
    out: &mut Vec<String>,
) -> Result<(), WorkspaceError> {
    let dir = root.join(rel);
    for entry in fs::read_dir(&dir).map_err(io_err("reading", &dir))? {
        let entry = entry.map_err(io_err("reading", &dir))?;
        let name = entry.file_name();
        if rel.as_os_str().is_empty() && name == ".git" {
            continue;
        }
        let child = rel.join(&name);
        let ty = entry
            .file_type()
            .map_err(io_err("reading", &entry.path()))?;
        if is_ignored(repo, &child, ty.is_dir()) {
            continue;
        }
        if ty.is_dir() {
            walk_tree(repo, root, &child, out)?;
        } else if ty.is_file() {
            out.push(to_slash(&child));
        }
    }
    Ok(())
}

fn list_dest(
    repo: &Repository,
    root: &Path,
    rel: &Path,
    wanted: &BTreeSet<&str>,
    stale: &mut Vec<PathBuf>,
) -> Result<(), WorkspaceError> {
    let dir = root.join(rel);
    for entry in fs::read_dir(&dir).map_err(io_err("reading", &dir))? {
        let entry = entry.map_err(io_err("reading", &dir))?;
        let child = rel.join(entry.file_name());
        let ty = entry
            .file_type()
            .map_err(io_err("reading", &entry.path()))?;
        if is_ignored(repo, &child, ty.is_dir()) {
            continue;
        }
        if ty.is_dir() {
            list_dest(repo, root, &child, wanted, stale)?;
        } else if !wanted.contains(to_slash(&child).as_str()) {
            stale.push(entry.path());
        }
    }
    Ok(())
}

/// The changed paths that match any of the scenario's `test_files` globs.
pub fn test_files_changed(
    changes: &[FileChange],
    globs: &[String],
) -> Result<Vec<String>, WorkspaceError> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(Glob::new(glob).map_err(|source| WorkspaceError::Glob {
            glob: glob.clone(),
            source,
        })?);
    }
    let set = builder.build().map_err(|source| WorkspaceError::Glob {
        glob: globs.join(", "),
        source,
    })?;
    Ok(changes
        .iter()
        .filter(|c| set.is_match(&c.path))
        .map(|c| c.path.clone())
        .collect())
}

fn write_file(dest: &Dest, rel: &str, bytes: &[u8]) -> Result<(), WorkspaceError> {
    dest.write(Path::new(rel), bytes)
        .map_err(io_err("writing", &dest.root().join(rel)))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        _tmp: tempfile::TempDir,
        src: PathBuf,
        ws: PathBuf,
        results: PathBuf,
    }

    fn fixture() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("bugged");
        fs::create_dir_all(src.join("internal/ledger")).unwrap();
        fs::write(src.join("go.mod"), "module example.com/ledger\n").unwrap();
        fs::write(
            src.join("internal/ledger/ledger.go"),
            "package ledger\n\nfunc Add(a, b int) int {\n\treturn a - b\n}\n",
        )
        .unwrap();
        fs::write(
            src.join("internal/ledger/ledger_test.go"),
            "package ledger\n",
        )
        .unwrap();
        let ws = tmp.path().join("ws");
        let results = tmp.path().join("results");
        Fixture {
            _tmp: tmp,
            src,
            ws,
            results,
        }
    }

    fn create_ws(f: &Fixture) -> Workspace {
        let exclude = vec!["target/".to_string()];
        let snap = Snapshot {
            source: &f.src,
            incident_md: "# Incident\n",
            drill_md: "# Drill\n",
            exclude: &exclude,
        };
        create(&f.ws, &snap, "20250101T000000Z-ada-000001", &f.results).unwrap()
    }

    #[test]
    fn new_workspace_has_one_commit_with_exactly_the_snapshot() {
        let f = fixture();
        let ws = create_ws(&f);
        assert_eq!(ws.commit_count().unwrap(), 1);
        assert!(ws.changes().unwrap().is_empty());
        let repo = Repository::open(ws.root()).unwrap();
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        let mut paths = Vec::new();
        head.tree()
            .unwrap()
            .walk(git2::TreeWalkMode::PreOrder, |dir, e| {
                if e.kind() == Some(git2::ObjectType::Blob) {
                    paths.push(format!("{dir}{}", e.name().unwrap()));
                }
                git2::TreeWalkResult::Ok
            })
            .unwrap();
        paths.sort();
        assert_eq!(
            paths,
            [
                "DRILL.md",
                "INCIDENT.md",
                "go.mod",
                "internal/ledger/ledger.go",
                "internal/ledger/ledger_test.go"
            ]
        );
        // Objects: the blobs, the trees and the commit; nothing else.
        let mut count = 0;
        repo.odb()
            .unwrap()
            .foreach(|_| {
                count += 1;
                true
            })
            .unwrap();
        assert_eq!(count, 5 + 3 + 1);
        // The link is not part of the working tree.
        let mut status_opts = git2::StatusOptions::new();
        status_opts.include_untracked(true);
        assert!(repo.statuses(Some(&mut status_opts)).unwrap().is_empty());
    }

    #[test]
    fn a_non_empty_dir_is_refused() {
        let f = fixture();
        fs::create_dir_all(&f.ws).unwrap();
        fs::write(f.ws.join("notes.txt"), "mine").unwrap();
        let snap = Snapshot {
            source: &f.src,
            incident_md: "",
            drill_md: "",
            exclude: &[],
        };
        let err = create(&f.ws, &snap, "a", &f.results).unwrap_err();
        assert!(matches!(err, WorkspaceError::NotEmpty { .. }), "{err}");
        assert_eq!(fs::read_to_string(f.ws.join("notes.txt")).unwrap(), "mine");
    }

    #[test]
    fn workspace_is_found_from_any_subdirectory_but_not_outside() {
        let f = fixture();
        let ws = create_ws(&f);
        let found = find(&ws.root().join("internal/ledger")).unwrap();
        assert_eq!(found.root(), ws.root());
        assert_eq!(found.link().attempt, "20250101T000000Z-ada-000001");
        let err = find(&f.src).unwrap_err();
        assert!(matches!(err, WorkspaceError::NotInWorkspace { .. }));
    }

    #[test]
    fn changes_are_against_the_snapshot_even_after_a_commit() {
        let f = fixture();
        let ws = create_ws(&f);
        let file = ws.root().join("internal/ledger/ledger.go");
        let fixed = fs::read_to_string(&file).unwrap().replace("a - b", "a + b");
        fs::write(&file, fixed).unwrap();
        fs::write(ws.root().join("internal/ledger/ledger_test.go"), "x\n").unwrap();
        fs::write(ws.root().join("NOTES.md"), "notes\n").unwrap();
        fs::remove_file(ws.root().join("go.mod")).unwrap();
        fs::create_dir_all(ws.root().join("target/debug")).unwrap();
        fs::write(ws.root().join("target/debug/ledger"), "bin").unwrap();
        // The engineer commits: the diff is still against the snapshot.
        let repo = Repository::open(ws.root()).unwrap();
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.update_all(["*"], None).unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = Signature::now("ada", "ada@example.com").unwrap();
        let parent = repo.head().unwrap().peel_to_commit().unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "fix", &tree, &[&parent])
            .unwrap();

        let changes = ws.changes().unwrap();
        let summary: Vec<_> = changes.iter().map(|c| (c.path.as_str(), c.kind)).collect();
        assert_eq!(
            summary,
            [
                ("NOTES.md", ChangeKind::Added),
                ("go.mod", ChangeKind::Deleted),
                ("internal/ledger/ledger.go", ChangeKind::Modified),
                ("internal/ledger/ledger_test.go", ChangeKind::Modified),
            ]
        );
        let diff = changes[2].unified();
        assert!(diff.contains("--- a/internal/ledger/ledger.go"), "{diff}");
        assert!(diff.contains("-\treturn a - b"), "{diff}");
        assert!(diff.contains("+\treturn a + b"), "{diff}");
        let tests = test_files_changed(&changes, &["**/*_test.go".to_string()]).unwrap();
        assert_eq!(tests, ["internal/ledger/ledger_test.go"]);
    }

    #[test]
    fn sync_copies_the_current_tree_and_keeps_unchanged_files_untouched() {
        let f = fixture();
        let ws = create_ws(&f);
        let dest = f.ws.parent().unwrap().join("verify");
        ws.sync_to(&dest).unwrap();
        assert!(dest.join("internal/ledger/ledger.go").is_file());
        assert!(!dest.join(".git").exists());
        let gomod = dest.join("go.mod");
        let before = fs::metadata(&gomod).unwrap().modified().unwrap();
        // Build output in dest survives; a file the engineer deleted goes.
        fs::create_dir_all(dest.join("target")).unwrap();
        fs::write(dest.join("target/out"), "o").unwrap();
        fs::remove_file(ws.root().join("DRILL.md")).unwrap();
        fs::write(ws.root().join("internal/ledger/ledger.go"), "changed\n").unwrap();
        ws.sync_to(&dest).unwrap();
        assert_eq!(fs::metadata(&gomod).unwrap().modified().unwrap(), before);
        assert!(dest.join("target/out").exists());
        assert!(!dest.join("DRILL.md").exists());
        assert_eq!(
            fs::read_to_string(dest.join("internal/ledger/ledger.go")).unwrap(),
            "changed\n"
        );
    }

    #[test]
    fn claimed_lines_map_back_to_the_snapshot_numbering() {
        let old = "a\nb\nc\nd\n";
        // Two lines inserted at the top, `c` deleted.
        let new = "x\ny\na\nb\nd\n";
        assert_eq!(map_line(old, new, 3), 1); // a
        assert_eq!(map_line(old, new, 5), 4); // d
        assert_eq!(map_line(old, new, 1), 1); // inserted before a
        assert_eq!(map_line(old, old, 3), 3);
        assert_eq!(map_line(old, new, 9), 8);
    }

    #[test]
    fn paths_are_resolved_from_the_current_directory_or_the_root() {
        let f = fixture();
        let ws = create_ws(&f);
        let sub = ws.root().join("internal/ledger");
        assert_eq!(
            ws.relative_path(&sub, "ledger.go").as_deref(),
            Some("internal/ledger/ledger.go")
        );
        assert_eq!(
            ws.relative_path(&sub, "internal/ledger/ledger.go")
                .as_deref(),
            Some("internal/ledger/ledger.go")
        );
        assert_eq!(ws.relative_path(&sub, "../../../../etc/passwd"), None);
    }

    #[test]
    fn repair_recreates_a_deleted_repository_and_a_lost_snapshot_keeping_the_files() {
        let f = fixture();
        let ws = create_ws(&f);
        let file = ws.root().join("internal/ledger/ledger.go");
        fs::write(&file, "package ledger // edited\n").unwrap();
        let exclude = vec!["target/".to_string()];
        let snap = Snapshot {
            source: &f.src,
            incident_md: "# Incident\n",
            drill_md: "# Drill\n",
            exclude: &exclude,
        };
        // .git deleted: a new repository, the edit shows as a change.
        fs::remove_dir_all(ws.root().join(".git")).unwrap();
        let (what, repaired) = repair(ws.root(), &snap, "a1", &f.results).unwrap();
        assert_eq!(what, Repaired::NewRepository { moved_aside: None });
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            "package ledger // edited\n"
        );
        let changes = repaired.changes().unwrap();
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["internal/ledger/ledger.go"]);
        assert_eq!(find(ws.root()).unwrap().link().attempt, "a1");

        // The snapshot commit lost (link pointing at an object that is gone).
        let link_path = ws.root().join(".git").join(LINK_PATH);
        let mut link: Link = serde_json::from_slice(&fs::read(&link_path).unwrap()).unwrap();
        link.snapshot = "0123456789012345678901234567890123456789".into();
        fs::write(&link_path, serde_json::to_vec(&link).unwrap()).unwrap();
        let broken = find(ws.root()).unwrap();
        assert!(matches!(
            broken.check(),
            Err(WorkspaceError::SnapshotGone { .. })
        ));
        assert!(broken
            .changes()
            .unwrap_err()
            .to_string()
            .contains("drill repair"));
        let (what, repaired) = repair(ws.root(), &snap, "a1", &f.results).unwrap();
        assert_eq!(what, Repaired::NewSnapshot);
        repaired.check().unwrap();
        assert_eq!(repaired.changes().unwrap().len(), 1);
    }
}
