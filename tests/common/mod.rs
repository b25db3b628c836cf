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

/// A request object for `base_url` with the given messages JSON and extra fields.
pub fn request(base_url: &str, messages: &str, extra: &str) -> String {
    let extra = if extra.is_empty() { String::new() } else { format!(",{extra}") };
    format!(r#"{{"messages":{messages},"base_url":"{base_url}","proxy":""{extra}}}"#)
}

pub const HI: &str = r#"[{"role":"user","content":"Hi"}]"#;
