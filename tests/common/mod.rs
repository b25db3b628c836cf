//! Helpers for the integration tests: they drive the library only through its exported
//! `extern "C"` functions, as a C program would.
#![allow(dead_code, unused_imports)]

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::ptr;

pub use aichat::ffi::*;
pub use aichat_testserver::Server;

/// What one call produced.
#[derive(Debug)]
pub struct Outcome {
    pub status: AichatStatus,
    pub chunks: Vec<String>,
    pub message: String,
    pub http_status: u16,
}

impl Outcome {
    pub fn text(&self) -> String {
        self.chunks.concat()
    }
}

/// Collects chunks; `stop_after` makes the callback return non-zero after that many.
pub struct Collector {
    pub chunks: Vec<String>,
    pub stop_after: Option<usize>,
}

pub unsafe extern "C" fn collect(chunk: *const c_char, len: usize, user_data: *mut c_void) -> c_int {
    let c = unsafe { &mut *(user_data as *mut Collector) };
    let with_nul = unsafe { std::slice::from_raw_parts(chunk as *const u8, len + 1) };
    assert_eq!(with_nul[len], 0, "chunk is NUL-terminated");
    assert!(len > 0, "chunks are never empty");
    c.chunks.push(std::str::from_utf8(&with_nul[..len]).expect("chunk is UTF-8").to_string());
    match c.stop_after {
        Some(n) if c.chunks.len() >= n => 1,
        _ => 0,
    }
}

/// An owned client handle, freed on drop.
pub struct ClientHandle(pub *mut AichatClient);
unsafe impl Send for ClientHandle {}
unsafe impl Sync for ClientHandle {}

impl ClientHandle {
    pub fn new(options: Option<&str>) -> ClientHandle {
        let options = options.map(|o| CString::new(o).unwrap());
        let mut error = ptr::null_mut();
        let client = unsafe { aichat_client_new(options.as_ref().map_or(ptr::null(), |o| o.as_ptr()), &mut error) };
        assert!(!client.is_null(), "client: {}", unsafe { message_of(error) });
        assert!(error.is_null());
        ClientHandle(client)
    }
}

impl Drop for ClientHandle {
    fn drop(&mut self) {
        unsafe { aichat_client_free(self.0) }
    }
}

/// An owned cancel token, freed on drop.
pub struct CancelHandle(pub *mut AichatCancel);
unsafe impl Send for CancelHandle {}
unsafe impl Sync for CancelHandle {}

impl CancelHandle {
    pub fn new() -> CancelHandle {
        CancelHandle(aichat_cancel_new())
    }
}

impl Drop for CancelHandle {
    fn drop(&mut self) {
        unsafe { aichat_cancel_free(self.0) }
    }
}

pub unsafe fn message_of(error: *const AichatError) -> String {
    unsafe { CStr::from_ptr(aichat_error_message(error)) }.to_str().unwrap().to_string()
}

/// Turns an error out-parameter into the outcome's fields and frees it.
fn outcome(status: AichatStatus, chunks: Vec<String>, error: *mut AichatError) -> Outcome {
    if status == AichatStatus::AICHAT_OK {
        assert!(error.is_null(), "success leaves *error NULL");
    } else {
        assert!(!error.is_null(), "failure sets *error");
        assert_eq!(unsafe { aichat_error_code(error) }, status);
    }
    let out = Outcome {
        status,
        chunks,
        message: if error.is_null() { String::new() } else { unsafe { message_of(error) } },
        http_status: unsafe { aichat_error_http_status(error) },
    };
    unsafe { aichat_error_free(error) };
    out
}

/// Runs `request` on `client` (or the default client when `None`).
pub fn complete_with(
    client: Option<&ClientHandle>,
    request: &str,
    cancel: Option<&CancelHandle>,
    stop_after: Option<usize>,
) -> Outcome {
    let request = CString::new(request).unwrap();
    let mut collector = Collector { chunks: Vec::new(), stop_after };
    // Start from a non-NULL garbage value: the library must overwrite it on success too.
    let mut error: *mut AichatError = ptr::dangling_mut();
    let user_data = &mut collector as *mut Collector as *mut c_void;
    let status = unsafe {
        match client {
            Some(c) => aichat_client_create_completion(
                c.0,
                request.as_ptr(),
                Some(collect),
                user_data,
                cancel.map_or(ptr::null(), |c| c.0),
                &mut error,
            ),
            None => aichat_create_completion(request.as_ptr(), Some(collect), user_data, &mut error),
        }
    };
    outcome(status, collector.chunks, error)
}

pub fn complete(client: &ClientHandle, request: &str) -> Outcome {
    complete_with(Some(client), request, None, None)
}

/// `extra` as the further fields of a JSON object: after a comma, or nothing.
pub fn and(extra: &str) -> String {
    if extra.is_empty() { String::new() } else { format!(",{extra}") }
}

/// A request object for `base_url` with the given messages JSON and extra fields.
pub fn request(base_url: &str, messages: &str, extra: &str) -> String {
    format!(r#"{{"messages":{messages},"base_url":"{base_url}","proxy":""{}}}"#, and(extra))
}

/// A request for `provider`'s `model` at `base_url`, with no proxy and no retry, with the given
/// messages JSON and extra fields.
pub fn protocol_request(provider: &str, model: &str, base_url: &str, messages: &str, extra: &str) -> String {
    format!(
        r#"{{"provider":"{provider}","model":"{model}","messages":{messages},"base_url":"{base_url}","proxy":"","max_retries":0{}}}"#,
        and(extra)
    )
}

pub const HI: &str = r#"[{"role":"user","content":"Hi"}]"#;

/// An event as the C callback or a pull saw it, copied out.
#[derive(Debug, Clone, PartialEq)]
pub struct Ev {
    pub kind: AichatEventKind,
    pub choice: u32,
    pub index: u32,
    pub text: String,
    pub id: String,
    pub name: String,
    pub usage: Option<AichatUsage>,
    /// RESULT only: `aichat_event_result`'s typed view, written as RESULT's JSON would be.
    pub result: Option<serde_json::Value>,
}

/// Copies a C event out, checking what every event promises: strings never NULL,
/// NUL-terminated, UTF-8, `text_len` exact, `usage` only on USAGE and RESULT, a typed result
/// on RESULT only.
pub unsafe fn copy_event(e: *const AichatEvent) -> Ev {
    let e = unsafe { &*e };
    let string = |p: *const c_char| {
        assert!(!p.is_null(), "event strings are never NULL");
        unsafe { CStr::from_ptr(p) }.to_str().expect("event strings are UTF-8").to_string()
    };
    let text = string(e.text);
    assert_eq!(text.len(), e.text_len, "text_len is the length before the NUL");
    let is_result = e.kind == AichatEventKind::AICHAT_EVENT_RESULT;
    assert_eq!(
        e.usage.is_null(),
        e.kind != AichatEventKind::AICHAT_EVENT_USAGE && !is_result,
        "usage on USAGE, RESULT"
    );
    // A copy of the event leads to the same view.
    let copy = *e;
    let typed = unsafe { aichat_event_result(&copy) };
    assert_eq!(typed.is_null(), !is_result, "a typed result for RESULT only");
    Ev {
        kind: e.kind,
        choice: e.choice,
        index: e.index,
        text,
        id: string(e.id),
        name: string(e.name),
        usage: unsafe { e.usage.as_ref() }.copied(),
        result: unsafe { typed.as_ref() }.map(|r| unsafe { typed_result(r) }),
    }
}

/// `aichat_event_result`'s view as RESULT's JSON: "" finish reasons are null there, and -1
/// counts too; every string is checked as event strings are.
pub unsafe fn typed_result(r: &AichatResult) -> serde_json::Value {
    use serde_json::{Value, json};
    let s = |p: *const c_char| {
        assert!(!p.is_null(), "result strings are never NULL");
        unsafe { CStr::from_ptr(p) }.to_str().expect("UTF-8").to_string()
    };
    let sized = |p: *const c_char, len: usize| {
        let all = s(p);
        assert_eq!(all.len(), len, "a length is the length before the NUL");
        all
    };
    let or_null = |v: String| if v.is_empty() { Value::Null } else { Value::String(v) };
    let count = |n: i64| if n < 0 { Value::Null } else { json!(n) };
    let choices = unsafe { std::slice::from_raw_parts(r.choices, r.choice_count) };
    let choices: Vec<Value> = choices
        .iter()
        .map(|c| {
            let calls = if c.tool_call_count == 0 {
                assert!(c.tool_calls.is_null());
                &[][..]
            } else {
                unsafe { std::slice::from_raw_parts(c.tool_calls, c.tool_call_count) }
            };
            let calls: Vec<Value> = calls
                .iter()
                .map(|t| {
                    json!({"id": s(t.id), "type": "function",
                           "function": {"name": s(t.name), "arguments": sized(t.arguments, t.arguments_len)}})
                })
                .collect();
            let message: Value = serde_json::from_str(&sized(c.message, c.message_len)).expect("message is JSON");
            json!({"index": c.index, "text": sized(c.text, c.text_len), "reasoning": sized(c.reasoning, c.reasoning_len),
                   "refusal": sized(c.refusal, c.refusal_len), "tool_calls": calls,
                   "finish_reason": or_null(s(c.finish_reason)), "finish_reason_raw": or_null(s(c.finish_reason_raw)),
                   "message": message})
        })
        .collect();
    let usage = unsafe { r.usage.as_ref() }.map_or(Value::Null, |u| {
        json!({"prompt_tokens": count(u.prompt_tokens), "completion_tokens": count(u.completion_tokens),
               "total_tokens": count(u.total_tokens), "cached_tokens": count(u.cached_tokens),
               "reasoning_tokens": count(u.reasoning_tokens)})
    });
    json!({"id": s(r.id), "model": s(r.model), "request_id": s(r.request_id), "choices": choices, "usage": usage})
}

pub struct EventCollector {
    pub events: Vec<Ev>,
    pub stop_after: Option<usize>,
}

pub unsafe extern "C" fn collect_event(event: *const AichatEvent, user_data: *mut c_void) -> c_int {
    let c = unsafe { &mut *(user_data as *mut EventCollector) };
    c.events.push(unsafe { copy_event(event) });
    match c.stop_after {
        Some(n) if c.events.len() >= n => 1,
        _ => 0,
    }
}

/// What an event call produced.
#[derive(Debug)]
pub struct EventOutcome {
    pub status: AichatStatus,
    pub events: Vec<Ev>,
    pub message: String,
}

impl EventOutcome {
    pub fn of_kind(&self, kind: AichatEventKind) -> Vec<&Ev> {
        self.events.iter().filter(|e| e.kind == kind).collect()
    }

    /// The concatenated text of the events of `kind` for choice 0.
    pub fn joined(&self, kind: AichatEventKind) -> String {
        self.events.iter().filter(|e| e.kind == kind && e.choice == 0).map(|e| e.text.as_str()).collect()
    }

    /// Choice 0's MESSAGE, parsed.
    pub fn message_json(&self) -> serde_json::Value {
        let m = self.of_kind(AichatEventKind::AICHAT_EVENT_MESSAGE);
        let m = m.iter().find(|e| e.choice == 0).expect("a MESSAGE for choice 0");
        serde_json::from_str(&m.text).expect("MESSAGE is JSON")
    }
}

/// Runs `request` through `aichat_client_create_completion_events`.
pub fn events_with(client: &ClientHandle, request: &str, stop_after: Option<usize>) -> EventOutcome {
    let request = CString::new(request).unwrap();
    let mut collector = EventCollector { events: Vec::new(), stop_after };
    let mut error: *mut AichatError = ptr::dangling_mut();
    let status = unsafe {
        aichat_client_create_completion_events(
            client.0,
            request.as_ptr(),
            Some(collect_event),
            &mut collector as *mut EventCollector as *mut c_void,
            ptr::null(),
            &mut error,
        )
    };
    let out = outcome(status, Vec::new(), error);
    EventOutcome { status, events: collector.events, message: out.message }
}

/// Runs `request` through `aichat_client_create_completion_events` on a new client.
pub fn events(request: &str) -> EventOutcome {
    events_with(&ClientHandle::new(None), request, None)
}

/// [`events`], which must succeed.
pub fn events_ok(request: &str) -> EventOutcome {
    let out = events(request);
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    out
}

/// What the test server received for `request`, sent to its `echo` fault (which answers with
/// the request: its `path`, `query`, `headers` and `body`).
pub fn received(request: &str) -> serde_json::Value {
    serde_json::from_str(&events_ok(request).joined(AichatEventKind::AICHAT_EVENT_TEXT)).unwrap()
}

/// The value of the header `name` in what the server received.
pub fn header<'a>(seen: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    seen["headers"].as_array().unwrap().iter().find(|h| h[0] == name).and_then(|h| h[1].as_str())
}

/// Runs `request` through `aichat_client_stream_open_events` / `aichat_stream_next_events`,
/// pulling until the end or a failure.
pub fn pulled_events(client: &ClientHandle, request: &str) -> EventOutcome {
    let request = CString::new(request).unwrap();
    let mut error: *mut AichatError = ptr::null_mut();
    let stream = unsafe { aichat_client_stream_open_events(client.0, request.as_ptr(), ptr::null(), &mut error) };
    if stream.is_null() {
        let status = unsafe { aichat_error_code(error) };
        let out = outcome(status, Vec::new(), error);
        return EventOutcome { status, events: Vec::new(), message: out.message };
    }
    let mut events = Vec::new();
    let status = loop {
        let mut batch = AichatEvents { items: ptr::null(), count: 0, finished: false };
        let status = unsafe { aichat_stream_next_events(stream, 1000, &mut batch, &mut error) };
        if status != AichatStatus::AICHAT_OK {
            break status;
        }
        for i in 0..batch.count {
            events.push(unsafe { copy_event(batch.items.add(i)) });
        }
        if batch.finished {
            break status;
        }
    };
    unsafe { aichat_stream_free(stream) };
    let out = outcome(status, Vec::new(), error);
    EventOutcome { status, events, message: out.message }
}

/// A pulled stream (`aichat_client_stream_open`), freed when dropped.
pub struct Stream(pub *mut AichatStream);
// The C contract: a stream may move between threads and is used by one at a time.
unsafe impl Send for Stream {}
unsafe impl Sync for Stream {}

impl Drop for Stream {
    fn drop(&mut self) {
        unsafe { aichat_stream_free(self.0) }
    }
}

/// A failed call: its status and message.
pub type Failure = (AichatStatus, String);

/// Opens a text stream on `client`.
pub fn open_stream(client: &ClientHandle, req: &str, cancel: Option<&CancelHandle>) -> Result<Stream, Failure> {
    let req = CString::new(req).unwrap();
    let mut error = ptr::null_mut();
    let s =
        unsafe { aichat_client_stream_open(client.0, req.as_ptr(), cancel.map_or(ptr::null(), |c| c.0), &mut error) };
    if s.is_null() {
        let e = unsafe { (aichat_error_code(error), message_of(error)) };
        unsafe { aichat_error_free(error) };
        return Err(e);
    }
    assert!(error.is_null());
    Ok(Stream(s))
}

/// One `aichat_stream_next`: the chunks and whether finished, or the failure.
pub fn next(stream: &Stream, wait_ms: u32) -> Result<(Vec<String>, bool), Failure> {
    let mut chunks = AichatChunks { text: ptr::null(), text_len: 0, ends: ptr::null(), count: 0, finished: false };
    let mut error = ptr::null_mut();
    let status = unsafe { aichat_stream_next(stream.0, wait_ms, &mut chunks, &mut error) };
    if status != AichatStatus::AICHAT_OK {
        assert_eq!(unsafe { aichat_error_code(error) }, status);
        let e = (status, unsafe { message_of(error) });
        unsafe { aichat_error_free(error) };
        return Err(e);
    }
    assert!(error.is_null());
    let text = unsafe { std::slice::from_raw_parts(chunks.text as *const u8, chunks.text_len + 1) };
    assert_eq!(text[chunks.text_len], 0, "batch text is NUL-terminated");
    let ends =
        if chunks.count == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(chunks.ends, chunks.count) } };
    let mut start = 0;
    let mut out = Vec::new();
    for &end in ends {
        assert!(end > start, "no empty chunk");
        out.push(std::str::from_utf8(&text[start..end]).unwrap().to_string());
        start = end;
    }
    assert_eq!(start, chunks.text_len);
    Ok((out, chunks.finished))
}

/// The stream's descriptor (`aichat_stream_fd`).
pub fn fd_of(stream: &Stream) -> i32 {
    let mut error = ptr::null_mut();
    let fd = unsafe { aichat_stream_fd(stream.0, &mut error) };
    assert!(fd >= 0 && error.is_null(), "no descriptor: {}", unsafe { message_of(error) });
    fd
}
