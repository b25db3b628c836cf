//! The Aichat provider: exactly the request gpt4free's `Aichat` sent to chat-gpt.org
//! (restated in `tests/fidelity.rs`), and its one-shot JSON answer.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use crate::answer::Assembler;
use crate::error::{Error, ErrorKind, server_text, undecodable};
use crate::prompt;
use crate::request::{ProtocolDefaults, Resolved};
use crate::transport::HttpRequest;

use super::{Decoder, Field, Flow, Framing, Protocol, post};

pub const DEFAULT_BASE_URL: &str = "https://chat-gpt.org";

/// The original's headers, names and values verbatim, in its order.
pub const HEADERS: [(&str, &str); 13] = [
    ("authority", "chat-gpt.org"),
    ("accept", "*/*"),
    ("cache-control", "no-cache"),
    ("content-type", "application/json"),
    ("origin", "https://chat-gpt.org"),
    ("pragma", "no-cache"),
    ("referer", "https://chat-gpt.org/chat"),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", "\"macOS\""),
    ("sec-fetch-dest", "empty"),
    ("sec-fetch-mode", "cors"),
    ("sec-fetch-site", "same-origin"),
    (
        "user-agent",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Safari/537.36",
    ),
];

/// The body's numbers: the original's integers when the caller set none, else the caller's.
#[derive(Serialize)]
#[serde(untagged)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn or_default(value: Option<f64>, default: i64) -> Number {
        value.map_or(Number::Int(default), Number::Float)
    }
}

/// The original's body, field order included.
#[derive(Serialize)]
struct Body<'a> {
    message: &'a str,
    temperature: Number,
    presence_penalty: Number,
    top_p: Number,
    frequency_penalty: Number,
}

pub fn build_request(r: &Resolved) -> Result<HttpRequest, Error> {
    let prompt = prompt::compose(&r.messages)?;
    let body = Body {
        message: &prompt,
        temperature: Number::or_default(r.fields.temperature, 1),
        presence_penalty: Number::or_default(r.fields.presence_penalty, 0),
        top_p: Number::or_default(r.fields.top_p, 1),
        frequency_penalty: Number::or_default(r.fields.frequency_penalty, 0),
    };
    // Not a `JsonHead`: the original's headers, verbatim (`accept: */*`, no key).
    let headers = HEADERS.iter().map(|&(name, value)| (Cow::Borrowed(name), Cow::Borrowed(value))).collect();
    Ok(post(r, format!("{}/api/text", r.base_url), headers, &body))
}

/// The completion text of a 2xx answer: its string field `message`, unless `response` is false.
pub fn parse_answer(body: &[u8]) -> Result<String, Error> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| undecodable("the aichat answer is not JSON", &e, &String::from_utf8_lossy(body)))?;
    let message = value.get("message");
    if value.get("response") == Some(&Value::Bool(false)) {
        let reason = message.and_then(Value::as_str).unwrap_or("no reason given");
        return Err(Error::new(
            ErrorKind::Server,
            format!("the aichat server reported a failure: {}", server_text(reason)),
        ));
    }
    match message {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(Error::protocol("the aichat answer's `message` is not a string")),
        None => Err(Error::protocol("the aichat answer has no `message` field")),
    }
}

/// `"provider": "aichat"`, the default.
#[derive(Debug)]
pub struct Aichat;

impl ProtocolDefaults for Aichat {
    fn name(&self) -> &'static str {
        "aichat"
    }

    fn default_base_url(&self) -> &'static str {
        DEFAULT_BASE_URL
    }

    fn takes(&self) -> &'static [Field] {
        // The original protocol has exactly five body fields, all of which every protocol takes.
        &[Field::presence_penalty, Field::frequency_penalty]
    }
}

impl Protocol for Aichat {
    fn build_request(&self, r: &Resolved) -> Result<HttpRequest, Error> {
        build_request(r)
    }

    fn framing(&self, _content_type: &str, _stream_asked: bool) -> Framing {
        Framing::Json
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(AichatDecoder)
    }
}

/// The answer is one piece of text: RESPONSE (empty), TEXT, FINISH ("stop"), MESSAGE.
struct AichatDecoder;

impl Decoder for AichatDecoder {
    fn frame(&mut self, _event: &str, _data: &str, _out: &mut Assembler<'_>) -> Result<Flow, Error> {
        Err(Error::protocol("the aichat protocol answers with one JSON document, not a stream"))
    }

    fn body(&mut self, body: &[u8], out: &mut Assembler<'_>) -> Result<(), Error> {
        let text = parse_answer(body)?;
        out.start("", "")?;
        out.text(0, &text)?;
        out.finish(0, "stop", "stop")
    }

    fn end_marker(&self) -> &'static str {
        "the end of its JSON answer"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Request, Settings};
    use serde_json::json;

    fn resolved(json: &str) -> Resolved {
        crate::providers::resolve(
            Request::from_json(json).unwrap(),
            &Settings::default(),
            &crate::env::Env::default(),
            std::time::Instant::now(),
        )
        .map(|(_, r)| r)
        .unwrap()
    }

    fn build_request_ok(r: &Resolved) -> HttpRequest {
        build_request(r).unwrap()
    }

    #[test]
    fn request_matches_the_original() {
        let req = build_request_ok(&resolved(r#"[{"role":"user","content":"Hi"}]"#));
        assert_eq!(req.url, "https://chat-gpt.org/api/text");
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(
            body,
            json!({"message":"user: Hi\nassistant:","temperature":1,"presence_penalty":0,"top_p":1,"frequency_penalty":0})
        );
        assert_eq!(req.headers.len(), 13);
        assert_eq!(req.headers[8], (Cow::Borrowed("sec-ch-ua-platform"), Cow::Borrowed("\"macOS\"")));
    }

    #[test]
    fn caller_sampling_values_replace_the_defaults() {
        let req = build_request_ok(&resolved(r#"{"messages":[],"temperature":0.25,"top_p":0.5}"#));
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["temperature"], json!(0.25));
        assert_eq!(body["top_p"], json!(0.5));
        assert_eq!(body["message"], json!("assistant:"));
    }

    #[test]
    fn extra_headers_go_on_top() {
        let req = build_request_ok(&resolved(r#"{"messages":[],"headers":{"X-Extra":"1","Accept":"text/plain"}}"#));
        assert_eq!(req.headers.len(), 14);
        assert!(req.headers.contains(&(Cow::Borrowed("X-Extra"), Cow::Borrowed("1"))));
        assert!(req.headers.contains(&(Cow::Borrowed("Accept"), Cow::Borrowed("text/plain"))));
        assert!(!req.headers.iter().any(|(k, _)| k == "accept"));
    }

    #[test]
    fn base_url_trailing_slash_is_not_doubled() {
        let req = build_request_ok(&resolved(r#"{"messages":[],"base_url":"http://127.0.0.1:9/x/"}"#));
        assert_eq!(req.url, "http://127.0.0.1:9/x/api/text");
    }

    #[test]
    fn answer_message_is_the_completion() {
        assert_eq!(parse_answer(br#"{"message":"Hello","response":true}"#).unwrap(), "Hello");
        assert_eq!(parse_answer(br#"{"message":""}"#).unwrap(), "");
    }

    #[test]
    fn response_false_is_a_server_error_with_its_reason() {
        let e = parse_answer(br#"{"response":false,"message":"quota exceeded"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Server);
        assert_eq!(e.message(), "the aichat server reported a failure: quota exceeded");
    }

    #[test]
    fn missing_or_non_string_message_is_a_protocol_error() {
        assert_eq!(parse_answer(br#"{"response":true}"#).unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(parse_answer(br#"{"message":5}"#).unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(parse_answer(b"<html>").unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(parse_answer(b"{\"message\":\"\xff\"}").unwrap_err().kind(), ErrorKind::Protocol);
    }
}
