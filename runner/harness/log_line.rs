//! Reading the service's JSON log lines the same way whichever logger wrote
//! them.
//!
//! Go's `log/slog` JSON handler writes the message as `msg` and every
//! attribute at the top level. `tracing-subscriber`'s JSON formatter writes the
//! message as `message`, and nests the event's fields (the message included)
//! under `fields` unless it is built with `flatten_event(true)`. Levels are
//! `INFO`/`WARN` from both, but nothing obliges a logger to upper-case them.
//! A suite names a message and fields once; this module finds them in either
//! shape, so one suite judges both languages.

use serde_json::Value;

/// The field `name` of a log line: at the top level, else under `fields`.
pub fn field<'a>(line: &'a Value, name: &str) -> Option<&'a Value> {
    line.get(name)
        .or_else(|| line.get("fields").and_then(|f| f.get(name)))
}

/// The message of a log line: `msg`, or `message` when there is no `msg`
/// (each at the top level or under `fields`).
pub fn message(line: &Value) -> Option<&str> {
    match field(line, "msg") {
        Some(m) => m.as_str(),
        None => field(line, "message")?.as_str(),
    }
}

/// The level of a log line, upper-cased (`INFO`, `WARN`, `ERROR`...).
pub fn level(line: &Value) -> Option<String> {
    field(line, "level")?.as_str().map(str::to_ascii_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slog_lines_give_msg_and_top_level_fields() {
        let line = json!({"time":"t","level":"INFO","msg":"listening","addr":"127.0.0.1:1"});
        assert_eq!(message(&line), Some("listening"));
        assert_eq!(field(&line, "addr"), Some(&json!("127.0.0.1:1")));
        assert_eq!(level(&line).as_deref(), Some("INFO"));
    }

    #[test]
    fn flattened_tracing_lines_give_message_and_top_level_fields() {
        let line = json!({"timestamp":"t","level":"INFO","message":"listening","addr":"127.0.0.1:1","target":"ledger"});
        assert_eq!(message(&line), Some("listening"));
        assert_eq!(field(&line, "addr"), Some(&json!("127.0.0.1:1")));
    }

    #[test]
    fn nested_tracing_lines_give_message_and_fields_from_under_fields() {
        let line = json!({"timestamp":"t","level":"WARN","fields":{"message":"request","status":502},"target":"proxy"});
        assert_eq!(message(&line), Some("request"));
        assert_eq!(field(&line, "status"), Some(&json!(502)));
        assert_eq!(level(&line).as_deref(), Some("WARN"));
    }

    #[test]
    fn a_top_level_field_wins_over_the_same_name_under_fields() {
        let line = json!({"msg":"top","status":1,"fields":{"msg":"nested","status":2}});
        assert_eq!(message(&line), Some("top"));
        assert_eq!(field(&line, "status"), Some(&json!(1)));
    }

    #[test]
    fn msg_wins_over_message_and_a_non_string_msg_is_no_message() {
        let both = json!({"msg":"slog","message":"other"});
        assert_eq!(message(&both), Some("slog"));
        let numeric = json!({"msg":3,"message":"other"});
        assert_eq!(message(&numeric), None);
        assert_eq!(message(&json!({"level":"INFO"})), None);
    }

    #[test]
    fn levels_are_upper_cased() {
        assert_eq!(level(&json!({"level":"warn"})).as_deref(), Some("WARN"));
        assert_eq!(level(&json!({"msg":"x"})), None);
    }
}
