use std::fmt::Write as _;

use super::Exporter;
use crate::stats::km::Time;
use crate::stats::{Ratio, StatsReport};

/// One row per group × language, with the group's comparison repeated on
/// each of its rows. Times in seconds; a time prefixed with `>` was not
/// reached within that follow-up; empty = no data.
pub struct Csv;

fn t(x: Time) -> String {
    match x {
        Time::At(s) => format!("{s:.3}"),
        Time::After(s) => format!(">{s:.3}"),
        Time::Unknown => String::new(),
    }
}

fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}")
    } else if x > 0.0 {
        "inf".to_string()
    } else if x < 0.0 {
        "-inf".to_string()
    } else {
        String::new()
    }
}

fn q(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub const HEADER: &str =
    "group,language,attempts,fixed,abandoned,timed_out,open,censored_fraction,\
median_fix_s,median_fix_lo_s,median_fix_hi_s,q1_fix_s,q3_fix_s,p90_fix_s,median_find_s,\
submits_per_attempt,hints_per_attempt,ratio,ratio_lo,ratio_hi,hl_shift_s,hl_lo_s,hl_hi_s,\
mann_whitney_p,log_rank_p,log_rank_p_holm,paired_pairs,paired_p,verdict";

impl Exporter for Csv {
    fn render(&self, r: &StatsReport) -> String {
        let mut out = String::from(HEADER);
        out.push('\n');
        for c in &r.cells {
            let cmp = r.comparisons.iter().find(|x| x.group == c.group);
            let mut row = vec![
                q(&c.group),
                q(&c.language),
                c.attempts.to_string(),
                c.fixed.to_string(),
                c.abandoned.to_string(),
                c.timed_out.to_string(),
                c.open.to_string(),
                num(c.censored_fraction),
                t(c.time_to_fix.median),
                t(c.time_to_fix.median_ci[0]),
                t(c.time_to_fix.median_ci[1]),
                t(c.time_to_fix.q1),
                t(c.time_to_fix.q3),
                t(c.time_to_fix.p90),
                t(c.time_to_find.median),
                num(c.submits_per_attempt),
                num(c.hints_per_attempt),
            ];
            match cmp {
                Some(x) => {
                    row.push(match x.ratio {
                        Ratio::Value(v) => num(v),
                        Ratio::Above(v) => format!(">{}", num(v)),
                        Ratio::Below(v) => format!("<{}", num(v)),
                        Ratio::Undefined => String::new(),
                    });
                    row.extend([
                        num(x.ratio_ci.lo),
                        num(x.ratio_ci.hi),
                        num(x.hodges_lehmann.estimate),
                        num(x.hodges_lehmann.lo),
                        num(x.hodges_lehmann.hi),
                        num(x.mann_whitney.p),
                        num(x.log_rank.p),
                        x.log_rank_p_holm.map(num).unwrap_or_default(),
                        x.paired
                            .as_ref()
                            .map_or(String::new(), |p| p.pairs.to_string()),
                        x.paired.as_ref().map_or(String::new(), |p| num(p.test.p)),
                        super::verdict(x, &r.options.compare),
                    ]);
                }
                None => row.extend(std::iter::repeat_n(String::new(), 12)),
            }
            let _ = writeln!(out, "{}", row.join(","));
        }
        out
    }
}
