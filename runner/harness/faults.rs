//! Fault rules: which calls of a fake misbehave, how, and the seeded jitter.
//!
//! Everything here is a pure function of the rule, the call's arrival number
//! and the seed, so the Go and the Rust build of a scenario see exactly the
//! same sequence of faults.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// Which calls of a fake a rule applies to, by 1-based arrival order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallSelector {
    All,
    /// Inclusive range; `to == None` means "and every later call".
    Range {
        from: u64,
        to: Option<u64>,
    },
}

impl CallSelector {
    /// Parses `"all"`, `"3"`, `"1-2"` or `"2-"`.
    pub fn parse(s: &str) -> Result<CallSelector, String> {
        let s = s.trim();
        if s == "all" {
            return Ok(CallSelector::All);
        }
        let num = |part: &str| -> Result<u64, String> {
            match part.parse::<u64>() {
                Ok(0) => Err(format!(
                    "bad calls selector {s:?}: calls are numbered from 1"
                )),
                Ok(n) => Ok(n),
                Err(_) => Err(format!(
                    "bad calls selector {s:?}: expected \"all\", \"N\", \"N-M\" or \"N-\""
                )),
            }
        };
        match s.split_once('-') {
            None => {
                let n = num(s)?;
                Ok(CallSelector::Range {
                    from: n,
                    to: Some(n),
                })
            }
            Some((from, "")) => Ok(CallSelector::Range {
                from: num(from)?,
                to: None,
            }),
            Some((from, to)) => {
                let (from, to) = (num(from)?, num(to)?);
                if to < from {
                    return Err(format!(
                        "bad calls selector {s:?}: range ends before it starts"
                    ));
                }
                Ok(CallSelector::Range { from, to: Some(to) })
            }
        }
    }

    /// Whether the call with this 1-based arrival number is selected.
    pub fn matches(&self, call: u64) -> bool {
        match *self {
            CallSelector::All => true,
            CallSelector::Range { from, to } => call >= from && to.is_none_or(|t| call <= t),
        }
    }
}

impl fmt::Display for CallSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CallSelector::All => write!(f, "all"),
            CallSelector::Range { from, to: None } => write!(f, "{from}-"),
            CallSelector::Range { from, to: Some(to) } if to == from => write!(f, "{from}"),
            CallSelector::Range { from, to: Some(to) } => write!(f, "{from}-{to}"),
        }
    }
}

/// What a selected call experiences. See docs/drill-format.md, "Faults".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    Latency { delay_ms: u64, jitter_ms: u64 },
    Hang,
    RespondLate { delay_ms: u64 },
    ResetBefore,
    ResetAfter,
    Status { status: u16 },
    SlowBody { delay_ms: u64 },
}

impl FaultKind {
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Latency { .. } => "latency",
            FaultKind::Hang => "hang",
            FaultKind::RespondLate { .. } => "respond_late",
            FaultKind::ResetBefore => "reset_before",
            FaultKind::ResetAfter => "reset_after",
            FaultKind::Status { .. } => "status",
            FaultKind::SlowBody { .. } => "slow_body",
        }
    }
}

/// One rule of a check's `faults` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub fake: String,
    pub calls: CallSelector,
    pub kind: FaultKind,
}

/// The rule as written in TOML; checked and turned into a [`FaultRule`] by
/// [`RawFault::into_rule`], so a missing or misplaced parameter is reported
/// with its name instead of as an opaque enum mismatch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFault {
    fake: String,
    calls: String,
    kind: String,
    delay_ms: Option<u64>,
    jitter_ms: Option<u64>,
    status: Option<u16>,
}

pub(crate) const KINDS: &[&str] = &[
    "latency",
    "hang",
    "respond_late",
    "reset_before",
    "reset_after",
    "status",
    "slow_body",
];

impl RawFault {
    pub(crate) fn into_rule(self) -> Result<FaultRule, String> {
        let calls = CallSelector::parse(&self.calls).map_err(|e| format!("field `calls`: {e}"))?;
        let kind_name = self.kind.as_str();
        // Each kind names the parameters it accepts; any other one is a typo
        // or a misunderstanding worth reporting.
        let (allowed, kind): (&[&str], Option<FaultKind>) = match kind_name {
            "latency" => (
                &["delay_ms", "jitter_ms"],
                self.delay_ms.map(|delay_ms| FaultKind::Latency {
                    delay_ms,
                    jitter_ms: self.jitter_ms.unwrap_or(0),
                }),
            ),
            "hang" => (&[], Some(FaultKind::Hang)),
            "respond_late" => (
                &["delay_ms"],
                self.delay_ms
                    .map(|delay_ms| FaultKind::RespondLate { delay_ms }),
            ),
            "reset_before" => (&[], Some(FaultKind::ResetBefore)),
            "reset_after" => (&[], Some(FaultKind::ResetAfter)),
            "status" => (
                &["status"],
                self.status.map(|status| FaultKind::Status { status }),
            ),
            "slow_body" => (
                &["delay_ms"],
                self.delay_ms
                    .map(|delay_ms| FaultKind::SlowBody { delay_ms }),
            ),
            other => {
                return Err(format!(
                    "field `kind`: unknown fault kind {other:?} (expected one of: {})",
                    KINDS.join(", ")
                ))
            }
        };
        let given = [
            ("delay_ms", self.delay_ms.is_some()),
            ("jitter_ms", self.jitter_ms.is_some()),
            ("status", self.status.is_some()),
        ];
        for (param, present) in given {
            if present && !allowed.contains(&param) {
                return Err(format!(
                    "field `{param}` does not apply to kind {kind_name:?}"
                ));
            }
        }
        let kind =
            kind.ok_or_else(|| format!("kind {kind_name:?} needs field `{}`", allowed[0]))?;
        if let FaultKind::Status { status } = kind {
            if !(100..=599).contains(&status) {
                return Err(format!("field `status`: {status} is not an HTTP status"));
            }
        }
        Ok(FaultRule {
            fake: self.fake,
            calls,
            kind,
        })
    }
}

impl FaultRule {
    /// Parses one rule written as a TOML inline table, as in a check's
    /// `faults` list: `{ fake = "provider", calls = "all", kind = "hang" }`.
    /// For commands that take faults on the command line.
    pub fn parse(s: &str) -> Result<FaultRule, String> {
        #[derive(Deserialize)]
        struct One {
            f: RawFault,
        }
        let one: One = toml::from_str(&format!("f = {s}")).map_err(|e| e.message().to_string())?;
        one.f.into_rule()
    }
}

/// The first rule of `rules` that applies to call `call` of fake `fake`.
pub fn select<'a>(rules: &'a [FaultRule], fake: &str, call: u64) -> Option<&'a FaultRule> {
    rules
        .iter()
        .find(|r| r.fake == fake && r.calls.matches(call))
}

/// 64-bit FNV-1a: a stable hash (std's hasher may change between releases).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// One step of splitmix64: a good, tiny mixer for seeding and drawing.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of one check run: a function of the check name, the run number
/// and the kit-wide seed only.
pub fn check_seed(label: &str, run_index: u32, seed: u64) -> u64 {
    let mut s = fnv1a64(label.as_bytes())
        ^ seed.rotate_left(17)
        ^ u64::from(run_index).wrapping_mul(0x9e37_79b9);
    splitmix64(&mut s)
}

/// The delay of a latency fault for call `call` of fake `fake`. Drawn per call
/// from (seed, fake, call) rather than from a shared stream, so concurrent
/// arrivals cannot reorder the draws.
pub fn latency_delay(seed: u64, fake: &str, call: u64, delay_ms: u64, jitter_ms: u64) -> Duration {
    if jitter_ms == 0 {
        return Duration::from_millis(delay_ms);
    }
    let mut s = seed ^ fnv1a64(fake.as_bytes()) ^ call.wrapping_mul(0xd6e8_feb8_6659_fd93);
    let span = 2 * jitter_ms + 1;
    let offset = splitmix64(&mut s) % span; // 0..=2*jitter
    let ms = (delay_ms + offset).saturating_sub(jitter_ms);
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_and_match() {
        let all = CallSelector::parse("all").unwrap();
        assert!(all.matches(1) && all.matches(1000));
        let three = CallSelector::parse("3").unwrap();
        assert!(!three.matches(2) && three.matches(3) && !three.matches(4));
        let range = CallSelector::parse("1-2").unwrap();
        assert!(range.matches(1) && range.matches(2) && !range.matches(3));
        let open = CallSelector::parse("2-").unwrap();
        assert!(!open.matches(1) && open.matches(2) && open.matches(99));
        for s in ["all", "3", "1-2", "2-"] {
            assert_eq!(CallSelector::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn bad_selectors_are_rejected_with_the_reason() {
        for bad in ["", "0", "x", "3-1", "-2", "1-2-3", "first"] {
            assert!(CallSelector::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(CallSelector::parse("0")
            .unwrap_err()
            .contains("numbered from 1"));
        assert!(CallSelector::parse("3-1")
            .unwrap_err()
            .contains("ends before"));
    }

    #[test]
    fn first_matching_rule_wins() {
        let rules = vec![
            FaultRule::parse(r#"{ fake = "p", calls = "1", kind = "status", status = 503 }"#)
                .unwrap(),
            FaultRule::parse(r#"{ fake = "p", calls = "all", kind = "hang" }"#).unwrap(),
        ];
        assert_eq!(
            select(&rules, "p", 1).unwrap().kind,
            FaultKind::Status { status: 503 }
        );
        assert_eq!(select(&rules, "p", 2).unwrap().kind, FaultKind::Hang);
        assert!(select(&rules, "other", 1).is_none());
    }

    #[test]
    fn fault_parameters_are_checked_per_kind() {
        let err =
            FaultRule::parse(r#"{ fake = "p", calls = "all", kind = "latency" }"#).unwrap_err();
        assert!(err.contains("needs field `delay_ms`"), "{err}");
        let err = FaultRule::parse(r#"{ fake = "p", calls = "all", kind = "hang", delay_ms = 5 }"#)
            .unwrap_err();
        assert!(err.contains("`delay_ms` does not apply"), "{err}");
        let err =
            FaultRule::parse(r#"{ fake = "p", calls = "all", kind = "explode" }"#).unwrap_err();
        assert!(err.contains("unknown fault kind \"explode\""), "{err}");
        let err =
            FaultRule::parse(r#"{ fake = "p", calls = "all", kind = "status", status = 42 }"#)
                .unwrap_err();
        assert!(err.contains("not an HTTP status"), "{err}");
    }

    #[test]
    fn fnv1a_matches_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn jitter_is_deterministic_and_bounded() {
        let seed = check_seed("concurrent_charges_add_up", 3, 0);
        assert_eq!(seed, check_seed("concurrent_charges_add_up", 3, 0));
        assert_ne!(seed, check_seed("concurrent_charges_add_up", 4, 0));
        let mut seen = std::collections::BTreeSet::new();
        for call in 1..=200 {
            let d = latency_delay(seed, "provider", call, 100, 20);
            assert_eq!(d, latency_delay(seed, "provider", call, 100, 20));
            assert!((80..=120).contains(&d.as_millis()), "{d:?}");
            seen.insert(d.as_millis());
        }
        assert!(seen.len() > 10, "jitter barely varies: {seen:?}");
        assert!(latency_delay(seed, "provider", 1, 10, 50).as_millis() <= 60);
    }
}
