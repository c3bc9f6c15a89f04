//! The facilitator's loop: the service under its fakes (the bench
//! workload's env and faults), steady open-loop traffic from the workload's
//! mix, the schedule of injects, the SLI per window and the alert rule, the
//! deploys the on-call asks for, and the end (resolved, time box).
//!
//! Traffic: request `i` is intended at `t0 + i / rate`, each on a fresh
//! connection in a task of its own (so a stuck request holds back no
//! other), to the service's current address: a deploy moves the traffic by
//! changing that address once the new build is ready, then stops the old one.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::definition::{escalation_name, inject_names, Escalation, Inject, InjectKind, Traffic};
use super::folder::{
    self, DeployRequest, DeployResult, Folder, InjectRequest, InjectResult, Mitigate,
    MitigationRequest, MitigationResult, Status,
};
use super::record::{
    self, DeployOutcome, EndReason, EventKind, Header, MitigationAction, MitigationOutcome,
    RecordError,
};
use super::sli::{self, Tracker, Transition, Window};
use super::webhook::{Body, Hook, PageKind, SliNow};
use crate::bench::loadgen::{self, Source};
use crate::bench::workload::{Mix, Workload};
use crate::clock::Clock;
use crate::harness::{Env, EnvError, FaultRule, RunOptions, Started, Suite};
use crate::results::ResultsDir;

/// How often the loop wakes: closes windows, fires injects, reads requests.
const TICK: Duration = Duration::from_millis(50);
/// Completions may arrive this late for a window to be closed without them.
const CLOSE_GRACE_MS: u64 = 50;
/// SLI values kept in `status.json`.
const RECENT: usize = 30;
/// How long the end waits for the webhook's queue to be delivered.
const WEBHOOK_DRAIN: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("the service did not start: {0}")]
    Env(#[from] EnvError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

pub struct Setup<'a> {
    pub suite: &'a Suite,
    pub workload: &'a Workload,
    pub fault_rules: Vec<FaultRule>,
    pub binary: PathBuf,
    pub folder: Folder,
    pub pager: PathBuf,
    pub results: ResultsDir,
    pub header: Header,
    pub traffic: Traffic,
    /// The config knobs `mitigate set` may change.
    pub knobs: Vec<String>,
    pub escalation: Escalation,
    pub clock: Arc<dyn Clock>,
    /// `--webhook`: every page (alert, clear, message) is also POSTed there.
    pub webhook: Option<Hook>,
}

/// Aborts a task when dropped (an interrupted game day leaves no traffic).
struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn io_err(what: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> LiveError {
    let path = path.to_path_buf();
    move |source| LiveError::Io { what, path, source }
}

/// How one request of the steady traffic ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    Answered(u16),
    /// Not answered within the traffic's timeout.
    TimedOut,
    /// No answer: refused, reset, closed (what a swap can drop).
    NoAnswer,
    /// Dropped at the generator by load shedding: never sent.
    Shed,
}

/// A change of the running service: a deploy, or a mitigation that starts
/// a build (restart, roll back, set).
#[derive(Debug, Clone)]
enum Change {
    Deploy {
        n: u32,
    },
    Mitigation {
        n: u32,
        dir: PathBuf,
        action: MitigationAction,
        detail: String,
    },
}

type StartFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Started, EnvError>> + Send>>;

/// The replacement starting beside the running build.
struct Starting {
    change: Change,
    began: Instant,
    start: StartFuture,
    /// A rollback: the build it leaves is dropped from the stack once live.
    rollback: bool,
    dropped: u64,
}

/// A replacement that took the traffic, while the old build stops: the
/// requests that get no answer meanwhile are the swap's dropped ones.
struct Settling {
    change: Change,
    /// When the traffic moved (the event's time).
    at: crate::clock::Timestamp,
    stop: JoinHandle<()>,
    stopped: Option<Instant>,
    dropped: u64,
    pid: i32,
}

/// After the old build stopped, failures still count this long (in-flight
/// requests to it fail as it goes).
const SETTLE_GRACE: Duration = Duration::from_millis(250);

/// Runs the game day to its end; `say` prints a line on the facilitator's
/// terminal. The record is created here, when the traffic starts.
pub async fn run(s: &Setup<'_>, say: &(dyn Fn(&str) + Sync)) -> Result<EndReason, LiveError> {
    let h = &s.header;
    let id = h.id.clone();
    let run_dir = s.folder.run_dir();
    std::fs::create_dir_all(&run_dir).map_err(io_err("creating", &run_dir))?;
    let opts = RunOptions {
        seed: h.seed,
        work_root: Some(run_dir),
        ..RunOptions::default()
    };
    let mut env = Env::start_with(
        s.suite,
        "gameday",
        &s.workload.faults,
        &s.workload.env,
        &s.binary,
        &opts,
    )
    .await?;
    let _logs = Task(spawn_log_writer(&env, s.folder.service_log())?);

    let (addr_tx, addr_rx) = watch::channel(env.addr());
    let (shed_tx, shed_rx) = watch::channel(0u32);
    let mix: Arc<Mix> = Arc::new(Mix::new(
        &s.workload.requests,
        env.addr(),
        env.vars().clone(),
    ));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(Instant, u64, Done)>();
    let t0 = Instant::now();
    let _traffic = Task(tokio::spawn(traffic(
        mix,
        s.traffic.clone(),
        addr_rx,
        shed_rx,
        done_tx,
        t0,
    )));
    record::create(&s.results, h.clone(), EventKind::Started, s.clock.now())?;
    say(&format!(
        "traffic: {} requests/s; SLO: {:.2}% of requests good (answered below 500 within {} ms), windows of {} ms",
        s.traffic.rate,
        h.slo.availability * 100.0,
        h.slo.latency_ms,
        h.slo.window_ms
    ));

    let window_ms = h.slo.window_ms;
    let mut tracker = Tracker::new(h.slo, h.alert);
    let mut pending: BTreeMap<u64, Window> = BTreeMap::new();
    let mut next_close = 0u64;
    let names = inject_names(&h.schedule);
    let mut fired: Vec<Option<crate::clock::Timestamp>> = vec![None; h.schedule.len()];
    let mut escalations = 0u32;
    let mut first_page: Option<crate::clock::Timestamp> = None;
    let mut acked = false;
    let mut starting: Option<Starting> = None;
    let mut settling: Vec<Settling> = Vec::new();
    // The builds that served, oldest first: a rollback goes one back.
    let mut builds: Vec<PathBuf> = vec![s.binary.clone()];
    let mut shed_total = 0u64;
    // Live deploys whose effect on the SLI is not judged yet: (n, first window after the switch).
    let mut switched: Vec<(u32, u64)> = Vec::new();
    let mut last_record_check = Instant::now();
    let mut tick = tokio::time::interval(TICK);
    let append =
        |kind: EventKind| record::append(&s.results, &id, "gameday start", kind, s.clock.now());

    let reason = loop {
        let wake = tokio::select! {
            _ = tick.tick() => None,
            r = async {
                match starting.as_mut() {
                    Some(d) => (&mut d.start).await,
                    None => std::future::pending().await,
                }
            } => Some(r),
        };
        if let Some(started) = wake {
            let st = starting.take().expect("a start was in flight");
            match started {
                Ok(next) => {
                    let pid = next.pid();
                    let binary = next.binary().to_path_buf();
                    let stop = env.switch_to(next);
                    let _ = addr_tx.send(env.addr());
                    if st.rollback {
                        builds.pop();
                    } else if matches!(st.change, Change::Deploy { .. }) {
                        builds.push(binary);
                    }
                    if let Change::Deploy { n } = st.change {
                        // The window open now mixes both builds: the effect counts from the next.
                        let open = t0.elapsed().as_millis() as u64 / window_ms;
                        switched.push((n, open + 1));
                    }
                    say(&format!("{}: live (pid {pid})", change_name(&st.change)));
                    settling.push(Settling {
                        change: st.change,
                        at: s.clock.now(),
                        stop,
                        stopped: None,
                        dropped: st.dropped,
                        pid,
                    });
                }
                Err(e) => {
                    let reason = e.to_string();
                    say(&format!(
                        "{}: never became ready, the old build keeps serving ({reason})",
                        change_name(&st.change)
                    ));
                    finish(s, &st.change, None, Some(reason), None, s.clock.now())?;
                }
            }
        }

        while let Ok((end, latency_ms, done)) = done_rx.try_recv() {
            let index = end.saturating_duration_since(t0).as_millis() as u64 / window_ms;
            let w = pending.entry(index).or_insert(Window {
                index,
                ..Window::default()
            });
            let status = match done {
                Done::Shed => {
                    w.shed += 1;
                    shed_total += 1;
                    continue;
                }
                Done::Answered(code) => Some(code),
                Done::TimedOut | Done::NoAnswer => None,
            };
            w.total += 1;
            if h.slo.is_good(status, latency_ms) {
                w.good += 1;
            }
            if done == Done::NoAnswer {
                if let Some(st) = starting.as_mut().filter(|st| end >= st.began) {
                    st.dropped += 1;
                }
                for sw in &mut settling {
                    if sw.stopped.is_none_or(|t| end <= t + SETTLE_GRACE) {
                        sw.dropped += 1;
                    }
                }
            }
        }
        // A swap is over once the old build stopped and its in-flight
        // requests had time to fail.
        for sw in &mut settling {
            if sw.stopped.is_none() && sw.stop.is_finished() {
                sw.stopped = Some(Instant::now());
            }
        }
        let (over, still): (Vec<Settling>, Vec<Settling>) = std::mem::take(&mut settling)
            .into_iter()
            .partition(|sw| sw.stopped.is_some_and(|t| t.elapsed() >= SETTLE_GRACE));
        settling = still;
        for sw in over {
            say(&format!(
                "{}: swap done, {} requests got no answer during it",
                change_name(&sw.change),
                sw.dropped
            ));
            finish(s, &sw.change, Some(sw.pid), None, Some(sw.dropped), sw.at)?;
        }

        let elapsed_ms = t0.elapsed().as_millis() as u64;
        while (next_close + 1) * window_ms + CLOSE_GRACE_MS <= elapsed_ms {
            let w = pending.remove(&next_close).unwrap_or(Window {
                index: next_close,
                ..Window::default()
            });
            next_close += 1;
            let line = serde_json::to_string(&w).expect("serializes");
            let sli_log = s.folder.sli_log();
            folder::append_line(&sli_log, &line).map_err(io_err("appending to", &sli_log))?;
            let kept = s.results.gameday_sli_path(&id);
            folder::append_line(&kept, &line).map_err(io_err("appending to", &kept))?;
            let transitions = tracker.close(w);
            if let Some(hook) = &s.webhook {
                hook.observe(SliNow {
                    window: w.index,
                    sli: w.sli(),
                    long_burn: tracker.burn(h.alert.long_windows),
                    short_burn: tracker.burn(h.alert.short_windows),
                    budget_left: tracker.budget_left(),
                    alert_firing: tracker.firing(),
                });
            }
            for t in transitions {
                if matches!(t, Transition::AlertFired { .. }) && first_page.is_none() {
                    first_page = Some(s.clock.now());
                }
                on_transition(s, &t, &append, say)?;
            }
            let long = u64::from(h.alert.long_windows);
            let mut judged = Vec::new();
            for &(n, at) in &switched {
                if let Some(e) = sli::deploy_effect(tracker.windows(), at, long, h.slo.availability)
                {
                    judged.push(n);
                    let pct = |v: Option<f64>| {
                        v.map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0))
                    };
                    say(&format!(
                        "deploy {n}: SLI {} before, {} after{}",
                        pct(e.before),
                        pct(e.after),
                        if e.worse {
                            ": it made things worse"
                        } else {
                            ""
                        }
                    ));
                    append(EventKind::DeployEffect {
                        n,
                        before: e.before,
                        after: e.after,
                        worse: e.worse,
                    })?;
                }
            }
            switched.retain(|(n, _)| !judged.contains(n));
            let status = Status {
                format_version: 1,
                pid: std::process::id(),
                elapsed_ms,
                window: Some(w),
                sli: w.sli(),
                long_burn: tracker.burn(h.alert.long_windows),
                short_burn: tracker.burn(h.alert.short_windows),
                budget_left: tracker.budget_left(),
                alert_firing: tracker.firing(),
                service_pid: env.pid(),
                recent: tracker
                    .windows()
                    .iter()
                    .rev()
                    .take(RECENT)
                    .rev()
                    .map(Window::sli)
                    .collect(),
                webhook: s.webhook.as_ref().map(Hook::counts),
                shed_percent: *shed_tx.borrow(),
                shed_total,
            };
            let path = s.folder.status();
            folder::write_json(&path, &status).map_err(io_err("writing", &path))?;
        }

        for (i, inject) in h.schedule.iter().enumerate() {
            if fired[i].is_none() && inject.at_ms <= elapsed_ms {
                fired[i] = Some(s.clock.now());
                fire(s, &env, inject, say)?;
                append(EventKind::Inject {
                    kind: inject.kind,
                    text: inject.text.clone(),
                    name: Some(names[i].clone()),
                    manual: false,
                })?;
            }
        }
        if let Some(k) = s
            .escalation
            .due(first_page, acked, escalations, s.clock.now())
        {
            escalations = k;
            escalate(s, &env, k, false, &append, say)?;
        }

        // Injects fired by hand, in the order asked for.
        while let Some((dir, req)) = folder::next_request::<InjectRequest>(&s.folder.injects()) {
            let refused = match names.iter().position(|n| *n == req.name) {
                Some(i) => match fired[i] {
                    Some(at) => Some(format!(
                        "{} already fired at {at}; an inject fires once",
                        req.name
                    )),
                    None => {
                        fired[i] = Some(s.clock.now());
                        let inject = &h.schedule[i];
                        fire(s, &env, inject, say)?;
                        append(EventKind::Inject {
                            kind: inject.kind,
                            text: inject.text.clone(),
                            name: Some(req.name.clone()),
                            manual: true,
                        })?;
                        None
                    }
                },
                None => match (1..=s.escalation.max).find(|&k| escalation_name(k) == req.name) {
                    Some(k) if k <= escalations => {
                        Some(format!("{} already fired; an inject fires once", req.name))
                    }
                    Some(k) if k > escalations + 1 => Some(format!(
                        "{} comes after {}: fire that first",
                        req.name,
                        escalation_name(escalations + 1)
                    )),
                    Some(k) => {
                        escalations = k;
                        escalate(s, &env, k, true, &append, say)?;
                        None
                    }
                    None => Some(format!(
                        "no inject {:?} in this game day (drill gameday inject --list)",
                        req.name
                    )),
                },
            };
            if let Some(why) = &refused {
                say(&format!("inject {} by hand: refused ({why})", req.name));
            }
            let path = dir.join("result.json");
            let result = InjectResult {
                n: req.n,
                name: req.name,
                refused,
            };
            folder::write_json(&path, &result).map_err(io_err("writing", &path))?;
        }

        // Mitigations: shedding at once; a build start one at a time, and
        // not while another change is starting or settling.
        let busy = starting.is_some() || !settling.is_empty();
        if let Some((dir, req)) = folder::next_request::<MitigationRequest>(&s.folder.mitigations())
        {
            let answer_now = |refused: Option<String>, detail: String| {
                let path = dir.join("result.json");
                let result = MitigationResult {
                    n: req.n,
                    outcome: None,
                    refused,
                    detail,
                    reason: None,
                    dropped: None,
                    service_pid: None,
                };
                folder::write_json(&path, &result).map_err(io_err("writing", &path))
            };
            match &req.mitigate {
                Mitigate::Shed { percent } => {
                    let percent = (*percent).min(100);
                    let _ = shed_tx.send(percent);
                    let detail = format!("{percent}%");
                    say(&if percent == 0 {
                        format!("mitigation {}: shedding stopped", req.n)
                    } else {
                        format!(
                            "mitigation {}: shedding {detail} of the steady traffic",
                            req.n
                        )
                    });
                    let change = Change::Mitigation {
                        n: req.n,
                        dir: dir.clone(),
                        action: MitigationAction::Shed,
                        detail,
                    };
                    finish(s, &change, Some(env.pid()), None, None, s.clock.now())?;
                }
                Mitigate::Set { key, .. } if !s.knobs.contains(key) => {
                    answer_now(
                        Some(format!(
                            "{key} is not a knob this scenario offers (it offers: {})",
                            s.knobs.join(", ")
                        )),
                        key.clone(),
                    )?;
                }
                Mitigate::Rollback if builds.len() < 2 => {
                    answer_now(
                        Some(
                            "nothing was deployed: the original build is running, there is no build before it"
                                .into(),
                        ),
                        String::new(),
                    )?;
                }
                _ if busy => {}
                m => {
                    let (action, binary, detail, set) = match m {
                        Mitigate::Restart => (
                            MitigationAction::Restart,
                            env.binary().to_path_buf(),
                            build_name(&builds, builds.len() - 1),
                            None,
                        ),
                        Mitigate::Rollback => (
                            MitigationAction::Rollback,
                            builds[builds.len() - 2].clone(),
                            build_name(&builds, builds.len() - 2),
                            None,
                        ),
                        Mitigate::Set { key, value } => (
                            MitigationAction::Set,
                            env.binary().to_path_buf(),
                            format!("{key}={value}"),
                            Some((key.clone(), value.clone())),
                        ),
                        Mitigate::Shed { .. } => unreachable!("answered above"),
                    };
                    let change = Change::Mitigation {
                        n: req.n,
                        dir: dir.clone(),
                        action,
                        detail,
                    };
                    say(&format!("{}: starting", change_name(&change)));
                    let mut replacement = env.replacement(&binary);
                    if let Some((k, v)) = &set {
                        replacement = replacement.with_env(k, v);
                    }
                    starting = Some(Starting {
                        change,
                        began: Instant::now(),
                        start: Box::pin(replacement.start()),
                        rollback: action == MitigationAction::Rollback,
                        dropped: 0,
                    });
                }
            }
        }

        if starting.is_none() && settling.is_empty() {
            if let Some((_, req)) = folder::next_request::<DeployRequest>(&s.folder.deploys()) {
                say(&format!(
                    "deploy {}: starting {}",
                    req.n,
                    req.binary.display()
                ));
                let replacement = env.replacement(&req.binary);
                starting = Some(Starting {
                    change: Change::Deploy { n: req.n },
                    began: Instant::now(),
                    start: Box::pin(replacement.start()),
                    rollback: false,
                    dropped: 0,
                });
            }
        }

        if last_record_check.elapsed() >= Duration::from_millis(250) {
            last_record_check = Instant::now();
            let r = record::load(&s.results, &id)?;
            acked = r.has(|k| matches!(k, EventKind::Ack));
            if r.has(|k| matches!(k, EventKind::Resolved)) {
                break EndReason::Resolved;
            }
        }
        if elapsed_ms >= h.time_box_ms {
            break EndReason::TimeBox;
        }
    };
    // A start still waiting for its ready line is stopped with the rest.
    if let Some(st) = starting.take() {
        drop(st.start);
        let why = format!(
            "the game day ended ({}) before it became ready",
            super::debrief::reason_text(reason)
        );
        finish(s, &st.change, None, Some(why), None, s.clock.now())?;
    }
    // Swaps not over yet: recorded with what was counted so far.
    for sw in settling {
        finish(s, &sw.change, Some(sw.pid), None, Some(sw.dropped), sw.at)?;
    }
    append(EventKind::Ended { reason })?;
    env.shutdown().await;
    if let Some(hook) = &s.webhook {
        let c = hook.finish(WEBHOOK_DRAIN).await;
        say(&format!(
            "webhook {}: {} message(s) delivered, {} not delivered, {} dropped",
            hook.url(),
            c.delivered,
            c.failed,
            c.dropped
        ));
    }
    Ok(reason)
}

/// `deploy 2`, `mitigation 1 (restart)`.
fn change_name(c: &Change) -> String {
    match c {
        Change::Deploy { n } => format!("deploy {n}"),
        Change::Mitigation {
            n, action, detail, ..
        } => format!("mitigation {n} ({} {detail})", action_name(*action)),
    }
}

pub fn action_name(a: MitigationAction) -> &'static str {
    match a {
        MitigationAction::Restart => "restart",
        MitigationAction::Rollback => "roll back to",
        MitigationAction::Set => "set",
        MitigationAction::Shed => "shed",
    }
}

/// `the original build` or `deploy 2's build`: build `i` of the stack.
fn build_name(builds: &[PathBuf], i: usize) -> String {
    if i == 0 {
        return "the original build".into();
    }
    // deploys/<n>/<binary>
    let n = builds[i]
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| i.to_string());
    format!("deploy {n}'s build")
}

/// Records a change's end (live with its dropped count, or never ready:
/// `pid` is `None`) and answers whoever asked for it.
fn finish(
    s: &Setup<'_>,
    change: &Change,
    pid: Option<i32>,
    reason: Option<String>,
    dropped: Option<u64>,
    at: crate::clock::Timestamp,
) -> Result<(), LiveError> {
    let id = &s.header.id;
    match change {
        Change::Deploy { n } => {
            let outcome = if pid.is_some() {
                DeployOutcome::Live
            } else {
                DeployOutcome::NotReady
            };
            record::append(
                &s.results,
                id,
                "gameday start",
                EventKind::Deploy {
                    n: *n,
                    outcome,
                    reason: reason.clone(),
                    dropped,
                },
                at,
            )?;
            let result = DeployResult {
                n: *n,
                outcome,
                reason,
                service_pid: pid,
                dropped,
            };
            let path = s.folder.deploy_dir(*n).join("result.json");
            folder::write_json(&path, &result).map_err(io_err("writing", &path))
        }
        Change::Mitigation {
            n,
            dir,
            action,
            detail,
        } => {
            let outcome = if pid.is_some() {
                MitigationOutcome::Live
            } else {
                MitigationOutcome::NotReady
            };
            record::append(
                &s.results,
                id,
                "gameday start",
                EventKind::Mitigation {
                    action: *action,
                    detail: detail.clone(),
                    outcome,
                    reason: reason.clone(),
                    dropped,
                },
                at,
            )?;
            let result = MitigationResult {
                n: *n,
                outcome: Some(outcome),
                refused: None,
                detail: detail.clone(),
                reason,
                dropped,
                service_pid: pid,
            };
            let path = dir.join("result.json");
            folder::write_json(&path, &result).map_err(io_err("writing", &path))
        }
    }
}

/// Escalation `k`: to the pager and the record.
fn escalate(
    s: &Setup<'_>,
    env: &Env,
    k: u32,
    manual: bool,
    append: &dyn Fn(EventKind) -> Result<record::Record, RecordError>,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(), LiveError> {
    let inject = Inject {
        at_ms: 0,
        kind: InjectKind::Escalation,
        text: s.escalation.message(k),
    };
    fire(s, env, &inject, say)?;
    append(EventKind::Inject {
        kind: InjectKind::Escalation,
        text: inject.text,
        name: Some(escalation_name(k)),
        manual,
    })?;
    Ok(())
}

fn on_transition(
    s: &Setup<'_>,
    t: &Transition,
    append: &dyn Fn(EventKind) -> Result<record::Record, RecordError>,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(), LiveError> {
    let h = &s.header;
    let (kind, line) = match *t {
        Transition::AlertFired {
            long_burn,
            short_burn,
        } => (
            EventKind::Alert {
                long_burn,
                short_burn,
            },
            format!(
                "ALERT firing: {} error budget burning at {long_burn:.1}x over {} windows and {short_burn:.1}x over {} (page at {}x; objective {:.2}% good within {} ms)",
                h.drill.split('/').next().unwrap_or(&h.drill),
                h.alert.long_windows,
                h.alert.short_windows,
                h.alert.burn_rate,
                h.slo.availability * 100.0,
                h.slo.latency_ms
            ),
        ),
        Transition::AlertCleared { short_burn } => (
            EventKind::AlertCleared { short_burn },
            format!("alert cleared: burn {short_burn:.1}x over the short window"),
        ),
        Transition::Mitigated { windows } => {
            say(&format!("mitigated: {windows} windows in a row within the objective"));
            append(EventKind::Mitigated { windows })?;
            return Ok(());
        }
    };
    let page_kind = match kind {
        EventKind::Alert { .. } => PageKind::Alert,
        _ => PageKind::Clear,
    };
    append(kind)?;
    page(s, page_kind, &line)?;
    say(&line);
    Ok(())
}

/// One line on the pager file (with its time), and the same message to the
/// webhook if there is one (queued: never waits for it).
fn page(s: &Setup<'_>, kind: PageKind, line: &str) -> Result<(), LiveError> {
    let now = s.clock.now();
    folder::append_line(&s.pager, &format!("{now} {line}"))
        .map_err(io_err("appending to the pager file", &s.pager))?;
    if let Some(hook) = &s.webhook {
        hook.send(Body::new(
            kind,
            line,
            &s.header.id,
            s.header.on_call.as_deref(),
            now,
            hook.sli(),
        ));
    }
    Ok(())
}

fn fire(
    s: &Setup<'_>,
    env: &Env,
    inject: &Inject,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(), LiveError> {
    match inject.kind {
        InjectKind::Fault => {
            env.arm_faults(&s.fault_rules);
            // A blind game day's check name would tell the cause.
            say(&if s.header.blind {
                "inject: fault on".to_string()
            } else {
                format!(
                    "inject: fault on (the fault rules of check {})",
                    s.header.fault_check
                )
            });
        }
        InjectKind::RedHerring => {
            let line = serde_json::json!({
                "time": s.clock.now().to_string(),
                "level": "WARN",
                "msg": inject.text,
                "source": "host-agent",
            });
            let log = s.folder.service_log();
            folder::append_line(&log, &line.to_string()).map_err(io_err("appending to", &log))?;
            say(&format!(
                "inject: red herring in the service log: {}",
                inject.text
            ));
        }
        InjectKind::CustomerReport => {
            page(
                s,
                PageKind::Message,
                &format!("MESSAGE customer report: {}", inject.text),
            )?;
            say(&format!(
                "inject: customer report on the pager: {}",
                inject.text
            ));
        }
        InjectKind::Escalation => {
            page(
                s,
                PageKind::Message,
                &format!("MESSAGE escalation: {}", inject.text),
            )?;
            say(&format!("inject: escalation on the pager: {}", inject.text));
        }
    }
    Ok(())
}

fn spawn_log_writer(env: &Env, path: PathBuf) -> Result<JoinHandle<()>, LiveError> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io_err("opening", &path))?;
    let mut rx = env.subscribe_logs();
    for line in env.log_lines() {
        let _ = writeln!(file, "{line}");
    }
    Ok(tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(line) => {
                    let _ = writeln!(file, "{line}");
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    let _ = writeln!(file, "[drill] {n} lines of service output dropped here");
                }
                Err(_) => break,
            }
        }
    }))
}

/// The steady open-loop traffic; each completion (when, latency from the
/// intended start, how it ended) goes to `done`. A request that load
/// shedding drops is not sent: it completes at its intended time as `Shed`.
async fn traffic(
    mix: Arc<Mix>,
    t: Traffic,
    addr: watch::Receiver<std::net::SocketAddr>,
    shed: watch::Receiver<u32>,
    done: mpsc::UnboundedSender<(Instant, u64, Done)>,
    t0: Instant,
) {
    let mut inflight = JoinSet::new();
    let timeout = Duration::from_millis(t.timeout_ms);
    for seq in 0u64.. {
        let intended = t0 + Duration::from_secs_f64(seq as f64 / t.rate);
        tokio::time::sleep_until(intended.into()).await;
        while inflight.try_join_next().is_some() {}
        if sli::sheds(seq, *shed.borrow()) {
            let _ = done.send((intended, 0, Done::Shed));
            continue;
        }
        let (_, request) = mix.request(seq);
        let to = *addr.borrow();
        let done = done.clone();
        inflight.spawn(async move {
            let outcome = match request {
                Ok(r) => match tokio::time::timeout(timeout, loadgen::send(to, r, &mut None)).await
                {
                    Ok(Ok(s)) => Done::Answered(s),
                    Ok(Err(())) => Done::NoAnswer,
                    Err(_) => Done::TimedOut,
                },
                Err(_) => Done::NoAnswer,
            };
            let end = Instant::now();
            let latency = end.saturating_duration_since(intended).as_millis() as u64;
            let _ = done.send((end, latency, outcome));
        });
    }
}
