//! The `.cargo/config.toml` of a Rust workspace: where the engineer's own
//! `cargo build` puts its output. The kit points it at the workspace's private
//! target directory (seeded with compiled dependencies, so the first build is
//! incremental), and it never loses a setting the scenario ships in that file
//! (`--cfg tokio_unstable` for a task dump, say).
//!
//! The kit's own builds do not need the file: they set `CARGO_TARGET_DIR`,
//! which overrides `build.target-dir` and nothing else, so the scenario's
//! `rustflags` still apply (`builder.rs`).

use std::path::Path;

/// The file the kit writes into a workspace whose scenario has none
/// (untracked and git-ignored: it is not part of the snapshot).
pub fn own(target_dir: &Path) -> String {
    format!(
        "# Written by drillkit (not part of the snapshot): this workspace's build\n\
         # directory, seeded with the scenario's compiled dependencies.\n\
         [build]\ntarget-dir = {}\n",
        toml_string(target_dir)
    )
}

/// `scenario` (the scenario's own `.cargo/config.toml`) with `build.target-dir`
/// set to `target_dir`; every other line stays as the scenario wrote it. `None`
/// when the scenario already chooses a target directory (its choice stands) or
/// the file is not TOML the kit can extend line by line (a `build` table written
/// inline or with dotted keys): the workspace then keeps the file as shipped
/// and only its first build is cold.
pub fn merged(scenario: &str, target_dir: &Path) -> Option<String> {
    let before: toml::Table = toml::from_str(scenario).ok()?;
    if let Some(build) = before.get("build") {
        if build.get("target-dir").is_some() {
            return None;
        }
    }
    let line = format!(
        "# Added by drillkit (this workspace's build directory, seeded with the\n\
         # scenario's compiled dependencies):\n\
         target-dir = {}\n",
        toml_string(target_dir)
    );
    let mut out = String::with_capacity(scenario.len() + line.len() + 16);
    let mut placed = false;
    for l in scenario.split_inclusive('\n') {
        out.push_str(l);
        if !placed && is_build_header(l) {
            if !l.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&line);
            placed = true;
        }
    }
    if !placed {
        if before.contains_key("build") {
            return None;
        }
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("\n[build]\n");
        out.push_str(&line);
    }
    // The result must say exactly what the scenario said, plus the one key.
    let mut after: toml::Table = toml::from_str(&out).ok()?;
    let build = after.get_mut("build")?.as_table_mut()?;
    let added = build.remove("target-dir")?;
    if added.as_str() != Some(&*target_dir.to_string_lossy()) {
        return None;
    }
    if build.is_empty() && !before.contains_key("build") {
        after.remove("build");
    }
    (after == before).then_some(out)
}

/// A `[build]` table header, with or without spaces and a trailing comment.
fn is_build_header(line: &str) -> bool {
    let code = line.split('#').next().unwrap_or("");
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    code == "[build]"
}

fn toml_string(path: &Path) -> String {
    toml::Value::String(path.to_string_lossy().into_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: &str = "/cache/private/attempts/a1/cargo-target/ledger";

    fn parsed(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_scenarios_build_table_gains_the_target_dir_and_keeps_its_rustflags_and_comments() {
        let scenario =
            "# tokio's task dump needs it.\n[build]\nrustflags = [\"--cfg\", \"tokio_unstable\"]\n";
        let out = merged(scenario, Path::new(TARGET)).unwrap();
        assert!(
            out.starts_with("# tokio's task dump needs it.\n[build]\n"),
            "{out}"
        );
        let t = parsed(&out);
        assert_eq!(t["build"]["target-dir"].as_str(), Some(TARGET));
        assert_eq!(
            t["build"]["rustflags"],
            toml::Value::Array(vec!["--cfg".into(), "tokio_unstable".into()])
        );
    }

    #[test]
    fn a_config_without_a_build_table_gets_one_after_its_own_tables() {
        let scenario = "[env]\nRUST_LOG = \"info\"";
        let out = merged(scenario, Path::new(TARGET)).unwrap();
        let t = parsed(&out);
        assert_eq!(t["env"]["RUST_LOG"].as_str(), Some("info"));
        assert_eq!(t["build"]["target-dir"].as_str(), Some(TARGET));
    }

    #[test]
    fn a_header_with_a_comment_and_a_table_after_it_are_kept_in_place() {
        let scenario = "[build] # flags\nrustflags = [\"-Dwarnings\"]\n\n[target.x86_64-unknown-linux-gnu]\nlinker = \"cc\"\n";
        let out = merged(scenario, Path::new(TARGET)).unwrap();
        let t = parsed(&out);
        assert_eq!(t["build"]["target-dir"].as_str(), Some(TARGET));
        assert_eq!(
            t["target"]["x86_64-unknown-linux-gnu"]["linker"].as_str(),
            Some("cc")
        );
    }

    #[test]
    fn the_scenarios_own_target_dir_or_an_inline_build_table_is_left_alone() {
        assert_eq!(
            merged("[build]\ntarget-dir = \"out\"\n", Path::new(TARGET)),
            None
        );
        assert_eq!(
            merged(
                "build = { rustflags = [\"-Dwarnings\"] }\n",
                Path::new(TARGET)
            ),
            None
        );
        assert_eq!(
            merged("build.rustflags = [\"-Dwarnings\"]\n", Path::new(TARGET)),
            None
        );
        assert_eq!(merged("not toml [", Path::new(TARGET)), None);
    }

    #[test]
    fn paths_that_need_escaping_stay_exact() {
        let odd = Path::new("/tmp/a \"quoted\" dir\\x");
        let out = merged("[build]\n", odd).unwrap();
        assert_eq!(
            parsed(&out)["build"]["target-dir"].as_str(),
            Some("/tmp/a \"quoted\" dir\\x")
        );
        assert_eq!(
            parsed(&own(odd))["build"]["target-dir"].as_str(),
            Some("/tmp/a \"quoted\" dir\\x")
        );
    }
}
