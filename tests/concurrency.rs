//! One client shared by many threads at once.

mod common;
use common::*;
use std::thread;

#[test]
fn eight_threads_share_one_client() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(Some(&format!(r#"{{"base_url":"{}","proxy":""}}"#, server.base_url())));
    thread::scope(|s| {
        for t in 0..8 {
            let client = &client;
            s.spawn(move || {
                for i in 0..25 {
                    let content = format!("thread {t} call {i}");
                    let req = format!(r#"[{{"role":"user","content":"{content}"}}]"#);
                    let out = complete(client, &req);
                    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
                    assert_eq!(out.chunks, vec![format!("You said: {content}")]);
                }
            });
        }
    });
}

#[test]
fn one_shot_calls_from_many_threads() {
    let server = Server::start().unwrap();
    thread::scope(|s| {
        for t in 0..8 {
            let url = server.base_url();
            s.spawn(move || {
                for i in 0..10 {
                    let content = format!("{t}/{i}");
                    let req = request(&url, &format!(r#"[{{"role":"user","content":"{content}"}}]"#), "");
                    let out = complete_with(None, &req, None, None);
                    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
                    assert_eq!(out.text(), format!("You said: {content}"));
                }
            });
        }
    });
}
