//! The gemini provider (Google's Gemini API) through the C ABI against the local server: the
//! request on the wire, the events (streamed and not), a tool round trip with reasoning that
//! sends the thought signatures back (and the server's 400 without them), truncation, the error
//! chunk, retries, and what is refused by name.

mod common;
use AichatEventKind::*;
use common::*;
use serde_json::{Value, json};

fn gemini(base: &str, messages: &str, extra: &str) -> String {
    let extra = format!(r#""api_key":"g-key-123"{}"#, and(extra));
    protocol_request("gemini", "gemini-test", &format!("{base}/v1beta"), messages, &extra)
}

/// What the server received.
fn seen(server: &Server, messages: &str, extra: &str) -> Value {
    received(&gemini(&server.fault_url("echo"), messages, extra))
}

const TOOLS: &str = r#""tools":[{"type":"function","function":{"name":"get_time","description":"The time","parameters":{"type":"object","properties":{"tz":{"type":"string"}}}}}]"#;

#[test]
fn the_request_goes_to_the_model_path_with_the_key_in_a_header() {
    let server = Server::start().unwrap();
    let streamed = seen(&server, HI, r#""stream":true"#);
    assert_eq!(streamed["path"], "/fault/echo/v1beta/models/gemini-test:streamGenerateContent");
    assert_eq!(streamed["query"], "alt=sse");
    let headers = streamed["headers"].as_array().unwrap();
    assert!(headers.contains(&json!(["x-goog-api-key", "g-key-123"])), "{headers:?}");
    assert!(!headers.iter().any(|h| h[0] == "authorization"), "{headers:?}");
    assert!(!streamed.to_string().contains("key=g-key"), "the key is never in the URL");

    let whole = seen(&server, HI, r#""stream":false"#);
    assert_eq!(whole["path"], "/fault/echo/v1beta/models/gemini-test:generateContent");
    assert!(whole.get("query").is_none());

    // `models/` is dropped; what would leave the path segment is percent-encoded.
    let req = gemini(&server.fault_url("echo"), HI, "").replace("gemini-test", "models/gemini-x");
    let out = events(&req);
    let path: Value = serde_json::from_str(&out.joined(AICHAT_EVENT_TEXT)).unwrap();
    assert_eq!(path["path"], "/fault/echo/v1beta/models/gemini-x:generateContent");
    let req = gemini(&server.fault_url("echo"), HI, "").replace("gemini-test", "../x?y#z");
    let out = events(&req);
    let path: Value = serde_json::from_str(&out.joined(AICHAT_EVENT_TEXT)).unwrap();
    assert_eq!(path["path"], "/fault/echo/v1beta/models/..%2Fx%3Fy%23z:generateContent", "one path segment");
    assert!(path.get("query").is_none());
}

#[test]
fn the_conversation_and_settings_are_translated() {
    let server = Server::start().unwrap();
    let messages = r#"[{"role":"system","content":"Be brief."},
        {"role":"user","content":[{"type":"text","text":"Look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
        {"role":"assistant","content":"Let me see.","tool_calls":[
            {"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},
            {"id":"call_2","type":"function","function":{"name":"g","arguments":""}}]},
        {"role":"tool","tool_call_id":"call_1","content":"{\"temp\":21}"},
        {"role":"tool","tool_call_id":"call_2","content":"42"},
        {"role":"user","content":"Thanks"}]"#;
    let extra = r#""stream":true,"max_tokens":50,"temperature":0.5,"top_p":0.9,"stop":"END","seed":7,
        "reasoning_effort":"low",
        "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}},
                 {"type":"function","function":{"name":"g"}}],
        "tool_choice":{"type":"function","function":{"name":"f"}},
        "response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"}}}"#;
    let body = &seen(&server, messages, extra)["body"];
    assert_eq!(body["systemInstruction"], json!({"parts":[{"text":"Be brief."}]}));
    assert_eq!(
        body["contents"],
        json!([
            {"role":"user","parts":[{"text":"Look"},{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]},
            {"role":"model","parts":[{"text":"Let me see."},
                {"functionCall":{"name":"f","args":{"a":1},"id":"call_1"}},
                {"functionCall":{"name":"g","args":{},"id":"call_2"}}]},
            {"role":"user","parts":[
                {"functionResponse":{"name":"f","response":{"temp":21},"id":"call_1"}},
                {"functionResponse":{"name":"g","response":{"result":"42"},"id":"call_2"}}]},
            {"role":"user","parts":[{"text":"Thanks"}]}
        ])
    );
    assert_eq!(
        body["tools"],
        json!([{"functionDeclarations":[{"name":"f","description":"d","parameters":{"type":"object"}},{"name":"g"}]}])
    );
    assert_eq!(body["toolConfig"], json!({"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f"]}}));
    assert_eq!(
        body["generationConfig"],
        json!({"temperature":0.5,"topP":0.9,"stopSequences":["END"],"maxOutputTokens":50,"seed":7,
               "responseMimeType":"application/json","responseJsonSchema":{"type":"object"},
               "thinkingConfig":{"thinkingBudget":1024,"includeThoughts":true}})
    );
    for (choice, config) in [
        (r#""auto""#, json!({"mode":"AUTO"})),
        (r#""none""#, json!({"mode":"NONE"})),
        (r#""required""#, json!({"mode":"ANY"})),
    ] {
        let body = &seen(&server, HI, &format!(r#"{TOOLS},"tool_choice":{choice}"#))["body"];
        assert_eq!(body["toolConfig"]["functionCallingConfig"], config);
    }
    let body = &seen(&server, HI, r#""response_format":{"type":"json_object"}"#)["body"];
    assert_eq!(body["generationConfig"], json!({"responseMimeType":"application/json"}));
}

#[test]
fn what_cannot_be_sent_is_refused_by_name() {
    for field in [
        r#""n":2"#,
        r#""presence_penalty":0.5"#,
        r#""frequency_penalty":0.5"#,
        r#""parallel_tool_calls":false"#,
        r#""user":"u""#,
    ] {
        let out = events(&gemini("http://127.0.0.1:9", HI, field));
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST, "{field}");
        assert!(out.message.contains("is not supported by the gemini provider"), "{}", out.message);
    }
    let remote =
        r#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]"#;
    let out = events(&gemini("http://127.0.0.1:9", remote, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(
        out.message.contains("`messages[0].content[0].image_url.url` must be a base64 data: URL"),
        "{}",
        out.message
    );
    let orphan = r#"[{"role":"user","content":"Hi"},{"role":"tool","tool_call_id":"nope","content":"1"}]"#;
    let out = events(&gemini("http://127.0.0.1:9", orphan, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(out.message.contains("`messages[1].tool_call_id`"), "{}", out.message);
}

#[test]
fn a_stream_and_a_whole_answer_give_the_same_events() {
    let server = Server::start().unwrap();
    for stream in [true, false] {
        let out = events(&gemini(&server.base_url(), HI, &format!(r#""stream":{stream}"#)));
        assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
        let mut kinds: Vec<_> = out.events.iter().map(|e| e.kind).collect();
        kinds.dedup();
        assert_eq!(
            kinds,
            [AICHAT_EVENT_RESPONSE, AICHAT_EVENT_TEXT, AICHAT_EVENT_FINISH, AICHAT_EVENT_USAGE, AICHAT_EVENT_MESSAGE]
        );
        assert_eq!((out.events[0].id.as_str(), out.events[0].name.as_str()), ("gemini-aichat-test", "gemini-test"));
        assert_eq!(out.joined(AICHAT_EVENT_TEXT), "You said: Hi");
        let finish = out.of_kind(AICHAT_EVENT_FINISH)[0];
        assert_eq!((finish.text.as_str(), finish.name.as_str()), ("stop", "STOP"));
        // The last usage wins (the stream's earlier chunks carry running counts).
        let u = out.of_kind(AICHAT_EVENT_USAGE)[0].usage.unwrap();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens, u.cached_tokens, u.reasoning_tokens),
            (9, 12, 21, 3, 4)
        );
        let message = out.message_json();
        assert_eq!(message, json!({"role":"assistant","content":"You said: Hi"}), "no signature when none came");

        let out = events(&gemini(&server.base_url(), HI, &format!(r#""stream":{stream},"max_tokens":1"#)));
        let finish = out.of_kind(AICHAT_EVENT_FINISH)[0];
        assert_eq!((finish.text.as_str(), finish.name.as_str()), ("length", "MAX_TOKENS"));
    }
    let out = events(&gemini(&server.fault_url("chunks=5,keepalive,split-utf8,interval=1"), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.joined(AICHAT_EVENT_TEXT), "tok0 tok1 tok2 tok3 tok4 ");
}

#[test]
fn a_tool_round_trip_with_reasoning_sends_the_signatures_back() {
    let server = Server::start().unwrap();
    for stream in [true, false] {
        let extra = format!(r#""stream":{stream},{TOOLS}"#);
        let out = events(&gemini(&server.fault_url("reasoning,parallel-tools"), HI, &extra));
        assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
        assert!(out.joined(AICHAT_EVENT_REASONING).starts_with("The user wrote something"));
        assert_eq!(out.joined(AICHAT_EVENT_TEXT), "", "a thought part is not text");
        let calls = out.of_kind(AICHAT_EVENT_TOOL_CALL);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].name, "get_time");
        assert!(calls[0].id.starts_with("aichat-call-") && calls[0].id != calls[1].id, "made-up ids, unique");
        let arguments = out.of_kind(AICHAT_EVENT_TOOL_ARGUMENTS);
        assert_eq!(arguments.len(), 2, "one TOOL_ARGUMENTS a call");
        assert_eq!(arguments[0].text, r#"{"tz":"Hi"}"#);
        let finish = out.of_kind(AICHAT_EVENT_FINISH)[0];
        assert_eq!((finish.text.as_str(), finish.name.as_str()), ("tool_calls", "STOP"));
        let message = out.message_json();
        let sent_calls = message["tool_calls"].as_array().unwrap();
        assert_eq!(sent_calls[0]["extra_content"], json!({"google":{"thought_signature":"sig-call-aichat-test"}}));
        assert!(sent_calls[1].get("extra_content").is_none(), "only the first of parallel calls is signed");

        // The next turn: MESSAGE as it came, then the tools' results.
        let message_text = &out.of_kind(AICHAT_EVENT_MESSAGE)[0].text;
        let next = format!(
            r#"[{{"role":"user","content":"Hi"}},{message_text},{{"role":"tool","tool_call_id":"{}","content":"12:00"}},{{"role":"tool","tool_call_id":"{}","content":"13:00"}}]"#,
            calls[0].id, calls[1].id
        );
        let body = &seen(&server, &next, r#""stream":true"#)["body"];
        let model = &body["contents"][1];
        assert_eq!(model["role"], "model");
        assert_eq!(
            model["parts"],
            json!([{"functionCall":{"name":"get_time","args":{"tz":"Hi"}},"thoughtSignature":"sig-call-aichat-test"},
                   {"functionCall":{"name":"get_time","args":{"tz":"Hi"}}}]),
            "the signature on the part it came with; made-up ids are not sent"
        );
        assert_eq!(
            body["contents"][2]["parts"][1],
            json!({"functionResponse":{"name":"get_time","response":{"result":"13:00"}}})
        );
        let out = events(&gemini(&server.fault_url("reasoning"), &next, &format!(r#""stream":{stream}"#)));
        assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
        assert_eq!(out.joined(AICHAT_EVENT_TEXT), "The tool returned: 13:00", "the last result");
        // The text's signature (on the stream's last, empty part) is kept, and sent back on the text.
        let answer = out.message_json();
        assert_eq!(answer["reasoning_signature"], "sig-text-aichat-test");
        let turn = format!(r#"[{{"role":"user","content":"Hi"}},{}]"#, out.of_kind(AICHAT_EVENT_MESSAGE)[0].text);
        let body = &seen(&server, &turn, "")["body"];
        assert_eq!(
            body["contents"][1]["parts"],
            json!([{"text":"The tool returned: 13:00","thoughtSignature":"sig-text-aichat-test"}])
        );

        // Without the signature the server answers as Gemini 3 does.
        let unsigned: Value = serde_json::from_str(message_text).unwrap();
        let mut unsigned = unsigned;
        for call in unsigned["tool_calls"].as_array_mut().unwrap() {
            call.as_object_mut().unwrap().remove("extra_content");
        }
        let next = next.replace(message_text.as_str(), &unsigned.to_string());
        let out = events(&gemini(&server.base_url(), &next, r#""stream":true"#));
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS, "{}", out.message);
        assert!(
            out.message.contains("HTTP 400")
                && out.message.contains("INVALID_ARGUMENT: Function call is missing a thought_signature"),
            "{}",
            out.message
        );
    }
}

#[test]
fn truncation_the_error_chunk_and_retries() {
    let server = Server::start().unwrap();
    let out = events(&gemini(&server.fault_url("cut"), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{}", out.message);
    assert!(out.message.contains("a `finishReason`"), "{}", out.message);

    let out = events(&gemini(&server.fault_url("error-event"), HI, r#""stream":true"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_SERVER, "{}", out.message);
    assert!(out.message.contains("INTERNAL (500): An internal error has occurred."), "{}", out.message);

    // An error chunk before any content is retried as a 5xx would be, within the budget.
    let req = gemini(&server.fault_url("key=g1,overload-first=1"), HI, r#""stream":true"#);
    let out = events(&req.replace(r#""max_retries":0"#, r#""max_retries":2"#));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.joined(AICHAT_EVENT_TEXT), "You said: Hi");
    assert_eq!(server.attempts("g1"), 2);
    let req = gemini(&server.fault_url("key=g2,overload-first=9"), HI, r#""stream":true"#);
    let out = events(&req.replace(r#""max_retries":0"#, r#""max_retries":1"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_SERVER, "{}", out.message);
    assert!(out.message.contains("UNAVAILABLE (503)"), "{}", out.message);
    assert_eq!(server.attempts("g2"), 2);

    // A failed status reads Google's error shape: the status word, then the message.
    let out = events(
        &gemini(&server.base_url(), "[]", r#""stream":false"#)
            .replace(r#""messages":[]"#, r#""messages":[],"extra_body":{"contents":null}"#),
    );
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS, "{}", out.message);
    assert!(out.message.contains("INVALID_ARGUMENT: * GenerateContentRequest.contents"), "{}", out.message);
}
