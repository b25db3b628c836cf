//! `"provider": "ollama"` (the native `/api/chat`) through the C ABI against the local server:
//! the request on the wire, the NDJSON stream as the same events every protocol gives, and its
//! failures.

mod common;
use AichatEventKind::*;
use common::*;
use serde_json::{Value, json};

const WEATHER: &str = r#"[{"type":"function","function":{"name":"get_weather",
    "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]"#;

fn ollama(base: &str, messages: &str, extra: &str) -> String {
    protocol_request("ollama", "llama-test", base, messages, extra)
}

/// What the server received for a stream.
fn echoed(server: &Server, messages: &str, extra: &str) -> Value {
    received(&ollama(&server.fault_url("echo"), messages, &format!(r#""stream":true{extra}"#)))
}

#[test]
fn the_conversation_and_settings_take_ollamas_shape() {
    let server = Server::start().unwrap();
    let messages = r#"[{"role":"system","content":"Be brief."},
        {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
        {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
        {"role":"tool","tool_call_id":"c1","content":"sunny"}]"#;
    let extra = format!(
        r#","tools":{WEATHER},"temperature":0.5,"seed":7,"stop":"END","max_tokens":64,"response_format":{{"type":"json_schema","json_schema":{{"name":"x","schema":{{"type":"object"}}}}}}"#
    );
    let seen = echoed(&server, messages, &extra);
    assert_eq!(seen["path"], "/fault/echo/api/chat");
    let body = &seen["body"];
    assert_eq!(
        body["messages"],
        json!([
            {"role":"system","content":"Be brief."},
            {"role":"user","content":"What is this?","images":["iVBORw0KGgo="]},
            {"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},
            {"role":"tool","content":"sunny","tool_name":"get_weather"}
        ])
    );
    assert_eq!(body["options"], json!({"temperature":0.5,"seed":7,"stop":["END"],"num_predict":64}));
    assert_eq!(body["format"], json!({"type":"object"}));
    assert_eq!(body["stream"], true);
    assert_eq!(body["tools"][0]["function"]["name"], "get_weather");
}

#[test]
fn what_the_api_cannot_express_is_refused_by_name() {
    let out = events(&ollama("http://127.0.0.1:9", HI, r#""tool_choice":"auto""#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(out.message.contains("`tool_choice` is not supported by the ollama provider"), "{}", out.message);
    let url = r#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]"#;
    let out = events(&ollama("http://127.0.0.1:9", url, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(
        out.message.contains("`messages[0].content[0].image_url.url` must be a base64 data: URL"),
        "{}",
        out.message
    );
}

#[test]
fn an_ndjson_stream_gives_the_same_events_as_every_protocol() {
    let server = Server::start().unwrap();
    let out = events_ok(&ollama(&server.base_url(), HI, r#""stream":true"#));
    let mut kinds: Vec<_> = out.events.iter().map(|e| e.kind).collect();
    kinds.dedup();
    assert_eq!(
        kinds,
        [AICHAT_EVENT_RESPONSE, AICHAT_EVENT_TEXT, AICHAT_EVENT_FINISH, AICHAT_EVENT_USAGE, AICHAT_EVENT_MESSAGE]
    );
    assert_eq!(out.events[0].name, "llama-test");
    assert_eq!(out.joined(AICHAT_EVENT_TEXT), "You said: Hi");
    assert!(out.of_kind(AICHAT_EVENT_TEXT).len() > 1);
    assert_eq!(out.of_kind(AICHAT_EVENT_FINISH)[0].text, "stop");
    let usage = out.of_kind(AICHAT_EVENT_USAGE)[0].usage.unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (9, 12, 21));
    assert_eq!(out.message_json(), json!({"role":"assistant","content":"You said: Hi"}));
}

#[test]
fn a_whole_tool_call_gets_an_id_and_its_arguments_as_json_text() {
    let server = Server::start().unwrap();
    let out = events_ok(&ollama(&server.fault_url("reasoning"), HI, &format!(r#""stream":true,"tools":{WEATHER}"#)));
    assert_eq!(out.joined(AICHAT_EVENT_REASONING), "The user wrote something; I will quote it back.");
    let call = out.of_kind(AICHAT_EVENT_TOOL_CALL);
    assert_eq!(call.len(), 1);
    assert!(call[0].id.starts_with("call_") && call[0].id.len() > 6, "generated id {:?}", call[0].id);
    assert_eq!(call[0].name, "get_weather");
    assert_eq!(out.of_kind(AICHAT_EVENT_TOOL_ARGUMENTS).len(), 1);
    assert_eq!(out.joined(AICHAT_EVENT_TOOL_ARGUMENTS), r#"{"city":"Hi"}"#);
    let finish = out.of_kind(AICHAT_EVENT_FINISH)[0];
    assert_eq!((finish.text.as_str(), finish.name.as_str()), ("tool_calls", "stop"));
    // The round trip: the assistant message and the result go back; the tool is named.
    let messages = json!([{"role":"user","content":"Hi"}, out.message_json(),
        {"role":"tool","tool_call_id":call[0].id,"content":"sunny"}]);
    let second = events_ok(&ollama(&server.base_url(), &messages.to_string(), r#""stream":true"#));
    assert_eq!(second.joined(AICHAT_EVENT_TEXT), "The tool returned: sunny");
}

#[test]
fn a_one_shot_answer_gives_the_same_events() {
    let server = Server::start().unwrap();
    let whole = events_ok(&ollama(&server.fault_url("reasoning"), HI, r#""stream":false"#));
    let streamed = events_ok(&ollama(&server.fault_url("reasoning"), HI, r#""stream":true"#));
    assert_eq!(whole.message_json(), streamed.message_json());
    assert_eq!(whole.of_kind(AICHAT_EVENT_TEXT).len(), 1);
}

#[test]
fn an_error_line_is_a_server_error_and_a_stream_without_done_is_truncated() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let out = events_with(&client, &ollama(&server.fault_url("error-event"), HI, r#""stream":true"#), None);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_SERVER, "{}", out.message);
    assert!(out.message.contains("injected stream error"), "{}", out.message);
    let out = events_with(&client, &ollama(&server.fault_url("cut"), HI, r#""stream":true"#), None);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{}", out.message);
    assert!(out.message.contains(r#"`"done": true`"#), "{}", out.message);
    let req = ollama(
        &server.fault_url("split-utf8,crlf,keepalive"),
        r#"[{"role":"user","content":"héllo wörld"}]"#,
        r#""stream":true"#,
    );
    let out = events_with(&client, &req, None);
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.joined(AICHAT_EVENT_TEXT), "You said: héllo wörld");
}

#[test]
fn the_text_api_works_on_the_native_protocol_too() {
    let server = Server::start().unwrap();
    let out = complete(&ClientHandle::new(None), &ollama(&server.base_url(), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text(), "You said: Hi");
}
