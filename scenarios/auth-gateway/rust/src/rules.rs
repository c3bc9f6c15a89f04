//! The access rules file, compiled into a matcher, and the decision whether
//! a token may reach a path.
//!
//! The file is JSON:
//!
//! ```text
//! {"routes": [{"prefix": "/admin/", "scopes": ["admin"], "subjects": ["alice"], "max_age_s": 300}]}
//! ```
//!
//! The longest matching prefix decides. A route's scopes: the token needs at
//! least one of them (none listed: any token); subjects: when listed, the
//! token's subject must be one of them; max_age_s: when set, the token must
//! have been issued at most that long ago. A path no route matches is denied.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::metrics::Metrics;
use crate::token::{unix, Claims};

/// One compiled rule.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub prefix: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub subjects: Vec<String>,
    #[serde(default)]
    pub max_age_s: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    routes: Vec<Route>,
}

/// A compiled rules file: routes sorted longest prefix first.
#[derive(Debug)]
pub struct Set {
    routes: Vec<Arc<Route>>,
    fingerprint: String,
}

impl Set {
    /// Reads and compiles the rules file at `path`.
    pub fn load(path: &str) -> Result<Set, String> {
        let raw = std::fs::read(path).map_err(|e| e.to_string())?;
        Set::compile(&raw)
    }

    /// Validates a rules document and builds its matcher.
    pub fn compile(raw: &[u8]) -> Result<Set, String> {
        let f: File = serde_json::from_slice(raw).map_err(|e| format!("rules: {e}"))?;
        if f.routes.is_empty() {
            return Err("rules: no routes".to_string());
        }
        let mut seen = HashSet::new();
        let mut routes = Vec::new();
        for (i, r) in f.routes.into_iter().enumerate() {
            if !r.prefix.starts_with('/') {
                return Err(format!("rules: route {}: prefix must start with /", i + 1));
            }
            if !seen.insert(r.prefix.clone()) {
                return Err(format!(
                    "rules: route {}: duplicate prefix {:?}",
                    i + 1,
                    r.prefix
                ));
            }
            if r.max_age_s < 0 {
                return Err(format!(
                    "rules: route {}: max_age_s must not be negative",
                    i + 1
                ));
            }
            routes.push(Arc::new(r));
        }
        routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        let mut h = Sha256::new();
        for r in &routes {
            h.update(r.prefix.as_bytes());
            h.update(b"\n");
        }
        let fingerprint: String = h
            .finalize()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Set {
            routes,
            fingerprint,
        })
    }

    /// The number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether the set has no route (never true of a compiled file).
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Names the set of prefixes the file defines (for the reload log: which
    /// routes exist, not what they require).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The route deciding `path`.
    pub fn matching(&self, path: &str) -> Option<Arc<Route>> {
        self.routes
            .iter()
            .find(|r| path.starts_with(&r.prefix))
            .cloned()
    }
}

/// Why the rules deny a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    #[error("no route")]
    NoRoute,
    #[error("missing scope")]
    Scope,
    #[error("subject not allowed")]
    Subject,
    #[error("reauthentication required")]
    AuthTooOld,
}

/// Whether `c` may use route `r` at `now`; `leeway` is the clock difference
/// tolerated between the issuer and this host.
pub fn allow(
    r: Option<&Route>,
    c: &Claims,
    now: SystemTime,
    leeway: Duration,
) -> Result<(), Denial> {
    let r = r.ok_or(Denial::NoRoute)?;
    if !r.scopes.is_empty() && !r.scopes.iter().any(|s| c.has_scope(s)) {
        return Err(Denial::Scope);
    }
    if !r.subjects.is_empty() && !r.subjects.contains(&c.subject) {
        return Err(Denial::Subject);
    }
    if r.max_age_s > 0 {
        let age = unix(now) - c.issued_at;
        if age > r.max_age_s + leeway.as_secs() as i64 {
            return Err(Denial::AuthTooOld);
        }
    }
    Ok(())
}

/// The rules in force and a generation that moves on every swap, so that
/// lookups cached against one set are not served from another.
pub struct Store {
    path: String,
    current: RwLock<(Arc<Set>, u64)>,
    seen: std::sync::Mutex<Option<(SystemTime, u64)>>,
}

impl Store {
    /// Loads `path` once; the service does not start without valid rules.
    pub fn new(path: &str) -> Result<Store, String> {
        let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
        let set = Set::load(path)?;
        Ok(Store {
            path: path.to_string(),
            current: RwLock::new((Arc::new(set), 1)),
            seen: std::sync::Mutex::new(Some((
                meta.modified().map_err(|e| e.to_string())?,
                meta.len(),
            ))),
        })
    }

    /// The rules in force and their generation.
    pub fn current(&self) -> (Arc<Set>, u64) {
        let cur = self.current.read().unwrap();
        (cur.0.clone(), cur.1)
    }

    /// Puts `set` in force.
    fn swap(&self, set: Arc<Set>) {
        let mut cur = self.current.write().unwrap();
        cur.0 = set;
        cur.1 += 1;
    }

    /// Reads the file again; a file that does not compile keeps the rules in
    /// force.
    pub fn reload(&self, trigger: &str, metrics: &Metrics) {
        let set = match Set::load(&self.path) {
            Ok(set) => Arc::new(set),
            Err(err) => {
                metrics.rules_reload("error");
                tracing::error!(trigger, error = %err, "rules reload failed, keeping the rules in force");
                return;
            }
        };
        self.swap(set.clone());
        metrics.rules_reload("ok");
        tracing::info!(
            trigger,
            routes = set.len(),
            fingerprint = set.fingerprint(),
            "rules reloaded"
        );
    }

    /// Reloads when the file's modification time or size changed since the
    /// last look.
    pub fn poll(&self, metrics: &Metrics) {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return;
        };
        let Ok(modified) = meta.modified() else {
            return;
        };
        let now = Some((modified, meta.len()));
        {
            let mut seen = self.seen.lock().unwrap();
            if *seen == now {
                return;
            }
            *seen = now;
        }
        self.reload("file_changed", metrics);
    }
}
