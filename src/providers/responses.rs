//! `"provider": "responses"`: OpenAI's Responses API (`POST {base_url}/responses`), stateless.
//!
//! The conversation lives in `messages`, as with every protocol: requests go with `"store":
//! false` and ask for `reasoning.encrypted_content`, and MESSAGE keeps what the next turn needs
//! (each reasoning item as the server finished it, in `reasoning_items`, and each call's
//! `call_id` as the tool call's id), which this file puts back into `input` when MESSAGE is sent.
//! The stream is SSE of typed events with no `[DONE]`: it ends with `response.completed`,
//! `response.incomplete` or `response.failed`.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::answer::{Assembler, ToolFragment};
use crate::error::{Error, ErrorKind, server_text};
use crate::event::Usage;
use crate::request::{Content, ProtocolDefaults, Resolved};
use crate::transport::HttpRequest;

use super::openai::DEFAULT_BASE_URL;
use super::{Decoder, Field, Flow, Framing, JsonHead, Protocol, sse_or_json};

/// `"provider": "responses"`.
#[derive(Debug)]
pub struct Responses;

impl ProtocolDefaults for Responses {
    fn name(&self) -> &'static str {
        "responses"
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

    fn default_model(&self) -> &'static str {
        "gpt-4o-mini"
    }

    fn takes(&self) -> &'static [Field] {
        // Not `presence_penalty`, `frequency_penalty`, `stop`, `seed`, `n`: the Responses API
        // has no equivalent.
        &[
            Field::max_tokens,
            Field::tools,
            Field::tool_choice,
            Field::parallel_tool_calls,
            Field::response_format,
            Field::reasoning_effort,
            Field::user,
            Field::extra_body,
        ]
    }
}

impl Protocol for Responses {
    fn build_request(&self, r: &Resolved) -> Result<HttpRequest, Error> {
        Ok(JsonHead::SSE.request(r, format!("{}/responses", r.base_url), &body(r)?))
    }

    fn framing(&self, content_type: &str, stream_asked: bool) -> Framing {
        sse_or_json(content_type, stream_asked)
    }

    /// Its closing events (`response.output_text.done`, `.content_part.done`,
    /// `.output_item.done`, `response.completed`) each repeat the whole answer: only
    /// `max_response_bytes` bounds them.
    fn max_frame_bytes(&self) -> usize {
        usize::MAX
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(ResponsesDecoder::default())
    }

    fn plain_decoder(&self) -> Box<dyn Decoder> {
        Box::new(ResponsesDecoder { plain: true, ..ResponsesDecoder::default() })
    }
}

fn invalid(field: &str, why: &str) -> Error {
    Error::invalid_request(format!("invalid request: `{field}` {why} for the responses provider"))
}

/// The request body: `input` from the conversation, every setting mapped, `extra_body` on top.
fn body(r: &Resolved) -> Result<Map<String, Value>, Error> {
    let mut body = Map::new();
    body.insert("model".into(), json!(r.model));
    body.insert("input".into(), Value::Array(input(r)?));
    body.insert("stream".into(), json!(r.stream));
    body.insert("store".into(), json!(false));
    body.insert("include".into(), json!(["reasoning.encrypted_content"]));
    let f = &r.fields;
    if let Some(t) = f.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = f.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if let Some(n) = f.max_tokens {
        body.insert("max_output_tokens".into(), json!(n));
    }
    if let Some(tools) = f.tools.as_ref().map(|t| t.value()) {
        body.insert("tools".into(), Value::Array(tools_of(&tools)?));
    }
    if let Some(choice) = f.tool_choice.as_ref().map(|c| c.value()) {
        body.insert("tool_choice".into(), tool_choice(&choice)?);
    }
    if let Some(parallel) = f.parallel_tool_calls {
        body.insert("parallel_tool_calls".into(), json!(parallel));
    }
    if let Some(effort) = &f.reasoning_effort {
        body.insert("reasoning".into(), json!({"effort": effort, "summary": "auto"}));
    }
    if let Some(format) = f.response_format.as_ref().map(|v| v.value()) {
        body.insert("text".into(), json!({"format": text_format(&format)?}));
    }
    if let Some(user) = &f.user {
        body.insert("user".into(), json!(user));
    }
    for (name, value) in f.extra_body.iter().flatten() {
        body.insert(name.clone(), value.clone());
    }
    Ok(body)
}

/// The conversation as input items. System and developer messages keep their role; user and
/// assistant content parts become `input_text`/`input_image` and `output_text`; an assistant's
/// `reasoning_items` (from a MESSAGE) go back as received, then its text, then its tool calls as
/// `function_call` items; tool messages become `function_call_output`.
fn input(r: &Resolved) -> Result<Vec<Value>, Error> {
    let mut items = Vec::new();
    for (i, m) in r.messages.iter().enumerate() {
        let raw = m.raw().value();
        let at = |field: &str| format!("messages[{i}]{field}");
        match m.role() {
            "tool" => {
                let call_id = raw.get("tool_call_id").and_then(Value::as_str).unwrap_or("");
                if call_id.is_empty() {
                    return Err(invalid(&at(".tool_call_id"), "is required"));
                }
                let output = match m.content() {
                    Content::Text => m.text().unwrap_or_default(),
                    _ => parts_text(raw.get("content")),
                };
                items.push(json!({"type": "function_call_output", "call_id": call_id, "output": output}));
            }
            "assistant" => {
                // Responses' own items (each has a `type`); a bedrock MESSAGE's Converse
                // blocks in the same field are not sent here.
                if let Some(reasoning) = raw.get("reasoning_items").and_then(Value::as_array) {
                    items.extend(
                        reasoning.iter().filter(|item| item.get("type").is_some_and(Value::is_string)).cloned(),
                    );
                }
                let text = match m.content() {
                    Content::Text => m.text().unwrap_or_default(),
                    Content::Parts => parts_text(raw.get("content")),
                    Content::None => String::new(),
                };
                if !text.is_empty() {
                    items.push(json!({"type": "message", "role": "assistant",
                        "content": [{"type": "output_text", "text": text}]}));
                }
                for (j, call) in raw.get("tool_calls").and_then(Value::as_array).into_iter().flatten().enumerate() {
                    let field = |k: &str| call.pointer(k).and_then(Value::as_str).unwrap_or("");
                    if field("/id").is_empty() || field("/function/name").is_empty() {
                        return Err(invalid(&at(&format!(".tool_calls[{j}]")), "needs an `id` and a `function.name`"));
                    }
                    items.push(json!({"type": "function_call", "call_id": field("/id"),
                        "name": field("/function/name"), "arguments": field("/function/arguments")}));
                }
            }
            role => {
                let content = match m.content() {
                    Content::Text => json!(m.text().unwrap_or_default()),
                    Content::None => json!(""),
                    Content::Parts => Value::Array(input_parts(raw.get("content"), &at(".content"))?),
                };
                items.push(json!({"role": role, "content": content}));
            }
        }
    }
    Ok(items)
}

/// The text parts of a content array, joined.
fn parts_text(content: Option<&Value>) -> String {
    content
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect()
}

/// Chat content parts as Responses input parts.
fn input_parts(content: Option<&Value>, at: &str) -> Result<Vec<Value>, Error> {
    let mut parts = Vec::new();
    for (k, part) in content.and_then(Value::as_array).into_iter().flatten().enumerate() {
        match part.get("type").and_then(Value::as_str) {
            Some("text") => parts.push(json!({"type": "input_text",
                "text": part.get("text").and_then(Value::as_str).unwrap_or("")})),
            Some("image_url") => {
                let image = part.get("image_url");
                let url = image.and_then(|i| i.get("url").or(Some(i))).and_then(Value::as_str).unwrap_or("");
                let mut item = json!({"type": "input_image", "image_url": url});
                if let Some(detail) = image.and_then(|i| i.get("detail")) {
                    item["detail"] = detail.clone();
                }
                parts.push(item);
            }
            other => {
                return Err(invalid(&format!("{at}[{k}].type"), &format!("{other:?} has no Responses equivalent")));
            }
        }
    }
    Ok(parts)
}

/// OpenAI's chat tools flattened: `{type: "function", name, description, parameters, strict}`.
/// `strict` is false unless the tool said true: Responses makes a tool strict when it is left
/// out, which turns optional parameters into required ones.
fn tools_of(tools: &Value) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for (i, tool) in tools.as_array().into_iter().flatten().enumerate() {
        let Some(function) = tool.get("function") else {
            return Err(invalid(&format!("tools[{i}]"), "must be a function tool"));
        };
        let Some(name) = function.get("name").and_then(Value::as_str) else {
            return Err(invalid(&format!("tools[{i}].function.name"), "is required"));
        };
        let mut flat = json!({"type": "function", "name": name,
            "strict": function.get("strict").and_then(Value::as_bool).unwrap_or(false)});
        for key in ["description", "parameters"] {
            if let Some(v) = function.get(key) {
                flat[key] = v.clone();
            }
        }
        out.push(flat);
    }
    Ok(out)
}

fn tool_choice(choice: &Value) -> Result<Value, Error> {
    match choice {
        Value::String(_) => Ok(choice.clone()),
        _ => match choice.pointer("/function/name").and_then(Value::as_str) {
            Some(name) => Ok(json!({"type": "function", "name": name})),
            None => Err(invalid("tool_choice", "must be a string or name a function")),
        },
    }
}

/// `response_format` as `text.format`: a JSON schema's fields flattened into it.
fn text_format(format: &Value) -> Result<Value, Error> {
    match format.get("type").and_then(Value::as_str) {
        Some("json_schema") => {
            let mut flat = json!({"type": "json_schema"});
            for (k, v) in format.get("json_schema").and_then(Value::as_object).into_iter().flatten() {
                flat[k] = v.clone();
            }
            Ok(flat)
        }
        Some("json_object" | "text") => Ok(json!({"type": format["type"]})),
        _ => Err(invalid("response_format", "must be of type json_schema, json_object or text")),
    }
}

/// Reads the stream (or a whole response object) into the assembler.
#[derive(Default)]
struct ResponsesDecoder {
    /// A function call's item id (`fc_...`) -> its output index, the key its deltas name it by.
    calls: HashMap<String, u32>,
    /// Whether the error it last returned stands for a 5xx (retried if nothing was delivered).
    failed: bool,
    /// Without the fast path (for the differential fuzz target).
    plain: bool,
    /// The last delta event the fast path read whole, to read the next ones by comparison.
    learner: crate::fastjson::Learner<fast::Shape>,
}

/// The fast path for the event that is nearly all of a stream: `response.output_text.delta`.
/// Read by the scanner of [`crate::fastjson`], and the next ones by comparison with the last one
/// it read whole, its numbers (the `sequence_number`, which changes in every event) scanned like
/// its strings; anything else, or anything the scanner does not take, is left to the plain path,
/// which reads it the same.
mod fast {
    use crate::fastjson::{JsonStr, Learner, Scanner, Used};

    /// Where a learned delta event's `delta` was (the k-th used value).
    #[derive(Clone, Copy)]
    pub(super) struct Shape {
        delta: usize,
    }

    /// The text of an `output_text` delta event; `None`: not one, or not read here.
    pub(super) fn text_delta<'a>(data: &'a str, learner: &mut Learner<Shape>) -> Option<JsonStr<'a>> {
        let mut used = Used::default();
        if let Some(&shape) = learner.read(data, &mut used) {
            if let Some(text) = used.take(shape.delta) {
                return Some(text);
            }
        }
        let mut s = Scanner::for_value(data);
        s.numbers_as_holes = true;
        learner.watch(&mut s);
        let (mut kind, mut delta, mut at) = (None, None, 0);
        s.object(|s, key| match key {
            "type" if kind.is_none() => {
                kind = Some(s.string_fixed()?);
                Some(())
            }
            "delta" if delta.is_none() => {
                at = s.used_so_far();
                delta = Some(s.string()?);
                Some(())
            }
            "type" | "delta" => None,
            _ => s.skip(),
        })?;
        if !s.at_end() || kind? != "response.output_text.delta" {
            return None;
        }
        let delta = delta?;
        learner.learn(&mut s, || Shape { delta: at });
        Some(delta)
    }
}

fn count(v: &Value, pointer: &str) -> Option<i64> {
    v.pointer(pointer).and_then(Value::as_i64)
}

fn usage_of(usage: &Value) -> Usage {
    Usage {
        prompt_tokens: count(usage, "/input_tokens"),
        completion_tokens: count(usage, "/output_tokens"),
        total_tokens: count(usage, "/total_tokens"),
        cached_tokens: count(usage, "/input_tokens_details/cached_tokens"),
        reasoning_tokens: count(usage, "/output_tokens_details/reasoning_tokens"),
    }
}

fn server_error(error: &Value, what: &str) -> Error {
    let code = error.get("code").and_then(Value::as_str).unwrap_or("error");
    let message = error.get("message").and_then(Value::as_str).unwrap_or("no message");
    Error::new(ErrorKind::Server, format!("the server reported {what}: {code}: {}", server_text(message)))
}

/// Where an output item was read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// `response.output_item.added`: deltas follow.
    Added,
    /// `response.output_item.done`: its final form, after its deltas.
    Done,
    /// In a whole response's `output`: no deltas, everything is in the item.
    Whole,
}

impl ResponsesDecoder {
    fn item(&mut self, index: u32, item: &Value, stage: Stage, out: &mut Assembler<'_>) -> Result<(), Error> {
        let text = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
        match (text("type"), stage) {
            ("function_call", Stage::Added | Stage::Whole) => {
                // The id a tool result must name is `call_id`, not the item's `fc_` id.
                self.calls.insert(text("id").to_string(), index);
                let (id, name) = (Some(text("call_id")), Some(text("name")));
                let arguments = (stage == Stage::Whole).then(|| text("arguments"));
                out.tool_call(0, ToolFragment { key: index, id, name, arguments })?;
            }
            // The final form of a reasoning item, encrypted content included (the one in
            // `added` may be incomplete), kept for the next turn.
            ("reasoning", Stage::Done | Stage::Whole) => {
                if stage == Stage::Whole {
                    for part in item.get("summary").and_then(Value::as_array).into_iter().flatten() {
                        out.reasoning(0, part.get("text").and_then(Value::as_str).unwrap_or(""))?;
                    }
                }
                out.message_item(0, &item.to_string())?;
            }
            ("message", Stage::Whole) => {
                for part in item.get("content").and_then(Value::as_array).into_iter().flatten() {
                    let part_text = |k: &str| part.get(k).and_then(Value::as_str).unwrap_or("");
                    match part_text("type") {
                        "output_text" => out.text(0, part_text("text"))?,
                        "refusal" => out.refusal(0, part_text("refusal"))?,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `response.completed` / `.incomplete`: FINISH and USAGE.
    fn end(&mut self, response: &Value, out: &mut Assembler<'_>) -> Result<(), Error> {
        out.start(
            response.get("id").and_then(Value::as_str).unwrap_or(""),
            response.get("model").and_then(Value::as_str).unwrap_or(""),
        )?;
        let called =
            response.get("output").and_then(Value::as_array).is_some_and(|items| {
                items.iter().any(|i| i.get("type").and_then(Value::as_str) == Some("function_call"))
            }) || !self.calls.is_empty();
        match response.pointer("/incomplete_details/reason").and_then(Value::as_str) {
            Some(raw) => {
                let reason = match raw {
                    "max_output_tokens" => "length",
                    "content_filter" => "content_filter",
                    other => other,
                };
                out.finish(0, reason, raw)?;
            }
            None => {
                let status = response.get("status").and_then(Value::as_str).unwrap_or("completed");
                out.finish(0, if called { "tool_calls" } else { "stop" }, status)?;
            }
        }
        if let Some(usage) = response.get("usage").filter(|u| u.is_object()) {
            out.usage(usage_of(usage));
        }
        Ok(())
    }
}

impl Decoder for ResponsesDecoder {
    fn frame(&mut self, event: &str, data: &str, out: &mut Assembler<'_>) -> Result<Flow, Error> {
        if !self.plain {
            if let Some(text) = fast::text_delta(data, &mut self.learner) {
                out.text(0, &text)?;
                return Ok(Flow::More);
            }
        }
        let v: Value = serde_json::from_str(data).map_err(|e| {
            Error::protocol(format!("a stream event is not a Responses event ({e}): {}", server_text(data)))
        })?;
        let kind = v.get("type").and_then(Value::as_str).unwrap_or(event);
        let index = v.get("output_index").and_then(Value::as_u64).unwrap_or(0) as u32;
        let delta = || v.get("delta").and_then(Value::as_str).unwrap_or("");
        match kind {
            "response.created" => {
                let text = |k: &str| v.pointer(k).and_then(Value::as_str).unwrap_or("");
                out.start(text("/response/id"), text("/response/model"))?;
            }
            "response.output_item.added" => {
                self.item(index, v.get("item").unwrap_or(&Value::Null), Stage::Added, out)?
            }
            "response.output_item.done" => self.item(index, v.get("item").unwrap_or(&Value::Null), Stage::Done, out)?,
            "response.output_text.delta" => out.text(0, delta())?,
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => out.reasoning(0, delta())?,
            "response.refusal.delta" => out.refusal(0, delta())?,
            "response.function_call_arguments.delta" => {
                let key = v
                    .get("item_id")
                    .and_then(Value::as_str)
                    .and_then(|id| self.calls.get(id).copied())
                    .unwrap_or(index);
                out.tool_call(0, ToolFragment { key, arguments: Some(delta()), ..Default::default() })?;
            }
            "response.completed" | "response.incomplete" => {
                self.end(v.get("response").unwrap_or(&Value::Null), out)?;
                return Ok(Flow::Done);
            }
            "response.failed" => {
                self.failed = true;
                let error = v.pointer("/response/error").unwrap_or(&Value::Null);
                return Err(server_error(error, "a failed response"));
            }
            "error" => {
                self.failed = true;
                let error = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
                return Err(server_error(error, "an error mid-stream"));
            }
            _ => {}
        }
        Ok(Flow::More)
    }

    fn body(&mut self, body: &[u8], out: &mut Assembler<'_>) -> Result<(), Error> {
        let v: Value = serde_json::from_slice(body).map_err(|e| {
            Error::protocol(format!(
                "the answer is not a Responses object ({e}): {}",
                server_text(&String::from_utf8_lossy(body))
            ))
        })?;
        if let Some(error) = v.get("error").filter(|e| e.is_object()) {
            return Err(server_error(error, "an error"));
        }
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
        out.start(text("id"), text("model"))?;
        for (i, item) in v.get("output").and_then(Value::as_array).into_iter().flatten().enumerate() {
            self.item(i as u32, item, Stage::Whole, out)?;
        }
        self.end(&v, out)
    }

    fn end_marker(&self) -> &'static str {
        "`response.completed`"
    }

    fn retryable(&self) -> bool {
        self.failed
    }
}

#[cfg(test)]
mod fast_tests {
    use super::fast;

    #[test]
    fn the_fast_path_takes_output_text_deltas_only() {
        let delta = r#"{"type":"response.output_text.delta","sequence_number":7,"item_id":"msg_1","output_index":0,"content_index":0,"delta":" Hello","logprobs":[],"obfuscation":"x9Tq"}"#;
        assert!(matches!(fast::text_delta(delta, &mut Default::default()), Some(t) if t == " Hello"));
        let escaped = r#"{"type":"response.output_text.delta","delta":"a\nb"}"#;
        assert!(matches!(fast::text_delta(escaped, &mut Default::default()), Some(t) if t == "a\nb"));
        for other in [
            r#"{"type":"response.reasoning_summary_text.delta","delta":"hm"}"#,
            r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","delta":"{"}"#,
            r#"{"type":"response.output_text.delta","type":"response.output_text.delta","delta":"x"}"#,
            r#"{"type":"response.output_text.delta","delta":"x","delta":"y"}"#,
            r#"{"type":"response.output_text.delta","delta":null}"#,
            r#"{"type":"response.output_text.delta"}"#,
            r#"{"delta":"x"}"#,
            r#"{"type":"response.output_text.delta","delta":"x"} x"#,
            r#"{"type":"response.completed","response":{}}"#,
        ] {
            assert!(fast::text_delta(other, &mut Default::default()).is_none(), "{other}");
        }
    }
}

#[cfg(test)]
mod learned_tests {
    use super::fast;
    use crate::fastjson::Learner;

    #[test]
    fn learned_deltas_read_a_new_sequence_number_and_strings() {
        let event = |n: u32, delta: &str, obfuscation: &str| {
            format!(
                r#"{{"type":"response.output_text.delta","sequence_number":{n},"item_id":"msg_1","output_index":0,"content_index":0,"delta":"{delta}","logprobs":[],"obfuscation":"{obfuscation}"}}"#
            )
        };
        let mut learner = Learner::default();
        for (n, delta) in [(4, " Hello"), (5, " world"), (6, "a\\nb"), (123456, "")] {
            let e = event(n, delta, &"x".repeat(n as usize % 7 + 2));
            let want: String = serde_json::from_str(&format!("\"{delta}\"")).unwrap();
            assert_eq!(fast::text_delta(&e, &mut learner).expect("a delta"), want);
        }
        for other in [
            event(7, "x", "y").replace("\"sequence_number\":7", "\"sequence_number\":7e0"),
            event(7, "x", "y").replace("output_text.delta", "refusal.delta"),
            event(7, "x", "y").replace("\"logprobs\":[]", "\"logprobs\":[],\"delta\":\"z\""),
        ] {
            assert!(fast::text_delta(&other, &mut learner).is_none(), "{other}");
        }
    }
}

#[cfg(test)]
mod item_tests {
    use super::*;
    use crate::env::Env;
    use crate::request::{Request, Settings, protocol_named};
    use std::time::Instant;

    #[test]
    fn only_responses_items_go_back_into_input() {
        // A bedrock MESSAGE keeps Converse reasoning blocks in the same field: not for this API.
        let json = r#"{"provider":"responses","messages":[{"role":"user","content":"a"},
            {"role":"assistant","content":"b","reasoning_items":[
                {"type":"reasoning","id":"rs_1","encrypted_content":"x","summary":[]},
                {"reasoningContent":{"redactedContent":"AAEC"}}]},
            {"role":"user","content":"c"}]}"#;
        let protocol = protocol_named(Some("responses"), super::super::REGISTRY, "request").unwrap();
        let r = Resolved::with_env(
            Request::from_json(json).unwrap(),
            &Settings::default(),
            &Env::default(),
            protocol,
            Instant::now(),
        )
        .unwrap();
        let body: Value = serde_json::from_slice(&Responses.build_request(&r).unwrap().body).unwrap();
        let input = body["input"].as_array().unwrap();
        assert!(input.iter().any(|i| i["id"] == "rs_1"));
        assert!(!body.to_string().contains("redactedContent"), "{body}");
    }
}
