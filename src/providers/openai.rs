//! The OpenAI-compatible chat-completions protocol (OpenAI, llama.cpp's server, vLLM, Ollama,
//! LM Studio, most gateways): one JSON answer, or an SSE stream of `chat.completion.chunk`s.

use std::borrow::Cow;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::answer::{Assembler, ToolFragment};
use crate::error::{Error, ErrorKind, server_text, undecodable};
use crate::event::Usage;
use crate::fastjson::{JsonStr, Used};
use crate::request::{ProtocolDefaults, Resolved};
use crate::transport::HttpRequest;

pub use super::KeyHeader;
use super::{Decoder, Field, Flow, Framing, JsonHead, Protocol, sse_or_json};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The request body: the messages exactly as the caller wrote them, each field only when set,
/// and `extra_body` over everything (a key it has replaces the library's own).
struct Body<'a>(&'a Resolved, Quirks);

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (r, quirks) = (self.0, self.1);
        let extra = r.fields.extra_body.as_ref();
        let mut map = serializer.serialize_map(None)?;
        macro_rules! put {
            ($name:literal, $value:expr) => {
                if !extra.is_some_and(|e| e.contains_key($name)) {
                    if let Some(value) = $value {
                        map.serialize_entry($name, value)?;
                    }
                }
            };
        }
        let messages: Vec<_> = r.messages.iter().map(|m| m.raw()).collect();
        let stream_options =
            (r.stream && r.include_usage && quirks.stream_options).then(|| serde_json::json!({"include_usage": true}));
        put!("model", Some(&r.model));
        put!("messages", Some(&messages));
        put!("stream", Some(&r.stream));
        put!("stream_options", stream_options.as_ref());
        put!("temperature", r.fields.temperature.as_ref());
        put!("top_p", r.fields.top_p.as_ref());
        put!("presence_penalty", r.fields.presence_penalty.as_ref());
        put!("frequency_penalty", r.fields.frequency_penalty.as_ref());
        put!("max_tokens", r.fields.max_tokens.as_ref());
        put!("n", r.fields.n.as_ref());
        put!("seed", r.fields.seed.as_ref());
        put!("stop", r.fields.stop.as_ref());
        put!("tools", r.fields.tools.as_ref());
        put!("tool_choice", r.fields.tool_choice.as_ref());
        put!("parallel_tool_calls", r.fields.parallel_tool_calls.as_ref());
        put!("response_format", r.fields.response_format.as_ref());
        put!("reasoning_effort", r.fields.reasoning_effort.as_ref());
        put!("user", r.fields.user.as_ref());
        for (name, value) in extra.into_iter().flatten() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Where a service departs from OpenAI's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirks {
    pub key_header: KeyHeader,
    /// Whether it takes `stream_options` (Mistral answers 422 to it, and reports usage in the
    /// stream without being asked).
    pub stream_options: bool,
}

impl Quirks {
    pub const NONE: Quirks = Quirks { key_header: KeyHeader::Bearer, stream_options: true };
}

pub fn build_request(r: &Resolved) -> Result<HttpRequest, Error> {
    build_request_with(r, Quirks::NONE)
}

/// The request, for a service with these quirks.
pub fn build_request_with(r: &Resolved, quirks: Quirks) -> Result<HttpRequest, Error> {
    let head = JsonHead { key: quirks.key_header, ..JsonHead::SSE };
    Ok(head.request(r, format!("{}/chat/completions", r.base_url), &Body(r, quirks)))
}

/// The optional settings it sends: every one, since the request schema is this API's.
pub const TAKES: &[Field] = &[
    Field::presence_penalty,
    Field::frequency_penalty,
    Field::max_tokens,
    Field::tools,
    Field::tool_choice,
    Field::parallel_tool_calls,
    Field::response_format,
    Field::stop,
    Field::seed,
    Field::reasoning_effort,
    Field::n,
    Field::user,
    Field::extra_body,
];

/// `"provider": "openai"`.
#[derive(Debug)]
pub struct OpenAi;

impl ProtocolDefaults for OpenAi {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn default_base_url(&self) -> &'static str {
        DEFAULT_BASE_URL
    }

    fn base_url_env(&self) -> Option<&'static str> {
        Some("OPENAI_BASE_URL")
    }

    fn api_key_env(&self) -> Option<&'static str> {
        Some("OPENAI_API_KEY")
    }

    fn takes(&self) -> &'static [Field] {
        TAKES
    }
}

impl Protocol for OpenAi {
    fn build_request(&self, r: &Resolved) -> Result<HttpRequest, Error> {
        build_request(r)
    }

    fn framing(&self, content_type: &str, stream_asked: bool) -> Framing {
        sse_or_json(content_type, stream_asked)
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(OpenAiDecoder::default())
    }

    fn plain_decoder(&self) -> Box<dyn Decoder> {
        Box::new(OpenAiDecoder { plain: true, ..OpenAiDecoder::default() })
    }
}

/// Chunks are decoded one by one with no state of their own: the assembler keeps it.
#[derive(Default)]
struct OpenAiDecoder {
    /// Without the fast path (for the differential fuzz target).
    plain: bool,
    /// The last chunk the fast path read whole, to read the next ones by comparison.
    learner: crate::fastjson::Learner<fast::Shape>,
}

impl Decoder for OpenAiDecoder {
    fn frame(&mut self, _event: &str, data: &str, out: &mut Assembler<'_>) -> Result<Flow, Error> {
        if self.plain || !out.started() {
            return decode_event(data, out);
        }
        let mut used = Used::default();
        if let Some(shape) = self.learner.read(data, &mut used) {
            // The learned chunk with other strings: its texts, straight from where they lie.
            for &(number, has_delta, holes) in shape.iter().map_while(Option::as_ref) {
                let mut take = |hole: fast::Hole| -> Option<JsonStr<'_>> {
                    match hole {
                        fast::Hole::None => None,
                        fast::Hole::Used(k) => used.take(k),
                    }
                };
                if has_delta {
                    let texts = [take(holes[0]), take(holes[1]), take(holes[2]), take(holes[3])];
                    apply_texts(number, texts.each_ref().map(|t| t.as_deref()), out)?;
                }
                if let Some(raw) = take(holes[4]) {
                    out.finish(number, finish_reason(&raw), &raw)?;
                }
            }
            return Ok(Flow::More);
        }
        let mut chunk = fast::Chunk::new();
        if fast::chunk(data, &mut chunk, &mut self.learner).is_none() {
            return decode_event(data, out);
        }
        for choice in chunk.choices() {
            apply_choice(choice.number, choice.delta.as_ref(), choice.finish.as_deref(), out)?;
        }
        Ok(Flow::More)
    }

    fn body(&mut self, body: &[u8], out: &mut Assembler<'_>) -> Result<(), Error> {
        decode_answer(body, out)
    }

    fn end_marker(&self) -> &'static str {
        "`data: [DONE]`"
    }
}

/// A JSON string borrowed from the event when it has no escapes. (serde's own `Option<Cow<str>>`
/// always allocates: this type is why a chunk costs no allocation.)
#[derive(Debug, Default)]
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(s)))
            }
        }
        d.deserialize_str(Visitor(std::marker::PhantomData))
    }
}

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// A chunk's top-level fields. `choices` is decoded as it is read, straight into the
/// assembler (no chunk is built and moved around: this is the hot path of a stream), unless it
/// comes before the `id` and `model` that the first RESPONSE needs; then it is kept raw and
/// decoded after. Once RESPONSE was sent, `id` and `model` are skipped.
#[derive(Default)]
struct Head<'a> {
    id: Option<Str<'a>>,
    model: Option<Str<'a>>,
    /// vLLM's mid-stream error object (`{"object":"error","message":...}`) carries its text
    /// here; a chunk never has it.
    message: Option<&'a RawValue>,
    /// Whether `choices` was there (decoded at once, or deferred).
    has_choices: bool,
    error: Option<&'a RawValue>,
    usage: Option<&'a RawValue>,
    deferred_choices: Option<&'a RawValue>,
}

/// The keys of a chunk and of a choice that the decoder reads; any other is `Other`. Matched
/// as identifiers (no string is built for a key).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Id,
    Model,
    Message,
    Error,
    Usage,
    Choices,
    Index,
    Delta,
    FinishReason,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "id" => Key::Id,
                    "model" => Key::Model,
                    "message" => Key::Message,
                    "error" => Key::Error,
                    "usage" => Key::Usage,
                    "choices" => Key::Choices,
                    "index" => Key::Index,
                    "delta" => Key::Delta,
                    "finish_reason" => Key::FinishReason,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(Visitor)
    }
}

/// Decodes a chunk, feeding its choices to `out`. An error of the assembler (a stopped sink)
/// aborts the parse and is kept in `failure`, so it is not mistaken for bad JSON.
struct ChunkSeed<'o, 's, 'f> {
    out: &'o mut Assembler<'s>,
    failure: &'f mut Option<Error>,
}

impl<'de> serde::de::DeserializeSeed<'de> for ChunkSeed<'_, '_, '_> {
    type Value = Head<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Head<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ChunkSeed<'_, '_, '_> {
    type Value = Head<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a chat.completion.chunk object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Head<'de>, A::Error> {
        let mut head = Head::default();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Id | Key::Model if self.out.started() => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                Key::Id => head.id = map.next_value()?,
                Key::Model => head.model = map.next_value()?,
                Key::Message => head.message = map.next_value()?,
                Key::Error => head.error = map.next_value()?,
                Key::Usage => head.usage = map.next_value()?,
                Key::Choices
                    if (self.out.started() || head.id.is_some() && head.model.is_some()) && head.error.is_none() =>
                {
                    let started = self.out.start(head.id.as_deref().unwrap_or(""), head.model.as_deref().unwrap_or(""));
                    if let Err(e) = started {
                        *self.failure = Some(e);
                        return Err(serde::de::Error::custom("stopped"));
                    }
                    head.has_choices = true;
                    map.next_value_seed(ChoicesSeed { out: &mut *self.out, failure: &mut *self.failure })?;
                }
                Key::Choices => {
                    head.has_choices = true;
                    head.deferred_choices = map.next_value()?;
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(head)
    }
}

/// `choices`: each choice decoded and handed to the assembler in order (null means none).
struct ChoicesSeed<'o, 's, 'f> {
    out: &'o mut Assembler<'s>,
    failure: &'f mut Option<Error>,
}

impl<'de> serde::de::DeserializeSeed<'de> for ChoicesSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ChoicesSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of choices or null")
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut position = 0u32;
        while seq
            .next_element_seed(ChoiceSeed { out: &mut *self.out, failure: &mut *self.failure, position })?
            .is_some()
        {
            position = position.saturating_add(1);
        }
        Ok(())
    }
}

/// One choice, read into locals and handed to the assembler when its object ends.
struct ChoiceSeed<'o, 's, 'f> {
    out: &'o mut Assembler<'s>,
    failure: &'f mut Option<Error>,
    /// Its place in `choices`: its number when it has no `index`.
    position: u32,
}

impl<'de> serde::de::DeserializeSeed<'de> for ChoiceSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ChoiceSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a choice object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut index: Option<u32> = None;
        let mut delta: Option<Delta> = None;
        let mut finish: Option<Str> = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Index => index = map.next_value()?,
                Key::Delta => delta = map.next_value()?,
                Key::FinishReason => finish = map.next_value()?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        let number = index.unwrap_or(self.position);
        match apply_choice(number, delta.as_ref(), finish.as_deref(), self.out) {
            Ok(()) => Ok(()),
            Err(e) => {
                *self.failure = Some(e);
                Err(serde::de::Error::custom("stopped"))
            }
        }
    }
}

#[derive(Deserialize, Default)]
struct Delta<'a> {
    #[serde(borrow, default)]
    content: Option<Str<'a>>,
    #[serde(borrow, default)]
    reasoning_content: Option<Str<'a>>,
    #[serde(borrow, default)]
    reasoning: Option<Str<'a>>,
    #[serde(borrow, default)]
    refusal: Option<Str<'a>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolDelta<'a>>>,
}

#[derive(Deserialize)]
struct ToolDelta<'a> {
    #[serde(default)]
    index: Option<u32>,
    #[serde(borrow, default)]
    id: Option<Str<'a>>,
    #[serde(borrow, default)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct FunctionDelta<'a> {
    #[serde(borrow, default)]
    name: Option<Str<'a>>,
    /// A string fragment, as the spec says; a few servers send the whole arguments object.
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
}

/// A tool call's arguments as text: a JSON string's value, or any other JSON verbatim.
fn arguments_text(raw: &RawValue) -> Result<Cow<'_, str>, Error> {
    match raw.get() {
        "null" => Ok(Cow::Borrowed("")),
        text if text.starts_with('"') => serde_json::from_str(text)
            .map_err(|e| undecodable("a tool call's `arguments` is not a JSON string", &e, "")),
        text => Ok(Cow::Borrowed(text)),
    }
}

/// OpenAI's finish reasons are the normalized words; the legacy `function_call` means the same
/// as `tool_calls`.
fn finish_reason(raw: &str) -> &str {
    if raw == "function_call" { "tool_calls" } else { raw }
}

/// The fast path: a chunk whose fields are the common ones (choices with index, delta text,
/// reasoning or refusal, finish_reason; `usage` null; anything else stepped over) is read by a
/// scanner into the same `Delta`s the plain path builds, and handed to the same
/// [`apply_choice`]. Whatever else (tool calls, usage, errors, duplicate keys, more than
/// [`fast::MAX_CHOICES`] choices, JSON the scanner does not take) gives `None`, before anything
/// was handed on, and the plain path decodes the frame.
mod fast {
    use super::{Delta, Str};
    use crate::fastjson::{Learner, Scanner};

    pub(super) const MAX_CHOICES: usize = 4;

    /// Where a field's string came from in the frame: the k-th used string, or none (absent or
    /// null), so that a [`Learned`] frame can be filled in with a later frame's strings.
    #[derive(Clone, Copy, Default)]
    pub(super) enum Hole {
        #[default]
        None,
        Used(usize),
    }

    pub(super) struct Choice<'a> {
        pub number: u32,
        pub delta: Option<Delta<'a>>,
        pub finish: Option<Str<'a>>,
        /// reasoning_content, reasoning, content, refusal (the order `apply_texts` takes them
        /// in), finish_reason.
        holes: [Hole; 5],
    }

    pub(super) struct Chunk<'a> {
        choices: [Option<Choice<'a>>; MAX_CHOICES],
    }

    impl<'a> Chunk<'a> {
        pub fn new() -> Self {
            Chunk { choices: [None, None, None, None] }
        }

        pub fn choices(&self) -> impl Iterator<Item = &Choice<'a>> {
            self.choices.iter().map_while(Option::as_ref)
        }
    }

    /// What a learned chunk's strings mean: per choice, its number, whether it had a delta, and
    /// where its strings were.
    pub(super) type Shape = [Option<(u32, bool, [Hole; 5])>; MAX_CHOICES];

    /// Reads `data` into `chunk` (out-parameters all the way down: a chunk is a few hundred
    /// bytes, which returning by value would copy at every level). When `learner` wants it,
    /// the chunk is also learned, to read the next ones by comparison.
    pub(super) fn chunk<'a>(data: &'a str, chunk: &mut Chunk<'a>, learner: &mut Learner<Shape>) -> Option<()> {
        let mut s = Scanner::new(data);
        learner.watch(&mut s);
        let (mut seen_choices, mut seen_usage) = (false, false);
        s.object(|s, key| match key {
            "choices" if !seen_choices => {
                seen_choices = true;
                if s.null() {
                    return Some(());
                }
                let mut n = 0;
                s.array(|s| {
                    choice(s, n as u32, chunk.choices.get_mut(n)?)?;
                    n += 1;
                    Some(())
                })
            }
            "usage" if !seen_usage => {
                seen_usage = true;
                s.null().then_some(())
            }
            // Read by the plain path (once RESPONSE was sent, id and model are not needed).
            "choices" | "usage" | "error" | "message" => None,
            _ => s.skip(),
        })?;
        if !s.at_end() {
            return None;
        }
        learner.learn(&mut s, || {
            let mut shape: Shape = [None; MAX_CHOICES];
            for (slot, c) in shape.iter_mut().zip(chunk.choices()) {
                *slot = Some((c.number, c.delta.is_some(), c.holes));
            }
            shape
        });
        Some(())
    }

    fn choice<'a>(s: &mut Scanner<'a>, position: u32, slot: &mut Option<Choice<'a>>) -> Option<()> {
        let c = slot.insert(Choice { number: position, delta: None, finish: None, holes: Default::default() });
        let (mut seen_index, mut seen_delta, mut seen_finish) = (false, false, false);
        s.object(|s, key| match key {
            "index" if !seen_index => {
                seen_index = true;
                if !s.null() {
                    c.number = s.u32()?;
                }
                Some(())
            }
            "delta" if !seen_delta => {
                seen_delta = true;
                if !s.null() {
                    delta(s, c.delta.insert(Delta::default()), &mut c.holes)?;
                }
                Some(())
            }
            "finish_reason" if !seen_finish => {
                seen_finish = true;
                (c.finish, c.holes[4]) = string_or_null(s)?;
                Some(())
            }
            "index" | "delta" | "finish_reason" => None,
            _ => s.skip(),
        })
    }

    fn delta<'a>(s: &mut Scanner<'a>, d: &mut Delta<'a>, holes: &mut [Hole; 5]) -> Option<()> {
        let mut seen = [false; 4];
        s.object(|s, key| {
            let (slot, at) = match key {
                "reasoning_content" => (&mut d.reasoning_content, 0),
                "reasoning" => (&mut d.reasoning, 1),
                "content" => (&mut d.content, 2),
                "refusal" => (&mut d.refusal, 3),
                "tool_calls" => return None,
                _ => return s.skip(),
            };
            if std::mem::replace(&mut seen[at], true) {
                return None; // serde's derive refuses a duplicate field
            }
            (*slot, holes[at]) = string_or_null(s)?;
            Some(())
        })
    }

    fn string_or_null<'a>(s: &mut Scanner<'a>) -> Option<(Option<Str<'a>>, Hole)> {
        let k = s.used_so_far();
        Some(match s.null_or_string()? {
            Some(value) => (Some(Str(value)), Hole::Used(k)),
            None => (None, Hole::None),
        })
    }
}

/// Decodes one SSE event's data into `out` with serde: the plain path, which a stream's decoder
/// ([`OpenAiDecoder`]) takes for the first chunk and for whatever its fast path does not read.
pub fn decode_event(data: &str, out: &mut Assembler<'_>) -> Result<Flow, Error> {
    if data == "[DONE]" {
        return Ok(Flow::Done);
    }
    let mut failure = None;
    let mut de = serde_json::Deserializer::from_str(data);
    let parsed = serde::de::DeserializeSeed::deserialize(ChunkSeed { out: &mut *out, failure: &mut failure }, &mut de)
        .and_then(|head| de.end().map(|()| head));
    if let Some(e) = failure {
        return Err(e);
    }
    let head = parsed.map_err(|e| undecodable("a stream event is not a chat.completion.chunk", &e, data))?;
    if let Some(error) = head.error.filter(|e| e.get() != "null") {
        let error: Value = serde_json::from_str(error.get()).unwrap_or(Value::Null);
        return Err(Error::new(
            ErrorKind::Server,
            format!("the server reported an error mid-stream: {}", error_message(&error)),
        ));
    }
    if head.message.is_some() && !head.has_choices {
        let message = head.message.and_then(|m| serde_json::from_str::<String>(m.get()).ok());
        let text = server_text(message.as_deref().unwrap_or("no message"));
        return Err(Error::new(ErrorKind::Server, format!("the server reported an error mid-stream: {text}")));
    }
    if !out.started() {
        out.start(head.id.as_deref().unwrap_or(""), head.model.as_deref().unwrap_or(""))?;
    }
    if let Some(choices) = head.deferred_choices {
        let mut failure = None;
        let mut de = serde_json::Deserializer::from_str(choices.get());
        let parsed =
            serde::de::DeserializeSeed::deserialize(ChoicesSeed { out: &mut *out, failure: &mut failure }, &mut de);
        if let Some(e) = failure {
            return Err(e);
        }
        parsed.map_err(|e| undecodable("a stream event's `choices` is not valid", &e, data))?;
    }
    if let Some(usage) = head.usage {
        out.usage(usage_of(&serde_json::from_str(usage.get()).unwrap_or(Value::Null)));
    }
    Ok(Flow::More)
}

/// Hands one streamed choice to the assembler: reasoning, text, refusal, tool calls, finish.
fn apply_choice(
    number: u32,
    delta: Option<&Delta<'_>>,
    finish: Option<&str>,
    out: &mut Assembler<'_>,
) -> Result<(), Error> {
    if let Some(delta) = delta {
        fn text<'s>(s: &'s Option<Str<'_>>) -> Option<&'s str> {
            s.as_deref()
        }
        let texts =
            [text(&delta.reasoning_content), text(&delta.reasoning), text(&delta.content), text(&delta.refusal)];
        apply_texts(number, texts, out)?;
        for (k, call) in delta.tool_calls.iter().flatten().enumerate() {
            let function = call.function.as_ref();
            let arguments = function.and_then(|f| f.arguments).map(arguments_text).transpose()?;
            out.tool_call(
                number,
                ToolFragment {
                    key: call.index.unwrap_or(k as u32),
                    id: call.id.as_deref(),
                    name: function.and_then(|f| f.name.as_deref()),
                    arguments: arguments.as_deref(),
                },
            )?;
        }
    }
    if let Some(raw) = finish {
        out.finish(number, finish_reason(raw), raw)?;
    }
    Ok(())
}

/// A delta's texts: `reasoning_content`, `reasoning`, `content` and `refusal`, in that order.
#[inline]
fn apply_texts(
    number: u32,
    [reasoning_content, reasoning, content, refusal]: [Option<&str>; 4],
    out: &mut Assembler<'_>,
) -> Result<(), Error> {
    // Some servers send the same reasoning under both names: take one.
    let reasoning = reasoning_content.filter(|r| !r.is_empty()).or(reasoning);
    out.reasoning(number, reasoning.unwrap_or(""))?;
    out.text(number, content.unwrap_or(""))?;
    out.refusal(number, refusal.unwrap_or(""))
}

/// Token counts from a `usage` object; a count that is missing or not a number is unknown.
fn usage_of(usage: &Value) -> Usage {
    let count = |path: &str| usage.pointer(path).and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)));
    Usage {
        prompt_tokens: count("/prompt_tokens"),
        completion_tokens: count("/completion_tokens"),
        total_tokens: count("/total_tokens"),
        cached_tokens: count("/prompt_tokens_details/cached_tokens"),
        reasoning_tokens: count("/completion_tokens_details/reasoning_tokens"),
    }
}

/// Decodes a one-shot answer into the same events a stream gives.
pub fn decode_answer(body: &[u8], out: &mut Assembler<'_>) -> Result<(), Error> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| undecodable("the answer is not JSON", &e, &String::from_utf8_lossy(body)))?;
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        return Err(Error::new(ErrorKind::Server, format!("the server reported an error: {}", error_message(error))));
    }
    let choices = value.get("choices").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if choices.first().and_then(|c| c.get("message")).is_none() {
        return Err(Error::protocol("the answer has no `choices[0].message`"));
    }
    let str_at = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    out.start(&str_at(&value, "id"), &str_at(&value, "model"))?;
    for (position, choice) in choices.iter().enumerate() {
        let number = choice.get("index").and_then(Value::as_u64).map_or(position as u32, |n| n as u32);
        let message = choice.get("message").unwrap_or(&Value::Null);
        let text = |key: &str| match message.get(key) {
            None | Some(Value::Null) => Ok(""),
            Some(Value::String(s)) => Ok(s.as_str()),
            Some(_) => {
                Err(Error::protocol(format!("the answer's `choices[{position}].message.{key}` is not a string")))
            }
        };
        let reasoning = match text("reasoning_content")? {
            "" => text("reasoning")?,
            r => r,
        };
        out.reasoning(number, reasoning)?;
        out.text(number, text("content")?)?;
        out.refusal(number, text("refusal")?)?;
        let calls = message.get("tool_calls").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for (k, call) in calls.iter().enumerate() {
            let arguments = match call.pointer("/function/arguments") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            out.tool_call(
                number,
                ToolFragment {
                    key: k as u32,
                    id: call.get("id").and_then(Value::as_str),
                    name: call.pointer("/function/name").and_then(Value::as_str),
                    arguments: Some(&arguments),
                },
            )?;
        }
        if let Some(raw) = choice.get("finish_reason").and_then(Value::as_str) {
            out.finish(number, finish_reason(raw), raw)?;
        }
    }
    if let Some(usage) = value.get("usage").filter(|u| u.is_object()) {
        out.usage(usage_of(usage));
    }
    Ok(())
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
    use crate::answer::Sink;
    use crate::event::Event;
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

    fn body(req: &HttpRequest) -> Value {
        serde_json::from_slice(&req.body).unwrap()
    }

    /// The events of a stream made of these events' data (the assembler's `end` included).
    fn stream_events(data: &[&str]) -> Result<Vec<Event<'static>>, Error> {
        let mut events = Vec::new();
        let mut sink = |e: &Event<'_>| {
            events.push(e.clone().into_owned());
            true
        };
        let mut out = Assembler::new(Sink::Events(&mut sink));
        for d in data {
            decode_event(d, &mut out)?;
        }
        out.end()?;
        Ok(events)
    }

    fn texts(data: &str) -> Vec<String> {
        stream_events(&[data])
            .unwrap()
            .into_iter()
            .filter_map(|e| match e {
                Event::Text { text, .. } => Some(text.into_owned()),
                _ => None,
            })
            .collect()
    }

    fn answer_events(body: &[u8]) -> Result<Vec<Event<'static>>, Error> {
        let mut events = Vec::new();
        let mut sink = |e: &Event<'_>| {
            events.push(e.clone().into_owned());
            true
        };
        let mut out = Assembler::new(Sink::Events(&mut sink));
        decode_answer(body, &mut out)?;
        out.end()?;
        Ok(events)
    }

    #[test]
    fn body_has_only_what_the_caller_set() {
        let req =
            build_request(&resolved(r#"{"provider":"openai","messages":[{"role":"user","content":"Hi"}]}"#)).unwrap();
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
                "extra_body":{"seed":3,"stop":["\n"],"stream_options":{"include_usage":false}}}"#,
        ))
        .unwrap();
        assert_eq!(
            body(&req),
            json!({"model":"m","messages":[],"stream":true,"temperature":0.5,"max_tokens":7,"seed":3,"stop":["\n"],
                   "stream_options":{"include_usage":false}})
        );
        assert!(req.headers.contains(&(Cow::Borrowed("accept"), Cow::Borrowed("text/event-stream"))));
    }

    #[test]
    fn streams_ask_for_usage_unless_told_not_to() {
        let on = build_request(&resolved(r#"{"provider":"openai","messages":[],"stream":true}"#)).unwrap();
        assert_eq!(body(&on)["stream_options"], json!({"include_usage": true}));
        let off =
            build_request(&resolved(r#"{"provider":"openai","messages":[],"stream":true,"include_usage":false}"#));
        assert_eq!(body(&off.unwrap()).get("stream_options"), None);
        let one_shot = build_request(&resolved(r#"{"provider":"openai","messages":[]}"#)).unwrap();
        assert_eq!(body(&one_shot).get("stream_options"), None);
    }

    #[test]
    fn new_fields_are_sent_as_written_and_extra_body_wins() {
        let req = build_request(&resolved(
            r#"{"provider":"openai","messages":[],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
                "tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false,"stop":"END",
                "seed":7,"reasoning_effort":"high","n":2,"response_format":{"type":"json_object"},
                "extra_body":{"seed":8}}"#,
        ))
        .unwrap();
        let b = body(&req);
        assert_eq!(b["tools"][0]["function"]["name"], "f");
        assert_eq!(b["tool_choice"], json!({"type":"function","function":{"name":"f"}}));
        assert_eq!(b["parallel_tool_calls"], false);
        assert_eq!(b["stop"], "END");
        assert_eq!(b["seed"], 8);
        assert_eq!(b["reasoning_effort"], "high");
        assert_eq!(b["n"], 2);
        assert_eq!(b["response_format"], json!({"type":"json_object"}));
        let text = String::from_utf8(req.body.clone()).unwrap();
        assert_eq!(text.matches("\"seed\"").count(), 1, "{text}");
    }

    #[test]
    fn messages_go_out_byte_for_byte() {
        let messages = r#"[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}],"zeta":null},{"role":"tool","tool_call_id":"c","content":"42"}]"#;
        let req = build_request(&resolved(&format!(r#"{{"provider":"openai","messages":{messages}}}"#))).unwrap();
        let text = String::from_utf8(req.body.clone()).unwrap();
        assert!(text.contains(&format!(r#""messages":{messages}"#)), "{text}");
    }

    #[test]
    fn api_key_becomes_a_bearer_header() {
        let req = build_request(&resolved(r#"{"provider":"openai","messages":[],"api_key":"sk-1"}"#)).unwrap();
        assert!(req.headers.contains(&(Cow::Borrowed("authorization"), Cow::Borrowed("Bearer sk-1"))));
    }

    #[test]
    fn content_deltas_are_text() {
        let e = texts(
            r#"{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#,
        );
        assert_eq!(e, ["Hel"]);
        assert_eq!(texts(r#"{"choices":[{"delta":{"content":"a\"b\u00e9"}}]}"#), ["a\"bé"]);
    }

    #[test]
    fn role_only_empty_null_and_usage_chunks_have_no_text() {
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
            assert!(texts(data).is_empty(), "{data}");
        }
    }

    #[test]
    fn done_ends_the_stream() {
        let mut sink = |_: &Event<'_>| true;
        let mut out = Assembler::new(Sink::Events(&mut sink));
        assert_eq!(decode_event("[DONE]", &mut out).unwrap(), Flow::Done);
    }

    #[test]
    fn error_event_is_a_server_error_with_its_message() {
        let e = stream_events(&[r#"{"error":{"message":"overloaded","type":"server_error"}}"#]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Server);
        assert_eq!(e.message(), "the server reported an error mid-stream: overloaded");
        let e = stream_events(&[r#"{"object":"error","message":"vllm says no","type":"BadRequestError","code":400}"#])
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::Server, "the server reported an error mid-stream: vllm says no")
        );
    }

    #[test]
    fn malformed_event_is_a_protocol_error() {
        assert_eq!(stream_events(&["{not json"]).unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(stream_events(&[r#"{"choices":5}"#]).unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[test]
    fn reasoning_is_taken_once_from_either_field() {
        let events = stream_events(&[
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"a","reasoning":"a"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning":"b"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"","reasoning":"c"}}]}"#,
        ])
        .unwrap();
        let reasoning: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Reasoning { text, .. } => Some(text.as_ref()),
                _ => None,
            })
            .collect();
        assert_eq!(reasoning, ["a", "b", "c"]);
    }

    #[test]
    fn tool_call_arguments_may_be_an_object() {
        let events = stream_events(&[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":{"a":1}}}]}}]}"#,
        ])
        .unwrap();
        assert!(events.contains(&Event::ToolArguments { choice: 0, index: 0, text: r#"{"a":1}"#.into() }));
    }

    #[test]
    fn usage_counts_come_from_their_details() {
        let events =
            stream_events(&[r#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,
                "prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2}}}"#])
            .unwrap();
        assert!(events.contains(&Event::Usage(Usage {
            prompt_tokens: Some(10),
            completion_tokens: Some(5),
            total_tokens: Some(15),
            cached_tokens: Some(4),
            reasoning_tokens: Some(2),
        })));
    }

    #[test]
    fn one_shot_answer_gives_the_same_events() {
        let body = br#"{"id":"x","model":"m","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi there","reasoning_content":"hmm","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3}}"#;
        let events = answer_events(body).unwrap();
        assert_eq!(events[0], Event::Response { id: "x".into(), model: "m".into(), request_id: "".into() });
        assert_eq!(events[1], Event::Reasoning { choice: 0, text: "hmm".into() });
        assert_eq!(events[2], Event::Text { choice: 0, text: "Hi there".into() });
        assert_eq!(events[3], Event::ToolCall { choice: 0, index: 0, id: "c1".into(), name: "f".into() });
        assert_eq!(events[4], Event::ToolArguments { choice: 0, index: 0, text: r#"{"a":1}"#.into() });
        assert_eq!(events[5], Event::Finish { choice: 0, reason: "tool_calls".into(), raw: "tool_calls".into() });
        assert!(matches!(events[6], Event::Usage(Usage { prompt_tokens: Some(3), .. })));
        assert!(matches!(events[7], Event::Message { choice: 0, .. }));
        let null = br#"{"choices":[{"message":{"role":"assistant","content":null}}]}"#;
        assert!(!answer_events(null).unwrap().iter().any(|e| matches!(e, Event::Text { .. })));
    }

    #[test]
    fn one_shot_answer_errors() {
        assert_eq!(answer_events(br#"{"choices":[]}"#).unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(answer_events(b"<html>").unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(
            answer_events(br#"{"choices":[{"message":{"content":5}}]}"#).unwrap_err().kind(),
            ErrorKind::Protocol
        );
        let e = answer_events(br#"{"error":{"message":"bad model"}}"#).unwrap_err();
        assert_eq!((e.kind(), e.message()), (ErrorKind::Server, "the server reported an error: bad model"));
    }
}
