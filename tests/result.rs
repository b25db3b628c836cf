//! RESULT, the whole answer assembled by the library, through the C ABI against the local
//! server: its JSON agrees with the events before it and with `aichat_event_result`'s typed
//! view (checked for every RESULT by `copy_event`), pushed and pulled alike.

mod common;
use AichatEventKind::*;
use common::*;
use serde_json::{Value, json};

const TOOLS: &str = r#"[{"type":"function","function":{"name":"get_weather",
    "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
  {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"zone":{"type":"string"}}}}}]"#;

fn openai(base: &str, extra: &str) -> String {
    format!(r#"{{"provider":"openai","messages":{HI},"base_url":"{base}/v1","proxy":"","max_retries":0,{extra}}}"#)
}

fn ok(out: EventOutcome) -> EventOutcome {
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    out
}

/// RESULT's JSON, checked against its typed view, and that it is the very last event.
fn result_of(out: &EventOutcome) -> Value {
    let last = out.events.last().expect("events");
    assert_eq!(last.kind, AICHAT_EVENT_RESULT, "RESULT is last");
    assert_eq!(out.of_kind(AICHAT_EVENT_RESULT).len(), 1, "once");
    let json: Value = serde_json::from_str(&last.text).expect("RESULT's text is JSON");
    assert_eq!(last.result.as_ref(), Some(&json), "the typed view is the JSON");
    json
}

/// The answer folded from the events before RESULT, the way each wrapper used to: RESULT must
/// say the same.
fn folded(out: &EventOutcome) -> Value {
    let response = out.of_kind(AICHAT_EVENT_RESPONSE)[0];
    let choices: Vec<u32> = out.of_kind(AICHAT_EVENT_MESSAGE).iter().map(|e| e.choice).collect();
    let choices: Vec<Value> = choices
        .into_iter()
        .map(|n| {
            let of = |kind| -> String {
                out.events.iter().filter(|e| e.kind == kind && e.choice == n).map(|e| e.text.as_str()).collect()
            };
            let mut calls: Vec<(String, String, String)> = Vec::new();
            for e in out.events.iter().filter(|e| e.choice == n) {
                match e.kind {
                    AICHAT_EVENT_TOOL_CALL => calls.push((e.id.clone(), e.name.clone(), String::new())),
                    AICHAT_EVENT_TOOL_ARGUMENTS => calls[e.index as usize].2.push_str(&e.text),
                    _ => {}
                }
            }
            let calls: Vec<Value> = calls
                .into_iter()
                .map(|(id, name, args)| json!({"id":id,"type":"function","function":{"name":name,"arguments":args}}))
                .collect();
            let finish = out.events.iter().find(|e| e.kind == AICHAT_EVENT_FINISH && e.choice == n);
            let message = out.events.iter().find(|e| e.kind == AICHAT_EVENT_MESSAGE && e.choice == n).unwrap();
            json!({"index": n, "text": of(AICHAT_EVENT_TEXT), "reasoning": of(AICHAT_EVENT_REASONING),
                   "refusal": of(AICHAT_EVENT_REFUSAL), "tool_calls": calls,
                   "finish_reason": finish.map(|f| f.text.clone()), "finish_reason_raw": finish.map(|f| f.name.clone()),
                   "message": serde_json::from_str::<Value>(&message.text).unwrap()})
        })
        .collect();
    let usage = out.of_kind(AICHAT_EVENT_USAGE).first().and_then(|e| e.usage).map_or(Value::Null, |u| {
        let n = |v: i64| if v < 0 { Value::Null } else { json!(v) };
        json!({"prompt_tokens": n(u.prompt_tokens), "completion_tokens": n(u.completion_tokens),
               "total_tokens": n(u.total_tokens), "cached_tokens": n(u.cached_tokens), "reasoning_tokens": n(u.reasoning_tokens)})
    });
    json!({"id": response.id, "model": response.name, "request_id": response.text, "choices": choices, "usage": usage})
}

#[test]
fn two_choices_with_reasoning_and_tool_calls_pushed_and_pulled() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let req = openai(
        &server.fault_url("reasoning,parallel-tools"),
        &format!(r#""stream":true,"n":2,"result":true,"tools":{TOOLS}"#),
    );
    let pushed = ok(events_with(&client, &req, None));
    let pulled = ok(pulled_events(&client, &req));
    assert_eq!(pushed.events, pulled.events, "pulled events are the pushed ones, RESULT included");
    let result = result_of(&pushed);
    assert_eq!(result, folded(&pushed));
    assert_eq!(result["choices"].as_array().unwrap().len(), 2);
    for (n, choice) in result["choices"].as_array().unwrap().iter().enumerate() {
        assert_eq!(choice["index"], n);
        assert_eq!(choice["reasoning"], "The user wrote something; I will quote it back.");
        assert_eq!(
            (&choice["finish_reason"], &choice["finish_reason_raw"]),
            (&json!("tool_calls"), &json!("tool_calls"))
        );
        let calls = choice["tool_calls"].as_array().unwrap();
        assert_eq!(calls.len(), 2, "{choice}");
        // In order of first appearance: the server opens them in reverse order.
        assert_eq!(
            (&calls[0]["function"]["name"], &calls[1]["function"]["name"]),
            (&json!("get_time"), &json!("get_weather"))
        );
        assert_eq!(choice["message"]["tool_calls"], choice["tool_calls"]);
        assert_eq!(choice["text"], "");
    }
    assert_eq!(
        result["usage"],
        json!({"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,"cached_tokens":3,"reasoning_tokens":4})
    );
    assert_eq!((&result["id"], &result["request_id"]), (&json!("chatcmpl-aichat-test"), &json!("req-aichat-test")));
    // RESULT's own `usage` pointer carries the counts, as USAGE's does.
    assert_eq!(pushed.events.last().unwrap().usage, pushed.of_kind(AICHAT_EVENT_USAGE)[0].usage);
}

#[test]
fn a_refusal_a_one_shot_answer_and_no_usage() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let refusal =
        ok(events_with(&client, &openai(&server.fault_url("refusal"), r#""stream":true,"result":true"#), None));
    let result = result_of(&refusal);
    assert_eq!(result, folded(&refusal));
    assert_eq!(result["choices"][0]["refusal"], "I can't help with that.");
    assert_eq!(result["choices"][0]["message"]["content"], Value::Null);

    let one_shot = ok(pulled_events(&client, &openai(&server.fault_url("reasoning"), r#""result":true"#)));
    assert_eq!(result_of(&one_shot), folded(&one_shot));
    assert_eq!(result_of(&one_shot)["choices"][0]["text"], "You said: Hi");

    let no_usage = ok(events_with(
        &client,
        &openai(&server.base_url(), r#""stream":true,"include_usage":false,"result":true"#),
        None,
    ));
    let result = result_of(&no_usage);
    assert_eq!(result["usage"], Value::Null);
    let counts = no_usage.events.last().unwrap().usage.unwrap();
    assert_eq!((counts.prompt_tokens, counts.total_tokens, counts.reasoning_tokens), (-1, -1, -1));
}

#[test]
fn result_is_opt_in_from_the_request_or_the_client_and_every_protocol_takes_it() {
    let server = Server::start().unwrap();
    let plain = ok(events_with(&ClientHandle::new(None), &openai(&server.base_url(), r#""stream":true"#), None));
    assert_eq!(plain.events.last().unwrap().kind, AICHAT_EVENT_MESSAGE, "no RESULT unless asked");
    let by_client = ClientHandle::new(Some(r#"{"result":true}"#));
    let out = ok(events_with(&by_client, &openai(&server.base_url(), r#""stream":true"#), None));
    assert_eq!(result_of(&out)["choices"][0]["text"], "You said: Hi");
    let off = ok(events_with(&by_client, &openai(&server.base_url(), r#""stream":true,"result":false"#), None));
    assert!(off.of_kind(AICHAT_EVENT_RESULT).is_empty(), "a request's false wins");
    // The text API is unchanged by it.
    assert_eq!(complete(&by_client, &openai(&server.base_url(), r#""stream":true"#)).text(), "You said: Hi");

    let base = server.base_url();
    for req in [
        format!(r#"{{"provider":"aichat","messages":{HI},"base_url":"{base}","proxy":"","result":true}}"#),
        format!(
            r#"{{"provider":"anthropic","model":"claude-test","messages":{HI},"base_url":"{base}/v1","proxy":"","stream":true,"result":true}}"#
        ),
        format!(
            r#"{{"provider":"ollama","model":"llama-test","messages":{HI},"base_url":"{base}","proxy":"","stream":true,"result":true}}"#
        ),
    ] {
        let out = ok(events_with(&ClientHandle::new(None), &req, None));
        assert_eq!(result_of(&out), folded(&out), "{req}");
    }
}

#[test]
fn a_failed_call_has_no_result_and_other_events_have_no_typed_view() {
    let server = Server::start().unwrap();
    let client = ClientHandle::new(None);
    let failed =
        events_with(&client, &openai(&server.fault_url("error-event"), r#""stream":true,"result":true"#), None);
    assert_eq!(failed.status, AichatStatus::AICHAT_ERROR_SERVER);
    assert!(failed.of_kind(AICHAT_EVENT_RESULT).is_empty());
    // Stopped at MESSAGE: no RESULT either.
    let req = openai(&server.base_url(), r#""stream":true,"result":true"#);
    let all = ok(events_with(&client, &req, None)).events.len();
    let stopped = events_with(&client, &req, Some(all - 1));
    assert_eq!(stopped.status, AichatStatus::AICHAT_ERROR_CANCELLED);
    assert!(stopped.of_kind(AICHAT_EVENT_RESULT).is_empty());
    assert!(unsafe { aichat_event_result(std::ptr::null()) }.is_null());
}
