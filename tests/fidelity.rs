//! The aichat provider puts on the wire exactly what the original Python provider did
//! (gpt4free's `Aichat` provider: its headers and body are restated below as the spec). The test server's `echo` fault sends back the
//! request as it arrived.

mod common;
use common::*;
use serde_json::{Value, json};

const HEADERS: [(&str, &str); 13] = [
    ("authority", "chat-gpt.org"),
    ("accept", "*/*"),
    ("cache-control", "no-cache"),
    ("content-type", "application/json"),
    ("origin", "https://chat-gpt.org"),
    ("pragma", "no-cache"),
    ("referer", "https://chat-gpt.org/chat"),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", "\"macOS\""),
    ("sec-fetch-dest", "empty"),
    ("sec-fetch-mode", "cors"),
    ("sec-fetch-site", "same-origin"),
    (
        "user-agent",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Safari/537.36",
    ),
];

/// What the server received for `messages`.
fn captured(server: &Server, messages: &str) -> Value {
    let client = ClientHandle::new(None);
    let out = complete(&client, &request(&server.fault_url("echo"), messages, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.chunks.len(), 1);
    serde_json::from_str(&out.chunks[0]).unwrap()
}

fn header_values(seen: &Value, name: &str) -> Vec<String> {
    seen["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|h| h[1].as_str().unwrap().to_string())
        .collect()
}

fn assert_wire(seen: &Value, prompt: &str) {
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/fault/echo/api/text");
    for (name, value) in HEADERS {
        assert_eq!(header_values(seen, name), vec![value.to_string()], "header {name}");
    }
    assert_eq!(
        seen["body"],
        json!({"message": prompt, "temperature": 1, "presence_penalty": 0, "top_p": 1, "frequency_penalty": 0})
    );
}

#[test]
fn one_user_message() {
    let server = Server::start().unwrap();
    assert_wire(&captured(&server, HI), "user: Hi\nassistant:");
}

#[test]
fn empty_conversation() {
    let server = Server::start().unwrap();
    assert_wire(&captured(&server, "[]"), "assistant:");
}

#[test]
fn multi_turn_non_ascii_and_multi_line() {
    let server = Server::start().unwrap();
    let messages = r#"[{"role":"system","content":"Sé breve 🙂"},{"role":"user","content":"line 1\nline 2"},{"role":"assistant","content":" spaced "},{"role":"user","content":"日本語"}]"#;
    assert_wire(
        &captured(&server, messages),
        "system: Sé breve 🙂\nuser: line 1\nline 2\nassistant:  spaced \nuser: 日本語\nassistant:",
    );
}

#[test]
fn body_numbers_are_integers_like_the_original() {
    let server = Server::start().unwrap();
    let seen = captured(&server, HI);
    assert!(seen["body"]["temperature"].is_u64());
    assert!(seen["body"]["frequency_penalty"].is_u64());
}

#[test]
fn extra_headers_are_added_on_top() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(Some(r#"{"headers":{"x-client":"c"}}"#));
    let out = complete(&client, &request(&server.fault_url("echo"), HI, r#""headers":{"x-request":"r"}"#));
    let seen: Value = serde_json::from_str(&out.text()).unwrap();
    assert_eq!(header_values(&seen, "x-request"), vec!["r"]);
    // A request's `headers` replaces the client's as a whole, like every other field.
    assert!(header_values(&seen, "x-client").is_empty());
    assert_eq!(header_values(&seen, "sec-fetch-mode"), vec!["cors"]);
}

#[test]
fn answer_is_delivered_as_one_chunk() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    for stream in ["false", "true"] {
        let out = complete(&client, &request(&server.base_url(), HI, &format!(r#""stream":{stream}"#)));
        assert_eq!(out.status, AichatStatus::AICHAT_OK);
        assert_eq!(out.chunks, vec!["You said: Hi"]);
    }
}

#[test]
fn empty_answer_gives_no_chunk_and_ok() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let out = complete(&client, &request(&server.fault_url("size=0"), HI, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_OK);
    assert!(out.chunks.is_empty());
}

#[test]
fn one_shot_call_uses_the_default_client() {
    let server = Server::start().unwrap();
    let out = complete_with(None, &request(&server.base_url(), HI, ""), None, None);
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.chunks, vec!["You said: Hi"]);
}

#[test]
fn client_options_supply_defaults() {
    let server = Server::start().unwrap();
    let options = format!(r#"{{"base_url":"{}","proxy":""}}"#, server.base_url());
    let client = ClientHandle::new(Some(&options));
    let out = complete(&client, HI);
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text(), "You said: Hi");
}
