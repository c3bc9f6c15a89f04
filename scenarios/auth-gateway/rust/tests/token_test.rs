use std::time::{Duration, UNIX_EPOCH};

use authgw::token::{sign, Claims, TokenError};

fn mint(secret: &str, kid: &str, sub: &str, scopes: &str, iat: i64, ttl: i64) -> String {
    let payload = format!("v1.{kid}.{sub}.{scopes}.{iat}.{ttl}");
    format!("{payload}.{}", sign(secret, &payload))
}

#[test]
fn parse_reads_every_field() {
    let c = Claims::parse(&mint("s", "k1", "alice", "read+write", 1000, 60)).unwrap();
    assert_eq!((c.kid.as_str(), c.subject.as_str()), ("k1", "alice"));
    assert!(c.has_scope("write") && !c.has_scope("admin"));
    assert_eq!(c.expires(), 1060);
    assert_eq!(c.check_signature("s"), Ok(()));
    assert_eq!(c.check_signature("other"), Err(TokenError::Signature));
}

#[test]
fn parse_refuses_malformed_tokens() {
    let mac = sign("s", "x");
    for raw in [
        String::new(),
        "v1.k1.alice.read.1.60".to_string(),
        "v2.k1.alice.read.1.60.00".to_string(),
        format!("v1.k1.alice.read.x.60.{mac}"),
        format!("v1.k1.alice.read.1.0.{mac}"),
        "v1.k1.alice.read.1.60.zz".to_string(),
    ] {
        assert_eq!(Claims::parse(&raw), Err(TokenError::Malformed), "{raw:?}");
    }
}

#[test]
fn check_time_applies_the_leeway_on_both_bounds() {
    let now = UNIX_EPOCH + Duration::from_secs(10_000);
    let leeway = Duration::from_secs(30);
    let cases = [
        (10_000, 60, Ok(())),
        (10_020, 60, Ok(())), // issuer's clock ahead, within leeway
        (10_031, 60, Err(TokenError::NotYetValid)),
        (9_000, 980, Ok(())), // expired 20 s ago, within leeway
        (9_000, 960, Err(TokenError::Expired)),
    ];
    for (iat, ttl, want) in cases {
        let c = Claims::parse(&mint("s", "k", "a", "r", iat, ttl)).unwrap();
        assert_eq!(c.check_time(now, leeway), want, "iat {iat} ttl {ttl}");
    }
}
