//! Matching JSON the service sent against values a suite expects: TOML
//! expectations become JSON (strings rendered as templates), and numbers
//! compare by value, so `2000` in a suite matches `2000.0` from a service.

use super::template;

/// An expected value written in TOML, as JSON, its strings rendered as
/// templates with `lookup`.
pub(crate) fn toml_to_json(
    v: &toml::Value,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<serde_json::Value, String> {
    Ok(match v {
        toml::Value::String(s) => serde_json::Value::String(template::render(s, lookup)?),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Value::from(*f),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(a) => serde_json::Value::Array(
            a.iter()
                .map(|v| toml_to_json(v, lookup))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_json(v, lookup)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// JSON equality where 2000 and 2000.0 are the same number.
pub(crate) fn json_eq(want: &serde_json::Value, got: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match (want, got) {
        (V::Number(a), V::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => a.as_f64() == b.as_f64(),
        },
        (V::Array(a), V::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_eq(x, y))
        }
        (V::Object(a), V::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, x)| b.get(k).is_some_and(|y| json_eq(x, y)))
        }
        _ => want == got,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_numbers_compare_by_value() {
        assert!(json_eq(&json!(2000), &json!(2000.0)));
        assert!(json_eq(&json!({"a":[1,"x"]}), &json!({"a":[1.0,"x"]})));
        assert!(!json_eq(&json!(1), &json!("1")));
    }

    #[test]
    fn objects_match_only_with_the_same_keys() {
        assert!(!json_eq(&json!({"a":1}), &json!({"a":1,"b":2})));
        assert!(!json_eq(&json!([1]), &json!([1, 2])));
    }

    #[test]
    fn toml_expectations_become_json_with_their_templates_rendered() {
        let v: toml::Value =
            toml::from_str(r#"x = { id = "{charge_id}", n = [1, 2.5, true] }"#).unwrap();
        let lookup = |k: &str| (k == "charge_id").then(|| "ch_1".to_string());
        assert_eq!(
            toml_to_json(&v["x"], &lookup).unwrap(),
            json!({"id": "ch_1", "n": [1, 2.5, true]})
        );
        let bad: toml::Value = toml::Value::String("{missing}".into());
        assert!(toml_to_json(&bad, &lookup).is_err());
    }
}
