use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use ledger::store::{Account, Charge, Store, StoreError};

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ledger-store-test-{}-{}",
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

/// A store on a fresh database; keep the TempDir alive while using it.
fn open_temp() -> (Store, TempDir) {
    let dir = TempDir::new();
    let st = Store::open(dir.0.join("ledger.db")).unwrap();
    (st, dir)
}

/// A charge on a fresh account. `balance_cents` is preset to the amount (the
/// balance after a first charge) so the row is complete whatever
/// `record_charge` does with it.
fn sample_charge() -> Charge {
    Charge {
        id: "ch_0123456789abcdef".to_string(),
        idempotency_key: "key-1".to_string(),
        account: "acct_1".to_string(),
        amount_cents: 1500,
        currency: "usd".to_string(),
        status: "succeeded".to_string(),
        provider_charge_id: "pch_1".to_string(),
        balance_cents: 1500,
        created_at: "2026-11-27T10:00:00Z".to_string(),
    }
}

#[test]
fn record_and_get_charge() {
    let (st, _dir) = open_temp();
    let want = sample_charge();
    let mut ch = want.clone();
    st.record_charge(&mut ch).unwrap();

    let by_id = st.get_charge(&want.id).unwrap();
    assert_eq!(by_id, want, "get_charge");
    let by_key = st.charge_by_key(&want.idempotency_key).unwrap();
    assert_eq!(by_key, want, "charge_by_key");
    assert!(
        matches!(st.charge_by_key("other-key"), Err(StoreError::NotFound)),
        "charge_by_key(unknown) should be NotFound"
    );
}

#[test]
fn account_balance_after_one_charge() {
    let (st, _dir) = open_temp();
    let mut ch = sample_charge();
    st.record_charge(&mut ch).unwrap();
    assert_eq!(ch.balance_cents, 1500, "ch.balance_cents");

    assert_eq!(st.balance("acct_1").unwrap(), 1500, "balance");
    let acct = st.account("acct_1").unwrap();
    let want = Account {
        id: "acct_1".to_string(),
        balance_cents: 1500,
        charges: 1,
    };
    assert_eq!(acct, want, "account");
}

#[test]
fn unknown_account_and_charge() {
    let (st, _dir) = open_temp();
    assert_eq!(st.balance("acct_none").unwrap(), 0, "balance(unknown)");
    assert!(
        matches!(st.account("acct_none"), Err(StoreError::NotFound)),
        "account(unknown) should be NotFound"
    );
    assert!(
        matches!(st.get_charge("ch_none"), Err(StoreError::NotFound)),
        "get_charge(unknown) should be NotFound"
    );
}

#[test]
fn record_charge_rejects_duplicate_key() {
    let (st, _dir) = open_temp();
    let mut first = sample_charge();
    st.record_charge(&mut first).unwrap();
    let mut dup = sample_charge();
    dup.id = "ch_fedcba9876543210".to_string();
    assert!(
        st.record_charge(&mut dup).is_err(),
        "record_charge with a reused idempotency key succeeded"
    );

    // The failed transaction must leave no trace: no second row, no balance change.
    assert!(
        matches!(st.get_charge(&dup.id), Err(StoreError::NotFound)),
        "get_charge(dup) should be NotFound"
    );
    let acct = st.account("acct_1").unwrap();
    let want = Account {
        id: "acct_1".to_string(),
        balance_cents: 1500,
        charges: 1,
    };
    assert_eq!(acct, want, "account");
}
