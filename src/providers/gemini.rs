//! `"provider": "gemini"`: Google's Gemini API in its own form (`POST
//! {base_url}/models/{model}:streamGenerateContent?alt=sse`, `:generateContent` without a
//! stream), the key in `x-goog-api-key`.
//!
//! The conversation is translated from the one schema (OpenAI's messages and tools) to
//! `contents` of `user` and `model` turns, `systemInstruction`, `tools` and `generationConfig`.
//! Gemini vouches for its thinking with `thoughtSignature`s on the parts they came with, and
//! Gemini 3 refuses a function call sent back without its signature: MESSAGE keeps each call's
//! in the call's `extra_content.google.thought_signature` (the spelling of Gemini's
//! OpenAI-compatible API) and a text part's in `reasoning_signature`, and sending MESSAGE puts
//! them back on the same parts. The stream is SSE of whole `GenerateContentResponse` objects,
//! with no `[DONE]`: the chunk with a `finishReason` is the last.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

use crate::answer::{Assembler, ToolFragment};
use crate::error::{Error, ErrorKind, server_text};
use crate::event::Usage;
use crate::request::{ProtocolDefaults, Resolved};
use crate::transport::HttpRequest;

use super::{Decoder, Field, Flow, Framing, JsonHead, KeyHeader, Protocol, sse_or_json};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";
/// The API version `GOOGLE_GEMINI_BASE_URL` (a host) is given.
const API_VERSION: &str = "v1beta";
/// How a tool call's id starts when the server gave none and this library made it up: such an
/// id is not sent back to the server (it never knew it).
const MADE_UP_ID: &str = "aichat-call-";

/// `"provider": "gemini"`.
#[derive(Debug)]
pub struct Gemini;

impl ProtocolDefaults for Gemini {
    fn name(&self) -> &'static str {
        "gemini"
    }

    fn default_base_url(&self) -> &'static str {
        DEFAULT_BASE_URL
    }

    fn base_url_env(&self) -> Option<&'static str> {
        Some("GOOGLE_GEMINI_BASE_URL")
    }

    /// Google's Python SDK reads `GOOGLE_GEMINI_BASE_URL` as the host and adds the version.
    fn base_url_from_env(&self, value: &str) -> String {
        format!("{}/{API_VERSION}", value.trim_end_matches('/'))
    }

    /// As Google's Python SDK: `GOOGLE_API_KEY` wins over `GEMINI_API_KEY`.
    fn api_key_env(&self) -> Option<&'static str> {
        Some("GOOGLE_API_KEY")
    }

    fn api_key_env_fallbacks(&self) -> &'static [&'static str] {
        &["GEMINI_API_KEY"]
    }

    fn default_model(&self) -> &'static str {
        "gemini-2.5-flash"
    }

    fn takes(&self) -> &'static [Field] {
        // Not `n`, `presence_penalty`, `frequency_penalty`, `parallel_tool_calls`, `user`: refused
        // by name rather than sent in a form the API may read otherwise.
        &[
            Field::max_tokens,
            Field::tools,
            Field::tool_choice,
            Field::response_format,
            Field::stop,
            Field::seed,
            Field::reasoning_effort,
            Field::extra_body,
        ]
    }
}

impl Protocol for Gemini {
    fn build_request(&self, r: &Resolved) -> Result<HttpRequest, Error> {
        const HEAD: JsonHead = JsonHead { key: KeyHeader::XGoogApiKey, ..JsonHead::SSE };
        let method = if r.stream { "streamGenerateContent?alt=sse" } else { "generateContent" };
        let url = format!("{}/models/{}:{method}", r.base_url, model_in_path(&r.model)?);
        Ok(HEAD.request(r, url, &body(r)?))
    }

    fn framing(&self, content_type: &str, stream_asked: bool) -> Framing {
        sse_or_json(content_type, stream_asked)
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(GeminiDecoder::default())
    }

    fn plain_decoder(&self) -> Box<dyn Decoder> {
        Box::new(GeminiDecoder { plain: true, ..GeminiDecoder::default() })
    }
}

fn invalid(field: &str, why: &str) -> Error {
    Error::invalid_request(format!("invalid request: `{field}` {why} for the gemini provider"))
}

/// The model id as a path segment: a leading `models/` dropped (the API lists models so), and
/// every byte but letters, digits, `-`, `.`, `_` percent-encoded, so that `/`, `?` or `#` can
/// neither reach another path nor start a query.
fn model_in_path(model: &str) -> Result<String, Error> {
    let id = model.strip_prefix("models/").unwrap_or(model);
    if id.is_empty() {
        return Err(invalid("model", "is empty"));
    }
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(out)
}

/// The request body: the conversation, tools, settings in `generationConfig`, `extra_body` on top.
fn body(r: &Resolved) -> Result<Map<String, Value>, Error> {
    let (system, contents) = conversation(r)?;
    let mut body = Map::new();
    if !system.is_empty() {
        body.insert("systemInstruction".into(), json!({"parts": system}));
    }
    body.insert("contents".into(), Value::Array(contents));
    let f = &r.fields;
    if let Some(tools) = f.tools.as_ref().map(|t| t.value()) {
        body.insert("tools".into(), json!([{"functionDeclarations": declarations(&tools)?}]));
    }
    if let Some(choice) = f.tool_choice.as_ref().map(|c| c.value()) {
        body.insert("toolConfig".into(), json!({"functionCallingConfig": calling_config(&choice)?}));
    }
    let mut config = Map::new();
    if let Some(t) = f.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(p) = f.top_p {
        config.insert("topP".into(), json!(p));
    }
    if let Some(stop) = f.stop.as_ref().map(|s| s.value()) {
        config.insert("stopSequences".into(), if stop.is_string() { json!([stop]) } else { stop });
    }
    if let Some(n) = f.max_tokens {
        config.insert("maxOutputTokens".into(), json!(n));
    }
    if let Some(seed) = f.seed {
        config.insert("seed".into(), json!(seed));
    }
    if let Some(format) = f.response_format.as_ref().map(|v| v.value()) {
        response_format(&format, &mut config)?;
    }
    if let Some(effort) = &f.reasoning_effort {
        config.insert("thinkingConfig".into(), thinking_config(effort)?);
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    for (name, value) in f.extra_body.iter().flatten() {
        body.insert(name.clone(), value.clone());
    }
    Ok(body)
}

/// `reasoning_effort` as a thinking budget in tokens (a budget, not `thinkingLevel`: Gemini 2.5
/// takes only budgets, Gemini 3 takes both), with the thoughts' summaries asked for so that
/// REASONING has them. `none` turns thinking off where the model allows it.
fn thinking_config(effort: &str) -> Result<Value, Error> {
    let budget = match effort {
        "none" => return Ok(json!({"thinkingBudget": 0})),
        "minimal" => 128,
        "low" => 1024,
        "medium" => 8192,
        "high" => 24576,
        other => {
            return Err(invalid("reasoning_effort", &format!("is {other:?}; use none, minimal, low, medium, high")));
        }
    };
    Ok(json!({"thinkingBudget": budget, "includeThoughts": true}))
}

/// `response_format`: JSON output, with its schema as `responseJsonSchema` (JSON Schema as it is,
/// where `responseSchema` takes only an OpenAPI subset).
fn response_format(format: &Value, config: &mut Map<String, Value>) -> Result<(), Error> {
    match format.get("type").and_then(Value::as_str) {
        Some("json_schema") => {
            config.insert("responseMimeType".into(), json!("application/json"));
            if let Some(schema) = format.pointer("/json_schema/schema") {
                config.insert("responseJsonSchema".into(), schema.clone());
            }
        }
        Some("json_object") => {
            config.insert("responseMimeType".into(), json!("application/json"));
        }
        Some("text") => {}
        _ => return Err(invalid("response_format", "must be of type json_schema, json_object or text")),
    }
    Ok(())
}

/// OpenAI's chat tools as function declarations.
fn declarations(tools: &Value) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for (k, tool) in tools.as_array().into_iter().flatten().enumerate() {
        let function = tool.get("function").filter(|_| tool.get("type").and_then(Value::as_str) == Some("function"));
        let Some(name) = function.and_then(|f| f.get("name")).and_then(Value::as_str) else {
            return Err(invalid(&format!("tools[{k}]"), "must be a function tool with a name"));
        };
        let mut declaration = json!({"name": name});
        for key in ["description", "parameters"] {
            if let Some(v) = function.and_then(|f| f.get(key)) {
                declaration[key] = v.clone();
            }
        }
        out.push(declaration);
    }
    Ok(out)
}

/// `tool_choice` as `functionCallingConfig`.
fn calling_config(choice: &Value) -> Result<Value, Error> {
    match choice {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(json!({"mode": "AUTO"})),
            "none" => Ok(json!({"mode": "NONE"})),
            "required" => Ok(json!({"mode": "ANY"})),
            other => Err(invalid("tool_choice", &format!("is {other:?}; use auto, none, required"))),
        },
        _ => match choice.pointer("/function/name").and_then(Value::as_str) {
            Some(name) => Ok(json!({"mode": "ANY", "allowedFunctionNames": [name]})),
            None => Err(invalid("tool_choice", "must be a string or name a function")),
        },
    }
}

/// The `systemInstruction` parts and the `contents`. System and developer messages become
/// system text; user messages `user` turns of `text` and `inlineData` parts; assistant messages
/// `model` turns of their text (with MESSAGE's `reasoning_signature`) and `functionCall` parts
/// (each with its signature); tool messages `functionResponse` parts named after their call's
/// function, consecutive ones in one `user` turn.
fn conversation(r: &Resolved) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let mut system = Vec::new();
    let mut contents: Vec<Value> = Vec::new();
    // A tool call's id -> its function's name, from the assistant messages so far.
    let mut names: HashMap<String, String> = HashMap::new();
    // Whether the last turn is one of tool results (the next result joins it).
    let mut results_turn = false;
    for (i, m) in r.messages.iter().enumerate() {
        let raw = m.raw().value();
        let at = |field: &str| format!("messages[{i}].{field}");
        let is_results = m.role() == "tool";
        match m.role() {
            "system" | "developer" => {
                for part in parts_of(&raw, &at("content"))? {
                    if part.get("text").is_none() {
                        return Err(invalid(&at("content"), "may only hold text in a system message"));
                    }
                    system.push(part);
                }
            }
            "user" => {
                // A turn with no part is left out: the API refuses empty `parts`.
                let parts = parts_of(&raw, &at("content"))?;
                if !parts.is_empty() {
                    contents.push(json!({"role": "user", "parts": parts}));
                }
            }
            "assistant" => {
                let mut parts = Vec::new();
                let text: String = parts_of(&raw, &at("content"))?
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect();
                let signature = raw.get("reasoning_signature").and_then(Value::as_str).filter(|s| !s.is_empty());
                if !text.is_empty() {
                    let mut part = json!({"text": text});
                    if let Some(signature) = signature {
                        part["thoughtSignature"] = json!(signature);
                    }
                    parts.push(part);
                }
                for (k, call) in raw.get("tool_calls").and_then(Value::as_array).into_iter().flatten().enumerate() {
                    let field = at(&format!("tool_calls[{k}]"));
                    let name = call.pointer("/function/name").and_then(Value::as_str).unwrap_or("");
                    let id = call.get("id").and_then(Value::as_str).unwrap_or("");
                    if name.is_empty() {
                        return Err(invalid(&format!("{field}.function.name"), "is required"));
                    }
                    if !id.is_empty() {
                        names.insert(id.to_string(), name.to_string());
                    }
                    let args = match call.pointer("/function/arguments") {
                        None | Some(Value::Null) => json!({}),
                        Some(Value::String(s)) if s.trim().is_empty() => json!({}),
                        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
                            .ok()
                            .filter(Value::is_object)
                            .ok_or_else(|| invalid(&format!("{field}.function.arguments"), "must be a JSON object"))?,
                        Some(other) => other.clone(),
                    };
                    let mut function_call = json!({"name": name, "args": args});
                    if !id.is_empty() && !id.starts_with(MADE_UP_ID) {
                        function_call["id"] = json!(id);
                    }
                    let mut part = json!({"functionCall": function_call});
                    let signature = call
                        .pointer("/extra_content/google/thought_signature")
                        .or_else(|| call.get("thought_signature"))
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty());
                    if let Some(signature) = signature {
                        part["thoughtSignature"] = json!(signature);
                    }
                    parts.push(part);
                }
                // A signature that came on an empty text part (the end of a stream, often)
                // goes back on one, where it came.
                if let (true, Some(signature)) = (text.is_empty(), signature) {
                    parts.push(json!({"text": "", "thoughtSignature": signature}));
                }
                if !parts.is_empty() {
                    contents.push(json!({"role": "model", "parts": parts}));
                }
            }
            "tool" => {
                let id = raw.get("tool_call_id").and_then(Value::as_str).unwrap_or("");
                let Some(name) = names.get(id) else {
                    return Err(invalid(
                        &at("tool_call_id"),
                        "must be the id of a tool call of an earlier assistant message",
                    ));
                };
                let text: String = parts_of(&raw, &at("content"))?
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect();
                // The API wants an object: JSON text of one is that object, anything else the text.
                let response = match serde_json::from_str::<Value>(&text) {
                    Ok(object @ Value::Object(_)) => object,
                    _ => json!({"result": text}),
                };
                let mut function_response = json!({"name": name, "response": response});
                if !id.starts_with(MADE_UP_ID) {
                    function_response["id"] = json!(id);
                }
                let part = json!({"functionResponse": function_response});
                match contents.last_mut().and_then(|c| c["parts"].as_array_mut()).filter(|_| results_turn) {
                    Some(parts) => parts.push(part),
                    None => contents.push(json!({"role": "user", "parts": [part]})),
                }
            }
            other => return Err(invalid(&at("role"), &format!("is {other:?}, which has no equivalent"))),
        }
        results_turn = is_results;
    }
    Ok((system, contents))
}

/// A message's `content` as parts: text, and images from base64 `data:` URLs as `inlineData`
/// (the API fetches no URL given here).
fn parts_of(raw: &Value, field: &str) -> Result<Vec<Value>, Error> {
    match raw.get("content") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![json!({"text": s})]),
        Some(Value::Array(parts)) => {
            let mut out = Vec::new();
            for (k, part) in parts.iter().enumerate() {
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => match part.get("text").and_then(Value::as_str) {
                        Some("") => {}
                        Some(t) => out.push(json!({"text": t})),
                        None => return Err(invalid(&format!("{field}[{k}].text"), "must be a string")),
                    },
                    Some("image_url") => {
                        let url = part.pointer("/image_url/url").and_then(Value::as_str).unwrap_or("");
                        let inline = url.strip_prefix("data:").and_then(|d| d.split_once(";base64,"));
                        let Some((mime_type, data)) = inline else {
                            return Err(invalid(&format!("{field}[{k}].image_url.url"), "must be a base64 data: URL"));
                        };
                        out.push(json!({"inlineData": {"mimeType": mime_type, "data": data}}));
                    }
                    other => {
                        return Err(invalid(
                            &format!("{field}[{k}]"),
                            &format!("is a {other:?} part, which has no equivalent"),
                        ));
                    }
                }
            }
            Ok(out)
        }
        Some(_) => Err(invalid(field, "must be a string or an array of content parts")),
    }
}

/// Gemini's finish reasons in OpenAI's words; others are passed on as they are.
fn finish_reason(raw: &str, called: bool) -> &str {
    match raw {
        "STOP" if called => "tool_calls",
        "STOP" => "stop",
        "MAX_TOKENS" => "length",
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => "content_filter",
        other => other,
    }
}

fn count(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// `usageMetadata` as USAGE: the thoughts' tokens are billed as output, so they count in the
/// completion as OpenAI counts reasoning tokens.
fn usage_of(usage: &Value) -> Usage {
    Counts {
        prompt: count(usage, "promptTokenCount"),
        candidates: count(usage, "candidatesTokenCount"),
        thoughts: count(usage, "thoughtsTokenCount"),
        total: count(usage, "totalTokenCount"),
        cached: count(usage, "cachedContentTokenCount"),
    }
    .usage()
}

/// The counts of a `usageMetadata` that USAGE is made of.
#[derive(Default, Clone, Copy, Debug, PartialEq)]
struct Counts {
    prompt: Option<i64>,
    candidates: Option<i64>,
    thoughts: Option<i64>,
    total: Option<i64>,
    cached: Option<i64>,
}

impl Counts {
    fn usage(self) -> Usage {
        Usage {
            prompt_tokens: self.prompt,
            completion_tokens: match (self.candidates, self.thoughts) {
                (None, None) => None,
                (c, t) => Some(c.unwrap_or(0) + t.unwrap_or(0)),
            },
            total_tokens: self.total,
            cached_tokens: self.cached,
            reasoning_tokens: self.thoughts,
        }
    }
}

/// The fast path for the chunk that is nearly all of a stream: one candidate with one text part
/// and no finish reason, with its usage so far. Read by the scanner of [`crate::fastjson`], and
/// the next chunks by comparison with the last one it read whole, its numbers (the token counts
/// so far, which change in every chunk) scanned like its strings; anything else (an error, a
/// call, a thought, a signature, a finish reason, prompt feedback, a count that is not a plain
/// integer, a repeated key) is left to the plain path, which reads it the same.
mod fast {
    use super::Counts;
    use crate::fastjson::{JsonStr, Learner, Scanner, Used, u32_of};

    pub(super) struct Chunk<'a> {
        pub(super) id: JsonStr<'a>,
        pub(super) model: JsonStr<'a>,
        pub(super) usage: Option<Counts>,
        pub(super) choice: u32,
        pub(super) text: JsonStr<'a>,
    }

    /// What a learned chunk was: its candidate's index (compared as bytes) and where its used
    /// values were (the k-th used string or number; absent: none). Its `responseId` and
    /// `modelVersion` are compared as bytes, not given back: the learned chunk started the
    /// answer, after which RESPONSE is not sent again.
    #[derive(Clone, Copy, Default)]
    pub(super) struct Shape {
        choice: u32,
        text: usize,
        /// prompt, candidates, thoughts, total, cached.
        usage: Option<[Option<usize>; 5]>,
    }

    pub(super) fn text_chunk<'a>(data: &'a str, learner: &mut Learner<Shape>) -> Option<Chunk<'a>> {
        let mut used = Used::default();
        if let Some(&shape) = learner.read(data, &mut used) {
            if let Some(chunk) = by_shape(shape, &mut used) {
                return Some(chunk);
            }
        }
        let mut s = Scanner::for_value(data);
        s.numbers_as_holes = true;
        learner.watch(&mut s);
        let mut shape = Shape::default();
        let chunk = parse(&mut s, &mut shape)?;
        learner.learn(&mut s, || shape);
        Some(chunk)
    }

    fn by_shape<'a>(shape: Shape, used: &mut Used<'a>) -> Option<Chunk<'a>> {
        let text = used.take(shape.text)?;
        let usage = match shape.usage {
            None => None,
            Some(at) => {
                let mut n = [None; 5];
                for (slot, k) in n.iter_mut().zip(at) {
                    if let Some(k) = k {
                        *slot = Some(i64::from(u32_of(&used.take(k)?)?));
                    }
                }
                Some(Counts { prompt: n[0], candidates: n[1], thoughts: n[2], total: n[3], cached: n[4] })
            }
        };
        Some(Chunk { id: JsonStr::default(), model: JsonStr::default(), usage, choice: shape.choice, text })
    }

    fn parse<'a>(s: &mut Scanner<'a>, shape: &mut Shape) -> Option<Chunk<'a>> {
        let (mut id, mut model, mut usage, mut candidate) = (None, None, None, None);
        s.object(|s, key| match key {
            "responseId" if id.is_none() => {
                id = Some(s.string_fixed()?);
                Some(())
            }
            "modelVersion" if model.is_none() => {
                model = Some(s.string_fixed()?);
                Some(())
            }
            "usageMetadata" if usage.is_none() => {
                usage = Some(counts(s, shape)?);
                Some(())
            }
            "candidates" if candidate.is_none() => {
                let mut one = None;
                s.array(|s| {
                    if one.is_some() {
                        return None;
                    }
                    one = Some(candidate_of(s, shape)?);
                    Some(())
                })?;
                candidate = Some(one?);
                Some(())
            }
            "responseId" | "modelVersion" | "usageMetadata" | "candidates" | "error" | "promptFeedback" => None,
            _ => s.skip(),
        })?;
        if !s.at_end() {
            return None;
        }
        let (choice, text) = candidate?;
        shape.choice = choice;
        Some(Chunk { id: id.unwrap_or_default(), model: model.unwrap_or_default(), usage, choice, text })
    }

    fn counts(s: &mut Scanner<'_>, shape: &mut Shape) -> Option<Counts> {
        let mut c = [None; 5];
        let mut at = [None; 5];
        s.object(|s, key| {
            let i = match key {
                "promptTokenCount" => 0,
                "candidatesTokenCount" => 1,
                "thoughtsTokenCount" => 2,
                "totalTokenCount" => 3,
                "cachedContentTokenCount" => 4,
                _ => return s.skip(),
            };
            if c[i].is_some() {
                return None;
            }
            at[i] = Some(s.used_so_far());
            c[i] = Some(i64::from(s.u32_used()?));
            Some(())
        })?;
        shape.usage = Some(at);
        Some(Counts { prompt: c[0], candidates: c[1], thoughts: c[2], total: c[3], cached: c[4] })
    }

    /// A candidate's index and the text of its one part.
    fn candidate_of<'a>(s: &mut Scanner<'a>, shape: &mut Shape) -> Option<(u32, JsonStr<'a>)> {
        let (mut index, mut text) = (None, None);
        s.object(|s, key| match key {
            "index" if index.is_none() => {
                index = Some(s.u32()?);
                Some(())
            }
            "content" if text.is_none() => {
                text = Some(content(s, shape)?);
                Some(())
            }
            "index" | "content" | "finishReason" => None,
            _ => s.skip(),
        })?;
        Some((index.unwrap_or(0), text?))
    }

    fn content<'a>(s: &mut Scanner<'a>, shape: &mut Shape) -> Option<JsonStr<'a>> {
        let mut text = None;
        s.object(|s, key| match key {
            "parts" if text.is_none() => {
                let mut one = None;
                s.array(|s| {
                    if one.is_some() {
                        return None;
                    }
                    let mut piece = None;
                    s.object(|s, key| match key {
                        "text" if piece.is_none() => {
                            shape.text = s.used_so_far();
                            piece = Some(s.string()?);
                            Some(())
                        }
                        _ => None,
                    })?;
                    one = Some(piece?);
                    Some(())
                })?;
                text = Some(one?);
                Some(())
            }
            "parts" => None,
            _ => s.skip(),
        })?;
        text
    }
}

/// An id for a call the server gave none (the Gemini API gives none today): unique within the
/// process and across processes started at other times, so a conversation's calls never share one.
fn made_up_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{MADE_UP_ID}{:x}-{n}", nanos as u64)
}

/// Reads the chunks (each a whole `GenerateContentResponse`) or a whole answer.
#[derive(Default)]
struct GeminiDecoder {
    /// Per choice: its tool calls so far, and whether its text's signature was kept.
    choices: HashMap<u32, ChoiceState>,
    /// Whether the error it last returned stands for a 429 or 5xx (retried if nothing was delivered).
    failed: bool,
    /// Without the fast path (for the differential fuzz target).
    plain: bool,
    /// The last text chunk the fast path read whole, to read the next ones by comparison.
    learner: crate::fastjson::Learner<fast::Shape>,
}

#[derive(Default)]
struct ChoiceState {
    calls: u32,
    signed: bool,
}

impl GeminiDecoder {
    /// One response object; whether it carried a finish reason.
    fn response(&mut self, v: &Value, out: &mut Assembler<'_>) -> Result<bool, Error> {
        if let Some(error) = v.get("error").filter(|e| e.is_object()) {
            let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
            self.failed = matches!(code, 429 | 500 | 502 | 503 | 504);
            let status = error.get("status").and_then(Value::as_str).unwrap_or("error");
            let message = error.get("message").and_then(Value::as_str).unwrap_or("no message");
            return Err(Error::new(
                ErrorKind::Server,
                format!("the server reported an error: {status} ({code}): {}", server_text(message)),
            ));
        }
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
        out.start(text("responseId"), text("modelVersion"))?;
        if let Some(usage) = v.get("usageMetadata").filter(|u| u.is_object()) {
            out.usage(usage_of(usage));
        }
        let mut finished = false;
        for candidate in v.get("candidates").and_then(Value::as_array).into_iter().flatten() {
            let choice = candidate.get("index").and_then(Value::as_u64).unwrap_or(0) as u32;
            let state = self.choices.entry(choice).or_default();
            for part in candidate.pointer("/content/parts").and_then(Value::as_array).into_iter().flatten() {
                let signature = part.get("thoughtSignature").and_then(Value::as_str).unwrap_or("");
                if let Some(call) = part.get("functionCall") {
                    let id = call.get("id").and_then(Value::as_str).filter(|s| !s.is_empty());
                    let id = id.map_or_else(made_up_id, str::to_string);
                    let name = call.get("name").and_then(Value::as_str).unwrap_or("");
                    let args =
                        call.get("args").filter(|a| !a.is_null()).map_or_else(|| "{}".to_string(), Value::to_string);
                    let key = state.calls;
                    state.calls += 1;
                    out.tool_call(
                        choice,
                        ToolFragment { key, id: Some(&id), name: Some(name), arguments: Some(&args) },
                    )?;
                    out.tool_call_signature(choice, key, signature)?;
                    continue;
                }
                let piece = part.get("text").and_then(Value::as_str).unwrap_or("");
                if part.get("thought").and_then(Value::as_bool) == Some(true) {
                    out.reasoning(choice, piece)?;
                } else {
                    out.text(choice, piece)?;
                }
                // A text part's signature (often on an empty last part): the first is kept.
                if !signature.is_empty() && !state.signed {
                    state.signed = true;
                    out.reasoning_signature(choice, signature)?;
                }
            }
            if let Some(raw) = candidate.get("finishReason").and_then(Value::as_str).filter(|r| !r.is_empty()) {
                finished = true;
                out.finish(choice, finish_reason(raw, state.calls > 0), raw)?;
            }
        }
        // A prompt refused before any candidate: the answer ends there.
        if let Some(reason) = v.pointer("/promptFeedback/blockReason").and_then(Value::as_str) {
            finished = true;
            out.finish(0, "content_filter", reason)?;
        }
        Ok(finished)
    }
}

impl Decoder for GeminiDecoder {
    fn frame(&mut self, _event: &str, data: &str, out: &mut Assembler<'_>) -> Result<Flow, Error> {
        if !self.plain {
            if let Some(chunk) = fast::text_chunk(data, &mut self.learner) {
                // What `response` does with such a chunk (its choice's state, untouched by a text
                // part, is the default until a call or a signature).
                out.start(&chunk.id, &chunk.model)?;
                if let Some(counts) = chunk.usage {
                    out.usage(counts.usage());
                }
                out.text(chunk.choice, &chunk.text)?;
                return Ok(Flow::More);
            }
        }
        let v: Value = serde_json::from_str(data).map_err(|e| {
            Error::protocol(format!("a stream chunk is not a Gemini response ({e}): {}", server_text(data)))
        })?;
        Ok(if self.response(&v, out)? { Flow::Done } else { Flow::More })
    }

    fn body(&mut self, body: &[u8], out: &mut Assembler<'_>) -> Result<(), Error> {
        let v: Value = serde_json::from_slice(body).map_err(|e| {
            Error::protocol(format!(
                "the answer is not a Gemini response ({e}): {}",
                server_text(&String::from_utf8_lossy(body))
            ))
        })?;
        // Without `alt=sse` a stream is a JSON array of the chunks; read one the same way.
        match &v {
            Value::Array(chunks) => {
                for chunk in chunks {
                    self.response(chunk, out)?;
                }
            }
            one => {
                self.response(one, out)?;
            }
        }
        Ok(())
    }

    fn end_marker(&self) -> &'static str {
        "a `finishReason`"
    }

    fn retryable(&self) -> bool {
        self.failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Sink;
    use crate::env::Env;
    use crate::event::Event;
    use crate::request::{Request, Settings, protocol_named};
    use std::time::Instant;

    fn resolved(env: &[(&'static str, &str)]) -> Resolved {
        let request =
            Request::from_json(r#"{"provider":"gemini","messages":[{"role":"user","content":"hi"}]}"#).unwrap();
        let env = Env::from_pairs(env.iter().map(|(k, v)| (*k, v.to_string())));
        let protocol = protocol_named(Some("gemini"), super::super::REGISTRY, "request").unwrap();
        Resolved::with_env(request, &Settings::default(), &env, protocol, Instant::now()).unwrap()
    }

    fn key(env: &[(&'static str, &str)]) -> Option<String> {
        resolved(env).api_key.map(|k| k.expose().to_string())
    }

    #[test]
    fn the_key_is_google_api_key_else_gemini_api_key_trimmed_empty_unset() {
        assert_eq!(key(&[("GOOGLE_API_KEY", "g"), ("GEMINI_API_KEY", "m")]).as_deref(), Some("g"));
        assert_eq!(key(&[("GEMINI_API_KEY", "m")]).as_deref(), Some("m"));
        assert_eq!(key(&[("GOOGLE_API_KEY", ""), ("GEMINI_API_KEY", "m")]).as_deref(), Some("m"));
        assert_eq!(key(&[("GOOGLE_API_KEY", "  \n"), ("GEMINI_API_KEY", " m\n")]).as_deref(), Some("m"));
        assert_eq!(key(&[("GOOGLE_API_KEY", " g ")]).as_deref(), Some("g"));
        assert_eq!(key(&[]), None);
    }

    #[test]
    fn the_base_url_is_the_default_or_the_host_in_the_environment_with_the_version() {
        assert_eq!(resolved(&[]).base_url, DEFAULT_BASE_URL);
        assert_eq!(
            resolved(&[("GOOGLE_GEMINI_BASE_URL", "https://proxy.example/")]).base_url,
            "https://proxy.example/v1beta"
        );
    }

    #[test]
    fn the_model_is_safe_in_the_path() {
        assert_eq!(model_in_path("models/gemini-2.5-flash").unwrap(), "gemini-2.5-flash");
        assert_eq!(model_in_path("gemini-3-pro-preview").unwrap(), "gemini-3-pro-preview");
        assert_eq!(model_in_path("a/../b?x#y").unwrap(), "a%2F..%2Fb%3Fx%23y");
        assert!(model_in_path("models/").is_err());
    }

    #[test]
    fn usage_counts_the_thoughts_as_completion() {
        let u = usage_of(&json!({"promptTokenCount": 9, "candidatesTokenCount": 8, "thoughtsTokenCount": 4,
            "totalTokenCount": 21, "cachedContentTokenCount": 3}));
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens, u.cached_tokens, u.reasoning_tokens),
            (Some(9), Some(12), Some(21), Some(3), Some(4))
        );
        assert_eq!(usage_of(&json!({"promptTokenCount": 2})).completion_tokens, None);
    }

    #[test]
    fn finish_reasons() {
        assert_eq!(finish_reason("STOP", false), "stop");
        assert_eq!(finish_reason("STOP", true), "tool_calls");
        assert_eq!(finish_reason("MAX_TOKENS", false), "length");
        for filtered in ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"] {
            assert_eq!(finish_reason(filtered, false), "content_filter");
        }
        assert_eq!(finish_reason("MALFORMED_FUNCTION_CALL", false), "MALFORMED_FUNCTION_CALL");
    }

    /// The events of a stream of these chunks, and whether the last one ended it.
    fn stream(chunks: &[&str]) -> (Vec<Event<'static>>, bool) {
        let mut events = Vec::new();
        let mut sink = |e: &Event<'_>| {
            events.push(e.clone().into_owned());
            true
        };
        let mut out = Assembler::new(Sink::Events(&mut sink));
        let mut decoder = GeminiDecoder::default();
        let mut done = false;
        for chunk in chunks {
            done = decoder.frame("", chunk, &mut out).unwrap() == Flow::Done;
        }
        out.end().unwrap();
        (events, done)
    }

    fn finish_of(events: &[Event<'_>]) -> (String, String) {
        events
            .iter()
            .find_map(|e| match e {
                Event::Finish { reason, raw, .. } => Some((reason.to_string(), raw.to_string())),
                _ => None,
            })
            .expect("a FINISH")
    }

    #[test]
    fn a_call_then_a_trailing_stop_chunk_finishes_with_tool_calls() {
        // Newer models send the call and the STOP in two chunks, the STOP with an empty text part
        // (as envoyproxy/ai-gateway found with gemini-3.5-flash).
        let (events, done) = stream(&[
            r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":1}},"thoughtSignature":"s1"}]}}],"usageMetadata":{}}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":""}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1}}"#,
        ]);
        assert!(done);
        assert_eq!(finish_of(&events), ("tool_calls".to_string(), "STOP".to_string()));
        let Some(Event::Message { json, .. }) = events.last() else { panic!("MESSAGE last") };
        let message: Value = serde_json::from_str(json).unwrap();
        assert_eq!(message["tool_calls"][0]["extra_content"]["google"]["thought_signature"], "s1");
        assert_eq!(message["tool_calls"][0]["function"]["arguments"], r#"{"a":1}"#);
    }

    #[test]
    fn a_last_chunk_without_parts_and_a_blocked_prompt_still_finish() {
        let (events, done) = stream(&[
            r#"{"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}"#,
            r#"{"candidates":[{"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":2,"totalTokenCount":3}}"#,
        ]);
        assert!(done);
        assert_eq!(finish_of(&events).0, "stop");
        let (events, done) = stream(&[r#"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{}}"#]);
        assert!(done);
        assert_eq!(finish_of(&events), ("content_filter".to_string(), "SAFETY".to_string()));
    }

    #[test]
    fn an_empty_user_turn_is_left_out() {
        let json = r#"{"provider":"gemini","messages":[{"role":"user","content":""},{"role":"user","content":"hi"}]}"#;
        let protocol = protocol_named(Some("gemini"), super::super::REGISTRY, "request").unwrap();
        let r = Resolved::with_env(
            Request::from_json(json).unwrap(),
            &Settings::default(),
            &Env::default(),
            protocol,
            Instant::now(),
        )
        .unwrap();
        let body = body(&r).unwrap();
        assert_eq!(body["contents"], json!([{"role": "user", "parts": [{"text": "hi"}]}]));
    }

    #[test]
    fn made_up_ids_differ() {
        assert_ne!(made_up_id(), made_up_id());
        assert!(made_up_id().starts_with(MADE_UP_ID));
    }
}

#[cfg(test)]
mod fast_tests {
    use super::fast;
    use crate::fastjson::Learner;

    const CHUNK: &str = r#"{"candidates":[{"content":{"parts":[{"text":" the quick"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":8,"totalTokenCount":17,"promptTokensDetails":[{"modality":"TEXT","tokenCount":9}]},"modelVersion":"gemini-2.5-flash","responseId":"mHuv"}"#;

    #[test]
    fn the_fast_path_takes_one_text_part_without_a_finish_reason_only() {
        let chunk = fast::text_chunk(CHUNK, &mut Learner::default()).expect("a text chunk");
        assert_eq!(
            (&*chunk.text, &*chunk.id, &*chunk.model, chunk.choice),
            (" the quick", "mHuv", "gemini-2.5-flash", 0)
        );
        let usage = chunk.usage.expect("usage");
        assert_eq!((usage.prompt, usage.candidates, usage.total, usage.thoughts), (Some(9), Some(8), Some(17), None));
        for other in [
            CHUNK.replace(r#""index":0}"#, r#""index":0,"finishReason":"STOP"}"#),
            CHUNK.replace(r#"{"text":" the quick"}"#, r#"{"text":"hm","thought":true}"#),
            CHUNK.replace(r#"{"text":" the quick"}"#, r#"{"text":"a","thoughtSignature":"c2ln"}"#),
            CHUNK.replace(r#"{"text":" the quick"}"#, r#"{"functionCall":{"name":"f","args":{}}}"#),
            CHUNK.replace(r#"{"text":" the quick"}"#, r#"{"text":"a"},{"text":"b"}"#),
            CHUNK.replace(r#""promptTokenCount":9"#, r#""promptTokenCount":9.5"#),
            CHUNK.replace(r#""promptTokenCount":9"#, r#""promptTokenCount":-9"#),
            CHUNK.replace(r#""index":0"#, r#""index":0,"index":1"#),
            CHUNK.replace(r#""modelVersion""#, r#""promptFeedback":{"blockReason":"SAFETY"},"modelVersion""#),
            CHUNK.replace(r#""modelVersion""#, r#""error":{"code":500},"modelVersion""#),
            format!("{CHUNK} x"),
        ] {
            assert!(fast::text_chunk(&other, &mut Learner::default()).is_none(), "{other}");
        }
    }

    #[test]
    fn learned_chunks_read_their_new_numbers_and_strings() {
        let mut learner = Learner::default();
        assert!(fast::text_chunk(CHUNK, &mut learner).is_some());
        for (n, text) in [(16, " brown fox"), (24, " jumps \\\"over\\\""), (4294967295, "x")] {
            let next = CHUNK
                .replace(r#""candidatesTokenCount":8"#, &format!(r#""candidatesTokenCount":{n}"#))
                .replace(" the quick", text);
            let chunk = fast::text_chunk(&next, &mut learner).expect("a text chunk");
            let want: String = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(chunk.text, want);
            assert_eq!(chunk.usage.expect("usage").candidates, Some(n));
        }
        // A count the fast path does not take is left to the plain path even when the rest is
        // the learned chunk; another candidate's index (compared as bytes) is read whole.
        for other in [
            CHUNK.replace(r#""candidatesTokenCount":8"#, r#""candidatesTokenCount":4294967296"#),
            CHUNK.replace(r#""candidatesTokenCount":8"#, r#""candidatesTokenCount":08"#),
            CHUNK.replace(r#""candidatesTokenCount":8"#, r#""candidatesTokenCount":8.0"#),
            CHUNK.replace(r#""index":0"#, r#""index":1"#),
        ] {
            let read = fast::text_chunk(&other, &mut learner);
            if other.contains("\"index\":1") {
                assert_eq!(read.expect("a chunk of candidate 1").choice, 1);
            } else {
                assert!(read.is_none(), "{other}");
            }
        }
    }
}
