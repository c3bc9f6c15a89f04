//! The bug classes a drill may name. `docs/taxonomy.md` explains each one and
//! where it comes from; a test keeps the two lists identical.

pub struct BugClass {
    pub id: &'static str,
    pub name: &'static str,
    /// Exists in only one of the languages (kept out of paired comparisons).
    pub language_specific: bool,
}

pub const CLASSES: &[BugClass] = &[
    c(
        "retry-idempotency",
        "Retry without idempotency (duplicate side effect)",
    ),
    c(
        "lost-update",
        "Lost update: read-modify-write outside a transaction or lock",
    ),
    c(
        "missing-timeout",
        "Missing or misapplied timeout / deadline",
    ),
    c(
        "deadline-propagation",
        "Deadline or cancellation not propagated to downstream work",
    ),
    c(
        "check-then-act",
        "Check-then-act race (e.g. deduplication across concurrent requests)",
    ),
    c(
        "auth-bypass",
        "Authentication or signature check that accepts forged or replayed input",
    ),
    c(
        "ack-before-process",
        "Acknowledging work before it is done (loss on crash)",
    ),
    c(
        "retry-storm",
        "Retries without backoff or jitter (load amplification)",
    ),
    c("task-leak", "Goroutine / task leak"),
    c(
        "blocked-sender",
        "Orphaned sender blocked after its receiver gave up",
    ),
    c(
        "lock-across-io",
        "Lock held across I/O or an await (latency convoy)",
    ),
    c(
        "unbounded-buffer",
        "Unbounded queue or buffering (memory blow-up under load)",
    ),
    c(
        "unbounded-growth",
        "Per-key state never evicted (a map that grows with every key seen)",
    ),
    c(
        "shutdown-loss",
        "Graceful shutdown that drops or duplicates in-flight work",
    ),
    c("crash-on-input", "Panic or crash on malformed input"),
    c("resource-leak", "Connection, body or file-descriptor leak"),
    c("deadlock", "Deadlock (double lock, lock-order inversion)"),
    c(
        "error-handling",
        "Error swallowed or mishandled on a rarely taken path",
    ),
    c(
        "config-reload",
        "Configuration reload applied partly, late or not at all",
    ),
    c(
        "clock-skew",
        "Clock, lease or expiry logic broken by skew or the wrong clock",
    ),
];

const fn c(id: &'static str, name: &'static str) -> BugClass {
    BugClass {
        id,
        name,
        language_specific: false,
    }
}

pub fn find(id: &str) -> Option<&'static BugClass> {
    CLASSES.iter().find(|c| c.id == id)
}

pub fn ids() -> impl Iterator<Item = &'static str> {
    CLASSES.iter().map(|c| c.id)
}

/// Words that name a class's mechanism: a ticket or a first hint containing one
/// (as a word prefix, any case) tells the engineer the cause instead of the symptom.
/// `drill verify` lints for them (runner/lint.rs).
pub fn cause_words(id: &str) -> &'static [&'static str] {
    match id {
        "retry-idempotency" => &["idempoten", "retry", "retries", "retried"],
        "lost-update" => &["race", "atomic", "transaction", "read-modify-write"],
        "missing-timeout" => &["timeout", "deadline"],
        "deadline-propagation" => &["deadline", "propagat", "cancel"],
        "check-then-act" => &["race", "atomic", "toctou"],
        "auth-bypass" => &["bypass", "unsigned", "unauthenticated"],
        "ack-before-process" => &["ack", "acknowledg"],
        "retry-storm" => &["backoff", "storm", "jitter"],
        "blocked-sender" => &["channel", "unbuffered", "blocked"],
        "lock-across-io" => &["lock", "mutex", "convoy", "contention"],
        "unbounded-buffer" => &["buffer", "unbounded"],
        "unbounded-growth" => &["evict", "unbounded", "sweep"],
        "shutdown-loss" => &["drain", "graceful", "sigterm"],
        "task-leak" => &["leak", "goroutine"],
        "resource-leak" => &["leak"],
        "deadlock" => &["deadlock", "lock", "mutex"],
        "crash-on-input" => &["panic", "unwrap", "nil"],
        "error-handling" => &["swallow", "ignored"],
        "config-reload" => &["stale", "cached copy"],
        "clock-skew" => &["skew", "monotonic", "leeway"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_class_has_cause_words() {
        for id in super::ids() {
            assert!(
                !super::cause_words(id).is_empty(),
                "{id} has no cause words"
            );
        }
    }

    #[test]
    fn taxonomy_doc_lists_exactly_the_known_classes() {
        let doc = include_str!("../docs/taxonomy.md");
        let table = doc.split("## Catalog coverage").next().unwrap_or(doc);
        let mut in_doc: Vec<&str> = table
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .collect();
        let mut known: Vec<&str> = super::ids().collect();
        in_doc.sort_unstable();
        known.sort_unstable();
        assert_eq!(in_doc, known);
    }
}
