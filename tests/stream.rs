//! The pull-style stream (`aichat_client_stream_open` / `aichat_stream_next`): every chunk, in
//! order, in batches; errors after the chunks that preceded them; cancel and free at any time.

mod common;
use common::*;
use std::ffi::CString;
use std::ptr;
use std::time::{Duration, Instant};

struct Stream(*mut AichatStream);
// The C contract: a stream may move between threads and is used by one at a time.
unsafe impl Send for Stream {}
unsafe impl Sync for Stream {}

impl Drop for Stream {
    fn drop(&mut self) {
        unsafe { aichat_stream_free(self.0) }
    }
}

fn open(client: &ClientHandle, req: &str, cancel: Option<&CancelHandle>) -> Result<Stream, (AichatStatus, String)> {
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

/// One `aichat_stream_next`: the chunks, whether finished, or the failure.
fn next(stream: &Stream, wait_ms: u32) -> Result<(Vec<String>, bool), (AichatStatus, String)> {
    let mut chunks = AichatChunks { text: ptr::null(), text_len: 0, ends: ptr::null(), count: 0, finished: false };
    let mut error = ptr::null_mut();
    let status = unsafe { aichat_stream_next(stream.0, wait_ms, &mut chunks, &mut error) };
    if status != AichatStatus::AICHAT_OK {
        let e = (status, unsafe { message_of(error) });
        unsafe { aichat_error_free(error) };
        return Err(e);
    }
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

/// Pulls until the end or a failure; returns all chunks, the number of batches, and the outcome.
fn drain(stream: &Stream) -> (Vec<String>, usize, Result<(), (AichatStatus, String)>) {
    let mut all = Vec::new();
    let mut batches = 0;
    loop {
        match next(stream, 1000) {
            Ok((chunks, finished)) => {
                batches += usize::from(!chunks.is_empty());
                all.extend(chunks);
                if finished {
                    return (all, batches, Ok(()));
                }
            }
            Err(e) => return (all, batches, Err(e)),
        }
    }
}

fn openai(base: &str, extra: &str) -> String {
    format!(
        r#"{{"provider":"openai","messages":{HI},"base_url":"{base}/v1","proxy":"","stream":true,"max_retries":0{extra}}}"#
    )
}

#[test]
fn all_chunks_arrive_in_order_in_fewer_batches() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let stream = open(&client, &openai(&server.fault_url("chunks=20000"), ""), None).unwrap();
    let (chunks, batches, outcome) = drain(&stream);
    assert_eq!(outcome, Ok(()));
    assert_eq!(chunks.len(), 20000);
    assert!(chunks.iter().enumerate().all(|(i, c)| *c == format!("tok{i} ")));
    assert!(batches < 20000, "{batches} batches");
    // After the end, the stream stays finished.
    assert_eq!(next(&stream, 0), Ok((vec![], true)));
}

#[test]
fn word_stream_and_one_shot_answers() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let (chunks, _, outcome) = drain(&open(&client, &openai(&server.base_url(), ""), None).unwrap());
    assert_eq!((chunks, outcome), (vec!["You ".to_string(), "said: ".into(), "Hi".into()], Ok(())));
    let (chunks, _, outcome) = drain(&open(&client, &request(&server.base_url(), HI, ""), None).unwrap());
    assert_eq!((chunks, outcome), (vec!["You said: Hi".to_string()], Ok(())));
}

#[test]
fn no_chunk_within_the_wait_gives_an_empty_batch() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let stream = open(&client, &request(&server.fault_url("delay=500"), HI, ""), None).unwrap();
    let started = Instant::now();
    assert_eq!(next(&stream, 50), Ok((vec![], false)));
    assert!(started.elapsed() < Duration::from_millis(400));
    let (chunks, _, outcome) = drain(&stream);
    assert_eq!((chunks, outcome), (vec!["You said: Hi".to_string()], Ok(())));
}

#[test]
fn error_comes_after_the_chunks_that_preceded_it() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let stream = open(&client, &openai(&server.fault_url("chunks=10,cut"), ""), None).unwrap();
    let (chunks, _, outcome) = drain(&stream);
    assert_eq!(chunks.len(), 5);
    assert_eq!(outcome.unwrap_err().0, AichatStatus::AICHAT_ERROR_PROTOCOL);
    // The failure is sticky.
    assert_eq!(next(&stream, 0).unwrap_err().0, AichatStatus::AICHAT_ERROR_PROTOCOL);
}

#[test]
fn cancel_stops_a_silent_stream_promptly() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let cancel = CancelHandle::new();
    let stream = open(&client, &request(&server.fault_url("silence"), HI, ""), Some(&cancel)).unwrap();
    let (result, late) = std::thread::scope(|s| {
        let pull = s.spawn(|| (next(&stream, 10_000), Instant::now()));
        std::thread::sleep(Duration::from_millis(200));
        unsafe { aichat_cancel_trigger(cancel.0) };
        let triggered = Instant::now();
        let (result, returned) = pull.join().unwrap();
        (result, returned.saturating_duration_since(triggered))
    });
    assert_eq!(result.unwrap_err().0, AichatStatus::AICHAT_ERROR_CANCELLED);
    // The contract is 100 ms (a few ms here); the margin is for a loaded machine.
    assert!(late < Duration::from_millis(500), "{late:?}");
}

#[test]
fn free_mid_stream_stops_it_and_the_client_goes_on() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let stream = open(&client, &openai(&server.fault_url("chunks=100000"), ""), None).unwrap();
    let (first, _) = next(&stream, 1000).unwrap();
    assert!(!first.is_empty());
    drop(stream);
    let (chunks, _, outcome) = drain(&open(&client, &openai(&server.base_url(), ""), None).unwrap());
    assert_eq!((chunks.concat(), outcome), ("You said: Hi".to_string(), Ok(())));
}

#[test]
fn bad_arguments() {
    let client = ClientHandle::new(None);
    assert_eq!(open(&client, "{", None).err().unwrap().0, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    let mut error = ptr::null_mut();
    let s = unsafe { aichat_client_stream_open(ptr::null(), c"[]".as_ptr(), ptr::null(), &mut error) };
    assert!(s.is_null());
    assert_eq!(unsafe { aichat_error_code(error) }, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
    unsafe { aichat_error_free(error) };
    let status = unsafe { aichat_stream_next(ptr::null_mut(), 0, ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(status, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
    let server = Server::start().unwrap();
    let stream = open(&client, &request(&server.base_url(), HI, ""), None).unwrap();
    let status = unsafe { aichat_stream_next(stream.0, 0, ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(status, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
    unsafe { aichat_stream_free(ptr::null_mut()) };
}

#[test]
fn a_failed_pull_leaves_no_stale_pointer() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let req = format!(
        r#"{{"provider":"openai","stream":true,"messages":[],"base_url":"{}/v1","proxy":"","max_retries":0}}"#,
        server.fault_url("error-event")
    );
    let stream = open(&client, &req, None).unwrap();
    let mut status = AichatStatus::AICHAT_OK;
    let mut chunks = AichatChunks { text: ptr::null(), text_len: 0, ends: ptr::null(), count: 0, finished: false };
    let deadline = Instant::now() + Duration::from_secs(30);
    while status == AichatStatus::AICHAT_OK && Instant::now() < deadline {
        // What a previous batch left: it must not survive a failure.
        static ENDS: [usize; 1] = [5];
        chunks = AichatChunks { text: c"stale".as_ptr(), text_len: 5, ends: ENDS.as_ptr(), count: 1, finished: false };
        status = unsafe { aichat_stream_next(stream.0, 100, &mut chunks, ptr::null_mut()) };
    }
    assert_eq!(status, AichatStatus::AICHAT_ERROR_SERVER);
    assert_eq!((chunks.count, chunks.text_len, chunks.ends.is_null()), (0, 0, true));
    assert_eq!(unsafe { std::ffi::CStr::from_ptr(chunks.text) }.to_bytes(), b"");
}
