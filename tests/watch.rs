//! `drill watch` in its line mode (stdin and stderr are pipes): a save
//! triggers one build/test cycle however the editor wrote it, writes under
//! `.git` or `target` and saves that change nothing trigger none, `q` exits
//! 0, and every cycle is a recorded `test_run`.

mod util;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use util::{events, heavy, Drill};

const ACK: &str = "email-worker/ack-before-send";

/// Waits for a stderr line starting with `prefix`; panics after `secs`.
fn wait_for(lines: &mpsc::Receiver<String>, prefix: &str, secs: u64, seen: &mut Vec<String>) {
    loop {
        match lines.recv_timeout(Duration::from_secs(secs)) {
            Ok(l) => {
                let hit = l.starts_with(prefix);
                seen.push(l);
                if hit {
                    return;
                }
            }
            Err(_) => panic!("no line starting with {prefix:?} in {secs} s; saw {seen:#?}"),
        }
    }
}

#[test]
fn a_save_reruns_the_tests_once_and_q_quits_with_every_cycle_recorded() {
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[ACK, "--lang", "go"]);
    let mut child = d
        .process_in(&ws)
        .arg("watch")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let mut seen = Vec::new();
    wait_for(&lines, "run: tests pass", 300, &mut seen);

    // Noise: version control, build output, and a save that changes nothing.
    fs::write(ws.join(".git/scratch"), "x").unwrap();
    fs::create_dir_all(ws.join("target")).unwrap();
    fs::write(ws.join("target/out"), "x").unwrap();
    let file = ws.join("internal/worker/pool.go");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, &text).unwrap();
    // A save the way many editors do it: a temporary file renamed over the
    // original, then its mode set (several events for one save).
    let tmp = ws.join("internal/worker/.pool.go.swp");
    fs::write(&tmp, format!("{text}\n// looked here\n")).unwrap();
    fs::rename(&tmp, &file).unwrap();
    let perms = fs::metadata(&file).unwrap().permissions();
    fs::set_permissions(&file, perms).unwrap();
    wait_for(&lines, "run: tests pass", 300, &mut seen);

    // Nothing else may start a cycle: give stray events time to arrive, then
    // ask for the help line and quit.
    std::thread::sleep(watch_settle());
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "?").unwrap();
    wait_for(&lines, "keys: ", 60, &mut seen);
    writeln!(stdin, "q").unwrap();
    let status = child.wait().unwrap();
    while let Ok(l) = lines.recv_timeout(Duration::from_secs(5)) {
        seen.push(l);
    }
    assert_eq!(status.code(), Some(0), "{seen:#?}");
    let runs = seen.iter().filter(|l| l.starts_with("run: ")).count();
    assert_eq!(runs, 2, "the first cycle and one for the save: {seen:#?}");

    let record = d.only_record();
    assert_eq!(record["format_version"], 5);
    assert_eq!(events(&record), ["start", "test_run", "test_run"]);
    assert_eq!(record["events"][1]["passed"], true);
    let status = d.status(&ws);
    assert_eq!(status["test_runs"], 2);
    assert!(status["time_to_green_ms"].is_u64(), "{status}");
}

/// Ten debounce windows: events of the noise above have long been delivered.
fn watch_settle() -> Duration {
    drillkit::commands::session::watch::DEBOUNCE * 10
}

/// On a terminal (a pseudo-terminal here): keys act at once, without Enter,
/// the status line is pinned, `p` pauses and resumes, `q` exits 0.
#[test]
fn on_a_terminal_single_keys_pause_resume_and_quit() {
    use std::os::fd::{FromRawFd, OwnedFd};
    let _turn = heavy();
    let d = Drill::new();
    let ws = d.start(&[ACK, "--lang", "go"]);
    let (mut master, slave) = unsafe {
        let (mut m, mut s) = (0, 0);
        let rc = libc::openpty(
            &mut m,
            &mut s,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        );
        assert_eq!(rc, 0, "openpty");
        (fs::File::from_raw_fd(m), OwnedFd::from_raw_fd(s))
    };
    let mut child = d
        .process_in(&ws)
        .arg("watch")
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let (tx, screen) = mpsc::channel::<String>();
    let mut reader = master.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut reader, &mut buf) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    let mut seen = String::new();
    let until = |what: &str, seen: &mut String| {
        while !seen.contains(what) {
            match screen.recv_timeout(Duration::from_secs(300)) {
                Ok(chunk) => seen.push_str(&chunk),
                Err(_) => panic!("{what:?} never drawn; screen: {seen}"),
            }
        }
    };
    until("tests pass", &mut seen);
    until("[drill] ", &mut seen);
    master.write_all(b"p").unwrap();
    until("· paused ·", &mut seen);
    master.write_all(b"p").unwrap();
    until("Resumed.", &mut seen);
    master.write_all(b"q").unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "{seen}");
    assert_eq!(
        events(&d.only_record()),
        ["start", "test_run", "pause", "resume"]
    );
}

#[test]
fn start_watch_goes_straight_into_the_session() {
    let _turn = heavy();
    let d = Drill::new();
    let out = d
        .cmd()
        .args(["start", ACK, "--lang", "go", "--watch", "--engineer", "t"])
        .write_stdin("q\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", util::both(&out));
    assert!(
        util::stderr(&out).contains("run: tests pass"),
        "{}",
        util::both(&out)
    );
    assert_eq!(events(&d.only_record()), ["start", "test_run"]);
}
