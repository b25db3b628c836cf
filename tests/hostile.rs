//! Hostile servers: each fault gives its documented status, every chunk that arrived before
//! the fault is delivered, and the call returns within its timeouts.

mod common;
use aichat_testserver::{Raw, RawServer};
use common::*;
use std::time::{Duration, Instant};

const SHORT: &str = r#""idle_timeout_ms":500,"max_retries":0"#;

fn aichat(base: &str) -> Outcome {
    complete(&ClientHandle::new(None), &request(base, HI, SHORT))
}

/// An openai request; `extra` may set `"stream":false` (streaming is the default here).
fn openai(base: &str, extra: &str) -> Outcome {
    let stream = if extra.contains("\"stream\"") { "" } else { r#""stream":true,"# };
    let req =
        format!(r#"{{"provider":"openai",{stream}"messages":{HI},"base_url":"{base}/v1","proxy":"",{SHORT}{extra}}}"#);
    complete(&ClientHandle::new(None), &req)
}

fn raw(bytes: &[u8]) -> RawServer {
    RawServer::start(Raw::Reply(bytes.to_vec())).unwrap()
}

const SSE_HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n";
const THREE_EVENTS: &str = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n\
                            data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n\
                            data: {\"choices\":[{\"delta\":{\"content\":\"c\"}}]}\n\n";

#[test]
fn a_pooled_connection_the_server_closed_is_not_reused() {
    // A complete keep-alive answer, then the server closes: the next call on the same client
    // must see the pooled connection is gone and open another, not fail on the dead one.
    let body = r#"{"message":"You said: Hi","response":true}"#;
    let reply =
        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len());
    let server = raw(reply.as_bytes());
    let client = ClientHandle::new(None);
    for round in 1..=3 {
        // The server's FIN reaches the pooled connection before the next call looks at it.
        std::thread::sleep(Duration::from_millis(50));
        let out = complete(&client, &request(&server.base_url(), HI, SHORT));
        assert_eq!(out.status, AichatStatus::AICHAT_OK, "call {round}: {}", out.message);
        assert_eq!(out.text(), "You said: Hi");
    }
    assert_eq!(server.accepted(), 3, "each call opened its own connection");
}

#[test]
fn the_answer_ends_with_its_end_marker_not_with_the_connection() {
    // `data: [DONE]`, then the server keeps the chunked body open and says nothing: the call
    // returns at once with the whole answer (it used to wait for idle_timeout_ms).
    let events =
        "data: {\"choices\":[{\"delta\":{\"content\":\"done\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    let reply = format!("{SSE_HEAD}transfer-encoding: chunked\r\n\r\n{:x}\r\n{events}\r\n", events.len());
    let server = RawServer::start(Raw::ReplyThenHold(reply.into_bytes())).unwrap();
    let started = Instant::now();
    let req = format!(
        r#"{{"provider":"openai","stream":true,"messages":{HI},"base_url":"{}/v1","proxy":"","idle_timeout_ms":20000}}"#,
        server.base_url()
    );
    let out = complete(&ClientHandle::new(None), &req);
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text(), "done");
    assert!(started.elapsed() < Duration::from_secs(5), "returned after {:?}", started.elapsed());
}

#[test]
fn a_server_that_closes_every_kept_alive_connection_costs_no_call() {
    // Each answer looks kept-alive (no `Connection: close`) but the server closes right after
    // it: a request that meets such a pooled connection is sent again on a fresh one. Sequential
    // calls with no pause race the server's close; every one of them must succeed.
    let body = r#"{"message":"You said: Hi","response":true}"#;
    let reply =
        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len());
    let server = raw(reply.as_bytes());
    let client = ClientHandle::new(None);
    for call in 1..=200 {
        let out = complete(&client, &request(&server.base_url(), HI, r#""max_retries":0"#));
        assert_eq!(out.status, AichatStatus::AICHAT_OK, "call {call}: {}", out.message);
    }
}

#[test]
fn every_byte_restarts_the_idle_clock_even_in_the_head() {
    // The status line, headers and body arrive one byte every 30 ms, for about 4 s, with
    // idle_timeout_ms 500: bytes keep coming, so the server is not idle (it used to fail with
    // "sent nothing for longer than idle_timeout_ms" after a few seconds).
    let body = r#"{"message":"You said: Hi","response":true}"#;
    let reply =
        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len());
    let server = RawServer::start(Raw::Trickle(reply.into_bytes(), 30)).unwrap();
    let req = request(&server.base_url(), HI, r#""idle_timeout_ms":500,"max_retries":0"#);
    let out = complete(&ClientHandle::new(None), &req);
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text(), "You said: Hi");
}

#[test]
fn connection_reset_mid_body_is_io() {
    let body = r#"{"message":"You said: Hi","response":true}"#;
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    );
    let server = RawServer::start(Raw::ReplyThenReset(reply.into_bytes())).unwrap();
    let out = aichat(&server.base_url());
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_IO, "{}", out.message);
}

#[test]
fn connection_reset_mid_stream_keeps_the_chunks_before_it() {
    // Chunked, so the reset is a break in the framing, not an end of body.
    let reply = format!("{SSE_HEAD}transfer-encoding: chunked\r\n\r\n{:x}\r\n{THREE_EVENTS}\r\n", THREE_EVENTS.len());
    let server = RawServer::start(Raw::ReplyThenReset(reply.into_bytes())).unwrap();
    let out = openai(&server.base_url(), "");
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_IO, "{}", out.message);
    assert_eq!(out.chunks, ["a", "b", "c"]);
}

#[test]
fn close_delimited_body_cut_short_is_protocol() {
    // No length, not chunked: the end of the connection ends the body, here too early.
    let server =
        raw(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{\"message\":\"You sa");
    let out = aichat(&server.base_url());
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{}", out.message);
}

#[test]
fn close_delimited_stream_cut_before_done_is_protocol_after_its_chunks() {
    let server = raw(format!("{SSE_HEAD}connection: close\r\n\r\n{THREE_EVENTS}").as_bytes());
    let out = openai(&server.base_url(), "");
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{}", out.message);
    assert_eq!(out.chunks, ["a", "b", "c"]);
}

#[test]
fn close_delimited_stream_with_done_is_fine() {
    let server = raw(format!("{SSE_HEAD}connection: close\r\n\r\n{THREE_EVENTS}data: [DONE]\n\n").as_bytes());
    let out = openai(&server.base_url(), "");
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text(), "abc");
}

#[test]
fn hundred_megabyte_body_over_max_response_bytes_is_too_large() {
    let server = Server::start().unwrap();
    // A call that kept reading past the cap would end in TIMEOUT, not TOO_LARGE: no wall-clock
    // bound here (reading 64 MiB under AddressSanitizer on a loaded machine takes over 30 s).
    let out = complete(
        &ClientHandle::new(None),
        &request(&server.fault_url("size=100000000"), HI, r#""max_retries":0,"timeout_ms":300000"#),
    );
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_TOO_LARGE, "{}", out.message);
    assert!(out.message.contains("max_response_bytes (67108864 bytes)"), "{}", out.message);
}

#[test]
fn headers_that_never_end_are_a_protocol_error() {
    let server = RawServer::start(Raw::EndlessHeaders).unwrap();
    let started = Instant::now();
    let out = aichat(&server.base_url());
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{}", out.message);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn server_that_never_reads_hits_the_idle_timeout() {
    let server = RawServer::start(Raw::NeverRead).unwrap();
    let started = Instant::now();
    let out = aichat(&server.base_url());
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_TIMEOUT, "{}", out.message);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_write_to_a_server_that_never_reads_ends_after_one_idle_timeout() {
    let server = RawServer::start(Raw::NeverRead).unwrap();
    // A large request fills the socket buffers: the write side times out too, after one
    // idle_timeout_ms without progress (not one per partial write).
    let big = format!(r#"[{{"role":"user","content":"{}"}}]"#, "x".repeat(20 * 1024 * 1024));
    let req = request(&server.base_url(), &big, SHORT);
    let (out, connected_at, returned_at) = std::thread::scope(|s| {
        let call = s.spawn(|| (complete(&ClientHandle::new(None), &req), Instant::now()));
        // Measured from the connection: building a 20 MiB request is slow under sanitizers.
        let waiting = Instant::now();
        while server.accepted() == 0 && waiting.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let connected_at = Instant::now();
        let (out, returned_at) = call.join().unwrap();
        (out, connected_at, returned_at)
    });
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_TIMEOUT, "{}", out.message);
    assert!(out.message.contains("took none of the request"), "{}", out.message);
    let took = returned_at.saturating_duration_since(connected_at);
    // 500 ms of idle_timeout_ms, with room for a loaded machine; before writes were sliced this
    // took several idle timeouts.
    assert!(took < Duration::from_millis(2500), "took {took:?} after connecting");
}

#[test]
fn server_closing_without_an_answer_is_io() {
    let server = RawServer::start(Raw::CloseAtOnce).unwrap();
    let out = aichat(&server.base_url());
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_IO, "{}", out.message);
}

#[test]
fn garbage_status_line_is_a_protocol_error() {
    let server = raw(b"HELLO THERE\r\n\r\n");
    let out = aichat(&server.base_url());
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{}", out.message);
}

#[test]
fn invalid_utf8_in_a_json_answer_is_a_protocol_error() {
    let server = Server::start().unwrap();
    let out = aichat(&server.fault_url("bad-utf8"));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{}", out.message);
    let out = openai(&server.fault_url("bad-utf8"), r#","stream":false"#);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{}", out.message);
}

#[test]
fn invalid_utf8_in_a_stream_is_replaced_as_the_sse_rules_say() {
    let server = Server::start().unwrap();
    let out = openai(&server.fault_url("bad-utf8"), "");
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.chunks, ["ok ", "bad \u{FFFD} byte"]);
}

#[test]
fn gzip_bodies_are_decoded() {
    let server = Server::start().unwrap();
    let out = aichat(&server.fault_url("gzip"));
    assert_eq!((out.status, out.text()), (AichatStatus::AICHAT_OK, "You said: Hi".to_string()), "{}", out.message);
    let out = openai(&server.fault_url("gzip"), r#","stream":false"#);
    assert_eq!((out.status, out.text()), (AichatStatus::AICHAT_OK, "You said: Hi".to_string()));
}

#[test]
fn no_content_and_not_modified_answers() {
    let server = raw(b"HTTP/1.1 204 No Content\r\n\r\n");
    let out = aichat(&server.base_url());
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{}", out.message);
    assert_eq!(out.http_status, 204);
    let server = raw(b"HTTP/1.1 304 Not Modified\r\n\r\n");
    let out = aichat(&server.base_url());
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS, "{}", out.message);
    assert_eq!(out.http_status, 304);
}

#[test]
fn informational_answer_before_the_real_one_is_skipped() {
    let body = r#"{"message":"You said: Hi","response":true}"#;
    let reply = format!(
        "HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let server = raw(reply.as_bytes());
    let out = aichat(&server.base_url());
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text(), "You said: Hi");
}
