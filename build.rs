//! Builds the kit's catalog into the binary: every file of `scenarios/` and
//! `drills/` becomes an `include_bytes!` entry of `$OUT_DIR/embedded_catalog.rs`
//! (read by `runner/embedded.rs`), so an installed `drill` needs no checkout.
//!
//! Which files: in a git checkout, the ones git would commit (tracked, plus
//! untracked ones not ignored), so build output and editor files stay out;
//! elsewhere (a packaged source), every file except `target/` directories.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const TREES: [&str; 2] = ["scenarios", "drills"];

fn main() {
    let root =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    for tree in TREES {
        // A directory: cargo reruns this script when anything under it changes.
        println!("cargo::rerun-if-changed={tree}");
    }
    let mut files = git_files(&root).unwrap_or_else(|| {
        let mut files = Vec::new();
        for tree in TREES {
            walk(&root, &root.join(tree), &mut files);
        }
        files
    });
    files.sort();
    files.dedup();

    let mut hash = Fnv::new();
    let mut entries = String::new();
    for rel in &files {
        let path = root.join(rel);
        let meta = fs::symlink_metadata(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        if !meta.is_file() {
            // A symlink or special file has no place in a catalog (the loader refuses them too).
            panic!(
                "{} is not a regular file; the catalog may hold only files and folders",
                path.display()
            );
        }
        let executable = is_executable(&meta);
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        hash.write(rel.as_bytes());
        hash.write(&[0, u8::from(executable)]);
        hash.write(&(bytes.len() as u64).to_le_bytes());
        hash.write(&bytes);
        entries.push_str(&format!(
            "    File {{ path: {rel:?}, executable: {executable}, bytes: include_bytes!({:?}) }},\n",
            path.display().to_string()
        ));
    }
    let out = format!(
        "/// The catalog's files, relative to its root, in path order.\n\
         pub static FILES: &[File] = &[\n{entries}];\n\n\
         /// FNV-1a (64 bit) of every path, mode and content: names this catalog.\n\
         pub const CONTENT_HASH: &str = \"{:016x}\";\n",
        hash.0
    );
    let dest = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("embedded_catalog.rs");
    fs::write(&dest, out).unwrap_or_else(|e| panic!("writing {}: {e}", dest.display()));
}

/// The catalog's files as git sees them, or `None` outside a git checkout.
fn git_files(root: &Path) -> Option<Vec<String>> {
    let out = Command::new("git")
        .current_dir(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
        ])
        .args(TREES)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let files: Vec<String> = text
        .split('\0')
        .filter(|p| !p.is_empty())
        // A file deleted but not yet committed is listed by --cached.
        .filter(|p| root.join(p).exists())
        .map(str::to_string)
        .collect();
    (!files.is_empty()).then_some(files)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != ".git" {
                walk(root, &path, out);
            }
        } else {
            let rel = path.strip_prefix(root).expect("under the root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &fs::Metadata) -> bool {
    false
}

/// FNV-1a, 64 bit: a stable name for the content (not a security measure).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
