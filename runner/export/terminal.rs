use std::fmt::Write as _;

use super::Exporter;
use crate::console::table;
use crate::stats::StatsReport;

/// The default: aligned tables for a terminal.
pub struct Terminal;

impl Exporter for Terminal {
    fn render(&self, r: &StatsReport) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Time to fix and to find, per {} and language\n",
            r.options.group_by.as_str()
        );
        out.push_str(&table(&super::cell_rows(r)));
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
            out.push_str(&table(&super::comparison_rows(r)));
        }
        if let (Some(rows), Some(cost)) = (super::cost_rows(r), &r.cost) {
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
