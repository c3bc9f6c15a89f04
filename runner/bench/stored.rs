//! Stored bench results (`<results>/bench/<id>.json`) read back, merged
//! across results directories like attempts: a result is its id, so the same
//! file copied into two directories counts once. A file that does not parse,
//! or that a newer drill wrote, is reported by path, never skipped silently.

use std::collections::BTreeMap;
use std::path::Path;

use super::scenario::{BenchResult, RESULT_FORMAT_VERSION};
use crate::results::{Damaged, BENCH_DIR};

/// Every bench result of some results directories.
#[derive(Debug, Default)]
pub struct Stored {
    /// By id (so merged directories count a result once), each once.
    pub results: Vec<BenchResult>,
    pub damaged: Vec<Damaged>,
}

impl Stored {
    /// Reads `bench/*.json` of every directory in `roots` (a directory
    /// without `bench/` has none).
    pub fn load(roots: &[&Path]) -> Stored {
        let mut by_id: BTreeMap<String, BenchResult> = BTreeMap::new();
        let mut damaged = Vec::new();
        for root in roots {
            let dir = root.join(BENCH_DIR);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut paths: Vec<_> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "json")
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            paths.sort();
            for path in paths {
                match read(&path) {
                    Ok(r) => {
                        by_id.entry(r.id.clone()).or_insert(r);
                    }
                    Err(why) => damaged.push(Damaged { path, why }),
                }
            }
        }
        Stored {
            results: by_id.into_values().collect(),
            damaged,
        }
    }

    /// Per scenario, its latest result at fixed rates (by start time; one
    /// that finished uninterrupted before an interrupted one), and how many
    /// others there are. Sweeps are apart: [`Stored::latest_sweeps`].
    pub fn latest_per_scenario(&self) -> BTreeMap<&str, (&BenchResult, usize)> {
        self.latest(false)
    }

    /// Per scenario, its latest `--sweep` result, and how many others there are.
    pub fn latest_sweeps(&self) -> BTreeMap<&str, (&BenchResult, usize)> {
        self.latest(true)
    }

    fn latest(&self, sweeps: bool) -> BTreeMap<&str, (&BenchResult, usize)> {
        let mut out: BTreeMap<&str, (&BenchResult, usize)> = BTreeMap::new();
        for r in self.results.iter().filter(|r| r.sweep.is_some() == sweeps) {
            let key = |x: &BenchResult| (!x.interrupted, x.started_at.clone(), x.id.clone());
            out.entry(r.scenario.as_str())
                .and_modify(|(best, others)| {
                    *others += 1;
                    if key(r) > key(best) {
                        *best = r;
                    }
                })
                .or_insert((r, 0));
        }
        out
    }
}

fn read(path: &Path) -> Result<BenchResult, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
    match v.get("format_version").and_then(|f| f.as_u64()) {
        Some(n) if n > u64::from(RESULT_FORMAT_VERSION) => {
            return Err(format!(
                "format_version {n}: written by a newer drill (this one reads up to {RESULT_FORMAT_VERSION})"
            ))
        }
        None => return Err("no format_version: not a bench result".into()),
        _ => {}
    }
    serde_json::from_value(v).map_err(|e| format!("not a bench result: {e}"))
}
