//! The layering of `runner/`, read from the source: every `crate::` and
//! `super::` path of every module, resolved to the module it names. Two
//! rules hold:
//! - no import cycle between sibling modules, at any level (`a` uses `b`
//!   and `b` uses `a`, directly or through others); a module using its own
//!   parent or children is not a cycle;
//! - nothing below the command layer (`cli`, `commands/`) imports from it.
//!
//! Test modules (`#[cfg(test)] mod tests`) are left out: they may use anything.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Where an edge comes from: the file and line of the path.
#[derive(Clone, Debug)]
struct Site {
    file: String,
    line: usize,
    path: String,
}

fn runner() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runner")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `runner/a/b.rs` and `runner/a/b/mod.rs` are `a::b`; `lib.rs` is the crate root.
fn module_of(rel: &Path) -> Module {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// The source without comments, string literals and test modules, line
/// numbers kept (removed text becomes spaces).
fn code_only(src: &str) -> String {
    let src = match src.find("#[cfg(test)]\nmod tests") {
        Some(i) => &src[..i],
        None => src,
    };
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                out.push(if b[i] == b'\n' { '\n' } else { ' ' });
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            // A string (raw strings in the runner hold no `"` sequences that matter here).
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                if i < b.len() && b[i] == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A char literal such as '"' or '{'.
            out.push_str("' '");
            i += 3;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// `a::{b, c::{self, D}}` → `a::b`, `a::c`, `a::c::D`.
fn expand_use(tree: &str) -> Vec<String> {
    // `x as y` keeps `x`; then whitespace goes.
    let tree: String = tree
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .split(" as ")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                // Drop the alias: up to the next `,` or `}`.
                &part[part.find([',', '}']).unwrap_or(part.len())..]
            }
        })
        .collect::<String>()
        .replace(' ', "");
    fn go(prefix: &str, tree: &str, out: &mut Vec<String>) {
        match tree.find('{') {
            None => {
                let item = tree;
                let full = if item == "self" {
                    prefix.trim_end_matches("::").to_string()
                } else {
                    format!("{prefix}{item}")
                };
                out.push(full);
            }
            Some(open) => {
                let head = &tree[..open];
                let inner = &tree[open + 1..tree.rfind('}').unwrap()];
                let mut depth = 0;
                let mut start = 0;
                for (i, c) in inner.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            if !inner[start..i].is_empty() {
                                go(&format!("{prefix}{head}"), &inner[start..i], out);
                            }
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                if !inner[start..].is_empty() {
                    go(&format!("{prefix}{head}"), &inner[start..], out);
                }
            }
        }
    }
    let mut out = Vec::new();
    go("", &tree, &mut out);
    out
}

/// Every `crate::…`, `super::…` or `self::…` path in `code`, with its line.
fn paths(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    // `use` statements, braces expanded.
    let mut rest = 0;
    while let Some(i) = code[rest..].find("use ") {
        let at = rest + i;
        rest = at + 4;
        let before = code[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(end) = code[at..].find(';') else {
            break;
        };
        let tree = &code[at + 4..at + end];
        for p in expand_use(tree) {
            if p.starts_with("crate::") || p.starts_with("super::") || p.starts_with("self::") {
                found.push((line_of(at), p));
            }
        }
        rest = at + end;
    }
    // Paths used inline (`crate::plan::load(...)`).
    for root in ["crate::", "super::"] {
        let mut rest = 0;
        while let Some(i) = code[rest..].find(root) {
            let at = rest + i;
            rest = at + root.len();
            let before = code[..at].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let len = code[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(code.len() - at);
            let p = code[at..at + len].trim_end_matches(':').to_string();
            if p.contains("::") && !p.ends_with("::") {
                found.push((line_of(at), p));
            }
        }
    }
    found
}

/// The module a path names: the longest known module prefix of it,
/// `super::` and `self::` taken from `from`.
fn resolve(from: &Module, path: &str, known: &BTreeSet<Module>) -> Option<Module> {
    let mut segs: Vec<&str> = path.split("::").collect();
    let mut base: Module = match segs.first() {
        Some(&"crate") => {
            segs.remove(0);
            Vec::new()
        }
        Some(&"self") => {
            segs.remove(0);
            from.clone()
        }
        Some(&"super") => {
            let mut m = from.clone();
            while segs.first() == Some(&"super") {
                segs.remove(0);
                m.pop()?;
            }
            m
        }
        _ => return None,
    };
    let mut best = base.clone();
    for s in segs {
        base.push(s.to_string());
        if known.contains(&base) {
            best = base.clone();
        } else {
            break;
        }
    }
    Some(best)
}

struct Graph {
    modules: BTreeSet<Module>,
    /// Module → modules it uses, with where.
    uses: BTreeMap<Module, BTreeMap<Module, Site>>,
}

fn graph() -> Graph {
    let root = runner();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let files: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| f.strip_prefix(&root).unwrap() != Path::new("main.rs"))
        .collect();
    let modules: BTreeSet<Module> = files
        .iter()
        .map(|f| module_of(f.strip_prefix(&root).unwrap()))
        .collect();
    let mut uses: BTreeMap<Module, BTreeMap<Module, Site>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap();
        let from = module_of(rel);
        let code = code_only(&fs::read_to_string(f).unwrap());
        for (line, path) in paths(&code) {
            let Some(to) = resolve(&from, &path, &modules) else {
                continue;
            };
            if to != from {
                uses.entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert(Site {
                        file: format!("runner/{}", rel.display()),
                        line,
                        path,
                    });
            }
        }
    }
    Graph { modules, uses }
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

/// Edges between siblings: `a::x::…` using `a::y::…` is `x → y` under `a`.
fn sibling_edges(g: &Graph) -> BTreeMap<Module, BTreeMap<Module, Vec<Site>>> {
    let mut edges: BTreeMap<Module, BTreeMap<Module, Vec<Site>>> = BTreeMap::new();
    for (from, tos) in &g.uses {
        for (to, site) in tos {
            let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
            if common == from.len() || common == to.len() {
                continue; // a parent and its descendant
            }
            let a = from[..=common].to_vec();
            let b = to[..=common].to_vec();
            edges
                .entry(a)
                .or_default()
                .entry(b)
                .or_default()
                .push(site.clone());
        }
    }
    edges
}

/// Every elementary cycle found by a depth-first search, each reported once.
fn cycles(edges: &BTreeMap<Module, BTreeMap<Module, Vec<Site>>>) -> Vec<Vec<Module>> {
    fn dfs(
        at: &Module,
        edges: &BTreeMap<Module, BTreeMap<Module, Vec<Site>>>,
        stack: &mut Vec<Module>,
        done: &mut BTreeSet<Module>,
        found: &mut Vec<Vec<Module>>,
    ) {
        if let Some(i) = stack.iter().position(|m| m == at) {
            found.push(stack[i..].to_vec());
            return;
        }
        if done.contains(at) {
            return;
        }
        stack.push(at.clone());
        for next in edges.get(at).into_iter().flat_map(|t| t.keys()) {
            dfs(next, edges, stack, done, found);
        }
        stack.pop();
        done.insert(at.clone());
    }
    let mut found = Vec::new();
    let mut done = BTreeSet::new();
    for start in edges.keys() {
        dfs(start, edges, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

/// Cycles that were there before this test and are being taken apart, each
/// with why it exists. A listed cycle that is gone fails the test too (take
/// it off the list), so the list only shrinks; any other cycle fails.
const KNOWN_CYCLES: &[(&str, &str, &str)] = &[(
    "csvio",
    "stats",
    "csvio writes and parses stats::dataset::Observation; dataset reads imported CSV through csvio",
)];

#[test]
fn the_runner_modules_have_no_import_cycle() {
    let g = graph();
    assert!(
        g.modules.len() > 20 && g.uses.len() > 20,
        "the scan found the modules and their imports: {} modules, {} importing",
        g.modules.len(),
        g.uses.len()
    );
    let edges = sibling_edges(&g);
    let found = cycles(&edges);
    let set = |c: &[Module]| c.iter().map(name).collect::<BTreeSet<String>>();
    let known: Vec<BTreeSet<String>> = KNOWN_CYCLES
        .iter()
        .map(|(a, b, _)| [a.to_string(), b.to_string()].into_iter().collect())
        .collect();
    let mut report: Vec<String> = known
        .iter()
        .filter(|k| !found.iter().any(|c| set(c) == **k))
        .map(|k| format!("the known cycle {k:?} is gone: take it off KNOWN_CYCLES"))
        .collect();
    report.extend(
        found
            .iter()
            .filter(|c| !known.contains(&set(c)))
            .map(|cycle| {
                let mut lines = vec![format!(
                    "cycle: {} → {}",
                    cycle.iter().map(name).collect::<Vec<_>>().join(" → "),
                    name(&cycle[0])
                )];
                for (i, a) in cycle.iter().enumerate() {
                    let b = &cycle[(i + 1) % cycle.len()];
                    let site = &edges[a][b][0];
                    lines.push(format!(
                        "  {} uses {} at {}:{} ({})",
                        name(a),
                        name(b),
                        site.file,
                        site.line,
                        site.path
                    ));
                }
                lines.join("\n")
            }),
    );
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn nothing_below_the_command_layer_imports_from_it() {
    let g = graph();
    let layer = |m: &Module| m.first().is_some_and(|s| s == "cli" || s == "commands");
    let mut wrong = Vec::new();
    for (from, tos) in &g.uses {
        if layer(from) || from.is_empty() {
            continue;
        }
        for (to, site) in tos {
            if layer(to) {
                wrong.push(format!(
                    "{} uses {} at {}:{} ({})",
                    name(from),
                    name(to),
                    site.file,
                    site.line,
                    site.path
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_scan_sees_grouped_and_inline_imports() {
    // The reader itself: a grouped `use` with `self` and nesting, and an inline path.
    assert_eq!(
        expand_use("crate::plan::{self, Progress}"),
        ["crate::plan", "crate::plan::Progress"]
    );
    assert_eq!(
        expand_use("crate::stats::{dataset as ds, km}"),
        ["crate::stats::dataset", "crate::stats::km"]
    );
    assert_eq!(
        expand_use("super::{report::{self, Verification}, locate}"),
        [
            "super::report",
            "super::report::Verification",
            "super::locate"
        ]
    );
    let code = code_only("// crate::cli::x\nlet a = crate::stats::km::fit(\"crate::no\");\n");
    assert_eq!(paths(&code), [(2, "crate::stats::km::fit".to_string())]);
    let known: BTreeSet<Module> = [vec!["stats".into()], vec!["stats".into(), "km".into()]]
        .into_iter()
        .collect();
    let from: Module = vec!["stats".into(), "bootstrap".into()];
    assert_eq!(
        resolve(&from, "super::km::fit", &known),
        Some(vec!["stats".to_string(), "km".to_string()])
    );
}
