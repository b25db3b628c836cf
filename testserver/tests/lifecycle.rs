//! The server binary's contract with scripts: first line is its address; it exits on SIGTERM
//! and on the end of a piped stdin.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn start() -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aichat-testserver"))
        .arg("0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().to_string())
}

fn exits_within(child: &mut Child, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    false
}

#[test]
fn first_line_is_a_loopback_address() {
    let (mut child, url) = start();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url["http://127.0.0.1:".len()..].parse::<u16>().unwrap() > 0);
    child.kill().unwrap();
}

#[test]
fn sigterm_stops_it_even_with_stdin_open() {
    let (mut child, _) = start();
    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(exits_within(&mut child, Duration::from_secs(2)));
}

#[test]
fn end_of_stdin_stops_it() {
    let (mut child, _) = start();
    drop(child.stdin.take());
    assert!(exits_within(&mut child, Duration::from_secs(2)));
}
