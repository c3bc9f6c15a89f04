//! Time for attempt records: UTC timestamps and an injectable clock.
//!
//! Every figure drillkit reports is derived from timestamps in an attempt's
//! event log, so the clock is the one thing timing tests must control. Unit
//! tests use [`TestClock`]; integration tests of the real binary point
//! `DRILL_TEST_CLOCK` at a file holding a timestamp (see [`FileClock`]) and
//! move time by rewriting that file — no test ever sleeps to make time pass.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The environment variable naming a clock file (testing aid, see [`FileClock`]).
pub const TEST_CLOCK_ENV: &str = "DRILL_TEST_CLOCK";

/// A UTC instant with millisecond precision, written as RFC 3339
/// (`2025-03-14T09:26:53.589Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    ms: i64,
}

impl Timestamp {
    pub const fn from_unix_ms(ms: i64) -> Self {
        Timestamp { ms }
    }

    pub const fn unix_ms(self) -> i64 {
        self.ms
    }

    /// Milliseconds from `earlier` to `self`; zero if `earlier` is later.
    pub fn ms_since(self, earlier: Timestamp) -> u64 {
        u64::try_from(self.ms - earlier.ms).unwrap_or(0)
    }

    pub fn plus_ms(self, ms: u64) -> Self {
        Timestamp {
            ms: self
                .ms
                .saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)),
        }
    }

    pub fn minus_ms(self, ms: u64) -> Self {
        Timestamp {
            ms: self
                .ms
                .saturating_sub(i64::try_from(ms).unwrap_or(i64::MAX)),
        }
    }

    /// A compact form for identifiers and file names: `20250314T092653Z`.
    pub fn compact(self) -> String {
        let (y, mo, d, h, mi, s, _) = self.fields();
        format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
    }

    fn fields(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let secs = self.ms.div_euclid(1000);
        let millis = self.ms.rem_euclid(1000) as u32;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        let (y, mo, d) = civil_from_days(days);
        (y, mo, d, sod / 3600, sod / 60 % 60, sod % 60, millis)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s, ms) = self.fields();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid RFC 3339 timestamp {input:?}: {why} (expected e.g. 2025-03-14T09:26:53Z)")]
pub struct ParseTimestampError {
    input: String,
    why: &'static str,
}

impl FromStr for Timestamp {
    type Err = ParseTimestampError;

    /// Accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t`/space for `T`
    /// and `z` for `Z` too, as RFC 3339 allows.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |why| ParseTimestampError {
            input: input.to_string(),
            why,
        };
        let b = input.trim().as_bytes();
        if b.len() < 20 {
            return Err(err("too short"));
        }
        let num = |range: std::ops::Range<usize>| -> Result<i64, ParseTimestampError> {
            let part = &b[range];
            if part.iter().all(u8::is_ascii_digit) {
                Ok(part
                    .iter()
                    .fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0')))
            } else {
                Err(err("expected digits"))
            }
        };
        if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return Err(err("bad date separator"));
        }
        if b[13] != b':' || b[16] != b':' {
            return Err(err("bad time separator"));
        }
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo as u32) as i64 {
            return Err(err("date out of range"));
        }
        // 60 is a leap second; it is folded into the next second.
        if h > 23 || mi > 59 || s > 60 {
            return Err(err("time out of range"));
        }
        let mut i = 19;
        let mut millis = 0i64;
        if b[i] == b'.' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 3 {
                    millis = millis * 10 + i64::from(b[i] - b'0');
                }
                i += 1;
            }
            if i == start {
                return Err(err("empty fraction"));
            }
            for _ in (i - start)..3 {
                millis *= 10;
            }
        }
        let offset_min = match &b[i..] {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
                if oh > 23 || om > 59 {
                    return Err(err("offset out of range"));
                }
                let m = oh * 60 + om;
                if *sign == b'-' {
                    -m
                } else {
                    m
                }
            }
            _ => return Err(err("expected Z or a ±HH:MM offset")),
        };
        let days = days_from_civil(y, mo as u32, d as u32);
        let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset_min * 60;
        Ok(Timestamp::from_unix_ms(secs * 1000 + millis))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
        };
        Timestamp::from_unix_ms(ms)
    }
}

/// A clock that moves only when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct TestClock {
    ms: Arc<AtomicI64>,
}

impl TestClock {
    pub fn at(start: Timestamp) -> Self {
        TestClock {
            ms: Arc::new(AtomicI64::new(start.unix_ms())),
        }
    }

    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.ms.fetch_add(by, Ordering::SeqCst);
    }

    pub fn advance_secs(&self, secs: u64) {
        self.advance(Duration::from_secs(secs));
    }

    pub fn set(&self, to: Timestamp) {
        self.ms.store(to.unix_ms(), Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_ms(self.ms.load(Ordering::SeqCst))
    }
}

/// A clock for tests of the real binary: the file at `path` holds an RFC 3339
/// timestamp, read once at the first `now()`; later calls in the same process
/// add the real monotonic time elapsed since that read.
///
/// So a test moves time between commands by rewriting the file (ten minutes
/// "pass" instantly), while time spent inside one command — a submit's build
/// and acceptance run — is still measured for real, which is what lets a test
/// check that verification time is excluded from active time.
#[derive(Debug)]
pub struct FileClock {
    path: PathBuf,
    base: OnceLock<(Timestamp, Instant)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    #[error("reading the test clock file {path} (from ${TEST_CLOCK_ENV}): {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("test clock file {path} (from ${TEST_CLOCK_ENV}): {source}")]
    Parse {
        path: PathBuf,
        source: ParseTimestampError,
    },
}

impl FileClock {
    /// Reads the file now, so a bad file is reported before any work starts.
    pub fn open(path: &Path) -> Result<Self, ClockError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClockError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let ts = text.trim().parse().map_err(|source| ClockError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        let base = OnceLock::new();
        let _ = base.set((ts, Instant::now()));
        Ok(FileClock {
            path: path.to_path_buf(),
            base,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Clock for FileClock {
    fn now(&self) -> Timestamp {
        let (base, read_at) = self
            .base
            .get()
            .copied()
            .expect("FileClock::open sets the base");
        base.plus_ms(u64::try_from(read_at.elapsed().as_millis()).unwrap_or(u64::MAX))
    }
}

/// The clock the binary uses: a [`FileClock`] when `DRILL_TEST_CLOCK` is set,
/// else the system clock. Returns whether it is a test clock, so records made
/// under one can say so.
pub fn from_env() -> Result<(Arc<dyn Clock>, bool), ClockError> {
    match std::env::var_os(TEST_CLOCK_ENV) {
        Some(path) if !path.is_empty() => Ok((Arc::new(FileClock::open(Path::new(&path))?), true)),
        _ => Ok((Arc::new(SystemClock), false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn epoch_formats_as_rfc3339() {
        assert_eq!(
            Timestamp::from_unix_ms(0).to_string(),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn known_instant_round_trips() {
        let t = ts("2025-03-14T09:26:53.589Z");
        assert_eq!(t.unix_ms(), 1_741_944_413_589);
        assert_eq!(t.to_string(), "2025-03-14T09:26:53.589Z");
        assert_eq!(t.compact(), "20250314T092653Z");
    }

    #[test]
    fn leap_days_and_pre_epoch_dates_round_trip() {
        for s in [
            "2024-02-29T23:59:59.999Z",
            "2000-02-29T00:00:00.000Z",
            "1969-12-31T23:59:59.999Z",
            "1900-03-01T12:00:00.000Z",
            "9999-12-31T23:59:59.000Z",
        ] {
            assert_eq!(ts(s).to_string(), s);
        }
    }

    #[test]
    fn every_day_for_years_round_trips() {
        let start = ts("1999-12-25T00:00:00Z").unix_ms();
        for day in 0..3000 {
            let t = Timestamp::from_unix_ms(start + day * 86_400_000 + 1234);
            assert_eq!(ts(&t.to_string()), t);
        }
    }

    #[test]
    fn offsets_and_fractions_are_normalised_to_utc_millis() {
        assert_eq!(
            ts("2025-03-14T10:26:53+01:00"),
            ts("2025-03-14T09:26:53.000Z")
        );
        assert_eq!(
            ts("2025-03-14T04:26:53.5-05:00"),
            ts("2025-03-14T09:26:53.500Z")
        );
        assert_eq!(
            ts("2025-03-14t09:26:53.123456789z"),
            ts("2025-03-14T09:26:53.123Z")
        );
    }

    #[test]
    fn malformed_timestamps_are_rejected() {
        for s in [
            "",
            "2025-03-14",
            "2025-13-01T00:00:00Z",
            "2025-02-30T00:00:00Z",
            "2025-03-14T24:00:00Z",
            "2025-03-14T09:26:53",
            "2025-03-14T09:26:53.Z",
            "2025-03-14T09:26:53+0100",
            "2025/03/14T09:26:53Z",
        ] {
            assert!(s.parse::<Timestamp>().is_err(), "{s:?} should not parse");
        }
    }

    #[test]
    fn serde_uses_the_rfc3339_string() {
        let t = ts("2025-03-14T09:26:53.589Z");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2025-03-14T09:26:53.589Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }

    #[test]
    fn test_clock_moves_only_when_advanced_and_clones_share_time() {
        let clock = TestClock::at(ts("2025-01-01T00:00:00Z"));
        let other = clock.clone();
        assert_eq!(clock.now(), clock.now());
        other.advance_secs(90);
        assert_eq!(clock.now(), ts("2025-01-01T00:01:30Z"));
    }

    #[test]
    fn file_clock_starts_at_the_file_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clock");
        std::fs::write(&path, "2030-06-01T12:00:00Z\n").unwrap();
        let clock = FileClock::open(&path).unwrap();
        let now = clock.now();
        assert!(now >= ts("2030-06-01T12:00:00Z"));
        assert!(now < ts("2030-06-01T12:01:00Z"));
    }

    #[test]
    fn file_clock_with_garbage_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clock");
        std::fs::write(&path, "soon").unwrap();
        let err = FileClock::open(&path).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
    }
}
