//! Turns untrusted request bodies into log lines: NDJSON objects or the
//! plain line protocol, each line checked on its own.

use serde_json::{Map, Value};

/// One accepted log line, before it is stamped and stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub level: String,
    pub msg: String,
}

/// What a body held: the good lines and how many were refused.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub lines: Vec<Line>,
    pub rejected: usize,
}

const LEVELS: [&str; 4] = ["debug", "info", "warn", "error"];

/// Parses one JSON object per line: `msg` a non-empty string, `level` one
/// of debug, info, warn, error (default info). Blank lines are skipped; a
/// line over `max_line` bytes, not an object, or with bad fields is refused.
pub fn ndjson(body: &[u8], max_line: usize) -> Parsed {
    let mut res = Parsed::default();
    for raw in split_lines(body) {
        if raw.len() > max_line {
            res.rejected += 1;
            continue;
        }
        let line = serde_json::from_slice::<Map<String, Value>>(raw)
            .ok()
            .and_then(|obj| {
                let level = match obj.get("level") {
                    None | Some(Value::Null) => "info",
                    Some(Value::String(l)) => l,
                    Some(_) => return None,
                };
                match obj.get("msg") {
                    Some(Value::String(msg)) => checked(level, msg),
                    _ => None,
                }
            });
        match line {
            Some(l) => res.lines.push(l),
            None => res.rejected += 1,
        }
    }
    res
}

/// Parses the line protocol: `<level> <message>` per line, the level one of
/// debug, info, warn, error, the message the rest of the line.
pub fn plain(body: &[u8], max_line: usize) -> Parsed {
    let mut res = Parsed::default();
    for raw in split_lines(body) {
        if raw.len() > max_line {
            res.rejected += 1;
            continue;
        }
        let line = std::str::from_utf8(raw).ok().and_then(|s| {
            let (level, msg) = s.split_once(' ').unwrap_or((s, ""));
            checked(level, msg.trim())
        });
        match line {
            Some(l) => res.lines.push(l),
            None => res.rejected += 1,
        }
    }
    res
}

/// Validates one line's fields.
fn checked(level: &str, msg: &str) -> Option<Line> {
    if !LEVELS.contains(&level) || msg.is_empty() || msg.contains('\0') {
        return None;
    }
    Some(Line {
        level: level.to_string(),
        msg: msg.to_string(),
    })
}

/// Splits on `\n` (a trailing `\r` dropped) and skips blank lines.
fn split_lines(body: &[u8]) -> Vec<&[u8]> {
    body.split(|&c| c == b'\n')
        .map(|raw| raw.strip_suffix(b"\r").unwrap_or(raw))
        .filter(|raw| !raw.trim_ascii().is_empty())
        .collect()
}

/// Whether `t` is 1..64 characters of `[A-Za-z0-9_.-]`.
pub fn valid_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 64
        && t.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-')
}
