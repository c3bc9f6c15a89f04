use std::fmt::Write as _;

use super::Exporter;
use crate::stats::km::Time;
use crate::stats::{Estimate, StatsReport};

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

fn estimate(e: Estimate) -> String {
    match e {
        Estimate::Value(v) => num(v),
        Estimate::Above(v) => format!(">{}", num(v)),
        Estimate::Below(v) => format!("<{}", num(v)),
        Estimate::Undefined => String::new(),
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
submits_per_attempt,hints_per_attempt,ratio,ratio_lo,ratio_hi,hl_shift_s,hl_lo_s,hl_hi_s,hl_conf,\
mann_whitney_p,log_rank_p,log_rank_p_holm,paired_pairs,paired_p,verdict,prevented_in";

impl Exporter for Csv {
    fn render(&self, r: &StatsReport) -> String {
        let mut out = String::from(HEADER);
        out.push('\n');
        let rows = r.cells.iter().map(|c| (c, None)).chain(
            r.prevented
                .iter()
                .map(|p| (&p.cell, Some(p.prevented_in.as_str()))),
        );
        for (c, prevented_in) in rows {
            let cmp = r
                .comparisons
                .iter()
                .find(|x| x.group == c.group && prevented_in.is_none());
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
                c.time_to_fix
                    .median_ci
                    .map(|ci| t(ci[0]))
                    .unwrap_or_default(),
                c.time_to_fix
                    .median_ci
                    .map(|ci| t(ci[1]))
                    .unwrap_or_default(),
                t(c.time_to_fix.q1),
                t(c.time_to_fix.q3),
                t(c.time_to_fix.p90),
                t(c.time_to_find.median),
                num(c.submits_per_attempt),
                num(c.hints_per_attempt),
            ];
            match cmp {
                Some(x) => {
                    let (rci, hci) = (x.ratio_ci.as_ref(), x.hodges_lehmann.ci.as_ref());
                    row.extend([
                        estimate(x.ratio),
                        rci.map(|c| num(c.lo)).unwrap_or_default(),
                        rci.map(|c| num(c.hi)).unwrap_or_default(),
                        estimate(x.hodges_lehmann.estimate),
                        hci.map(|c| num(c.lo)).unwrap_or_default(),
                        hci.map(|c| num(c.hi)).unwrap_or_default(),
                        hci.map(|c| num(c.conf)).unwrap_or_default(),
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
                None => row.extend(std::iter::repeat_n(String::new(), 13)),
            }
            row.push(prevented_in.map(q).unwrap_or_default());
            let _ = writeln!(out, "{}", row.join(","));
        }
        out
    }
}
