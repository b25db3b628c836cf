//! The Bedrock route end to end over a raw TCP client: the stream's bytes parse into Bedrock's
//! events, the whole answer, both ways to authenticate and the refusals, the faults that are
//! Bedrock's own, and what the server keeps of each attempt.

use std::io::{Read, Write};
use std::net::TcpStream;

use aichat_testserver::Server;
use aichat_testserver::eventstream::{self, Message};
use aichat_testserver::sigv4::{self, CREDENTIALS, Credential, SESSION_TOKEN};
use serde_json::{Value, json};

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    fn messages(&self) -> Vec<Message> {
        eventstream::decode_all(&self.body).unwrap()
    }
}

/// `HTTP/1.1` POST with `Connection: close`; the answer read to its end (chunks joined).
fn post(server: &Server, path: &str, headers: &[(String, String)], body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-length: {}\r\n",
        server.addr(),
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a head") + 4;
    let head = String::from_utf8(raw[..end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end..].to_vec();
    if headers.iter().any(|(n, v)| n == "transfer-encoding" && v == "chunked") {
        let (mut rest, mut joined) = (&body[..], Vec::new());
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").expect("a chunk size line");
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap().trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            joined.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest = &rest[line_end + 2 + size + 2..];
        }
        body = joined;
    }
    Answer { status, headers, body }
}

fn bearer() -> Vec<(String, String)> {
    auth("Bearer bedrock-api-key-test")
}

fn auth(value: &str) -> Vec<(String, String)> {
    vec![("authorization".into(), value.into()), ("content-type".into(), "application/json".into())]
}

/// Headers signed with `credential` now (with the session token it needs), for this server.
fn sigv4_headers(server: &Server, credential: &Credential, path: &str, body: &[u8]) -> Vec<(String, String)> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("host".to_string(), server.addr().to_string()),
        ("x-amz-date".to_string(), sigv4::format_amz_date(now)),
    ];
    let mut names = vec!["content-type", "host", "x-amz-date"];
    if let Some(token) = credential.session_token {
        headers.push(("x-amz-security-token".to_string(), token.to_string()));
        names.push("x-amz-security-token");
    }
    let req = sigv4::Request { method: "POST", path, query: None, headers: &headers, body };
    let authorization = sigv4::authorization(&req, credential, "us-east-1", "bedrock", &names, true);
    headers.retain(|(name, _)| name != "host");
    headers.push(("authorization".to_string(), authorization));
    headers
}

fn hi() -> Vec<u8> {
    json!({"messages": [{"role": "user", "content": [{"text": "Hi"}]}], "inferenceConfig": {"maxTokens": 100}})
        .to_string()
        .into_bytes()
}

fn kinds(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m.header(":event-type").or(m.header(":exception-type")).unwrap_or("?").to_string())
        .collect()
}

fn deltas(messages: &[Message], pointer: &str) -> String {
    messages
        .iter()
        .filter(|m| m.header(":event-type") == Some("contentBlockDelta"))
        .filter_map(|m| m.json().unwrap().pointer(pointer).and_then(Value::as_str).map(str::to_string))
        .collect()
}

#[test]
fn a_stream_is_event_stream_messages_in_bedrocks_shape() {
    let server = Server::start().unwrap();
    let answer = post(&server, "/model/anthropic.claude-test/converse-stream", &bearer(), &hi());
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.header("content-type"), Some("application/vnd.amazon.eventstream"));
    assert_eq!(answer.header("x-amzn-requestid").map(str::len), Some(36), "uuid-like");
    let messages = answer.messages();
    assert_eq!(
        kinds(&messages),
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata"
        ]
    );
    for m in &messages {
        assert_eq!((m.header(":message-type"), m.header(":content-type")), (Some("event"), Some("application/json")));
        let payload = m.json().unwrap();
        assert!(payload["p"].as_str().is_some_and(
            |p| !p.is_empty() && "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".starts_with(p)
        ));
    }
    assert_eq!(messages[0].json().unwrap()["role"], "assistant");
    assert_eq!(deltas(&messages, "/delta/text"), "You said: Hi");
    assert_eq!(messages[1].json().unwrap()["contentBlockIndex"], 0);
    assert_eq!(messages[5].json().unwrap()["stopReason"], "end_turn");
    let metadata = messages[6].json().unwrap();
    assert_eq!(
        metadata["usage"],
        json!({"inputTokens": 6, "outputTokens": 12, "totalTokens": 23, "cacheReadInputTokens": 3, "cacheWriteInputTokens": 2})
    );
    assert!(metadata["metrics"]["latencyMs"].is_u64());

    // maxTokens and stop sequences cut the answer, and say so.
    let short =
        json!({"messages": [{"role": "user", "content": [{"text": "Hi there"}]}], "inferenceConfig": {"maxTokens": 2}});
    let messages = post(&server, "/model/m/converse-stream", &bearer(), short.to_string().as_bytes()).messages();
    assert_eq!(deltas(&messages, "/delta/text"), "You said: ");
    assert_eq!(messages[messages.len() - 2].json().unwrap()["stopReason"], "max_tokens");
    let stop = json!({"messages": [{"role": "user", "content": [{"text": "Hi there"}]}], "inferenceConfig": {"stopSequences": ["there"]}});
    let messages = post(&server, "/model/m/converse-stream", &bearer(), stop.to_string().as_bytes()).messages();
    assert_eq!(deltas(&messages, "/delta/text"), "You said: Hi ");
    assert_eq!(messages[messages.len() - 2].json().unwrap()["stopReason"], "stop_sequence");
}

fn with_tools(messages: Value) -> Vec<u8> {
    json!({"messages": messages, "toolConfig": {"tools": [{"toolSpec": {"name": "get_time", "description": "The time",
        "inputSchema": {"json": {"type": "object", "properties": {"tz": {"type": "string"}}}}}}],
        "toolChoice": {"auto": {}}}})
    .to_string()
    .into_bytes()
}

#[test]
fn reasoning_with_its_signature_and_a_tool_call_round_trip() {
    let server = Server::start().unwrap();
    let first = with_tools(json!([{"role": "user", "content": [{"text": "Hi"}]}]));
    let messages = post(&server, "/fault/reasoning/model/m/converse-stream", &bearer(), &first).messages();
    let kinds = kinds(&messages);
    let reasoning_deltas = kinds.iter().take_while(|k| *k != "contentBlockStop").count() - 1;
    assert!(reasoning_deltas > 2);
    assert_eq!(
        kinds[reasoning_deltas + 1..],
        [
            "contentBlockStop",
            "contentBlockStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata"
        ]
    );
    assert!(deltas(&messages, "/delta/reasoningContent/text").starts_with("The user wrote something"));
    assert_eq!(deltas(&messages, "/delta/reasoningContent/signature"), "sig-bedrock-aichat-test");
    let start = messages[reasoning_deltas + 2].json().unwrap();
    assert_eq!(start["contentBlockIndex"], 1);
    assert_eq!(start["start"]["toolUse"]["name"], "get_time");
    let id = start["start"]["toolUse"]["toolUseId"].as_str().unwrap().to_string();
    assert_eq!(deltas(&messages, "/delta/toolUse/input"), r#"{"tz":"Hi"}"#);
    assert_eq!(messages[messages.len() - 2].json().unwrap()["stopReason"], "tool_use");

    // The whole answer has the same blocks.
    let whole = post(&server, "/fault/reasoning/model/m/converse", &bearer(), &first).json();
    assert_eq!(
        whole["output"]["message"]["content"],
        json!([{"reasoningContent": {"reasoningText": {"text": "The user wrote something; I will quote it back.", "signature": "sig-bedrock-aichat-test"}}},
               {"toolUse": {"toolUseId": id, "name": "get_time", "input": {"tz": "Hi"}}}])
    );
    assert_eq!(whole["stopReason"], "tool_use");

    // The next turn: the reasoning and the call sent back, the result after them.
    let turn = |signature: &str| {
        with_tools(json!([
            {"role": "user", "content": [{"text": "Hi"}]},
            {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "The user wrote something; I will quote it back.", "signature": signature}}},
                {"toolUse": {"toolUseId": id, "name": "get_time", "input": {"tz": "Hi"}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": id, "content": [{"json": {"time": "12:00"}}], "status": "success"}}]}
        ]))
    };
    let messages = post(&server, "/model/m/converse-stream", &bearer(), &turn("sig-bedrock-aichat-test")).messages();
    assert_eq!(deltas(&messages, "/delta/text"), r#"The tool returned: {"time":"12:00"}"#);
    let refused = post(&server, "/model/m/converse-stream", &bearer(), &turn("forged"));
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.header("x-amzn-errortype"),
        Some("ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/")
    );
    assert_eq!(refused.json()["message"], "messages.1.content.0: Invalid `signature` in `thinking` block");
}

#[test]
fn sigv4_with_an_arn_and_a_session_token() {
    let server = Server::start().unwrap();
    let path =
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude/converse";
    for credential in CREDENTIALS {
        let answer = post(&server, path, &sigv4_headers(&server, credential, path, &hi()), &hi());
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
        assert_eq!(
            answer.header("x-aichat-model-id"),
            Some("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude")
        );
        let whole = answer.json();
        assert_eq!(whole["output"]["message"], json!({"role": "assistant", "content": [{"text": "You said: Hi"}]}));
        assert_eq!(
            (whole["stopReason"].as_str(), whole["metrics"]["latencyMs"].as_u64()),
            (Some("end_turn"), Some(42))
        );
    }
    // Signed for one body, sent with another.
    let mut headers = sigv4_headers(&server, &CREDENTIALS[0], path, &hi());
    let refused = post(&server, path, &headers, &with_tools(json!([{"role": "user", "content": [{"text": "Hi"}]}])));
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.header("x-amzn-errortype"),
        Some("InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/")
    );
    let message = refused.json()["message"].as_str().unwrap().to_string();
    assert!(
        message.starts_with("The request signature we calculated does not match the signature you provided."),
        "{message}"
    );
    assert!(
        message.contains("/model/arn%253Aaws%253Abedrock"),
        "the canonical request shows the path encoded twice: {message}"
    );
    // The session credential without its token.
    let mut no_token = sigv4_headers(&server, &CREDENTIALS[1], path, &hi());
    assert_eq!(CREDENTIALS[1].session_token, Some(SESSION_TOKEN));
    no_token.retain(|(n, _)| n != "x-amz-security-token");
    let refused = post(&server, path, &no_token, &hi());
    assert_eq!(
        (refused.status, refused.header("x-amzn-errortype").unwrap().split(':').next()),
        (403, Some("UnrecognizedClientException"))
    );
    // A date an hour old.
    for (name, value) in headers.iter_mut() {
        if name == "x-amz-date" {
            let then = sigv4::parse_amz_date(value).unwrap() - 3600;
            *value = sigv4::format_amz_date(then);
        }
    }
    let refused = post(&server, path, &headers, &hi());
    assert_eq!(refused.status, 403);
    // No credentials at all; a Bearer token other than the one the fault accepts; an empty one.
    let refused = post(&server, "/model/m/converse", &[], &hi());
    assert_eq!((refused.status, refused.json()["message"].as_str()), (403, Some("Missing Authentication Token")));
    assert_eq!(post(&server, "/fault/bearer=right/model/m/converse", &bearer(), &hi()).status, 403);
    assert_eq!(post(&server, "/fault/bearer=right/model/m/converse", &auth("Bearer right"), &hi()).status, 200);
    assert_eq!(post(&server, "/model/m/converse", &auth("Bearer "), &hi()).status, 403);
}

#[test]
fn refusals_are_validation_exceptions() {
    let server = Server::start().unwrap();
    let two_users = json!({"messages": [{"role": "user", "content": [{"text": "a"}]}, {"role": "user", "content": [{"text": "b"}]}]});
    let refused = post(&server, "/model/m/converse-stream", &bearer(), two_users.to_string().as_bytes());
    assert_eq!(refused.status, 400);
    assert_eq!(refused.header("x-amzn-errortype").unwrap().split(':').next(), Some("ValidationException"));
    assert!(refused.json()["message"].as_str().unwrap().starts_with("A conversation must alternate"));
    let refused = post(&server, "/model/arn%253Aaws/converse", &bearer(), &hi());
    assert_eq!(
        (refused.status, refused.json()["message"].as_str()),
        (400, Some("The provided model identifier is invalid."))
    );
    // The status fault speaks Bedrock's error shape too.
    let injected = post(&server, "/fault/status=429,retry-after=1/model/m/converse-stream", &bearer(), &hi());
    assert_eq!(injected.status, 429);
    assert_eq!(injected.header("x-amzn-errortype").unwrap().split(':').next(), Some("ThrottlingException"));
    assert_eq!(injected.header("retry-after"), Some("1"));
    assert!(injected.json()["message"].is_string());
}

#[test]
fn exceptions_bad_crcs_and_cuts() {
    let server = Server::start().unwrap();
    let stream = |spec: &str| post(&server, &format!("/fault/{spec}/model/m/converse-stream"), &bearer(), &hi());
    // Before anything.
    let messages = stream("exception=throttlingException").messages();
    assert_eq!(messages.len(), 1);
    let e = &messages[0];
    assert_eq!(
        (e.header(":message-type"), e.header(":exception-type"), e.header(":content-type")),
        (Some("exception"), Some("throttlingException"), Some("application/json"))
    );
    assert_eq!(e.json().unwrap(), json!({"message": "Too many requests, please wait before trying again."}));
    // After two deltas.
    let messages = stream("exception=internalServerException@2").messages();
    assert_eq!(kinds(&messages), ["messageStart", "contentBlockDelta", "contentBlockDelta", "internalServerException"]);
    // After more deltas than there are: before messageStop.
    let messages = stream("exception=validationException@99").messages();
    assert_eq!(kinds(&messages)[4..], ["contentBlockStop", "validationException"]);
    // error-event: a model stream error after the first text.
    assert_eq!(
        kinds(&stream("error-event").messages()),
        ["messageStart", "contentBlockDelta", "modelStreamErrorException"]
    );
    // A whole answer gets the HTTP error instead.
    let whole = post(&server, "/fault/exception=throttlingException/model/m/converse", &bearer(), &hi());
    assert_eq!(
        (whole.status, whole.header("x-amzn-errortype").unwrap().split(':').next()),
        (429, Some("ThrottlingException"))
    );

    // CRCs: the damaged message is the one named.
    let body = stream("bad-prelude-crc=2").body;
    let (_, first) = eventstream::decode(&body).unwrap().unwrap();
    let (_, second) = eventstream::decode(&body[first..]).unwrap().unwrap();
    assert!(eventstream::decode(&body[first + second..]).unwrap_err().contains("prelude CRC"));
    assert!(eventstream::decode_all(&stream("bad-message-crc=0").body).unwrap_err().contains("message CRC"));
    // cut-inside: half a message at the end; cut: no messageStop.
    let body = stream("cut-inside=1").body;
    let (_, first) = eventstream::decode(&body).unwrap().unwrap();
    assert!(body.len() > first && eventstream::decode(&body[first..]).unwrap().is_none(), "half a message");
    let cut = kinds(&stream("cut").messages());
    assert!(!cut.contains(&"messageStop".to_string()) && !cut.contains(&"contentBlockStop".to_string()), "{cut:?}");
    // split-utf8 and chunks still make whole messages.
    let messages = stream("split-utf8,chunks=3").messages();
    assert_eq!(deltas(&messages, "/delta/text"), "tok0 tok1 tok2 ");
}

#[test]
fn each_attempt_is_kept_with_its_signing_date() {
    let server = Server::start().unwrap();
    let path = "/fault/key=b1,overload-first=1/model/m/converse-stream";
    let first = post(&server, path, &sigv4_headers(&server, &CREDENTIALS[0], path, &hi()), &hi());
    assert_eq!(kinds(&first.messages()), ["serviceUnavailableException"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = post(&server, path, &sigv4_headers(&server, &CREDENTIALS[0], path, &hi()), &hi());
    assert_eq!(deltas(&second.messages(), "/delta/text"), "You said: Hi");
    assert_eq!(server.attempts("b1"), 2);
    let dates = server.header_of_attempts("b1", "x-amz-date");
    assert_eq!(dates.len(), 2);
    assert!(dates.iter().all(Option::is_some));
    assert_ne!(dates[0], dates[1], "each attempt signed anew");
    let seen = server.seen("b1");
    assert_eq!(seen[0]["path"], path);
    assert_eq!(seen[1]["body"]["messages"][0]["content"][0]["text"], "Hi");
    // The same over HTTP.
    let listed = {
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        stream.write_all(b"GET /seen/b1 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        raw
    };
    let body: Value = serde_json::from_str(listed.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["requests"].as_array().unwrap().len(), 2);
    // overload-first with exception: that exception, where it says, on the first attempts only.
    let path = "/fault/key=b2,overload-first=1,exception=throttlingException@1/model/m/converse-stream";
    assert_eq!(
        kinds(&post(&server, path, &bearer(), &hi()).messages()),
        ["messageStart", "contentBlockDelta", "throttlingException"]
    );
    assert_eq!(deltas(&post(&server, path, &bearer(), &hi()).messages(), "/delta/text"), "You said: Hi");
    let whole = post(&server, "/fault/key=b3,overload-first=1/model/m/converse", &bearer(), &hi());
    assert_eq!(whole.status, 503);
}

#[test]
fn tool_choice_parallel_calls_and_echo() {
    let server = Server::start().unwrap();
    let spec = |name: &str, param: &str| json!({"toolSpec": {"name": name, "inputSchema": {"json": {"type": "object", "properties": {param: {"type": "string"}}}}}});
    let body = |choice: Value| {
        json!({"messages": [{"role": "user", "content": [{"text": "Hi"}]}],
               "toolConfig": {"tools": [spec("first", "a"), {"cachePoint": {"type": "default"}}, spec("second", "b")], "toolChoice": choice}})
        .to_string()
        .into_bytes()
    };
    let whole = post(&server, "/model/m/converse", &bearer(), &body(json!({"tool": {"name": "second"}}))).json();
    assert_eq!(
        whole["output"]["message"]["content"],
        json!([{"toolUse": {"toolUseId": "tooluse_aichatTest0", "name": "second", "input": {"b": "Hi"}}}])
    );
    let messages =
        post(&server, "/fault/parallel-tools/model/m/converse-stream", &bearer(), &body(json!({"any": {}}))).messages();
    let starts: Vec<Value> = messages
        .iter()
        .filter(|m| m.header(":event-type") == Some("contentBlockStart"))
        .map(|m| m.json().unwrap())
        .collect();
    assert_eq!(starts.len(), 2);
    assert_eq!((starts[0]["contentBlockIndex"].as_u64(), starts[1]["contentBlockIndex"].as_u64()), (Some(0), Some(1)));
    assert_eq!(starts[0]["start"]["toolUse"], json!({"toolUseId": "tooluse_aichatTest0", "name": "first"}));
    assert_eq!(starts[1]["start"]["toolUse"], json!({"toolUseId": "tooluse_aichatTest1", "name": "second"}));
    assert_eq!(deltas(&messages, "/delta/toolUse/input"), r#"{"a":"Hi"}{"b":"Hi"}"#);
    let refused = post(&server, "/model/m/converse", &bearer(), &body(json!({"tool": {"name": "third"}})));
    assert_eq!(refused.status, 400);

    // echo: the text is the request as it arrived.
    let messages = post(&server, "/fault/echo/model/m/converse-stream", &bearer(), &hi()).messages();
    let seen: Value = serde_json::from_str(&deltas(&messages, "/delta/text")).unwrap();
    assert_eq!(seen["path"], "/fault/echo/model/m/converse-stream");
    assert!(seen["headers"].as_array().unwrap().contains(&json!(["authorization", "Bearer bedrock-api-key-test"])));
    assert_eq!(seen["body"]["inferenceConfig"]["maxTokens"], 100);
}
