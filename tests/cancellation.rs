//! Stopping a call: from the callback, and from another thread through a cancel token.

mod common;
use common::*;
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn callback_returning_nonzero_stops_with_cancelled() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let out = complete_with(Some(&client), &request(&server.base_url(), HI, ""), None, Some(1));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CANCELLED);
    assert_eq!(out.message, "stopped by the chunk callback");
    assert_eq!(out.chunks, vec!["You said: Hi"]);
}

#[test]
fn client_works_after_a_callback_stop() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    complete_with(Some(&client), &request(&server.base_url(), HI, ""), None, Some(1));
    let out = complete(&client, &request(&server.base_url(), HI, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_OK);
}

#[test]
fn trigger_from_another_thread_stops_a_silent_call_within_100ms() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let cancel = CancelHandle::new();
    let req = request(&server.fault_url("silence"), HI, "");
    let (out, returned_at) = thread::scope(|s| {
        let call = s.spawn(|| {
            let out = complete_with(Some(&client), &req, Some(&cancel), None);
            (out, Instant::now())
        });
        thread::sleep(Duration::from_millis(300));
        unsafe { aichat_cancel_trigger(cancel.0) };
        let triggered_at = Instant::now();
        let (out, returned_at) = call.join().unwrap();
        (out, returned_at.saturating_duration_since(triggered_at))
    });
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CANCELLED);
    assert_eq!(out.message, "cancelled by the cancel token");
    assert!(returned_at < Duration::from_millis(100), "returned {returned_at:?} after the trigger");
}

#[test]
fn triggered_token_fails_new_calls_at_once() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let cancel = CancelHandle::new();
    unsafe { aichat_cancel_trigger(cancel.0) };
    let out = complete_with(Some(&client), &request(&server.base_url(), HI, ""), Some(&cancel), None);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CANCELLED);
    assert!(out.chunks.is_empty());
}

#[test]
fn untriggered_token_changes_nothing() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let cancel = CancelHandle::new();
    let out = complete_with(Some(&client), &request(&server.base_url(), HI, ""), Some(&cancel), None);
    assert_eq!(out.status, AichatStatus::AICHAT_OK);
    assert_eq!(out.text(), "You said: Hi");
}
