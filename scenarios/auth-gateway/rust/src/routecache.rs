//! Which route decides a path, remembered so the prefix scan runs once per
//! path and rules generation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::rules::Route;

/// Bounds the cache; a full cache starts over.
const MAX_CACHED_PATHS: usize = 10_000;

#[derive(Default)]
pub struct RouteCache {
    entries: Mutex<HashMap<String, CachedRoute>>,
}

struct CachedRoute {
    route: Option<Arc<Route>>,
    generation: u64,
}

impl RouteCache {
    pub fn new() -> RouteCache {
        RouteCache::default()
    }

    /// The route cached for `path` under `generation`: `None` when nothing
    /// is cached, `Some(None)` when no route matches it.
    pub fn lookup(&self, path: &str, generation: u64) -> Option<Option<Arc<Route>>> {
        let entries = self.entries.lock().unwrap();
        match entries.get(path) {
            Some(e) if e.generation == generation => Some(e.route.clone()),
            _ => None,
        }
    }

    pub fn store(&self, path: &str, generation: u64, route: Option<Arc<Route>>) {
        let mut entries = self.entries.lock().unwrap();
        if entries.len() >= MAX_CACHED_PATHS {
            entries.clear();
        }
        entries.insert(path.to_string(), CachedRoute { route, generation });
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
