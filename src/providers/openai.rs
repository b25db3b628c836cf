//! The OpenAI-compatible chat-completions protocol (OpenAI, llama.cpp's server, vLLM, Ollama,
//! LM Studio, most gateways): one JSON answer, or an SSE stream of `chat.completion.chunk`s.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{Error, ErrorKind, server_text};
use crate::interrupt::Stop;
use crate::request::Resolved;
use crate::sse::Framer;
use crate::transport::{Header, HttpRequest, HttpResponse, Transport};

use super::{Sink, with_extra_headers};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Largest SSE line or event; smaller when `max_response_bytes` is.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// How much is read after `[DONE]` so the connection can go back to the pool.
const DRAIN_AFTER_DONE: usize = 64 * 1024;

pub fn build_request(r: &Resolved) -> HttpRequest {
    let mut body = Map::new();
    body.insert("model".into(), json!(r.model));
    body.insert("messages".into(), json!(r.messages));
    body.insert("stream".into(), json!(r.stream));
    for (name, value) in [
        ("temperature", r.temperature),
        ("top_p", r.top_p),
        ("presence_penalty", r.presence_penalty),
        ("frequency_penalty", r.frequency_penalty),
    ] {
        if let Some(v) = value {
            body.insert(name.into(), json!(v));
        }
    }
    if let Some(n) = r.max_tokens {
        body.insert("max_tokens".into(), json!(n));
    }
    for (name, value) in r.extra_body.iter().flatten() {
        body.insert(name.clone(), value.clone());
    }
    let accept = if r.stream { "text/event-stream" } else { "application/json" };
    let authorization = r.api_key.as_ref().map(|key| format!("Bearer {}", key.expose()));
    let mut own: Vec<Header> = vec![
        (Cow::Borrowed("content-type"), Cow::Borrowed("application/json")),
        (Cow::Borrowed("accept"), Cow::Borrowed(accept)),
    ];
    if let Some(value) = authorization {
        own.push((Cow::Borrowed("authorization"), Cow::Owned(value)));
    }
    let headers = with_extra_headers(own, &r.headers);
    HttpRequest {
        url: format!("{}/chat/completions", r.base_url),
        headers,
        body: serde_json::to_vec(&Value::Object(body)).expect("a JSON value always serializes"),
    }
}

pub fn run(r: &Resolved, transport: &Transport, stop: &Stop, sink: &mut Sink<'_>) -> Result<(), Error> {
    let mut response = transport.send(&build_request(r), r, stop)?;
    if !response.is_success() {
        return Err(response.status_error());
    }
    let status = response.status();
    // Decide by what the server sent, not by what was asked: some servers ignore `stream`.
    let result = if response.content_type().starts_with("text/event-stream") {
        let cap = MAX_EVENT_BYTES.min(usize::try_from(r.max_response_bytes).unwrap_or(usize::MAX));
        read_stream(&mut response, cap, sink)
    } else {
        let body = response.read_to_end()?;
        match parse_answer(&body)? {
            Some(text) if !text.is_empty() && !sink(&text) => Err(Error::stopped_by_sink()),
            _ => Ok(()),
        }
    };
    result.map_err(|e| if e.http_status() == 0 { e.with_http_status(status) } else { e })
}

/// Feeds the SSE body through the framer, delivering each content delta as it is decoded.
fn read_stream(response: &mut HttpResponse, cap: usize, sink: &mut Sink<'_>) -> Result<(), Error> {
    let mut framer = Framer::new(cap);
    let mut buf = vec![0u8; 16 * 1024];
    let mut outcome: Result<Flow, Error> = Ok(Flow::More);
    loop {
        let n = response.read(&mut buf)?;
        if n == 0 {
            return Err(Error::protocol(format!(
                "the stream from {} ended before `data: [DONE]` (truncated)",
                response.host()
            )));
        }
        let fed = framer.feed(&buf[..n], &mut |data| {
            outcome = match parse_event(data) {
                Ok(Event::Text(text)) if !sink(&text) => Err(Error::stopped_by_sink()),
                Ok(Event::Text(_)) | Ok(Event::Skip) => Ok(Flow::More),
                Ok(Event::Done) => Ok(Flow::Done),
                Err(e) => Err(e),
            };
            matches!(outcome, Ok(Flow::More))
        });
        fed.map_err(|too_long| {
            Error::protocol(format!("an SSE line or event from {} is over {} bytes", response.host(), too_long.cap))
        })?;
        match std::mem::replace(&mut outcome, Ok(Flow::More))? {
            Flow::More => {}
            Flow::Done => {
                response.drain(DRAIN_AFTER_DONE);
                return Ok(());
            }
        }
    }
}

enum Flow {
    More,
    Done,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    Text(Cow<'a, str>),
    Skip,
    Done,
}

/// One streamed chunk: only the fields this library reads; everything else is skipped unparsed.
#[derive(Deserialize)]
struct StreamChunk<'a> {
    #[serde(borrow, default, deserialize_with = "first_choice")]
    choices: Option<StreamChoice<'a>>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct StreamChoice<'a> {
    #[serde(borrow, default)]
    delta: Option<Delta<'a>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
}

/// `choices` as its first element, without collecting the rest (`null` and `[]` give `None`).
fn first_choice<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<StreamChoice<'de>>, D::Error> {
    struct First;
    impl<'de> serde::de::Visitor<'de> for First {
        type Value = Option<StreamChoice<'de>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of choices or null")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(First)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let first = seq.next_element()?;
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(first)
        }
    }
    d.deserialize_option(First)
}

/// Interprets one SSE event's data.
pub fn parse_event(data: &str) -> Result<Event<'_>, Error> {
    if data == "[DONE]" {
        return Ok(Event::Done);
    }
    let chunk: StreamChunk = serde_json::from_str(data).map_err(|e| {
        Error::protocol(format!("a stream event is not a chat.completion.chunk ({e}): {}", server_text(data)))
    })?;
    if let Some(error) = chunk.error.filter(|e| !e.is_null()) {
        return Err(Error::new(
            ErrorKind::Server,
            format!("the server reported an error mid-stream: {}", error_message(&error)),
        ));
    }
    match chunk.choices.and_then(|c| c.delta).and_then(|d| d.content) {
        Some(text) if !text.is_empty() => Ok(Event::Text(text)),
        _ => Ok(Event::Skip),
    }
}

/// The text of a one-shot answer: `choices[0].message.content` (`None` when it is null).
pub fn parse_answer(body: &[u8]) -> Result<Option<String>, Error> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Error::protocol(format!("the answer is not JSON ({e}): {}", server_text(&String::from_utf8_lossy(body))))
    })?;
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        return Err(Error::new(ErrorKind::Server, format!("the server reported an error: {}", error_message(error))));
    }
    let Some(message) = value.pointer("/choices/0/message") else {
        return Err(Error::protocol("the answer has no `choices[0].message`"));
    };
    match message.get("content") {
        Some(Value::String(text)) => Ok(Some(text.clone())),
        None | Some(Value::Null) => Ok(None),
        Some(_) => Err(Error::protocol("the answer's `choices[0].message.content` is not a string")),
    }
}

fn error_message(error: &Value) -> String {
    let text = match error.get("message").and_then(Value::as_str) {
        Some(m) => m.to_string(),
        None => error.as_str().map_or_else(|| error.to_string(), str::to_string),
    };
    server_text(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Request, Settings};

    fn resolved(json: &str) -> Resolved {
        Resolved::with_env(Request::from_json(json).unwrap(), &Settings::default(), &|_| None).unwrap()
    }

    fn body(req: &HttpRequest) -> Value {
        serde_json::from_slice(&req.body).unwrap()
    }

    #[test]
    fn body_has_only_what_the_caller_set() {
        let req = build_request(&resolved(r#"{"provider":"openai","messages":[{"role":"user","content":"Hi"}]}"#));
        assert_eq!(req.url, "https://api.openai.com/v1/chat/completions");
        assert_eq!(
            body(&req),
            json!({"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"Hi"}],"stream":false})
        );
        assert!(!req.headers.iter().any(|(k, _)| k == "authorization"), "no key, no header");
    }

    #[test]
    fn sampling_max_tokens_and_extra_body_are_sent() {
        let req = build_request(&resolved(
            r#"{"provider":"openai","messages":[],"model":"m","stream":true,"temperature":0.5,"max_tokens":7,
                "extra_body":{"seed":3,"stop":["\n"],"stream_options":{"include_usage":true}}}"#,
        ));
        assert_eq!(
            body(&req),
            json!({"model":"m","messages":[],"stream":true,"temperature":0.5,"max_tokens":7,"seed":3,"stop":["\n"],
                   "stream_options":{"include_usage":true}})
        );
        assert!(req.headers.contains(&(Cow::Borrowed("accept"), Cow::Borrowed("text/event-stream"))));
    }

    #[test]
    fn api_key_becomes_a_bearer_header() {
        let req = build_request(&resolved(r#"{"provider":"openai","messages":[],"api_key":"sk-1"}"#));
        assert!(req.headers.contains(&(Cow::Borrowed("authorization"), Cow::Borrowed("Bearer sk-1"))));
    }

    #[test]
    fn content_deltas_are_text() {
        let e = parse_event(
            r#"{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#,
        );
        assert_eq!(e.unwrap(), Event::Text(Cow::Borrowed("Hel")));
        let e = parse_event(r#"{"choices":[{"delta":{"content":"a\"b\u00e9"}}]}"#).unwrap();
        assert_eq!(e, Event::Text(Cow::Owned("a\"bé".into())));
    }

    #[test]
    fn role_only_empty_null_and_usage_chunks_are_skipped() {
        for data in [
            r#"{"choices":[{"delta":{"role":"assistant"}}]}"#,
            r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#,
            r#"{"choices":[{"delta":{"content":null}}]}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":1}}"#,
            r#"{"choices":null,"usage":{"total_tokens":2}}"#,
            r#"{"usage":{}}"#,
            r#"{"choices":[{"delta":{"content":null,"tool_calls":[]},"logprobs":null}],"x_unknown":1}"#,
        ] {
            assert_eq!(parse_event(data).unwrap(), Event::Skip, "{data}");
        }
    }

    #[test]
    fn done_ends_the_stream() {
        assert_eq!(parse_event("[DONE]").unwrap(), Event::Done);
    }

    #[test]
    fn error_event_is_a_server_error_with_its_message() {
        let e = parse_event(r#"{"error":{"message":"overloaded","type":"server_error"}}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Server);
        assert_eq!(e.message(), "the server reported an error mid-stream: overloaded");
    }

    #[test]
    fn malformed_event_is_a_protocol_error() {
        assert_eq!(parse_event("{not json").unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(parse_event(r#"{"choices":5}"#).unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[test]
    fn one_shot_answer_content() {
        let body = br#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi there"},"finish_reason":"stop"}]}"#;
        assert_eq!(parse_answer(body).unwrap().as_deref(), Some("Hi there"));
        let null = br#"{"choices":[{"message":{"role":"assistant","content":null}}]}"#;
        assert_eq!(parse_answer(null).unwrap(), None);
    }

    #[test]
    fn one_shot_answer_errors() {
        assert_eq!(parse_answer(br#"{"choices":[]}"#).unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(parse_answer(b"<html>").unwrap_err().kind(), ErrorKind::Protocol);
        let e = parse_answer(br#"{"error":{"message":"bad model"}}"#).unwrap_err();
        assert_eq!((e.kind(), e.message()), (ErrorKind::Server, "the server reported an error: bad model"));
    }
}
