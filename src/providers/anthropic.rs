//! Anthropic's Messages API (`POST /v1/messages`; Claude, and the servers that copy it): the
//! OpenAI-shaped conversation translated to content blocks, and the answer's SSE events (each
//! named by its `event` field) or JSON message turned into the same events as every protocol.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::answer::{Assembler, ToolFragment};
use crate::error::{Error, ErrorKind, server_text, undecodable};
use crate::event::Usage;
use crate::request::{ProtocolDefaults, Resolved};
use crate::transport::HttpRequest;

use super::{Decoder, Field, Flow, Framing, JsonHead, KeyHeader, Protocol, sse_or_json};

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com/v1";
/// The API requires `max_tokens`; this is what a request that sets none asks for.
const DEFAULT_MAX_TOKENS: u64 = 4096;
const API_VERSION: &str = "2023-06-01";

/// `"provider": "anthropic"`.
#[derive(Debug)]
pub struct Anthropic;

impl ProtocolDefaults for Anthropic {
    fn name(&self) -> &'static str {
        "anthropic"
    }

    fn default_base_url(&self) -> &'static str {
        DEFAULT_BASE_URL
    }

    fn base_url_env(&self) -> Option<&'static str> {
        Some("ANTHROPIC_BASE_URL")
    }

    /// The official SDKs read `ANTHROPIC_BASE_URL` as the host, and add `/v1` themselves.
    fn base_url_from_env(&self, value: &str) -> String {
        format!("{}/v1", value.trim_end_matches('/'))
    }

    fn api_key_env(&self) -> Option<&'static str> {
        Some("ANTHROPIC_API_KEY")
    }

    fn default_model(&self) -> &'static str {
        "claude-sonnet-4-5"
    }

    fn takes(&self) -> &'static [Field] {
        // Not `presence_penalty`, `frequency_penalty`, `seed`, `n`, `response_format`,
        // `reasoning_effort`: the Messages API has no equivalent.
        &[
            Field::max_tokens,
            Field::tools,
            Field::tool_choice,
            Field::parallel_tool_calls,
            Field::stop,
            Field::user,
            Field::extra_body,
        ]
    }
}

impl Protocol for Anthropic {
    fn build_request(&self, r: &Resolved) -> Result<HttpRequest, Error> {
        const HEAD: JsonHead =
            JsonHead { fixed: &[("anthropic-version", API_VERSION)], key: KeyHeader::XApiKey, ..JsonHead::SSE };
        Ok(HEAD.request(r, format!("{}/messages", r.base_url), &body(r)?))
    }

    fn framing(&self, content_type: &str, stream_asked: bool) -> Framing {
        sse_or_json(content_type, stream_asked)
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(MessagesDecoder::default())
    }

    fn plain_decoder(&self) -> Box<dyn Decoder> {
        Box::new(MessagesDecoder { plain: true, ..MessagesDecoder::default() })
    }
}

/// The request body: the conversation as Messages, every setting mapped, `extra_body` on top.
fn body(r: &Resolved) -> Result<Map<String, Value>, Error> {
    let (system, messages) = conversation(r)?;
    let mut body = Map::new();
    body.insert("model".into(), json!(r.model));
    body.insert("max_tokens".into(), json!(r.fields.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)));
    if let Some(system) = system {
        body.insert("system".into(), json!(system));
    }
    body.insert("messages".into(), Value::Array(messages));
    if r.stream {
        body.insert("stream".into(), json!(true));
    }
    if let Some(t) = r.fields.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = r.fields.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if let Some(stop) = r.fields.stop.as_ref().map(|s| s.value()) {
        let sequences = if stop.is_string() { json!([stop]) } else { stop };
        body.insert("stop_sequences".into(), sequences);
    }
    if let Some(tools) = r.fields.tools.as_ref().map(|t| t.value()) {
        body.insert("tools".into(), Value::Array(tools_of(&tools)?));
    }
    if let Some(choice) = tool_choice(r)? {
        body.insert("tool_choice".into(), choice);
    }
    if let Some(user) = &r.fields.user {
        body.insert("metadata".into(), json!({ "user_id": user }));
    }
    for (name, value) in r.fields.extra_body.iter().flatten() {
        body.insert(name.clone(), value.clone());
    }
    Ok(body)
}

fn invalid(field: &str, why: &str) -> Error {
    Error::invalid_request(format!("invalid request: `{field}` {why} for the anthropic provider"))
}

/// The `system` text and the messages as content blocks. `system` messages become the top-level
/// `system`; `tool` results become `tool_result` blocks of a user turn (consecutive ones share
/// it); an assistant's reasoning (with its signature), text and tool calls become `thinking`,
/// `text` and `tool_use` blocks. No empty text block is sent (the API refuses them).
fn conversation(r: &Resolved) -> Result<(Option<String>, Vec<Value>), Error> {
    let mut system: Vec<String> = Vec::new();
    let mut out: Vec<Value> = Vec::new();
    for (i, m) in r.messages.iter().enumerate() {
        let raw = m.raw().value();
        let at = |field: &str| format!("messages[{i}].{field}");
        match m.role() {
            "system" | "developer" => match blocks_of(&raw, &at("content"))?.as_slice() {
                [] => {}
                blocks => {
                    for b in blocks {
                        match b.get("text").and_then(Value::as_str) {
                            Some(t) => system.push(t.to_string()),
                            None => return Err(invalid(&at("content"), "may only hold text in a system message")),
                        }
                    }
                }
            },
            "user" => push_turn(&mut out, "user", blocks_of(&raw, &at("content"))?),
            "tool" => {
                let id = raw.get("tool_call_id").and_then(Value::as_str).ok_or_else(|| {
                    invalid(&at("tool_call_id"), "must be the id of the tool call this message answers")
                })?;
                let text: String = blocks_of(&raw, &at("content"))?
                    .iter()
                    .filter_map(|b| b.get("text").and_then(Value::as_str))
                    .collect();
                let result = json!({"type": "tool_result", "tool_use_id": id, "content": text});
                push_turn(&mut out, "user", vec![result]);
            }
            "assistant" => {
                let mut blocks = Vec::new();
                let reasoning = raw.get("reasoning_content").and_then(Value::as_str).unwrap_or("");
                if !reasoning.is_empty() {
                    let mut thinking = json!({"type": "thinking", "thinking": reasoning});
                    if let Some(signature) = raw.get("reasoning_signature").and_then(Value::as_str) {
                        thinking["signature"] = json!(signature);
                    }
                    blocks.push(thinking);
                }
                blocks.extend(blocks_of(&raw, &at("content"))?);
                for (k, call) in raw.get("tool_calls").and_then(Value::as_array).into_iter().flatten().enumerate() {
                    let field = at(&format!("tool_calls[{k}]"));
                    let name = call.pointer("/function/name").and_then(Value::as_str);
                    let id = call.get("id").and_then(Value::as_str);
                    let (Some(id), Some(name)) = (id, name) else {
                        return Err(invalid(&field, "needs an `id` and a `function.name`"));
                    };
                    let input = match call.pointer("/function/arguments") {
                        None | Some(Value::Null) => json!({}),
                        Some(Value::String(s)) if s.trim().is_empty() => json!({}),
                        Some(Value::String(s)) => serde_json::from_str(s)
                            .map_err(|_| invalid(&format!("{field}.function.arguments"), "must be a JSON object"))?,
                        Some(other) => other.clone(),
                    };
                    blocks.push(json!({"type": "tool_use", "id": id, "name": name, "input": input}));
                }
                push_turn(&mut out, "assistant", blocks);
            }
            other => return Err(invalid(&at("role"), &format!("is {other:?}, which has no equivalent"))),
        }
    }
    Ok(((!system.is_empty()).then(|| system.join("\n\n")), out))
}

/// Appends `blocks` as a turn of `role`, joining them to the previous turn when it has the same
/// role (the API wants turns to alternate). A turn with no block is left out.
fn push_turn(out: &mut Vec<Value>, role: &str, blocks: Vec<Value>) {
    if blocks.is_empty() {
        return;
    }
    if let Some(last) = out.last_mut().filter(|m| m["role"] == role) {
        if let Some(content) = last["content"].as_array_mut() {
            content.extend(blocks);
            return;
        }
    }
    out.push(json!({"role": role, "content": blocks}));
}

/// A message's `content` as Messages blocks: text (empty text dropped) and images from
/// `image_url` parts (a `data:` URL inline as base64, any other as a URL source).
fn blocks_of(raw: &Value, field: &str) -> Result<Vec<Value>, Error> {
    match raw.get("content") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![json!({"type": "text", "text": s})]),
        Some(Value::Array(parts)) => {
            let mut blocks = Vec::new();
            for (k, part) in parts.iter().enumerate() {
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => match part.get("text").and_then(Value::as_str) {
                        Some("") => {}
                        Some(t) => blocks.push(json!({"type": "text", "text": t})),
                        None => return Err(invalid(&format!("{field}[{k}].text"), "must be a string")),
                    },
                    Some("image_url") => {
                        let url = part
                            .pointer("/image_url/url")
                            .and_then(Value::as_str)
                            .ok_or_else(|| invalid(&format!("{field}[{k}].image_url.url"), "must be a string"))?;
                        blocks.push(image_block(url).ok_or_else(|| {
                            invalid(
                                &format!("{field}[{k}].image_url.url"),
                                "must be an http(s) URL or a base64 data: URL",
                            )
                        })?);
                    }
                    other => {
                        return Err(invalid(
                            &format!("{field}[{k}]"),
                            &format!("is a {other:?} part, which has no equivalent"),
                        ));
                    }
                }
            }
            Ok(blocks)
        }
        Some(_) => Err(invalid(field, "must be a string or an array of content parts")),
    }
}

fn image_block(url: &str) -> Option<Value> {
    if let Some(data) = url.strip_prefix("data:") {
        let (meta, payload) = data.split_once(',')?;
        let media_type = meta.strip_suffix(";base64")?;
        return Some(json!({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": payload}}));
    }
    (url.starts_with("https://") || url.starts_with("http://"))
        .then(|| json!({"type": "image", "source": {"type": "url", "url": url}}))
}

/// OpenAI-style `tools` as `{name, description, input_schema}`.
fn tools_of(tools: &Value) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for (k, tool) in tools.as_array().into_iter().flatten().enumerate() {
        let function = tool.get("function").filter(|_| tool.get("type").and_then(Value::as_str) == Some("function"));
        let Some(name) = function.and_then(|f| f.get("name")).and_then(Value::as_str) else {
            return Err(invalid(&format!("tools[{k}]"), "must be a function tool with a name"));
        };
        let mut mapped = json!({
            "name": name,
            "input_schema": function.and_then(|f| f.get("parameters")).cloned().unwrap_or_else(|| json!({"type": "object"})),
        });
        if let Some(d) = function.and_then(|f| f.get("description")).and_then(Value::as_str) {
            mapped["description"] = json!(d);
        }
        out.push(mapped);
    }
    Ok(out)
}

/// `tool_choice` and `parallel_tool_calls` as Messages' `tool_choice`.
fn tool_choice(r: &Resolved) -> Result<Option<Value>, Error> {
    let mut choice = match r.fields.tool_choice.as_ref().map(|c| c.value()) {
        None => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "auto" => json!({"type": "auto"}),
            "none" => json!({"type": "none"}),
            "required" => json!({"type": "any"}),
            other => return Err(invalid("tool_choice", &format!("is {other:?}; use auto, none, required"))),
        }),
        Some(object) => match object.pointer("/function/name").and_then(Value::as_str) {
            Some(name) => Some(json!({"type": "tool", "name": name})),
            None => return Err(invalid("tool_choice", "must name a function")),
        },
    };
    if r.fields.parallel_tool_calls == Some(false) {
        let c = choice.get_or_insert_with(|| json!({"type": "auto"}));
        c["disable_parallel_tool_use"] = json!(true);
    }
    Ok(choice)
}

/// Messages' stop reasons in OpenAI's words; others are passed on as they are.
fn finish_reason(raw: &str) -> &str {
    match raw {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        other => other,
    }
}

/// What a content block is, by its index in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Thinking,
    /// A tool call; whether any argument text came for it.
    ToolUse {
        arguments: bool,
    },
    Other,
}

#[derive(Default)]
struct MessagesDecoder {
    blocks: HashMap<u64, Block>,
    /// The last error was an overload or a server failure (retryable).
    overloaded: bool,
    /// Input tokens of `message_start`, cached ones included (as OpenAI counts them).
    prompt_tokens: Option<i64>,
    cached_tokens: Option<i64>,
    /// Without the fast path (for the differential fuzz target).
    plain: bool,
    /// The last delta event the fast path read whole, to read the next ones by comparison.
    learner: crate::fastjson::Learner<fast::Shape>,
}

/// The fast path for the event that is nearly all of a stream: a `content_block_delta` with a
/// `text_delta` or `thinking_delta`. Read by the scanner of [`crate::fastjson`]; anything else
/// (another event, another delta, a duplicate key, JSON the scanner does not take) gives `None`
/// and the plain path parses the frame.
mod fast {
    use crate::fastjson::{JsonStr, Learner, Scanner, Used};

    pub(super) enum Delta<'a> {
        Text(JsonStr<'a>),
        Thinking(JsonStr<'a>),
    }

    /// What a learned event was (its `type` strings are compared as bytes, so a later event it
    /// reads is the same kind) and where its `text` and `thinking` were (the k-th used string;
    /// absent: none).
    #[derive(Clone, Copy)]
    pub(super) struct Shape {
        thinking_delta: bool,
        text: Option<usize>,
        thinking: Option<usize>,
    }

    /// A text or thinking delta, read by comparison with the learned event when it is that event
    /// with other strings, else read whole (and learned, when `learner` wants it).
    pub(super) fn delta<'a>(data: &'a str, learner: &mut Learner<Shape>) -> Option<Delta<'a>> {
        let mut holes = (None, None);
        let mut used = Used::default();
        if let Some(&shape) = learner.read(data, &mut used) {
            let mut take = |k: Option<usize>| k.and_then(|k| used.take(k)).unwrap_or_default();
            return Some(if shape.thinking_delta {
                Delta::Thinking(take(shape.thinking))
            } else {
                Delta::Text(take(shape.text))
            });
        }
        let mut s = Scanner::for_value(data);
        learner.watch(&mut s);
        let delta = parse(&mut s, &mut holes)?;
        let thinking_delta = matches!(delta, Delta::Thinking(_));
        learner.learn(&mut s, || Shape { thinking_delta, text: holes.0, thinking: holes.1 });
        Some(delta)
    }

    type Holes = (Option<usize>, Option<usize>);

    fn parse<'a>(s: &mut Scanner<'a>, holes: &mut Holes) -> Option<Delta<'a>> {
        let (mut kind, mut seen_index, mut inner) = (None, false, None);
        s.object(|s, key| match key {
            "type" if kind.is_none() => {
                kind = Some(s.string_fixed()?);
                Some(())
            }
            "delta" if inner.is_none() => {
                inner = Some(fields(s, holes)?);
                Some(())
            }
            "index" if !seen_index => {
                seen_index = true;
                s.skip()
            }
            "type" | "delta" | "index" => None,
            _ => s.skip(),
        })?;
        if !s.at_end() || kind? != "content_block_delta" {
            return None;
        }
        let (delta_kind, text, thinking) = inner?;
        match delta_kind?.as_ref() {
            "text_delta" => Some(Delta::Text(text.unwrap_or_default())),
            "thinking_delta" => Some(Delta::Thinking(thinking.unwrap_or_default())),
            _ => None,
        }
    }

    type Fields<'a> = (Option<JsonStr<'a>>, Option<JsonStr<'a>>, Option<JsonStr<'a>>);

    fn fields<'a>(s: &mut Scanner<'a>, holes: &mut Holes) -> Option<Fields<'a>> {
        let (mut kind, mut text, mut thinking) = (None, None, None);
        s.object(|s, key| match key {
            "type" if kind.is_none() => {
                kind = Some(s.string_fixed()?);
                Some(())
            }
            "text" if text.is_none() => {
                holes.0 = Some(s.used_so_far());
                text = Some(s.string()?);
                Some(())
            }
            "thinking" if thinking.is_none() => {
                holes.1 = Some(s.used_so_far());
                thinking = Some(s.string()?);
                Some(())
            }
            "type" | "text" | "thinking" => None,
            _ => s.skip(),
        })?;
        Some((kind, text, thinking))
    }
}

fn count(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

impl MessagesDecoder {
    fn input_usage(&mut self, usage: &Value) {
        let input = count(usage, "input_tokens");
        let read = count(usage, "cache_read_input_tokens");
        let created = count(usage, "cache_creation_input_tokens");
        if input.is_some() || read.is_some() || created.is_some() {
            self.prompt_tokens = Some(input.unwrap_or(0) + read.unwrap_or(0) + created.unwrap_or(0));
        }
        if read.is_some() {
            self.cached_tokens = read;
        }
    }

    fn usage(&self, output_tokens: Option<i64>) -> Usage {
        Usage {
            prompt_tokens: self.prompt_tokens,
            completion_tokens: output_tokens,
            total_tokens: self.prompt_tokens.zip(output_tokens).map(|(p, c)| p + c),
            cached_tokens: self.cached_tokens,
            reasoning_tokens: None,
        }
    }

    /// A block starts: a tool call gives TOOL_CALL; text or thinking that comes whole in the
    /// start (a non-streamed answer's blocks) is delivered too.
    fn block(&mut self, index: u64, block: &Value, out: &mut Assembler<'_>) -> Result<(), Error> {
        let kind = match block.get("type").and_then(Value::as_str) {
            Some("text") => {
                out.text(0, block.get("text").and_then(Value::as_str).unwrap_or(""))?;
                Block::Text
            }
            Some("thinking") => {
                out.reasoning(0, block.get("thinking").and_then(Value::as_str).unwrap_or(""))?;
                out.reasoning_signature(0, block.get("signature").and_then(Value::as_str).unwrap_or(""))?;
                Block::Thinking
            }
            Some("tool_use") => {
                let fragment = ToolFragment {
                    key: index as u32,
                    id: block.get("id").and_then(Value::as_str),
                    name: block.get("name").and_then(Value::as_str),
                    arguments: None,
                };
                out.tool_call(0, fragment)?;
                Block::ToolUse { arguments: false }
            }
            _ => Block::Other,
        };
        self.blocks.insert(index, kind);
        Ok(())
    }

    fn arguments(&mut self, index: u64, text: &str, out: &mut Assembler<'_>) -> Result<(), Error> {
        if text.is_empty() {
            return Ok(());
        }
        if let Some(Block::ToolUse { arguments }) = self.blocks.get_mut(&index) {
            *arguments = true;
        }
        out.tool_call(0, ToolFragment { key: index as u32, arguments: Some(text), ..ToolFragment::default() })
    }

    /// A tool call that got no argument text takes no arguments: `{}`, as OpenAI sends it.
    fn block_stop(&mut self, index: u64, out: &mut Assembler<'_>) -> Result<(), Error> {
        if let Some(Block::ToolUse { arguments: false }) = self.blocks.get(&index) {
            self.arguments(index, "{}", out)?;
        }
        Ok(())
    }
}

fn server_error(error: &Value, what: &str) -> Error {
    let kind = error.get("type").and_then(Value::as_str).unwrap_or("error");
    let message = error.get("message").and_then(Value::as_str).unwrap_or("no message");
    // One piece of server text, so the two together stay within the cap.
    Error::new(ErrorKind::Server, format!("the server reported {what}: {}", server_text(&format!("{kind}: {message}"))))
}

impl Decoder for MessagesDecoder {
    fn frame(&mut self, event: &str, data: &str, out: &mut Assembler<'_>) -> Result<Flow, Error> {
        if !self.plain {
            if let Some(delta) = fast::delta(data, &mut self.learner) {
                out.start("", "")?;
                match delta {
                    fast::Delta::Text(text) => out.text(0, &text)?,
                    fast::Delta::Thinking(text) => out.reasoning(0, &text)?,
                }
                return Ok(Flow::More);
            }
        }
        let v: Value =
            serde_json::from_str(data).map_err(|e| undecodable("a stream event is not a Messages event", &e, data))?;
        // The `event` name equals the data's `type`; a server that sends only one is read by it.
        let kind = v.get("type").and_then(Value::as_str).unwrap_or(event);
        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
        match kind {
            "message_start" => {
                let message = v.get("message").cloned().unwrap_or(Value::Null);
                let text = |k: &str| message.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                out.start(&text("id"), &text("model"))?;
                if let Some(usage) = message.get("usage") {
                    self.input_usage(usage);
                }
            }
            "content_block_start" => {
                out.start("", "")?;
                self.block(index, v.get("content_block").unwrap_or(&Value::Null), out)?;
            }
            "content_block_delta" => {
                out.start("", "")?;
                let delta = v.get("delta").unwrap_or(&Value::Null);
                let text = |k: &str| delta.get(k).and_then(Value::as_str).unwrap_or("");
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => out.text(0, text("text"))?,
                    Some("thinking_delta") => out.reasoning(0, text("thinking"))?,
                    Some("signature_delta") => out.reasoning_signature(0, text("signature"))?,
                    Some("input_json_delta") => self.arguments(index, text("partial_json"), out)?,
                    _ => {}
                }
            }
            "content_block_stop" => self.block_stop(index, out)?,
            "message_delta" => {
                out.start("", "")?;
                if let Some(raw) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    out.finish(0, finish_reason(raw), raw)?;
                }
                if let Some(usage) = v.get("usage") {
                    self.input_usage(usage);
                    out.usage(self.usage(count(usage, "output_tokens")));
                }
            }
            "message_stop" => return Ok(Flow::Done),
            "error" => {
                let error = v.get("error").unwrap_or(&v);
                // The statuses these stand for (529, 500) are retried when they come as answers.
                self.overloaded =
                    matches!(error.get("type").and_then(Value::as_str), Some("overloaded_error" | "api_error"));
                return Err(server_error(error, "an error mid-stream"));
            }
            _ => {} // ping, and event types added later
        }
        Ok(Flow::More)
    }

    fn body(&mut self, body: &[u8], out: &mut Assembler<'_>) -> Result<(), Error> {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| undecodable("the answer is not JSON", &e, &String::from_utf8_lossy(body)))?;
        if v.get("type").and_then(Value::as_str) == Some("error") {
            return Err(server_error(v.get("error").unwrap_or(&v), "an error"));
        }
        let Some(blocks) = v.get("content").and_then(Value::as_array) else {
            return Err(Error::protocol("the answer has no `content` array"));
        };
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        out.start(&text("id"), &text("model"))?;
        for (index, block) in blocks.iter().enumerate() {
            let index = index as u64;
            self.block(index, block, out)?;
            if block.get("type").and_then(Value::as_str) == Some("tool_use") {
                let input = block.get("input").map_or_else(|| "{}".to_string(), Value::to_string);
                self.arguments(index, &input, out)?;
            }
        }
        if let Some(raw) = v.get("stop_reason").and_then(Value::as_str) {
            out.finish(0, finish_reason(raw), raw)?;
        }
        if let Some(usage) = v.get("usage") {
            self.input_usage(usage);
            out.usage(self.usage(count(usage, "output_tokens")));
        }
        Ok(())
    }

    fn end_marker(&self) -> &'static str {
        "`message_stop`"
    }

    fn retryable(&self) -> bool {
        self.overloaded
    }
}

#[cfg(test)]
mod fast_tests {
    use super::fast;

    #[test]
    fn the_fast_path_takes_text_and_thinking_deltas_only() {
        let text = r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" Hello"}}"#;
        assert!(matches!(fast::delta(text, &mut Default::default()), Some(fast::Delta::Text(t)) if t == " Hello"));
        let thinking = r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#;
        assert!(matches!(fast::delta(thinking, &mut Default::default()), Some(fast::Delta::Thinking(t)) if t == "hm"));
        for other in [
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{"}}"#,
            r#"{"type":"message_stop"}"#,
            r#"{"type":"content_block_delta","type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#,
        ] {
            assert!(fast::delta(other, &mut Default::default()).is_none(), "{other}");
        }
    }
}
