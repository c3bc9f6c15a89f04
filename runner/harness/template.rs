//! `{name}` templates in suite strings.
//!
//! A placeholder is `{` + an identifier (`[A-Za-z_][A-Za-z0-9_.-]*`) + `}`.
//! Anything else in braces is literal, so JSON bodies such as
//! `{"account":"acct_{i}"}` need no escaping.

/// Placeholder names in `s`, in order.
pub fn placeholders(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    scan(s, |piece| {
        if let Piece::Var(name) = piece {
            out.push(name);
        }
    });
    out
}

/// Replaces every placeholder by `lookup(name)`; the first unknown name is
/// the error.
pub fn render(s: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut missing = None;
    scan(s, |piece| match piece {
        Piece::Lit(t) => out.push_str(t),
        Piece::Var(name) => match lookup(name) {
            Some(v) => out.push_str(&v),
            None => {
                if missing.is_none() {
                    missing = Some(name.to_string());
                }
            }
        },
    });
    match missing {
        Some(name) => Err(format!("unknown placeholder {{{name}}}")),
        None => Ok(out),
    }
}

enum Piece<'a> {
    Lit(&'a str),
    Var(&'a str),
}

fn scan<'a>(s: &'a str, mut f: impl FnMut(Piece<'a>)) {
    let bytes = s.as_bytes();
    let mut lit_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            if let Some(len) = ident_len(&bytes[i + 1..]) {
                let end = i + 1 + len;
                if bytes.get(end) == Some(&b'}') {
                    f(Piece::Lit(&s[lit_start..i]));
                    f(Piece::Var(&s[i + 1..end]));
                    i = end + 1;
                    lit_start = i;
                    continue;
                }
            }
        }
        i += 1;
    }
    f(Piece::Lit(&s[lit_start..]));
}

fn ident_len(b: &[u8]) -> Option<usize> {
    let first = *b.first()?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return None;
    }
    Some(
        b.iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
            .count(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "i" => Some("7".into()),
            "fake.provider.url" => Some("http://127.0.0.1:1".into()),
            _ => None,
        }
    }

    #[test]
    fn json_braces_are_literal_and_identifiers_are_replaced() {
        let body = r#"{"account":"acct_{i}","n":{i},"o":{"a":{}}}"#;
        assert_eq!(
            render(body, vars).unwrap(),
            r#"{"account":"acct_7","n":7,"o":{"a":{}}}"#
        );
        assert_eq!(placeholders(body), vec!["i", "i"]);
    }

    #[test]
    fn dotted_names_and_edges() {
        assert_eq!(
            render("{fake.provider.url}/x", vars).unwrap(),
            "http://127.0.0.1:1/x"
        );
        assert_eq!(render("", vars).unwrap(), "");
        assert_eq!(render("{", vars).unwrap(), "{");
        assert_eq!(render("{i", vars).unwrap(), "{i");
        assert_eq!(render("a{i}b{i}", vars).unwrap(), "a7b7");
        assert_eq!(render("{ i }", vars).unwrap(), "{ i }");
        assert_eq!(render("é{i}ü", vars).unwrap(), "é7ü");
    }

    #[test]
    fn unknown_placeholders_are_errors() {
        assert_eq!(
            render("x{nope}", vars).unwrap_err(),
            "unknown placeholder {nope}"
        );
    }
}
