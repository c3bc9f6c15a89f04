use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use intake::store::{Event, Store, StoreError, STATUS_DELIVERED, STATUS_FAILED, STATUS_PENDING};

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "intake-store-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        // A directory of this name can only be left over from a dead process
        // whose pid this one reuses (a killed test run): start from empty.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open() -> (Store, TempDir) {
    let dir = TempDir::new();
    (Store::open(dir.0.join("webhooks.db")).unwrap(), dir)
}

fn event(id: &str) -> Event {
    Event {
        id: id.to_string(),
        kind: "invoice.paid".to_string(),
        payload: format!(r#"{{"id":"{id}"}}"#).into_bytes(),
        status: STATUS_PENDING.to_string(),
        attempts: 0,
        received_at: "2026-11-27T10:00:00Z".to_string(),
    }
}

#[test]
fn insert_is_idempotent_by_event_id() {
    let (st, _dir) = open();
    for (i, want) in [true, false].into_iter().enumerate() {
        assert_eq!(
            st.insert(&event("evt_1")).unwrap(),
            want,
            "insert {}",
            i + 1
        );
    }
    let got = st.get("evt_1").unwrap();
    assert_eq!(got.status, STATUS_PENDING);
    assert_eq!(got.attempts, 0);
    assert_eq!(got.payload, br#"{"id":"evt_1"}"#);
    assert!(matches!(st.get("evt_404"), Err(StoreError::NotFound)));
}

#[test]
fn finish_records_outcome() {
    let (st, _dir) = open();
    st.insert(&event("evt_1")).unwrap();
    st.finish("evt_1", STATUS_FAILED, 5).unwrap();
    let got = st.get("evt_1").unwrap();
    assert_eq!((got.status.as_str(), got.attempts), (STATUS_FAILED, 5));
}

#[test]
fn pending_lists_unfinished_events_oldest_first() {
    let (st, _dir) = open();
    for id in ["evt_b", "evt_a", "evt_c"] {
        st.insert(&event(id)).unwrap();
    }
    st.finish("evt_a", STATUS_DELIVERED, 1).unwrap();
    let ids: Vec<String> = st.pending().unwrap().into_iter().map(|ev| ev.id).collect();
    assert_eq!(ids, ["evt_b", "evt_c"]);
}
