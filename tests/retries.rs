//! Retries: what is retried, how many attempts reach the server, and the waits between them.

mod common;
use common::*;
use std::time::{Duration, Instant};

fn openai(base: &str, extra: &str) -> String {
    format!(r#"{{"provider":"openai","messages":{HI},"base_url":"{base}/v1","proxy":"","stream":true{extra}}}"#)
}

fn run(req: &str) -> (Outcome, Duration) {
    let started = Instant::now();
    let out = complete(&ClientHandle::new(None), req);
    (out, started.elapsed())
}

#[test]
fn server_error_then_success_is_retried() {
    let server = Server::start().unwrap();
    let (out, _) = run(&openai(&server.fault_url("key=a,fail-first=1"), ""));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text(), "You said: Hi");
    assert_eq!(server.attempts("a"), 2);
}

#[test]
fn default_is_two_retries_then_the_last_answer() {
    let server = Server::start().unwrap();
    let (out, elapsed) = run(&openai(&server.fault_url("key=b,fail-first=10,status=503"), ""));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS);
    assert_eq!(out.http_status, 503);
    assert_eq!(server.attempts("b"), 3);
    // Back-off: 0.5 s then 1 s, each less up to a quarter of jitter.
    assert!(elapsed >= Duration::from_millis(1125), "{elapsed:?}");
}

#[test]
fn max_retries_zero_tries_once() {
    let server = Server::start().unwrap();
    let (out, _) = run(&openai(&server.fault_url("key=c,fail-first=1"), r#","max_retries":0"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS);
    assert_eq!(server.attempts("c"), 1);
}

#[test]
fn retry_after_is_honoured() {
    let server = Server::start().unwrap();
    let (out, elapsed) = run(&openai(&server.fault_url("key=d,fail-first=1,status=429,retry-after=1"), ""));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(server.attempts("d"), 2);
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
}

#[test]
fn retry_after_ms_is_honoured() {
    let server = Server::start().unwrap();
    let (out, elapsed) = run(&openai(&server.fault_url("key=e,fail-first=2,status=429,retry-after-ms=100"), ""));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(server.attempts("e"), 3);
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1000), "retry-after-ms replaces the longer back-off: {elapsed:?}");
}

#[test]
fn retry_after_over_a_minute_is_not_retried() {
    let server = Server::start().unwrap();
    let (out, elapsed) = run(&openai(&server.fault_url("key=f,fail-first=1,status=429,retry-after=120"), ""));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS);
    assert_eq!(out.http_status, 429);
    assert_eq!(server.attempts("f"), 1);
    assert!(elapsed < Duration::from_secs(5));
}

#[test]
fn retryable_statuses_and_not() {
    let server = Server::start().unwrap();
    for (status, retried) in
        [(408, true), (409, true), (429, true), (500, true), (502, true), (400, false), (401, false), (404, false)]
    {
        let key = format!("s{status}");
        let spec = format!("key={key},fail-first=1,status={status},retry-after-ms=1");
        let (out, _) = run(&openai(&server.fault_url(&spec), ""));
        assert_eq!(server.attempts(&key), if retried { 2 } else { 1 }, "{status}");
        assert_eq!(out.status == AichatStatus::AICHAT_OK, retried, "{status}: {}", out.message);
    }
}

#[test]
fn aichat_provider_is_retried_too() {
    let server = Server::start().unwrap();
    let (out, _) = run(&request(&server.fault_url("key=g,fail-first=1,retry-after-ms=1"), HI, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(server.attempts("g"), 2);
}

#[test]
fn connection_refused_is_retried_with_back_off() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (out, elapsed) = run(&openai(&format!("http://127.0.0.1:{port}"), r#","max_retries":1"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT);
    assert!(elapsed >= Duration::from_millis(375), "one back-off of 0.5 s less jitter: {elapsed:?}");
}

#[test]
fn nothing_is_retried_after_a_chunk_was_delivered() {
    let server = Server::start().unwrap();
    let (out, _) = run(&openai(&server.fault_url("key=h,chunks=4,cut"), ""));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL);
    assert_eq!(out.chunks.len(), 2);
    assert_eq!(server.attempts("h"), 1);
}

#[test]
fn cancel_interrupts_a_back_off_wait_at_once() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let cancel = CancelHandle::new();
    let req = openai(&server.fault_url("key=i,fail-first=5,status=429,retry-after=30"), "");
    let (out, late) = std::thread::scope(|s| {
        let call = s.spawn(|| {
            let out = complete_with(Some(&client), &req, Some(&cancel), None);
            (out, Instant::now())
        });
        std::thread::sleep(Duration::from_millis(300));
        unsafe { aichat_cancel_trigger(cancel.0) };
        let triggered = Instant::now();
        let (out, returned) = call.join().unwrap();
        (out, returned.saturating_duration_since(triggered))
    });
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CANCELLED);
    // The contract is 100 ms (a few ms here); the margin is for a loaded machine.
    assert!(late < Duration::from_millis(500), "{late:?}");
    assert_eq!(server.attempts("i"), 1);
}

#[test]
fn timeout_ms_is_the_whole_call_across_attempts_and_waits() {
    let server = Server::start().unwrap();
    // Each attempt takes 1 s, then asks to be retried after 1.5 s: the second attempt starts at
    // 2.5 s and must end when the call's 3 s are over, not 3 s after it started.
    let (out, elapsed) = run(&openai(
        &server.fault_url("key=w,delay=1000,fail-first=10,status=503,retry-after-ms=1500"),
        r#","timeout_ms":3000,"idle_timeout_ms":2000"#,
    ));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_TIMEOUT, "{}", out.message);
    assert!(out.message.contains("timeout_ms=3000"), "{}", out.message);
    assert_eq!(server.attempts("w"), 2);
    assert!(elapsed < Duration::from_millis(4500), "{elapsed:?}");
}

#[test]
fn a_request_the_server_may_have_received_whole_is_not_sent_again() {
    let server = Server::start().unwrap();
    // The server got the request and stays silent: it may be running it, so it is not resent.
    let (out, _) = run(&openai(&server.fault_url("key=x,silence"), r#","idle_timeout_ms":300"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_TIMEOUT, "{}", out.message);
    assert_eq!(server.attempts("x"), 1);
}
