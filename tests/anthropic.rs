//! `"provider": "anthropic"` through the C ABI against the local server: the request on the
//! wire (headers, the conversation as content blocks, every mapped field), the stream's named
//! events as the same events every protocol gives, and its failures.

mod common;
use AichatEventKind::*;
use common::*;
use serde_json::{Value, json};

const WEATHER: &str = r#"[{"type":"function","function":{"name":"get_weather","description":"Weather in a city",
    "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]"#;

fn anthropic(base: &str, messages: &str, extra: &str) -> String {
    protocol_request("anthropic", "claude-test", &format!("{base}/v1"), messages, extra)
}

/// What the server received.
fn echoed(server: &Server, messages: &str, extra: &str) -> Value {
    received(&anthropic(&server.fault_url("echo"), messages, extra))
}

#[test]
fn the_request_goes_to_messages_with_x_api_key_and_the_version() {
    let server = Server::start().unwrap();
    let seen = echoed(&server, HI, r#""api_key":"sk-ant-test""#);
    assert_eq!(seen["path"], "/fault/echo/v1/messages");
    assert_eq!(header(&seen, "x-api-key"), Some("sk-ant-test"));
    assert_eq!(header(&seen, "authorization"), None, "never a Bearer key");
    assert_eq!(header(&seen, "anthropic-version"), Some("2023-06-01"));
    assert_eq!(
        seen["body"],
        json!({"model":"claude-test","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]})
    );
    let seen = echoed(&server, HI, r#""headers":{"Anthropic-Version":"2024-01-01"},"max_tokens":50"#);
    assert_eq!(header(&seen, "anthropic-version"), Some("2024-01-01"));
    assert_eq!(seen["body"]["max_tokens"], 50);
}

#[test]
fn the_conversation_becomes_content_blocks() {
    let server = Server::start().unwrap();
    let messages = r#"[{"role":"system","content":"Be brief."},
        {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
        {"role":"assistant","content":"","reasoning_content":"hmm","reasoning_signature":"sig-1","tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
        {"role":"tool","tool_call_id":"c1","content":"sunny"}]"#;
    let extra = format!(
        r#""tools":{WEATHER},"tool_choice":"required","parallel_tool_calls":false,"stop":"END","temperature":0.5,"top_p":0.9"#
    );
    let body = &echoed(&server, messages, &extra)["body"];
    assert_eq!(body["system"], "Be brief.");
    assert_eq!(
        body["messages"],
        json!([
            {"role":"user","content":[{"type":"text","text":"What is this?"},
                {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},
            {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig-1"},
                {"type":"tool_use","id":"c1","name":"get_weather","input":{"city":"Paris"}}]},
            {"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":"sunny"}]}
        ])
    );
    assert_eq!(
        body["tools"],
        json!([{"name":"get_weather","description":"Weather in a city",
                "input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}])
    );
    assert_eq!(body["tool_choice"], json!({"type":"any","disable_parallel_tool_use":true}));
    assert_eq!(
        (&body["stop_sequences"], &body["temperature"], &body["top_p"]),
        (&json!(["END"]), &json!(0.5), &json!(0.9))
    );
}

#[test]
fn what_the_api_cannot_express_is_refused_by_name() {
    for (extra, field) in
        [(r#""seed":1"#, "seed"), (r#""n":2"#, "n"), (r#""presence_penalty":0.1"#, "presence_penalty")]
    {
        let out = events(&anthropic("http://127.0.0.1:9", HI, extra));
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST, "{field}");
        assert!(
            out.message.contains(&format!("`{field}` is not supported by the anthropic provider")),
            "{}",
            out.message
        );
    }
    let audio = r#"[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]"#;
    let out = events(&anthropic("http://127.0.0.1:9", audio, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(out.message.contains("`messages[0].content[0]`"), "{}", out.message);
}

#[test]
fn a_text_stream_gives_the_same_events_as_every_protocol() {
    let server = Server::start().unwrap();
    let out = events_ok(&anthropic(&server.fault_url("keepalive"), HI, r#""stream":true"#));
    let kinds: Vec<_> = out.events.iter().map(|e| e.kind).collect();
    let mut distinct = kinds.clone();
    distinct.dedup();
    assert_eq!(
        distinct,
        [AICHAT_EVENT_RESPONSE, AICHAT_EVENT_TEXT, AICHAT_EVENT_FINISH, AICHAT_EVENT_USAGE, AICHAT_EVENT_MESSAGE]
    );
    let r = &out.events[0];
    assert_eq!(
        (r.id.as_str(), r.name.as_str(), r.text.as_str()),
        ("msg_aichat_test", "claude-test", "req_aichat_anthropic")
    );
    assert_eq!(out.joined(AICHAT_EVENT_TEXT), "You said: Hi");
    assert!(out.of_kind(AICHAT_EVENT_TEXT).len() > 1, "streamed in pieces");
    let finish = out.of_kind(AICHAT_EVENT_FINISH)[0];
    assert_eq!((finish.text.as_str(), finish.name.as_str()), ("stop", "end_turn"));
    // Input 6 + 3 read from the cache: prompt_tokens counts both, as OpenAI's does.
    assert_eq!(
        out.of_kind(AICHAT_EVENT_USAGE)[0].usage,
        Some(AichatUsage {
            prompt_tokens: 9,
            completion_tokens: 12,
            total_tokens: 21,
            cached_tokens: 3,
            reasoning_tokens: -1
        })
    );
    assert_eq!(out.message_json(), json!({"role":"assistant","content":"You said: Hi"}));
}

#[test]
fn a_tool_use_block_gives_a_tool_call_and_its_argument_fragments() {
    let server = Server::start().unwrap();
    let out = events_ok(&anthropic(&server.base_url(), HI, &format!(r#""stream":true,"tools":{WEATHER}"#)));
    let call = out.of_kind(AICHAT_EVENT_TOOL_CALL);
    assert_eq!((call[0].index, call[0].id.as_str(), call[0].name.as_str()), (0, "toolu_aichat_0", "get_weather"));
    assert_eq!(out.of_kind(AICHAT_EVENT_TOOL_ARGUMENTS).len(), 2);
    assert_eq!(out.joined(AICHAT_EVENT_TOOL_ARGUMENTS), r#"{"city":"Hi"}"#);
    let finish = out.of_kind(AICHAT_EVENT_FINISH)[0];
    assert_eq!((finish.text.as_str(), finish.name.as_str()), ("tool_calls", "tool_use"));
    assert_eq!(
        out.message_json(),
        json!({"role":"assistant","content":null,"tool_calls":[
            {"id":"toolu_aichat_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Hi\"}"}}]})
    );
}

#[test]
fn thinking_and_its_signature_go_into_message_and_back_for_the_next_turn() {
    let server = Server::start().unwrap();
    let first =
        events_ok(&anthropic(&server.fault_url("reasoning"), HI, &format!(r#""stream":true,"tools":{WEATHER}"#)));
    assert_eq!(first.joined(AICHAT_EVENT_REASONING), "The user wrote something; I will quote it back.");
    let message = first.message_json();
    assert_eq!(message["reasoning_signature"], "sig-aichat-test");
    let messages = json!([{"role":"user","content":"Hi"}, message,
        {"role":"tool","tool_call_id":"toolu_aichat_0","content":"sunny"}]);
    let seen = echoed(&server, &messages.to_string(), &format!(r#""tools":{WEATHER}"#));
    assert_eq!(
        seen["body"]["messages"][1]["content"][0],
        json!({"type":"thinking","thinking":"The user wrote something; I will quote it back.","signature":"sig-aichat-test"})
    );
    let second = events_ok(&anthropic(&server.base_url(), &messages.to_string(), &format!(r#""tools":{WEATHER}"#)));
    assert_eq!(second.joined(AICHAT_EVENT_TEXT), "The tool returned: sunny");
}

#[test]
fn a_one_shot_answer_gives_the_same_events() {
    let server = Server::start().unwrap();
    let whole = events_ok(&anthropic(&server.fault_url("reasoning"), HI, ""));
    let streamed = events_ok(&anthropic(&server.fault_url("reasoning"), HI, r#""stream":true"#));
    assert_eq!(whole.message_json(), streamed.message_json());
    assert_eq!(whole.of_kind(AICHAT_EVENT_USAGE)[0].usage, streamed.of_kind(AICHAT_EVENT_USAGE)[0].usage);
    let tools = events_ok(&anthropic(&server.base_url(), HI, &format!(r#""tools":{WEATHER}"#)));
    assert_eq!(tools.joined(AICHAT_EVENT_TOOL_ARGUMENTS), r#"{"city":"Hi"}"#);
}

#[test]
fn an_error_event_is_a_server_error_and_a_cut_stream_is_truncated() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let out = events_with(&client, &anthropic(&server.fault_url("error-event"), HI, r#""stream":true"#), None);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_SERVER, "{}", out.message);
    assert!(out.message.contains("overloaded_error: Overloaded"), "{}", out.message);
    let out = events_with(&client, &anthropic(&server.fault_url("cut"), HI, r#""stream":true"#), None);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{}", out.message);
    assert!(out.message.contains("`message_stop`"), "{}", out.message);
    let out = events_with(
        &client,
        &anthropic(
            &server.fault_url("split-utf8,crlf"),
            r#"[{"role":"user","content":"héllo wörld"}]"#,
            r#""stream":true"#,
        ),
        None,
    );
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.joined(AICHAT_EVENT_TEXT), "You said: héllo wörld");
}

#[test]
fn the_text_api_works_on_the_messages_protocol_too() {
    let server = Server::start().unwrap();
    let out = complete(&ClientHandle::new(None), &anthropic(&server.base_url(), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text(), "You said: Hi");
}

#[test]
fn an_overload_reported_after_a_200_is_retried_while_nothing_was_delivered() {
    let server = Server::start().unwrap();
    let req = |faults: &str, retries: u32| {
        format!(
            r#"{{"provider":"anthropic","model":"claude-test","messages":{HI},"base_url":"{}/v1","proxy":"","max_retries":{retries},"stream":true}}"#,
            server.fault_url(faults)
        )
    };
    let out = events_with(&ClientHandle::new(None), &req("key=o1,overload-first=1", 2), None);
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.joined(AICHAT_EVENT_TEXT), "You said: Hi");
    assert_eq!(out.of_kind(AICHAT_EVENT_RESPONSE).len(), 1, "RESPONSE still comes once");
    assert_eq!(server.attempts("o1"), 2);

    let out = events_with(&ClientHandle::new(None), &req("key=o2,overload-first=9", 1), None);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_SERVER, "{}", out.message);
    assert_eq!(server.attempts("o2"), 2, "max_retries 1: two attempts");

    // One budget for every kind of retry: two 529s, then a 200 whose stream reports an
    // overload, with max_retries 2, is three requests in all, not (2 + 1)².
    let out = events_with(&ClientHandle::new(None), &req("key=o4,fail-first=2,status=529,overload-first=9", 2), None);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_SERVER, "{}", out.message);
    assert_eq!(server.attempts("o4"), 3, "max_retries 2: three attempts across status and stream retries");
    // Pulled streams share the budget too.
    let client = ClientHandle::new(None);
    let stream = open_stream(&client, &req("key=o5,fail-first=2,status=529,overload-first=9", 2), None).unwrap();
    let failure = loop {
        match next(&stream, 1000) {
            Ok((_, true)) => panic!("the stream ended without the overload"),
            Ok(_) => continue,
            Err(failure) => break failure,
        }
    };
    assert_eq!(failure.0, AichatStatus::AICHAT_ERROR_SERVER, "{}", failure.1);
    assert_eq!(server.attempts("o5"), 3);

    // Once a piece of the answer was delivered, a failure is final.
    let out = events_with(&ClientHandle::new(None), &req("key=o3,error-event", 2), None);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_SERVER, "{}", out.message);
    assert_eq!(server.attempts("o3"), 1);
}
