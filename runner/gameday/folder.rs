//! The game day's folder and the files through which the facilitator's
//! process and the on-call's commands talk (docs/gameday.md, "The folder"):
//!
//! ```text
//! <dir>/gameday.json          which game day this is, and its results directory
//! <dir>/workspace/            the on-call's repository (the bugged service)
//! <dir>/service.log           the running service's output, live
//! <dir>/pager.log             alerts and messages for the on-call (unless --pager)
//! <dir>/status.json           the facilitator's latest SLI, budget and alert state
//! <dir>/sli.jsonl             every closed SLI window, one JSON line each
//! <dir>/deploys/<n>/          deploy n: its build copy, binary, request and result
//! <dir>/mitigations/<n>/      mitigation n: request and result
//! <dir>/injects/<n>/          inject fired by hand n: request and result
//! ```
//!
//! Every JSON file is replaced atomically (a temporary file renamed over
//! it), so a reader never sees half of one, whatever process is killed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

pub const POINTER: &str = "gameday.json";
pub const POINTER_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pointer {
    pub format_version: u32,
    pub id: String,
    pub results: PathBuf,
    pub pager: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Folder {
    pub root: PathBuf,
}

/// What the facilitator last measured, for `drill gameday status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub format_version: u32,
    /// The facilitator's process, to tell a finished or killed one.
    pub pid: u32,
    pub elapsed_ms: u64,
    pub window: Option<crate::gameday::sli::Window>,
    pub sli: Option<f64>,
    pub long_burn: Option<f64>,
    pub short_burn: Option<f64>,
    pub budget_left: f64,
    pub alert_firing: bool,
    pub service_pid: i32,
    /// The last few windows' SLI, oldest first (for a sparkline).
    pub recent: Vec<Option<f64>>,
    /// `--webhook`: messages delivered, not delivered, dropped so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<crate::gameday::webhook::Counts>,
    /// The share of the steady traffic shed at the generator now (`mitigate shed`).
    #[serde(default)]
    pub shed_percent: u32,
    /// Requests shed so far.
    #[serde(default)]
    pub shed_total: u64,
}

/// A deploy the on-call asks for; the facilitator answers in `result.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployRequest {
    pub n: u32,
    pub binary: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployResult {
    pub n: u32,
    pub outcome: crate::gameday::record::DeployOutcome,
    pub reason: Option<String>,
    pub service_pid: Option<i32>,
    /// Requests that got no answer during the swap (live only).
    #[serde(default)]
    pub dropped: Option<u64>,
}

/// What `drill gameday mitigate` asks the facilitator for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Mitigate {
    Restart,
    Rollback,
    Set { key: String, value: String },
    Shed { percent: u32 },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MitigationRequest {
    pub n: u32,
    #[serde(flatten)]
    pub mitigate: Mitigate,
}

/// The facilitator's answer: done (`outcome`), or `refused` and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MitigationResult {
    pub n: u32,
    pub outcome: Option<crate::gameday::record::MitigationOutcome>,
    pub refused: Option<String>,
    pub detail: String,
    pub reason: Option<String>,
    pub dropped: Option<u64>,
    pub service_pid: Option<i32>,
}

/// An inject `drill gameday inject NAME` asks the facilitator to fire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InjectRequest {
    pub n: u32,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InjectResult {
    pub n: u32,
    pub name: String,
    /// Why it was not fired (already fired, unknown); `None`: fired.
    pub refused: Option<String>,
}

/// Claims the next free request number under `base` by creating its
/// folder (a failed `mkdir` means another process took that number).
pub fn claim(base: &Path, from: u32) -> io::Result<(u32, PathBuf)> {
    fs::create_dir_all(base)?;
    let mut n = from.max(1);
    loop {
        let d = base.join(n.to_string());
        match fs::create_dir(&d) {
            Ok(()) => return Ok((n, d)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// The oldest request under `base` (`<n>/request.json`) not yet answered
/// (no `<n>/result.json`).
pub fn next_request<T: DeserializeOwned>(base: &Path) -> Option<(PathBuf, T)> {
    let mut ns: Vec<u32> = fs::read_dir(base)
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    ns.sort_unstable();
    ns.into_iter().find_map(|n| {
        let dir = base.join(n.to_string());
        if dir.join("result.json").exists() {
            return None;
        }
        read_json::<T>(&dir.join("request.json"))
            .ok()
            .map(|r| (dir, r))
    })
}

impl Folder {
    pub fn at(root: &Path) -> Folder {
        Folder {
            root: std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()),
        }
    }

    /// The game day whose folder holds `from` (or an ancestor of it).
    pub fn find(from: &Path) -> Option<Folder> {
        from.ancestors()
            .find(|d| d.join(POINTER).is_file())
            .map(Folder::at)
    }

    pub fn workspace(&self) -> PathBuf {
        self.root.join("workspace")
    }
    pub fn service_log(&self) -> PathBuf {
        self.root.join("service.log")
    }
    pub fn default_pager(&self) -> PathBuf {
        self.root.join("pager.log")
    }
    pub fn status(&self) -> PathBuf {
        self.root.join("status.json")
    }
    pub fn sli_log(&self) -> PathBuf {
        self.root.join("sli.jsonl")
    }
    pub fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }
    pub fn deploy_dir(&self, n: u32) -> PathBuf {
        self.root.join("deploys").join(n.to_string())
    }
    pub fn deploys(&self) -> PathBuf {
        self.root.join("deploys")
    }
    pub fn mitigations(&self) -> PathBuf {
        self.root.join("mitigations")
    }
    pub fn injects(&self) -> PathBuf {
        self.root.join("injects")
    }

    pub fn pointer(&self) -> io::Result<Pointer> {
        read_json(&self.root.join(POINTER))
    }

    pub fn write_pointer(&self, p: &Pointer) -> io::Result<()> {
        write_json(&self.root.join(POINTER), p)
    }
}

/// Replaces `path` atomically with `value` as JSON (fsynced).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(value).expect("serializes"))?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

pub fn read_json<T: DeserializeOwned>(path: &Path) -> io::Result<T> {
    let bytes = fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Appends one line to `path` and syncs it: the pager and the SLI log are
/// read by other processes while written, and must survive a kill.
pub fn append_line(path: &Path, line: &str) -> io::Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(format!("{line}\n").as_bytes())?;
    f.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_found_from_anywhere_below_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = Folder::at(dir.path());
        f.write_pointer(&Pointer {
            format_version: POINTER_VERSION,
            id: "g".into(),
            results: dir.path().join("r"),
            pager: f.default_pager(),
        })
        .unwrap();
        let deep = f.workspace().join("a/b");
        fs::create_dir_all(&deep).unwrap();
        let found = Folder::find(&deep).unwrap();
        assert_eq!(found.root, f.root);
        assert_eq!(found.pointer().unwrap().id, "g");
        assert!(Folder::find(Path::new("/")).is_none());
    }

    #[test]
    fn requests_are_claimed_once_and_answered_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("injects");
        let (a, da) = claim(&base, 1).unwrap();
        let (b, db) = claim(&base, 1).unwrap();
        assert_eq!((a, b), (1, 2));
        assert!(
            next_request::<InjectRequest>(&base).is_none(),
            "no request written yet"
        );
        for (n, d) in [(b, &db), (a, &da)] {
            let r = InjectRequest {
                n,
                name: format!("x{n}"),
            };
            write_json(&d.join("request.json"), &r).unwrap();
        }
        let (d, r) = next_request::<InjectRequest>(&base).unwrap();
        assert_eq!((d, r.name.as_str()), (da.clone(), "x1"));
        write_json(
            &da.join("result.json"),
            &InjectResult {
                n: 1,
                name: "x1".into(),
                refused: None,
            },
        )
        .unwrap();
        assert_eq!(next_request::<InjectRequest>(&base).unwrap().1.n, 2);
        let m = MitigationRequest {
            n: 1,
            mitigate: Mitigate::Set {
                key: "K".into(),
                value: "v".into(),
            },
        };
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains(r#""action":"set""#), "{json}");
        let back: MitigationRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back.mitigate, m.mitigate);
    }
}
