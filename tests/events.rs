//! The event API through the C ABI against the local server: every rule of the typed events
//! (order, tool calls, reasoning, usage, refusal, n > 1, one-shot answers, the aichat provider),
//! pushed and pulled, and the richer request side.

mod common;
use AichatEventKind::*;
use common::*;
use serde_json::{Value, json};

const WEATHER: &str = r#"[{"type":"function","function":{"name":"get_weather","description":"Weather in a city",
    "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
  {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"zone":{"type":"string"}}}}}]"#;

/// An openai request to `base` (a server URL, with or without a fault prefix) + `/v1`.
fn openai(base: &str, messages: &str, extra: &str) -> String {
    let extra = if extra.is_empty() { String::new() } else { format!(",{extra}") };
    format!(r#"{{"provider":"openai","messages":{messages},"base_url":"{base}/v1","proxy":"","max_retries":0{extra}}}"#)
}

fn run(req: &str) -> EventOutcome {
    let out = events_with(&ClientHandle::new(None), req, None);
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    out
}

fn kinds(out: &EventOutcome) -> Vec<AichatEventKind> {
    let mut kinds: Vec<_> = out.events.iter().map(|e| e.kind).collect();
    kinds.dedup();
    kinds
}

fn stream_with(server: &Server, faults: &str, messages: &str, extra: &str) -> EventOutcome {
    let base = if faults.is_empty() { server.base_url() } else { server.fault_url(faults) };
    let extra = if extra.is_empty() { r#""stream":true"#.to_string() } else { format!(r#""stream":true,{extra}"#) };
    run(&openai(&base, messages, &extra))
}

fn tools_extra() -> String {
    format!(r#""tools":{WEATHER}"#)
}

#[test]
fn a_text_stream_gives_response_text_finish_usage_message_in_order() {
    let server = Server::start().unwrap();
    let out = stream_with(&server, "", HI, "");
    assert_eq!(
        kinds(&out),
        [AICHAT_EVENT_RESPONSE, AICHAT_EVENT_TEXT, AICHAT_EVENT_FINISH, AICHAT_EVENT_USAGE, AICHAT_EVENT_MESSAGE]
    );
    let response = &out.events[0];
    assert_eq!(
        (response.id.as_str(), response.name.as_str(), response.text.as_str()),
        ("chatcmpl-aichat-test", "gpt-3.5-turbo", "req-aichat-test")
    );
    assert_eq!(out.joined(AICHAT_EVENT_TEXT), "You said: Hi");
    assert!(out.of_kind(AICHAT_EVENT_TEXT).len() > 1, "streamed in pieces");
    let finish = out.of_kind(AICHAT_EVENT_FINISH)[0];
    assert_eq!((finish.text.as_str(), finish.name.as_str()), ("stop", "stop"));
    assert_eq!(
        out.of_kind(AICHAT_EVENT_USAGE)[0].usage,
        Some(AichatUsage {
            prompt_tokens: 9,
            completion_tokens: 12,
            total_tokens: 21,
            cached_tokens: 3,
            reasoning_tokens: 4
        })
    );
    assert_eq!(out.message_json(), json!({"role":"assistant","content":"You said: Hi"}));
}

#[test]
fn include_usage_false_asks_for_none_and_gets_none() {
    let server = Server::start().unwrap();
    let out = stream_with(&server, "", HI, r#""include_usage":false"#);
    assert!(out.of_kind(AICHAT_EVENT_USAGE).is_empty());
    assert_eq!(out.events.last().unwrap().kind, AICHAT_EVENT_MESSAGE);
}

#[test]
fn a_streamed_tool_call_gives_its_call_then_its_argument_fragments() {
    let server = Server::start().unwrap();
    let out = stream_with(&server, "", HI, &tools_extra());
    let call = out.of_kind(AICHAT_EVENT_TOOL_CALL);
    assert_eq!(call.len(), 1);
    assert_eq!((call[0].index, call[0].id.as_str(), call[0].name.as_str()), (0, "call_aichat_0", "get_weather"));
    assert_eq!(call[0].text, "");
    let first_call = out.events.iter().position(|e| e.kind == AICHAT_EVENT_TOOL_CALL).unwrap();
    let first_args = out.events.iter().position(|e| e.kind == AICHAT_EVENT_TOOL_ARGUMENTS).unwrap();
    assert!(first_call < first_args);
    assert!(out.of_kind(AICHAT_EVENT_TOOL_ARGUMENTS).len() >= 2, "arguments arrive in fragments");
    assert_eq!(out.joined(AICHAT_EVENT_TOOL_ARGUMENTS), r#"{"city":"Hi"}"#);
    assert_eq!(out.of_kind(AICHAT_EVENT_FINISH)[0].text, "tool_calls");
    assert_eq!(
        out.message_json(),
        json!({"role":"assistant","content":null,"tool_calls":[
            {"id":"call_aichat_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Hi\"}"}}]})
    );
    assert!(out.of_kind(AICHAT_EVENT_TEXT).is_empty());
}

#[test]
fn the_tool_round_trip_sends_message_and_result_back() {
    let server = Server::start().unwrap();
    let first = stream_with(&server, "", r#"[{"role":"user","content":"Paris"}]"#, &tools_extra());
    let assistant = first.message_json();
    let call_id = assistant["tool_calls"][0]["id"].as_str().unwrap().to_string();
    let messages = json!([
        {"role":"user","content":"Paris"},
        assistant,
        {"role":"tool","tool_call_id":call_id,"content":"sunny, 21 C"}
    ]);
    let second = stream_with(&server, "", &messages.to_string(), &tools_extra());
    assert_eq!(second.joined(AICHAT_EVENT_TEXT), "The tool returned: sunny, 21 C");
    assert_eq!(second.of_kind(AICHAT_EVENT_FINISH)[0].text, "stop");
}

#[test]
fn parallel_calls_are_matched_by_index_and_numbered_by_first_appearance() {
    let server = Server::start().unwrap();
    let out = stream_with(&server, "parallel-tools", HI, &tools_extra());
    let calls = out.of_kind(AICHAT_EVENT_TOOL_CALL);
    // The server opens its index 1 first, in one chunk with index 0.
    assert_eq!(
        calls.iter().map(|c| (c.index, c.id.as_str(), c.name.as_str())).collect::<Vec<_>>(),
        [(0, "call_aichat_1", "get_time"), (1, "call_aichat_0", "get_weather")]
    );
    let args = |index: u32| -> String {
        out.events
            .iter()
            .filter(|e| e.kind == AICHAT_EVENT_TOOL_ARGUMENTS && e.index == index)
            .map(|e| e.text.as_str())
            .collect()
    };
    assert_eq!(args(0), r#"{"zone":"Hi"}"#);
    assert_eq!(args(1), r#"{"city":"Hi"}"#);
    let message = out.message_json();
    assert_eq!(message["tool_calls"][0]["function"]["arguments"], args(0));
    assert_eq!(message["tool_calls"][1]["function"]["arguments"], args(1));
    assert_eq!(message["tool_calls"][1]["id"], "call_aichat_0");
}

#[test]
fn a_whole_call_in_one_chunk_gives_one_call_and_one_arguments_event() {
    let server = Server::start().unwrap();
    let out = stream_with(&server, "whole-tool-call", HI, &tools_extra());
    let kinds: Vec<_> = out
        .events
        .iter()
        .filter(|e| matches!(e.kind, AICHAT_EVENT_TOOL_CALL | AICHAT_EVENT_TOOL_ARGUMENTS))
        .map(|e| (e.kind, e.text.as_str()))
        .collect();
    assert_eq!(kinds, [(AICHAT_EVENT_TOOL_CALL, ""), (AICHAT_EVENT_TOOL_ARGUMENTS, r#"{"city":"Hi"}"#)]);
}

#[test]
fn a_reused_index_with_a_new_id_is_a_new_call_and_a_repeated_id_continues() {
    let server = Server::start().unwrap();
    let out = stream_with(&server, "reused-index", HI, &tools_extra());
    let calls = out.of_kind(AICHAT_EVENT_TOOL_CALL);
    assert_eq!(
        calls.iter().map(|c| (c.index, c.id.as_str())).collect::<Vec<_>>(),
        [(0, "call_aichat_0"), (1, "call_aichat_1")]
    );
    let message = out.message_json();
    assert_eq!(message["tool_calls"][0]["function"]["arguments"], r#"{"city":"Hi"}"#);
    assert_eq!(message["tool_calls"][1]["function"]["arguments"], r#"{"zone":"Hi"}"#);
    assert_eq!(message["tool_calls"].as_array().unwrap().len(), 2);
}

#[test]
fn usage_on_every_chunk_is_delivered_once_with_the_last_counts() {
    let server = Server::start().unwrap();
    let out = stream_with(&server, "usage-every-chunk", HI, r#""include_usage":false"#);
    let usage = out.of_kind(AICHAT_EVENT_USAGE);
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0].usage.unwrap().total_tokens, 21);
    let finish = out.events.iter().position(|e| e.kind == AICHAT_EVENT_FINISH).unwrap();
    let usage_at = out.events.iter().position(|e| e.kind == AICHAT_EVENT_USAGE).unwrap();
    assert!(finish < usage_at, "USAGE comes after the finish reasons");
}

#[test]
fn a_refusal_is_its_own_event_and_message_field() {
    let server = Server::start().unwrap();
    let out = stream_with(&server, "refusal", HI, "");
    assert_eq!(out.joined(AICHAT_EVENT_REFUSAL), "I can't help with that.");
    assert_eq!(out.message_json(), json!({"role":"assistant","content":null,"refusal":"I can't help with that."}));
}

#[test]
fn reasoning_comes_before_the_text_from_either_field_and_never_twice() {
    let server = Server::start().unwrap();
    for fault in ["reasoning", "reasoning=field", "reasoning=both"] {
        let out = stream_with(&server, fault, HI, "");
        assert_eq!(out.joined(AICHAT_EVENT_REASONING), "The user wrote something; I will quote it back.", "{fault}");
        let last_reasoning = out.events.iter().rposition(|e| e.kind == AICHAT_EVENT_REASONING).unwrap();
        let first_text = out.events.iter().position(|e| e.kind == AICHAT_EVENT_TEXT).unwrap();
        assert!(last_reasoning < first_text, "{fault}");
        assert_eq!(out.message_json()["reasoning_content"], "The user wrote something; I will quote it back.");
    }
}

#[test]
fn several_choices_keep_apart_and_their_messages_come_at_the_very_end() {
    let server = Server::start().unwrap();
    let out = stream_with(&server, "", HI, r#""n":2"#);
    for choice in 0..2 {
        let text: String = out
            .events
            .iter()
            .filter(|e| e.kind == AICHAT_EVENT_TEXT && e.choice == choice)
            .map(|e| e.text.as_str())
            .collect();
        assert_eq!(text, "You said: Hi", "choice {choice}");
    }
    assert_eq!(out.of_kind(AICHAT_EVENT_FINISH).len(), 2);
    let tail: Vec<_> = out.events.iter().rev().take(3).rev().map(|e| (e.kind, e.choice)).collect();
    assert_eq!(tail, [(AICHAT_EVENT_USAGE, 0), (AICHAT_EVENT_MESSAGE, 0), (AICHAT_EVENT_MESSAGE, 1)]);
}

#[test]
fn the_text_api_gives_only_choice_zero_text() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let two = complete(&client, &openai(&server.base_url(), HI, r#""stream":true,"n":2"#));
    assert_eq!(two.text(), "You said: Hi");
    let tools = complete(&client, &openai(&server.base_url(), HI, &format!(r#""stream":true,{}"#, tools_extra())));
    assert_eq!((tools.status, tools.chunks.len()), (AichatStatus::AICHAT_OK, 0));
    let reasoning = complete(&client, &openai(&server.fault_url("reasoning"), HI, r#""stream":true"#));
    assert_eq!(reasoning.text(), "You said: Hi");
}

#[test]
fn a_one_shot_answer_gives_the_same_events() {
    let server = Server::start().unwrap();
    let text = run(&openai(&server.fault_url("reasoning"), HI, ""));
    assert_eq!(
        kinds(&text),
        [
            AICHAT_EVENT_RESPONSE,
            AICHAT_EVENT_REASONING,
            AICHAT_EVENT_TEXT,
            AICHAT_EVENT_FINISH,
            AICHAT_EVENT_USAGE,
            AICHAT_EVENT_MESSAGE
        ]
    );
    assert_eq!(text.events[0].text, "req-aichat-test");
    assert_eq!(text.of_kind(AICHAT_EVENT_TEXT).len(), 1);
    let streamed = stream_with(&server, "reasoning", HI, "");
    assert_eq!(text.message_json(), streamed.message_json());
    let tools = run(&openai(&server.base_url(), HI, &tools_extra()));
    assert_eq!(
        kinds(&tools),
        [
            AICHAT_EVENT_RESPONSE,
            AICHAT_EVENT_TOOL_CALL,
            AICHAT_EVENT_TOOL_ARGUMENTS,
            AICHAT_EVENT_FINISH,
            AICHAT_EVENT_USAGE,
            AICHAT_EVENT_MESSAGE
        ]
    );
    assert_eq!(tools.message_json(), stream_with(&server, "", HI, &tools_extra()).message_json());
}

#[test]
fn the_aichat_provider_gives_response_text_finish_message() {
    let server = Server::start().unwrap();
    let out = run(&request(&server.base_url(), HI, ""));
    assert_eq!(kinds(&out), [AICHAT_EVENT_RESPONSE, AICHAT_EVENT_TEXT, AICHAT_EVENT_FINISH, AICHAT_EVENT_MESSAGE]);
    assert_eq!((out.events[0].id.as_str(), out.events[0].name.as_str()), ("", ""));
    assert_eq!(out.of_kind(AICHAT_EVENT_FINISH)[0].text, "stop");
    assert_eq!(out.message_json(), json!({"role":"assistant","content":out.joined(AICHAT_EVENT_TEXT)}));
}

#[test]
fn the_aichat_provider_names_content_that_is_not_text() {
    let server = Server::start().unwrap();
    let out = events_with(
        &ClientHandle::new(None),
        &request(&server.base_url(), r#"[{"role":"user","content":[{"type":"text","text":"Hi"}]}]"#, ""),
        None,
    );
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(out.message.contains("`messages[0].content`"), "{}", out.message);
    assert!(out.events.is_empty());
}

#[test]
fn a_non_zero_return_stops_the_call() {
    let server = Server::start().unwrap();
    let out = events_with(&ClientHandle::new(None), &openai(&server.base_url(), HI, r#""stream":true"#), Some(2));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CANCELLED);
    assert_eq!(out.events.len(), 2);
}

#[test]
fn errors_mid_stream_and_truncation_are_as_for_text() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let error = events_with(&client, &openai(&server.fault_url("error-event"), HI, r#""stream":true"#), None);
    assert_eq!(error.status, AichatStatus::AICHAT_ERROR_SERVER);
    assert!(!error.of_kind(AICHAT_EVENT_TEXT).is_empty());
    assert!(error.of_kind(AICHAT_EVENT_MESSAGE).is_empty(), "no MESSAGE for a failed answer");
    let cut = events_with(&client, &openai(&server.fault_url("cut"), HI, r#""stream":true"#), None);
    assert_eq!(cut.status, AichatStatus::AICHAT_ERROR_PROTOCOL);
}

#[test]
fn pulled_events_are_the_pushed_events() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    for faults in ["parallel-tools", "reasoning,split-utf8", "refusal,crlf"] {
        let req = openai(
            &server.fault_url(faults),
            r#"[{"role":"user","content":"héllo wörld"}]"#,
            &format!(r#""stream":true,{}"#, tools_extra()),
        );
        let pushed = events_with(&client, &req, None);
        let pulled = pulled_events(&client, &req);
        assert_eq!(pushed.status, AichatStatus::AICHAT_OK, "{faults}: {}", pushed.message);
        assert_eq!(pulled.status, AichatStatus::AICHAT_OK, "{faults}: {}", pulled.message);
        assert_eq!(pushed.events, pulled.events, "{faults}");
    }
    let failed = pulled_events(&client, &openai(&server.fault_url("error-event"), HI, r#""stream":true"#));
    assert_eq!(failed.status, AichatStatus::AICHAT_ERROR_SERVER);
    assert!(!failed.of_kind(AICHAT_EVENT_TEXT).is_empty());
}

#[test]
fn a_stream_is_pulled_the_way_it_was_opened() {
    use std::ffi::CString;
    use std::ptr;
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let req = CString::new(openai(&server.base_url(), HI, r#""stream":true"#)).unwrap();
    unsafe {
        let text = aichat_client_stream_open(client.0, req.as_ptr(), ptr::null(), ptr::null_mut());
        let mut events = AichatEvents { items: ptr::null(), count: 0, finished: false };
        let mut error = ptr::null_mut();
        assert_eq!(
            aichat_stream_next_events(text, 0, &mut events, &mut error),
            AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT
        );
        assert!(message_of(error).contains("aichat_stream_next"), "{}", message_of(error));
        aichat_error_free(error);
        aichat_stream_free(text);
        let ev = aichat_client_stream_open_events(client.0, req.as_ptr(), ptr::null(), ptr::null_mut());
        let mut chunks = std::mem::zeroed::<AichatChunks>();
        assert_eq!(
            aichat_stream_next(ev, 0, &mut chunks, ptr::null_mut()),
            AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT
        );
        assert_eq!(
            aichat_stream_next_events(ev, 0, ptr::null_mut(), ptr::null_mut()),
            AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT
        );
        aichat_stream_free(ev);
    }
}

#[test]
fn null_callback_and_arguments_are_invalid() {
    use std::ffi::CString;
    use std::ptr;
    let client = ClientHandle::new(None);
    let req = CString::new(HI).unwrap();
    unsafe {
        let s = aichat_client_create_completion_events(
            client.0,
            req.as_ptr(),
            None,
            ptr::null_mut(),
            ptr::null(),
            ptr::null_mut(),
        );
        assert_eq!(s, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
        let s = aichat_client_create_completion_events(
            ptr::null(),
            req.as_ptr(),
            Some(collect_event),
            ptr::null_mut(),
            ptr::null(),
            ptr::null_mut(),
        );
        assert_eq!(s, AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT);
        assert!(aichat_client_stream_open_events(client.0, ptr::null(), ptr::null(), ptr::null_mut()).is_null());
        assert_eq!(
            aichat_stream_next_events(ptr::null_mut(), 0, ptr::null_mut(), ptr::null_mut()),
            AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT
        );
    }
}

/// What the server received for a request (the `echo` fault answers with it).
fn echoed(server: &Server, messages: &str, extra: &str) -> Value {
    let out = run(&openai(&server.fault_url("echo"), messages, extra));
    serde_json::from_str(&out.joined(AICHAT_EVENT_TEXT)).unwrap()
}

#[test]
fn rich_messages_and_new_fields_go_on_the_wire_as_written() {
    let server = Server::start().unwrap();
    let messages = r#"[{"role":"system","content":"Be brief."},
        {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
        {"role":"assistant","content":null,"reasoning_content":"hmm","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"c1","content":"42","name":null}]"#;
    let seen = echoed(
        &server,
        messages,
        &format!(
            r#"{},"tool_choice":"required","parallel_tool_calls":false,"stop":["END"],"seed":7,"reasoning_effort":"low","n":1,"response_format":{{"type":"json_object"}}"#,
            tools_extra()
        ),
    );
    let body = &seen["body"];
    let sent: Value = serde_json::from_str(messages).unwrap();
    assert_eq!(body["messages"], sent);
    assert_eq!(body["messages"][3]["name"], Value::Null);
    assert!(body["messages"][3].as_object().unwrap().contains_key("name"), "nulls inside a message are sent");
    assert_eq!(body["tools"][1]["function"]["name"], "get_time");
    assert_eq!(
        (&body["tool_choice"], &body["parallel_tool_calls"], &body["stop"], &body["seed"]),
        (&json!("required"), &json!(false), &json!(["END"]), &json!(7))
    );
    assert_eq!((&body["reasoning_effort"], &body["n"]), (&json!("low"), &json!(1)));
    assert_eq!(body["response_format"], json!({"type":"json_object"}));
    assert_eq!(body.get("stream_options"), None, "not streamed: no stream_options");
}

#[test]
fn a_stream_asks_for_usage_by_default() {
    let server = Server::start().unwrap();
    let out = complete(&ClientHandle::new(None), &openai(&server.fault_url("echo"), HI, r#""stream":true"#));
    let seen: Value = serde_json::from_str(&out.text()).unwrap();
    assert_eq!(seen["body"]["stream_options"], json!({"include_usage": true}));
    let out = complete(
        &ClientHandle::new(None),
        &openai(&server.fault_url("echo"), HI, r#""stream":true,"include_usage":false"#),
    );
    let seen: Value = serde_json::from_str(&out.text()).unwrap();
    assert_eq!(seen["body"].get("stream_options"), None);
}
