//! Game days end to end: the real `drill` binary as the facilitator's
//! process, a scripted on-call driving `drill gameday ack|deploy|resolve`
//! from another process, a real Go service with its fakes on loopback under
//! real traffic. The timeline is compressed to seconds; the only waits are
//! for evidence the real service produces in real time (a page, a recorded
//! event), each bounded.

mod util;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use drillkit::gameday::record::{self, Clock, DeployOutcome, EndReason, EventKind, Record};
use drillkit::results::ResultsDir;
use util::{both, heavy, Drill};

/// A frozen backend that the bugged health probe never takes out of
/// rotation: half the traffic fails, which the SLI shows at once.
const DRILL: &str = "edge-proxy/hung-health-probe";

/// The documented detection bound for this drill's defaults: the upstream
/// timeout of the bench env (5 s), then a few windows for both burn windows
/// to pass 14.4x, with room for a loaded machine.
const DETECT_BOUND_MS: u64 = 20_000;

struct GameDay {
    d: Drill,
    dir: PathBuf,
    facilitator: Child,
    started: Instant,
}

impl GameDay {
    fn start(time_box_s: u64) -> GameDay {
        GameDay::start_in("go", time_box_s)
    }

    fn start_in(lang: &str, time_box_s: u64) -> GameDay {
        GameDay::start_with(&[DRILL, "--lang", lang], time_box_s)
    }

    /// `drill gameday start ARGS --dir D --time-box S` as the facilitator.
    fn start_with(args: &[&str], time_box_s: u64) -> GameDay {
        let d = Drill::new();
        let dir = d.tmp.path().join("gd");
        let out = fs::File::create(d.tmp.path().join("facilitator.out")).unwrap();
        let facilitator = d
            .process_in(&d.home)
            // A game day runs on the real clock: its service answers in real time.
            .env_remove("DRILL_TEST_CLOCK")
            .args(["gameday", "start"])
            .args(args)
            .arg("--dir")
            .arg(&dir)
            .args(["--time-box", &time_box_s.to_string()])
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        GameDay {
            d,
            dir,
            facilitator,
            started: Instant::now(),
        }
    }

    fn facilitator_output(&self) -> String {
        fs::read_to_string(self.d.tmp.path().join("facilitator.out")).unwrap_or_default()
    }

    /// `drill gameday ARGS --dir D` as the on-call, on the real clock.
    fn on_call(&self, args: &[&str], code: i32) -> std::process::Output {
        let out = self
            .d
            .cmd_in(&self.dir.join("workspace"))
            .env_remove("DRILL_TEST_CLOCK")
            .arg("gameday")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "drill gameday {}\n{}\n--- facilitator\n{}",
            args.join(" "),
            both(&out),
            self.facilitator_output()
        );
        out
    }

    fn record(&self) -> Option<Record> {
        let id = fs::read(self.dir.join("gameday.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())?["id"]
            .as_str()?
            .to_string();
        record::load(&ResultsDir::at(&self.d.results), &id).ok()
    }

    /// Waits (bounded) until the record holds an event `pred` accepts.
    fn wait_for(&self, what: &str, limit: Duration, pred: impl Fn(&EventKind) -> bool) -> Record {
        let until = Instant::now() + limit;
        loop {
            if let Some(r) = self.record() {
                if r.has(&pred) {
                    return r;
                }
            }
            assert!(
                Instant::now() < until,
                "no {what} within {limit:?}\n--- facilitator\n{}",
                self.facilitator_output()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits (bounded) for the facilitator to end; its exit code.
    fn wait_end(&mut self, limit: Duration) -> i32 {
        let until = Instant::now() + limit;
        loop {
            if let Some(s) = self.facilitator.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < until,
                "the facilitator did not end within {limit:?}\n{}",
                self.facilitator_output()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Every service pid the facilitator reported.
    fn service_pids(&self) -> Vec<i32> {
        let mut pids = Vec::new();
        for line in self.facilitator_output().lines() {
            if let Some(rest) = line.split("(pid ").nth(1) {
                if let Ok(p) = rest.trim_end_matches(')').parse() {
                    pids.push(p);
                }
            }
        }
        if let Ok(b) = fs::read(self.dir.join("status.json")) {
            let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
            pids.push(v["service_pid"].as_i64().unwrap() as i32);
        }
        pids
    }
}

impl Drop for GameDay {
    fn drop(&mut self) {
        let _ = self.facilitator.kill();
        let _ = self.facilitator.wait();
    }
}

fn reached(c: Clock) -> u64 {
    match c {
        Clock::Reached { ms } => ms,
        other => panic!("clock not reached: {other:?}"),
    }
}

fn alive(pid: i32) -> bool {
    // A zombie (exited, not yet reaped by a parent) counts as gone.
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

fn apply_patch(ws: &Path, patch: &Path) {
    drillkit::patch::Patch::load(patch)
        .unwrap()
        .apply_to_dir(ws)
        .unwrap();
}

#[test]
fn a_go_game_day_runs_from_the_fault_to_resolved_with_its_clocks_in_order() {
    whole_game_day("go");
}

#[test]
fn a_rust_game_day_runs_from_the_fault_to_resolved_with_its_clocks_in_order() {
    whole_game_day("rust");
}

/// Fault, page within the detection bound, ack, the reference fix deployed,
/// mitigated, fixed, resolved: each clock reached, in that order, and no
/// service process left.
fn whole_game_day(lang: &str) {
    let _turn = heavy();
    // The time box (counted from the traffic's start) leaves room for the
    // deploy's build on a loaded machine.
    let mut g = GameDay::start_in(lang, 300);
    // The facilitator builds the service before the traffic starts: a cold
    // Rust build of the scenario's dependencies takes minutes on a loaded
    // machine, so the page is awaited from the start of the traffic.
    g.wait_for("the traffic's start", Duration::from_secs(600), |k| {
        matches!(k, EventKind::Started)
    });
    let paged = g.wait_for("alert", Duration::from_secs(90), |k| {
        matches!(k, EventKind::Alert { .. })
    });
    let pager = fs::read_to_string(g.dir.join("pager.log")).unwrap();
    assert!(pager.contains("ALERT firing"), "{pager}");
    let log = fs::read_to_string(g.dir.join("service.log")).unwrap();
    assert!(
        log.contains("disk usage on /var/log"),
        "the red herring is in the log"
    );

    g.on_call(&["ack"], 0);
    g.on_call(&["ack"], 2);
    let ws = g.dir.join("workspace");
    util::apply_reference_fix(&ws, DRILL, lang);
    let out = g.on_call(&["deploy"], 0);
    let text = util::stdout(&out);
    assert!(text.contains("live"), "{text}");
    assert!(text.contains("fixed"), "{text}");
    g.wait_for("mitigation", Duration::from_secs(60), |k| {
        matches!(k, EventKind::Mitigated { .. })
    });
    let r = g.wait_for("the deploy's effect", Duration::from_secs(60), |k| {
        matches!(k, EventKind::DeployEffect { .. })
    });
    let effect = r.events.iter().find_map(|e| match e.kind {
        EventKind::DeployEffect {
            before,
            after,
            worse,
            ..
        } => Some((before, after, worse)),
        _ => None,
    });
    let (before, after, worse) = effect.unwrap();
    assert!(!worse && after.unwrap() > before.unwrap(), "{effect:?}");
    let status = g.on_call(&["status", "--json"], 0);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["acknowledged"], true);
    assert_eq!(status["clocks"]["fix"]["state"], "reached");
    g.on_call(&["resolve"], 0);
    assert_eq!(
        g.wait_end(Duration::from_secs(30)),
        0,
        "{}",
        g.facilitator_output()
    );

    let r = g.record().unwrap();
    assert_eq!(r.ended().map(|(_, why)| why), Some(EndReason::Resolved));
    let c = r.clocks();
    let fault = r.fault_at().unwrap();
    let first_alert = paged
        .events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Alert { .. }))
        .unwrap()
        .at;
    assert!(first_alert >= fault, "the page came after the fault");
    let (detect, ack, fix, mitigate, resolve) = (
        reached(c.detect),
        reached(c.acknowledge),
        reached(c.fix),
        reached(c.mitigate),
        reached(c.resolve),
    );
    assert!(detect <= DETECT_BOUND_MS, "detected in {detect} ms");
    assert!(
        detect <= ack && ack <= fix && fix <= mitigate && mitigate <= resolve,
        "{c:?}"
    );
    assert!(r.has(|k| matches!(k, EventKind::Judged { passed: true, .. })));
    eprintln!(
        "{lang} game day: detect {detect} ms, ack {ack} ms, fix {fix} ms, mitigate {mitigate} ms, resolve {resolve} ms, whole test {:?}",
        g.started.elapsed()
    );
    for pid in g.service_pids() {
        assert!(!alive(pid), "service pid {pid} outlived the game day");
    }

    // The SLI windows are kept with the record: once the folder is gone,
    // the debrief works from the results directory alone.
    let kept = ResultsDir::at(&g.d.results).gameday_sli_path(&r.gameday.id);
    let windows = fs::read_to_string(&kept).unwrap();
    assert_eq!(
        windows,
        fs::read_to_string(g.dir.join("sli.jsonl")).unwrap()
    );
    fs::remove_dir_all(&g.dir).unwrap();
    let out =
        g.d.cmd()
            .env_remove("DRILL_TEST_CLOCK")
            .args(["gameday", "debrief", &r.gameday.id, "--json"])
            .output()
            .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["state"], "ended");
    assert_eq!(
        v["sli"]["windows"].as_array().unwrap().len(),
        windows.lines().count()
    );
    assert_eq!(v["clocks"], serde_json::to_value(&c).unwrap());
    let markers: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["marker"].as_str())
        .collect();
    for m in ["fault", "alert", "ack", "deploy", "mitigated", "resolved"] {
        assert!(markers.contains(&m), "no {m} in {markers:?}");
    }
}

#[test]
fn a_wrong_fix_deploy_is_recorded_and_the_budget_keeps_burning_until_the_time_box() {
    let _turn = heavy();
    let time_box_s = 45;
    let mut g = GameDay::start(time_box_s);
    g.wait_for("alert", Duration::from_secs(90), |k| {
        matches!(k, EventKind::Alert { .. })
    });
    let ws = g.dir.join("workspace");
    // Every upstream kept in rotation, the probe still unbounded: the new
    // build's first health round hangs on the frozen backend.
    apply_patch(
        &ws,
        &util::drill_dir(DRILL).join("wrong-fixes/overfix-route-to-every-upstream.go.patch"),
    );
    let out = g.on_call(&["deploy"], 1);
    assert!(
        util::stdout(&out).contains("never became ready"),
        "{}",
        both(&out)
    );
    let deployed = g.record().unwrap();
    let deploy_at = deployed
        .events
        .iter()
        .find(|e| {
            matches!(
                e.kind,
                EventKind::Deploy {
                    outcome: DeployOutcome::NotReady,
                    ..
                }
            )
        })
        .expect("the failed deploy is recorded")
        .at;
    assert_eq!(g.wait_end(Duration::from_secs(time_box_s + 30)), 0);

    let r = g.record().unwrap();
    assert_eq!(r.ended().map(|(_, why)| why), Some(EndReason::TimeBox));
    let c = r.clocks();
    reached(c.detect);
    for clock in [c.mitigate, c.fix, c.resolve] {
        assert!(matches!(clock, Clock::Censored { .. }), "{c:?}");
    }
    // The SLI windows after the deploy: still below the objective.
    let start = r.started().unwrap();
    let window_ms = r.gameday.slo.window_ms;
    let after = deploy_at.ms_since(start) / window_ms + 1;
    let windows: Vec<serde_json::Value> = fs::read_to_string(g.dir.join("sli.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|w: &serde_json::Value| w["index"].as_u64().unwrap() >= after)
        .collect();
    assert!(!windows.is_empty());
    let (total, good) = windows.iter().fold((0, 0), |(t, g), w| {
        (
            t + w["total"].as_u64().unwrap(),
            g + w["good"].as_u64().unwrap(),
        )
    });
    assert!(
        (good as f64) < 0.9 * total as f64,
        "after the wrong deploy: {good} of {total} good"
    );
    for pid in g.service_pids() {
        assert!(!alive(pid), "service pid {pid} outlived the game day");
    }
}

#[test]
fn a_kill_9_of_the_facilitator_takes_its_service_down_and_loses_no_recorded_event() {
    let _turn = heavy();
    let mut g = GameDay::start(120);
    // The first window closed: the service is up and serving.
    let until = Instant::now() + Duration::from_secs(90);
    while !g.dir.join("status.json").exists() {
        assert!(Instant::now() < until, "{}", g.facilitator_output());
        std::thread::sleep(Duration::from_millis(200));
    }
    g.on_call(&["ack"], 0);
    let before = g.record().unwrap();
    let pids = g.service_pids();
    assert!(
        !pids.is_empty() && pids.iter().all(|&p| alive(p)),
        "{pids:?}"
    );

    g.facilitator.kill().unwrap();
    g.facilitator.wait().unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|&p| alive(p)) {
        assert!(
            Instant::now() < until,
            "service {pids:?} outlived a kill -9 of the facilitator"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let after = g.record().expect("the record still reads");
    assert!(after.events.len() >= before.events.len());
    assert!(after.has(|k| matches!(k, EventKind::Ack)));
    assert!(
        after.ended().is_none(),
        "a killed facilitator records no end"
    );
    assert!(matches!(after.clocks().resolve, Clock::Running));
    // The on-call's commands still work on what was recorded.
    g.on_call(&["status"], 0);
    // A request nobody will answer fails at once, naming why (exit 5),
    // instead of waiting out the answer's limit.
    let out = g.on_call(&["mitigate", "restart"], 5);
    let text = both(&out);
    assert!(
        text.contains("is no longer running, so nothing will answer"),
        "{text}"
    );
}

/// A game day's folder and record as `start` leaves them, without a
/// service: the on-call's record-only commands need nothing more.
fn recorded_game_day(d: &Drill) -> PathBuf {
    use drillkit::clock::Timestamp;
    use drillkit::gameday::definition::InjectKind;
    use drillkit::gameday::folder::{Pointer, POINTER, POINTER_VERSION};
    use drillkit::gameday::record::Header;
    use drillkit::gameday::sli::{AlertRule, Slo};

    let dir = d.tmp.path().join("gd");
    fs::create_dir_all(&dir).unwrap();
    let id = "20300101T090000Z-hung-health-probe-go";
    let results = ResultsDir::at(&d.results);
    let t0 = "2030-01-01T08:59:00Z".parse::<Timestamp>().unwrap();
    let header = Header {
        id: id.into(),
        drill: DRILL.into(),
        language: "go".into(),
        seed: 1,
        started_at: t0,
        time_box_ms: 600_000,
        folder: dir.clone(),
        slo: Slo {
            availability: 0.99,
            latency_ms: 500,
            window_ms: 1000,
        },
        alert: AlertRule {
            burn_rate: 14.4,
            long_windows: 10,
            short_windows: 2,
            mitigated_windows: 5,
        },
        fault_check: "c".into(),
        schedule: vec![],
        on_call: Some("ana".into()),
        blind: false,
        class: None,
    };
    record::create(&results, header, EventKind::Started, t0).unwrap();
    let fault = EventKind::Inject {
        kind: InjectKind::Fault,
        text: "the dependency fault starts".into(),
        name: Some("fault".into()),
        manual: false,
    };
    let fault_at = Timestamp::from_unix_ms(t0.unix_ms() + 5000);
    record::append(&results, id, "test", fault, fault_at).unwrap();
    let pointer = Pointer {
        format_version: POINTER_VERSION,
        id: id.into(),
        results: d.results.clone(),
        pager: dir.join("pager.log"),
    };
    fs::write(
        dir.join(POINTER),
        serde_json::to_vec_pretty(&pointer).unwrap(),
    )
    .unwrap();
    dir
}

#[test]
fn notes_are_recorded_with_their_time_and_author_and_shown_by_status() {
    let d = Drill::new();
    let dir = recorded_game_day(&d);
    let sub = dir.join("workspace");
    fs::create_dir_all(&sub).unwrap();

    let out = d
        .cmd_in(&sub)
        .env("USER", "ana")
        .args(["gameday", "note", "paged; looking at the health checks"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", util::both(&out));
    assert!(
        util::stdout(&out).contains("note recorded"),
        "{}",
        util::both(&out)
    );
    d.advance_secs(30);
    d.expect(
        &sub,
        &[
            "gameday",
            "note",
            "--by",
            "lee",
            "backend 2 hangs, not fails",
        ],
        0,
    );
    let refused = d.expect(&sub, &["gameday", "note", "  "], 2);
    assert!(
        util::stderr(&refused).contains("empty"),
        "{}",
        util::both(&refused)
    );

    let text = util::stdout(&d.expect(&sub, &["gameday", "status"], 0));
    assert!(
        text.contains("ana: paged; looking at the health checks"),
        "{text}"
    );
    assert!(text.contains("lee: backend 2 hangs, not fails"), "{text}");
    let ana = text.find("ana:").unwrap();
    assert!(ana < text.find("lee:").unwrap(), "in time order: {text}");

    let json: serde_json::Value =
        serde_json::from_slice(&d.expect(&sub, &["gameday", "status", "--json"], 0).stdout)
            .unwrap();
    let notes: Vec<_> = json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "note")
        .collect();
    assert_eq!(notes.len(), 2, "{json}");
    assert_eq!(notes[0]["by"], "ana");
    assert_eq!(notes[1]["text"], "backend 2 hangs, not fails");
    let first: drillkit::clock::Timestamp = notes[0]["at"].as_str().unwrap().parse().unwrap();
    let second: drillkit::clock::Timestamp = notes[1]["at"].as_str().unwrap().parse().unwrap();
    assert!(second.ms_since(first) >= 30_000, "{first} {second}");
}

/// A loopback HTTP server for the webhook: answers every request 200 and
/// hands over (request line, body).
fn webhook_server() -> (u16, std::sync::mpsc::Receiver<(String, String)>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            let (head, body) = loop {
                let n = conn.read(&mut buf).unwrap_or(0);
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).into_owned();
                if let Some(i) = text.find("\r\n\r\n") {
                    let len = text[..i]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if got.len() >= i + 4 + len {
                        break (text[..i].to_string(), text[i + 4..i + 4 + len].to_string());
                    }
                }
                if n == 0 {
                    break (text, String::new());
                }
            };
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let line = head.lines().next().unwrap_or_default().to_string();
            if tx.send((line, body)).is_err() {
                return;
            }
        }
    });
    (port, rx)
}

/// A loopback port nobody listens on.
fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Every file name under `dir` (relative), `.git`'s own included.
fn names_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            }
        }
    }
    out
}

#[test]
fn a_blind_game_day_names_no_drill_to_the_on_call_until_it_ends_and_a_dead_webhook_stops_nothing() {
    let _turn = heavy();
    let hook = format!("http://127.0.0.1:{}/page", dead_port());
    let mut g = GameDay::start_with(
        &[
            "--random",
            "--lang",
            "go",
            "--scenario",
            "edge-proxy",
            "--on-call",
            "ana",
            "--webhook",
            &hook,
        ],
        300,
    );
    g.wait_for("the traffic's start", Duration::from_secs(600), |k| {
        matches!(k, EventKind::Started)
    });
    // The first page (an alert or the customer report) meets the dead webhook.
    let until = Instant::now() + Duration::from_secs(90);
    while !g
        .facilitator_output()
        .contains("not delivered after 3 tries")
    {
        assert!(
            Instant::now() < until,
            "no webhook failure reported\n{}",
            g.facilitator_output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let r = g.record().unwrap();
    assert!(r.gameday.blind);
    assert_eq!(r.gameday.on_call.as_deref(), Some("ana"));
    let catalog = drillkit::catalog::Catalog::load(&util::repo()).unwrap();
    let drill = catalog.drill(&r.gameday.drill).unwrap();
    assert_eq!(drill.scenario, "edge-proxy");
    let secrets = [
        drill.id.as_str(),
        drill.bug.as_str(),
        drill.title.as_str(),
        drill.class.as_str(),
    ];
    let tells = |what: &str, text: &str| {
        for s in secrets {
            assert!(!text.contains(s), "{what} names {s:?}:\n{text}");
        }
    };

    // What the on-call sees: status (text and JSON), the folder's files, the workspace.
    let status = g.on_call(&["status", "--json"], 0);
    let json = util::stdout(&status);
    tells("status --json", &json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (v["blind"].as_bool(), v["drill"].is_null()),
        (Some(true), true)
    );
    assert_eq!(v["on_call"], "ana");
    let text = util::stdout(&g.on_call(&["status"], 0));
    tells("status", &text);
    assert!(text.contains("on call        ana"), "{text}");
    for f in fs::read_dir(&g.dir).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        tells("a file name of the folder", &name);
        if f.file_type().unwrap().is_file() {
            tells(&name, &fs::read_to_string(f.path()).unwrap_or_default());
        }
    }
    let ws = g.dir.join("workspace");
    tells("the workspace's file names", &names_under(&ws).join("\n"));
    let repo = git2::Repository::open(&ws).unwrap();
    let mut walk = repo.revwalk().unwrap();
    walk.push_head().unwrap();
    for oid in walk {
        let c = repo.find_commit(oid.unwrap()).unwrap();
        tells("the workspace's git log", c.message().unwrap_or_default());
        tells("the workspace's git log", &c.author().to_string());
    }
    tells("the game day's id", &r.gameday.id);
    // The catalog withholds what it could be, as for a blind attempt.
    let list = g.d.cmd_in(&ws).args(["list", "--json"]).output().unwrap();
    assert!(list.status.success(), "{}", both(&list));
    tells("drill list", &util::stdout(&list));
    assert!(
        util::stderr(&list).contains("a blind game day is running"),
        "{}",
        both(&list)
    );
    let show = g.d.cmd_in(&ws).args(["show", &drill.id]).output().unwrap();
    assert_eq!(show.status.code(), Some(2), "{}", both(&show));
    tells("the facilitator's terminal", &g.facilitator_output());
    let stats = g.d.expect(&g.d.home, &["stats", "--gameday", "--json"], 0);
    tells("stats --gameday", &util::stdout(&stats));

    // The debrief waits for the end.
    let refused = g.on_call(&["debrief"], 2);
    assert!(
        util::stderr(&refused).contains("dealt blind and has not ended"),
        "{}",
        both(&refused)
    );
    g.on_call(&["resolve"], 0);
    assert_eq!(
        g.wait_end(Duration::from_secs(30)),
        0,
        "{}",
        g.facilitator_output()
    );
    let out = g.facilitator_output();
    assert_eq!(
        out.matches("not delivered after 3 tries").count(),
        1,
        "{out}"
    );
    assert!(out.contains("0 message(s) delivered"), "{out}");
    let debrief = util::stdout(&g.on_call(&["debrief"], 0));
    assert!(debrief.contains(&drill.id), "{debrief}");
    assert!(debrief.contains("on call ana"), "{debrief}");
    let v: serde_json::Value =
        serde_json::from_slice(&g.on_call(&["status", "--json"], 0).stdout).unwrap();
    assert_eq!(v["drill"], drill.id.as_str(), "named once ended");
    for pid in g.service_pids() {
        assert!(!alive(pid), "service pid {pid} outlived the game day");
    }
}

#[test]
fn the_webhook_receives_the_page_with_the_documented_body() {
    let _turn = heavy();
    let (port, posts) = webhook_server();
    let hook = format!("http://127.0.0.1:{port}/hooks/page");
    let mut g = GameDay::start_with(
        &[
            DRILL,
            "--lang",
            "go",
            "--on-call",
            "lee",
            "--webhook",
            &hook,
        ],
        300,
    );
    g.wait_for("the traffic's start", Duration::from_secs(600), |k| {
        matches!(k, EventKind::Started)
    });
    let id = g.record().unwrap().gameday.id;
    let until = Instant::now() + Duration::from_secs(90);
    let alert = loop {
        let left = until.saturating_duration_since(Instant::now());
        let (line, body) = posts
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no alert posted\n{}", g.facilitator_output()));
        assert_eq!(line, "POST /hooks/page HTTP/1.1");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["kind"] == "alert" {
            break v;
        }
        assert_eq!(v["kind"], "message", "{v}");
    };
    assert_eq!(alert["format_name"], "drillkit-gameday-page");
    assert_eq!(alert["format_version"], 1);
    assert!(
        alert["text"].as_str().unwrap().starts_with("ALERT firing"),
        "{alert}"
    );
    assert_eq!(alert["gameday"], id.as_str());
    assert_eq!(alert["on_call"], "lee");
    let at: drillkit::clock::Timestamp = alert["at"].as_str().unwrap().parse().unwrap();
    let r = g.record().unwrap();
    let fired = r
        .events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Alert { .. }))
        .unwrap()
        .at;
    assert!(
        at.ms_since(fired) < 1000 && fired.ms_since(at) < 1000,
        "{at} vs {fired}"
    );
    let sli = &alert["sli"];
    assert_eq!(sli["alert_firing"], true, "{alert}");
    assert!(sli["long_burn"].as_f64().unwrap() >= 14.4, "{alert}");
    assert!(sli["short_burn"].as_f64().unwrap() >= 14.4, "{alert}");
    assert!(
        sli["window"].as_u64().is_some() && sli["budget_left"].is_number(),
        "{alert}"
    );
    let pager = fs::read_to_string(g.dir.join("pager.log")).unwrap();
    assert!(pager.contains(alert["text"].as_str().unwrap()), "{pager}");

    g.on_call(&["resolve"], 0);
    assert_eq!(
        g.wait_end(Duration::from_secs(30)),
        0,
        "{}",
        g.facilitator_output()
    );
    assert!(
        !g.facilitator_output().contains("not delivered after"),
        "{}",
        g.facilitator_output()
    );
    // The on-call's name selects the game day in the statistics.
    let rows = |who: &str| -> usize {
        let out = g.d.expect(
            &g.d.home,
            &["stats", "--gameday", "--json", "--engineer", who],
            0,
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["rows"].as_array().unwrap().len()
    };
    assert_eq!((rows("lee"), rows("ana")), (1, 0));
}

/// Every event of `kind` (by its `event` tag) in the record, as JSON.
fn events_of(r: &Record, event: &str) -> Vec<serde_json::Value> {
    r.events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .filter(|e| e["event"] == event)
        .collect()
}

/// The on-call's mitigations and the facilitator's hand-fired injects on
/// one Go game day: a restart before the fault, the fault and a customer
/// report fired by hand (and refused the second time), refusals of an
/// unknown knob and of a rollback with nothing deployed, load shed at the
/// generator, an unacknowledged page that escalates, then after the
/// reference fix's deploy a knob set, a restart, and a roll back to the
/// bugged build (which never becomes ready while its backend is frozen).
#[test]
fn the_on_call_mitigates_and_the_facilitator_fires_injects_by_hand() {
    let _turn = heavy();
    let mut g = GameDay::start(300);
    let started = g.wait_for("the traffic's start", Duration::from_secs(120), |k| {
        matches!(k, EventKind::Started)
    });
    let fault_ms = started
        .gameday
        .schedule
        .iter()
        .find(|i| i.kind == drillkit::gameday::definition::InjectKind::Fault)
        .unwrap()
        .at_ms;
    assert!(
        fault_ms >= 5000,
        "the timeline's fault comes after the restart"
    );

    // Refusals: exit 2 with the reason, nothing recorded.
    let out = g.on_call(&["mitigate", "rollback"], 2);
    assert!(
        util::stderr(&out).contains("nothing was deployed"),
        "{}",
        both(&out)
    );
    let out = g.on_call(&["mitigate", "set", "NO_SUCH_KNOB=1"], 2);
    let err = util::stderr(&out);
    assert!(
        err.contains("NO_SUCH_KNOB") && err.contains("HEALTH_TIMEOUT_MS"),
        "the refusal lists the offered knobs: {err}"
    );
    g.on_call(&["mitigate", "shed", "150"], 2);
    g.on_call(&["inject", "no-such-inject"], 2);

    // A restart of the running (bugged) build before the fault: live.
    let out = g.on_call(&["mitigate", "restart"], 0);
    let text = util::stdout(&out);
    assert!(
        text.contains("live") && text.contains("during the swap"),
        "{text}"
    );

    // The facilitator fires the fault now instead of waiting for the timeline.
    let list = util::stdout(&g.on_call(&["inject", "--list"], 0));
    for name in ["fault", "red-herring", "customer-report-1", "escalation-1"] {
        assert!(list.contains(name), "{list}");
    }
    g.on_call(&["inject", "fault"], 0);
    let out = g.on_call(&["inject", "fault"], 2);
    assert!(
        util::stderr(&out).contains("already fired"),
        "{}",
        both(&out)
    );
    g.on_call(&["inject", "customer-report-1"], 0);
    g.on_call(&["inject", "customer-report-1"], 2);
    let pager = fs::read_to_string(g.dir.join("pager.log")).unwrap();
    assert!(pager.contains("MESSAGE customer report"), "{pager}");
    let listed: serde_json::Value =
        serde_json::from_slice(&g.on_call(&["inject", "--list", "--json"], 0).stdout).unwrap();
    let fault = listed["injects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "fault")
        .unwrap()
        .clone();
    assert_eq!(fault["manual"], true, "{listed}");

    let paged = g.wait_for("alert", Duration::from_secs(60), |k| {
        matches!(k, EventKind::Alert { .. })
    });

    // Shedding half the traffic: the generator drops it, the SLI counts the rest.
    g.on_call(&["mitigate", "shed", "50%"], 0);
    let until = Instant::now() + Duration::from_secs(30);
    let shed_windows = loop {
        let lines = fs::read_to_string(g.dir.join("sli.jsonl")).unwrap_or_default();
        let shed: Vec<serde_json::Value> = lines
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|w| w["shed"].as_u64().unwrap_or(0) > 0)
            .collect();
        if shed.len() >= 2 {
            break shed;
        }
        assert!(Instant::now() < until, "no shed windows: {lines}");
        std::thread::sleep(Duration::from_millis(200));
    };
    // 20 requests/s in 1 s windows: half of those intended in a window
    // shed (`total` counts completions, late ones of earlier requests too).
    let w = &shed_windows[1];
    assert!((8..=12).contains(&w["shed"].as_u64().unwrap()), "{w}");
    let status = util::stdout(&g.on_call(&["status"], 0));
    assert!(status.contains("shedding      50% now"), "{status}");
    assert!(
        status.contains("mitigations") && status.contains("restart"),
        "{status}"
    );
    assert!(status.contains("fault (by hand)"), "{status}");
    g.on_call(&["mitigate", "shed", "0"], 0);

    // Nobody acknowledges: the page escalates (twice the long window: 20 s).
    let r = g.wait_for("an escalation", Duration::from_secs(60), |k| {
        matches!(k, EventKind::Inject { name: Some(n), manual: false, .. } if n == "escalation-1")
    });
    let page_at = paged
        .events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Alert { .. }))
        .unwrap()
        .at;
    let escalated_at = r
        .events
        .iter()
        .find(|e| matches!(&e.kind, EventKind::Inject { name: Some(n), .. } if n == "escalation-1"))
        .unwrap()
        .at;
    let after = escalated_at.ms_since(page_at);
    assert!(
        (20_000..30_000).contains(&after),
        "escalated {after} ms after the page"
    );
    let pager = fs::read_to_string(g.dir.join("pager.log")).unwrap();
    assert!(pager.contains("MESSAGE escalation"), "{pager}");
    g.on_call(&["ack"], 0);

    // The reference fix, deployed; then a knob, a restart and a roll back.
    util::apply_reference_fix(&g.dir.join("workspace"), DRILL, "go");
    let out = g.on_call(&["deploy"], 0);
    assert!(
        util::stdout(&out).contains("during the swap"),
        "{}",
        both(&out)
    );
    g.on_call(&["mitigate", "set", "HEALTH_TIMEOUT_MS=300"], 0);
    g.on_call(&["mitigate", "restart"], 0);
    // Back to the bugged build: its first round of health probes hangs on
    // the frozen backend, so it never becomes ready and the fix keeps serving.
    let out = g.on_call(&["mitigate", "rollback"], 1);
    assert!(
        util::stdout(&out).contains("never became ready"),
        "{}",
        both(&out)
    );
    g.on_call(&["resolve"], 0);
    assert_eq!(g.wait_end(Duration::from_secs(30)), 0);

    let r = g.record().unwrap();
    let mitigations = events_of(&r, "mitigation");
    let summary: Vec<(String, String, String)> = mitigations
        .iter()
        .map(|m| {
            (
                m["action"].as_str().unwrap().to_string(),
                m["detail"].as_str().unwrap().to_string(),
                m["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let s = |a: &str, d: &str, o: &str| (a.to_string(), d.to_string(), o.to_string());
    assert_eq!(
        summary,
        [
            s("restart", "the original build", "live"),
            s("shed", "50%", "live"),
            s("shed", "0%", "live"),
            s("set", "HEALTH_TIMEOUT_MS=300", "live"),
            s("restart", "deploy 1's build", "live"),
            s("rollback", "the original build", "not_ready"),
        ]
    );
    for m in &mitigations {
        let swapped = m["outcome"] == "live" && m["action"] != "shed";
        assert_eq!(m["dropped"].is_u64(), swapped, "{m}");
    }
    let deploy = events_of(&r, "deploy");
    assert!(deploy[0]["dropped"].is_u64(), "{deploy:?}");
    let injects = events_of(&r, "inject");
    let by_name = |n: &str| injects.iter().find(|i| i["name"] == n).cloned();
    assert_eq!(by_name("fault").unwrap()["manual"], true);
    assert_eq!(by_name("customer-report-1").unwrap()["manual"], true);
    assert_eq!(by_name("escalation-1").unwrap()["manual"], false);
    assert!(
        by_name("escalation-2").is_none(),
        "acknowledged before the 2nd"
    );
    assert_eq!(
        injects.iter().filter(|i| i["name"] == "fault").count(),
        1,
        "the timeline does not fire a hand-fired inject again"
    );
    for pid in g.service_pids() {
        assert!(!alive(pid), "service pid {pid} outlived the game day");
    }

    // The debrief shows them, with the requests dropped by each swap.
    let out = g.on_call(&["debrief"], 0);
    let text = util::stdout(&out);
    eprintln!("{text}\n--- facilitator\n{}", g.facilitator_output());
    for line in [
        "fault injected (fired by hand)",
        "customer report (fired by hand)",
        "escalation: ",
        "mitigation: restart the original build: live, ",
        "mitigation: shed 50% of the steady traffic",
        "mitigation: restart with HEALTH_TIMEOUT_MS=300: live, ",
        "mitigation: roll back to the original build: never became ready",
        "got no answer during the swap",
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
}
