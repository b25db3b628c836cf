//! Bad input through the C ABI: every pointer argument NULL, malformed JSON, invalid UTF-8,
//! unknown fields. Each gets its documented status and a message, never a crash.

mod common;
use common::*;
use std::ffi::{CStr, c_char};
use std::ptr;

fn status_of_json(json: &[u8]) -> Outcome {
    // Raw bytes, so invalid UTF-8 can be passed; NUL-terminated here.
    let mut bytes = json.to_vec();
    bytes.push(0);
    let client = ClientHandle::new(None);
    let mut collector = Collector { chunks: Vec::new(), stop_after: None };
    let mut error = ptr::null_mut();
    let status = unsafe {
        aichat_client_create_completion(
            client.0,
            bytes.as_ptr() as *const c_char,
            Some(collect),
            &mut collector as *mut Collector as *mut _,
            ptr::null(),
            &mut error,
        )
    };
    let message = unsafe { message_of(error) };
    unsafe { aichat_error_free(error) };
    Outcome { status, chunks: collector.chunks, message, http_status: 0 }
}

#[test]
fn null_client_is_invalid_argument() {
    let mut error = ptr::null_mut();
    let status = unsafe {
        aichat_client_create_completion(
            ptr::null(),
            c"[]".as_ptr(),
            Some(collect),
            ptr::null_mut(),
            ptr::null(),
            &mut error,
        )
    };
    assert_eq!(status, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
    assert_eq!(unsafe { message_of(error) }, "`client` is NULL");
    unsafe { aichat_error_free(error) };
}

#[test]
fn null_request_is_invalid_argument() {
    let client = ClientHandle::new(None);
    let mut error = ptr::null_mut();
    let status = unsafe {
        aichat_client_create_completion(client.0, ptr::null(), Some(collect), ptr::null_mut(), ptr::null(), &mut error)
    };
    assert_eq!(status, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
    assert_eq!(unsafe { message_of(error) }, "`request_json` is NULL");
    unsafe { aichat_error_free(error) };
    let status = unsafe { aichat_create_completion(ptr::null(), Some(collect), ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(status, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
}

#[test]
fn null_callback_is_invalid_argument() {
    let client = ClientHandle::new(None);
    let mut error = ptr::null_mut();
    let status = unsafe {
        aichat_client_create_completion(client.0, c"[]".as_ptr(), None, ptr::null_mut(), ptr::null(), &mut error)
    };
    assert_eq!(status, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
    assert_eq!(unsafe { message_of(error) }, "`on_chunk` is NULL");
    unsafe { aichat_error_free(error) };
    let status = unsafe { aichat_create_completion(c"[]".as_ptr(), None, ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(status, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
}

#[test]
fn null_error_out_is_allowed() {
    let client = ClientHandle::new(None);
    let status = unsafe {
        aichat_client_create_completion(
            client.0,
            c"{".as_ptr(),
            Some(collect),
            ptr::null_mut(),
            ptr::null(),
            ptr::null_mut(),
        )
    };
    assert_eq!(status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
}

#[test]
fn null_options_give_a_default_client_and_null_error_out_is_allowed() {
    let client = unsafe { aichat_client_new(ptr::null(), ptr::null_mut()) };
    assert!(!client.is_null());
    unsafe { aichat_client_free(client) };
}

#[test]
fn bad_options_give_null_and_an_error() {
    let mut error = ptr::null_mut();
    let client = unsafe { aichat_client_new(c"{\"modle\":\"x\"}".as_ptr(), &mut error) };
    assert!(client.is_null());
    assert_eq!(unsafe { aichat_error_code(error) }, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(unsafe { message_of(error) }.contains("unknown field `modle`"));
    unsafe { aichat_error_free(error) };
    let client = unsafe { aichat_client_new(c"{\"messages\":[]}".as_ptr(), ptr::null_mut()) };
    assert!(client.is_null());
    let client = unsafe { aichat_client_new(c"{\"model\":\"\xff\"}".as_ptr(), &mut error) };
    assert!(client.is_null());
    assert_eq!(unsafe { aichat_error_code(error) }, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
    assert_eq!(unsafe { message_of(error) }, "`options_json` is not valid UTF-8 (bad byte at offset 10)");
    unsafe { aichat_error_free(error) };
}

#[test]
fn null_handles_are_accepted_by_free_and_accessors() {
    unsafe {
        aichat_client_free(ptr::null_mut());
        aichat_cancel_free(ptr::null_mut());
        aichat_error_free(ptr::null_mut());
        aichat_cancel_trigger(ptr::null());
        assert_eq!(aichat_error_code(ptr::null()), AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
        assert_eq!(CStr::from_ptr(aichat_error_message(ptr::null())).to_bytes(), b"");
        assert_eq!(aichat_error_http_status(ptr::null()), 0);
    }
}

#[test]
fn cancel_trigger_twice_is_harmless() {
    let cancel = CancelHandle::new();
    unsafe {
        aichat_cancel_trigger(cancel.0);
        aichat_cancel_trigger(cancel.0);
    }
}

#[test]
fn malformed_json_is_invalid_request() {
    for json in [&b"{"[..], b"", b"nul", b"[{\"role\":\"user\"}]", b"{\"messages\":[]} x"] {
        let out = status_of_json(json);
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST, "{:?}", String::from_utf8_lossy(json));
        assert!(out.message.starts_with("invalid request: "), "{}", out.message);
    }
}

#[test]
fn invalid_utf8_is_invalid_argument() {
    let out = status_of_json(b"[{\"role\":\"user\",\"content\":\"\xc3\x28\"}]");
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
    assert_eq!(out.message, "`request_json` is not valid UTF-8 (bad byte at offset 27)");
}

#[test]
fn unknown_field_is_invalid_request_naming_it() {
    let out = status_of_json(br#"{"messages":[],"temprature":1}"#);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(out.message.contains("unknown field `temprature`"), "{}", out.message);
}

#[test]
fn wrong_types_name_the_field() {
    for (json, field) in [
        (&br#"{"messages":[{"role":1,"content":"x"}]}"#[..], "`messages[0].role`"),
        (br#"{"messages":"hi"}"#, "`messages`"),
        (br#"{"messages":[],"stream":"yes"}"#, "`stream`"),
        (br#"{"messages":[],"headers":{"a":1}}"#, "`headers.a`"),
        (br#"{"messages":[],"connect_timeout_ms":1.5}"#, "`connect_timeout_ms`"),
    ] {
        let out = status_of_json(json);
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
        assert!(out.message.contains(field), "{field}: {}", out.message);
    }
}

#[test]
fn missing_messages_is_invalid_request() {
    let out = status_of_json(br#"{"model":"x"}"#);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert_eq!(out.message, "invalid request: missing field `messages`");
}

#[test]
fn unknown_provider_is_invalid_request() {
    let out = status_of_json(br#"{"messages":[],"provider":"bard"}"#);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(out.message.contains("accepted values: aichat"), "{}", out.message);
}

#[test]
fn header_value_with_crlf_is_invalid_request() {
    let out = status_of_json(br#"{"messages":[],"headers":{"x-a":"1\r\nevil: 1"}}"#);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
}

#[test]
fn deeply_nested_json_is_refused_without_overflow() {
    let deep = format!(r#"{{"messages":[],"headers":{}{}}}"#, "[".repeat(1_000_000), "]".repeat(1_000_000));
    let out = status_of_json(deep.as_bytes());
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
}

#[test]
fn oversized_request_is_invalid_request() {
    let big = format!(r#"[{{"role":"user","content":"{}"}}]"#, "a".repeat(65 * 1024 * 1024));
    let out = status_of_json(big.as_bytes());
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(out.message.contains("byte limit"), "{}", out.message);
}

#[test]
fn unreachable_server_does_not_call_back() {
    // Invalid input is refused before any network work: nothing reaches the callback.
    let out = status_of_json(br#"{"messages":[],"base_url":"mailto:x"}"#);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(out.chunks.is_empty());
}
