//! The openai provider through the C ABI against the local server: the request on the wire,
//! streaming chunk by chunk, and every stream fault mapped to its status.

mod common;
use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// An openai request to `base` (a server URL, with or without a fault prefix) + `/v1`.
fn openai(base: &str, messages: &str, extra: &str) -> String {
    let extra = if extra.is_empty() { String::new() } else { format!(",{extra}") };
    format!(r#"{{"provider":"openai","messages":{messages},"base_url":"{base}/v1","proxy":"","max_retries":0{extra}}}"#)
}

fn run(req: &str) -> Outcome {
    complete(&ClientHandle::new(None), req)
}

fn captured(server: &Server, extra: &str) -> Value {
    let out = run(&openai(&server.fault_url("echo"), HI, extra));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    serde_json::from_str(&out.text()).unwrap()
}

#[test]
fn request_on_the_wire() {
    let server = Server::start().unwrap();
    let seen = captured(&server, r#""model":"llama","temperature":0.2,"max_tokens":9,"extra_body":{"seed":42}"#);
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/fault/echo/v1/chat/completions");
    assert_eq!(
        seen["body"],
        json!({"model":"llama","messages":[{"role":"user","content":"Hi"}],"stream":false,"temperature":0.2,"max_tokens":9,"seed":42})
    );
    assert_eq!(header(&seen, "content-type"), Some("application/json"));
    assert_eq!(header(&seen, "authorization"), None, "no key, no Authorization header");
}

#[test]
fn api_key_is_sent_as_bearer() {
    let server = Server::start().unwrap();
    let seen = captured(&server, r#""api_key":"sk-test-123""#);
    assert_eq!(header(&seen, "authorization"), Some("Bearer sk-test-123"));
}

#[test]
fn api_key_never_appears_in_an_error_message() {
    let server = Server::start().unwrap();
    // A server whose error text quotes the request, key included.
    let out = run(&openai(&server.fault_url("status=401,echo"), HI, r#""api_key":"sk-test-123""#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS);
    assert!(out.message.contains("Bearer ***"), "{}", out.message);
    assert!(!out.message.contains("sk-test-123"), "{}", out.message);
    let out = run(
        r#"{"provider":"openai","messages":[],"base_url":"http://sk-test-123.invalid","proxy":"","max_retries":0,"api_key":"sk-test-123"}"#,
    );
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT);
    assert!(!out.message.contains("sk-test-123"), "{}", out.message);
    assert!(out.message.contains("***"), "{}", out.message);
}

#[test]
fn non_streaming_answer_is_one_chunk() {
    let server = Server::start().unwrap();
    let out = run(&openai(&server.base_url(), HI, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.chunks, vec!["You said: Hi"]);
}

#[test]
fn streaming_answer_arrives_word_by_word() {
    let server = Server::start().unwrap();
    let messages = r#"[{"role":"user","content":"one two three"}]"#;
    let out = run(&openai(&server.base_url(), messages, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.chunks, vec!["You ", "said: ", "one ", "two ", "three"]);
}

#[test]
fn usage_chunk_is_skipped() {
    let server = Server::start().unwrap();
    let out =
        run(&openai(&server.base_url(), HI, r#""stream":true,"extra_body":{"stream_options":{"include_usage":true}}"#));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text(), "You said: Hi");
}

#[test]
fn many_chunks_arrive_in_order() {
    let server = Server::start().unwrap();
    let out = run(&openai(&server.fault_url("chunks=5000"), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.chunks.len(), 5000);
    assert!(out.chunks.iter().enumerate().all(|(i, c)| *c == format!("tok{i} ")));
}

#[test]
fn chunks_are_delivered_as_they_arrive() {
    let server = Server::start().unwrap();
    // 5 chunks 150 ms apart: the first must reach the callback long before the last is sent.
    let client = ClientHandle::new(None);
    let req = openai(&server.fault_url("chunks=5,interval=150"), HI, r#""stream":true"#);
    let started = Instant::now();
    let first_at = std::sync::Mutex::new(None);
    struct Ctx<'a> {
        started: Instant,
        first_at: &'a std::sync::Mutex<Option<Duration>>,
    }
    unsafe extern "C" fn on_chunk(_: *const std::ffi::c_char, _: usize, user_data: *mut std::ffi::c_void) -> i32 {
        let ctx = unsafe { &*(user_data as *const Ctx) };
        ctx.first_at.lock().unwrap().get_or_insert(ctx.started.elapsed());
        0
    }
    let ctx = Ctx { started, first_at: &first_at };
    let request = std::ffi::CString::new(req).unwrap();
    let status = unsafe {
        aichat_client_create_completion(
            client.0,
            request.as_ptr(),
            Some(on_chunk),
            &ctx as *const Ctx as *mut _,
            std::ptr::null(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(status, AichatStatus::AICHAT_OK);
    let total = started.elapsed();
    let first = first_at.lock().unwrap().unwrap();
    assert!(total >= Duration::from_millis(600), "{total:?}");
    assert!(first + Duration::from_millis(400) < total, "first chunk at {first:?} of {total:?}");
}

#[test]
fn keepalive_comments_and_line_endings_do_not_matter() {
    let server = Server::start().unwrap();
    for spec in ["keepalive", "crlf", "cr", "keepalive,crlf", "keepalive,cr"] {
        let out = run(&openai(&server.fault_url(spec), HI, r#""stream":true"#));
        assert_eq!(out.status, AichatStatus::AICHAT_OK, "{spec}: {}", out.message);
        assert_eq!(out.chunks, vec!["You ", "said: ", "Hi"], "{spec}");
    }
}

#[test]
fn utf8_split_across_writes_arrives_whole() {
    let server = Server::start().unwrap();
    let messages = r#"[{"role":"user","content":"héllo wörld 👋 日本"}]"#;
    let out = run(&openai(&server.fault_url("split-utf8"), messages, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.chunks, vec!["You ", "said: ", "héllo ", "wörld ", "👋 ", "日本"]);
}

#[test]
fn error_event_mid_stream_is_a_server_error_after_the_chunks_before_it() {
    let server = Server::start().unwrap();
    let out = run(&openai(&server.fault_url("error-event"), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_SERVER);
    assert_eq!(out.message, "the server reported an error mid-stream: test server: injected stream error");
    assert_eq!(out.chunks, vec!["You "]);
    assert_eq!(out.http_status, 200);
}

#[test]
fn stream_cut_before_done_is_a_protocol_error_after_the_chunks_that_arrived() {
    let server = Server::start().unwrap();
    let out = run(&openai(&server.fault_url("chunks=10,cut"), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL);
    assert!(out.message.contains("ended before `data: [DONE]`"), "{}", out.message);
    assert_eq!(out.chunks, (0..5).map(|i| format!("tok{i} ")).collect::<Vec<_>>());
}

#[test]
fn silence_mid_stream_hits_the_idle_timeout_after_the_chunks_that_arrived() {
    let server = Server::start().unwrap();
    let out =
        run(&openai(&server.fault_url("chunks=10,silence-after=3"), HI, r#""stream":true,"idle_timeout_ms":300"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_TIMEOUT, "{}", out.message);
    assert_eq!(out.chunks.len(), 3);
}

#[test]
fn long_healthy_stream_is_not_cut_by_the_idle_timeout() {
    let server = Server::start().unwrap();
    // 8 chunks 100 ms apart: 800 ms in all, each gap well inside a 400 ms idle timeout.
    let out = run(&openai(&server.fault_url("chunks=8,interval=100"), HI, r#""stream":true,"idle_timeout_ms":400"#));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.chunks.len(), 8);
}

#[test]
fn http_error_carries_the_server_error_message() {
    let server = Server::start().unwrap();
    let out = run(&openai(&server.fault_url("status=400"), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS);
    assert_eq!(out.http_status, 400);
    assert!(out.message.ends_with(": test server: injected HTTP 400"), "{}", out.message);
}

#[test]
fn non_json_answer_is_a_protocol_error() {
    let server = Server::start().unwrap();
    let out = run(&openai(&server.fault_url("not-json"), HI, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL);
}

#[test]
fn stopping_mid_stream_delivers_no_more_chunks() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let out =
        complete_with(Some(&client), &openai(&server.fault_url("chunks=1000"), HI, r#""stream":true"#), None, Some(3));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CANCELLED);
    assert_eq!(out.chunks.len(), 3);
    let out = complete(&client, &openai(&server.base_url(), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "the client works after a stop");
}

#[test]
fn event_over_the_size_cap_is_a_protocol_error() {
    let server = Server::start().unwrap();
    // One event carries the whole 1.1 MB answer: over the 1 MiB cap on an SSE event.
    let out = run(&openai(&server.fault_url("size=1100000"), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{}", out.message);
    assert!(out.message.contains("over 1048576 bytes"), "{}", out.message);
    // Under the cap, the same event is fine.
    let out = run(&openai(&server.fault_url("size=1000000"), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text().len(), 1_000_000);
}

#[test]
fn stream_over_max_response_bytes_is_too_large() {
    let server = Server::start().unwrap();
    let out = run(&openai(&server.fault_url("chunks=1000"), HI, r#""stream":true,"max_response_bytes":20000"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_TOO_LARGE, "{}", out.message);
}

#[test]
fn aichat_provider_rejects_openai_only_fields() {
    let server = Server::start().unwrap();
    let out = run(&request(&server.base_url(), HI, r#""max_tokens":5"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert_eq!(out.message, "invalid request: `max_tokens` is not supported by the aichat provider");
    let out = run(&request(&server.base_url(), HI, r#""extra_body":{"stop":"x"}"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
}

#[test]
fn an_answer_of_another_media_type_is_read_as_what_was_asked() {
    let server = Server::start().unwrap();
    for media in ["text%2Fplain", "none", "application%2Foctet-stream"] {
        let streamed = run(&openai(&server.fault_url(&format!("content-type={media}")), HI, r#""stream":true"#));
        assert_eq!(streamed.status, AichatStatus::AICHAT_OK, "{media}: {}", streamed.message);
        assert_eq!(streamed.text(), "You said: Hi", "{media}");
        assert!(streamed.chunks.len() > 1, "{media}: read as SSE, piece by piece");
        let whole = run(&openai(&server.fault_url(&format!("content-type={media}")), HI, ""));
        assert_eq!(whole.status, AichatStatus::AICHAT_OK, "{media}: {}", whole.message);
        assert_eq!(whole.text(), "You said: Hi", "{media}");
    }
}

#[test]
fn secret_headers_and_proxy_passwords_never_appear_in_a_message() {
    let server = Server::start().unwrap();
    // A server whose error text quotes the request, headers included.
    let out = run(&openai(
        &server.fault_url("status=401,echo"),
        HI,
        r#""headers":{"X-Api-Key":"hdr-secret-123","Authorization":"Bearer tok-secret-456","Cookie":"session=c-secret-789"}"#,
    ));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS);
    for secret in ["hdr-secret-123", "tok-secret-456", "c-secret-789"] {
        assert!(!out.message.contains(secret), "{secret} in {}", out.message);
    }
    assert!(out.message.contains("***"), "{}", out.message);
    let out = run(
        r#"{"provider":"openai","messages":[],"base_url":"http://127.0.0.1:9/v1","proxy":"http://user:proxy-pw-789@127.0.0.1:1","max_retries":0}"#,
    );
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT, "{}", out.message);
    assert!(!out.message.contains("proxy-pw-789"), "{}", out.message);
}

#[test]
fn a_key_is_masked_before_the_server_text_is_cut() {
    let server = Server::start().unwrap();
    let key = "sk-abcdefghijklmnopqrstuvwxyz0123456789";
    // The server quotes the body before the headers: padding in the message moves the key's
    // place in its text across the 512-byte cut.
    for pad in (0..400).step_by(3) {
        let messages = format!(r#"[{{"role":"user","content":"{}"}}]"#, "p".repeat(pad));
        let out = run(&openai(&server.fault_url("status=401,echo"), &messages, &format!(r#""api_key":"{key}""#)));
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS);
        assert!(!out.message.contains(&key[..6]), "padding {pad}: {}", out.message);
    }
}

#[test]
fn a_base_url_with_a_password_is_refused_and_not_shown() {
    let out = run(r#"{"provider":"openai","messages":[],"base_url":"https://me:url-pw-123@api.example/v1"}"#);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(out.message.contains("must not hold a user name or password"), "{}", out.message);
    assert!(!out.message.contains("url-pw-123"), "{}", out.message);
}

#[test]
fn bidi_overrides_in_server_text_are_neutralised() {
    let server = Server::start().unwrap();
    let out =
        run(&openai(&server.fault_url("status=400,echo"), r#"[{"role":"user","content":"a\u202eb\u2066c"}]"#, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS);
    assert!(out.message.contains("a b c"), "{}", out.message);
    assert!(!out.message.contains(['\u{202e}', '\u{2066}']), "{}", out.message);
}
