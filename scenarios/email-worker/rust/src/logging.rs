//! JSON log lines on stderr, one object per line, with the keys of Go's
//! `slog.JSONHandler`: `time`, `level`, `msg`, then the event's fields in the
//! order they are written.

use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Installs the JSON logger as the global default (INFO and above, stderr).
pub fn init() {
    tracing_subscriber::fmt()
        .with_max_level(Level::INFO)
        .with_writer(std::io::stderr)
        .event_format(JsonFormat)
        .init();
}

/// Formats one event as a JSON object on one line.
pub struct JsonFormat;

impl<S, N> FormatEvent<S, N> for JsonFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = JsonFields::default();
        event.record(&mut fields);
        let level = match *event.metadata().level() {
            Level::ERROR => "ERROR",
            Level::WARN => "WARN",
            Level::INFO => "INFO",
            _ => "DEBUG",
        };
        writeln!(
            writer,
            "{{\"time\":{},\"level\":\"{}\",\"msg\":{}{}}}",
            json_string(&rfc3339_now()),
            level,
            json_string(&fields.msg),
            fields.rest
        )
    }
}

/// Collects the message and the other fields, in order, as JSON.
#[derive(Default)]
struct JsonFields {
    msg: String,
    rest: String,
}

impl JsonFields {
    fn push(&mut self, field: &Field, value: &str) {
        let _ = write!(self.rest, ",{}:{}", json_string(field.name()), value);
    }
}

impl Visit for JsonFields {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, &value.to_string());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, &value.to_string());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, &value.to_string());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.msg = value.to_string();
        } else {
            self.push(field, &json_string(value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.msg = text;
        } else {
            self.push(field, &json_string(&text));
        }
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// The current time as Go's `time.RFC3339Nano` prints it in UTC (what
/// slog's JSONHandler writes): nanoseconds with trailing zeros trimmed.
pub fn rfc3339_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let (date, time) = civil(now.as_secs() as i64);
    let nanos = format!("{:09}", now.subsec_nanos());
    let frac = nanos.trim_end_matches('0');
    if frac.is_empty() {
        format!("{date}T{time}Z")
    } else {
        format!("{date}T{time}.{frac}Z")
    }
}

/// `secs` since the Unix epoch as RFC 3339 in UTC, seconds precision
/// (`2026-11-27T10:00:00Z`).
pub fn rfc3339_seconds(secs: i64) -> String {
    let (date, time) = civil(secs);
    format!("{date}T{time}Z")
}

/// Splits Unix seconds into `YYYY-MM-DD` and `hh:mm:ss` (UTC).
fn civil(secs: i64) -> (String, String) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-from-civil, inverted.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!("{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60),
    )
}
