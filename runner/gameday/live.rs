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

use super::definition::{Inject, InjectKind, Traffic};
use super::folder::{self, DeployRequest, DeployResult, Folder, Status};
use super::record::{self, DeployOutcome, EndReason, EventKind, Header, RecordError};
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
    let mix: Arc<Mix> = Arc::new(Mix::new(
        &s.workload.requests,
        env.addr(),
        env.vars().clone(),
    ));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(Instant, u64, Option<u16>)>();
    let t0 = Instant::now();
    let _traffic = Task(tokio::spawn(traffic(
        mix,
        s.traffic.clone(),
        addr_rx,
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
    let mut fired = vec![false; h.schedule.len()];
    let mut deploy: Option<DeployInFlight> = None;
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
                match deploy.as_mut() {
                    Some(d) => (&mut d.start).await,
                    None => std::future::pending().await,
                }
            } => Some(r),
        };
        if let Some(started) = wake {
            let d = deploy.take().expect("a deploy was in flight");
            let (outcome, reason, pid) = match started {
                Ok(next) => {
                    let pid = next.pid();
                    env.switch_to(next);
                    let _ = addr_tx.send(env.addr());
                    // The window open now mixes both builds: the effect counts from the next.
                    let open = t0.elapsed().as_millis() as u64 / window_ms;
                    switched.push((d.n, open + 1));
                    (DeployOutcome::Live, None, Some(pid))
                }
                Err(e) => (DeployOutcome::NotReady, Some(e.to_string()), None),
            };
            append(EventKind::Deploy {
                n: d.n,
                outcome,
                reason: reason.clone(),
            })?;
            let result = DeployResult {
                n: d.n,
                outcome,
                reason: reason.clone(),
                service_pid: pid,
            };
            let path = s.folder.deploy_dir(d.n).join("result.json");
            folder::write_json(&path, &result).map_err(io_err("writing", &path))?;
            say(&match outcome {
                DeployOutcome::Live => format!("deploy {}: live (pid {})", d.n, pid.unwrap_or(0)),
                _ => format!(
                    "deploy {}: never became ready, the old build keeps serving ({})",
                    d.n,
                    reason.unwrap_or_default()
                ),
            });
        }

        while let Ok((end, latency_ms, status)) = done_rx.try_recv() {
            let index = end.saturating_duration_since(t0).as_millis() as u64 / window_ms;
            let w = pending.entry(index).or_insert(Window {
                index,
                ..Window::default()
            });
            w.total += 1;
            if h.slo.is_good(status, latency_ms) {
                w.good += 1;
            }
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
            };
            let path = s.folder.status();
            folder::write_json(&path, &status).map_err(io_err("writing", &path))?;
        }

        for (i, inject) in h.schedule.iter().enumerate() {
            if !fired[i] && inject.at_ms <= elapsed_ms {
                fired[i] = true;
                fire(s, &env, inject, say)?;
                append(EventKind::Inject {
                    kind: inject.kind,
                    text: inject.text.clone(),
                    name: None,
                    manual: false,
                })?;
            }
        }

        if deploy.is_none() {
            if let Some(req) = next_request(&s.folder) {
                say(&format!(
                    "deploy {}: starting {}",
                    req.n,
                    req.binary.display()
                ));
                let replacement = env.replacement(&req.binary);
                deploy = Some(DeployInFlight {
                    n: req.n,
                    start: Box::pin(replacement.start()),
                });
            }
        }

        if last_record_check.elapsed() >= Duration::from_millis(250) {
            last_record_check = Instant::now();
            let r = record::load(&s.results, &id)?;
            if r.has(|k| matches!(k, EventKind::Resolved)) {
                break EndReason::Resolved;
            }
        }
        if elapsed_ms >= h.time_box_ms {
            break EndReason::TimeBox;
        }
    };
    drop(deploy);
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

type StartFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Started, EnvError>> + Send>>;

struct DeployInFlight {
    n: u32,
    start: StartFuture,
}

/// The oldest deploy asked for and not yet answered.
fn next_request(f: &Folder) -> Option<DeployRequest> {
    let mut ns: Vec<u32> = std::fs::read_dir(f.deploys())
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    ns.sort_unstable();
    ns.into_iter().find_map(|n| {
        let dir = f.deploy_dir(n);
        if dir.join("result.json").exists() {
            return None;
        }
        folder::read_json::<DeployRequest>(&dir.join("request.json")).ok()
    })
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
/// intended start, status or `None`) goes to `done`.
async fn traffic(
    mix: Arc<Mix>,
    t: Traffic,
    addr: watch::Receiver<std::net::SocketAddr>,
    done: mpsc::UnboundedSender<(Instant, u64, Option<u16>)>,
    t0: Instant,
) {
    let mut inflight = JoinSet::new();
    let timeout = Duration::from_millis(t.timeout_ms);
    for seq in 0u64.. {
        let intended = t0 + Duration::from_secs_f64(seq as f64 / t.rate);
        tokio::time::sleep_until(intended.into()).await;
        while inflight.try_join_next().is_some() {}
        let (_, request) = mix.request(seq);
        let to = *addr.borrow();
        let done = done.clone();
        inflight.spawn(async move {
            let status = match request {
                Ok(r) => match tokio::time::timeout(timeout, loadgen::send(to, r, &mut None)).await
                {
                    Ok(Ok(s)) => Some(s),
                    _ => None,
                },
                Err(_) => None,
            };
            let end = Instant::now();
            let latency = end.saturating_duration_since(intended).as_millis() as u64;
            let _ = done.send((end, latency, status));
        });
    }
}
