//! The giveaway lint `drill verify` runs: what a machine can see of a drill that
//! tells its cause instead of its symptom. Comments in the trees that speak of
//! bugs, drills or the other language; tickets and first hints that use the
//! words of the drill's class or name a knob its patch touches.
//!
//! Heuristic by design (no parser per language): a finding makes an author
//! reword, so false positives are cheap and false negatives are what matter.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde::Serialize;

use crate::catalog::{Drill, Toolchain};
use crate::patch::HunkLine;
use crate::taxonomy;

/// Words no comment in a scenario tree may contain (whole words, any case).
const COMMENT_WORDS: &[&str] = &[
    "bug", "bugs", "buggy", "seeded", "twin", "twins", "fixme", "drill", "drills", "incident",
];

/// A giveaway in a comment of a tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentFinding {
    /// Relative to the language directory, `/`-separated.
    pub path: String,
    pub line: usize,
    pub word: String,
    /// The comment, shortened.
    pub comment: String,
}

impl std::fmt::Display for CommentFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: comment says `{}`: {}",
            self.path, self.line, self.word, self.comment
        )
    }
}

/// A giveaway in a drill's ticket or first hint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketFinding {
    pub drill: String,
    /// `ticket title`, `ticket body` or `hint 1`.
    pub place: &'static str,
    pub word: String,
    pub why: String,
}

impl std::fmt::Display for TicketFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} says `{}`: {}",
            self.drill, self.place, self.word, self.why
        )
    }
}

/// Every giveaway in the comments of the `.go`/`.rs` files under `tree`.
pub fn comments(tree: &Path, toolchain: Toolchain) -> std::io::Result<Vec<CommentFinding>> {
    let mut files = Vec::new();
    source_files(tree, tree, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for rel in files {
        let text = fs::read_to_string(tree.join(&rel))?;
        for (line, comment) in comment_texts(&text) {
            if let Some(word) = banned_in_comment(&comment, toolchain) {
                out.push(CommentFinding {
                    path: rel.clone(),
                    line,
                    word,
                    comment: shorten(comment.trim(), 80),
                });
            }
        }
    }
    Ok(out)
}

/// The ticket and the first hint of a drill: no cause word of its class, no
/// knob or identifier that one of its patches adds or removes.
pub fn ticket(d: &Drill) -> Vec<TicketFinding> {
    let mut out = Vec::new();
    let texts = [
        ("ticket title", d.ticket.title.as_str()),
        ("ticket body", d.ticket.body.as_str()),
        ("hint 1", d.hints.first().map(String::as_str).unwrap_or("")),
    ];
    let words = taxonomy::cause_words(&d.class);
    let names = patch_names(d);
    for (place, text) in texts {
        let lower = text.to_lowercase();
        for w in words {
            if let Some(found) = prefix_occurrence(&lower, w) {
                out.push(TicketFinding {
                    drill: d.id.clone(),
                    place,
                    word: found,
                    why: format!(
                        "a word of the class `{}` names the mechanism; describe what was observed instead",
                        d.class
                    ),
                });
            }
        }
        for n in &names {
            if has_word(text, n) {
                out.push(TicketFinding {
                    drill: d.id.clone(),
                    place,
                    word: n.clone(),
                    why:
                        "the drill's patch changes lines naming it; the ticket points at the cause"
                            .into(),
                });
            }
        }
    }
    out
}

/// UPPER_SNAKE knobs (anywhere on a changed line, strings included) and
/// compound identifiers (`HealthTimeout`, `backoff_after`, outside strings)
/// on the lines the drill's patches add or remove.
fn patch_names(d: &Drill) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for patch in d.patches.values() {
        for f in &patch.files {
            for h in &f.hunks {
                for l in &h.lines {
                    let (HunkLine::Added(text) | HunkLine::Removed(text)) = l else {
                        continue;
                    };
                    let code = code_part(text);
                    for tok in tokens(text) {
                        if is_knob(tok) {
                            out.insert(tok.to_string());
                        }
                    }
                    for tok in tokens(&code) {
                        if is_compound_identifier(tok) {
                            out.insert(tok.to_string());
                        }
                    }
                }
            }
        }
    }
    out
}

fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
}

/// `DOWNSTREAM_BACKOFF_MS`: capitals and digits with at least one underscore.
fn is_knob(t: &str) -> bool {
    t.len() >= 4
        && t.contains('_')
        && t.starts_with(|c: char| c.is_ascii_uppercase())
        && t.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `HealthTimeout`, `healthTimeout`, `health_timeout`: a name made of several words.
fn is_compound_identifier(t: &str) -> bool {
    if t.len() < 6 || t.starts_with(|c: char| c.is_ascii_digit()) || is_knob(t) {
        return false;
    }
    let camel = t
        .as_bytes()
        .windows(2)
        .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
    let snake = t.trim_matches('_').contains('_') && t.chars().any(|c| c.is_ascii_lowercase());
    camel || snake
}

/// The line without its string literals (and without a trailing comment).
fn code_part(line: &str) -> String {
    let mut out = String::new();
    let mut in_str = false;
    let mut escaped = false;
    let mut prev = '\0';
    for c in line.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        if c == '"' {
            in_str = true;
            continue;
        }
        if c == '/' && prev == '/' {
            out.pop();
            break;
        }
        out.push(c);
        prev = c;
    }
    out
}

/// `word` as a whole word of `text` (case-sensitive).
fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The first word of `lower` starting with `prefix`, if any (`lower` is lowercase).
fn prefix_occurrence(lower: &str, prefix: &str) -> Option<String> {
    lower.match_indices(prefix).find_map(|(i, _)| {
        let before = lower[..i].chars().next_back();
        if before.is_some_and(is_word_char) {
            return None;
        }
        let word: String = lower[i..]
            .chars()
            .take_while(|c| is_word_char(*c) || *c == '-')
            .collect();
        Some(word)
    })
}

fn banned_in_comment(comment: &str, toolchain: Toolchain) -> Option<String> {
    let words: Vec<&str> = comment
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for w in &words {
        let lower = w.to_lowercase();
        if COMMENT_WORDS.contains(&lower.as_str()) {
            return Some(w.to_string());
        }
        let other = match toolchain {
            Toolchain::Go => ["rust", "tokio", "cargo"].contains(&lower.as_str()),
            Toolchain::Cargo => {
                *w == "Go" || lower == "golang" || lower == "goroutine" || lower == "goroutines"
            }
        };
        if other {
            return Some(w.to_string());
        }
    }
    None
}

/// (1-based line, comment text) for every `//` comment and every line of a
/// `/* */` block. Double-quoted strings are skipped; raw strings and char
/// literals are not parsed (a stray `//` in one only adds a finding).
fn comment_texts(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_block = false;
    for (n, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut in_str = false;
        let mut comment = String::new();
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            if in_block {
                if c == '*' && next == Some('/') {
                    in_block = false;
                    i += 2;
                    continue;
                }
                comment.push(c);
                i += 1;
                continue;
            }
            if in_str {
                if c == '\\' {
                    i += 2;
                    continue;
                }
                if c == '"' {
                    in_str = false;
                }
                i += 1;
                continue;
            }
            match (c, next) {
                ('"', _) => in_str = true,
                ('/', Some('/')) => {
                    comment.push(' ');
                    comment.extend(&chars[i + 2..]);
                    break;
                }
                ('/', Some('*')) => {
                    in_block = true;
                    i += 2;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        if !comment.trim().is_empty() {
            out.push((n + 1, comment));
        }
    }
    out
}

fn source_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let ty = e.file_type()?;
        if ty.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "vendor") {
                source_files(root, &path, out)?;
            }
        } else if ty.is_file() && (name.ends_with(".go") || name.ends_with(".rs")) {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push(rel);
        }
    }
    Ok(())
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_found_outside_strings_and_in_blocks() {
        let src = "let url = \"http://x\"; // the bug is here\n/* a\n seeded one */\nfn f() {}\n";
        let c = comment_texts(src);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].0, 1);
        assert!(c[0].1.contains("the bug is here"));
        assert_eq!(c[2], (3, " seeded one ".to_string()));
    }

    #[test]
    fn banned_words_are_whole_words_and_the_other_language_is_named() {
        assert_eq!(banned_in_comment(" debug output", Toolchain::Go), None);
        assert_eq!(
            banned_in_comment(" as the Rust version", Toolchain::Go),
            Some("Rust".into())
        );
        assert_eq!(
            banned_in_comment(" mirrors Go's slog", Toolchain::Cargo),
            Some("Go".into())
        );
        assert_eq!(banned_in_comment(" go on", Toolchain::Cargo), None);
        assert_eq!(
            banned_in_comment(" FIXME later", Toolchain::Cargo),
            Some("FIXME".into())
        );
    }

    #[test]
    fn knobs_and_compound_identifiers_are_told_apart_from_prose() {
        assert!(is_knob("DOWNSTREAM_BACKOFF_MS"));
        assert!(!is_knob("HTTP"));
        assert!(is_compound_identifier("HealthTimeout"));
        assert!(is_compound_identifier("backoff_after"));
        assert!(!is_compound_identifier("Duration"));
        assert!(!is_compound_identifier("timeout"));
        assert_eq!(
            code_part(r#"x := os.Getenv("MAIL_rate_x") // health_timeout"#),
            "x := os.Getenv() "
        );
    }

    #[test]
    fn cause_words_match_as_word_prefixes() {
        assert_eq!(
            prefix_occurrence("the retrying client", "retry"),
            Some("retrying".into())
        );
        assert_eq!(prefix_occurrence("a backlog grew", "ack"), None);
        assert_eq!(prefix_occurrence("no flock here", "lock"), None);
        assert!(has_word("set HealthTimeout to 2s", "HealthTimeout"));
        assert!(!has_word("set HealthTimeouts", "HealthTimeout"));
    }
}
