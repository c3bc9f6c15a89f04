use ingester::parse::{ndjson, plain, valid_tenant, Line};

fn line(level: &str, msg: &str) -> Line {
    Line {
        level: level.to_string(),
        msg: msg.to_string(),
    }
}

#[test]
fn ndjson_keeps_good_lines_and_counts_bad_ones() {
    let body = "{\"level\":\"warn\",\"msg\":\"disk 91%\"}\n\
                \n\
                not json\n\
                {\"msg\":\"no level\"}\r\n\
                {\"level\":\"loud\",\"msg\":\"x\"}\n\
                {\"level\":\"info\"}\n\
                [1,2]\n";
    let res = ndjson(body.as_bytes(), 1024);
    assert_eq!(
        res.lines,
        vec![line("warn", "disk 91%"), line("info", "no level")]
    );
    assert_eq!(res.rejected, 4);
}

#[test]
fn plain_and_line_size_limit() {
    let body = format!(
        "error payment declined\ninfo {}\nwarn\ntrace hello\n",
        "a".repeat(40)
    );
    let res = plain(body.as_bytes(), 30);
    assert_eq!(res.lines, vec![line("error", "payment declined")]);
    assert_eq!(res.rejected, 3);
}

#[test]
fn valid_tenant_names() {
    for ok in ["acme", "team-1.prod", "A_b"] {
        assert!(valid_tenant(ok), "{ok:?} refused");
    }
    for bad in ["", "a b", "x/y", &"t".repeat(65)] {
        assert!(!valid_tenant(bad), "{bad:?} accepted");
    }
}
