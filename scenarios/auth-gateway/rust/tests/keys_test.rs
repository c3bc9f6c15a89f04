use authgw::keys::parse_list;

#[test]
fn parse_list_keeps_entries_and_refuses_empty_or_incomplete_lists() {
    let list =
        parse_list(br#"[{"kid":"k1","secret":"s1"},{"kid":"k2","secret":"s2","not_after":99}]"#)
            .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!((list[0].secret.as_str(), list[1].not_after), ("s1", 99));
    for body in [
        "[]",
        r#"{"kid":"k1"}"#,
        r#"[{"kid":"","secret":"s"}]"#,
        r#"[{"kid":"k1"}]"#,
        "not json",
    ] {
        assert!(parse_list(body.as_bytes()).is_err(), "{body} accepted");
    }
}
