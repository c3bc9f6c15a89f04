//! `drill list` and `drill verify` on the kit's catalog and on broken copies of it.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn drill() -> Command {
    let mut c = Command::cargo_bin("drill").expect("drill binary");
    c.env_remove("DRILL_CATALOG");
    c
}

/// A copy of the kit's catalog that a test may break.
fn catalog_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    drillkit::builder::copy_tree(&repo().join("scenarios"), &dir.path().join("scenarios")).unwrap();
    drillkit::builder::copy_tree(&repo().join("drills"), &dir.path().join("drills")).unwrap();
    dir
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// `drill list` on a broken catalog: refused with the catalog exit code; returns stderr.
fn list_is_refused(cat: &tempfile::TempDir) -> String {
    let out = drill()
        .arg("--catalog")
        .arg(cat.path())
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    stderr_of(&out)
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn list_json_describes_every_drill() {
    let out = drill().args(["list", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(items.len() >= 3, "{items:?}");
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    for id in [
        "billing-ledger/retry-double-charge",
        "billing-ledger/lost-update",
        "billing-ledger/stalled-provider",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    for i in &items {
        let id = i["id"].as_str().unwrap();
        assert_eq!(
            format!(
                "{}/{}",
                i["scenario"].as_str().unwrap(),
                i["bug"].as_str().unwrap()
            ),
            id
        );
        assert!(i["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(i["class"].as_str().is_some());
        let d = i["difficulty"].as_u64().unwrap();
        assert!((1..=5).contains(&d));
        assert_eq!(
            i["languages"],
            serde_json::json!(patch_languages(id)),
            "{id}"
        );
        // A one-language drill says which language prevents the bug.
        let prevented = match patch_languages(id).as_slice() {
            ["go"] => serde_json::json!("rust"),
            ["rust"] => serde_json::json!("go"),
            _ => serde_json::Value::Null,
        };
        assert_eq!(i["prevented_in"], prevented, "{id}");
    }
}

#[test]
fn list_tags_the_one_language_drills() {
    let out = drill().args(["list"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("edge-proxy/leaked-upstream-slots "))
        .expect("the drill is listed");
    assert!(
        line.trim_end().ends_with("go (prevented in rust)"),
        "{line}"
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("edge-proxy/hung-health-probe "))
        .expect("the drill is listed");
    assert!(line.trim_end().ends_with("go, rust"), "{line}");
}

/// The languages a drill has a patch for (a `prevented_in` drill lacks one).
fn patch_languages(id: &str) -> Vec<&'static str> {
    ["go", "rust"]
        .into_iter()
        .filter(|l| {
            repo()
                .join("drills")
                .join(id)
                .join(format!("{l}.patch"))
                .is_file()
        })
        .collect()
}

/// The catalog's drill ids, read from the folders (`drills/<scenario>/<bug>/drill.toml`).
fn drill_ids(root: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    for s in fs::read_dir(root.join("drills")).unwrap().flatten() {
        for b in fs::read_dir(s.path()).unwrap().flatten() {
            if b.path().join("drill.toml").is_file() {
                ids.push(format!(
                    "{}/{}",
                    s.file_name().to_string_lossy(),
                    b.file_name().to_string_lossy()
                ));
            }
        }
    }
    ids.sort();
    ids
}

#[test]
fn list_prints_every_drill_as_a_row_and_names_the_built_in_catalog_and_its_revision() {
    // An empty results directory: no open blind attempt withholds a drill.
    let results = tempfile::tempdir().unwrap();
    let out = drill()
        .env("DRILL_RESULTS", results.path())
        .arg("list")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let ids = drill_ids(&repo());
    let scenarios = fs::read_dir(repo().join("scenarios")).unwrap().count();
    assert_eq!(
        lines.len(),
        ids.len() + 4,
        "header, rule, a row per drill, blank, footer:\n{text}"
    );
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["id", "title", "class", "difficulty", "languages"]
    );
    assert!(lines[1].chars().all(|c| c == '-'), "{text}");
    for (row, id) in lines[2..2 + ids.len()].iter().zip(&ids) {
        assert!(row.starts_with(&format!("{id} ")), "row for {id}: {row:?}");
        let langs = match patch_languages(id).as_slice() {
            ["go"] => "go (prevented in rust)".to_string(),
            ["rust"] => "rust (prevented in go)".to_string(),
            l => l.join(", "),
        };
        assert!(row.ends_with(&langs), "{id} in {langs}: {row:?}");
    }
    assert_eq!(lines[2 + ids.len()], "");
    let hash = drillkit::embedded::CONTENT_HASH;
    let unpacked = fs::canonicalize(drillkit::builder::Cache::from_env().root)
        .unwrap()
        .join("catalogs")
        .join(hash);
    assert_eq!(
        lines[3 + ids.len()],
        format!(
            "{} drill(s) in {scenarios} scenario(s) from the built-in catalog \
             (revision built-in-{hash}; unpacked in {})",
            ids.len(),
            unpacked.display()
        )
    );
}

#[test]
fn list_of_another_catalog_names_its_folder_and_git_revision() {
    let results = tempfile::tempdir().unwrap();
    let out = drill()
        .env("DRILL_RESULTS", results.path())
        .arg("--catalog")
        .arg(repo())
        .arg("list")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let footer = text.lines().last().unwrap();
    let root = fs::canonicalize(repo()).unwrap();
    let prefix = format!("from {} (revision ", root.display());
    let revision = footer
        .split_once(&prefix)
        .map(|(_, r)| r.trim_end_matches(')'))
        .unwrap_or_else(|| panic!("{footer:?} names {prefix:?}"));
    let commit = revision.trim_end_matches("-dirty");
    assert_eq!(commit.len(), 12, "a short commit id: {footer:?}");
    assert!(commit.chars().all(|c| c.is_ascii_hexdigit()), "{footer:?}");
}

#[test]
fn malformed_toml_names_the_file() {
    let cat = catalog_copy();
    let f = cat
        .path()
        .join("drills/billing-ledger/lost-update/drill.toml");
    edit(&f, "difficulty = ", "difficulty = = ");
    let err = list_is_refused(&cat);
    assert!(err.contains("lost-update/drill.toml"), "{err}");
    assert!(err.contains("malformed"), "{err}");
}

#[test]
fn a_catalog_that_listens_on_every_interface_is_refused() {
    let cat = catalog_copy();
    let f = cat.path().join("scenarios/webhook-intake/acceptance.toml");
    edit(
        &f,
        "LISTEN_ADDR = \"127.0.0.1:0\"",
        "LISTEN_ADDR = \"0.0.0.0:0\"",
    );
    let err = list_is_refused(&cat);
    assert!(err.contains("webhook-intake/acceptance.toml"), "{err}");
    assert!(
        err.contains(r#"service.env.LISTEN_ADDR: "0.0.0.0:0" would make the service reachable from other machines; the kit runs services on loopback only: write "127.0.0.1:0""#),
        "{err}"
    );
}

#[test]
fn unknown_class_lists_the_known_ones() {
    let cat = catalog_copy();
    let f = cat
        .path()
        .join("drills/billing-ledger/lost-update/drill.toml");
    edit(&f, "class = \"lost-update\"", "class = \"race-ish\"");
    let err = list_is_refused(&cat);
    assert!(err.contains("unknown bug class `race-ish`"), "{err}");
    assert!(err.contains("retry-idempotency"), "{err}");
    assert!(err.contains("docs/taxonomy.md"), "{err}");
}

#[test]
fn unknown_check_names_what_the_scenario_has() {
    let cat = catalog_copy();
    let f = cat
        .path()
        .join("drills/billing-ledger/lost-update/drill.toml");
    edit(
        &f,
        "checks = [\"concurrent_charges_add_up\"]",
        "checks = [\"no_such_check\"]",
    );
    let err = list_is_refused(&cat);
    assert!(err.contains("no acceptance check `no_such_check`"), "{err}");
    assert!(err.contains("concurrent_charges_add_up"), "{err}");
}

#[test]
fn a_patch_touching_a_test_file_is_rejected() {
    let cat = catalog_copy();
    let f = cat
        .path()
        .join("drills/billing-ledger/stalled-provider/go.patch");
    let text = fs::read_to_string(&f).unwrap();
    let path = text
        .lines()
        .find_map(|l| l.strip_prefix("+++ b/"))
        .unwrap()
        .to_string();
    let test_path = path.replace(".go", "_test.go");
    fs::write(&f, text.replace(&path, &test_path)).unwrap();
    let err = list_is_refused(&cat);
    assert!(err.contains("stalled-provider/go.patch"), "{err}");
    assert!(err.contains("test, fixture or build-config file"), "{err}");
}

#[test]
fn verify_unknown_drill_suggests_the_closest() {
    let out = drill()
        .args(["verify", "billing-ledger/lost-updat"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("did you mean `billing-ledger/lost-update`"),
        "{err}"
    );
}

#[test]
fn verify_selects_a_scenario_by_name_as_all_its_drills() {
    let catalog = drillkit::catalog::Catalog::load(&repo()).unwrap();
    let ids = |only: &[&str]| -> Vec<String> {
        let only: Vec<String> = only.iter().map(|s| s.to_string()).collect();
        drillkit::verify::select(&catalog, &only)
            .unwrap()
            .iter()
            .map(|d| d.id.clone())
            .collect()
    };
    let edge: Vec<String> = catalog
        .drills
        .iter()
        .filter(|d| d.scenario == "edge-proxy")
        .map(|d| d.id.clone())
        .collect();
    assert!(edge.len() >= 5, "{edge:?}");
    assert_eq!(ids(&["edge-proxy"]), edge);
    assert_eq!(ids(&["edge-proxy/"]), edge);
    // A drill named as well is not selected twice.
    assert_eq!(ids(&["edge-proxy", "edge-proxy/hung-health-probe"]), edge);
    assert_eq!(
        ids(&["hung-health-probe"]),
        vec!["edge-proxy/hung-health-probe".to_string()]
    );
    let unknown = vec!["edge-prox".to_string()];
    assert!(drillkit::verify::select(&catalog, &unknown).is_err());
}

#[test]
fn the_catalogs_min_versions_are_the_manifests() {
    let catalog = drillkit::catalog::Catalog::load(&repo()).unwrap();
    assert_eq!(
        drillkit::verify::manifest_versions(&catalog),
        Vec::<String>::new()
    );
}

#[test]
fn verify_refuses_a_min_version_the_manifest_does_not_declare() {
    let cat = catalog_copy();
    edit(
        &cat.path().join("scenarios/edge-proxy/go/go.mod"),
        "go 1.24",
        "go 1.25",
    );
    edit(
        &cat.path().join("scenarios/email-worker/rust/Cargo.toml"),
        "rust-version = \"1.89\"",
        "rust-version = \"1.90\"",
    );
    let out = drill()
        .arg("--catalog")
        .arg(cat.path())
        .args(["verify", "--runs", "1"])
        .output()
        .unwrap();
    // Refused before anything is built: the catalog exit code, both files named.
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("scenarios/edge-proxy/scenario.toml [languages.go] min_version = \"1.24\"")
            && err.contains("scenarios/edge-proxy/go/go.mod says `go 1.25`"),
        "{err}"
    );
    assert!(
        err.contains("scenarios/email-worker/rust/Cargo.toml says `rust-version 1.90`"),
        "{err}"
    );
}

#[test]
fn verify_without_go_on_path_says_so() {
    let cat = catalog_copy();
    // A PATH with cargo but not go: the toolchain check runs before any work.
    let cargo = which("cargo");
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&cargo, bin.path().join("cargo")).unwrap();
    let out = drill()
        .arg("--catalog")
        .arg(cat.path())
        .args(["verify", "--runs", "1"])
        .env("PATH", bin.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains("`go` was not found on PATH"), "{err}");
}

#[test]
fn verify_reports_the_hunk_of_a_patch_that_does_not_apply() {
    let cat = catalog_copy();
    let drill_dir = cat.path().join("drills/billing-ledger/stalled-provider");
    // Go only, so the test builds one language (and none of its Rust wrong fixes).
    edit(
        &drill_dir.join("drill.toml"),
        "checks = [",
        "languages = [\"go\"]\nchecks = [",
    );
    let _ = fs::remove_dir_all(drill_dir.join("wrong-fixes"));
    // Change a context line of the first hunk so it no longer matches the clean tree.
    let p = drill_dir.join("go.patch");
    let text = fs::read_to_string(&p).unwrap();
    let context = text
        .lines()
        .skip_while(|l| !l.starts_with("@@"))
        .find(|l| l.starts_with(' ') && l.trim().len() > 3)
        .unwrap()
        .to_string();
    fs::write(
        &p,
        text.replacen(&context, &format!("{context} // drifted"), 1),
    )
    .unwrap();
    let out = drill()
        .arg("--catalog")
        .arg(cat.path())
        .args(["verify", "stalled-provider", "--runs", "1", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let job = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["drill"] == "billing-ledger/stalled-provider")
        .unwrap();
    assert_eq!(job["status"], "failed");
    let step = &job["steps"][0];
    assert_eq!(step["name"], "patch applies");
    let detail = step["detail"].as_str().unwrap();
    assert!(detail.contains("hunk #1 of"), "{detail}");
    assert!(detail.contains("go.patch"), "{detail}");
}

fn which(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(program))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("{program} not on PATH"))
}

#[test]
fn show_prints_the_ticket_but_not_the_answer() {
    let out = drill().args(["show", "stalled-provider"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("billing-ledger/stalled-provider"), "{text}");
    assert!(text.contains("missing-timeout"), "{text}");
    assert!(text.contains("INC-5033"), "{text}");
    // Hints and the debrief are the answer: never shown before an attempt ends.
    assert!(
        !text.contains("never applied to the HTTP request"),
        "{text}"
    );
    assert!(!text.contains("root cause"), "{text}");
}

#[test]
fn taxonomy_coverage_table_lists_every_drill_with_its_class() {
    let out = drill().args(["list", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut in_catalog: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["class"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let doc = fs::read_to_string(repo().join("docs/taxonomy.md")).unwrap();
    let coverage = doc
        .split("## Catalog coverage")
        .nth(1)
        .expect("coverage section");
    let mut in_doc: Vec<(String, String)> = coverage
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(|c| c.trim().trim_matches('`')).collect();
            (cells.len() >= 3 && cells[1].contains('/'))
                .then(|| (cells[1].to_string(), cells[2].to_string()))
        })
        .collect();
    in_catalog.sort();
    in_doc.sort();
    assert_eq!(
        in_doc, in_catalog,
        "docs/taxonomy.md's coverage table is out of date"
    );
}
