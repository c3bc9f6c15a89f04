//! Checks shared by the suite's validation and the step kinds': placeholders
//! that nothing defines, and the shapes of names, HTTP tokens and JSON pointers.

use super::template;

/// Reports each placeholder of `s` that `known` does not define.
pub(crate) fn check_placeholders(
    s: &str,
    known: &dyn Fn(&str) -> bool,
    at: &str,
    problems: &mut Vec<String>,
) {
    for name in template::placeholders(s) {
        if !known(name) {
            problems.push(format!("{at}: unknown placeholder {{{name}}}"));
        }
    }
}

/// Reports undefined placeholders in every string inside `v`.
pub(crate) fn check_value_placeholders(
    v: &toml::Value,
    known: &dyn Fn(&str) -> bool,
    at: &str,
    problems: &mut Vec<String>,
) {
    match v {
        toml::Value::String(s) => check_placeholders(s, known, at, problems),
        toml::Value::Array(a) => a
            .iter()
            .for_each(|v| check_value_placeholders(v, known, at, problems)),
        toml::Value::Table(t) => t
            .values()
            .for_each(|v| check_value_placeholders(v, known, at, problems)),
        _ => {}
    }
}

/// A name of a fake, a check or a saved value: letters, digits, `_`, `-`.
pub(crate) fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// An HTTP token (method or header name).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A JSON pointer (`/a/b`, or empty for the whole document).
pub(crate) fn is_pointer(s: &str) -> bool {
    s.is_empty() || s.starts_with('/')
}

/// Why `path` cannot name a file of the run directory (`service.files`,
/// `do = "write_file"`), or `None`: it must be relative and made of plain
/// names (no `..`, no `.`, no empty part), ending in a file name.
pub(crate) fn run_file_path_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() || path.starts_with('/') || path.ends_with('/') {
        return Some("a file path must be relative to the run directory and name a file");
    }
    if path
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Some("a file path may only hold plain names (no `.`, `..` or empty parts)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::run_file_path_problem;

    #[test]
    fn run_file_paths_stay_plain_and_relative() {
        assert_eq!(run_file_path_problem("rules.json"), None);
        assert_eq!(run_file_path_problem("conf/rules.json"), None);
        for bad in ["", "/etc/passwd", "../x", "a/../b", "./x", "a//b", "dir/"] {
            assert!(run_file_path_problem(bad).is_some(), "{bad:?} accepted");
        }
    }
}
