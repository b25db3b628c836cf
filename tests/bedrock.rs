//! The bedrock provider (Amazon Bedrock's Converse API) through the C ABI against the local
//! server, which checks every SigV4 signature with its own verifier: a tool round trip streamed
//! and whole, reasoning sent back with its signature, every credential source and the region
//! rules (each in a child process with its own environment, since a client reads the
//! environment when it is made), retries re-signed, exceptions before and after content, CRC
//! failures, a stream cut inside each of its messages, and error answers.

mod common;
use AichatEventKind::*;
use common::*;
use serde_json::{Value, json};
use std::process::Command;

/// The server's test credentials (aichat_testserver::sigv4::CREDENTIALS).
const KEY_ID: &str = "AKIDTESTBEDROCK";
const SECRET: &str = "test/secret/KEY+1";
const SESSION_KEY_ID: &str = "ASIATESTBEDROCK";
const SESSION_SECRET: &str = "test/session/KEY+2";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEaichat/test+session=token";
const REQUEST_ID: &str = "a1c4a7e5-7e57-4b3d-8ed2-00000000b3d0";
const ARN: &str =
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0";

const TOOLS: &str = r#""tools":[{"type":"function","function":{"name":"get_time","description":"The time","parameters":{"type":"object","properties":{"tz":{"type":"string"}}}}}]"#;

/// Runs the calling test again in a child process whose environment has `env` and no other AWS
/// variable, and a HOME of its own (no `~/.aws` of the machine's): true in the child, which then
/// runs the block; false in the parent once the child passed. `part` names the block, when a
/// test has several.
fn in_child(part: &str, env: &[(&str, &str)]) -> bool {
    let test = std::thread::current().name().expect("libtest names the thread after the test").to_string();
    let id = format!("{test}/{part}");
    if let Ok(running) = std::env::var("AICHAT_BEDROCK_CHILD") {
        return running == id;
    }
    let home = std::env::temp_dir().join(format!("aichat-bedrock-{test}-{part}-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"]).env("AICHAT_BEDROCK_CHILD", &id);
    for (var, _) in std::env::vars() {
        if var.starts_with("AWS_") {
            child.env_remove(var);
        }
    }
    child.env("HOME", &home);
    for (var, value) in env {
        child.env(var, value.replace("$HOME", &home.to_string_lossy()));
    }
    let out = child.output().unwrap();
    let _ = std::fs::remove_dir_all(&home);
    assert!(
        out.status.success(),
        "child {id} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    false
}

/// The keys in the environment, and a region.
const KEYS: &[(&str, &str)] =
    &[("AWS_ACCESS_KEY_ID", KEY_ID), ("AWS_SECRET_ACCESS_KEY", SECRET), ("AWS_REGION", "us-east-1")];

/// A bedrock request (no retries unless `extra` sets `max_retries`).
fn bedrock(base: &str, messages: &str, extra: &str) -> String {
    let retries = if extra.contains("max_retries") { "" } else { r#","max_retries":0"# };
    let extra = if extra.is_empty() { String::new() } else { format!(",{extra}") };
    format!(
        r#"{{"provider":"bedrock","model":"{ARN}","messages":{messages},"base_url":"{base}","proxy":""{retries}{extra}}}"#
    )
}

fn events(req: &str) -> EventOutcome {
    events_with(&ClientHandle::new(None), req, None)
}

fn ok(out: &EventOutcome) {
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
}

fn tool_round_trip(stream: bool) {
    let server = Server::start().unwrap();
    let base = server.fault_url("key=trip");
    let first = events(&bedrock(
        &base,
        r#"[{"role":"user","content":"What time is it in Paris?"}]"#,
        &format!(r#"{TOOLS},"stream":{stream}"#),
    ));
    ok(&first);
    let response = &first.of_kind(AICHAT_EVENT_RESPONSE)[0];
    assert_eq!((response.name.as_str(), response.text.as_str()), (ARN, REQUEST_ID));
    let calls = first.of_kind(AICHAT_EVENT_TOOL_CALL);
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].index, calls[0].id.as_str(), calls[0].name.as_str()), (0, "tooluse_aichatTest0", "get_time"));
    let arguments: Value = serde_json::from_str(&first.joined(AICHAT_EVENT_TOOL_ARGUMENTS)).unwrap();
    assert_eq!(arguments, json!({"tz": "What time is it in Paris?"}));
    let finish = &first.of_kind(AICHAT_EVENT_FINISH)[0];
    assert_eq!((finish.text.as_str(), finish.name.as_str()), ("tool_calls", "tool_use"));
    let usage = first.of_kind(AICHAT_EVENT_USAGE)[0].usage.unwrap();
    assert_eq!(
        (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens, usage.cached_tokens, usage.reasoning_tokens),
        (11, 12, 23, 3, -1),
        "prompt = input 6 + cache read 3 + cache write 2"
    );
    assert_eq!(first.events.last().unwrap().kind, AICHAT_EVENT_MESSAGE);

    // The model id went as one path segment, percent-encoded as botocore does it.
    let seen = server.seen("trip");
    let path = seen[0]["path"].as_str().unwrap();
    let action = if stream { "converse-stream" } else { "converse" };
    assert_eq!(
        path,
        format!(
            "/fault/key=trip/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-5-sonnet-20240620-v1%3A0/{action}"
        )
    );

    // MESSAGE and the tool's result go back; the server wants the toolUse answered.
    let message = first.message_json();
    let messages = json!([
        {"role": "user", "content": "What time is it in Paris?"},
        message,
        {"role": "tool", "tool_call_id": "tooluse_aichatTest0", "content": "{\"time\":\"10:00\"}"}
    ]);
    let second = events(&bedrock(&base, &messages.to_string(), &format!(r#"{TOOLS},"stream":{stream}"#)));
    ok(&second);
    assert_eq!(second.joined(AICHAT_EVENT_TEXT), r#"The tool returned: {"time":"10:00"}"#);
    assert_eq!(second.of_kind(AICHAT_EVENT_FINISH)[0].text, "stop");
    let body = &server.seen("trip")[1]["body"];
    assert_eq!(body["messages"][2]["content"][0]["toolResult"]["content"], json!([{"json": {"time": "10:00"}}]));

    // The same conversation without `tools` (an agent's last turn): Converse wants a toolConfig
    // for the tool blocks of the history, and gets one declaring the tools used.
    let last = events(&bedrock(&base, &messages.to_string(), &format!(r#""stream":{stream}"#)));
    ok(&last);
    assert_eq!(last.joined(AICHAT_EVENT_TEXT), r#"The tool returned: {"time":"10:00"}"#);
}

#[test]
fn a_signed_tool_round_trip_streamed() {
    if in_child("", KEYS) {
        tool_round_trip(true);
    }
}

#[test]
fn a_signed_tool_round_trip_whole() {
    if in_child("", KEYS) {
        tool_round_trip(false);
    }
}

#[test]
fn a_pulled_stream_gives_the_same_events() {
    if in_child("", KEYS) {
        let server = Server::start().unwrap();
        let req = bedrock(&server.base_url(), HI, r#""stream":true"#);
        let pushed = events(&req);
        let pulled = pulled_events(&ClientHandle::new(None), &req);
        ok(&pushed);
        ok(&pulled);
        assert_eq!(pulled.joined(AICHAT_EVENT_TEXT), "You said: Hi");
        assert_eq!(pushed.events, pulled.events);
    }
}

#[test]
fn reasoning_comes_with_its_signature_and_goes_back_with_it() {
    if in_child("", KEYS) {
        let server = Server::start().unwrap();
        let base = server.fault_url("reasoning");
        let first = events(&bedrock(&base, HI, r#""stream":true"#));
        ok(&first);
        assert!(!first.joined(AICHAT_EVENT_REASONING).is_empty());
        let message = first.message_json();
        assert_eq!(message["reasoning_signature"], "sig-bedrock-aichat-test");
        let messages = json!([{"role": "user", "content": "Hi"}, message, {"role": "user", "content": "Again"}]);
        let second = events(&bedrock(&base, &messages.to_string(), r#""stream":true"#));
        ok(&second);
        // Without the signature the server refuses the reasoning, as Bedrock does.
        assert_eq!(
            message["reasoning_items"][0]["reasoningContent"]["reasoningText"]["signature"], "sig-bedrock-aichat-test",
            "the block kept whole"
        );
        let mut unsigned = messages.clone();
        unsigned[1].as_object_mut().unwrap().remove("reasoning_signature");
        unsigned[1].as_object_mut().unwrap().remove("reasoning_items");
        let refused = events(&bedrock(&base, &unsigned.to_string(), r#""stream":true"#));
        assert_eq!(refused.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS, "{}", refused.message);
        assert!(refused.message.contains("ValidationException"), "{}", refused.message);
    }
}

#[test]
fn a_session_token_is_sent_signed_and_a_wrong_one_is_refused_without_showing_secrets() {
    let env = [
        ("AWS_ACCESS_KEY_ID", SESSION_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SESSION_SECRET),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN),
        ("AWS_REGION", "eu-west-1"),
    ];
    if in_child("", &env) {
        let server = Server::start().unwrap();
        let out = events(&bedrock(&server.fault_url("key=tok"), HI, ""));
        ok(&out);
        let seen = &server.seen("tok")[0];
        let headers = seen["headers"].as_array().unwrap();
        assert!(headers.contains(&json!(["x-amz-security-token", SESSION_TOKEN])), "{headers:?}");
        let auth = headers.iter().find(|h| h[0] == "authorization").unwrap()[1].as_str().unwrap();
        assert!(auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={SESSION_KEY_ID}/")), "{auth}");
        assert!(auth.contains("/eu-west-1/bedrock/aws4_request"), "{auth}");
        assert!(auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"), "{auth}");
    }
    // The same key without its token: refused, and the message shows neither secret.
    let env =
        [("AWS_ACCESS_KEY_ID", SESSION_KEY_ID), ("AWS_SECRET_ACCESS_KEY", SESSION_SECRET), ("AWS_REGION", "eu-west-1")];
    if in_child("no-token", &env) {
        let server = Server::start().unwrap();
        let out = events(&bedrock(&server.base_url(), HI, ""));
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS, "{}", out.message);
        assert!(
            out.message.contains("HTTP 403") && out.message.contains("UnrecognizedClientException"),
            "{}",
            out.message
        );
        assert!(!out.message.contains(SESSION_SECRET) && !out.message.contains("Signature="), "{}", out.message);
    }
}

#[test]
fn a_bad_signature_is_refused_and_its_secrets_are_masked() {
    let env =
        [("AWS_ACCESS_KEY_ID", KEY_ID), ("AWS_SECRET_ACCESS_KEY", "not/the/right/secret"), ("AWS_REGION", "us-east-1")];
    if in_child("", &env) {
        let server = Server::start().unwrap();
        let out = events(&bedrock(&server.base_url(), HI, ""));
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS, "{}", out.message);
        assert!(out.message.contains("InvalidSignatureException"), "{}", out.message);
        assert!(!out.message.contains("not/the/right/secret"), "{}", out.message);
    }
}

#[test]
fn credentials_come_from_the_shared_files_profile() {
    let env = [("AWS_PROFILE", "dev"), ("AWS_CONFIG_FILE", "$HOME/cfg")];
    if in_child("", &env) {
        let home = std::env::var("HOME").unwrap();
        std::fs::create_dir_all(format!("{home}/.aws")).unwrap();
        std::fs::write(
            format!("{home}/.aws/credentials"),
            format!("[default]\naws_access_key_id = WRONG\naws_secret_access_key = wrong\n\n# the one used\n[dev]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"),
        )
        .unwrap();
        std::fs::write(
            format!("{home}/cfg"),
            "[default]\nregion = us-west-2\n[profile dev]\nregion = ap-northeast-1\n",
        )
        .unwrap();
        // Files are read when the client is made: this one is made after they were written.
        let server = Server::start().unwrap();
        let out = events(&bedrock(&server.fault_url("key=files"), HI, ""));
        ok(&out);
        let seen = &server.seen("files")[0];
        let auth = seen["headers"].as_array().unwrap().iter().find(|h| h[0] == "authorization").unwrap()[1].clone();
        assert!(auth.as_str().unwrap().contains(&format!("{KEY_ID}/")), "{auth}");
        assert!(auth.as_str().unwrap().contains("/ap-northeast-1/bedrock/"), "the profile's region: {auth}");
        // The `region` setting wins over the profile's.
        let out = events(&bedrock(&server.fault_url("key=files2"), HI, r#""region":"ca-central-1""#));
        ok(&out);
        let auth = server.seen("files2")[0]["headers"].to_string();
        assert!(auth.contains("/ca-central-1/bedrock/"), "{auth}");
    }
    // Keys in the config file's profile (as botocore reads them), with a session token; the
    // variables name the files.
    let env = [("AWS_PROFILE", "ops"), ("AWS_CONFIG_FILE", "$HOME/c"), ("AWS_SHARED_CREDENTIALS_FILE", "$HOME/none")];
    if in_child("config-keys", &env) {
        let home = std::env::var("HOME").unwrap();
        std::fs::write(
            format!("{home}/c"),
            format!("[profile ops]\nregion = sa-east-1\naws_access_key_id = {SESSION_KEY_ID}\naws_secret_access_key = {SESSION_SECRET}\naws_session_token = {SESSION_TOKEN}\n"),
        )
        .unwrap();
        let server = Server::start().unwrap();
        let out = events(&bedrock(&server.fault_url("key=cfg"), HI, ""));
        ok(&out);
        let headers = server.seen("cfg")[0]["headers"].to_string();
        assert!(headers.contains("/sa-east-1/bedrock/") && headers.contains(SESSION_KEY_ID), "{headers}");
    }
}

#[test]
fn a_bedrock_api_key_goes_as_a_bearer_token_and_nothing_is_signed() {
    let env = [("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-1"), KEYS[0], KEYS[1]];
    if in_child("", &env) {
        let server = Server::start().unwrap();
        let out = events(&bedrock(&server.fault_url("bearer=bedrock-api-key-1,key=b"), HI, r#""stream":true"#));
        ok(&out);
        let headers = server.seen("b")[0]["headers"].to_string();
        assert!(!headers.contains("x-amz-date") && !headers.contains("AWS4-HMAC"), "{headers}");
        // `api_key` wins over the variable.
        let out = events(&bedrock(&server.fault_url("bearer=bedrock-api-key-1"), HI, r#""api_key":"other""#));
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS, "{}", out.message);
        assert!(!out.message.contains("other") && !out.message.contains("bedrock-api-key-1"), "{}", out.message);
    }
}

#[test]
fn without_credentials_or_region_the_call_is_refused_before_any_request() {
    if in_child("", &[("AWS_REGION", "us-east-1")]) {
        let server = Server::start().unwrap();
        let out = events(&bedrock(&server.fault_url("key=none"), HI, ""));
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST, "{}", out.message);
        assert!(
            out.message.contains("no credentials") && out.message.contains("AWS_BEARER_TOKEN_BEDROCK"),
            "{}",
            out.message
        );
        assert_eq!(server.attempts("none"), 0);
    }
    if in_child("no-region", &KEYS[..2]) {
        let req = r#"{"provider":"bedrock","messages":[{"role":"user","content":"hi"}],"proxy":""}"#;
        let out = events(req);
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST, "{}", out.message);
        assert!(out.message.contains("needs a region"), "{}", out.message);
    }
    // AWS_REGION over AWS_DEFAULT_REGION; the default base URL is made with it (a bad one is refused
    // before it becomes a host name).
    if in_child("bad-region", &[KEYS[0], KEYS[1], ("AWS_REGION", "bad/region")]) {
        let out = events(r#"{"provider":"bedrock","messages":[{"role":"user","content":"hi"}],"proxy":""}"#);
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST, "{}", out.message);
        assert!(out.message.contains("region"), "{}", out.message);
    }
}

#[test]
fn a_retry_is_signed_anew() {
    if in_child("", KEYS) {
        let server = Server::start().unwrap();
        let out = events(&bedrock(
            &server.fault_url("key=again,fail-first=1,status=503,retry-after=1"),
            HI,
            r#""max_retries":1,"stream":true"#,
        ));
        ok(&out);
        let dates = server.header_of_attempts("again", "x-amz-date");
        assert_eq!(dates.len(), 2, "{dates:?}");
        assert!(dates[0].is_some() && dates[0] != dates[1], "the second attempt carries its own date: {dates:?}");
    }
}

#[test]
fn exceptions_before_content_are_retried_and_after_content_are_server_errors() {
    if in_child("", KEYS) {
        let server = Server::start().unwrap();
        let out =
            events(&bedrock(&server.fault_url("key=ov,overload-first=1"), HI, r#""max_retries":1,"stream":true"#));
        ok(&out);
        assert_eq!(out.joined(AICHAT_EVENT_TEXT), "You said: Hi");
        assert_eq!(server.attempts("ov"), 2);

        let out = events(&bedrock(
            &server.fault_url("key=late,exception=throttlingException@2"),
            HI,
            r#""max_retries":2,"stream":true"#,
        ));
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_SERVER, "{}", out.message);
        assert!(out.message.contains("throttlingException"), "{}", out.message);
        assert!(!out.joined(AICHAT_EVENT_TEXT).is_empty(), "content came before the exception");
        assert_eq!(server.attempts("late"), 1, "not retried once content was delivered");

        let out = events(&bedrock(
            &server.fault_url("key=val,exception=validationException"),
            HI,
            r#""max_retries":2,"stream":true"#,
        ));
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_SERVER, "{}", out.message);
        assert_eq!(server.attempts("val"), 1, "a validation exception is not transient");
    }
}

#[test]
fn crc_failures_and_cuts_are_protocol_errors() {
    if in_child("", KEYS) {
        let server = Server::start().unwrap();
        for fault in ["bad-prelude-crc=2", "bad-message-crc=2", "bad-message-crc=0", "cut"] {
            let out = events(&bedrock(&server.fault_url(fault), HI, r#""stream":true"#));
            assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{fault}: {}", out.message);
        }
        // Cut inside each message in turn (the framer's own tests cut at every byte).
        let whole = events(&bedrock(&server.base_url(), HI, r#""stream":true"#));
        ok(&whole);
        // "You said: Hi" is 7 messages: messageStart, 3 deltas, contentBlockStop, messageStop,
        // metadata (a cut inside the last one comes after messageStop: still a cut).
        for n in 0..7 {
            let out = events(&bedrock(&server.fault_url(&format!("cut-inside={n}")), HI, r#""stream":true"#));
            assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "cut inside message {n}: {}", out.message);
            assert!(
                out.message.contains("ended before `messageStop`") || out.message.contains("truncated"),
                "{}",
                out.message
            );
        }
    }
}

#[test]
fn error_answers_name_the_aws_error_type() {
    if in_child("", KEYS) {
        let server = Server::start().unwrap();
        let out = events(&bedrock(&server.fault_url("status=400"), HI, ""));
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS, "{}", out.message);
        assert!(out.message.contains("HTTP 400") && out.message.contains("ValidationException: "), "{}", out.message);
        let out = events(&bedrock(&server.fault_url("status=429"), HI, ""));
        assert!(out.message.contains("ThrottlingException"), "{}", out.message);
    }
}

#[test]
fn the_text_api_and_refused_fields() {
    if in_child("", KEYS) {
        let server = Server::start().unwrap();
        let client = ClientHandle::new(None);
        let out = complete(&client, &bedrock(&server.base_url(), HI, r#""stream":true"#));
        assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
        assert_eq!(out.text(), "You said: Hi");
        let out = complete(&client, &bedrock(&server.base_url(), HI, r#""n":2"#));
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
        assert!(out.message.contains("`n` is not supported by the bedrock provider"), "{}", out.message);
    }
}

#[test]
fn the_conversation_and_settings_are_translated_and_the_server_takes_them() {
    if in_child("", KEYS) {
        let server = Server::start().unwrap();
        let messages = r#"[{"role":"system","content":"Be brief."},
            {"role":"user","content":[{"type":"text","text":"Look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
            {"role":"assistant","content":"Let me see.","tool_calls":[
                {"id":"call_1","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"UTC\"}"}},
                {"id":"call_2","type":"function","function":{"name":"get_time","arguments":""}}]},
            {"role":"tool","tool_call_id":"call_1","content":"{\"time\":\"10:00\"}"},
            {"role":"tool","tool_call_id":"call_2","content":""},
            {"role":"user","content":"Thanks"}]"#;
        let extra = format!(
            r#"{TOOLS},"tool_choice":"auto","max_tokens":50,"temperature":0.5,"top_p":0.9,"stop":["END"],"stream":true,
            "extra_body":{{"additionalModelRequestFields":{{"top_k":5}}}}"#
        );
        let out = events(&bedrock(&server.fault_url("key=tr"), messages, &extra));
        ok(&out);
        // The last user turn holds the tool results (and the text after them): the server answers them.
        assert!(out.joined(AICHAT_EVENT_TEXT).starts_with("The tool returned: "), "{}", out.joined(AICHAT_EVENT_TEXT));
        let body = &server.seen("tr")[0]["body"];
        assert_eq!(body["system"], json!([{"text": "Be brief."}]));
        assert_eq!(
            body["messages"],
            json!([
                {"role": "user", "content": [{"text": "Look"}, {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}]},
                {"role": "assistant", "content": [
                    {"text": "Let me see."},
                    {"toolUse": {"toolUseId": "call_1", "name": "get_time", "input": {"tz": "UTC"}}},
                    {"toolUse": {"toolUseId": "call_2", "name": "get_time", "input": {}}}]},
                {"role": "user", "content": [
                    {"toolResult": {"toolUseId": "call_1", "content": [{"json": {"time": "10:00"}}]}},
                    {"toolResult": {"toolUseId": "call_2", "content": [{"text": "(no output)"}]}},
                    {"text": "Thanks"}]}
            ])
        );
        assert_eq!(
            body["inferenceConfig"],
            json!({"maxTokens": 50, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]})
        );
        assert_eq!(body["toolConfig"]["toolChoice"], json!({"auto": {}}));
        assert_eq!(
            body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["properties"]["tz"]["type"],
            "string"
        );
        assert_eq!(body["additionalModelRequestFields"], json!({"top_k": 5}));
        let headers = server.seen("tr")[0]["headers"].to_string();
        assert!(headers.contains(r#"["accept","application/vnd.amazon.eventstream"]"#), "{headers}");
    }
}
