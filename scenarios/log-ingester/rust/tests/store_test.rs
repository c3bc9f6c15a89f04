use std::path::PathBuf;

use ingester::store::{Line, Store};

fn line(tenant: &str, ts: &str, level: &str, msg: &str) -> Line {
    Line {
        tenant: tenant.to_string(),
        ts: ts.to_string(),
        level: level.to_string(),
        msg: msg.to_string(),
    }
}

#[test]
fn insert_batch_and_query() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("ingester-store-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let st = Store::open(dir.join("logs.db")).unwrap();
    st.insert_batch(&[
        line("acme", "2026-12-01T10:00:00.000Z", "info", "user login"),
        line(
            "other",
            "2026-12-01T10:00:00.001Z",
            "error",
            "user login failed",
        ),
        line(
            "acme",
            "2026-12-01T10:00:00.002Z",
            "error",
            "payment declined",
        ),
        line("acme", "2026-12-01T10:00:00.003Z", "warn", "user logout"),
    ])
    .unwrap();
    let got = st.query("acme", "user", 10).unwrap();
    let msgs: Vec<&str> = got.iter().map(|l| l.msg.as_str()).collect();
    assert_eq!(msgs, ["user logout", "user login"]);
    let got = st.query("acme", "", 1).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].msg, "user logout");
    st.close().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
