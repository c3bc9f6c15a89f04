//! The catalog: scenarios (`scenarios/<name>/scenario.toml` + `acceptance.toml`)
//! and drills (`drills/<scenario>/<bug>/drill.toml` + one patch per language).
//! Loading validates everything a later stage relies on, and every error names
//! the file, the field and what to do.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::harness::Suite;
use crate::patch::Patch;
use crate::taxonomy;

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Patch(#[from] crate::patch::PatchError),
    #[error("{0}")]
    Suite(String),
    #[error("no drill `{id}` in the catalog at {catalog}{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`? (`drill list` shows them all)")).unwrap_or_else(|| " (`drill list` shows them all)".into()))]
    UnknownDrill {
        id: String,
        catalog: PathBuf,
        suggestion: Option<String>,
    },
}

impl CatalogError {
    fn invalid(path: &Path, message: impl Into<String>) -> Self {
        CatalogError::Invalid {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Which toolchain builds a language tree; decides the version check and the
/// cache directories the kit provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Toolchain {
    Go,
    Cargo,
}

impl Toolchain {
    pub fn program(self) -> &'static str {
        match self {
            Toolchain::Go => "go",
            Toolchain::Cargo => "cargo",
        }
    }

    /// The tree's manifest and the field of it that names the minimum
    /// toolchain version.
    pub fn manifest(self) -> (&'static str, &'static str) {
        match self {
            Toolchain::Go => ("go.mod", "go"),
            Toolchain::Cargo => ("Cargo.toml", "rust-version"),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    format_version: u32,
    title: String,
    summary: String,
    languages: BTreeMap<String, LanguageFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageFile {
    dir: String,
    toolchain: Toolchain,
    min_version: String,
    build: Vec<String>,
    binary: String,
    test: Vec<String>,
    #[serde(default)]
    test_files: Vec<String>,
    #[serde(default)]
    config_files: Vec<String>,
}

/// How to build and test one language of a scenario.
#[derive(Debug, Clone)]
pub struct LanguageSpec {
    pub lang: String,
    /// Absolute path of the clean tree.
    pub dir: PathBuf,
    pub toolchain: Toolchain,
    pub min_version: String,
    pub build: Vec<String>,
    pub binary: String,
    pub test: Vec<String>,
    pub test_files: GlobSet,
    pub test_file_patterns: Vec<String>,
    pub config_files: GlobSet,
}

impl LanguageSpec {
    /// A path (relative to the language dir) that belongs to the tests.
    pub fn is_test_file(&self, rel: &str) -> bool {
        self.test_files.is_match(rel)
    }

    /// A path a drill patch may not touch: tests, fixtures and build configuration.
    pub fn is_protected(&self, rel: &str) -> bool {
        self.test_files.is_match(rel) || self.config_files.is_match(rel)
    }
}

#[derive(Debug)]
pub struct Scenario {
    pub name: String,
    pub dir: PathBuf,
    pub title: String,
    pub summary: String,
    pub languages: BTreeMap<String, LanguageSpec>,
    pub suite: Suite,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DrillFile {
    format_version: u32,
    title: String,
    class: String,
    difficulty: u8,
    checks: Vec<String>,
    #[serde(default)]
    languages: Option<Vec<String>>,
    /// A language whose ordinary idioms make this bug impossible (the drill exists only in the others).
    #[serde(default)]
    prevented_in: Option<String>,
    /// What prevents it there (the compiler error, the lint, the type).
    #[serde(default)]
    prevented_note: Option<String>,
    /// The bug shows only under some interleavings or timings: a test of it
    /// is run several times by `drill check-test`.
    #[serde(default)]
    timing: bool,
    ticket: Ticket,
    hints: Vec<HintFile>,
    debrief: Debrief,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HintFile {
    text: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ticket {
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Debrief {
    pub root_cause: String,
    pub fix: String,
}

#[derive(Debug)]
pub struct Drill {
    /// `<scenario>/<bug>`.
    pub id: String,
    pub scenario: String,
    pub bug: String,
    pub dir: PathBuf,
    pub title: String,
    pub class: String,
    pub difficulty: u8,
    pub checks: Vec<String>,
    pub languages: Vec<String>,
    pub ticket: Ticket,
    pub hints: Vec<String>,
    pub debrief: Debrief,
    pub patches: BTreeMap<String, Patch>,
    /// A language the drill does not exist in because its idioms prevent the bug, with why.
    pub prevented: Option<Prevented>,
    /// Plausible wrong fixes the acceptance suite must reject (`wrong-fixes/`), sorted by language and name.
    pub wrong_fixes: Vec<WrongFix>,
    /// Languages whose patch does not apply to the clean tree (language →
    /// why): not in `languages`, still in `patches`, for `drill verify`.
    pub unappliable: BTreeMap<String, String>,
    /// Timing-dependent (`timing = true`): `drill check-test` runs a test of
    /// it several times per tree (the test-first module's `TIMING_RUNS`).
    pub timing: bool,
}

impl Drill {
    /// Every language the drill declares, usable or not (what `verify` checks).
    pub fn declared_languages(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .languages
            .iter()
            .chain(self.unappliable.keys())
            .cloned()
            .collect();
        all.sort();
        all
    }

    pub fn patch(&self, lang: &str) -> Option<&Patch> {
        self.patches.get(lang)
    }

    pub fn wrong_fixes_for<'d>(&'d self, lang: &'d str) -> impl Iterator<Item = &'d WrongFix> {
        self.wrong_fixes.iter().filter(move |w| w.lang == lang)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Prevented {
    pub lang: String,
    pub note: String,
}

/// What a wrong fix gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WrongFixKind {
    /// Mitigates the symptom, leaves the cause.
    Partial,
    /// Removes the feature the bug sits in (the rate limit, the retry, the dedup...).
    Overfix,
}

impl WrongFixKind {
    pub const ALL: [WrongFixKind; 2] = [WrongFixKind::Partial, WrongFixKind::Overfix];

    pub fn as_str(self) -> &'static str {
        match self {
            WrongFixKind::Partial => "partial",
            WrongFixKind::Overfix => "overfix",
        }
    }
}

/// `wrong-fixes/<kind>-<slug>.<lang>.patch`: a diff against the bugged tree.
#[derive(Debug, Clone)]
pub struct WrongFix {
    /// `<kind>-<slug>`.
    pub name: String,
    pub kind: WrongFixKind,
    pub lang: String,
    pub patch: Patch,
}

/// The folder of a drill that holds its wrong fixes.
pub const WRONG_FIXES_DIR: &str = "wrong-fixes";

#[derive(Debug)]
pub struct Catalog {
    pub root: PathBuf,
    pub scenarios: BTreeMap<String, Scenario>,
    /// Sorted by id.
    pub drills: Vec<Drill>,
    /// What loading left out, for `drill list` to say: a folder that looks
    /// like a drill but has no `drill.toml`, a language whose patch does not
    /// apply to its clean tree.
    pub warnings: Vec<String>,
}

impl Catalog {
    pub fn load(root: &Path) -> Result<Catalog, CatalogError> {
        let root = match root.canonicalize() {
            Ok(root) => root,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CatalogError::invalid(
                    root,
                    "no such folder: point --catalog or DRILL_CATALOG at a drill catalog \
                     (a folder holding scenarios/ and drills/)",
                ))
            }
            Err(source) => {
                return Err(CatalogError::Io {
                    path: root.to_path_buf(),
                    source,
                })
            }
        };
        let scen_root = root.join("scenarios");
        if !scen_root.is_dir() {
            return Err(CatalogError::invalid(
                &root,
                "not a drill catalog: it has no `scenarios/` folder (point --catalog or DRILL_CATALOG at a folder holding scenarios/ and drills/)",
            ));
        }
        let mut scenarios = BTreeMap::new();
        let mut warnings = Vec::new();
        for dir in subdirs(&scen_root)? {
            let file = dir.join("scenario.toml");
            if !file.exists() {
                continue;
            }
            refuse_links(&dir)?;
            let s = load_scenario(&dir, &file)?;
            scenarios.insert(s.name.clone(), s);
        }
        let mut drills = Vec::new();
        let drill_root = root.join("drills");
        if drill_root.is_dir() {
            for sdir in subdirs(&drill_root)? {
                let sname = file_name(&sdir);
                for bdir in subdirs(&sdir)? {
                    let file = bdir.join("drill.toml");
                    if !file.exists() {
                        if let Some(w) = not_a_drill(&bdir) {
                            warnings.push(w);
                        }
                        continue;
                    }
                    refuse_links(&bdir)?;
                    let Some(scenario) = scenarios.get(&sname) else {
                        return Err(CatalogError::invalid(
                            &file,
                            format!(
                                "the drill's folder is under drills/{sname}/, but there is no scenario `{sname}` (expected scenarios/{sname}/scenario.toml)"
                            ),
                        ));
                    };
                    let mut drill = load_drill(scenario, &bdir, &file)?;
                    set_aside_unappliable(&mut drill, scenario, &mut warnings);
                    drills.push(drill);
                }
            }
        }
        drills.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Catalog {
            root,
            scenarios,
            drills,
            warnings,
        })
    }

    pub fn drill(&self, id: &str) -> Result<&Drill, CatalogError> {
        if let Some(d) = self.drills.iter().find(|d| d.id == id) {
            return Ok(d);
        }
        // A bare bug name is fine when it is unambiguous.
        let by_bug: Vec<&Drill> = self.drills.iter().filter(|d| d.bug == id).collect();
        if by_bug.len() == 1 {
            return Ok(by_bug[0]);
        }
        let suggestion = self
            .drills
            .iter()
            .map(|d| {
                (
                    strsim::levenshtein(id, &d.id).min(strsim::levenshtein(id, &d.bug) + 1),
                    &d.id,
                )
            })
            .min()
            .filter(|(dist, _)| *dist <= id.len().max(4) / 2 + 2)
            .map(|(_, id)| id.clone());
        Err(CatalogError::UnknownDrill {
            id: id.to_string(),
            catalog: self.root.clone(),
            suggestion,
        })
    }

    pub fn scenario(&self, name: &str) -> &Scenario {
        // Drills are only loaded for existing scenarios, so a drill's scenario is always here.
        &self.scenarios[name]
    }

    /// `<commit>` or `<commit>-dirty` when the catalog is a git repository.
    /// Which revision of the catalog this is: an unpacked built-in catalog's
    /// content hash, else the git commit of the repository it sits in
    /// (`-dirty` with uncommitted changes).
    pub fn revision(&self) -> Option<String> {
        if let Some(built_in) = crate::embedded::revision_at(&self.root) {
            return Some(built_in);
        }
        let repo = git2::Repository::discover(&self.root).ok()?;
        let head = repo.head().ok()?.peel_to_commit().ok()?;
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(false);
        let dirty = repo
            .statuses(Some(&mut opts))
            .map(|s| !s.is_empty())
            .unwrap_or(false);
        let id = head.id().to_string();
        Some(if dirty { format!("{id}-dirty") } else { id })
    }
}

fn load_scenario(dir: &Path, file: &Path) -> Result<Scenario, CatalogError> {
    let name = file_name(dir);
    let parsed: ScenarioFile = read_toml(file)?;
    check_version(file, parsed.format_version)?;
    if parsed.languages.is_empty() {
        return Err(CatalogError::invalid(
            file,
            "no [languages.<name>] table: a scenario needs at least one language",
        ));
    }
    let mut languages = BTreeMap::new();
    for (lang, l) in parsed.languages {
        let field = |f: &str| format!("languages.{lang}.{f}");
        let ldir = dir.join(&l.dir);
        if !ldir.is_dir() {
            return Err(CatalogError::invalid(
                file,
                format!("{}: folder {} does not exist", field("dir"), ldir.display()),
            ));
        }
        let inside = ldir
            .canonicalize()
            .ok()
            .zip(dir.canonicalize().ok())
            .is_some_and(|(l, d)| l.starts_with(&d) && l != d);
        if !inside {
            return Err(CatalogError::invalid(
                file,
                format!(
                    "{}: `{}` is not a folder inside the scenario's folder; name a subfolder such as \"go\"",
                    field("dir"),
                    l.dir
                ),
            ));
        }
        if l.build.is_empty() || l.test.is_empty() {
            return Err(CatalogError::invalid(
                file,
                format!(
                    "{} and {} must be non-empty commands",
                    field("build"),
                    field("test")
                ),
            ));
        }
        if parse_version(&l.min_version).is_none() {
            return Err(CatalogError::invalid(
                file,
                format!(
                    "{}: `{}` is not a version like 1.22",
                    field("min_version"),
                    l.min_version
                ),
            ));
        }
        let globs = |patterns: &[String], f: &str| -> Result<GlobSet, CatalogError> {
            let mut b = GlobSetBuilder::new();
            for p in patterns {
                b.add(Glob::new(p).map_err(|e| {
                    CatalogError::invalid(file, format!("{}: bad glob `{p}`: {e}", field(f)))
                })?);
            }
            b.build()
                .map_err(|e| CatalogError::invalid(file, format!("{}: {e}", field(f))))
        };
        languages.insert(
            lang.clone(),
            LanguageSpec {
                lang: lang.clone(),
                dir: ldir,
                toolchain: l.toolchain,
                min_version: l.min_version,
                build: l.build,
                binary: l.binary,
                test: l.test,
                test_files: globs(&l.test_files, "test_files")?,
                test_file_patterns: l.test_files,
                config_files: globs(&l.config_files, "config_files")?,
            },
        );
    }
    let suite_path = dir.join("acceptance.toml");
    if !suite_path.exists() {
        return Err(CatalogError::invalid(
            &suite_path,
            "missing: every scenario needs its acceptance suite (see docs/drill-format.md)",
        ));
    }
    let suite = Suite::load(&suite_path).map_err(|e| CatalogError::Suite(e.to_string()))?;
    Ok(Scenario {
        name,
        dir: dir.to_path_buf(),
        title: parsed.title,
        summary: parsed.summary,
        languages,
        suite,
    })
}

fn load_drill(scenario: &Scenario, dir: &Path, file: &Path) -> Result<Drill, CatalogError> {
    let bug = file_name(dir);
    let d: DrillFile = read_toml(file)?;
    check_version(file, d.format_version)?;
    if taxonomy::find(&d.class).is_none() {
        let known: Vec<&str> = taxonomy::ids().collect();
        return Err(CatalogError::invalid(
            file,
            format!(
                "class: unknown bug class `{}`; use one of {} (docs/taxonomy.md explains each)",
                d.class,
                known.join(", ")
            ),
        ));
    }
    if !(1..=5).contains(&d.difficulty) {
        return Err(CatalogError::invalid(
            file,
            format!(
                "difficulty: {} is out of range; use 1 (warm-up) to 5 (expert)",
                d.difficulty
            ),
        ));
    }
    if d.checks.is_empty() {
        return Err(CatalogError::invalid(
            file,
            "checks: name at least one acceptance check that fails while the bug is present",
        ));
    }
    for c in &d.checks {
        if !scenario.suite.has_check(c) {
            return Err(CatalogError::invalid(
                file,
                format!(
                    "checks: scenario `{}` has no acceptance check `{c}`; it has: {}",
                    scenario.name,
                    scenario.suite.check_names().join(", ")
                ),
            ));
        }
    }
    if d.hints.len() < 2 {
        return Err(CatalogError::invalid(
            file,
            "hints: give at least two graded hints ([[hints]] text = \"...\"), vaguest first",
        ));
    }
    if d.ticket.body.trim().is_empty() {
        return Err(CatalogError::invalid(
            file,
            "ticket.body: the incident ticket is empty",
        ));
    }
    let prevented = match (d.prevented_in, d.prevented_note) {
        (None, None) => None,
        (Some(lang), Some(note)) if !note.trim().is_empty() => {
            if !scenario.languages.contains_key(&lang) {
                return Err(CatalogError::invalid(
                    file,
                    format!(
                        "prevented_in: scenario `{}` has no language `{lang}`",
                        scenario.name
                    ),
                ));
            }
            Some(Prevented { lang, note })
        }
        (Some(_), _) => {
            return Err(CatalogError::invalid(
                file,
                "prevented_note: say what prevents the bug in the `prevented_in` language (the compiler error, lint or type)",
            ))
        }
        (None, Some(_)) => {
            return Err(CatalogError::invalid(
                file,
                "prevented_note is set but prevented_in is not: name the language whose idioms prevent the bug",
            ))
        }
    };
    let languages = d.languages.unwrap_or_else(|| {
        scenario
            .languages
            .keys()
            .filter(|l| prevented.as_ref().map(|p| &p.lang) != Some(*l))
            .cloned()
            .collect()
    });
    if let Some(p) = &prevented {
        if languages.contains(&p.lang) {
            return Err(CatalogError::invalid(
                file,
                format!(
                    "languages: lists `{}`, the language named in prevented_in; a prevented drill exists only in the others",
                    p.lang
                ),
            ));
        }
        let stray = dir.join(format!("{}.patch", p.lang));
        if stray.exists() {
            return Err(CatalogError::invalid(
                &stray,
                format!(
                    "the drill is prevented_in = \"{}\", so it has no patch for that language: delete this file or drop prevented_in",
                    p.lang
                ),
            ));
        }
    }
    if languages.is_empty() {
        return Err(CatalogError::invalid(
            file,
            "languages: the drill exists in no language",
        ));
    }
    let mut patches = BTreeMap::new();
    for lang in &languages {
        let Some(spec) = scenario.languages.get(lang) else {
            return Err(CatalogError::invalid(
                file,
                format!(
                    "languages: scenario `{}` has no language `{lang}`",
                    scenario.name
                ),
            ));
        };
        let ppath = dir.join(format!("{lang}.patch"));
        if !ppath.exists() {
            return Err(CatalogError::invalid(
                &ppath,
                format!(
                    "missing: drill needs a patch for `{lang}` (a `git diff` against {})",
                    spec.dir.display()
                ),
            ));
        }
        let patch = Patch::load(&ppath)?;
        for p in patch.paths() {
            if spec.is_protected(p) {
                return Err(CatalogError::invalid(
                    &ppath,
                    format!("touches {p}, a test, fixture or build-config file; a drill patch may only change non-test source"),
                ));
            }
        }
        patches.insert(lang.clone(), patch);
    }
    let wrong_fixes = load_wrong_fixes(scenario, dir, &languages)?;
    Ok(Drill {
        id: format!("{}/{bug}", scenario.name),
        scenario: scenario.name.clone(),
        bug,
        dir: dir.to_path_buf(),
        title: d.title,
        class: d.class,
        difficulty: d.difficulty,
        checks: d.checks,
        languages,
        ticket: d.ticket,
        hints: d.hints.into_iter().map(|h| h.text).collect(),
        debrief: d.debrief,
        patches,
        prevented,
        wrong_fixes,
        unappliable: BTreeMap::new(),
        timing: d.timing,
    })
}

/// `wrong-fixes/<kind>-<slug>.<lang>.patch`; every file in the folder must be one.
fn load_wrong_fixes(
    scenario: &Scenario,
    dir: &Path,
    languages: &[String],
) -> Result<Vec<WrongFix>, CatalogError> {
    let wdir = dir.join(WRONG_FIXES_DIR);
    if !wdir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let entries = fs::read_dir(&wdir).map_err(|source| CatalogError::Io {
        path: wdir.clone(),
        source,
    })?;
    for e in entries {
        let path = e
            .map_err(|source| CatalogError::Io {
                path: wdir.clone(),
                source,
            })?
            .path();
        let fname = file_name(&path);
        let bad = |why: String| {
            CatalogError::invalid(
                &path,
                format!(
                    "{why}; a wrong fix is named <kind>-<slug>.<lang>.patch with kind `partial` or `overfix` and lang one of {} (docs/drill-format.md)",
                    languages.join(", ")
                ),
            )
        };
        let Some(stem) = fname.strip_suffix(".patch") else {
            return Err(bad("not a .patch file".into()));
        };
        let Some((name, lang)) = stem.rsplit_once('.') else {
            return Err(bad("no language in the name".into()));
        };
        if !languages.iter().any(|l| l == lang) {
            return Err(bad(format!("`{lang}` is not a language of this drill")));
        }
        let kind = WrongFixKind::ALL
            .into_iter()
            .find(|k| {
                name.strip_prefix(k.as_str())
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|slug| !slug.is_empty())
            })
            .ok_or_else(|| {
                bad(format!(
                    "`{name}` does not start with `partial-` or `overfix-`"
                ))
            })?;
        let patch = Patch::load(&path)?;
        if patch.description.is_empty() {
            return Err(CatalogError::invalid(
                &path,
                "no description: write a sentence or two before the first `--- ` line saying what this fix gets wrong",
            ));
        }
        let spec = &scenario.languages[lang];
        for p in patch.paths() {
            if spec.is_protected(p) {
                return Err(CatalogError::invalid(
                    &path,
                    format!("touches {p}, a test, fixture or build-config file; a wrong fix may only change non-test source"),
                ));
            }
        }
        out.push(WrongFix {
            name: name.to_string(),
            kind,
            lang: lang.to_string(),
            patch,
        });
    }
    out.sort_by(|a, b| (&a.lang, &a.name).cmp(&(&b.lang, &b.name)));
    Ok(out)
}

fn read_toml<T: serde::de::DeserializeOwned>(file: &Path) -> Result<T, CatalogError> {
    let text = fs::read_to_string(file).map_err(|source| CatalogError::Io {
        path: file.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| {
        CatalogError::invalid(file, format!("malformed: {}", e.to_string().trim_end()))
    })
}

fn check_version(file: &Path, v: u32) -> Result<(), CatalogError> {
    if v != FORMAT_VERSION {
        return Err(CatalogError::invalid(
            file,
            format!("format_version = {v} is not supported by this drill ({FORMAT_VERSION}); upgrade drillkit or convert the file"),
        ));
    }
    Ok(())
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, CatalogError> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(|source| CatalogError::Io {
        path: dir.to_path_buf(),
        source,
    })? {
        let e = e.map_err(|source| CatalogError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        if file_name(&e.path()).starts_with('.') {
            continue;
        }
        let ty = e.file_type().map_err(|source| CatalogError::Io {
            path: e.path(),
            source,
        })?;
        if ty.is_symlink() {
            return Err(link_in_catalog(&e.path()));
        }
        if ty.is_dir() {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}

fn link_in_catalog(path: &Path) -> CatalogError {
    let to = fs::read_link(path)
        .map(|t| format!(" (to {})", t.display()))
        .unwrap_or_default();
    CatalogError::invalid(
        path,
        format!(
            "a symbolic link{to}; a catalog may not hold links (the kit copies catalog trees \
             into workspaces and never follows one): replace it with the file or folder itself"
        ),
    )
}

/// Refuses a symbolic link anywhere under `dir` (build output and version
/// control, which the kit never copies, are not walked).
fn refuse_links(dir: &Path) -> Result<(), CatalogError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CatalogError::Io { path, source }
    };
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let ty = entry.file_type().map_err(io(&entry.path()))?;
        if ty.is_symlink() {
            return Err(link_in_catalog(&entry.path()));
        }
        if ty.is_dir() {
            refuse_links(&entry.path())?;
        }
    }
    Ok(())
}

/// A folder under `drills/<scenario>/` with no `drill.toml`: a warning if
/// it holds what a drill holds (a misnamed `Drill.toml`, a patch).
fn not_a_drill(dir: &Path) -> Option<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let drill_like: Vec<&String> = names
        .iter()
        .filter(|n| n.eq_ignore_ascii_case("drill.toml") || n.ends_with(".patch"))
        .collect();
    if drill_like.is_empty() {
        return None;
    }
    let list: Vec<&str> = drill_like.iter().map(|n| n.as_str()).collect();
    Some(format!(
        "{} is not loaded: it has {} but no drill.toml (file names are case-sensitive)",
        dir.display(),
        list.join(", ")
    ))
}

/// Checks each language's patch against its clean tree (in memory). A
/// language whose patch does not apply is taken out of `languages` (so it is
/// neither listed nor started) into `unappliable`, with a warning; `drill
/// verify` still reports it hunk by hunk.
fn set_aside_unappliable(drill: &mut Drill, scenario: &Scenario, warnings: &mut Vec<String>) {
    let mut kept = Vec::new();
    for lang in std::mem::take(&mut drill.languages) {
        let applies = match (drill.patches.get(&lang), scenario.languages.get(&lang)) {
            (Some(patch), Some(spec)) => patch.check_against(&spec.dir),
            _ => Ok(()),
        };
        match applies {
            Ok(()) => kept.push(lang),
            Err(e) => {
                warnings.push(format!(
                    "drill {} is listed without {lang}: its patch does not apply to the clean tree ({e}); \
                     regenerate it with `git diff` against {}",
                    drill.id,
                    scenario.languages[&lang].dir.display()
                ));
                drill.unappliable.insert(lang, e.to_string());
            }
        }
    }
    drill.languages = kept;
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `1.22`, `1.22.3`, `go1.26.8` → comparable numbers.
pub fn parse_version(s: &str) -> Option<Vec<u32>> {
    let s = s.trim().trim_start_matches("go");
    let v: Option<Vec<u32>> = s.split('.').map(|p| p.parse().ok()).collect();
    v.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(parse_version("1.9").unwrap() < parse_version("1.22").unwrap());
        assert_eq!(parse_version("go1.26.8").unwrap(), vec![1, 26, 8]);
        assert!(parse_version("latest").is_none());
    }
}
