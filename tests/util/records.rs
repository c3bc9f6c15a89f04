//! Attempt records written straight in the documented results format
//! (docs/results-format.md), for the stats, report, export and plan tests
//! and for the benchmark generator (tests/bench/gen_results.rs). No drill is
//! run: each record's event log is built so that the times derived from it
//! are exactly the ones asked for.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use drillkit::attempt::{Event, EventKind, Header, Record, Verdict};
use drillkit::clock::Timestamp;
use drillkit::testfirst::TestVerdict;
use rand_xoshiro::rand_core::{Rng as _, SeedableRng as _};
use rand_xoshiro::Xoshiro256StarStar;

/// The seeded generator the generated records come from (the bootstrap's
/// own, so the data is the same on every platform).
struct Rng(Xoshiro256StarStar);

impl Rng {
    fn seeded(seed: u64) -> Rng {
        Rng(Xoshiro256StarStar::seed_from_u64(seed))
    }

    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (Lemire's multiply-shift).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Fixed,
    Abandoned,
    Open,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub id: String,
    pub engineer: String,
    pub drill: String,
    pub class: String,
    pub language: String,
    pub started: Timestamp,
    pub end: End,
    /// Active ms to the fix, or to the give-up (or so far, for open ones).
    pub time_ms: u64,
    pub find_ms: Option<u64>,
    /// Judged submits (the passing one included, when fixed).
    pub submits: u32,
    pub hints: u32,
    /// A pause of this many ms halfway through (excluded from the times).
    pub pause_ms: u64,
    /// The engineer's profile at start, as the record carries it.
    pub experience: Option<drillkit::profile::Experience>,
    /// A test-first attempt: active ms to its first reproducing test
    /// (`Some(None)`: test-first, no reproducing test yet).
    pub test_first: Option<Option<u64>>,
}

impl Spec {
    pub fn new(
        id: &str,
        engineer: &str,
        class: &str,
        language: &str,
        minutes: f64,
        end: End,
    ) -> Spec {
        Spec {
            id: id.to_string(),
            engineer: engineer.to_string(),
            drill: format!("billing-ledger/{class}-drill"),
            class: class.to_string(),
            language: language.to_string(),
            started: "2025-03-03T09:00:00Z".parse().unwrap(),
            end,
            time_ms: (minutes * 60_000.0).round() as u64,
            find_ms: None,
            submits: u32::from(end == End::Fixed),
            hints: 0,
            pause_ms: 0,
            experience: None,
            test_first: None,
        }
    }
}

const VERIFY_MS: u64 = 4_000;

/// The record whose derived figures are the spec's.
pub fn record(s: &Spec) -> Record {
    // (active ms, order, kind); converted to wall time below.
    let mut plan: Vec<(u64, u8, EventKind)> = Vec::new();
    for j in 1..=s.hints {
        plan.push((
            s.time_ms * u64::from(j) / (4 * u64::from(s.hints + 1)),
            0,
            EventKind::Hint { number: j },
        ));
    }
    if let Some(f) = s.find_ms {
        plan.push((
            f,
            1,
            EventKind::Found {
                location: "internal/ledger/service.go:42".into(),
                correct: true,
            },
        ));
    }
    if let Some(Some(t)) = s.test_first {
        plan.push((t, 1, check_test(TestVerdict::Reproducing)));
    }
    let failing = if s.end == End::Fixed {
        s.submits.saturating_sub(1)
    } else {
        s.submits
    };
    for k in 1..=failing {
        let at = s.time_ms / 2 + s.time_ms / 2 * u64::from(k) / u64::from(failing + 1);
        plan.push((at, 2, submit(Verdict::Fail)));
    }
    match s.end {
        End::Fixed => {
            plan.push((s.time_ms, 3, submit(Verdict::Pass)));
            plan.push((s.time_ms, 4, EventKind::Fixed));
        }
        End::Abandoned => plan.push((s.time_ms, 4, EventKind::Abandon)),
        End::Open => {}
    }
    plan.sort_by_key(|(a, o, _)| (*a, *o));
    let start = s.started;
    let mut events = vec![Event {
        at: start,
        kind: EventKind::Start,
    }];
    let mut excluded = 0u64;
    let pause_at = s.time_ms / 2;
    let mut paused = false;
    for (active, _, kind) in plan {
        if s.pause_ms > 0 && !paused && active > pause_at {
            events.push(Event {
                at: start.plus_ms(pause_at + excluded),
                kind: EventKind::Pause,
            });
            events.push(Event {
                at: start.plus_ms(pause_at + excluded + s.pause_ms),
                kind: EventKind::Resume,
            });
            paused = true;
        }
        let wall_extra = if paused { s.pause_ms } else { 0 };
        if matches!(kind, EventKind::Submit { .. } | EventKind::CheckTest { .. }) {
            excluded += VERIFY_MS;
        }
        events.push(Event {
            at: start.plus_ms(active + excluded + wall_extra),
            kind,
        });
    }
    Record {
        format: drillkit::attempt::FORMAT_NAME.to_string(),
        format_version: if s.test_first.is_some() {
            drillkit::attempt::FORMAT_VERSION_TEST_FIRST
        } else {
            drillkit::attempt::FORMAT_VERSION
        },
        attempt: Header {
            id: s.id.clone(),
            drill: s.drill.clone(),
            title: format!("{} drill", s.class),
            class: s.class.clone(),
            difficulty: 2,
            language: s.language.clone(),
            blind: false,
            repeat: false,
            prevented_in: None,
            engineer: s.engineer.clone(),
            toolchains: BTreeMap::new(),
            kit_version: "0.1.0".into(),
            catalog_revision: "unknown".into(),
            catalog: None,
            workspace: "/tmp/ws".into(),
            hints_available: s.hints.max(3),
            test_clock: false,
            experience: s.experience.clone(),
            test_first: s.test_first.is_some(),
        },
        events,
    }
}

fn check_test(verdict: TestVerdict) -> EventKind {
    EventKind::CheckTest {
        verdict,
        tests: vec!["internal/ledger:TestChargeOnce".into()],
        runs: 1,
        bugged_failed: 1,
        fixed_passed: 1,
        verification_ms: VERIFY_MS,
    }
}

fn submit(verdict: Verdict) -> EventKind {
    EventKind::Submit {
        verdict,
        reasons: vec![],
        verification_ms: VERIFY_MS,
        build_ms: None,
        test_files_changed: vec![],
    }
}

pub fn write(dir: &Path, s: &Spec) {
    std::fs::create_dir_all(dir).unwrap();
    let mut bytes = serde_json::to_vec_pretty(&record(s)).unwrap();
    bytes.push(b'\n');
    std::fs::write(dir.join(format!("{}.json", s.id)), bytes).unwrap();
}

/// Classes of the generated team dataset (all in the taxonomy).
pub const CLASSES: [&str; 8] = [
    "retry-idempotency",
    "lost-update",
    "missing-timeout",
    "deadline-propagation",
    "check-then-act",
    "task-leak",
    "shutdown-loss",
    "crash-on-input",
];

fn normal(rng: &mut Rng) -> f64 {
    let u1 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * (u1.max(1e-300)).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A synthetic team: `n` attempts over 40 engineers, the classes above (two
/// drills each), both languages; log-normal times whose median depends on
/// class and language; ~12% give-ups; seeded.
pub fn generate_specs(n: usize, seed: u64) -> impl Iterator<Item = Spec> {
    let mut rng = Rng::seeded(seed);
    let base: Timestamp = "2025-01-06T09:00:00Z".parse().unwrap();
    (0..n).map(move |i| {
        let class = CLASSES[rng.below(CLASSES.len())];
        let rust = rng.below(2) == 1;
        let ci = CLASSES.iter().position(|c| *c == class).unwrap() as f64;
        // Rust slower on some classes, faster on others, equal on the rest.
        let factor = [1.4, 0.8, 1.0, 1.0, 0.7, 1.3, 1.0, 1.1][ci as usize];
        let median_min = (12.0 + 4.0 * ci) * if rust { factor } else { 1.0 };
        let minutes = (median_min.ln() + 0.6 * normal(&mut rng))
            .exp()
            .clamp(0.5, 240.0);
        let end = match rng.below(100) {
            0..=11 => End::Abandoned,
            _ => End::Fixed,
        };
        let engineer = format!("eng{:02}", rng.below(40));
        let mut s = Spec::new(
            &format!(
                "{}-{engineer}-{i:06x}",
                base.plus_ms(i as u64 * 60_000).compact()
            ),
            &engineer,
            class,
            if rust { "rust" } else { "go" },
            minutes,
            end,
        );
        s.drill = format!("scenario-{}/{class}-{}", rng.below(3), rng.below(2));
        s.started = base.plus_ms(i as u64 * 60_000);
        s.find_ms = if rng.below(10) < 8 {
            Some(s.time_ms * (30 + rng.below(60) as u64) / 100)
        } else {
            None
        };
        s.submits = if end == End::Fixed {
            1 + rng.below(3) as u32
        } else {
            rng.below(3) as u32
        };
        s.hints = rng.below(3) as u32;
        s.pause_ms = if rng.below(5) == 0 { 600_000 } else { 0 };
        s
    })
}
