//! Small helpers shared by several modules.

/// Serialize a `Duration` as whole milliseconds (machine output stays integer).
pub mod duration_ms {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

/// `0.4s`, `1.2s`, `12s`, `4m05s`, `1h02m03s`: durations as a person reads
/// them, the one format every command prints.
pub fn human_duration(d: std::time::Duration) -> String {
    human_ms(d.as_millis() as u64)
}

/// [`human_duration`] of a number of milliseconds (what records hold).
pub fn human_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else if secs >= 10 {
        format!("{s}s")
    } else {
        format!("{:.1}s", ms as f64 / 1000.0)
    }
}

/// A name as a part of a file name: lowercase ASCII letters and digits, every
/// run of anything else one `-`, at most `max` characters; `anon` when
/// nothing is left.
pub fn slug(name: &str, max: usize) -> String {
    let mut slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    let slug: String = slug.trim_matches('-').chars().take(max).collect();
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "anon".to_string()
    } else {
        slug.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_read_one_way_from_milliseconds_to_hours() {
        assert_eq!(human_duration(Duration::from_millis(400)), "0.4s");
        assert_eq!(human_duration(Duration::from_millis(1_260)), "1.3s");
        assert_eq!(human_duration(Duration::from_millis(12_400)), "12s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(human_duration(Duration::from_secs(3_723)), "1h02m03s");
        assert_eq!(human_ms(245_000), human_duration(Duration::from_secs(245)));
    }
}
