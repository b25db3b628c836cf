//! Memory stays proportional to what arrived: the peak of heap bytes a call holds, whatever the
//! shape of its answer (many choices, many tool calls, long texts in each), stays within twice
//! the bytes received plus a small constant, pushed and pulled, and an answer past the caps on
//! choices and tool calls is AICHAT_ERROR_TOO_LARGE. Its own test binary: the global allocator
//! counts every heap byte of the process, so nothing else may run alongside (one test).

mod common;
use common::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{CString, c_char, c_int, c_void};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = NOW.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is passed on to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NOW.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            grew(new_size - layout.size());
        } else {
            NOW.fetch_sub(layout.size() - new_size, Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// The small constant of the bound: buffers that do not grow with the answer (reads, the
/// reactor's scratch, C strings of one event, the bookkeeping of the capped choices and calls).
const CONSTANT: usize = 4 << 20;

/// Serves `reply` (head and body) to every connection, from the one shared copy: the server
/// allocates nothing that grows with it.
fn serve(reply: Arc<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let reply = reply.clone();
            std::thread::spawn(move || {
                let mut seen = Vec::with_capacity(64 * 1024);
                let mut buf = [0u8; 4096];
                // The request: its head, then as many body bytes as it says.
                loop {
                    let Ok(n) = stream.read(&mut buf) else { return };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&seen);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                            })
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        if seen.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let _ = stream.write_all(&reply);
            });
        }
    });
    base
}

fn sse_reply(body: &str) -> Arc<Vec<u8>> {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    Arc::new([head.as_bytes(), body.as_bytes()].concat())
}

/// An SSE stream of about `size` bytes of `event(i)` for i = 0, 1, ..., then `[DONE]`.
fn stream_of(size: usize, mut event: impl FnMut(usize) -> String) -> String {
    let mut body = String::with_capacity(size + 4096);
    let mut i = 0;
    while body.len() < size {
        body.push_str("data: ");
        body.push_str(&event(i));
        body.push_str("\n\n");
        i += 1;
    }
    body.push_str("data: [DONE]\n\n");
    body
}

fn chunk(choice: usize, delta: &str) -> String {
    format!(r#"{{"id":"r","model":"m","choices":[{{"index":{choice},"delta":{delta}}}]}}"#)
}

/// How a call is made.
#[derive(Debug, Clone, Copy)]
enum Way {
    Pushed,
    Pulled,
    Text,
}

/// Counts events and keeps nothing (a collector that kept them would be measured too).
unsafe extern "C" fn count_event(_: *const AichatEvent, user_data: *mut c_void) -> c_int {
    unsafe { *(user_data as *mut usize) += 1 };
    0
}

unsafe extern "C" fn count_chunk(_: *const c_char, _: usize, user_data: *mut c_void) -> c_int {
    unsafe { *(user_data as *mut usize) += 1 };
    0
}

/// Runs `req` the `way` given, keeping nothing of the answer; returns the status.
fn run(client: &ClientHandle, req: &CString, way: Way) -> AichatStatus {
    let mut count = 0usize;
    let counter = &mut count as *mut usize as *mut c_void;
    let mut error = ptr::null_mut();
    let status = unsafe {
        match way {
            Way::Pushed => aichat_client_create_completion_events(
                client.0,
                req.as_ptr(),
                Some(count_event),
                counter,
                ptr::null(),
                &mut error,
            ),
            Way::Text => aichat_client_create_completion(
                client.0,
                req.as_ptr(),
                Some(count_chunk),
                counter,
                ptr::null(),
                &mut error,
            ),
            Way::Pulled => {
                let stream = aichat_client_stream_open_events(client.0, req.as_ptr(), ptr::null(), &mut error);
                assert!(!stream.is_null());
                let status = loop {
                    let mut batch = AichatEvents { items: ptr::null(), count: 0, finished: false };
                    let status = aichat_stream_next_events(stream, 1000, &mut batch, &mut error);
                    if status != AichatStatus::AICHAT_OK || batch.finished {
                        break status;
                    }
                };
                aichat_stream_free(stream);
                status
            }
        }
    };
    unsafe { aichat_error_free(error) };
    status
}

/// The call's status and the peak of heap bytes above what was held before it.
fn peak_of(base: &str, way: Way) -> (AichatStatus, usize) {
    let req = format!(
        r#"{{"provider":"openai","stream":true,"messages":{HI},"base_url":"{base}/v1","proxy":"","max_retries":0,"n":2}}"#
    );
    let req = CString::new(req).unwrap();
    let client = ClientHandle::new(None);
    let before = NOW.load(Relaxed);
    PEAK.store(before, Relaxed);
    let status = run(&client, &req, way);
    (status, PEAK.load(Relaxed).saturating_sub(before))
}

/// The documented caps (README, Hardening).
const MAX_CHOICES: usize = 128;
const MAX_TOOL_CALLS: usize = 4096;

#[test]
fn peak_memory_stays_within_twice_the_bytes_received_and_past_the_caps_is_too_large() {
    // AICHAT_MEMORY_TEST_MB: larger answers, to measure (the default keeps a debug run short).
    let size = std::env::var("AICHAT_MEMORY_TEST_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(8usize) << 20;
    let calls_per_choice = MAX_TOOL_CALLS / MAX_CHOICES;
    // Each shape, and whether it is past the caps (TOO_LARGE, except for the text API, which
    // keeps only choice 0's text and no bookkeeping).
    let shapes: Vec<(&str, bool, String)> = vec![
        // A new tool call in every fragment, as many as the stream carries.
        (
            "a call per fragment",
            true,
            stream_of(size, |i| {
                let calls: String = (0..64).map(|k| format!(r#"{{"index":{},"id":"c"}},"#, i * 64 + k)).collect();
                chunk(i % 1024, &format!(r#"{{"tool_calls":[{}]}}"#, calls.trim_end_matches(',')))
            }),
        ),
        // Every choice and call the caps allow, then long arguments for all of them.
        (
            "calls at the caps",
            false,
            stream_of(size, |i| {
                let (choice, call) = (i % MAX_CHOICES, (i / MAX_CHOICES) % calls_per_choice);
                let args = if i < MAX_TOOL_CALLS { String::new() } else { "x".repeat(200) };
                chunk(
                    choice,
                    &format!(
                        r#"{{"tool_calls":[{{"index":{call},"id":"call_{call}","function":{{"name":"f{call}","arguments":"{args}"}}}}]}}"#
                    ),
                )
            }),
        ),
        // Text in every choice, escaped (each character is one byte once decoded).
        (
            "text in every choice",
            false,
            stream_of(size, |i| chunk(i % MAX_CHOICES, &format!(r#"{{"content":"{}"}}"#, "\\n".repeat(100)))),
        ),
        // One long text whose length is just past a power of two (a buffer that doubles as it
        // grows is then nearly half empty), in large pieces (little else on the wire).
        (
            "one text just past a power of two",
            false,
            stream_of((8 << 20) + (300 << 10), |_| chunk(0, &format!(r#"{{"content":"{}"}}"#, "a".repeat(16 * 1024)))),
        ),
        // Text in as many choices as the stream names.
        ("a choice per event", true, stream_of(size, |i| chunk(i, r#"{"content":"a"}"#))),
    ];
    let mut failures = Vec::new();
    for (name, past_caps, body) in &shapes {
        let received = body.len();
        let base = serve(sse_reply(body));
        for way in [Way::Pushed, Way::Pulled, Way::Text] {
            let (status, peak) = peak_of(&base, way);
            let line = format!(
                "{name} ({way:?}): {status:?}, peak {:.1} MiB for {:.1} MiB received ({:.2}x)",
                peak as f64 / 1048576.0,
                received as f64 / 1048576.0,
                peak as f64 / received as f64
            );
            eprintln!("{line}");
            let expected = match way {
                Way::Pushed | Way::Pulled if *past_caps => AichatStatus::AICHAT_ERROR_TOO_LARGE,
                _ => AichatStatus::AICHAT_OK,
            };
            if peak > 2 * received + CONSTANT || status != expected {
                failures.push(format!("{line} (expected {expected:?})"));
            }
        }
    }
    assert!(failures.is_empty(), "over 2x + {CONSTANT}, or not the status expected:\n{}", failures.join("\n"));
}
