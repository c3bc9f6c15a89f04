//! Attempts as CSV: `drill attempts export --csv` and `drill attempts import`.
//!
//! One row per attempt (columns in [`COLUMNS`]). Export writes every ended
//! attempt of the results directories; import validates a whole file first
//! and writes nothing unless every row is good, then stores the rows as
//! `<results>/imported-<hash>.csv`, next to the JSON records, where `drill
//! stats` reads them. Imported attempts have no event log (they ran on paper
//! or in an earlier tool), so they are kept as the rows they came as, and a
//! figure derived from one traces back to that file and line.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::clock::Timestamp;
use crate::stats::dataset::{Observation, Outcome};

pub const COLUMNS: [&str; 11] = [
    "attempt_id",
    "engineer",
    "drill",
    "language",
    "class",
    "started",
    "outcome",
    "time_to_find_s",
    "time_to_fix_s",
    "submits",
    "hints",
];

/// File names of imported batches inside a results directory.
pub const IMPORTED_PREFIX: &str = "imported-";

#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("{path}: {count} bad row(s), nothing imported:\n{}", lines.join("\n"))]
    Invalid {
        path: PathBuf,
        count: usize,
        lines: Vec<String>,
    },
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Quotes a field when RFC 4180 requires it.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn secs(v: f64) -> String {
    format!("{v:.3}")
}

/// The CSV text for `rows` (header included); open attempts are not rows.
pub fn write(rows: &[&Observation]) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for o in rows {
        let outcome = match o.outcome {
            Outcome::Fixed => "fixed",
            Outcome::Abandoned => "abandoned",
            Outcome::TimedOut => "timed_out",
            Outcome::Open => continue,
        };
        let cells = [
            field(&o.id),
            field(&o.engineer),
            field(&o.drill),
            field(&o.language),
            field(&o.class),
            o.started.to_string(),
            outcome.to_string(),
            o.time_to_find_s.map(secs).unwrap_or_default(),
            secs(o.time_s),
            o.submits.to_string(),
            o.hints.to_string(),
        ];
        let _ = writeln!(out, "{}", cells.join(","));
    }
    out
}

/// A CSV record: the line it starts on, and its fields.
type Row = (usize, Vec<String>);

/// Splits CSV text into records; an error carries its line.
fn records(text: &str) -> Result<Vec<Row>, (usize, String)> {
    let mut out = Vec::new();
    let (mut fields, mut cur) = (Vec::new(), String::new());
    let (mut line, mut start_line) = (1usize, 1usize);
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cur.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    cur.push(c);
                }
                _ => cur.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                in_quotes = true;
                at_field_start = false;
            }
            '"' => return Err((line, "a quote inside an unquoted field".into())),
            ',' => {
                fields.push(std::mem::take(&mut cur));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut cur));
                if !(fields.len() == 1 && fields[0].trim().is_empty()) {
                    out.push((start_line, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                start_line = line;
                at_field_start = true;
            }
            _ => {
                cur.push(c);
                at_field_start = false;
            }
        }
    }
    if in_quotes {
        return Err((start_line, "unterminated quoted field".into()));
    }
    if !cur.is_empty() || !fields.is_empty() {
        fields.push(cur);
        out.push((start_line, fields));
    }
    Ok(out)
}

/// FNV-1a, 64-bit: stable ids and file names from content.
pub fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Parses and validates a whole file. `source` names it in messages and in
/// each observation's `source` (`path:line`).
pub fn parse(text: &str, source: &Path) -> Result<Vec<Observation>, CsvError> {
    let invalid = |lines: Vec<String>| CsvError::Invalid {
        path: source.to_path_buf(),
        count: lines.len(),
        lines,
    };
    let recs = records(text).map_err(|(l, why)| invalid(vec![format!("line {l}: {why}")]))?;
    let Some((_, header)) = recs.first() else {
        return Err(invalid(vec![format!(
            "line 1: empty file; expected the header {}",
            COLUMNS.join(",")
        )]));
    };
    let mut index = [usize::MAX; COLUMNS.len()];
    let mut errors = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().trim_start_matches('\u{feff}');
        match COLUMNS.iter().position(|c| *c == name) {
            Some(k) => index[k] = i,
            None => errors.push(format!(
                "line 1: unknown column {name:?} (columns: {})",
                COLUMNS.join(",")
            )),
        }
    }
    for (k, col) in COLUMNS.iter().enumerate() {
        // attempt_id may be left out: ids are then derived from the row.
        if index[k] == usize::MAX && k != 0 {
            errors.push(format!("line 1: missing column {col:?}"));
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let mut out = Vec::new();
    for (line, row) in &recs[1..] {
        match parse_row(row, &index, header.len()) {
            Ok(mut o) => {
                o.source = format!("{}:{line}", source.display());
                out.push(o);
            }
            Err(why) => errors.push(format!("line {line}: {why}")),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(invalid(errors))
    }
}

fn parse_row(row: &[String], index: &[usize], width: usize) -> Result<Observation, String> {
    if row.len() != width {
        return Err(format!("{} fields, expected {width}", row.len()));
    }
    let get = |k: usize| -> &str {
        index
            .get(k)
            .and_then(|&i| row.get(i))
            .map_or("", |s| s.trim())
    };
    let required = |k: usize| -> Result<String, String> {
        let v = get(k);
        if v.is_empty() {
            Err(format!("{} is empty", COLUMNS[k]))
        } else {
            Ok(v.to_string())
        }
    };
    let seconds = |k: usize| -> Result<Option<f64>, String> {
        let v = get(k);
        if v.is_empty() {
            return Ok(None);
        }
        match v.parse::<f64>() {
            Ok(s) if s.is_finite() && s >= 0.0 => Ok(Some(s)),
            _ => Err(format!(
                "{} is {v:?}, expected seconds (a number >= 0)",
                COLUMNS[k]
            )),
        }
    };
    let count = |k: usize| -> Result<u32, String> {
        let v = get(k);
        v.parse::<u32>()
            .map_err(|_| format!("{} is {v:?}, expected a whole number >= 0", COLUMNS[k]))
    };
    let engineer = required(1)?;
    let drill = required(2)?;
    if !drill.contains('/') {
        return Err(format!("drill is {drill:?}, expected <scenario>/<bug>"));
    }
    let language = required(3)?;
    let class = required(4)?;
    if crate::taxonomy::find(&class).is_none() {
        return Err(format!(
            "class {class:?} is not in the taxonomy (see docs/taxonomy.md)"
        ));
    }
    let started: Timestamp = required(5)?.parse().map_err(|e| format!("started: {e}"))?;
    let outcome = match get(6) {
        "fixed" => Outcome::Fixed,
        "abandoned" => Outcome::Abandoned,
        "timed_out" => Outcome::TimedOut,
        other => {
            return Err(format!(
                "outcome is {other:?}, expected fixed, abandoned or timed_out"
            ))
        }
    };
    let time_to_find_s = seconds(7)?;
    let time_s = seconds(8)?.ok_or("time_to_fix_s is empty (time to fix, or time at give-up)")?;
    if time_to_find_s.is_some_and(|f| f > time_s) {
        return Err("time_to_find_s is later than time_to_fix_s".into());
    }
    let submits = count(9)?;
    let hints = count(10)?;
    let mut o = Observation {
        id: get(0).to_string(),
        engineer,
        drill,
        language,
        class,
        started,
        outcome,
        time_to_find_s,
        time_s,
        submits,
        hints,
        source: String::new(),
    };
    if o.id.is_empty() {
        // Stable across re-imports of the same row: duplicates collapse.
        let canonical = write(&[&o]);
        o.id = format!("imported-{:016x}", fnv64(canonical.as_bytes()));
    }
    Ok(o)
}

/// Imported batches in a results directory.
pub fn imported_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(IMPORTED_PREFIX) && n.ends_with(".csv"))
        })
        .collect();
    files.sort();
    files
}

/// Writes `rows` as a new imported batch, atomically (temp file, fsync,
/// rename, fsync the directory). Returns its path.
pub fn store(dir: &Path, rows: &[&Observation]) -> Result<PathBuf, CsvError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| CsvError::Io {
            action,
            path,
            source,
        }
    };
    fs::create_dir_all(dir).map_err(io("creating", dir))?;
    let text = write(rows);
    let path = dir.join(format!(
        "{IMPORTED_PREFIX}{:016x}.csv",
        fnv64(text.as_bytes())
    ));
    let tmp = dir.join(format!(".imported.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp).map_err(io("creating", &tmp))?;
        f.write_all(text.as_bytes()).map_err(io("writing", &tmp))?;
        f.sync_all().map_err(io("syncing", &tmp))?;
        fs::rename(&tmp, &path).map_err(io("renaming into place", &path))?;
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io("syncing", dir))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map(|()| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
attempt_id,engineer,drill,language,class,started,outcome,time_to_find_s,time_to_fix_s,submits,hints
a1,ada,billing-ledger/retry-double-charge,go,retry-idempotency,2025-03-14T09:26:53.589Z,fixed,600.000,1500.500,2,1
a2,\"Hopper, Grace\",billing-ledger/lost-update,rust,lost-update,2025-03-14T10:00:00.000Z,abandoned,,3600.000,0,3
a3,linus,billing-ledger/stalled-provider,go,missing-timeout,2025-03-15T10:00:00.000Z,timed_out,1200.000,5400.000,4,0
";

    #[test]
    fn csv_round_trips_byte_for_byte() {
        let rows = parse(GOOD, Path::new("in.csv")).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].engineer, "Hopper, Grace");
        assert_eq!(rows[1].time_to_find_s, None);
        assert_eq!(rows[2].outcome, Outcome::TimedOut);
        assert_eq!(rows[0].source, "in.csv:2");
        let refs: Vec<&Observation> = rows.iter().collect();
        assert_eq!(write(&refs), GOOD);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_nothing_is_returned() {
        let bad = GOOD
            .replace("fixed,600.000", "fixd,600.000")
            .replace(",0,3\n", ",-1,3\n")
            + "a4,ada,nodrill,go,lost-update,2025-03-14T09:26:53Z,fixed,,10,0,0\n";
        let err = parse(&bad, Path::new("in.csv")).unwrap_err().to_string();
        assert!(err.contains("3 bad row(s)"), "{err}");
        assert!(err.contains("line 2: outcome is \"fixd\""), "{err}");
        assert!(err.contains("line 3: submits is \"-1\""), "{err}");
        assert!(err.contains("line 5: drill is \"nodrill\""), "{err}");
    }

    #[test]
    fn missing_ids_are_derived_from_the_row_so_reimports_collapse() {
        let text = "engineer,drill,language,class,started,outcome,time_to_find_s,time_to_fix_s,submits,hints\n\
                    ada,s/b,go,lost-update,2025-01-01T00:00:00Z,fixed,,60,1,0\n";
        let a = parse(text, Path::new("x.csv")).unwrap();
        let b = parse(text, Path::new("y.csv")).unwrap();
        assert!(a[0].id.starts_with("imported-"));
        assert_eq!(a[0].id, b[0].id);
    }

    #[test]
    fn unknown_columns_and_unterminated_quotes_are_refused() {
        let err = parse("engineer,colour\n", Path::new("x.csv"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown column \"colour\""), "{err}");
        assert!(err.contains("missing column \"drill\""), "{err}");
        let err = parse(
            &format!("{}\"a1,ada\n", COLUMNS.join(",") + "\n"),
            Path::new("x.csv"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 2: unterminated"), "{err}");
    }
}
