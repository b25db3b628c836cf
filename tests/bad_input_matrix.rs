//! The bad-input matrix through the C ABI, table-driven: every exported function with NULL for
//! each pointer argument, every request field with a value of the wrong shape or out of range.
//! Each case gets its documented status and a message; none crashes or hangs.

mod common;
use common::*;
use std::ffi::{CStr, CString, c_char, c_int};
use std::ptr;

/// Runs a request on a fresh client; returns (status, message).
fn try_request(json: &str) -> (AichatStatus, String) {
    let client = ClientHandle::new(None);
    let json = CString::new(json).unwrap();
    let mut error = ptr::null_mut();
    let status = unsafe {
        aichat_client_create_completion(
            client.0,
            json.as_ptr(),
            Some(collect_nothing),
            ptr::null_mut(),
            ptr::null(),
            &mut error,
        )
    };
    let message = unsafe { message_of(error) };
    unsafe { aichat_error_free(error) };
    (status, message)
}

unsafe extern "C" fn collect_nothing(_: *const c_char, _: usize, _: *mut std::ffi::c_void) -> c_int {
    0
}

fn try_options(json: &str) -> (AichatStatus, String) {
    let json = CString::new(json).unwrap();
    let mut error = ptr::null_mut();
    let client = unsafe { aichat_client_new(json.as_ptr(), &mut error) };
    let out = if client.is_null() {
        (unsafe { aichat_error_code(error) }, unsafe { message_of(error) })
    } else {
        (AichatStatus::AICHAT_OK, String::new())
    };
    unsafe {
        aichat_client_free(client);
        aichat_error_free(error);
    }
    out
}

const INVALID_ARGUMENT: AichatStatus = AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT;
const INVALID_REQUEST: AichatStatus = AichatStatus::AICHAT_ERROR_INVALID_REQUEST;

#[test]
fn null_for_each_pointer_argument_of_every_function() {
    let client = ClientHandle::new(None);
    let cb = Some(collect_nothing as unsafe extern "C" fn(*const c_char, usize, *mut std::ffi::c_void) -> c_int);
    let json = c"[]".as_ptr();
    let mut error: *mut AichatError = ptr::null_mut();
    let e = &mut error as *mut *mut AichatError;
    type Case = (&'static str, Box<dyn Fn() -> AichatStatus>);
    let cases: Vec<Case> = vec![
        (
            "aichat_create_completion(request_json = NULL)",
            Box::new(move || unsafe { aichat_create_completion(ptr::null(), cb, ptr::null_mut(), e) }),
        ),
        (
            "aichat_create_completion(on_chunk = NULL)",
            Box::new(move || unsafe { aichat_create_completion(json, None, ptr::null_mut(), e) }),
        ),
        (
            "aichat_client_create_completion(client = NULL)",
            Box::new(move || unsafe {
                aichat_client_create_completion(ptr::null(), json, cb, ptr::null_mut(), ptr::null(), e)
            }),
        ),
        (
            "aichat_client_create_completion(request_json = NULL)",
            Box::new({
                let c = client.0;
                move || unsafe { aichat_client_create_completion(c, ptr::null(), cb, ptr::null_mut(), ptr::null(), e) }
            }),
        ),
        (
            "aichat_client_create_completion(on_chunk = NULL)",
            Box::new({
                let c = client.0;
                move || unsafe { aichat_client_create_completion(c, json, None, ptr::null_mut(), ptr::null(), e) }
            }),
        ),
        (
            "aichat_stream_next(stream = NULL)",
            Box::new(move || unsafe { aichat_stream_next(ptr::null_mut(), 0, ptr::null_mut(), e) }),
        ),
        ("aichat_error_code(error = NULL)", Box::new(|| unsafe { aichat_error_code(ptr::null()) })),
    ];
    for (name, call) in cases {
        assert_eq!(call(), INVALID_ARGUMENT, "{name}");
        if !error.is_null() {
            let message = unsafe { message_of(error) };
            assert!(message.ends_with("is NULL"), "{name}: {message}");
            unsafe { aichat_error_free(error) };
            error = ptr::null_mut();
        }
    }
    // Constructors return NULL with the error set.
    let s = unsafe { aichat_client_stream_open(ptr::null(), json, ptr::null(), &mut error) };
    assert!(s.is_null());
    assert_eq!(unsafe { message_of(error) }, "`client` is NULL");
    unsafe { aichat_error_free(error) };
    let s = unsafe { aichat_client_stream_open(client.0, ptr::null(), ptr::null(), ptr::null_mut()) };
    assert!(s.is_null());
    // NULL where NULL is allowed: no crash, the documented neutral result.
    unsafe {
        aichat_client_free(ptr::null_mut());
        aichat_cancel_free(ptr::null_mut());
        aichat_cancel_trigger(ptr::null());
        aichat_error_free(ptr::null_mut());
        aichat_stream_free(ptr::null_mut());
        assert_eq!(CStr::from_ptr(aichat_error_message(ptr::null())).to_bytes(), b"");
        assert_eq!(aichat_error_http_status(ptr::null()), 0);
        let c = aichat_client_new(ptr::null(), ptr::null_mut());
        assert!(!c.is_null());
        aichat_client_free(c);
    }
}

#[test]
fn status_name_of_any_int() {
    for status in [-1, 12, 100, c_int::MIN, c_int::MAX] {
        assert_eq!(
            unsafe { CStr::from_ptr(aichat_status_name(status)) }.to_str().unwrap(),
            "AICHAT_UNKNOWN",
            "{status}"
        );
    }
    for status in 0..=11 {
        let name = unsafe { CStr::from_ptr(aichat_status_name(status)) }.to_str().unwrap();
        assert!(name.starts_with("AICHAT_") && name != "AICHAT_UNKNOWN");
    }
    assert_eq!(unsafe { CStr::from_ptr(aichat_version()) }.to_str().unwrap(), "0.1.0");
}

#[test]
fn cancel_tokens_tolerate_repeats() {
    let cancel = aichat_cancel_new();
    unsafe {
        aichat_cancel_trigger(cancel);
        aichat_cancel_trigger(cancel);
        aichat_cancel_trigger(cancel);
        aichat_cancel_free(cancel);
    }
}

/// Every field, each with values of the wrong shape: the message names the field. (`null` is
/// not among them: it means "not set", as OpenAI's own clients send it.)
#[test]
fn wrong_shape_for_every_field() {
    let wrong: &[(&str, &[&str])] = &[
        (
            "messages",
            &[
                "{}",
                "\"hi\"",
                "[1]",
                "[{\"role\":\"user\"}]",
                "[{\"role\":\"user\",\"content\":1}]",
                "[{\"role\":null,\"content\":\"x\"}]",
                "null",
            ],
        ),
        ("model", &["1", "[]", "{}", "true"]),
        ("stream", &["\"yes\"", "1"]),
        ("temperature", &["\"hot\"", "[]", "true", "1e400"]),
        ("top_p", &["\"x\"", "{}", "-1e999"]),
        ("presence_penalty", &["\"x\""]),
        ("frequency_penalty", &["[0]"]),
        ("provider", &["1", "\"bard\"", "\"\""]),
        ("base_url", &["1", "\"\"", "\"ftp://x\"", "\"http://\"", "\"http://h/?q=1\""]),
        (
            "headers",
            &["[]", "\"x\"", "{\"a\":1}", "{\"a\":\"b\\r\\nc: d\"}", "{\"bad name\":\"v\"}", "{\"a\":\"\\u0000\"}"],
        ),
        ("proxy", &["1", "\"::not a url\""]),
        ("connect_timeout_ms", &["-1", "0", "1.5", "\"10\"", "18446744073709551616"]),
        ("idle_timeout_ms", &["-5", "0", "1e3"]),
        ("timeout_ms", &["0", "true"]),
        ("max_response_bytes", &["0", "-1", "99999999999999999999999"]),
        ("api_key", &["1", "\"\"", "\"a\\nb\""]),
        ("max_tokens", &["-1", "\"5\"", "1.5"]),
        ("extra_body", &["[]", "1", "\"x\""]),
        ("max_retries", &["-1", "4294967296", "\"2\""]),
        ("ca_file", &["1", "\"\""]),
    ];
    for (field, values) in wrong {
        for value in *values {
            let json = if *field == "messages" {
                format!(r#"{{"messages":{value}}}"#)
            } else {
                format!(r#"{{"messages":[],"provider":"openai","{field}":{value}}}"#)
                    .replace(r#""provider":"openai","provider""#, r#""provider""#)
            };
            let (status, message) = try_request(&json);
            assert_eq!(status, INVALID_REQUEST, "{field} = {value}: {message}");
            assert!(message.contains(field), "{field} = {value}: message does not name the field: {message}");
            if *field != "messages" {
                let (status, message) = try_options(&format!(r#"{{"{field}":{value}}}"#));
                assert_eq!(status, INVALID_REQUEST, "options {field} = {value}: {message}");
            }
        }
    }
}

#[test]
fn null_means_not_set() {
    let (status, message) = try_options(r#"{"stream":null,"timeout_ms":null,"headers":null,"model":null}"#);
    assert_eq!(status, AichatStatus::AICHAT_OK, "{message}");
}

#[test]
fn a_hundred_megabyte_request_is_refused_cleanly() {
    let big = format!(r#"[{{"role":"user","content":"{}"}}]"#, "a".repeat(100 * 1024 * 1024));
    let (status, message) = try_request(&big);
    assert_eq!(status, INVALID_REQUEST);
    assert!(message.contains("byte limit"), "{message}");
}

#[test]
fn deeply_nested_json_in_every_container_field() {
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let deep_obj = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    for json in [
        deep.clone(),
        format!(r#"{{"messages":{deep}}}"#),
        format!(r#"{{"messages":[],"headers":{deep_obj}}}"#),
        format!(r#"{{"messages":[],"provider":"openai","extra_body":{deep_obj}}}"#),
        format!(r#"{{"messages":[{{"role":{deep},"content":"x"}}]}}"#),
    ] {
        let (status, message) = try_request(&json);
        assert_eq!(status, INVALID_REQUEST, "{message}");
    }
}

#[test]
fn invalid_utf8_anywhere_is_invalid_argument() {
    let client = ClientHandle::new(None);
    for bytes in
        [&b"\xff"[..], b"[{\"role\":\"\xc0\x80\",\"content\":\"x\"}]", b"{\"messages\":[],\"model\":\"\xed\xa0\x80\"}"]
    {
        let mut with_nul = bytes.to_vec();
        with_nul.push(0);
        let mut error = ptr::null_mut();
        let status = unsafe {
            aichat_client_create_completion(
                client.0,
                with_nul.as_ptr().cast(),
                Some(collect_nothing),
                ptr::null_mut(),
                ptr::null(),
                &mut error,
            )
        };
        assert_eq!(status, INVALID_ARGUMENT);
        assert!(unsafe { message_of(error) }.contains("not valid UTF-8"));
        unsafe { aichat_error_free(error) };
    }
}
