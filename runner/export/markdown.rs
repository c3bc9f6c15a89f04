use std::fmt::Write as _;

use super::Exporter;
use crate::stats::StatsReport;

/// GitHub-flavoured Markdown, for pull requests and wikis.
pub struct Markdown;

fn md_table(rows: &[Vec<String>]) -> String {
    let esc = |s: &String| s.replace('|', "\\|");
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        let cells: Vec<String> = r.iter().map(esc).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
        if i == 0 {
            let _ = writeln!(out, "|{}", "---|".repeat(r.len()));
        }
    }
    out
}

impl Exporter for Markdown {
    fn render(&self, r: &StatsReport) -> String {
        let mut out = String::new();
        let unit = super::Unit::for_report(r);
        let _ = writeln!(
            out,
            "## Time to fix and to find, per {} and language (times in {})\n",
            r.options.group_by.as_str(),
            unit.name()
        );
        out.push_str(&md_table(&super::cell_rows(r, unit)));
        if !r.comparisons.is_empty() {
            let _ = writeln!(
                out,
                "\n## {} vs {}\n",
                r.options.compare[0], r.options.compare[1]
            );
            out.push_str(&md_table(&super::comparison_rows(r, unit)));
            let why = super::withheld_notes(r);
            if !why.is_empty() {
                let _ = writeln!(out, "\nBounds and missing intervals:\n");
                for w in why {
                    let _ = writeln!(out, "- {}", w.replace('|', "\\|"));
                }
            }
        }
        if let Some(x) = super::experience_view(r, unit) {
            let _ = writeln!(out, "\n## {}\n", super::experience_title(r));
            for l in &x.lines {
                let _ = writeln!(out, "- {l}");
            }
            if let Some(rows) = &x.bands {
                out.push('\n');
                out.push_str(&md_table(rows));
            }
            out.push('\n');
            for n in &x.notes {
                let _ = writeln!(out, "- {}", n.replace('|', "\\|"));
            }
        }
        if let Some(rows) = super::test_rows(r, unit) {
            let _ = writeln!(out, "\n## {}\n", super::TEST_TITLE);
            out.push_str(&md_table(&rows));
        }
        if !r.prevented.is_empty() {
            let _ = writeln!(out, "\n## {}\n", super::PREVENTED_TITLE);
            out.push_str(&md_table(&super::prevented_rows(r, unit)));
        }
        if let Some(cost) = &r.cost {
            let rows = super::cost_rows(r, cost);
            let _ = writeln!(out, "\n## Cost of a median incident\n");
            out.push_str(&md_table(&rows));
        }
        if !r.warnings.is_empty() {
            let _ = writeln!(out, "\n## Warnings\n");
            for w in &r.warnings {
                let _ = writeln!(out, "- {}", w.message.replace('|', "\\|"));
            }
        }
        out.push('\n');
        for n in super::notes(r) {
            let _ = writeln!(out, "{n}  ");
        }
        out
    }
}
