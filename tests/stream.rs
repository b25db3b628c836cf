//! The pull-style stream (`aichat_client_stream_open` / `aichat_stream_next`): every chunk, in
//! order, in batches; errors after the chunks that preceded them; cancel and free at any time.

mod common;
use common::*;
use std::ffi::CString;
use std::ptr;
use std::time::{Duration, Instant};

fn open(client: &ClientHandle, req: &str, cancel: Option<&CancelHandle>) -> Result<Stream, Failure> {
    open_stream(client, req, cancel)
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
fn a_caller_slower_than_its_server_is_not_an_idle_server() {
    // 2 MB of answer, far more than the library holds for a caller that does not take it: the
    // connection is paused, and pausing does not count as the server's silence, however long
    // the caller takes (here 1 s, with idle_timeout_ms 300).
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let req = openai(&server.fault_url("chunks=20000,chunk-size=100"), r#","idle_timeout_ms":300"#);
    let stream = open(&client, &req, None).unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let (chunks, _, outcome) = drain(&stream);
    assert_eq!(outcome, Ok(()));
    assert_eq!(chunks.len(), 20000);
    assert!(chunks.iter().all(|c| c.len() == 100));
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
fn a_null_stream_still_empties_the_out_struct() {
    static ENDS: [usize; 1] = [5];
    let mut chunks =
        AichatChunks { text: c"stale".as_ptr(), text_len: 5, ends: ENDS.as_ptr(), count: 1, finished: true };
    let status = unsafe { aichat_stream_next(ptr::null_mut(), 0, &mut chunks, ptr::null_mut()) };
    assert_eq!(status, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
    assert_eq!((chunks.count, chunks.text_len, chunks.ends.is_null(), chunks.finished), (0, 0, true, false));
    assert_eq!(unsafe { std::ffi::CStr::from_ptr(chunks.text) }.to_bytes(), b"");
    let item = std::mem::MaybeUninit::<AichatEvent>::uninit();
    let mut events = AichatEvents { items: item.as_ptr(), count: 3, finished: true };
    let status = unsafe { aichat_stream_next_events(ptr::null_mut(), 0, &mut events, ptr::null_mut()) };
    assert_eq!(status, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
    assert_eq!((events.items.is_null(), events.count, events.finished), (true, 0, false));
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

/// Whether `fd` is readable within `ms` milliseconds.
fn readable(fd: i32, ms: i32) -> bool {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    n == 1 && p.revents & libc::POLLIN != 0
}

#[test]
fn one_thread_drives_many_streams_by_their_descriptors() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let streams: Vec<Stream> =
        (0..8).map(|_| open(&client, &openai(&server.fault_url("chunks=3000"), ""), None).unwrap()).collect();
    let mut fds: Vec<libc::pollfd> =
        streams.iter().map(|s| libc::pollfd { fd: fd_of(s), events: libc::POLLIN, revents: 0 }).collect();
    let mut got = vec![Vec::new(); streams.len()];
    let mut finished = vec![false; streams.len()];
    let (mut wakes, mut empty) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while finished.iter().any(|f| !f) {
        assert!(Instant::now() < deadline, "streams did not finish");
        for (p, done) in fds.iter_mut().zip(&finished) {
            p.fd = if *done { -1 } else { p.fd.abs() }; // poll skips negative descriptors
            p.revents = 0;
        }
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 5000) };
        assert!(n > 0, "poll timed out with streams unfinished");
        for (i, p) in fds.iter().enumerate() {
            if p.revents & libc::POLLIN == 0 {
                continue;
            }
            // Readable means bytes arrived: a call with wait 0 returns at once, with the chunks
            // they complete (none when they hold only part of one).
            let (chunks, done) = next(&streams[i], 0).unwrap();
            wakes += 1;
            empty += usize::from(chunks.is_empty() && !done);
            got[i].extend(chunks);
            finished[i] = done;
        }
    }
    for chunks in got {
        assert_eq!(chunks.len(), 3000);
    }
    assert!(empty * 4 < wakes, "{empty} of {wakes} wake-ups found nothing to take");
    // Level-triggered: after the end there is still something to return (the end again).
    assert!(streams.iter().all(|s| readable(fd_of(s), 0)));
}

#[test]
fn the_descriptor_is_quiet_while_the_server_is_and_wakes_on_cancel() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let cancel = CancelHandle::new();
    let stream = open(&client, &request(&server.fault_url("silence"), HI, ""), Some(&cancel)).unwrap();
    let fd = fd_of(&stream);
    assert_eq!(fd, fd_of(&stream), "the same descriptor every time");
    assert!(!readable(fd, 300));
    assert_eq!(next(&stream, 0).unwrap(), (vec![], false));
    let started = Instant::now();
    unsafe { aichat_cancel_trigger(cancel.0) };
    assert!(readable(fd, 2000));
    assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
    assert_eq!(next(&stream, 0).unwrap_err().0, AichatStatus::AICHAT_ERROR_CANCELLED);
    assert!(readable(fd, 0), "a failure stays readable");
}

#[test]
fn a_failure_makes_the_descriptor_readable() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let stream = open(&client, &openai(&server.fault_url("status=500"), ""), None).unwrap();
    let fd = fd_of(&stream);
    assert!(readable(fd, 10_000));
    assert_eq!(next(&stream, 0).unwrap_err().0, AichatStatus::AICHAT_ERROR_HTTP_STATUS);
    assert!(readable(fd, 0));
}

#[test]
fn a_descriptor_of_nothing_is_an_error() {
    let mut error = ptr::null_mut();
    assert_eq!(unsafe { aichat_stream_fd(ptr::null_mut(), &mut error) }, -1);
    assert_eq!(unsafe { aichat_error_code(error) }, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
    unsafe { aichat_error_free(error) };
    assert_eq!(unsafe { aichat_stream_fd(ptr::null_mut(), ptr::null_mut()) }, -1);
}

/// A failure decoded in the same pass as the last items: after those items are returned, the
/// descriptor must stay readable until the failure is (the reactor, done with the exchange,
/// never raises it again). Before the fix a poll loop (Go's iterator) waited here for good.
#[test]
fn a_failure_decoded_with_the_last_items_keeps_the_descriptor_readable() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let request = CString::new(openai(&server.fault_url("error-event"), "")).unwrap();
    for round in 0..200 {
        let mut error: *mut AichatError = ptr::null_mut();
        let stream =
            Stream(unsafe { aichat_client_stream_open_events(client.0, request.as_ptr(), ptr::null(), &mut error) });
        assert!(!stream.0.is_null());
        let fd = fd_of(&stream);
        let status = loop {
            assert!(readable(fd, 10_000), "round {round}: the descriptor never turned readable");
            let mut batch = AichatEvents { items: ptr::null(), count: 0, finished: false };
            let status = unsafe { aichat_stream_next_events(stream.0, 0, &mut batch, &mut error) };
            if status != AichatStatus::AICHAT_OK {
                unsafe { aichat_error_free(error) };
                break status;
            }
            assert!(!batch.finished, "round {round}: the stream ended without its failure");
        };
        assert_eq!(status, AichatStatus::AICHAT_ERROR_SERVER);
    }
}
