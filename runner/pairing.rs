//! Fair pairing, checked mechanically: the Go and Rust patch of a drill must
//! be of a similar size, and the two languages of a scenario must have the
//! same number of visible tests (they are ported one to one).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::Serialize;

use crate::catalog::{Drill, LanguageSpec, Scenario, Toolchain};
use crate::patch::PatchStats;

/// Pairing of one drill: its patch sizes per language.
#[derive(Debug, Clone, Serialize)]
pub struct PatchPairing {
    pub drill: String,
    pub sizes: BTreeMap<String, PatchStats>,
    /// Set when the largest patch changes more than twice the lines of the smallest.
    pub warning: Option<String>,
}

/// Visible-test counts of one scenario, per language.
#[derive(Debug, Clone, Serialize)]
pub struct TestPairing {
    pub scenario: String,
    pub tests: BTreeMap<String, usize>,
    /// Set when the counts differ.
    pub warning: Option<String>,
}

pub fn patches(d: &Drill) -> PatchPairing {
    let sizes: BTreeMap<String, PatchStats> = d
        .patches
        .iter()
        .map(|(l, p)| (l.clone(), p.stats()))
        .collect();
    let changed: Vec<usize> = sizes.values().map(|s| s.changed().max(1)).collect();
    let warning = match (changed.iter().min(), changed.iter().max()) {
        (Some(&lo), Some(&hi)) if hi > 2 * lo => Some(format!(
            "patch sizes differ by more than 2x ({}): pair the bug more closely",
            sizes
                .iter()
                .map(|(l, s)| format!("{l} {} lines", s.changed()))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => None,
    };
    PatchPairing {
        drill: d.id.clone(),
        sizes,
        warning,
    }
}

pub fn tests(s: &Scenario) -> TestPairing {
    let tests: BTreeMap<String, usize> = s
        .languages
        .iter()
        .map(|(l, spec)| (l.clone(), count_visible_tests(spec)))
        .collect();
    let distinct: std::collections::BTreeSet<usize> = tests.values().copied().collect();
    let warning = (distinct.len() > 1).then(|| {
        format!(
            "visible-test counts differ ({}): port the tests one to one",
            tests
                .iter()
                .map(|(l, n)| format!("{l} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    TestPairing {
        scenario: s.name.clone(),
        tests,
        warning,
    }
}

/// Top-level test functions in the language's test files, counted in the
/// source so the figure needs no build: Go `func TestX(t *testing.T)`, Rust
/// `#[test]` / `#[tokio::test]` functions.
pub fn count_visible_tests(spec: &LanguageSpec) -> usize {
    let mut files = Vec::new();
    collect_files(&spec.dir, &spec.dir, &mut files);
    files
        .iter()
        .filter(|rel| spec.is_test_file(rel))
        .filter_map(|rel| fs::read_to_string(spec.dir.join(rel)).ok())
        .map(|text| count_in_source(spec.toolchain, &text))
        .sum()
}

fn count_in_source(toolchain: Toolchain, text: &str) -> usize {
    text.lines()
        .map(str::trim_start)
        .filter(|l| match toolchain {
            Toolchain::Go => {
                l.starts_with("func Test") && l.contains("*testing.T)") && !l.contains("TestMain(")
            }
            Toolchain::Cargo => l.starts_with("#[test]") || l.starts_with("#[tokio::test"),
        })
        .count()
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        if path.is_dir() {
            collect_files(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_go_and_rust_tests_in_source() {
        let go = "package x\n\nfunc TestA(t *testing.T) {}\nfunc TestMain(m *testing.M) {}\nfunc helper(t *testing.T) {}\n\tfunc TestB(t *testing.T) {\n";
        assert_eq!(count_in_source(Toolchain::Go, go), 2);
        let rust = "#[test]\nfn a() {}\n#[tokio::test]\nasync fn b() {}\n#[tokio::test(flavor = \"multi_thread\")]\nasync fn c() {}\n// #[test] in a comment is not counted\n";
        assert_eq!(count_in_source(Toolchain::Cargo, rust), 3);
    }
}
