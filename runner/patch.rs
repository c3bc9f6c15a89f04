//! Unified diffs as `git diff` writes them: parse, apply, revert, measure.
//!
//! The kit applies drill patches itself instead of shelling out to `git apply`
//! so that a patch that does not apply is reported by file and hunk, and so
//! that the lines a bug touches (where "found it" claims are judged) come from
//! the same parse that applied it.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("{origin}: line {line}: {message}")]
    Parse {
        origin: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{origin}: hunk #{hunk} of {file} does not apply: {message}")]
    Apply {
        origin: PathBuf,
        file: String,
        hunk: usize,
        message: String,
    },
    #[error("{origin}: cannot read or write {path}: {source}")]
    Io {
        origin: PathBuf,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HunkLine {
    Context(String),
    Removed(String),
    Added(String),
}

#[derive(Debug, Clone)]
pub struct Hunk {
    /// 1-based first line on the old (clean) side.
    pub old_start: usize,
    /// 1-based first line on the new (bugged) side.
    pub new_start: usize,
    pub lines: Vec<HunkLine>,
    /// The old side's last line has no trailing newline.
    pub old_no_newline: bool,
    /// The new side's last line has no trailing newline.
    pub new_no_newline: bool,
}

#[derive(Debug, Clone)]
pub struct FilePatch {
    /// Path relative to the tree the patch applies to, `/`-separated.
    pub path: String,
    pub hunks: Vec<Hunk>,
}

/// A parsed multi-file patch; applying it turns the clean tree into the bugged one.
#[derive(Debug, Clone)]
pub struct Patch {
    pub origin: PathBuf,
    /// Free text before the first file header (what the patch is about), trimmed.
    pub description: String,
    pub files: Vec<FilePatch>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct PatchStats {
    pub files: usize,
    pub hunks: usize,
    pub added: usize,
    pub removed: usize,
}

impl PatchStats {
    /// Changed lines, the figure pairs are compared on.
    pub fn changed(&self) -> usize {
        self.added.max(self.removed)
    }
}

impl fmt::Display for PatchStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} file(s), {} hunk(s), +{} -{}",
            self.files, self.hunks, self.added, self.removed
        )
    }
}

/// Lines of one file that a patch touches, numbered in the bugged tree.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TouchedLines {
    pub path: String,
    pub lines: Vec<usize>,
}

impl Patch {
    pub fn load(path: &Path) -> Result<Patch, PatchError> {
        let text = fs::read_to_string(path).map_err(|source| PatchError::Io {
            origin: path.to_path_buf(),
            path: path.to_path_buf(),
            source,
        })?;
        Patch::parse(&text, path)
    }

    pub fn parse(text: &str, origin: &Path) -> Result<Patch, PatchError> {
        let err = |line: usize, message: String| PatchError::Parse {
            origin: origin.to_path_buf(),
            line,
            message,
        };
        let lines: Vec<&str> = text.lines().collect();
        let mut files: Vec<FilePatch> = Vec::new();
        // Text before the first header describes the patch (as `git format-patch` leaves a message there).
        let first_header = lines
            .iter()
            .position(|l| {
                l.starts_with("--- ") || l.starts_with("diff --git ") || l.starts_with("@@")
            })
            .unwrap_or(lines.len());
        let description = lines[..first_header].join("\n").trim().to_string();
        let mut i = first_header;
        while i < lines.len() {
            let line = lines[i];
            if line.starts_with("diff --git ") || line.starts_with("index ") {
                i += 1;
                continue;
            }
            for forbidden in [
                "new file mode",
                "deleted file mode",
                "rename from",
                "rename to",
                "copy from",
                "old mode",
                "new mode",
                "similarity index",
                "Binary files",
                "GIT binary patch",
            ] {
                if line.starts_with(forbidden) {
                    return Err(err(
                        i + 1,
                        format!(
                            "`{forbidden}`: a drill patch may only modify existing text files \
                             (no creation, deletion, rename or mode change)"
                        ),
                    ));
                }
            }
            if let Some(old) = line.strip_prefix("--- ") {
                let Some(new) = lines.get(i + 1).and_then(|l| l.strip_prefix("+++ ")) else {
                    return Err(err(i + 2, "expected a `+++ b/<path>` line".into()));
                };
                let old = strip_prefix_path(old);
                let new = strip_prefix_path(new);
                if old == "/dev/null" || new == "/dev/null" {
                    return Err(err(
                        i + 1,
                        "a drill patch may not create or delete files".into(),
                    ));
                }
                if old != new {
                    return Err(err(
                        i + 1,
                        format!("renames are not allowed ({old} -> {new})"),
                    ));
                }
                if new.starts_with('/') || new.split('/').any(|c| c == "..") {
                    return Err(err(
                        i + 1,
                        format!("path {new} must be relative to the language directory"),
                    ));
                }
                files.push(FilePatch {
                    path: new.to_string(),
                    hunks: Vec::new(),
                });
                i += 2;
                continue;
            }
            if line.starts_with("@@") {
                let Some(file) = files.last_mut() else {
                    return Err(err(i + 1, "hunk before any `---`/`+++` header".into()));
                };
                let (old_start, old_len, new_start, new_len) = parse_hunk_header(line)
                    .ok_or_else(|| err(i + 1, format!("malformed hunk header `{line}`")))?;
                let mut hunk = Hunk {
                    old_start,
                    new_start,
                    lines: Vec::new(),
                    old_no_newline: false,
                    new_no_newline: false,
                };
                let (mut old_seen, mut new_seen) = (0, 0);
                i += 1;
                while old_seen < old_len || new_seen < new_len {
                    let Some(&l) = lines.get(i) else {
                        return Err(err(i, "hunk ends before its declared length".into()));
                    };
                    let (kind, body) = match l.chars().next() {
                        Some(' ') => ('c', &l[1..]),
                        None => ('c', ""),
                        Some('-') => ('-', &l[1..]),
                        Some('+') => ('+', &l[1..]),
                        Some('\\') => {
                            i += 1;
                            continue;
                        }
                        _ => return Err(err(i + 1, format!("unexpected line in hunk: `{l}`"))),
                    };
                    match kind {
                        'c' => {
                            old_seen += 1;
                            new_seen += 1;
                            hunk.lines.push(HunkLine::Context(body.to_string()));
                        }
                        '-' => {
                            old_seen += 1;
                            hunk.lines.push(HunkLine::Removed(body.to_string()));
                        }
                        _ => {
                            new_seen += 1;
                            hunk.lines.push(HunkLine::Added(body.to_string()));
                        }
                    }
                    i += 1;
                    // A "\ No newline at end of file" marker applies to the line just read.
                    if lines.get(i).is_some_and(|l| l.starts_with('\\')) {
                        match kind {
                            'c' => {
                                hunk.old_no_newline = true;
                                hunk.new_no_newline = true;
                            }
                            '-' => hunk.old_no_newline = true,
                            _ => hunk.new_no_newline = true,
                        }
                        i += 1;
                    }
                }
                if old_seen != old_len || new_seen != new_len {
                    return Err(err(i, "hunk longer than its header declares".into()));
                }
                file.hunks.push(hunk);
                continue;
            }
            if line.trim().is_empty() {
                i += 1;
                continue;
            }
            return Err(err(
                i + 1,
                format!("unexpected line outside a hunk: `{line}`"),
            ));
        }
        if files.is_empty() || files.iter().all(|f| f.hunks.is_empty()) {
            return Err(err(
                1,
                "the patch changes nothing (no file with a hunk)".into(),
            ));
        }
        Ok(Patch {
            origin: origin.to_path_buf(),
            description,
            files,
        })
    }

    pub fn stats(&self) -> PatchStats {
        let mut s = PatchStats {
            files: self.files.len(),
            ..Default::default()
        };
        for h in self.files.iter().flat_map(|f| &f.hunks) {
            s.hunks += 1;
            for l in &h.lines {
                match l {
                    HunkLine::Added(_) => s.added += 1,
                    HunkLine::Removed(_) => s.removed += 1,
                    HunkLine::Context(_) => {}
                }
            }
        }
        s
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|f| f.path.as_str())
    }

    /// The bugged tree's lines this patch added or changed; for a pure
    /// deletion, the lines either side of where the deleted lines were.
    pub fn touched_lines(&self) -> Vec<TouchedLines> {
        self.files
            .iter()
            .map(|f| {
                let mut lines = Vec::new();
                for h in &f.hunks {
                    let mut new_line = h.new_start;
                    let mut pending_deletion = false;
                    // A deletion with nothing added in its place touches the lines either side.
                    let flush = |lines: &mut Vec<usize>, new_line: usize| {
                        if new_line > 1 {
                            lines.push(new_line - 1);
                        }
                        lines.push(new_line);
                    };
                    for l in &h.lines {
                        match l {
                            HunkLine::Context(_) => {
                                if pending_deletion {
                                    flush(&mut lines, new_line);
                                    pending_deletion = false;
                                }
                                new_line += 1;
                            }
                            HunkLine::Added(_) => {
                                lines.push(new_line);
                                new_line += 1;
                                pending_deletion = false;
                            }
                            HunkLine::Removed(_) => pending_deletion = true,
                        }
                    }
                    if pending_deletion {
                        flush(&mut lines, new_line);
                    }
                }
                lines.sort_unstable();
                lines.dedup();
                TouchedLines {
                    path: f.path.clone(),
                    lines,
                }
            })
            .collect()
    }

    /// The same change backwards: applying it to the bugged tree gives the clean one.
    pub fn reversed(&self) -> Patch {
        Patch {
            origin: self.origin.clone(),
            description: self.description.clone(),
            files: self
                .files
                .iter()
                .map(|f| FilePatch {
                    path: f.path.clone(),
                    hunks: f
                        .hunks
                        .iter()
                        .map(|h| Hunk {
                            old_start: h.new_start,
                            new_start: h.old_start,
                            old_no_newline: h.new_no_newline,
                            new_no_newline: h.old_no_newline,
                            lines: h
                                .lines
                                .iter()
                                .map(|l| match l {
                                    HunkLine::Added(s) => HunkLine::Removed(s.clone()),
                                    HunkLine::Removed(s) => HunkLine::Added(s.clone()),
                                    HunkLine::Context(s) => HunkLine::Context(s.clone()),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Apply to the tree rooted at `dir`. Every file is checked before any is
    /// written, so a patch that does not apply leaves the tree untouched.
    pub fn apply_to_dir(&self, dir: &Path) -> Result<(), PatchError> {
        let io = |path: &Path| {
            let (origin, path) = (self.origin.clone(), path.to_path_buf());
            move |source| PatchError::Io {
                origin,
                path,
                source,
            }
        };
        // Reads and writes go through `Dest`: a link in the tree (or a path
        // that leaves it) is refused, so a patch only ever changes the tree.
        let dest = crate::confined::Dest::new(dir).map_err(io(dir))?;
        let mut results = Vec::new();
        for f in &self.files {
            let rel = Path::new(&f.path);
            let path = dir.join(rel);
            let bytes = dest.read(rel).map_err(io(&path))?;
            let text = String::from_utf8(bytes).map_err(|_| PatchError::Io {
                origin: self.origin.clone(),
                path: path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"),
            })?;
            results.push((rel, path, self.apply_to_text(f, &text)?));
        }
        for (rel, path, text) in results {
            dest.write(rel, text.as_bytes()).map_err(io(&path))?;
        }
        Ok(())
    }

    /// Whether the patch applies to the tree at `dir`, without writing.
    pub fn check_against(&self, dir: &Path) -> Result<(), PatchError> {
        let dest = crate::confined::Dest::new(dir).map_err(|source| PatchError::Io {
            origin: self.origin.clone(),
            path: dir.to_path_buf(),
            source,
        })?;
        for f in &self.files {
            let rel = Path::new(&f.path);
            let io = |source| PatchError::Io {
                origin: self.origin.clone(),
                path: dir.join(rel),
                source,
            };
            let bytes = dest.read(rel).map_err(io)?;
            let text = String::from_utf8(bytes).map_err(|_| {
                io(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "not UTF-8 text",
                ))
            })?;
            self.apply_to_text(f, &text)?;
        }
        Ok(())
    }

    pub fn revert_in_dir(&self, dir: &Path) -> Result<(), PatchError> {
        self.reversed().apply_to_dir(dir)
    }

    fn apply_to_text(&self, f: &FilePatch, text: &str) -> Result<String, PatchError> {
        let mut final_newline = text.ends_with('\n') || text.is_empty();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        // Hunks are applied in order; `shift` tracks how far earlier hunks moved the later ones.
        let mut shift: isize = 0;
        let mut floor = 0usize;
        for (n, h) in f.hunks.iter().enumerate() {
            let old: Vec<&str> = h
                .lines
                .iter()
                .filter_map(|l| match l {
                    HunkLine::Context(s) | HunkLine::Removed(s) => Some(s.as_str()),
                    HunkLine::Added(_) => None,
                })
                .collect();
            let new: Vec<String> = h
                .lines
                .iter()
                .filter_map(|l| match l {
                    HunkLine::Context(s) | HunkLine::Added(s) => Some(s.clone()),
                    HunkLine::Removed(_) => None,
                })
                .collect();
            // An empty old side (pure insertion) is anchored after line old_start.
            let expected_start = if old.is_empty() {
                h.old_start
            } else {
                h.old_start.saturating_sub(1)
            };
            let expected = (expected_start as isize + shift).max(0) as usize;
            let at = find_block(&lines, &old, expected, floor).ok_or_else(|| {
                let first = old.first().copied().unwrap_or("");
                PatchError::Apply {
                    origin: self.origin.clone(),
                    file: f.path.clone(),
                    hunk: n + 1,
                    message: format!(
                        "its {} line(s) starting `{}` were not found near line {}",
                        old.len(),
                        first.trim(),
                        h.old_start
                    ),
                }
            })?;
            let end = at + old.len();
            if end == lines.len() {
                // The hunk reaches the end of the file, so it decides the final newline.
                if h.old_no_newline == final_newline && !old.is_empty() {
                    // The file's final-newline state differs from what the hunk expects.
                    return Err(PatchError::Apply {
                        origin: self.origin.clone(),
                        file: f.path.clone(),
                        hunk: n + 1,
                        message: "the end-of-file newline differs from the patch".into(),
                    });
                }
                final_newline = !h.new_no_newline;
            }
            let new_len = new.len();
            lines.splice(at..end, new);
            shift += new_len as isize - old.len() as isize;
            floor = at + new_len;
        }
        let mut out = lines.join("\n");
        if final_newline && !lines.is_empty() {
            out.push('\n');
        }
        Ok(out)
    }
}

/// Find `block` in `lines` at `expected` or the nearest position at or after
/// `floor` (hunks never overlap and stay in order).
fn find_block(lines: &[String], block: &[&str], expected: usize, floor: usize) -> Option<usize> {
    if block.is_empty() {
        return (expected <= lines.len()).then_some(expected.max(floor).min(lines.len()));
    }
    let fits = |at: usize| {
        at >= floor
            && at + block.len() <= lines.len()
            && lines[at..at + block.len()]
                .iter()
                .zip(block)
                .all(|(a, b)| a == b)
    };
    let max = lines.len();
    for d in 0..=max {
        if expected >= d && fits(expected - d) {
            return Some(expected - d);
        }
        if d > 0 && fits(expected + d) {
            return Some(expected + d);
        }
        if expected < d && expected + d > max {
            break;
        }
    }
    None
}

fn strip_prefix_path(s: &str) -> &str {
    // `--- a/path\tdate` (non-git diffs append a timestamp after a tab).
    let s = s.split('\t').next().unwrap_or(s).trim_end();
    s.strip_prefix("a/")
        .or_else(|| s.strip_prefix("b/"))
        .unwrap_or(s)
}

fn parse_hunk_header(line: &str) -> Option<(usize, usize, usize, usize)> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, _) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |r: &str| -> Option<(usize, usize)> {
        match r.split_once(',') {
            Some((s, l)) => Some((s.parse().ok()?, l.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (os, ol) = range(old)?;
    let (ns, nl) = range(new)?;
    Some((os, ol, ns, nl))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLEAN: &str =
        "package main\n\nfunc a() {\n\tx := 1\n\ty := 2\n\treturn\n}\n\nfunc b() {\n\tz := 3\n}\n";

    const PATCH: &str = "diff --git a/main.go b/main.go\nindex 111..222 100644\n--- a/main.go\n+++ b/main.go\n@@ -3,4 +3,4 @@ package main\n func a() {\n-\tx := 1\n+\tx := 10\n \ty := 2\n \treturn\n@@ -9,3 +9,2 @@ func a() {\n func b() {\n-\tz := 3\n }\n";

    fn tree(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("main.go"), text).unwrap();
        dir
    }

    #[test]
    fn applies_and_reverts_byte_for_byte() {
        let patch = Patch::parse(PATCH, Path::new("go.patch")).unwrap();
        let dir = tree(CLEAN);
        patch.apply_to_dir(dir.path()).unwrap();
        let bugged = fs::read_to_string(dir.path().join("main.go")).unwrap();
        assert!(bugged.contains("x := 10"));
        assert!(!bugged.contains("z := 3"));
        patch.revert_in_dir(dir.path()).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("main.go")).unwrap(),
            CLEAN
        );
    }

    #[test]
    fn applies_with_offset_when_lines_moved() {
        let patch = Patch::parse(PATCH, Path::new("go.patch")).unwrap();
        let dir = tree(&format!("// header\n// more\n{CLEAN}"));
        patch.apply_to_dir(dir.path()).unwrap();
        let bugged = fs::read_to_string(dir.path().join("main.go")).unwrap();
        assert!(bugged.starts_with("// header\n// more\npackage main"));
        assert!(bugged.contains("x := 10"));
    }

    #[test]
    fn names_the_hunk_that_does_not_apply_and_writes_nothing() {
        let patch = Patch::parse(PATCH, Path::new("go.patch")).unwrap();
        let changed = CLEAN.replace("z := 3", "z := 4");
        let dir = tree(&changed);
        let e = patch.apply_to_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("hunk #2 of main.go"), "{e}");
        assert_eq!(
            fs::read_to_string(dir.path().join("main.go")).unwrap(),
            changed
        );
    }

    #[test]
    fn stats_and_touched_lines() {
        let patch = Patch::parse(PATCH, Path::new("go.patch")).unwrap();
        assert_eq!(
            patch.stats(),
            PatchStats {
                files: 1,
                hunks: 2,
                added: 1,
                removed: 2
            }
        );
        // Line 4 was changed; the deleted `z := 3` sat between new lines 9 and 10.
        assert_eq!(patch.touched_lines()[0].lines, vec![4, 9, 10]);
    }

    #[test]
    fn rejects_new_files_and_renames() {
        let p =
            "diff --git a/x b/x\nnew file mode 100644\n--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+a\n";
        let e = Patch::parse(p, Path::new("go.patch"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("go.patch: line 2"), "{e}");
        let p = "--- a/x\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n";
        assert!(Patch::parse(p, Path::new("p")).is_err());
    }

    #[test]
    fn rejects_a_truncated_hunk() {
        let p = "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-a\n+b\n";
        let e = Patch::parse(p, Path::new("p")).unwrap_err().to_string();
        assert!(e.contains("before its declared length"), "{e}");
    }

    #[test]
    fn handles_missing_final_newline() {
        let clean = "a\nb";
        let p = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n";
        let patch = Patch::parse(p, Path::new("p")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f"), clean).unwrap();
        patch.apply_to_dir(dir.path()).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("f")).unwrap(), "a\nc\n");
        patch.revert_in_dir(dir.path()).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("f")).unwrap(), clean);
    }
}
