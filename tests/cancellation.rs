//! Stopping a call: from the callback, and from another thread through a cancel token.

mod common;
use common::*;
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn callback_returning_nonzero_stops_with_cancelled() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let out = complete_with(Some(&client), &request(&server.base_url(), HI, ""), None, Some(1));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CANCELLED);
    assert_eq!(out.message, "stopped by the chunk callback");
    assert_eq!(out.chunks, vec!["You said: Hi"]);
}

#[test]
fn client_works_after_a_callback_stop() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    complete_with(Some(&client), &request(&server.base_url(), HI, ""), None, Some(1));
    let out = complete(&client, &request(&server.base_url(), HI, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_OK);
}

#[test]
fn trigger_from_another_thread_stops_a_silent_call_promptly() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let cancel = CancelHandle::new();
    let req = request(&server.fault_url("silence"), HI, "");
    let (out, returned_at) = thread::scope(|s| {
        let call = s.spawn(|| {
            let out = complete_with(Some(&client), &req, Some(&cancel), None);
            (out, Instant::now())
        });
        thread::sleep(Duration::from_millis(300));
        unsafe { aichat_cancel_trigger(cancel.0) };
        let triggered_at = Instant::now();
        let (out, returned_at) = call.join().unwrap();
        (out, returned_at.saturating_duration_since(triggered_at))
    });
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CANCELLED);
    assert_eq!(out.message, "cancelled by the cancel token");
    // The contract is 100 ms (a few ms here); the margin is for a loaded machine.
    assert!(returned_at < Duration::from_millis(500), "returned {returned_at:?} after the trigger");
}

#[test]
fn triggered_token_fails_new_calls_at_once() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let cancel = CancelHandle::new();
    unsafe { aichat_cancel_trigger(cancel.0) };
    let out = complete_with(Some(&client), &request(&server.base_url(), HI, ""), Some(&cancel), None);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CANCELLED);
    assert!(out.chunks.is_empty());
}

#[test]
fn untriggered_token_changes_nothing() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let cancel = CancelHandle::new();
    let out = complete_with(Some(&client), &request(&server.base_url(), HI, ""), Some(&cancel), None);
    assert_eq!(out.status, AichatStatus::AICHAT_OK);
    assert_eq!(out.text(), "You said: Hi");
}

/// A request body large enough to fill the socket buffers of a peer that does not read.
fn huge_request(base_url: &str, extra: &str) -> String {
    let big = format!(r#"[{{"role":"user","content":"{}"}}]"#, "x".repeat(48 * 1024 * 1024));
    request(base_url, &big, extra)
}

#[test]
fn trigger_stops_a_call_blocked_writing_its_body() {
    let server = aichat_testserver::RawServer::start(aichat_testserver::Raw::NeverRead).unwrap();
    let client = ClientHandle::new(None);
    let cancel = CancelHandle::new();
    // The idle timeout is far away: only the cancel can end this call in time.
    let req = huge_request(&server.base_url(), r#""idle_timeout_ms":20000,"max_retries":0"#);
    let (out, returned_after) = thread::scope(|s| {
        let call = s.spawn(|| {
            let out = complete_with(Some(&client), &req, Some(&cancel), None);
            (out, Instant::now())
        });
        // Once connected, the client is writing; a moment more and the socket buffers are full.
        let waiting = Instant::now();
        while server.accepted() == 0 && waiting.elapsed() < Duration::from_secs(60) {
            thread::sleep(Duration::from_millis(10));
        }
        thread::sleep(Duration::from_millis(300));
        unsafe { aichat_cancel_trigger(cancel.0) };
        let triggered_at = Instant::now();
        let (out, returned_at) = call.join().unwrap();
        (out, returned_at.saturating_duration_since(triggered_at))
    });
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CANCELLED, "{}", out.message);
    // The contract is 100 ms; the margin is for a loaded machine, far below the idle timeout.
    assert!(returned_after < Duration::from_millis(1000), "returned {returned_after:?} after the trigger");
}

/// The library's threads in this process, by their names.
fn library_threads() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .filter(|name| name.starts_with("aichat"))
        .collect()
}

/// Established TCP connections on this machine whose remote end is `port` (our side of each
/// connection to the server).
fn connections_to(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let remote = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.len() > 3 && cols[2].ends_with(&remote) && cols[3] == "01"
        })
        .count()
}

#[test]
fn freeing_a_stream_blocked_writing_its_body_closes_its_connection() {
    let server = aichat_testserver::RawServer::start(aichat_testserver::Raw::NeverRead).unwrap();
    let port: u16 = server.base_url().rsplit(':').next().unwrap().parse().unwrap();
    let client = ClientHandle::new(None);
    let req =
        std::ffi::CString::new(huge_request(&server.base_url(), r#""idle_timeout_ms":20000,"max_retries":0"#)).unwrap();
    let stream = unsafe { aichat_client_stream_open(client.0, req.as_ptr(), std::ptr::null(), std::ptr::null_mut()) };
    assert!(!stream.is_null());
    let waiting = Instant::now();
    while server.accepted() == 0 && waiting.elapsed() < Duration::from_secs(60) {
        thread::sleep(Duration::from_millis(10));
    }
    thread::sleep(Duration::from_millis(300));
    assert_eq!(connections_to(port), 1, "the stream's connection is open, its request half written");
    // No thread of its own: the reactor writes its body.
    assert!(!library_threads().iter().any(|t| t == "aichat-request"), "{:?}", library_threads());
    unsafe { aichat_stream_free(stream) };
    let freed = Instant::now();
    while connections_to(port) > 0 && freed.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(5));
    }
    // The reactor closes it as soon as it hears; the margin is for a loaded machine.
    assert!(freed.elapsed() < Duration::from_millis(1000), "the connection lived {:?} after the free", freed.elapsed());
}
