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
        let _ = writeln!(
            out,
            "## Time to fix and to find, per {} and language\n",
            r.options.group_by.as_str()
        );
        out.push_str(&md_table(&super::cell_rows(r)));
        if !r.comparisons.is_empty() {
            let _ = writeln!(
                out,
                "\n## {} vs {}\n",
                r.options.compare[0], r.options.compare[1]
            );
            out.push_str(&md_table(&super::comparison_rows(r)));
        }
        if let Some(rows) = super::cost_rows(r) {
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
