use std::time::{Duration, UNIX_EPOCH};

use authgw::rules::{allow, Denial, Set};
use authgw::token::Claims;

const DOC: &str = r#"{"routes":[
 {"prefix":"/api/","scopes":["read","write"]},
 {"prefix":"/api/admin/","scopes":["admin"],"subjects":["alice"],"max_age_s":300},
 {"prefix":"/public/"}]}"#;

#[test]
fn longest_prefix_decides() {
    let s = Set::compile(DOC.as_bytes()).unwrap();
    assert_eq!(
        s.matching("/api/admin/users").unwrap().prefix,
        "/api/admin/"
    );
    assert_eq!(s.matching("/api/items").unwrap().prefix, "/api/");
    assert!(s.matching("/other").is_none());
}

#[test]
fn allow_checks_scopes_subjects_and_age() {
    let s = Set::compile(DOC.as_bytes()).unwrap();
    let now = UNIX_EPOCH + Duration::from_secs(10_000);
    let admin = s.matching("/api/admin/x");
    let api = s.matching("/api/x");
    let public = s.matching("/public/x");
    let cases = [
        (
            api.as_deref(),
            Claims::new("bob", &["read"], 9_990, 3600),
            Ok(()),
        ),
        (
            api.as_deref(),
            Claims::new("bob", &["admin"], 9_990, 3600),
            Err(Denial::Scope),
        ),
        (
            public.as_deref(),
            Claims::new("bob", &[], 9_990, 3600),
            Ok(()),
        ),
        (
            admin.as_deref(),
            Claims::new("alice", &["admin"], 9_990, 3600),
            Ok(()),
        ),
        (
            admin.as_deref(),
            Claims::new("bob", &["admin"], 9_990, 3600),
            Err(Denial::Subject),
        ),
        (
            admin.as_deref(),
            Claims::new("alice", &["admin"], 9_600, 3600),
            Err(Denial::AuthTooOld),
        ),
        // 320 s old: within the leeway
        (
            admin.as_deref(),
            Claims::new("alice", &["admin"], 9_680, 3600),
            Ok(()),
        ),
        (
            None,
            Claims::new("alice", &["admin"], 9_990, 3600),
            Err(Denial::NoRoute),
        ),
    ];
    for (i, (route, c, want)) in cases.into_iter().enumerate() {
        assert_eq!(
            allow(route, &c, now, Duration::from_secs(30)),
            want,
            "case {i}"
        );
    }
}

#[test]
fn compile_refuses_bad_files() {
    for raw in [
        "{",
        r#"{"routes":[]}"#,
        r#"{"routes":[{"prefix":"api"}]}"#,
        r#"{"routes":[{"prefix":"/a"},{"prefix":"/a"}]}"#,
        r#"{"routes":[{"prefix":"/a","extra":1}]}"#,
    ] {
        assert!(Set::compile(raw.as_bytes()).is_err(), "{raw} compiled");
    }
}
