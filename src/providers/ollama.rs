//! Ollama's native chat API (`POST /api/chat`): the OpenAI-shaped conversation translated to
//! Ollama's messages (images as base64, tool-call arguments as objects, settings under
//! `options`), and its NDJSON answer (one JSON object a line, the last with `done: true`) turned
//! into the same events as every protocol.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

use crate::answer::{Assembler, ToolFragment};
use crate::error::{Error, ErrorKind, server_text, undecodable};
use crate::event::Usage;
use crate::request::{ProtocolDefaults, Resolved};
use crate::transport::HttpRequest;

use super::{Decoder, Field, Flow, Framing, JsonHead, Protocol};

pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:11434";
const DEFAULT_PORT: &str = "11434";

/// `"provider": "ollama"`.
#[derive(Debug)]
pub struct Ollama;

impl ProtocolDefaults for Ollama {
    fn name(&self) -> &'static str {
        "ollama"
    }

    fn default_base_url(&self) -> &'static str {
        DEFAULT_BASE_URL
    }

    fn base_url_env(&self) -> Option<&'static str> {
        Some("OLLAMA_HOST")
    }

    /// `OLLAMA_HOST` as ollama reads it: a URL, or `host`, `host:port` or `:port` (http, and
    /// 127.0.0.1 and 11434 where left out).
    fn base_url_from_env(&self, value: &str) -> String {
        let value = value.trim().trim_end_matches('/');
        if value.contains("://") {
            return value.to_string();
        }
        let (host, port) = match value.rsplit_once(':').filter(|(h, _)| !h.ends_with(':') || h.starts_with('[')) {
            Some((host, port)) => (host, port),
            None => (value, ""),
        };
        let host = if host.is_empty() { "127.0.0.1" } else { host };
        let port = if port.is_empty() { DEFAULT_PORT } else { port };
        format!("http://{host}:{port}")
    }

    fn default_model(&self) -> &'static str {
        "llama3.2"
    }

    fn takes(&self) -> &'static [Field] {
        // Not `tool_choice`, `parallel_tool_calls`, `n`, `user`: the native API has no equivalent.
        &[
            Field::presence_penalty,
            Field::frequency_penalty,
            Field::max_tokens,
            Field::tools,
            Field::response_format,
            Field::stop,
            Field::seed,
            Field::reasoning_effort,
            Field::extra_body,
        ]
    }
}

impl Protocol for Ollama {
    fn build_request(&self, r: &Resolved) -> Result<HttpRequest, Error> {
        // Ollama itself takes no key; a gateway in front of it may, as a bearer token.
        const HEAD: JsonHead = JsonHead { stream_type: "application/x-ndjson", ..JsonHead::SSE };
        Ok(HEAD.request(r, format!("{}/api/chat", r.base_url), &body(r)?))
    }

    fn framing(&self, content_type: &str, stream_asked: bool) -> Framing {
        let media = content_type.split(';').next().unwrap_or("").trim();
        match media {
            "application/x-ndjson" | "application/jsonl" => Framing::Ndjson,
            "application/json" => Framing::Json,
            _ if stream_asked => Framing::Ndjson,
            _ => Framing::Json,
        }
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(ChatDecoder::default())
    }

    fn plain_decoder(&self) -> Box<dyn Decoder> {
        Box::new(ChatDecoder { plain: true, ..ChatDecoder::default() })
    }
}

fn invalid(field: &str, why: &str) -> Error {
    Error::invalid_request(format!("invalid request: `{field}` {why} for the ollama provider"))
}

fn body(r: &Resolved) -> Result<Map<String, Value>, Error> {
    let mut body = Map::new();
    body.insert("model".into(), json!(r.model));
    body.insert("messages".into(), Value::Array(messages(r)?));
    body.insert("stream".into(), json!(r.stream));
    let mut options = Map::new();
    for (name, value) in [
        ("temperature", r.fields.temperature),
        ("top_p", r.fields.top_p),
        ("presence_penalty", r.fields.presence_penalty),
        ("frequency_penalty", r.fields.frequency_penalty),
    ] {
        if let Some(v) = value {
            options.insert(name.into(), json!(v));
        }
    }
    if let Some(seed) = r.fields.seed {
        options.insert("seed".into(), json!(seed));
    }
    if let Some(stop) = r.fields.stop.as_ref().map(|s| s.value()) {
        options.insert("stop".into(), if stop.is_string() { json!([stop]) } else { stop });
    }
    if let Some(n) = r.fields.max_tokens {
        options.insert("num_predict".into(), json!(n));
    }
    if !options.is_empty() {
        body.insert("options".into(), Value::Object(options));
    }
    if let Some(tools) = r.fields.tools.as_ref() {
        body.insert("tools".into(), tools.value());
    }
    if let Some(format) = r.fields.response_format.as_ref().map(|f| f.value()) {
        let mapped = match format.get("type").and_then(Value::as_str) {
            Some("json_object") => json!("json"),
            Some("json_schema") => match format.pointer("/json_schema/schema") {
                Some(schema) => schema.clone(),
                None => return Err(invalid("response_format.json_schema.schema", "is required")),
            },
            Some("text") => Value::Null,
            _ => return Err(invalid("response_format", "must be of type text, json_object or json_schema")),
        };
        if !mapped.is_null() {
            body.insert("format".into(), mapped);
        }
    }
    if let Some(effort) = &r.fields.reasoning_effort {
        body.insert("think".into(), json!(effort));
    }
    for (name, value) in r.fields.extra_body.iter().flatten() {
        body.insert(name.clone(), value.clone());
    }
    Ok(body)
}

/// The conversation as Ollama's messages: text content, `images` from base64 `data:` image
/// parts, tool calls with their arguments as objects, tool results with the tool's name.
fn messages(r: &Resolved) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    // Tool results name their tool: found from the call they answer.
    let mut call_names: Vec<(String, String)> = Vec::new();
    for (i, m) in r.messages.iter().enumerate() {
        let raw = m.raw().value();
        let at = |field: &str| format!("messages[{i}].{field}");
        let mut message = json!({"role": m.role()});
        let mut text = String::new();
        let mut images = Vec::new();
        match raw.get("content") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => text.push_str(s),
            Some(Value::Array(parts)) => {
                for (k, part) in parts.iter().enumerate() {
                    match part.get("type").and_then(Value::as_str) {
                        Some("text") => text.push_str(part.get("text").and_then(Value::as_str).unwrap_or("")),
                        Some("image_url") => {
                            let url = part.pointer("/image_url/url").and_then(Value::as_str).unwrap_or("");
                            let data = url.strip_prefix("data:").and_then(|d| d.split_once(";base64,")).map(|(_, b)| b);
                            let Some(data) = data else {
                                return Err(invalid(
                                    &at(&format!("content[{k}].image_url.url")),
                                    "must be a base64 data: URL",
                                ));
                            };
                            images.push(json!(data));
                        }
                        other => {
                            return Err(invalid(
                                &at(&format!("content[{k}]")),
                                &format!("is a {other:?} part, which has no equivalent"),
                            ));
                        }
                    }
                }
            }
            Some(_) => return Err(invalid(&at("content"), "must be a string or an array of content parts")),
        }
        message["content"] = json!(text);
        if !images.is_empty() {
            message["images"] = Value::Array(images);
        }
        if let Some(thinking) = raw.get("reasoning_content").and_then(Value::as_str).filter(|t| !t.is_empty()) {
            message["thinking"] = json!(thinking);
        }
        let mut calls = Vec::new();
        for (k, call) in raw.get("tool_calls").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let name = call.pointer("/function/name").and_then(Value::as_str).unwrap_or("");
            let arguments = match call.pointer("/function/arguments") {
                None | Some(Value::Null) => json!({}),
                Some(Value::String(s)) if s.trim().is_empty() => json!({}),
                Some(Value::String(s)) => serde_json::from_str(s).map_err(|_| {
                    invalid(&at(&format!("tool_calls[{k}].function.arguments")), "must be a JSON object")
                })?,
                Some(other) => other.clone(),
            };
            if let Some(id) = call.get("id").and_then(Value::as_str) {
                call_names.push((id.to_string(), name.to_string()));
            }
            calls.push(json!({"function": {"name": name, "arguments": arguments}}));
        }
        if !calls.is_empty() {
            message["tool_calls"] = Value::Array(calls);
        }
        if m.role() == "tool" {
            let answered = raw.get("tool_call_id").and_then(Value::as_str);
            let name =
                raw.get("name").and_then(Value::as_str).map(str::to_string).or_else(|| {
                    answered.and_then(|id| call_names.iter().find(|(c, _)| c == id).map(|(_, n)| n.clone()))
                });
            if let Some(name) = name {
                message["tool_name"] = json!(name);
            }
        }
        out.push(message);
    }
    Ok(out)
}

/// A unique id for a tool call the server sent without one.
fn new_call_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("call_{:x}{:04x}", nanos as u64, NEXT.fetch_add(1, Ordering::Relaxed) & 0xffff)
}

#[derive(Default)]
struct ChatDecoder {
    /// Tool calls seen so far (each arrives whole): their keys for the assembler.
    calls: u32,
    /// Without the fast path (for the differential fuzz target).
    plain: bool,
    /// The last content line the fast path read whole, to read the next ones by comparison.
    learner: crate::fastjson::Learner<fast::Shape>,
}

/// The fast path for the lines that are nearly all of a stream: `"done": false` (or absent),
/// a message with `content` and `thinking` text only, a `model`. Anything else (tool calls,
/// the last line, an error, a duplicate key, JSON the scanner does not take) gives `None` and
/// the plain path parses the line.
mod fast {
    use crate::fastjson::{JsonStr, Learner, Scanner, Used};

    #[derive(Default)]
    pub(super) struct Line<'a> {
        pub model: Option<JsonStr<'a>>,
        pub content: Option<JsonStr<'a>>,
        pub thinking: Option<JsonStr<'a>>,
    }

    /// Where a learned line's strings were (the k-th used string): `content`, `thinking`
    /// (absent: none). Its `model` is compared as bytes; a line read by comparison gives none,
    /// since the learned line already started the answer (the model only names it once).
    #[derive(Clone, Copy, Default)]
    pub(super) struct Shape {
        content: Option<usize>,
        thinking: Option<usize>,
    }

    /// A content line, read by comparison with the learned line when it is that line with other
    /// strings (a new `created_at` and text), else read whole (and learned, when `learner`
    /// wants it).
    pub(super) fn line<'a>(data: &'a str, learner: &mut Learner<Shape>) -> Option<Line<'a>> {
        let mut used = Used::default();
        if let Some(&learned) = learner.read(data, &mut used) {
            let mut take = |k: Option<usize>| k.and_then(|k| used.take(k));
            return Some(Line { model: None, content: take(learned.content), thinking: take(learned.thinking) });
        }
        let mut s = Scanner::for_value(data);
        learner.watch(&mut s);
        let mut shape = Shape::default();
        let line = parse(&mut s, &mut shape)?;
        learner.learn(&mut s, || shape);
        Some(line)
    }

    fn parse<'a>(s: &mut Scanner<'a>, shape: &mut Shape) -> Option<Line<'a>> {
        let mut line = Line::default();
        let (mut seen_message, mut seen_done) = (false, false);
        s.object(|s, key| match key {
            "model" if line.model.is_none() => {
                line.model = Some(s.string_fixed()?);
                Some(())
            }
            "message" if !seen_message => {
                seen_message = true;
                message(s, &mut line, shape)
            }
            "done" if !seen_done => {
                seen_done = true;
                s.literal_false()
            }
            "model" | "message" | "done" | "error" => None,
            _ => s.skip(),
        })?;
        s.at_end().then_some(line)
    }

    fn message<'a>(s: &mut Scanner<'a>, line: &mut Line<'a>, shape: &mut Shape) -> Option<()> {
        s.object(|s, key| match key {
            "content" if line.content.is_none() => {
                shape.content = Some(s.used_so_far());
                line.content = Some(s.string()?);
                Some(())
            }
            "thinking" if line.thinking.is_none() => {
                shape.thinking = Some(s.used_so_far());
                line.thinking = Some(s.string()?);
                Some(())
            }
            "content" | "thinking" | "tool_calls" => None,
            _ => s.skip(),
        })
    }
}

impl ChatDecoder {
    /// One object of the answer; `Done` at the one with `done: true`.
    fn object(&mut self, v: &Value, out: &mut Assembler<'_>) -> Result<Flow, Error> {
        if let Some(error) = v.get("error").filter(|e| !e.is_null()) {
            let text = error.as_str().map_or_else(|| error.to_string(), str::to_string);
            return Err(Error::new(ErrorKind::Server, format!("the server reported an error: {}", server_text(&text))));
        }
        out.start("", v.get("model").and_then(Value::as_str).unwrap_or(""))?;
        let message = v.get("message").unwrap_or(&Value::Null);
        out.reasoning(0, message.get("thinking").and_then(Value::as_str).unwrap_or(""))?;
        out.text(0, message.get("content").and_then(Value::as_str).unwrap_or(""))?;
        for call in message.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
            let id = call.get("id").and_then(Value::as_str).map_or_else(new_call_id, str::to_string);
            let arguments = match call.pointer("/function/arguments") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => "{}".to_string(),
            };
            let fragment = ToolFragment {
                key: self.calls,
                id: Some(&id),
                name: call.pointer("/function/name").and_then(Value::as_str),
                arguments: Some(&arguments),
            };
            out.tool_call(0, fragment)?;
            self.calls += 1;
        }
        if v.get("done").and_then(Value::as_bool) != Some(true) {
            return Ok(Flow::More);
        }
        let raw = v.get("done_reason").and_then(Value::as_str).unwrap_or("stop");
        // Ollama says "stop" after tool calls too: the caller wants to know to run them.
        let reason = if self.calls > 0 { "tool_calls" } else { raw };
        out.finish(0, reason, raw)?;
        let prompt = v.get("prompt_eval_count").and_then(Value::as_i64);
        let completion = v.get("eval_count").and_then(Value::as_i64);
        out.usage(Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt.zip(completion).map(|(p, c)| p + c),
            cached_tokens: None,
            reasoning_tokens: None,
        });
        Ok(Flow::Done)
    }
}

fn parse(text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| undecodable("an answer line is not JSON", &e, text))
}

impl Decoder for ChatDecoder {
    fn frame(&mut self, _event: &str, line: &str, out: &mut Assembler<'_>) -> Result<Flow, Error> {
        if !self.plain {
            if let Some(fast) = fast::line(line, &mut self.learner) {
                out.start("", fast.model.as_deref().unwrap_or(""))?;
                out.reasoning(0, fast.thinking.as_deref().unwrap_or(""))?;
                out.text(0, fast.content.as_deref().unwrap_or(""))?;
                return Ok(Flow::More);
            }
        }
        self.object(&parse(line)?, out)
    }

    fn body(&mut self, body: &[u8], out: &mut Assembler<'_>) -> Result<(), Error> {
        let text = String::from_utf8_lossy(body);
        // One object (`stream: false`), or a stream a server sent as plain JSON lines.
        let mut done = false;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            done = self.object(&parse(line)?, out)? == Flow::Done;
            if done {
                break;
            }
        }
        if done { Ok(()) } else { Err(Error::protocol("the answer ended before `\"done\": true` (truncated)")) }
    }

    fn end_marker(&self) -> &'static str {
        "`\"done\": true`"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_host_is_read_as_ollama_reads_it() {
        for (value, url) in [
            ("127.0.0.1:11434", "http://127.0.0.1:11434"),
            ("0.0.0.0", "http://0.0.0.0:11434"),
            (":8080", "http://127.0.0.1:8080"),
            ("gpu-box", "http://gpu-box:11434"),
            ("https://ollama.example/", "https://ollama.example"),
            ("[::1]:9000", "http://[::1]:9000"),
        ] {
            assert_eq!(Ollama.base_url_from_env(value), url, "{value}");
        }
    }
}
