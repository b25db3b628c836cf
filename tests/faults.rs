//! Every fault the test server can inject maps to its documented status code.

mod common;
use common::*;
use std::time::{Duration, Instant};

/// One call with retries off, so each fault is seen once (tests/retries.rs covers retrying).
fn call(server: &Server, spec: &str, extra: &str) -> Outcome {
    let client = ClientHandle::new(Some(r#"{"max_retries":0}"#));
    complete(&client, &request(&server.fault_url(spec), HI, extra))
}

#[test]
fn http_error_status_carries_code_and_server_text() {
    let server = Server::start().unwrap();
    let out = call(&server, "status=503", "");
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS);
    assert_eq!(out.http_status, 503);
    assert_eq!(
        out.message,
        format!("HTTP 503 Service Unavailable from {}: test server: injected HTTP 503", server.addr())
    );
}

#[test]
fn http_client_error_status() {
    let server = Server::start().unwrap();
    let out = call(&server, "status=404", "");
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS);
    assert_eq!(out.http_status, 404);
}

#[test]
fn redirect_is_not_followed() {
    let server = Server::start().unwrap();
    let out = call(&server, "redirect", "");
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS);
    assert_eq!(out.http_status, 302);
}

#[test]
fn response_false_is_a_server_error() {
    let server = Server::start().unwrap();
    let out = call(&server, "response-false", "");
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_SERVER);
    assert_eq!(out.message, "the aichat server reported a failure: test server: injected failure");
    assert_eq!(out.http_status, 200);
}

#[test]
fn non_json_body_is_a_protocol_error() {
    let server = Server::start().unwrap();
    let out = call(&server, "not-json", "");
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL);
    assert!(out.message.starts_with("the aichat answer is not JSON"), "{}", out.message);
    assert!(out.message.contains("Service temporarily unavailable"), "{}", out.message);
}

#[test]
fn missing_message_is_a_protocol_error() {
    let server = Server::start().unwrap();
    let out = call(&server, "no-message", "");
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL);
    assert_eq!(out.message, "the aichat answer has no `message` field");
}

#[test]
fn body_cut_short_is_an_io_error() {
    let server = Server::start().unwrap();
    let out = call(&server, "truncate", "");
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_IO, "{}", out.message);
    assert!(out.message.contains(&server.addr().to_string()), "{}", out.message);
    assert!(out.chunks.is_empty());
}

#[test]
fn delay_within_the_idle_timeout_succeeds() {
    let server = Server::start().unwrap();
    let out = call(&server, "delay=200", r#""idle_timeout_ms":2000"#);
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text(), "You said: Hi");
}

#[test]
fn silence_hits_the_idle_timeout() {
    let server = Server::start().unwrap();
    let started = Instant::now();
    let out = call(&server, "silence", r#""idle_timeout_ms":300"#);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_TIMEOUT, "{}", out.message);
    assert!(out.message.contains("idle_timeout_ms=300"), "{}", out.message);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn silence_hits_the_whole_call_timeout() {
    let server = Server::start().unwrap();
    let out = call(&server, "silence", r#""timeout_ms":300"#);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_TIMEOUT, "{}", out.message);
    assert!(out.message.contains("timeout_ms=300"), "{}", out.message);
}

#[test]
fn answer_over_max_response_bytes_is_too_large() {
    let server = Server::start().unwrap();
    let out = call(&server, "size=100000", r#""max_response_bytes":50000"#);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_TOO_LARGE, "{}", out.message);
    assert!(out.message.contains("max_response_bytes (50000 bytes)"), "{}", out.message);
    let out = call(&server, "size=100000", r#""max_response_bytes":200000"#);
    assert_eq!(out.status, AichatStatus::AICHAT_OK);
    assert_eq!(out.text().len(), 100_000);
}

#[test]
fn refused_connection_is_a_connect_error_naming_the_host() {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = ClientHandle::new(Some(r#"{"max_retries":0}"#));
    let out = complete(&client, &request(&format!("http://127.0.0.1:{port}"), HI, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT, "{}", out.message);
    assert!(out.message.contains(&format!("127.0.0.1:{port}")), "{}", out.message);
    assert_eq!(out.http_status, 0);
}

#[test]
fn unresolvable_host_is_a_connect_error() {
    let client = ClientHandle::new(Some(r#"{"max_retries":0}"#));
    let out = complete(&client, &request("http://no-such-host.invalid", HI, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT, "{}", out.message);
    assert!(out.message.contains("no-such-host.invalid"), "{}", out.message);
}

#[test]
fn unreachable_proxy_is_a_connect_error() {
    let server = Server::start().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = ClientHandle::new(Some(r#"{"max_retries":0}"#));
    let req = format!(r#"{{"messages":{HI},"base_url":"{}","proxy":"http://127.0.0.1:{port}"}}"#, server.base_url());
    let out = complete(&client, &req);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT, "{}", out.message);
}
