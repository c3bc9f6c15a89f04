//! `do = "write_file"`: replace a file of the run directory (a config file
//! the service reads) with `content`, atomically (a temporary file renamed
//! over it, as deploy tools do).

use serde::Deserialize;

use super::{StepCx, StepFuture, StepKind, Vars};
use crate::harness::env::{write_run_file, Env};
use crate::harness::template;
use crate::harness::validate::run_file_path_problem;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WriteFileStep {
    /// Relative to the run directory.
    pub path: String,
    /// A template.
    pub content: String,
}

impl StepKind for WriteFileStep {
    fn validate(&self, cx: &mut StepCx<'_>) {
        if let Some(why) = run_file_path_problem(&self.path) {
            cx.problem(format!("field `path`: {why}"));
        }
        cx.placeholders(&self.path, "field `path`");
        cx.placeholders(&self.content, "field `content`");
    }

    fn describe(&self, vars: &Vars) -> String {
        let path = template::render(&self.path, |k| vars.get(k).cloned())
            .unwrap_or_else(|_| self.path.clone());
        format!("write {path} ({} bytes)", self.content.len())
    }

    fn run<'a>(&'a self, env: &'a mut Env, vars: &'a mut Vars) -> StepFuture<'a> {
        Box::pin(async move {
            let lookup = |k: &str| vars.get(k).cloned();
            let path = template::render(&self.path, lookup)?;
            let content = template::render(&self.content, lookup)?;
            write_run_file(env.run_dir(), &path, &content)
                .map_err(|e| format!("cannot write {path} in the run directory: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::steps::Step;

    #[test]
    fn write_file_parses_and_describes_itself() {
        let step = Step::parse(
            toml::from_str("do = \"write_file\"\npath = \"rules.json\"\ncontent = '{\"a\":1}'")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(step.kind(), "write_file");
        assert_eq!(step.describe(&Vars::new()), "write rules.json (7 bytes)");
    }

    #[test]
    fn write_run_file_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        write_run_file(dir.path(), "conf/rules.json", "old").unwrap();
        write_run_file(dir.path(), "conf/rules.json", "new").unwrap();
        let conf = dir.path().join("conf");
        assert_eq!(
            std::fs::read_to_string(conf.join("rules.json")).unwrap(),
            "new"
        );
        let names: Vec<_> = std::fs::read_dir(&conf)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("rules.json")]);
        assert!(write_run_file(dir.path(), "../escape", "x").is_err());
    }
}
