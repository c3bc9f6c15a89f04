//! Private Cargo target directories that share compiled dependencies.
//!
//! Every Rust tree a drill builds (a workspace, the submit copy) gets a
//! target directory of its own. Sharing one target directory between trees
//! of the same package is wrong: Cargo names the package's artifacts by a
//! hash that does not depend on the tree's path, and decides freshness from
//! file mtimes, so after tree B was built, an unchanged tree A is "fresh" and
//! `cargo run` in A runs B's binary — an engineer could reproduce the bug on
//! someone else's code, or not reproduce it at all.
//!
//! Dependencies are another matter: they are the same in every tree and
//! expensive to compile. So a private target directory is *seeded* by
//! hard-linking the dependency artifacts (and the package's incremental
//! caches, which rustc validates by content) from the scenario's shared
//! target directory; Cargo then compiles only the package itself,
//! incrementally. What a private build compiled for the first time is
//! published back the same way, so the next tree starts warm.
//!
//! Hard links are safe here because neither Cargo nor rustc rewrites a fresh
//! dependency's files, and rustc's incremental sessions are new directories
//! every time. The package's own fingerprints, binaries and dep-info files
//! are never linked.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::builder::Cache;
use crate::catalog::{LanguageSpec, Toolchain};

/// The build cache for one tree: for Cargo, a private target directory
/// seeded from the scenario's shared one; for Go, the shared cache as is
/// (Go's build cache is content-addressed, so sharing it is always right).
#[derive(Debug, Clone)]
pub struct TreeCache {
    pub cache: Cache,
    shared: Option<(PathBuf, PathBuf, LocalPackage)>,
}

impl TreeCache {
    /// `key` names the tree for good (`attempts/<id>`, `verify/<scenario>-<lang>`),
    /// so its target directory is reused, and builds in it are incremental.
    pub fn for_tree(
        shared: &Cache,
        spec: &LanguageSpec,
        scenario: &str,
        key: &str,
        tree: &Path,
    ) -> TreeCache {
        let local = (spec.toolchain == Toolchain::Cargo)
            .then(|| LocalPackage::of_tree(tree))
            .flatten();
        let Some(local) = local else {
            return TreeCache {
                cache: shared.clone(),
                shared: None,
            };
        };
        let cache = private_cache(shared, key);
        let (from, to) = (shared.target_dir(scenario), cache.target_dir(scenario));
        // Best effort: without a seed the build is only slower.
        let _ = seed(&from, &to, &local);
        TreeCache {
            cache,
            shared: Some((from, to, local)),
        }
    }

    /// The Cargo target directory this tree builds into.
    pub fn cargo_target_dir(&self) -> Option<&Path> {
        self.shared.as_ref().map(|(_, to, _)| to.as_path())
    }

    /// After a build: dependencies compiled here for the first time become
    /// available to every other tree of the scenario.
    pub fn publish(&self) {
        if let Some((shared, private, local)) = &self.shared {
            let _ = publish(private, shared, local);
        }
    }
}

/// The target directory `for_tree` gives the tree named `key`, without
/// seeding it; `None` where `for_tree` gives no private one.
pub fn private_target_dir(
    shared: &Cache,
    spec: &LanguageSpec,
    scenario: &str,
    key: &str,
    tree: &Path,
) -> Option<PathBuf> {
    (spec.toolchain == Toolchain::Cargo && LocalPackage::of_tree(tree).is_some())
        .then(|| private_cache(shared, key).target_dir(scenario))
}

fn private_cache(shared: &Cache, key: &str) -> Cache {
    Cache {
        root: shared.root.join("private").join(key),
    }
}

/// The private build folder of attempt `id` (`for_tree` with `attempts/<id>`).
pub fn attempt_dir(shared: &Cache, id: &str) -> PathBuf {
    shared.root.join("private").join("attempts").join(id)
}

/// Removes attempt `id`'s private build folder: once the attempt has ended
/// nothing builds there again (best effort; `drill clean` sweeps the rest).
pub fn remove_attempt_dir(shared: &Cache, id: &str) {
    let dir = attempt_dir(shared, id);
    if dir.exists() {
        let _ = fs::remove_dir_all(&dir);
    }
}

/// The names under which the package's own artifacts appear.
#[derive(Debug, Clone)]
pub struct LocalPackage {
    /// `ledger` for package `ledger` (fingerprint and build directories).
    pub name: String,
    /// `ledger` for a lib crate of that package (`libledger-<hash>.rlib`).
    pub crate_name: String,
}

impl LocalPackage {
    /// From the tree's `Cargo.toml`; `None` if it has no `[package] name`.
    pub fn of_tree(tree: &Path) -> Option<LocalPackage> {
        let text = fs::read_to_string(tree.join("Cargo.toml")).ok()?;
        let value: toml::Table = toml::from_str(&text).ok()?;
        let name = value.get("package")?.get("name")?.as_str()?.to_string();
        let crate_name = value
            .get("lib")
            .and_then(|l| l.get("name"))
            .and_then(|n| n.as_str())
            .map_or_else(|| name.replace('-', "_"), str::to_string);
        Some(LocalPackage { name, crate_name })
    }

    fn owns_dir(&self, dir_name: &str) -> bool {
        hashed_stem(dir_name) == Some(self.name.as_str())
    }

    fn owns_file(&self, file_name: &str) -> bool {
        let stem = hashed_stem(file_name);
        stem == Some(self.crate_name.as_str())
            || stem == Some(&*format!("lib{}", self.crate_name))
            || stem == Some(self.name.as_str())
    }
}

/// `serde_json-1a2b3c` → `serde_json`; `libfoo-1a2b.rlib` → `libfoo`.
fn hashed_stem(name: &str) -> Option<&str> {
    let base = name.split('.').next()?;
    base.rsplit_once('-').map(|(stem, _)| stem)
}

/// Dependency artifacts worth sharing in `deps/`: libraries and proc-macros.
/// Executables (test and bin targets) and dep-info files belong to one tree.
fn shareable_dep_file(name: &str) -> bool {
    [".rlib", ".rmeta", ".so", ".dylib"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Seeds `private` (a target directory) from `shared`: dependency artifacts
/// plus the package's incremental caches. Only missing entries are linked.
pub fn seed(shared: &Path, private: &Path, local: &LocalPackage) -> io::Result<()> {
    link_dependencies(shared, private, local)?;
    for profile in PROFILES {
        let (from, to) = (
            shared.join(profile).join("incremental"),
            private.join(profile).join("incremental"),
        );
        if let Ok(entries) = fs::read_dir(&from) {
            fs::create_dir_all(&to)?;
            for entry in entries.flatten() {
                link_tree(&entry.path(), &to.join(entry.file_name()))?;
            }
        }
    }
    Ok(())
}

/// The profile folders of a target directory that are shared: the dev
/// profile (an engineer's own `cargo build`) and the release profile the
/// scenarios build and judge in.
const PROFILES: [&str; 2] = ["debug", "release"];

/// Publishes what `private` compiled that `shared` lacks (dependencies only).
pub fn publish(private: &Path, shared: &Path, local: &LocalPackage) -> io::Result<()> {
    link_dependencies(private, shared, local)
}

fn link_dependencies(from: &Path, to: &Path, local: &LocalPackage) -> io::Result<()> {
    for profile in PROFILES {
        link_profile(&from.join(profile), &to.join(profile), local)?;
    }
    Ok(())
}

fn link_profile(from: &Path, to: &Path, local: &LocalPackage) -> io::Result<()> {
    for sub in [".fingerprint", "build"] {
        let Ok(entries) = fs::read_dir(from.join(sub)) else {
            continue;
        };
        fs::create_dir_all(to.join(sub))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            if local.owns_dir(&name.to_string_lossy()) {
                continue;
            }
            link_tree(&entry.path(), &to.join(sub).join(&name))?;
        }
    }
    if let Ok(entries) = fs::read_dir(from.join("deps")) {
        fs::create_dir_all(to.join("deps"))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let n = name.to_string_lossy();
            if shareable_dep_file(&n) && !local.owns_file(&n) {
                link_file(&entry.path(), &to.join("deps").join(&name))?;
            }
        }
    }
    Ok(())
}

/// Recreates `from` at `to` with hard links (files) and directories; lock
/// files are created empty instead (a lock must never be shared), and an
/// incremental session another build is writing (`*-working`) is skipped.
fn link_tree(from: &Path, to: &Path) -> io::Result<()> {
    let ty = fs::symlink_metadata(from)?.file_type();
    if ty.is_dir() {
        if from
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with("-working"))
        {
            return Ok(());
        }
        fs::create_dir_all(to)?;
        for entry in fs::read_dir(from)?.flatten() {
            link_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else if ty.is_file() {
        if from.extension().is_some_and(|e| e == "lock") {
            if !to.exists() {
                fs::File::create(to)?;
            }
            return Ok(());
        }
        link_file(from, to)
    } else {
        Ok(())
    }
}

fn link_file(from: &Path, to: &Path) -> io::Result<()> {
    if to.exists() {
        return Ok(());
    }
    match fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        // Raced with a build writing the same name: theirs is as good.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        // Another filesystem (a cache on another disk): copy instead.
        Err(_) => fs::copy(from, to).map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, p.display().to_string()).unwrap();
    }

    #[test]
    fn seeding_links_dependencies_and_incremental_caches_but_not_the_package() {
        // The release profile is the one drills build in; debug is the
        // engineer's own `cargo build`.
        for profile in PROFILES {
            seeding_links_dependencies_in(profile);
        }
    }

    fn seeding_links_dependencies_in(profile: &str) {
        let tmp = tempfile::tempdir().unwrap();
        let shared = tmp.path().join("shared");
        let private = tmp.path().join("private");
        let d = shared.join(profile);
        for f in [
            "deps/libserde-1a2b.rlib",
            "deps/libserde-1a2b.rmeta",
            "deps/libserde-1a2b.d",
            "deps/serde_derive-3c4d.so",
            "deps/libledger-5e6f.rlib",
            "deps/ledger-7a8b",
            "deps/store_test-9c0d",
            ".fingerprint/serde-1a2b/lib-serde",
            ".fingerprint/ledger-5e6f/lib-ledger",
            "build/libsqlite3-sys-1111/out/libsqlite3.a",
            "incremental/ledger-2r2r/s-abc-def/dep-graph.bin",
            "incremental/ledger-2r2r/s-abc-def.lock",
            "incremental/ledger-2r2r/s-new-working/partial.bin",
            "ledger",
        ] {
            touch(&d.join(f));
        }
        let local = LocalPackage {
            name: "ledger".into(),
            crate_name: "ledger".into(),
        };
        seed(&shared, &private, &local).unwrap();
        let p = private.join(profile);
        for present in [
            "deps/libserde-1a2b.rlib",
            "deps/libserde-1a2b.rmeta",
            "deps/serde_derive-3c4d.so",
            ".fingerprint/serde-1a2b/lib-serde",
            "build/libsqlite3-sys-1111/out/libsqlite3.a",
            "incremental/ledger-2r2r/s-abc-def/dep-graph.bin",
        ] {
            assert!(p.join(present).is_file(), "{present} should be seeded");
        }
        for absent in [
            "deps/libserde-1a2b.d",
            "deps/libledger-5e6f.rlib",
            "deps/ledger-7a8b",
            "deps/store_test-9c0d",
            ".fingerprint/ledger-5e6f",
            "incremental/ledger-2r2r/s-new-working",
            "ledger",
        ] {
            assert!(!p.join(absent).exists(), "{absent} must not be seeded");
        }
        // Lock files are fresh files, not links to the shared ones.
        let lock = p.join("incremental/ledger-2r2r/s-abc-def.lock");
        assert_eq!(fs::read(&lock).unwrap(), b"");
        // Publishing back adds only dependencies the shared dir lacks.
        touch(&p.join("deps/libtokio-aaaa.rlib"));
        touch(&p.join("deps/libledger-ffff.rlib"));
        publish(&private, &shared, &local).unwrap();
        assert!(d.join("deps/libtokio-aaaa.rlib").is_file());
        assert!(!d.join("deps/libledger-ffff.rlib").exists());
    }

    #[test]
    fn the_package_is_read_from_cargo_toml() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(
            tmp.path().join("Cargo.toml"),
            "[package]\nname = \"billing-ledger\"\nversion = \"0.1.0\"\n",
        )
        .unwrap();
        let p = LocalPackage::of_tree(tmp.path()).unwrap();
        assert_eq!(
            (p.name.as_str(), p.crate_name.as_str()),
            ("billing-ledger", "billing_ledger")
        );
        assert!(LocalPackage::of_tree(&tmp.path().join("nope")).is_none());
    }
}
