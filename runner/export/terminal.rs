use std::fmt::Write as _;

use super::Exporter;
use crate::console::table;
use crate::stats::StatsReport;

/// The default: aligned tables for a terminal.
pub struct Terminal;

impl Exporter for Terminal {
    fn render(&self, r: &StatsReport) -> String {
        let mut out = String::new();
        let unit = super::Unit::for_report(r);
        let _ = writeln!(
            out,
            "Time to fix and to find, per {} and language (times in {})\n",
            r.options.group_by.as_str(),
            unit.name()
        );
        out.push_str(&table(&super::cell_rows(r, unit)));
        if r.comparisons.is_empty() {
            let _ = writeln!(
                out,
                "\nNo {} vs {} comparison: one of them has no attempts.",
                r.options.compare[0], r.options.compare[1]
            );
        } else {
            let _ = writeln!(
                out,
                "\n{} vs {}\n",
                r.options.compare[0], r.options.compare[1]
            );
            out.push_str(&table(&super::comparison_rows(r, unit)));
            let why = super::withheld_notes(r);
            if !why.is_empty() {
                let _ = writeln!(out, "\nBounds and missing intervals");
                for w in why {
                    let _ = writeln!(out, "  - {w}");
                }
            }
        }
        if let Some(x) = super::experience_view(r, unit) {
            let _ = writeln!(out, "\n{}\n", super::experience_title(r));
            for l in &x.lines {
                let _ = writeln!(out, "  {l}");
            }
            if let Some(rows) = &x.bands {
                out.push('\n');
                out.push_str(&table(rows));
            }
            for n in &x.notes {
                let _ = writeln!(out, "  - {n}");
            }
        }
        if let Some(rows) = super::test_rows(r, unit) {
            let _ = writeln!(out, "\n{}\n", super::TEST_TITLE);
            out.push_str(&table(&rows));
        }
        if !r.prevented.is_empty() {
            let _ = writeln!(out, "\n{}\n", super::PREVENTED_TITLE);
            out.push_str(&table(&super::prevented_rows(r, unit)));
        }
        if let Some(cost) = &r.cost {
            let rows = super::cost_rows(r, cost);
            let _ = writeln!(
                out,
                "\nCost of a median incident ({} per hour × {} engineer(s))\n",
                super::money(cost.hourly_rate),
                cost.engineers_per_incident
            );
            out.push_str(&table(&rows));
        }
        if !r.warnings.is_empty() {
            let _ = writeln!(out, "\nWarnings");
            for w in &r.warnings {
                let _ = writeln!(out, "  ! {}", w.message);
            }
        }
        out.push('\n');
        for n in super::notes(r) {
            let _ = writeln!(out, "{n}");
        }
        out
    }
}
