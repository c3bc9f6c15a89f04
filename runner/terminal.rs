//! What may reach a terminal. Records are shared between engineers and
//! teams, so any text read from one (an engineer's name, a title, a path) is
//! data from someone else: control characters are shown escaped, never sent
//! (an escape sequence in a name must not recolour, move or retitle the
//! reader's terminal), and names have a bounded length.
//!
//! Also the one rendering of an error chain, without the repeats that a
//! message embedding its own source would otherwise print twice.

use std::borrow::Cow;

/// The longest engineer name `drill start` and `drill attempts import` accept.
pub const MAX_NAME_CHARS: usize = 64;

/// A table cell longer than this is cut (with `…`) so one value cannot
/// widen every row.
pub const MAX_CELL_CHARS: usize = 80;

fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every control character (C0, DEL, C1, line separators and
/// bidirectional overrides) escaped as `\u{..}`, newlines and tabs included:
/// one value, one line.
pub fn safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_control(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`safe`], then cut to `max` characters.
pub fn safe_bounded(s: &str, max: usize) -> String {
    let s = safe(s);
    if s.chars().count() <= max {
        return s.into_owned();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `the engineer name "…" <problem>`, for the caller's message.
pub fn name_error(name: &str, problem: &str) -> String {
    format!("the engineer name \"{}\" {problem}", safe_bounded(name, 40))
}

/// Why an engineer name is refused, if it is: it must be printable text of
/// at most [`MAX_NAME_CHARS`] characters.
pub fn name_problem(name: &str) -> Option<String> {
    if name.chars().any(is_control) {
        return Some(
            "holds control characters (a newline, a tab or a terminal escape); \
             use printable text only"
                .to_string(),
        );
    }
    let n = name.chars().count();
    if n > MAX_NAME_CHARS {
        return Some(format!(
            "is {n} characters long; use at most {MAX_NAME_CHARS}"
        ));
    }
    None
}

/// The error and its causes, `: `-separated, leaving out a cause whose text
/// the message already holds (thiserror messages often embed their source).
pub fn error_chain(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_codes_and_newlines_are_shown_escaped() {
        assert_eq!(safe("Ada Lovelace"), "Ada Lovelace");
        assert_eq!(safe("ev\u{1b}[31mil\nx"), "ev\\u{1b}[31mil\\u{a}x");
        assert_eq!(safe("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(safe_bounded(&"x".repeat(5000), 10).chars().count(), 10);
    }

    #[test]
    fn names_must_be_printable_and_short() {
        assert!(name_problem("Grace Hopper").is_none());
        assert!(name_problem("José Núñez").is_none());
        assert!(name_problem("a\u{1b}[2J")
            .unwrap()
            .contains("control characters"));
        assert!(name_problem(&"n".repeat(65))
            .unwrap()
            .contains("at most 64"));
    }

    #[test]
    fn an_embedded_source_is_printed_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("reading x.toml: {source}")]
        struct Outer {
            source: std::io::Error,
        }
        let e = anyhow::Error::new(Outer {
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })
        .context("loading the catalog");
        assert_eq!(
            error_chain(&e),
            "loading the catalog: reading x.toml: entity not found"
        );
    }
}
