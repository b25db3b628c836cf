//! Promises the library makes to every host, through the C ABI: no panic reaches the host and
//! nothing is printed, server text in a message is capped, secrets never appear in a message,
//! and what C sees of an id or a name is what MESSAGE holds.

mod common;
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
