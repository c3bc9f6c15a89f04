//! A game day's definition: `drills/<scenario>/<bug>/gameday.toml`, or the
//! defaults when the drill has none (docs/gameday.md, "gameday.toml"), and
//! the seeded schedule of injects it gives.
//!
//! The schedule is a pure function of the definition and its seed; the seed
//! defaults to a hash of the drill id, so the Go and the Rust game day of a
//! drill see the same schedule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::sli::{AlertRule, Slo};
use crate::clock::Timestamp;
use crate::harness::faults::{fnv1a64, splitmix64};

pub const FILE: &str = "gameday.toml";
pub const FORMAT_VERSION: u32 = 1;

const DEFAULT_RED_HERRING: &str =
    "disk usage on /var/log above 85% (log rotation is behind); no action taken";
const DEFAULT_ESCALATION: &str =
    "the page is still unacknowledged; escalating to the next level of the on-call rotation";
/// Escalations sent at most, by default.
const DEFAULT_ESCALATIONS: u32 = 2;
const DEFAULT_CUSTOMER_REPORT: &str =
    "a customer writes in: requests to the service have been failing or hanging for a few minutes";

#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    #[error("reading {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// Steady traffic: the scenario's bench workload (its mix, env and faults)
/// at this rate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Traffic {
    pub rate: f64,
    /// A request not answered within this counts as bad.
    pub timeout_ms: u64,
}

/// When the injects happen, as ranges the seed draws from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimelineSpec {
    /// The fault starts this long after the traffic does: `[min, max]` seconds.
    pub fault_after_s: [f64; 2],
    /// The named check whose fault rules are turned on; the drill's first by default.
    pub fault_check: Option<String>,
    pub red_herring: String,
    /// The red herring comes this long after the traffic starts: `[min, max]` seconds.
    pub red_herring_after_s: [f64; 2],
    pub customer_report: String,
    /// The customer report comes this long after the fault: `[min, max]` seconds.
    pub customer_report_after_s: [f64; 2],
    /// While the first page stays unacknowledged: escalations and their text.
    pub escalation: Escalation,
}

/// The escalation policy: while the first page stays unacknowledged,
/// escalation `k` (1..=`max`) goes to the pager `k × after_ms` after it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Escalation {
    pub after_ms: u64,
    pub max: u32,
    pub text: String,
}

impl Escalation {
    /// The escalation due at `now`, if one is: the next one (`fired + 1`)
    /// once the page (`paged`, the first alert) has stayed unacknowledged
    /// for `(fired + 1) × after_ms`, and at most `max` of them.
    pub fn due(
        &self,
        paged: Option<Timestamp>,
        acked: bool,
        fired: u32,
        now: Timestamp,
    ) -> Option<u32> {
        let paged = paged?;
        let next = fired + 1;
        (!acked && next <= self.max && now >= paged.plus_ms(u64::from(next) * self.after_ms))
            .then_some(next)
    }

    /// The pager text of escalation `k`.
    pub fn message(&self, k: u32) -> String {
        format!(
            "{} (escalation {k} of {}, {:.0} s unacknowledged)",
            self.text,
            self.max,
            (u64::from(k) * self.after_ms) as f64 / 1000.0
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Definition {
    pub seed: u64,
    pub slo: Slo,
    pub alert: AlertRule,
    pub traffic: Traffic,
    pub timeline: TimelineSpec,
    /// The config knobs `drill gameday mitigate set` may change (environment
    /// variables the service reads); `None`: the bench workload's `[service] env` keys.
    pub knobs: Option<Vec<String>>,
    /// The file it came from; `None`: the defaults.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InjectKind {
    /// The drill's acceptance fault rules turned on in the fakes.
    Fault,
    /// An unrelated warning in the service's log file.
    RedHerring,
    /// A message on the pager, as a customer would send it.
    CustomerReport,
    /// A message on the pager from the next level of the escalation policy,
    /// while the alert stays unacknowledged.
    Escalation,
}

/// One inject of the schedule: what, and when (ms after the traffic starts).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Inject {
    pub at_ms: u64,
    pub kind: InjectKind,
    pub text: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Raw {
    format_version: Option<u32>,
    seed: Option<u64>,
    #[serde(default)]
    slo: RawSlo,
    #[serde(default)]
    alert: RawAlert,
    #[serde(default)]
    traffic: RawTraffic,
    #[serde(default)]
    timeline: RawTimeline,
    #[serde(default)]
    mitigations: RawMitigations,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMitigations {
    knobs: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSlo {
    availability: Option<f64>,
    latency_ms: Option<u64>,
    window_ms: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAlert {
    burn_rate: Option<f64>,
    long_windows: Option<u32>,
    short_windows: Option<u32>,
    mitigated_windows: Option<u32>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTraffic {
    rate: Option<f64>,
    timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTimeline {
    fault_after_s: Option<[f64; 2]>,
    fault_check: Option<String>,
    red_herring: Option<String>,
    red_herring_after_s: Option<[f64; 2]>,
    customer_report: Option<String>,
    customer_report_after_s: Option<[f64; 2]>,
    escalation: Option<String>,
    escalation_after_s: Option<f64>,
    escalations: Option<u32>,
}

impl Definition {
    /// The drill's `gameday.toml` in `drill_dir`, or the defaults.
    /// `bench_timeout` is the workload's request timeout (the default one here).
    pub fn load(
        drill_dir: &Path,
        drill_id: &str,
        checks: &[String],
        bench_timeout: Duration,
    ) -> Result<Definition, DefinitionError> {
        let path = drill_dir.join(FILE);
        let raw = match std::fs::read_to_string(&path) {
            Ok(text) => {
                Some(
                    toml::from_str::<Raw>(&text).map_err(|e| DefinitionError::Invalid {
                        path: path.clone(),
                        message: e.message().to_string(),
                    })?,
                )
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(DefinitionError::Read { path, source }),
        };
        if let Some(v) = raw.as_ref().and_then(|r| r.format_version) {
            if v != FORMAT_VERSION {
                return Err(DefinitionError::Invalid {
                    path,
                    message: format!("format_version {v}: this drill reads {FORMAT_VERSION}"),
                });
            }
        }
        let file = raw.as_ref().map(|_| path.clone());
        let def = Definition::from_raw(raw.unwrap_or_default(), drill_id, bench_timeout, file);
        def.validate(checks)
            .map_err(|message| DefinitionError::Invalid {
                path: path.clone(),
                message,
            })?;
        Ok(def)
    }

    fn from_raw(raw: Raw, drill_id: &str, bench_timeout: Duration, file: Option<PathBuf>) -> Self {
        let t = raw.timeline;
        let window_ms = raw.slo.window_ms.unwrap_or(1000);
        let long_windows = raw.alert.long_windows.unwrap_or(10);
        // Default: the page unacknowledged for twice the long alert window.
        let escalation_after_ms = t
            .escalation_after_s
            .map_or(2 * u64::from(long_windows) * window_ms, |s| {
                (s * 1000.0).round() as u64
            });
        Definition {
            seed: raw.seed.unwrap_or_else(|| fnv1a64(drill_id.as_bytes())),
            slo: Slo {
                availability: raw.slo.availability.unwrap_or(0.99),
                latency_ms: raw.slo.latency_ms.unwrap_or(500),
                window_ms,
            },
            alert: AlertRule {
                burn_rate: raw.alert.burn_rate.unwrap_or(14.4),
                long_windows,
                short_windows: raw.alert.short_windows.unwrap_or(2),
                mitigated_windows: raw.alert.mitigated_windows.unwrap_or(5),
            },
            traffic: Traffic {
                rate: raw.traffic.rate.unwrap_or(20.0),
                timeout_ms: raw
                    .traffic
                    .timeout_ms
                    .unwrap_or(bench_timeout.as_millis() as u64),
            },
            timeline: TimelineSpec {
                fault_after_s: t.fault_after_s.unwrap_or([5.0, 10.0]),
                fault_check: t.fault_check,
                red_herring: t.red_herring.unwrap_or_else(|| DEFAULT_RED_HERRING.into()),
                red_herring_after_s: t.red_herring_after_s.unwrap_or([2.0, 4.0]),
                customer_report: t
                    .customer_report
                    .unwrap_or_else(|| DEFAULT_CUSTOMER_REPORT.into()),
                customer_report_after_s: t.customer_report_after_s.unwrap_or([15.0, 30.0]),
                escalation: Escalation {
                    after_ms: escalation_after_ms,
                    max: t.escalations.unwrap_or(DEFAULT_ESCALATIONS),
                    text: t.escalation.unwrap_or_else(|| DEFAULT_ESCALATION.into()),
                },
            },
            knobs: raw.mitigations.knobs,
            file,
        }
    }

    fn validate(&self, checks: &[String]) -> Result<(), String> {
        let a = self.slo.availability;
        if !(a > 0.0 && a < 1.0) {
            return Err(format!(
                "slo.availability {a}: give a fraction between 0 and 1 (0.99)"
            ));
        }
        if self.slo.window_ms < 100 {
            return Err("slo.window_ms: at least 100".into());
        }
        if self.alert.burn_rate.is_nan() || self.alert.burn_rate <= 1.0 {
            return Err("alert.burn_rate: above 1 (14.4)".into());
        }
        if self.alert.short_windows == 0 || self.alert.short_windows > self.alert.long_windows {
            return Err("alert.short_windows: at least 1 and at most long_windows".into());
        }
        if self.alert.mitigated_windows == 0 {
            return Err("alert.mitigated_windows: at least 1".into());
        }
        if !(self.traffic.rate > 0.0 && self.traffic.rate <= 1000.0) {
            return Err("traffic.rate: requests per second, above 0 and at most 1000".into());
        }
        let t = &self.timeline;
        for (name, r) in [
            ("fault_after_s", t.fault_after_s),
            ("red_herring_after_s", t.red_herring_after_s),
            ("customer_report_after_s", t.customer_report_after_s),
        ] {
            if !(r[0] >= 0.0 && r[1] >= r[0] && r[1].is_finite()) {
                return Err(format!(
                    "timeline.{name}: [min, max] seconds, 0 <= min <= max"
                ));
            }
        }
        if t.escalation.after_ms < 1000 {
            return Err("timeline.escalation_after_s: at least 1 second".into());
        }
        if t.escalation.max > 10 {
            return Err("timeline.escalations: at most 10".into());
        }
        if let Some(knobs) = &self.knobs {
            if let Some(k) = knobs.iter().find(|k| !is_env_name(k)) {
                return Err(format!(
                    "mitigations.knobs {k:?}: an environment variable name (letters, digits, _)"
                ));
            }
        }
        if let Some(c) = &t.fault_check {
            if !checks.contains(c) {
                return Err(format!(
                    "timeline.fault_check {c:?}: not one of the drill's checks ({})",
                    checks.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// The check whose fault rules the fault inject turns on.
    pub fn fault_check<'a>(&'a self, checks: &'a [String]) -> Option<&'a str> {
        self.timeline
            .fault_check
            .as_deref()
            .or(checks.first().map(String::as_str))
    }

    /// The knobs `mitigate set` offers: `mitigations.knobs`, else the keys
    /// of the bench workload's `[service] env` (sorted).
    pub fn offered_knobs(&self, bench_env: &BTreeMap<String, String>) -> Vec<String> {
        match &self.knobs {
            Some(k) => k.clone(),
            None => bench_env.keys().cloned().collect(),
        }
    }

    /// The injects, in time order: a pure function of the definition.
    pub fn schedule(&self) -> Vec<Inject> {
        let mut state = self.seed;
        let mut draw = |[lo, hi]: [f64; 2]| -> u64 {
            let unit = (splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
            ((lo + (hi - lo) * unit) * 1000.0).round() as u64
        };
        let t = &self.timeline;
        let fault = draw(t.fault_after_s);
        let herring = draw(t.red_herring_after_s);
        let report = fault + draw(t.customer_report_after_s);
        let mut injects = vec![
            Inject {
                at_ms: fault,
                kind: InjectKind::Fault,
                text: "the dependency fault starts".into(),
            },
            Inject {
                at_ms: herring,
                kind: InjectKind::RedHerring,
                text: t.red_herring.clone(),
            },
            Inject {
                at_ms: report,
                kind: InjectKind::CustomerReport,
                text: t.customer_report.clone(),
            },
        ];
        injects.sort_by_key(|i| i.at_ms);
        injects
    }
}

fn is_env_name(k: &str) -> bool {
    !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The stable names of a schedule's injects, in its order: `fault`,
/// `red-herring`, and `customer-report-<k>`, `escalation-<k>` numbered
/// from 1 in time order (the kinds a timeline may hold several of).
pub fn inject_names(schedule: &[Inject]) -> Vec<String> {
    let mut seen: BTreeMap<&'static str, u32> = BTreeMap::new();
    schedule
        .iter()
        .map(|i| {
            let base = i.kind.name();
            match i.kind {
                InjectKind::Fault | InjectKind::RedHerring => base.to_string(),
                InjectKind::CustomerReport | InjectKind::Escalation => {
                    let k = seen.entry(base).or_insert(0);
                    *k += 1;
                    format!("{base}-{k}")
                }
            }
        })
        .collect()
}

/// The name of escalation `k` (it is not on the schedule: it depends on the page).
pub fn escalation_name(k: u32) -> String {
    format!("{}-{k}", InjectKind::Escalation.name())
}

impl InjectKind {
    /// The kind in an inject's name: `fault`, `red-herring`, `customer-report`, `escalation`.
    pub fn name(self) -> &'static str {
        match self {
            InjectKind::Fault => "fault",
            InjectKind::RedHerring => "red-herring",
            InjectKind::CustomerReport => "customer-report",
            InjectKind::Escalation => "escalation",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks() -> Vec<String> {
        vec!["a_check".to_string()]
    }

    /// The error of loading `text` as the game-day file in `dir`.
    fn refused(dir: &Path, text: &str) -> String {
        std::fs::write(dir.join(FILE), text).unwrap();
        Definition::load(dir, "s/bug", &checks(), Duration::from_secs(5))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_default_schedule_depends_on_the_drill_only_and_stays_in_its_ranges() {
        let timeout = Duration::from_secs(5);
        let dir = Path::new("/nonexistent");
        let a = Definition::load(dir, "s/bug", &checks(), timeout).unwrap();
        let b = Definition::load(dir, "s/bug", &checks(), timeout).unwrap();
        assert_eq!(a.schedule(), b.schedule());
        let other = Definition::load(dir, "s/other", &checks(), timeout).unwrap();
        assert_ne!(a.schedule(), other.schedule());
        let s = a.schedule();
        let fault = s.iter().find(|i| i.kind == InjectKind::Fault).unwrap();
        assert!((5000..=10_000).contains(&fault.at_ms), "{s:?}");
        let report = s
            .iter()
            .find(|i| i.kind == InjectKind::CustomerReport)
            .unwrap();
        assert!(report.at_ms >= fault.at_ms + 15_000, "{s:?}");
        assert!(s.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        assert_eq!(a.traffic.timeout_ms, 5000);
        assert_eq!(a.fault_check(&checks()), Some("a_check"));
    }

    #[test]
    fn a_file_overrides_the_defaults_and_bad_values_name_their_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE),
            "format_version = 1\nseed = 7\n[slo]\navailability = 0.999\n[timeline]\nfault_after_s = [1, 1]\n",
        )
        .unwrap();
        let d = Definition::load(dir.path(), "s/bug", &checks(), Duration::from_secs(5)).unwrap();
        assert_eq!(d.seed, 7);
        assert_eq!(d.slo.availability, 0.999);
        assert_eq!(d.slo.latency_ms, 500);
        let fault = d
            .schedule()
            .into_iter()
            .find(|i| i.kind == InjectKind::Fault);
        assert_eq!(fault.unwrap().at_ms, 1000);

        let e = refused(dir.path(), "[timeline]\nfault_check = \"nope\"\n");
        assert!(e.contains("timeline.fault_check"), "{e}");
        let e = refused(dir.path(), "[slo]\navailability = 2.0\n");
        assert!(e.contains("slo.availability"), "{e}");
        let e = refused(dir.path(), "format_version = 9\n");
        assert!(e.contains("format_version"), "{e}");
    }

    #[test]
    fn schedule_names_are_derived_from_kinds_and_order_and_stay_stable() {
        let d = Definition::load(
            Path::new("/nonexistent"),
            "s/bug",
            &checks(),
            Duration::from_secs(5),
        )
        .unwrap();
        let s = d.schedule();
        let mut names = inject_names(&s);
        assert_eq!(names, inject_names(&d.schedule()), "the same every time");
        names.sort();
        assert_eq!(names, ["customer-report-1", "fault", "red-herring"]);
        let at = |kind, at_ms| Inject {
            at_ms,
            kind,
            text: String::new(),
        };
        let more = [
            at(InjectKind::RedHerring, 1),
            at(InjectKind::CustomerReport, 2),
            at(InjectKind::Fault, 3),
            at(InjectKind::CustomerReport, 4),
            at(InjectKind::Escalation, 5),
        ];
        assert_eq!(
            inject_names(&more),
            [
                "red-herring",
                "customer-report-1",
                "fault",
                "customer-report-2",
                "escalation-1"
            ]
        );
        assert_eq!(escalation_name(2), "escalation-2");
    }

    #[test]
    fn escalations_follow_an_unacknowledged_page_at_most_max_times() {
        use crate::clock::{Clock, TestClock};
        let d = Definition::load(
            Path::new("/nonexistent"),
            "s/bug",
            &checks(),
            Duration::from_secs(5),
        )
        .unwrap();
        let e = &d.timeline.escalation;
        assert_eq!(e.after_ms, 20_000, "twice the long window of 10 x 1 s");
        assert_eq!(e.max, 2);
        let clock = TestClock::at(Timestamp::from_unix_ms(1_000_000));
        let paged = clock.now();
        assert_eq!(
            e.due(None, false, 0, clock.now()),
            None,
            "no page, no escalation"
        );
        clock.advance_secs(19);
        assert_eq!(e.due(Some(paged), false, 0, clock.now()), None);
        clock.advance_secs(1);
        assert_eq!(e.due(Some(paged), false, 0, clock.now()), Some(1));
        assert_eq!(
            e.due(Some(paged), true, 0, clock.now()),
            None,
            "acknowledged"
        );
        assert_eq!(
            e.due(Some(paged), false, 1, clock.now()),
            None,
            "the 2nd at 40 s"
        );
        clock.advance_secs(20);
        assert_eq!(e.due(Some(paged), false, 1, clock.now()), Some(2));
        clock.advance_secs(600);
        assert_eq!(e.due(Some(paged), false, 2, clock.now()), None, "at most 2");
        assert!(
            e.message(2).contains("escalation 2 of 2, 40 s"),
            "{}",
            e.message(2)
        );

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE),
            "[timeline]\nescalation_after_s = 3\nescalations = 1\n[mitigations]\nknobs = [\"A_B\"]\n",
        )
        .unwrap();
        let d = Definition::load(dir.path(), "s/bug", &checks(), Duration::from_secs(5)).unwrap();
        assert_eq!(d.timeline.escalation.after_ms, 3000);
        assert_eq!(d.timeline.escalation.max, 1);
        assert_eq!(d.offered_knobs(&BTreeMap::new()), ["A_B"]);
        let e = refused(dir.path(), "[mitigations]\nknobs = [\"a-b\"]\n");
        assert!(e.contains("mitigations.knobs"), "{e}");
        let e = refused(dir.path(), "[timeline]\nescalation_after_s = 0.2\n");
        assert!(e.contains("escalation_after_s"), "{e}");
    }

    #[test]
    fn the_default_knobs_are_the_bench_env_keys() {
        let d = Definition::load(
            Path::new("/nonexistent"),
            "s/bug",
            &checks(),
            Duration::from_secs(5),
        )
        .unwrap();
        let env: BTreeMap<String, String> =
            [("B".to_string(), "1".to_string()), ("A".into(), "2".into())]
                .into_iter()
                .collect();
        assert_eq!(d.offered_knobs(&env), ["A", "B"]);
    }
}
