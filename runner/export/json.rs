use super::Exporter;
use crate::stats::StatsReport;

/// The versioned machine format (`format: "drillkit-stats"`), docs/stats-format.md.
pub struct Json;

impl Exporter for Json {
    fn render(&self, r: &StatsReport) -> String {
        // Infinite bounds (an unbounded CI) are not JSON numbers: serde_json
        // writes them as null, which the format documents as "unbounded".
        let mut s = serde_json::to_string_pretty(r).expect("stats reports always serialize");
        s.push('\n');
        s
    }
}
