//! The protocols the library speaks, one file each, looked up by name in one registry. A
//! protocol builds the HTTP request from a resolved call and decodes the answer's frames into
//! the [`Assembler`]; the [`driver`] does everything they share (sending, status errors,
//! framing, truncation, draining, the HTTP status on errors).
//!
//! Adding a protocol: a file here implementing [`Protocol`], a line in [`REGISTRY`], its route
//! in the test server, its tests.

pub mod aichat;
pub mod anthropic;
pub mod bedrock;
pub mod compatible;
pub mod driver;
pub mod gemini;
pub mod ollama;
pub mod openai;
pub mod responses;

use std::borrow::Cow;

use serde::Serialize;

use crate::answer::Assembler;
use crate::error::Error;
use std::time::Instant;

use crate::env::Env;
use crate::request::{Headers, ProtocolDefaults, Request, Resolved, Secret, Settings, protocol_named};
pub use crate::settings::Field;
use crate::transport::{Header, HttpRequest};

/// Every protocol, by name; the first is the default.
pub static REGISTRY: &[&dyn Protocol] = &[
    &aichat::Aichat,
    &openai::OpenAi,
    &anthropic::Anthropic,
    &ollama::Ollama,
    &responses::Responses,
    &gemini::Gemini,
    &bedrock::Bedrock,
    // The OpenAI-compatible services by name (compatible.rs: a row of data each).
    &compatible::OPENROUTER,
    &compatible::GROQ,
    &compatible::DEEPSEEK,
    &compatible::MISTRAL,
    &compatible::TOGETHER,
    &compatible::FIREWORKS,
    &compatible::XAI,
    &compatible::CEREBRAS,
    &compatible::AZURE,
    &compatible::LMSTUDIO,
    &compatible::VLLM,
];

/// A protocol, as a request names it in `provider`.
pub type Provider = &'static dyn Protocol;

/// A call starting at `started`: its protocol (the one the request's, else the client's
/// `provider` names, looked up once, here) and the request resolved for it.
pub fn resolve(
    request: Request,
    client: &Settings,
    env: &Env,
    started: Instant,
) -> Result<(Provider, Resolved), Error> {
    let name = request.settings.provider.as_deref().or(client.provider.as_deref());
    let protocol = protocol_named(name, REGISTRY, "request")?;
    Ok((protocol, Resolved::with_env(request, client, env, protocol, started)?))
}

/// The protocol named `name`.
pub fn by_name(name: &str) -> Option<Provider> {
    REGISTRY.iter().copied().find(|p| p.name() == name)
}

/// How an answer's body is cut into frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One JSON document.
    Json,
    /// Server-sent events (each with its `event` name).
    Sse,
    /// One JSON document a line.
    Ndjson,
    /// AWS's binary event-stream (`application/vnd.amazon.eventstream`): each message is handed
    /// to the decoder as a frame named by its `:event-type` (see [`EXCEPTION_PREFIX`]).
    EventStream,
}

/// How an event-stream `exception` message is named to [`Decoder::frame`]: this prefix and its
/// `:exception-type` (`exception:throttlingException`), with its payload as the data.
pub const EXCEPTION_PREFIX: &str = "exception:";
/// How an event-stream `error` message is named: this prefix and its `:error-code`, with its
/// `:error-message` as the data.
pub const ERROR_PREFIX: &str = "error:";

/// What a protocol is: its defaults (`ProtocolDefaults`: name, base URL, environment, the
/// fields it takes), the request it sends, and how its answer is read.
pub trait Protocol: ProtocolDefaults {
    /// The HTTP request for a call; a conversation it cannot express is an error naming the field.
    fn build_request(&self, r: &Resolved) -> Result<HttpRequest, Error>;
    /// How to read an answer with this media type, for a call that asked for a stream or not.
    fn framing(&self, content_type: &str, stream_asked: bool) -> Framing;
    /// A decoder for one answer.
    fn decoder(&self) -> Box<dyn Decoder>;
    /// A decoder for the answer to `r` (for a protocol whose answer does not name what the
    /// request did, such as the model).
    fn decoder_for(&self, r: &Resolved) -> Box<dyn Decoder> {
        let _ = r;
        self.decoder()
    }
    /// The largest line or event of its stream (smaller when `max_response_bytes` is): the
    /// driver's 1 MiB, unless the protocol's events repeat the whole answer.
    fn max_frame_bytes(&self) -> usize {
        driver::MAX_FRAME_BYTES
    }
    /// The same decoder without its fast path, if it has one: what the fast path must match
    /// event for event (the `fast_paths` fuzz target compares them).
    #[doc(hidden)]
    fn plain_decoder(&self) -> Box<dyn Decoder> {
        self.decoder()
    }
}

/// Whether a stream goes on after a frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    More,
    /// The protocol's end marker arrived: nothing more is read.
    Done,
}

/// Turns one answer's frames into what the assembler makes events of.
pub trait Decoder {
    /// One frame of a stream: an SSE event (its name, "" when it has none, and its data), an
    /// NDJSON line (name ""), or an event-stream message (its `:event-type`, or
    /// [`EXCEPTION_PREFIX`] or [`ERROR_PREFIX`] and its type, and its payload as text).
    fn frame(&mut self, event: &str, data: &str, out: &mut Assembler<'_>) -> Result<Flow, Error>;
    /// A whole answer.
    fn body(&mut self, body: &[u8], out: &mut Assembler<'_>) -> Result<(), Error>;
    /// What the end marker of a stream is, for the message when a stream ends without it.
    fn end_marker(&self) -> &'static str;
    /// Whether the stream may end now (its body close without a cut): for a protocol whose
    /// end marker is followed by more frames (Converse's `metadata` after `messageStop`), so
    /// its decoder returns [`Flow::More`] at the marker and reads on.
    fn may_end(&self) -> bool {
        false
    }
    /// Whether the error it last returned says the server is overloaded or failed (a 529 or
    /// 5xx sent after a 200): the call is then retried as such an answer is, if nothing of the
    /// answer was delivered yet.
    fn retryable(&self) -> bool {
        false
    }
}

/// A protocol's own headers with the caller's `headers` on top: one with the same name
/// (case-insensitively) replaces the protocol's.
fn with_extra_headers(base: Vec<Header>, extra: &Headers) -> Vec<Header> {
    let mut headers: Vec<Header> =
        base.into_iter().filter(|(name, _)| !extra.0.keys().any(|e| e.eq_ignore_ascii_case(name))).collect();
    headers.extend(extra.0.iter().map(|(name, value)| (Cow::Owned(name.clone()), Cow::Owned(value.clone()))));
    headers
}

/// The POST of `body` to `url` with the protocol's `own` headers and the caller's on top;
/// unsigned (a protocol that signs sets its `signer`).
fn post(r: &Resolved, url: String, own: Vec<Header>, body: &impl Serialize) -> HttpRequest {
    HttpRequest {
        url,
        headers: with_extra_headers(own, &r.headers),
        body: serde_json::to_vec(body).expect("a request body always serializes"),
        signer: None,
    }
}

/// How a service wants the API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyHeader {
    /// `Authorization: Bearer <key>` (OpenAI and nearly every compatible service, the Responses
    /// API, a gateway in front of Ollama, a Bedrock API key).
    Bearer,
    /// `api-key: <key>` (Azure OpenAI).
    ApiKey,
    /// `x-api-key: <key>` (Anthropic).
    XApiKey,
    /// `x-goog-api-key: <key>` (Gemini).
    XGoogApiKey,
}

impl KeyHeader {
    /// The header carrying `key`. Its value is owned, so `HttpRequest`'s `Debug` masks it and
    /// its drop wipes it.
    fn header(self, key: &Secret) -> Header {
        let key = key.expose();
        match self {
            KeyHeader::Bearer => (Cow::Borrowed("authorization"), Cow::Owned(format!("Bearer {key}"))),
            KeyHeader::ApiKey => (Cow::Borrowed("api-key"), Cow::Owned(key.to_string())),
            KeyHeader::XApiKey => (Cow::Borrowed("x-api-key"), Cow::Owned(key.to_string())),
            KeyHeader::XGoogApiKey => (Cow::Borrowed("x-goog-api-key"), Cow::Owned(key.to_string())),
        }
    }
}

/// The head of a protocol's JSON request: `content-type: application/json`, `accept` (its
/// stream's media type for a stream, else JSON), its own fixed headers, the key when the call
/// has one, and the caller's headers on top.
#[derive(Debug, Clone, Copy)]
struct JsonHead {
    /// The media type of its stream, accepted when the call streams.
    stream_type: &'static str,
    /// Its own fixed headers, after `accept`.
    fixed: &'static [(&'static str, &'static str)],
    key: KeyHeader,
}

impl JsonHead {
    /// Server-sent events, a bearer key: what the others differ from.
    const SSE: JsonHead = JsonHead { stream_type: "text/event-stream", fixed: &[], key: KeyHeader::Bearer };

    /// The POST of `body` to `url` for the call `r`.
    fn request(&self, r: &Resolved, url: String, body: &impl Serialize) -> HttpRequest {
        let accept = if r.stream { self.stream_type } else { "application/json" };
        let mut own: Vec<Header> = vec![
            (Cow::Borrowed("content-type"), Cow::Borrowed("application/json")),
            (Cow::Borrowed("accept"), Cow::Borrowed(accept)),
        ];
        own.extend(self.fixed.iter().map(|&(name, value)| (Cow::Borrowed(name), Cow::Borrowed(value))));
        own.extend(r.api_key.as_ref().map(|key| self.key.header(key)));
        post(r, url, own, body)
    }
}

/// Whether an answer is an SSE stream. Its media type decides when it names SSE or JSON: some
/// servers ignore `stream`. Any other type (`text/plain` from a static server or a gateway that
/// rewrote it, or none) is read as what was asked for, as the official SDKs do.
pub fn sse_or_json(content_type: &str, stream_asked: bool) -> Framing {
    let media = content_type.split(';').next().unwrap_or("").trim();
    let sse = if media == "text/event-stream" {
        true
    } else if media == "application/json" || media.ends_with("+json") {
        false
    } else {
        stream_asked
    };
    if sse { Framing::Sse } else { Framing::Json }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_media_type_decides_unless_it_says_neither_sse_nor_json() {
        assert_eq!(sse_or_json("text/event-stream; charset=utf-8", false), Framing::Sse);
        assert_eq!(sse_or_json("application/json", true), Framing::Json);
        assert_eq!(sse_or_json("application/problem+json", true), Framing::Json);
        for other in ["text/plain", "", "application/octet-stream"] {
            assert_eq!(sse_or_json(other, true), Framing::Sse, "{other}");
            assert_eq!(sse_or_json(other, false), Framing::Json, "{other}");
        }
    }

    #[test]
    fn user_is_sent_as_each_protocol_names_it_or_refused() {
        let body = |provider: &str| -> Result<serde_json::Value, Error> {
            let json =
                format!(r#"{{"provider":"{provider}","messages":[{{"role":"user","content":"hi"}}],"user":"u-42"}}"#);
            let (p, r) = resolve(Request::from_json(&json)?, &Settings::default(), &Env::default(), Instant::now())?;
            Ok(serde_json::from_slice(&p.build_request(&r)?.body).expect("a JSON body"))
        };
        assert_eq!(body("openai").unwrap()["user"], "u-42");
        assert_eq!(body("anthropic").unwrap()["metadata"], serde_json::json!({"user_id": "u-42"}));
        for refused in ["aichat", "ollama", "gemini"] {
            let e = body(refused).unwrap_err();
            assert_eq!(e.message(), format!("invalid request: `user` is not supported by the {refused} provider"));
        }
    }

    #[test]
    fn every_protocol_sends_its_key_owned_so_debug_masks_it_and_shows_its_fixed_headers() {
        for protocol in REGISTRY {
            let name = protocol.name();
            let json = format!(
                r#"{{"provider":"{name}","messages":[{{"role":"user","content":"hi"}}],"base_url":"http://h","api_key":"sk-unit-secret"}}"#
            );
            let (p, r) =
                resolve(Request::from_json(&json).unwrap(), &Settings::default(), &Env::default(), Instant::now())
                    .unwrap();
            let req = p.build_request(&r).unwrap();
            let keyed: Vec<&Header> = req.headers.iter().filter(|(_, v)| v.contains("sk-unit-secret")).collect();
            assert_eq!(keyed.len(), usize::from(name != "aichat"), "{name}: aichat alone sends no key");
            assert!(keyed.iter().all(|(_, v)| matches!(v, Cow::Owned(_))), "{name}");
            let shown = format!("{req:?}");
            assert!(!shown.contains("sk-unit-secret") && shown.contains("application/json"), "{name}: {shown}");
        }
    }

    #[test]
    fn every_listed_setting_is_taken_by_some_protocol_and_only_listed_ones_are_named() {
        use crate::settings::{TABLE, Taken};
        for row in TABLE {
            let takers = REGISTRY.iter().filter(|p| p.takes().contains(&row.field)).count();
            match row.taken {
                Taken::Listed => assert!(takers > 0, "no protocol takes `{}`", row.name),
                Taken::Every => assert_eq!(takers, 0, "`{}` is taken by every protocol: no need to list it", row.name),
            }
        }
    }

    #[test]
    fn the_registry_names_each_protocol_once() {
        let names: Vec<&str> = REGISTRY.iter().map(|p| p.name()).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(names.len(), unique.len());
        assert_eq!(REGISTRY[0].name(), "aichat", "the default comes first");
        assert!(by_name("openai").is_some() && by_name("nope").is_none());
    }
}
