//! The SLI of a game day and the rules read from it: per window, the share
//! of good requests; the multi-window burn-rate alert; "mitigated".
//!
//! A request is good when it was answered with a status below 500 within
//! the latency objective, measured from its intended start (open loop: a
//! request waiting behind a stuck one counts its wait). It is counted in the
//! window in which it completed (answered, failed or timed out), as a
//! service's own metrics would count it.
//!
//! Burn rate over the last n windows = (bad / total) / (1 − availability).
//! The alert fires when both the long and the short burn rate reach the
//! rule's rate (the SRE workbook's 14.4× over 1 h and 5 min, compressed to
//! windows of `window_ms`), and clears when the short one falls below it.
//! Mitigated: after an alert, `mitigated_windows` consecutive windows each
//! within the objective (a window with no completed request is not).
//!
//! Pure: the caller feeds closed windows; tests need no service and no clock.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Slo {
    /// The objective: the share of good requests, e.g. 0.99.
    pub availability: f64,
    /// A good request is answered within this, from its intended start.
    pub latency_ms: u64,
    /// One SLI window.
    pub window_ms: u64,
}

impl Slo {
    pub fn is_good(&self, status: Option<u16>, latency_ms: u64) -> bool {
        status.is_some_and(|s| s < 500) && latency_ms <= self.latency_ms
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct AlertRule {
    pub burn_rate: f64,
    pub long_windows: u32,
    pub short_windows: u32,
    pub mitigated_windows: u32,
}

/// One closed window: requests completed in it, and how many were good.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Window {
    pub index: u64,
    pub total: u64,
    pub good: u64,
    /// Requests intended in this window that load shedding
    /// (`mitigate shed`) dropped at the generator: never sent, not in `total`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Whether load shedding at `percent` drops request `seq`: exactly
/// `percent` of every 100 consecutive requests, spread evenly.
pub fn sheds(seq: u64, percent: u32) -> bool {
    let p = u64::from(percent.min(100));
    (seq + 1) * p / 100 != seq * p / 100
}

impl Window {
    /// The SLI of this window; `None` without a completed request.
    pub fn sli(&self) -> Option<f64> {
        (self.total > 0).then(|| self.good as f64 / self.total as f64)
    }
}

/// The SLI of each window as one character: a full bar within the
/// objective, lower bars for lower shares, a blank for a window without a
/// completed request.
pub fn sparkline(values: &[Option<f64>], objective: f64) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(s) if *s >= objective => BARS[7],
            Some(s) => BARS[((s * 7.0).floor() as usize).min(6)],
        })
        .collect()
}

/// What closing a window changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    AlertFired { long_burn: f64, short_burn: f64 },
    AlertCleared { short_burn: f64 },
    Mitigated { windows: u32 },
}

#[derive(Debug, Clone)]
pub struct Tracker {
    slo: Slo,
    rule: AlertRule,
    windows: Vec<Window>,
    firing: bool,
    alerted: bool,
    mitigated: bool,
    total: u64,
    good: u64,
}

impl Tracker {
    pub fn new(slo: Slo, rule: AlertRule) -> Tracker {
        Tracker {
            slo,
            rule,
            windows: Vec::new(),
            firing: false,
            alerted: false,
            mitigated: false,
            total: 0,
            good: 0,
        }
    }

    /// The burn rate over the last `n` windows; `None` without requests.
    pub fn burn(&self, n: u32) -> Option<f64> {
        let last = &self.windows[self.windows.len().saturating_sub(n as usize)..];
        let total: u64 = last.iter().map(|w| w.total).sum();
        let good: u64 = last.iter().map(|w| w.good).sum();
        (total > 0).then(|| (total - good) as f64 / total as f64 / (1.0 - self.slo.availability))
    }

    pub fn firing(&self) -> bool {
        self.firing
    }

    pub fn windows(&self) -> &[Window] {
        &self.windows
    }

    /// The error budget left over the game day so far: 1 − bad / allowed
    /// bad, where allowed = (1 − availability) × requests (below 0: overspent).
    pub fn budget_left(&self) -> f64 {
        if self.total == 0 {
            return 1.0;
        }
        let allowed = (1.0 - self.slo.availability) * self.total as f64;
        1.0 - (self.total - self.good) as f64 / allowed
    }

    /// Adds the next closed window; what it changed.
    pub fn close(&mut self, w: Window) -> Vec<Transition> {
        self.total += w.total;
        self.good += w.good;
        self.windows.push(w);
        let mut out = Vec::new();
        let long = self.burn(self.rule.long_windows);
        let short = self.burn(self.rule.short_windows);
        let at = |b: Option<f64>| b.is_some_and(|b| b >= self.rule.burn_rate);
        if !self.firing && at(long) && at(short) {
            self.firing = true;
            self.alerted = true;
            out.push(Transition::AlertFired {
                long_burn: long.unwrap_or(0.0),
                short_burn: short.unwrap_or(0.0),
            });
        } else if self.firing && short.is_some_and(|b| b < self.rule.burn_rate) {
            self.firing = false;
            out.push(Transition::AlertCleared {
                short_burn: short.unwrap_or(0.0),
            });
        }
        let n = self.rule.mitigated_windows as usize;
        if self.alerted && !self.mitigated && self.windows.len() >= n {
            let recent = &self.windows[self.windows.len() - n..];
            if recent
                .iter()
                .all(|w| w.sli().is_some_and(|s| s >= self.slo.availability))
            {
                self.mitigated = true;
                out.push(Transition::Mitigated {
                    windows: self.rule.mitigated_windows,
                });
            }
        }
        out
    }
}

/// What a deploy did to the SLI: the share of good requests over the `n`
/// windows before the switch and over the `n` from it. Worse: below the
/// objective after, and lower than before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeployEffect {
    pub before: Option<f64>,
    pub after: Option<f64>,
    pub worse: bool,
}

/// The effect of a switch at window index `at`, once `n` windows from it
/// are closed; `None` before that.
pub fn deploy_effect(
    windows: &[Window],
    at: u64,
    n: u64,
    availability: f64,
) -> Option<DeployEffect> {
    let closed = windows.last().map_or(0, |w| w.index + 1);
    if closed < at + n {
        return None;
    }
    let share = |from: u64, to: u64| {
        let (total, good) = windows
            .iter()
            .filter(|w| w.index >= from && w.index < to)
            .fold((0, 0), |(t, g), w| (t + w.total, g + w.good));
        (total > 0).then(|| good as f64 / total as f64)
    };
    let before = share(at.saturating_sub(n), at);
    let after = share(at, at + n);
    let worse = match (before, after) {
        (Some(b), Some(a)) => a < availability && a < b,
        (Some(_), None) => true,
        _ => false,
    };
    Some(DeployEffect {
        before,
        after,
        worse,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker() -> Tracker {
        Tracker::new(
            Slo {
                availability: 0.99,
                latency_ms: 500,
                window_ms: 1000,
            },
            AlertRule {
                burn_rate: 14.4,
                long_windows: 10,
                short_windows: 2,
                mitigated_windows: 3,
            },
        )
    }

    fn w(index: u64, total: u64, good: u64) -> Window {
        Window {
            index,
            total,
            good,
            shed: 0,
        }
    }

    #[test]
    fn a_good_request_is_answered_below_500_within_the_objective() {
        let slo = tracker().slo;
        assert!(slo.is_good(Some(200), 500));
        assert!(slo.is_good(Some(404), 10));
        assert!(!slo.is_good(Some(200), 501));
        assert!(!slo.is_good(Some(503), 10));
        assert!(!slo.is_good(None, 10));
    }

    #[test]
    fn the_alert_needs_both_windows_burning_and_never_fires_on_a_healthy_service() {
        let mut t = tracker();
        for i in 0..20 {
            assert!(t.close(w(i, 20, 20)).is_empty());
        }
        // 10% bad is a 10x burn: below 14.4, no page.
        for i in 20..40 {
            assert!(t.close(w(i, 20, 18)).is_empty());
        }
        let mut t = tracker();
        for i in 0..10 {
            t.close(w(i, 20, 20));
        }
        // One window at 50% bad: short burn 25x, long burn 5x: not yet.
        assert!(t.close(w(10, 20, 10)).is_empty());
        // A second: long burn (20 bad of 200) = 10x, still not.
        assert!(t.close(w(11, 20, 10)).is_empty());
        // A third: 30 bad of 200 = 15x long, 50x short: page.
        let fired = t.close(w(12, 20, 10));
        assert!(
            matches!(fired[..], [Transition::AlertFired { long_burn, short_burn }]
                if (long_burn - 15.0).abs() < 1e-9 && (short_burn - 50.0).abs() < 1e-9),
            "{fired:?}"
        );
        assert!(t.firing());
        assert!(t.budget_left() < 0.0);
    }

    #[test]
    fn mitigated_after_the_alert_takes_consecutive_good_windows_with_traffic() {
        let mut t = tracker();
        for i in 0..3 {
            t.close(w(i, 20, 0));
        }
        assert!(t.firing());
        assert!(
            t.close(w(3, 20, 20)).is_empty(),
            "the short window still burns"
        );
        // A window without completed requests breaks the streak.
        let cleared = t.close(w(4, 0, 0));
        assert!(
            matches!(cleared[..], [Transition::AlertCleared { .. }]),
            "{cleared:?}"
        );
        assert!(t.close(w(5, 20, 20)).is_empty());
        assert!(t.close(w(6, 20, 20)).is_empty());
        let m = t.close(w(7, 20, 20));
        assert_eq!(m, vec![Transition::Mitigated { windows: 3 }]);
        assert!(
            t.close(w(8, 20, 20)).is_empty(),
            "mitigated is recorded once"
        );
    }

    #[test]
    fn a_deploy_is_worse_when_the_sli_after_it_is_below_the_objective_and_below_before() {
        let ws: Vec<Window> = (0..4)
            .map(|i| w(i, 20, 15))
            .chain((4..8).map(|i| w(i, 20, 5)))
            .collect();
        assert_eq!(
            deploy_effect(&ws[..7], 4, 4, 0.99),
            None,
            "not yet 4 windows after"
        );
        let e = deploy_effect(&ws, 4, 4, 0.99).unwrap();
        assert_eq!((e.before, e.after, e.worse), (Some(0.75), Some(0.25), true));
        let better: Vec<Window> = (0..4)
            .map(|i| w(i, 20, 10))
            .chain((4..8).map(|i| w(i, 20, 20)))
            .collect();
        assert!(!deploy_effect(&better, 4, 4, 0.99).unwrap().worse);
        // Still bad but no worse (a wrong fix that changes nothing): not worse.
        let same: Vec<Window> = (0..8).map(|i| w(i, 20, 10)).collect();
        assert!(!deploy_effect(&same, 4, 4, 0.99).unwrap().worse);
        // No request completed at all after the switch: worse.
        let silent: Vec<Window> = (0..4)
            .map(|i| w(i, 20, 10))
            .chain((4..8).map(|i| w(i, 0, 0)))
            .collect();
        assert!(deploy_effect(&silent, 4, 4, 0.99).unwrap().worse);
    }

    #[test]
    fn good_windows_before_any_alert_are_not_a_mitigation() {
        let mut t = tracker();
        for i in 0..10 {
            assert!(t.close(w(i, 20, 20)).is_empty());
        }
    }

    #[test]
    fn shedding_drops_its_share_of_every_hundred_requests_spread_out() {
        for p in [0, 1, 10, 33, 50, 99, 100] {
            let dropped = (0..1000).filter(|&seq| sheds(seq, p)).count();
            assert_eq!(dropped as u32, 10 * p, "{p}%");
        }
        let half: Vec<bool> = (0..6).map(|seq| sheds(seq, 50)).collect();
        assert_eq!(half, [false, true, false, true, false, true]);
        assert!((0..100).all(|seq| sheds(seq, 250)), "above 100 is 100");
    }
}
