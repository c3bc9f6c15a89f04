use std::time::{Duration, SystemTime, UNIX_EPOCH};

use intake::signature::{sign, SignatureError, Verifier};

const SECRET: &str = "whsec_test";
const NOW: i64 = 1_800_000_000;
const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW as u64)
}

fn header(ts: i64, sig: &str) -> String {
    format!("t={ts},v1={sig}")
}

#[test]
fn verify_accepts_valid_signature() {
    let v = Verifier::new(SECRET, Duration::from_secs(300));
    let ts = NOW - 10;
    assert_eq!(
        v.verify(&header(ts, &sign(SECRET, ts, BODY)), BODY, now()),
        Ok(())
    );
}

#[test]
fn verify_rejects_bad_signatures() {
    let ts = NOW;
    let good = sign(SECRET, ts, BODY);
    let tests: Vec<(&str, String, &[u8])> = vec![
        ("wrong secret", header(ts, &sign("other", ts, BODY)), BODY),
        (
            "tampered body",
            header(ts, &good),
            br#"{"id":"evt_2","type":"invoice.paid"}"#,
        ),
        ("timestamp not signed", header(ts + 1, &good), BODY),
        ("empty header", String::new(), BODY),
        ("no timestamp", format!("v1={good}"), BODY),
        ("timestamp not a number", format!("t=abc,v1={good}"), BODY),
        ("garbage", format!("sha256={good}"), BODY),
    ];
    let v = Verifier::new(SECRET, Duration::from_secs(300));
    for (name, header, body) in tests {
        assert_eq!(
            v.verify(&header, body, now()),
            Err(SignatureError::Invalid),
            "{name}"
        );
    }
}

#[test]
fn verify_rejects_stale_timestamp() {
    let v = Verifier::new(SECRET, Duration::from_secs(300));
    for ts in [NOW - 301, NOW + 301] {
        assert_eq!(
            v.verify(&header(ts, &sign(SECRET, ts, BODY)), BODY, now()),
            Err(SignatureError::Stale),
            "ts {:+} s",
            ts - NOW
        );
    }
}
