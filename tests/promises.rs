//! Promises the library makes to every host, through the C ABI: no panic reaches the host and
//! nothing is printed, server text in a message is capped, secrets never appear in a message,
//! and what C sees of an id or a name is what MESSAGE holds.

mod common;
use aichat_testserver::{Raw, RawServer};
use common::*;
use std::process::Command;

/// A closed port: a request that got past validation fails to connect, not hangs.
const NOWHERE: &str = "http://127.0.0.1:9";

/// Runs test `name` of this binary in a child process (with `RUST_BACKTRACE=1` and no output
/// capture), so that whatever the library writes to stderr can be seen: returns true in the
/// child, where the caller then does the work; in the parent, checks the child passed and
/// printed nothing to stderr.
fn in_child(name: &str) -> bool {
    if std::env::var("AICHAT_PROMISES_CHILD").as_deref() == Ok(name) {
        return true;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("AICHAT_PROMISES_CHILD", name)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {}\n{stderr}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr.is_empty(), "the library wrote to stderr:\n{stderr}");
    false
}

fn nested(depth: usize) -> String {
    format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

#[test]
fn deep_nesting_anywhere_is_invalid_request_naming_the_field_and_prints_nothing() {
    if !in_child("deep_nesting_anywhere_is_invalid_request_naming_the_field_and_prints_nothing") {
        return;
    }
    let deep = nested(200);
    let client = ClientHandle::new(None);
    for provider in ["openai", "anthropic", "ollama", "aichat"] {
        for (field, setting) in [
            ("tools", format!(r#""tools":[{{"type":"function","function":{{"name":"f","parameters":{deep}}}}}]"#)),
            ("response_format", format!(r#""response_format":{{"type":"json_schema","json_schema":{deep}}}"#)),
            ("stop", format!(r#""stop":["a",{deep}]"#)),
            ("tool_choice", format!(r#""tool_choice":{deep}"#)),
            (
                "messages[1]",
                format!(r#""messages":[{{"role":"user","content":"a"}},{{"role":"user","content":"b","x":{deep}}}]"#),
            ),
        ] {
            let messages = if field.starts_with("messages") { String::new() } else { format!(r#""messages":{HI},"#) };
            let req = format!(
                r#"{{"provider":"{provider}",{messages}{setting},"base_url":"{NOWHERE}","proxy":"","max_retries":0}}"#
            );
            let out = complete(&client, &req);
            assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST, "{provider} {field}: {}", out.message);
            assert!(out.message.contains(&format!("`{field}`")), "{provider} {field}: {}", out.message);
        }
    }
    // Nesting within the limit, 100 levels counting `response_format`'s own object, is sent as
    // written (it gets as far as connecting).
    let fine = nested(99);
    let req = format!(
        r#"{{"provider":"openai","messages":{HI},"response_format":{{"type":"json_schema","json_schema":{fine}}},"base_url":"{NOWHERE}","proxy":"","max_retries":0}}"#
    );
    let out = complete(&client, &req);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT, "{}", out.message);
}

/// A raw server that answers every connection with `body` as one HTTP answer of `content_type`.
fn answering(content_type: &str, body: &str) -> RawServer {
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    RawServer::start(Raw::Reply(reply.into_bytes())).unwrap()
}

fn sse(events: &[String]) -> String {
    events.iter().map(|e| format!("data: {e}\n\n")).collect::<String>() + "data: [DONE]\n\n"
}

/// The request for `provider` to `server`, streaming or not.
fn to(provider: &str, server: &RawServer, stream: bool) -> String {
    let v1 = if provider == "ollama" { "" } else { "/v1" };
    format!(
        r#"{{"provider":"{provider}","model":"m","messages":{HI},"base_url":"{}{v1}","proxy":"","max_retries":0,"stream":{stream}}}"#,
        server.base_url()
    )
}

/// Pushed and pulled, the call fails with PROTOCOL naming `field`, and no event carried a
/// string cut at a NUL.
fn refused_for_nul(req: &str, field: &str) {
    let client = ClientHandle::new(None);
    for out in [events_with(&client, req, None), pulled_events(&client, req)] {
        assert_eq!(out.status, AichatStatus::AICHAT_ERROR_PROTOCOL, "{field}: {} {:?}", out.message, out.events);
        assert!(out.message.contains(field) && out.message.contains("NUL"), "{field}: {}", out.message);
        assert!(!out.events.iter().any(|e| e.name == "get_time" || e.id == "call_1"), "{:?}", out.events);
    }
}

#[test]
fn a_nul_in_an_id_or_a_name_is_a_protocol_error_naming_the_field() {
    let hidden = r"get_time\u0000delete_all_files";
    let id = r"call_1\u0000x";
    let call = |id: &str, name: &str| {
        format!(
            r#"{{"id":"r","model":"m","choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":0,"id":"{id}","type":"function","function":{{"name":"{name}","arguments":"{{}}"}}}}]}}}}]}}"#
        )
    };
    for (chunk, field) in [
        (call("call_1", hidden), "`name`"),
        (call(id, "get_time"), "`id`"),
        (r#"{"id":"r\u0000x","model":"m","choices":[{"index":0,"delta":{"content":"a"}}]}"#.to_string(), "`id`"),
        (r#"{"id":"r","model":"m\u0000x","choices":[{"index":0,"delta":{"content":"a"}}]}"#.to_string(), "`model`"),
        (
            r#"{"id":"r","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop\u0000x"}]}"#.to_string(),
            "`finish_reason`",
        ),
    ] {
        let server = answering("text/event-stream", &sse(&[chunk]));
        refused_for_nul(&to("openai", &server, true), field);
    }
    let one_shot = format!(
        r#"{{"id":"r","model":"m","choices":[{{"index":0,"message":{{"role":"assistant","content":null,"tool_calls":[{{"id":"call_1","type":"function","function":{{"name":"{hidden}","arguments":"{{}}"}}}}]}},"finish_reason":"tool_calls"}}]}}"#
    );
    refused_for_nul(&to("openai", &answering("application/json", &one_shot), false), "`name`");
    let anthropic = format!(
        r#"{{"id":"msg","type":"message","role":"assistant","model":"m","content":[{{"type":"tool_use","id":"toolu_1","name":"{hidden}","input":{{}}}}],"stop_reason":"tool_use"}}"#
    );
    refused_for_nul(&to("anthropic", &answering("application/json", &anthropic), false), "`name`");
    let ollama = format!(
        r#"{{"model":"m","message":{{"role":"assistant","content":"","tool_calls":[{{"function":{{"name":"{hidden}","arguments":{{}}}}}}]}},"done":true}}"#
    );
    refused_for_nul(&to("ollama", &answering("application/json", &ollama), false), "`name`");
}

/// The most server text a message may carry (README, Security), and room for the library's
/// own words around it.
const MAX_SERVER_TEXT: usize = 512;
const OWN_WORDS: usize = 200;

/// The call fails (any status but OK) with a message of bounded length, or what went wrong.
fn capped(req: &str, case: &str) -> Option<String> {
    let client = ClientHandle::new(None);
    let outs = [events_with(&client, req, None), pulled_events(&client, req)];
    let text = complete(&client, req);
    let statuses_and_messages = outs.iter().map(|o| (o.status, &o.message)).chain([(text.status, &text.message)]);
    for (status, message) in statuses_and_messages {
        if status == AichatStatus::AICHAT_OK || message.len() > MAX_SERVER_TEXT + OWN_WORDS {
            return Some(format!("{case}: {status:?}, {} bytes: {message:.200}", message.len()));
        }
    }
    None
}

#[test]
fn every_message_carries_at_most_the_documented_server_text() {
    let huge = "x".repeat(900 * 1024);
    let answer = |status: &str, content_type: &str, body: &str| {
        let reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        RawServer::start(Raw::Reply(reply.into_bytes())).unwrap()
    };
    let ok = "200 OK";
    let mut failed = Vec::new();
    let streams: Vec<(&str, String)> = vec![
        // Values of the wrong type, which serde's error text quotes.
        ("openai", format!(r#"{{"choices":[{{"index":"{huge}"}}]}}"#)),
        ("openai", format!(r#"{{"id":"r","choices":[{{"index":0,"finish_reason":{{"{huge}":1}}}}]}}"#)),
        ("openai", format!(r#"{{"id":"r","choices":[{{"index":0,"delta":{{"content":["{huge}"]}}}}]}}"#)),
        (
            "openai",
            format!(
                r#"{{"id":"r","choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":0,"id":"{huge}","function":{{"arguments":"\u12"}}}}]}}}}]}}"#
            ),
        ),
        ("openai", format!(r#"{{"error":{{"message":"{huge}","type":"{huge}"}}}}"#)),
        ("openai", format!(r#"{{"message":"{huge}"}}"#)),
        ("openai", format!(r#"{{"{huge}" "#)),
        ("anthropic", format!(r#"{{"type":"error","error":{{"type":"{huge}","message":"{huge}"}}}}"#)),
        ("anthropic", format!(r#"{{"type":"content_block_delta","index":"{huge}"}}"#)),
        ("anthropic", format!(r#"{{"type":"{huge}" "#)),
    ];
    for (provider, event) in &streams {
        let server = answer(ok, "text/event-stream", &format!("event: x\ndata: {event}\n\n"));
        failed.extend(capped(&to(provider, &server, true), &format!("{provider} stream {:.80}", event)));
    }
    let lines = [
        format!(r#"{{"model":"m","error":"{huge}"}}"#),
        format!(r#"{{"model":"m","error":{{"{huge}":1}}}}"#),
        format!(r#"{{"model":"{huge}","message":{{"content":5}},"done":"{huge}"}}"#),
        format!(r#"{{"model":"m" {huge}"#),
    ];
    for line in &lines {
        let server = answer(ok, "application/x-ndjson", &format!("{line}\n"));
        failed.extend(capped(&to("ollama", &server, true), &format!("ollama stream {line:.80}")));
    }
    let one_shots = [
        ("openai", format!(r#"{{"error":{{"message":"{huge}"}}}}"#)),
        ("openai", format!(r#"{{"choices":[{{"message":{{"content":"a"}}}}] {huge}"#)),
        ("anthropic", format!(r#"{{"type":"error","error":{{"type":"{huge}","message":"{huge}"}}}}"#)),
        ("anthropic", format!(r#"{{"content":"{huge}"}}"#)),
        ("ollama", format!(r#"{{"error":"{huge}"}}"#)),
        ("aichat", format!(r#"{{"message":"{huge}","response":false}}"#)),
        ("aichat", format!(r#"{{"message":"{huge}" "#)),
    ];
    for (provider, body) in &one_shots {
        let server = answer(ok, "application/json", body);
        failed.extend(capped(&to(provider, &server, false), &format!("{provider} one-shot {body:.80}")));
    }
    // Error statuses, with JSON and plain bodies, and a status line and headers of the server's.
    for provider in ["openai", "anthropic", "ollama", "aichat"] {
        for body in [format!(r#"{{"error":{{"message":"{huge}"}}}}"#), huge.clone()] {
            let server = answer("400 Bad Request", "application/json", &body);
            failed.extend(capped(&to(provider, &server, true), &format!("{provider} 400")));
        }
        let server = answer(&format!("400 {}", "r".repeat(40_000)), "application/json", "{}");
        failed.extend(capped(&to(provider, &server, false), &format!("{provider} long reason phrase")));
        let bad_header = format!("HTTP/1.1 200 OK\r\nx-{}\r\n\r\n", "h".repeat(40_000));
        let server = RawServer::start(Raw::Reply(bad_header.into_bytes())).unwrap();
        failed.extend(capped(&to(provider, &server, false), &format!("{provider} malformed header")));
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// A server that answers 401 quoting `text` as its error message.
fn quoting(text: &str) -> RawServer {
    let body = serde_json::json!({"error": {"message": text}}).to_string();
    let reply = format!(
        "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    RawServer::start(Raw::Reply(reply.into_bytes())).unwrap()
}

/// The message of an openai call with these extra settings to a server that quotes `text`.
fn message_quoting(text: &str, settings: &str) -> String {
    let server = quoting(text);
    let req = format!(
        r#"{{"provider":"openai","messages":{HI},"base_url":"{}/v1","proxy":"","max_retries":0,{settings}}}"#,
        server.base_url()
    );
    let out = complete(&ClientHandle::new(None), &req);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_HTTP_STATUS, "{}", out.message);
    out.message
}

#[test]
fn every_header_value_is_a_secret_in_messages() {
    let headers = r#""headers":{"x-goog-api-key":"goog-key-1234","X-Auth-Token":"Token auth-5678","OpenAI-Organization":"org-abcdef"}"#;
    let echo =
        "got x-goog-api-key: goog-key-1234, X-Auth-Token: Token auth-5678 (auth-5678), OpenAI-Organization: org-abcdef";
    let m = message_quoting(echo, headers);
    for secret in ["goog-key-1234", "auth-5678", "org-abcdef"] {
        assert!(!m.contains(secret), "{secret} in {m}");
    }
    assert!(m.contains("x-goog-api-key: ***, X-Auth-Token: *** (***), OpenAI-Organization: ***"), "{m}");
}

#[test]
fn masking_leaves_other_text_whole() {
    // A key of one letter, and one that is a piece of a word: the text around them is not theirs.
    for key in ["k", "roke", "conn"] {
        let m = message_quoting("the connection broke", &format!(r#""api_key":"{key}""#));
        assert!(m.ends_with("the connection broke"), "key {key:?}: {m}");
    }
    // A short key is masked where it stands as a whole token.
    let m = message_quoting("bad key roke; (roke) roke.", r#""api_key":"roke""#);
    assert!(m.ends_with("bad key ***; (***) ***."), "{m}");
    // A long key is masked wherever it appears, inside a longer token too (URL-encoded here).
    let key = "sk-proj-0123456789abcdef";
    let m = message_quoting(&format!("Bearer%20{key}x and {key}"), &format!(r#""api_key":"{key}""#));
    assert!(!m.contains("0123456789abcdef"), "{m}");
}

#[test]
fn debug_shows_no_key_header_value_or_proxy_password() {
    use aichat::env::Env;
    use aichat::request::{Request, Settings};
    let options =
        r#"{"api_key":"sk-client-secret","proxy":"http://u:proxy-pw@p:1","headers":{"X-Auth-Token":"hdr-secret"}}"#;
    let settings = Settings::options_from_json(options).unwrap();
    let env = Env::from_pairs([
        ("OPENAI_API_KEY", "sk-env-secret".to_string()),
        ("HTTPS_PROXY", "http://u:env-pw@p:1".to_string()),
    ]);
    let request =
        Request::from_json(r#"{"messages":[],"provider":"openai","base_url":"https://api.example"}"#).unwrap();
    let now = std::time::Instant::now();
    let (_, from_env) = aichat::providers::resolve(request.clone(), &Settings::default(), &env, now).unwrap();
    let (_, resolved) = aichat::providers::resolve(request.clone(), &settings, &env, now).unwrap();
    let client = aichat::Client::with_env(settings.clone(), env.clone());
    let shown = [
        format!("{settings:?}"),
        format!("{request:?}"),
        format!("{from_env:?}"),
        format!("{resolved:?}"),
        format!("{env:?}"),
        format!("{client:?}"),
    ];
    for shown in shown {
        for secret in ["sk-client-secret", "proxy-pw", "hdr-secret", "sk-env-secret", "env-pw"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
