//! The responses provider (OpenAI's Responses API) through the C ABI against the local server:
//! the request on the wire, the events, a tool round trip with reasoning that sends the
//! reasoning items back, truncation, failure events and retries.

mod common;
use AichatEventKind::*;
use common::*;
use serde_json::{Value, json};

fn responses(base: &str, messages: &str, extra: &str) -> String {
    protocol_request("responses", "gpt-test", &format!("{base}/v1"), messages, extra)
}

/// The body the server received.
fn sent(server: &Server, messages: &str, extra: &str) -> Value {
    received(&responses(&server.fault_url("echo"), messages, extra))["body"].clone()
}

#[test]
fn a_stream_gives_the_same_events_as_every_protocol() {
    let server = Server::start().unwrap();
    for stream in [true, false] {
        let out = events(&responses(&server.base_url(), HI, &format!(r#""stream":{stream}"#)));
        assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
        let mut kinds: Vec<_> = out.events.iter().map(|e| e.kind).collect();
        kinds.dedup();
        assert_eq!(
            kinds,
            [AICHAT_EVENT_RESPONSE, AICHAT_EVENT_TEXT, AICHAT_EVENT_FINISH, AICHAT_EVENT_USAGE, AICHAT_EVENT_MESSAGE]
        );
        assert_eq!((out.events[0].id.as_str(), out.events[0].name.as_str()), ("resp_aichat_test", "gpt-test"));
        assert_eq!(out.joined(AICHAT_EVENT_TEXT), "You said: Hi");
        assert_eq!(out.of_kind(AICHAT_EVENT_FINISH)[0].text, "stop");
        let u = out.of_kind(AICHAT_EVENT_USAGE)[0].usage.unwrap();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens, u.cached_tokens, u.reasoning_tokens),
            (9, 12, 21, 3, 4)
        );
    }
}

#[test]
fn the_conversation_and_settings_are_translated() {
    let server = Server::start().unwrap();
    let messages = r#"[{"role":"system","content":"Be brief."},
        {"role":"user","content":[{"type":"text","text":"Look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
        {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},
        {"role":"tool","tool_call_id":"call_1","content":"42"}]"#;
    let extra = r#""stream":true,"max_tokens":50,"reasoning_effort":"low","user":"u-1",
        "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}},
                 {"type":"function","function":{"name":"g","strict":true}}],
        "tool_choice":{"type":"function","function":{"name":"f"}},
        "response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"},"strict":true}}"#;
    let body = sent(&server, messages, extra);
    assert_eq!(body["store"], false);
    assert_eq!(body["include"], json!(["reasoning.encrypted_content"]));
    assert_eq!(
        body["input"],
        json!([
            {"role":"system","content":"Be brief."},
            {"role":"user","content":[{"type":"input_text","text":"Look"},{"type":"input_image","image_url":"data:image/png;base64,AAAA"}]},
            {"type":"function_call","call_id":"call_1","name":"f","arguments":"{\"a\":1}"},
            {"type":"function_call_output","call_id":"call_1","output":"42"}
        ])
    );
    assert_eq!(
        body["tools"],
        json!([{"type":"function","name":"f","description":"d","parameters":{"type":"object"},"strict":false},
               {"type":"function","name":"g","strict":true}])
    );
    assert_eq!(body["tool_choice"], json!({"type":"function","name":"f"}));
    assert_eq!(body["max_output_tokens"], 50);
    assert_eq!(body["reasoning"], json!({"effort":"low","summary":"auto"}));
    assert_eq!(
        body["text"],
        json!({"format":{"type":"json_schema","name":"s","schema":{"type":"object"},"strict":true}})
    );
    assert_eq!(body["user"], "u-1");
}

#[test]
fn a_tool_round_trip_with_reasoning_sends_the_reasoning_items_back() {
    let server = Server::start().unwrap();
    let tools = r#""stream":true,"tools":[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":"string"}}}}}]"#;
    let out = events(&responses(&server.fault_url("reasoning"), HI, tools));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert!(out.joined(AICHAT_EVENT_REASONING).starts_with("The user wrote something"));
    let call = out.of_kind(AICHAT_EVENT_TOOL_CALL)[0];
    assert_eq!((call.id.as_str(), call.name.as_str()), ("call_aichat_0", "get_time"), "the call_id, not the fc_ id");
    assert_eq!(out.joined(AICHAT_EVENT_TOOL_ARGUMENTS), r#"{"tz":"Hi"}"#);
    assert_eq!(out.of_kind(AICHAT_EVENT_FINISH)[0].text, "tool_calls");
    let message: Value = serde_json::from_str(&out.of_kind(AICHAT_EVENT_MESSAGE)[0].text).unwrap();
    let items = message["reasoning_items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["encrypted_content"], "enc-aichat-test-final", "the final form, from output_item.done");

    // The next turn: MESSAGE as it came, then the tool's result.
    let next = format!(
        r#"[{{"role":"user","content":"Hi"}},{},{{"role":"tool","tool_call_id":"call_aichat_0","content":"12:00"}}]"#,
        out.of_kind(AICHAT_EVENT_MESSAGE)[0].text
    );
    let body = sent(&server, &next, r#""stream":true"#);
    let input = body["input"].as_array().unwrap();
    assert_eq!(input[1], items[0], "the reasoning item goes back exactly as received");
    assert_eq!(input[2]["type"], "function_call");
    assert_eq!(input[2]["call_id"], "call_aichat_0");
    let out = events(&responses(&server.base_url(), &next, r#""stream":true"#));
    assert_eq!(out.joined(AICHAT_EVENT_TEXT), "The tool returned: 12:00");
}

#[test]
fn truncation_failure_events_and_retries() {
    let server = Server::start().unwrap();
    let out = events(&responses(&server.fault_url("cut"), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{}", out.message);
    assert!(out.message.contains("`response.completed`"), "{}", out.message);

    let out = events(&responses(&server.fault_url("error-event"), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_SERVER, "{}", out.message);
    assert!(out.message.contains("server_error: The server had an error"), "{}", out.message);

    // A failed response before any output is retried as a 5xx would be, within the budget.
    let req = responses(&server.fault_url("key=r1,overload-first=1"), HI, r#""stream":true"#);
    let out = events(&req.replace(r#""max_retries":0"#, r#""max_retries":2"#));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(server.attempts("r1"), 2);
    let req = responses(&server.fault_url("key=r2,overload-first=9"), HI, r#""stream":true"#);
    let out = events(&req.replace(r#""max_retries":0"#, r#""max_retries":1"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_SERVER, "{}", out.message);
    assert_eq!(server.attempts("r2"), 2);
}

#[test]
fn an_incomplete_response_finishes_with_length() {
    let server = Server::start().unwrap();
    for stream in [true, false] {
        let out = events(&responses(&server.base_url(), HI, &format!(r#""stream":{stream},"max_tokens":1"#)));
        assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
        let finish = out.of_kind(AICHAT_EVENT_FINISH)[0];
        assert_eq!((finish.text.as_str(), finish.name.as_str()), ("length", "max_output_tokens"));
    }
}

#[test]
fn what_the_api_cannot_express_is_refused_by_name() {
    for field in [r#""stop":"x""#, r#""n":2"#, r#""seed":1"#, r#""presence_penalty":0.5"#] {
        let out = events(&responses("http://127.0.0.1:9", HI, field));
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST, "{field}");
        assert!(out.message.contains("is not supported by the responses provider"), "{}", out.message);
    }
}

#[test]
fn an_answer_over_a_mebibyte_streams_whole() {
    // The closing events (`response.output_text.done`, `response.completed`) repeat the whole
    // text: a long answer must not fail on the per-event cap other protocols have.
    let server = Server::start().unwrap();
    let out = events(&responses(&server.fault_url("chunks=200000"), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    let text = out.joined(AICHAT_EVENT_TEXT);
    assert!(text.len() > 1024 * 1024, "{}", text.len());
    assert!(text.starts_with("tok0 tok1 ") && text.ends_with("tok199999 "));
}
