//! Attempts as CSV: `drill attempts export --csv` and `drill attempts import`.
//!
//! One row per attempt (columns in [`COLUMNS`]). Export writes every ended
//! attempt of the results directories; import validates a whole file first
//! and writes nothing unless every row is good, then stores the rows as
//! `<results>/imported-<hash>.csv`, next to the JSON records, where `drill
//! stats` reads them. Imported attempts have no event log (they ran on paper
//! or in an earlier tool), so they are kept as the rows they came as, and a
//! figure derived from one traces back to that file and line.

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

/// What an imported row may hold, by physical meaning (also in
/// `docs/results-format.md`): anything outside is a typo or a unit mix-up, and
/// refusing it at the door keeps every later computation finite.
pub mod limits {
    use crate::clock::Timestamp;

    /// Active seconds to find or to fix: at most 30 days of active work.
    pub const MAX_SECONDS: f64 = 30.0 * 24.0 * 3600.0;
    /// Submits of one attempt.
    pub const MAX_SUBMITS: u32 = 10_000;
    /// Hints of one attempt (a drill has a handful).
    pub const MAX_HINTS: u32 = 100;
    /// The earliest start date: the kit's epoch (no attempt ran before it).
    pub const EPOCH: Timestamp = Timestamp::from_unix_ms(1_577_836_800_000); // 2020-01-01T00:00:00Z
    /// The latest start date is the importing command's clock plus this.
    pub const FUTURE_SLACK_MS: u64 = 24 * 3600 * 1000;
    /// Engineer, drill, language and class values.
    pub const MAX_TEXT_CHARS: usize = 128;
}

fn secs(v: f64) -> String {
    format!("{v:.3}")
}

/// The CSV text for `rows` (header included); open attempts are not rows.
pub fn write(rows: &[&Observation]) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(COLUMNS).expect("writing to memory");
    for o in rows {
        let outcome = match o.outcome {
            Outcome::Fixed => "fixed",
            Outcome::Abandoned => "abandoned",
            Outcome::TimedOut => "timed_out",
            Outcome::Open => continue,
        };
        let cells = [
            o.id.clone(),
            o.engineer.clone(),
            o.drill.clone(),
            o.language.clone(),
            o.class.clone(),
            o.started.to_string(),
            outcome.to_string(),
            o.time_to_find_s.map(secs).unwrap_or_default(),
            secs(o.time_s),
            o.submits.to_string(),
            o.hints.to_string(),
        ];
        out.write_record(&cells).expect("writing to memory");
    }
    String::from_utf8(out.into_inner().expect("writing to memory"))
        .expect("CSV of strings is UTF-8")
}

/// A CSV record: the line it starts on, and its fields.
type Row = (usize, Vec<String>);

/// Splits CSV bytes into records (RFC 4180, via the `csv` crate); an error
/// carries its line.
fn records(bytes: &[u8]) -> Result<Vec<Row>, (usize, String)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line() as usize;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line() as usize);
                return Err((line, format!("not CSV: {e}")));
            }
        }
        let line = record.position().map_or(line, |p| p.line() as usize);
        let mut fields = Vec::with_capacity(record.len());
        for (i, f) in record.iter().enumerate() {
            match std::str::from_utf8(f) {
                Ok(f) => fields.push(f.to_string()),
                Err(_) => {
                    return Err((
                        line,
                        format!("field {} is not UTF-8 text; save the file as UTF-8", i + 1),
                    ))
                }
            }
        }
        if fields.len() == 1 && fields[0].trim().is_empty() {
            continue;
        }
        out.push((line, fields));
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
///
/// Every value is bounded ([`limits`]); `now` is the command's clock, the
/// latest plausible start (plus a day). Two rows with one `attempt_id` are
/// refused, both lines named.
pub fn parse(text: &[u8], source: &Path, now: Timestamp) -> Result<Vec<Observation>, CsvError> {
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
    let mut lines_of: std::collections::HashMap<String, usize> = Default::default();
    for (line, row) in &recs[1..] {
        match parse_row(row, &index, header.len(), now) {
            Ok(mut o) => {
                if let Some(first) = lines_of.insert(o.id.clone(), *line) {
                    errors.push(format!(
                        "line {line}: attempt_id {} is already on line {first}; \
                         an attempt is one row",
                        crate::terminal::safe(&o.id)
                    ));
                    continue;
                }
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

/// Parses a batch stored by an earlier import (`imported-<hash>.csv`): the
/// same checks, except the latest start date, which was bounded by the
/// clock of the command that imported it.
pub fn parse_stored(bytes: &[u8], source: &Path) -> Result<Vec<Observation>, CsvError> {
    parse(bytes, source, Timestamp::from_unix_ms(i64::MAX / 4))
}

fn parse_row(
    row: &[String],
    index: &[usize],
    width: usize,
    now: Timestamp,
) -> Result<Observation, String> {
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
        } else if let Some(problem) = crate::terminal::name_problem(v)
            .filter(|_| k == 1)
            .or_else(|| text_problem(v))
        {
            Err(format!("{} {problem}", COLUMNS[k]))
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
            Ok(s) if s.is_finite() && (0.0..=limits::MAX_SECONDS).contains(&s) => Ok(Some(s)),
            Ok(s) if s.is_finite() && s > limits::MAX_SECONDS => Err(format!(
                "{} is {v}, more than 30 days ({} s) of active time; \
                 is it in milliseconds? the column is seconds",
                COLUMNS[k],
                limits::MAX_SECONDS
            )),
            _ => Err(format!(
                "{} is {v:?}, expected seconds (a number from 0 to {})",
                COLUMNS[k],
                limits::MAX_SECONDS
            )),
        }
    };
    let count = |k: usize, max: u32| -> Result<u32, String> {
        let v = get(k);
        v.parse::<u32>().ok().filter(|n| *n <= max).ok_or_else(|| {
            format!(
                "{} is {v:?}, expected a whole number from 0 to {max}",
                COLUMNS[k]
            )
        })
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
    let latest = now.plus_ms(limits::FUTURE_SLACK_MS);
    if started < limits::EPOCH || started > latest {
        return Err(format!(
            "started is {started}, outside {} to {latest} (the kit's epoch to a day from now); \
             check the date",
            limits::EPOCH
        ));
    }
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
    let submits = count(9, limits::MAX_SUBMITS)?;
    let hints = count(10, limits::MAX_HINTS)?;
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
        time_to_test_s: None,
        submits,
        hints,
        source: String::new(),
        flags: Default::default(),
    };
    if o.id.is_empty() {
        // Stable across re-imports of the same row: duplicates collapse.
        let canonical = write(&[&o]);
        o.id = format!("imported-{:016x}", fnv64(canonical.as_bytes()));
    }
    Ok(o)
}

/// A value that is not printable or too long, if so.
fn text_problem(v: &str) -> Option<String> {
    if v.chars().any(char::is_control) {
        return Some("holds control characters; use printable text only".into());
    }
    let n = v.chars().count();
    (n > limits::MAX_TEXT_CHARS).then(|| {
        format!(
            "is {n} characters long; use at most {}",
            limits::MAX_TEXT_CHARS
        )
    })
}

/// The rows of a new file that the results directory lacks. A row whose
/// attempt is already there with the same values is skipped (importing a
/// file twice adds nothing); with other values it is refused, naming both
/// places. `existing` holds what the directory has (records and batches).
pub fn new_rows<'a>(
    rows: &'a [Observation],
    existing: &[Observation],
    source: &Path,
) -> Result<(Vec<&'a Observation>, usize), CsvError> {
    let known: std::collections::HashMap<&str, &Observation> =
        existing.iter().map(|o| (o.id.as_str(), o)).collect();
    let mut new = Vec::new();
    let (mut skipped, mut errors) = (0, Vec::new());
    for o in rows {
        match known.get(o.id.as_str()) {
            None => new.push(o),
            Some(have) if write(&[have]) == write(&[o]) => skipped += 1,
            Some(have) => errors.push(format!(
                "line {}: attempt_id {} is already in {} with other values; \
                 give this row another id or remove one of them",
                o.source.rsplit(':').next().unwrap_or("?"),
                crate::terminal::safe(&o.id),
                have.source
            )),
        }
    }
    if errors.is_empty() {
        Ok((new, skipped))
    } else {
        Err(CsvError::Invalid {
            path: source.to_path_buf(),
            count: errors.len(),
            lines: errors,
        })
    }
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

    fn now() -> Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn parse_str(text: &str, source: &str) -> Result<Vec<Observation>, CsvError> {
        parse(text.as_bytes(), Path::new(source), now())
    }

    const GOOD: &str = "\
attempt_id,engineer,drill,language,class,started,outcome,time_to_find_s,time_to_fix_s,submits,hints
a1,ada,billing-ledger/retry-double-charge,go,retry-idempotency,2025-03-14T09:26:53.589Z,fixed,600.000,1500.500,2,1
a2,\"Hopper, Grace\",billing-ledger/lost-update,rust,lost-update,2025-03-14T10:00:00.000Z,abandoned,,3600.000,0,3
a3,linus,billing-ledger/stalled-provider,go,missing-timeout,2025-03-15T10:00:00.000Z,timed_out,1200.000,5400.000,4,0
";

    #[test]
    fn csv_round_trips_byte_for_byte() {
        let rows = parse_str(GOOD, "in.csv").unwrap();
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
        let err = parse_str(&bad, "in.csv").unwrap_err().to_string();
        assert!(err.contains("3 bad row(s)"), "{err}");
        assert!(err.contains("line 2: outcome is \"fixd\""), "{err}");
        assert!(err.contains("line 3: submits is \"-1\""), "{err}");
        assert!(err.contains("line 5: drill is \"nodrill\""), "{err}");
    }

    #[test]
    fn missing_ids_are_derived_from_the_row_so_reimports_collapse() {
        let text = "engineer,drill,language,class,started,outcome,time_to_find_s,time_to_fix_s,submits,hints\n\
                    ada,s/b,go,lost-update,2025-01-01T00:00:00Z,fixed,,60,1,0\n";
        let a = parse_str(text, "x.csv").unwrap();
        let b = parse_str(text, "y.csv").unwrap();
        assert!(a[0].id.starts_with("imported-"));
        assert_eq!(a[0].id, b[0].id);
    }

    #[test]
    fn unknown_columns_and_unterminated_quotes_are_refused() {
        let err = parse_str("engineer,colour\n", "x.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown column \"colour\""), "{err}");
        assert!(err.contains("missing column \"drill\""), "{err}");
        // An unterminated quote swallows the rest of the file into one field.
        let err = parse_str(&format!("{}\"a1,ada\n", COLUMNS.join(",") + "\n"), "x.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2: 1 fields, expected 11"), "{err}");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_named_by_line_and_field() {
        let mut bytes = GOOD.as_bytes().to_vec();
        let at = GOOD.find("linus").unwrap();
        bytes[at] = 0xff;
        let err = parse(&bytes, Path::new("x.csv"), now())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 4: field 2 is not UTF-8 text; save the file as UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn values_outside_their_physical_limits_are_refused() {
        let row = |started: &str, find: &str, fix: &str, submits: &str, hints: &str| {
            format!(
                "{}\na9,ada,s/b,go,lost-update,{started},fixed,{find},{fix},{submits},{hints}\n",
                COLUMNS.join(",")
            )
        };
        let cases = [
            (
                row("2025-01-01T00:00:00Z", "", "1e16", "1", "0"),
                "time_to_fix_s is 1e16, more than 30 days",
            ),
            (
                row("2025-01-01T00:00:00Z", "", "inf", "1", "0"),
                "time_to_fix_s is \"inf\"",
            ),
            (
                row("2025-01-01T00:00:00Z", "-1", "60", "1", "0"),
                "time_to_find_s is \"-1\"",
            ),
            (
                row("9999-01-01T00:00:00Z", "", "60", "1", "0"),
                "started is 9999-01-01T00:00:00",
            ),
            (
                row("1970-01-01T00:00:00Z", "", "60", "1", "0"),
                "started is 1970-01-01T00:00:00",
            ),
            (
                row("2025-01-01T00:00:00Z", "", "60", "4294967295", "0"),
                "submits is \"4294967295\", expected a whole number from 0 to 10000",
            ),
            (
                row("2025-01-01T00:00:00Z", "", "60", "1", "101"),
                "hints is \"101\"",
            ),
        ];
        for (text, want) in cases {
            let err = parse_str(&text, "x.csv").unwrap_err().to_string();
            assert!(err.contains(&format!("line 2: {want}")), "{want}: {err}");
        }
        // A day of clock skew is fine; the limits themselves are accepted.
        let ok = row("2026-01-01T23:00:00Z", "0", "2592000", "10000", "100");
        assert_eq!(parse_str(&ok, "x.csv").unwrap().len(), 1);
    }

    #[test]
    fn names_with_escape_codes_or_no_end_are_refused() {
        let text = format!(
            "{}\na1,\"ev\u{1b}[31mil\",s/b,go,lost-update,2025-01-01T00:00:00Z,fixed,,60,1,0\n\
             a2,{},s/b,go,lost-update,2025-01-01T00:00:00Z,fixed,,60,1,0\n",
            COLUMNS.join(","),
            "n".repeat(5000)
        );
        let err = parse_str(&text, "x.csv").unwrap_err().to_string();
        assert!(
            err.contains("line 2: engineer holds control characters"),
            "{err}"
        );
        assert!(
            err.contains("line 3: engineer is 5000 characters long"),
            "{err}"
        );
    }

    #[test]
    fn a_duplicate_attempt_id_is_refused_with_both_lines() {
        let text = format!("{GOOD}a2,bob,s/b,go,lost-update,2025-03-14T10:00:00Z,fixed,,60,1,0\n");
        let err = parse_str(&text, "x.csv").unwrap_err().to_string();
        assert!(err.contains("1 bad row(s)"), "{err}");
        assert!(
            err.contains("line 5: attempt_id a2 is already on line 3"),
            "{err}"
        );
    }

    #[test]
    fn across_files_the_same_row_is_skipped_and_a_different_one_refused() {
        let existing = parse_str(GOOD, "imported-1.csv").unwrap();
        let again = parse_str(GOOD, "again.csv").unwrap();
        let (new, skipped) = new_rows(&again, &existing, Path::new("again.csv")).unwrap();
        assert_eq!((new.len(), skipped), (0, 3));
        let changed = parse_str(&GOOD.replace("1500.500", "1501.000"), "changed.csv").unwrap();
        let err = new_rows(&changed, &existing, Path::new("changed.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2: attempt_id a1 is already in imported-1.csv:2 with other values"),
            "{err}"
        );
    }
}
