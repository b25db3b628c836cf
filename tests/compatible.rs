//! The OpenAI-compatible services by name, through the C ABI: each is the openai protocol with its
//! own base URL, key variable and key header (src/providers/compatible.rs).

mod common;
use AichatEventKind::*;
use common::*;
use serde_json::Value;

fn seen(provider: &str, base_url: &str, extra: &str) -> Value {
    let req = format!(
        r#"{{"provider":"{provider}","messages":{HI},"base_url":"{base_url}","proxy":"","stream":true{extra}}}"#
    );
    let out = complete(&ClientHandle::new(None), &req);
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{provider}: {}", out.message);
    serde_json::from_str(&out.text()).unwrap()
}

#[test]
fn a_named_service_streams_as_openai_does() {
    let server = Server::start().unwrap();
    for provider in ["groq", "openrouter", "deepseek", "vllm"] {
        let req = format!(
            r#"{{"provider":"{provider}","messages":{HI},"base_url":"{}/v1","proxy":"","stream":true}}"#,
            server.base_url()
        );
        let out = events_with(&ClientHandle::new(None), &req, None);
        assert_eq!(out.status, AichatStatus::AICHAT_OK, "{provider}: {}", out.message);
        assert_eq!(out.joined(AICHAT_EVENT_TEXT), "You said: Hi", "{provider}");
    }
}

#[test]
fn the_key_goes_in_each_service_s_header() {
    let server = Server::start().unwrap();
    let groq = seen("groq", &format!("{}/v1", server.fault_url("echo")), r#","api_key":"gsk-1""#);
    assert_eq!(header(&groq, "authorization"), Some("Bearer gsk-1"));
    assert!(groq["path"].as_str().unwrap().ends_with("/echo/v1/chat/completions"), "{}", groq["path"]);
    let azure = seen("azure", &format!("{}/openai/v1", server.fault_url("echo")), r#","api_key":"az-1""#);
    assert_eq!(header(&azure, "api-key"), Some("az-1"));
    assert_eq!(header(&azure, "authorization"), None);
    assert!(azure["path"].as_str().unwrap().ends_with("/echo/openai/v1/chat/completions"), "{}", azure["path"]);
}

#[test]
fn azure_without_an_endpoint_is_refused_by_name() {
    let out = complete(&ClientHandle::new(None), &format!(r#"{{"provider":"azure","messages":{HI}}}"#));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(out.message.contains("set `base_url` or AZURE_OPENAI_ENDPOINT"), "{}", out.message);
}
