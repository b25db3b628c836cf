//! `"provider": "bedrock"`: Amazon Bedrock's Converse API (`POST
//! {base_url}/model/{model}/converse-stream`, `/converse` without a stream), signed with AWS
//! Signature Version 4 or sent with a Bedrock API key as a bearer token.
//!
//! The conversation is translated from the one schema (OpenAI's messages and tools) to Converse's
//! `system`, `messages` of content blocks (`text`, `image`, `toolUse`, `toolResult`,
//! `reasoningContent`), `toolConfig` and `inferenceConfig`. The stream is AWS's binary
//! event-stream (src/eventstream.rs), not SSE: each message's `:event-type` names its JSON
//! payload, and `exception` messages report failures. `messageStop` comes before `metadata`
//! (the usage), so the stream is read to its end; one that ends before `messageStop` is
//! truncated.
//!
//! Credentials, region and the default base URL come from the client's captured AWS environment
//! (src/aws.rs): `api_key` or `AWS_BEARER_TOKEN_BEDROCK` first, then SigV4 keys from the
//! environment or the shared files. A signed request is signed again for each attempt
//! (`transport::Sign`), so a retry never carries a stale `X-Amz-Date`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::answer::{Assembler, ToolFragment};
use crate::error::{Error, ErrorKind, server_text, undecodable};
use crate::event::Usage;
use crate::request::{ProtocolDefaults, Resolved};
use crate::sigv4::{self, Credentials};
use crate::transport::{HttpRequest, Sign, Signer};

use super::{Decoder, Field, Flow, Framing, JsonHead, Protocol};

/// `{region}` is the resolved region (`region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's).
pub const DEFAULT_BASE_URL: &str = "https://bedrock-runtime.{region}.amazonaws.com";
/// The service name SigV4 signs for.
const SERVICE: &str = "bedrock";
/// The media type of the event stream (also what a streamed call accepts).
const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// What a tool result with no text is sent as.
const EMPTY_RESULT: &str = "(no output)";

/// `"provider": "bedrock"`.
#[derive(Debug)]
pub struct Bedrock;

impl ProtocolDefaults for Bedrock {
    fn name(&self) -> &'static str {
        "bedrock"
    }

    fn default_base_url(&self) -> &'static str {
        DEFAULT_BASE_URL
    }

    /// A Bedrock API key (the console's "long-term" or "short-term" key), sent as a bearer token.
    fn api_key_env(&self) -> Option<&'static str> {
        Some("AWS_BEARER_TOKEN_BEDROCK")
    }

    fn env_vars(&self) -> &'static [&'static str] {
        crate::aws::VARIABLES
    }

    fn default_model(&self) -> &'static str {
        // Invoked on demand (no inference profile needed) in us-east-1 and other regions.
        "amazon.nova-lite-v1:0"
    }

    fn takes(&self) -> &'static [Field] {
        // Not `n`, `seed`, `presence_penalty`, `frequency_penalty`, `parallel_tool_calls`, `user`,
        // `response_format`, `reasoning_effort`: Converse has no field for them (a model's own
        // fields go in `extra_body`'s `additionalModelRequestFields`).
        &[Field::max_tokens, Field::tools, Field::tool_choice, Field::stop, Field::region, Field::extra_body]
    }
}

impl Protocol for Bedrock {
    fn build_request(&self, r: &Resolved) -> Result<HttpRequest, Error> {
        // An API key is sent as a bearer token; without one, each attempt is signed (SigV4).
        const HEAD: JsonHead = JsonHead { stream_type: EVENT_STREAM, ..JsonHead::SSE };
        let signer = if r.api_key.is_some() { None } else { Some(signer(r)?) };
        let action = if r.stream { "converse-stream" } else { "converse" };
        if r.model.is_empty() {
            return Err(invalid("model", "is empty"));
        }
        let url = format!("{}/model/{}/{action}", r.base_url, sigv4::encode_path_segment(&r.model));
        let mut request = HEAD.request(r, url, &body(r)?);
        request.signer = signer;
        Ok(request)
    }

    fn framing(&self, content_type: &str, stream_asked: bool) -> Framing {
        let media = content_type.split(';').next().unwrap_or("").trim();
        match media {
            EVENT_STREAM => Framing::EventStream,
            "application/json" => Framing::Json,
            _ if stream_asked => Framing::EventStream,
            _ => Framing::Json,
        }
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(ConverseDecoder::default())
    }

    fn decoder_for(&self, r: &Resolved) -> Box<dyn Decoder> {
        Box::new(ConverseDecoder { model: r.model.clone(), ..ConverseDecoder::default() })
    }

    fn plain_decoder(&self) -> Box<dyn Decoder> {
        Box::new(ConverseDecoder { plain: true, ..ConverseDecoder::default() })
    }
}

fn invalid(field: &str, why: &str) -> Error {
    Error::invalid_request(format!("invalid request: `{field}` {why} for the bedrock provider"))
}

/// Signs each attempt with the client's AWS credentials.
struct SigV4 {
    credentials: Credentials,
    region: String,
}

impl Sign for SigV4 {
    fn sign(&self, request: &mut HttpRequest, now: SystemTime) -> Result<(), Error> {
        sigv4::sign(request, &self.credentials, &self.region, SERVICE, now)
    }
}

/// The SigV4 signer for a call without `api_key`: the client's AWS credentials, in the region.
fn signer(r: &Resolved) -> Result<Signer, Error> {
    let credentials = r.aws.credentials().ok_or_else(|| missing_credentials(r.aws.credentials_problem()))?;
    let region = r.fields.region.as_deref().ok_or_else(|| crate::request::no_region("bedrock"))?;
    Ok(Signer(Arc::new(SigV4 { credentials: credentials.clone(), region: region.to_string() })))
}

fn missing_credentials(problem: Option<&str>) -> Error {
    let why = problem.map(|p| format!(" ({p})")).unwrap_or_default();
    Error::invalid_request(format!(
        "invalid request: the bedrock provider has no credentials{why}: set `api_key` or \
         AWS_BEARER_TOKEN_BEDROCK (a Bedrock API key), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
         or a profile in the shared credentials file"
    ))
}

/// The request body: the conversation, tools, `inferenceConfig`, `extra_body` on top.
fn body(r: &Resolved) -> Result<Map<String, Value>, Error> {
    let (system, messages) = conversation(r)?;
    let tool_config = tool_config(r, &messages)?;
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(messages));
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    let mut config = Map::new();
    if let Some(n) = r.fields.max_tokens {
        config.insert("maxTokens".into(), json!(n));
    }
    if let Some(t) = r.fields.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(p) = r.fields.top_p {
        config.insert("topP".into(), json!(p));
    }
    if let Some(stop) = r.fields.stop.as_ref().map(|s| s.value()) {
        config.insert("stopSequences".into(), if stop.is_string() { json!([stop]) } else { stop });
    }
    if !config.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(config));
    }
    if let Some(tool_config) = tool_config {
        body.insert("toolConfig".into(), tool_config);
    }
    for (name, value) in r.fields.extra_body.iter().flatten() {
        body.insert(name.clone(), value.clone());
    }
    Ok(body)
}

/// `tools` and `tool_choice` as `toolConfig`.
///
/// Converse refuses a conversation that holds `toolUse` or `toolResult` blocks without a
/// `toolConfig` ("The toolConfig field must be defined when using toolUse and toolResult content
/// blocks"), which an agent's last turn without `tools` (to force a final answer) or a summary
/// of a tool-using conversation meets. Such a request gets a `toolConfig` declaring the tools
/// the conversation used, by name, with an open schema, as other clients do.
fn tool_config(r: &Resolved, messages: &[Value]) -> Result<Option<Value>, Error> {
    let Some(tools) = r.fields.tools.as_ref().map(|t| t.value()) else {
        if r.fields.tool_choice.is_some() {
            return Err(invalid("tool_choice", "needs `tools`"));
        }
        let mut used: Vec<&str> = Vec::new();
        for block in messages.iter().filter_map(|m| m["content"].as_array()).flatten() {
            if let Some(name) = block.pointer("/toolUse/name").and_then(Value::as_str) {
                if !used.contains(&name) {
                    used.push(name);
                }
            }
        }
        let has_results =
            messages.iter().filter_map(|m| m["content"].as_array()).flatten().any(|b| b.get("toolResult").is_some());
        if used.is_empty() && !has_results {
            return Ok(None);
        }
        let specs: Vec<Value> = used
            .iter()
            .map(|name| json!({"toolSpec": {"name": name, "inputSchema": {"json": {"type": "object"}}}}))
            .collect();
        return Ok(Some(json!({"tools": specs})));
    };
    let mut specs = Vec::new();
    for (k, tool) in tools.as_array().into_iter().flatten().enumerate() {
        let function = tool.get("function").filter(|_| tool.get("type").and_then(Value::as_str) == Some("function"));
        let Some(name) = function.and_then(|f| f.get("name")).and_then(Value::as_str) else {
            return Err(invalid(&format!("tools[{k}]"), "must be a function tool with a name"));
        };
        let schema = function.and_then(|f| f.get("parameters")).cloned().unwrap_or_else(|| json!({"type": "object"}));
        let mut spec = json!({"name": name, "inputSchema": {"json": schema}});
        if let Some(d) = function.and_then(|f| f.get("description")).and_then(Value::as_str).filter(|d| !d.is_empty()) {
            spec["description"] = json!(d);
        }
        specs.push(json!({"toolSpec": spec}));
    }
    let mut config = json!({"tools": specs});
    match r.fields.tool_choice.as_ref().map(|c| c.value()) {
        None => {}
        Some(Value::String(s)) => match s.as_str() {
            "auto" => config["toolChoice"] = json!({"auto": {}}),
            "required" => config["toolChoice"] = json!({"any": {}}),
            // Converse has no way to offer tools and forbid their use.
            other => {
                return Err(invalid(
                    "tool_choice",
                    &format!("is {other:?}, which Converse cannot express; use auto, required or a function"),
                ));
            }
        },
        Some(object) => match object.pointer("/function/name").and_then(Value::as_str) {
            Some(name) => config["toolChoice"] = json!({"tool": {"name": name}}),
            None => return Err(invalid("tool_choice", "must name a function")),
        },
    }
    Ok(Some(config))
}

/// The `system` blocks and the messages. Tool results become `toolResult` blocks of a user turn;
/// turns of one role in a row are joined into one (Converse wants them to alternate); an
/// assistant's reasoning (with its signature), text and tool calls become `reasoningContent`,
/// `text` and `toolUse` blocks. Blank text is left out: Converse refuses a blank text block.
fn conversation(r: &Resolved) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let mut system = Vec::new();
    let mut out: Vec<Value> = Vec::new();
    for (i, m) in r.messages.iter().enumerate() {
        let raw = m.raw().value();
        let at = |field: &str| format!("messages[{i}].{field}");
        match m.role() {
            "system" | "developer" => {
                for block in blocks_of(&raw, &at("content"))? {
                    if block.get("text").is_none() {
                        return Err(invalid(&at("content"), "may only hold text in a system message"));
                    }
                    system.push(block);
                }
            }
            "user" => push_turn(&mut out, "user", blocks_of(&raw, &at("content"))?),
            "tool" => {
                let id =
                    raw.get("tool_call_id").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| {
                        invalid(&at("tool_call_id"), "must be the id of the tool call this message answers")
                    })?;
                let text: String = blocks_of_all(&raw, &at("content"))?
                    .iter()
                    .filter_map(|b| b.get("text").and_then(Value::as_str))
                    .collect();
                // A JSON object goes as one (models read it as such), anything else as text
                // (a `json` block must hold an object). A blank result is said in words:
                // Converse refuses a blank text block, and a tool that returns nothing is common.
                let content = match serde_json::from_str::<Value>(&text) {
                    Ok(object @ Value::Object(_)) => json!([{"json": object}]),
                    _ if text.trim().is_empty() => json!([{"text": EMPTY_RESULT}]),
                    _ => json!([{"text": text}]),
                };
                push_turn(&mut out, "user", vec![json!({"toolResult": {"toolUseId": id, "content": content}})]);
            }
            "assistant" => {
                let mut blocks = Vec::new();
                // The reasoning blocks a bedrock MESSAGE kept go back as received, each with its
                // signature or its encrypted bytes; else the reasoning text and its signature.
                let kept: Vec<&Value> = raw
                    .get("reasoning_items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|item| item.get("reasoningContent").is_some_and(Value::is_object))
                    .collect();
                let reasoning = raw.get("reasoning_content").and_then(Value::as_str).unwrap_or("");
                if !kept.is_empty() {
                    blocks.extend(kept.into_iter().cloned());
                } else if !reasoning.is_empty() {
                    let mut text = json!({"text": reasoning});
                    if let Some(signature) = raw.get("reasoning_signature").and_then(Value::as_str) {
                        text["signature"] = json!(signature);
                    }
                    blocks.push(json!({"reasoningContent": {"reasoningText": text}}));
                }
                blocks.extend(blocks_of(&raw, &at("content"))?);
                for (k, call) in raw.get("tool_calls").and_then(Value::as_array).into_iter().flatten().enumerate() {
                    let field = at(&format!("tool_calls[{k}]"));
                    let name = call.pointer("/function/name").and_then(Value::as_str).filter(|s| !s.is_empty());
                    let id = call.get("id").and_then(Value::as_str).filter(|s| !s.is_empty());
                    let (Some(id), Some(name)) = (id, name) else {
                        return Err(invalid(&field, "needs an `id` and a `function.name`"));
                    };
                    let input = match call.pointer("/function/arguments") {
                        None | Some(Value::Null) => json!({}),
                        Some(Value::String(s)) if s.trim().is_empty() => json!({}),
                        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
                            .ok()
                            .filter(Value::is_object)
                            .ok_or_else(|| invalid(&format!("{field}.function.arguments"), "must be a JSON object"))?,
                        Some(other) => other.clone(),
                    };
                    blocks.push(json!({"toolUse": {"toolUseId": id, "name": name, "input": input}}));
                }
                push_turn(&mut out, "assistant", blocks);
            }
            other => return Err(invalid(&at("role"), &format!("is {other:?}, which has no equivalent"))),
        }
    }
    Ok((system, out))
}

/// Appends `blocks` as a turn of `role`, joined to the previous turn when it has the same role.
/// A turn with no block is left out.
fn push_turn(out: &mut Vec<Value>, role: &str, blocks: Vec<Value>) {
    if blocks.is_empty() {
        return;
    }
    if let Some(content) = out.last_mut().filter(|m| m["role"] == role).and_then(|m| m["content"].as_array_mut()) {
        content.extend(blocks);
        return;
    }
    out.push(json!({"role": role, "content": blocks}));
}

/// A message's `content` as Converse blocks, blank text left out.
fn blocks_of(raw: &Value, field: &str) -> Result<Vec<Value>, Error> {
    let mut blocks = blocks_of_all(raw, field)?;
    blocks.retain(|b| b.get("text").and_then(Value::as_str).is_none_or(|t| !t.trim().is_empty()));
    Ok(blocks)
}

/// A message's `content` as Converse blocks: text, and images from base64 `data:` URLs (the
/// API fetches no URL; an S3 location can go through `extra_body`).
fn blocks_of_all(raw: &Value, field: &str) -> Result<Vec<Value>, Error> {
    match raw.get("content") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![json!({"text": s})]),
        Some(Value::Array(parts)) => {
            let mut blocks = Vec::new();
            for (k, part) in parts.iter().enumerate() {
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => match part.get("text").and_then(Value::as_str) {
                        Some(t) => blocks.push(json!({"text": t})),
                        None => return Err(invalid(&format!("{field}[{k}].text"), "must be a string")),
                    },
                    Some("image_url") => {
                        let url = part.pointer("/image_url/url").and_then(Value::as_str).unwrap_or("");
                        blocks.push(image_block(url).ok_or_else(|| {
                            invalid(
                                &format!("{field}[{k}].image_url.url"),
                                "must be a base64 data: URL of a png, jpeg, gif or webp image",
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

/// A `data:image/...;base64,` URL as an `image` block (its bytes stay base64, as JSON carries them).
fn image_block(url: &str) -> Option<Value> {
    let (media_type, data) = url.strip_prefix("data:")?.split_once(";base64,")?;
    let format = match media_type.to_ascii_lowercase().as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => return None,
    };
    Some(json!({"image": {"format": format, "source": {"bytes": data}}}))
}

/// Converse's stop reasons in OpenAI's words; others are passed on as they are.
fn finish_reason(raw: &str) -> &str {
    match raw {
        "end_turn" | "stop_sequence" => "stop",
        "tool_use" => "tool_calls",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        other => other,
    }
}

/// The exceptions that stand for a throttled or failing service (429 or 5xx): retried, while
/// nothing of the answer was delivered, as those statuses are.
fn transient(exception: &str) -> bool {
    let lower = exception.to_ascii_lowercase();
    matches!(
        lower.trim_end_matches("exception"),
        "throttling" | "serviceunavailable" | "internalserver" | "modelnotready" | "modelstreamerror"
    )
}

fn count(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// `usage` as the library counts it: cached input counts as input, as OpenAI's does.
fn usage_of(usage: &Value) -> Usage {
    let input = count(usage, "inputTokens");
    let read = count(usage, "cacheReadInputTokens");
    let written = count(usage, "cacheWriteInputTokens");
    let prompt = (input.is_some() || read.is_some() || written.is_some())
        .then(|| input.unwrap_or(0) + read.unwrap_or(0) + written.unwrap_or(0));
    let completion = count(usage, "outputTokens");
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt.zip(completion).map(|(p, c)| p + c),
        cached_tokens: read,
        reasoning_tokens: None,
    }
}

/// A `contentBlockDelta`, the event nearly every message of a stream is, read without building
/// a `Value` (the padding field `p` and any other is skipped).
#[derive(Deserialize)]
struct BlockDelta<'a> {
    #[serde(rename = "contentBlockIndex", default)]
    index: u32,
    #[serde(borrow, default)]
    delta: Option<DeltaBody<'a>>,
}

#[derive(Deserialize, Default)]
struct DeltaBody<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(rename = "reasoningContent", borrow, default)]
    reasoning: Option<ReasoningDelta<'a>>,
    #[serde(rename = "toolUse", borrow, default)]
    tool_use: Option<ToolUseDelta<'a>>,
}

#[derive(Deserialize, Default)]
struct ReasoningDelta<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    signature: Option<Cow<'a, str>>,
    /// Encrypted reasoning (base64 in JSON), sent back as it came.
    #[serde(rename = "redactedContent", borrow, default)]
    redacted: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct ToolUseDelta<'a> {
    #[serde(borrow, default)]
    input: Option<Cow<'a, str>>,
}

/// Reads the event-stream messages, or a whole `/converse` answer.
#[derive(Default)]
struct ConverseDecoder {
    /// The requested model: RESPONSE's (Converse does not say which model answered).
    model: String,
    /// Per content block index: whether it is a tool call that got argument text yet.
    tool_blocks: HashMap<u32, bool>,
    /// `messageStop` arrived: the stream may end (after `metadata`).
    stopped: bool,
    /// The last error was a transient exception (retried if nothing was delivered).
    transient: bool,
    /// The reasoning blocks not yet closed, by content block index: MESSAGE keeps each one
    /// whole (`reasoning_items`) to send it back as it came.
    reasoning: std::collections::BTreeMap<u32, ReasoningBlock>,
    /// Without the fast path (for the differential fuzz target).
    plain: bool,
    /// The last text delta the fast path read whole, to read the next ones by comparison.
    learner: crate::fastjson::Learner<()>,
}

/// One reasoning block as it arrives: its text and signature, or its encrypted bytes.
#[derive(Default)]
struct ReasoningBlock {
    text: String,
    signature: String,
    redacted: Vec<u8>,
}

impl ReasoningBlock {
    /// The block as Converse takes it back.
    fn to_json(&self) -> String {
        use base64::Engine as _;
        let block = if self.redacted.is_empty() {
            json!({"reasoningContent": {"reasoningText": {"text": self.text, "signature": self.signature}}})
        } else {
            let bytes = base64::engine::general_purpose::STANDARD.encode(&self.redacted);
            json!({"reasoningContent": {"redactedContent": bytes}})
        };
        block.to_string()
    }
}

impl ConverseDecoder {
    fn start(&self, out: &mut Assembler<'_>) -> Result<(), Error> {
        out.start("", &self.model)
    }

    fn tool_start(&mut self, index: u32, tool: &Value, out: &mut Assembler<'_>) -> Result<(), Error> {
        let text = |k: &str| tool.get(k).and_then(Value::as_str);
        out.tool_call(0, ToolFragment { key: index, id: text("toolUseId"), name: text("name"), arguments: None })?;
        self.tool_blocks.insert(index, false);
        Ok(())
    }

    fn arguments(&mut self, index: u32, text: &str, out: &mut Assembler<'_>) -> Result<(), Error> {
        if text.is_empty() {
            return Ok(());
        }
        if let Some(got) = self.tool_blocks.get_mut(&index) {
            *got = true;
        }
        out.tool_call(0, ToolFragment { key: index, arguments: Some(text), ..ToolFragment::default() })
    }

    /// A tool call that got no argument text takes no arguments: `{}`, as OpenAI sends it. A
    /// reasoning block is kept whole for MESSAGE.
    fn block_stop(&mut self, index: u32, out: &mut Assembler<'_>) -> Result<(), Error> {
        if self.tool_blocks.get(&index) == Some(&false) {
            self.arguments(index, "{}", out)?;
        }
        if let Some(block) = self.reasoning.remove(&index) {
            out.message_item(0, &block.to_json())?;
        }
        Ok(())
    }

    /// The reasoning blocks whose stop did not come, kept in their order.
    fn close_reasoning(&mut self, out: &mut Assembler<'_>) -> Result<(), Error> {
        for block in std::mem::take(&mut self.reasoning).into_values() {
            out.message_item(0, &block.to_json())?;
        }
        Ok(())
    }

    fn delta(&mut self, data: &str, out: &mut Assembler<'_>) -> Result<(), Error> {
        let d: BlockDelta<'_> =
            serde_json::from_str(data).map_err(|e| undecodable("a contentBlockDelta is not Converse's", &e, data))?;
        let Some(delta) = d.delta else { return Ok(()) };
        if let Some(text) = &delta.text {
            out.text(0, text)?;
        }
        if let Some(reasoning) = &delta.reasoning {
            let text = reasoning.text.as_deref().unwrap_or("");
            let signature = reasoning.signature.as_deref().unwrap_or("");
            out.reasoning(0, text)?;
            out.reasoning_signature(0, signature)?;
            let block = self.reasoning.entry(d.index).or_default();
            block.text.push_str(text);
            block.signature.push_str(signature);
            if let Some(redacted) = reasoning.redacted.as_deref() {
                use base64::Engine as _;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(redacted)
                    .map_err(|_| Error::protocol("a reasoning block's `redactedContent` is not base64"))?;
                block.redacted.extend_from_slice(&bytes);
            }
        }
        if let Some(input) = delta.tool_use.as_ref().and_then(|t| t.input.as_deref()) {
            self.arguments(d.index, input, out)?;
        }
        Ok(())
    }

    fn exception(&mut self, kind: &str, data: &str) -> Error {
        self.transient = transient(kind);
        let message = serde_json::from_str::<Value>(data)
            .ok()
            .and_then(|v| v.get("message").or_else(|| v.get("Message")).and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| data.to_string());
        Error::new(
            ErrorKind::Server,
            format!("the server reported an exception mid-stream: {}", server_text(&format!("{kind}: {message}"))),
        )
    }
}

impl Decoder for ConverseDecoder {
    fn frame(&mut self, event: &str, data: &str, out: &mut Assembler<'_>) -> Result<Flow, Error> {
        if event == "contentBlockDelta" {
            self.start(out)?;
            if !self.plain {
                if let Some(text) = fast::text_delta(data, &mut self.learner) {
                    out.text(0, &text)?;
                    return Ok(Flow::More);
                }
            }
            self.delta(data, out)?;
            return Ok(Flow::More);
        }
        if let Some(kind) = event.strip_prefix(super::EXCEPTION_PREFIX) {
            return Err(self.exception(kind, data));
        }
        if let Some(code) = event.strip_prefix(super::ERROR_PREFIX) {
            return Err(Error::new(
                ErrorKind::Server,
                format!("the server reported an error mid-stream: {}", server_text(&format!("{code}: {data}"))),
            ));
        }
        let v: Value =
            serde_json::from_str(data).map_err(|e| undecodable("a stream event is not Converse's", &e, data))?;
        let index = v.get("contentBlockIndex").and_then(Value::as_u64).unwrap_or(0) as u32;
        match event {
            "messageStart" => self.start(out)?,
            "contentBlockStart" => {
                self.start(out)?;
                if let Some(tool) = v.pointer("/start/toolUse") {
                    self.tool_start(index, tool, out)?;
                }
            }
            "contentBlockStop" => self.block_stop(index, out)?,
            "messageStop" => {
                self.start(out)?;
                self.close_reasoning(out)?;
                self.stopped = true;
                if let Some(raw) = v.get("stopReason").and_then(Value::as_str) {
                    out.finish(0, finish_reason(raw), raw)?;
                }
            }
            "metadata" => {
                if let Some(usage) = v.get("usage").filter(|u| u.is_object()) {
                    out.usage(usage_of(usage));
                }
            }
            _ => {} // event types added later
        }
        Ok(Flow::More)
    }

    fn body(&mut self, body: &[u8], out: &mut Assembler<'_>) -> Result<(), Error> {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| undecodable("the answer is not JSON", &e, &String::from_utf8_lossy(body)))?;
        let Some(blocks) = v.pointer("/output/message/content").and_then(Value::as_array) else {
            return Err(Error::protocol("the answer has no `output.message.content` array"));
        };
        self.start(out)?;
        for (index, block) in blocks.iter().enumerate() {
            let index = index as u32;
            if let Some(text) = block.get("text").and_then(Value::as_str) {
                out.text(0, text)?;
            } else if let Some(reasoning) = block.get("reasoningContent").filter(|r| r.is_object()) {
                let text = |k: &str| reasoning.pointer(k).and_then(Value::as_str).unwrap_or("");
                out.reasoning(0, text("/reasoningText/text"))?;
                out.reasoning_signature(0, text("/reasoningText/signature"))?;
                out.message_item(0, &block.to_string())?;
            } else if let Some(tool) = block.get("toolUse") {
                self.tool_start(index, tool, out)?;
                let input =
                    tool.get("input").filter(|i| !i.is_null()).map_or_else(|| "{}".to_string(), Value::to_string);
                self.arguments(index, &input, out)?;
            }
        }
        if let Some(raw) = v.get("stopReason").and_then(Value::as_str) {
            out.finish(0, finish_reason(raw), raw)?;
        }
        if let Some(usage) = v.get("usage").filter(|u| u.is_object()) {
            out.usage(usage_of(usage));
        }
        Ok(())
    }

    fn end_marker(&self) -> &'static str {
        "`messageStop`"
    }

    fn may_end(&self) -> bool {
        self.stopped
    }

    fn retryable(&self) -> bool {
        self.transient
    }
}

/// The fast path for the text `contentBlockDelta`, the event nearly every message of a stream is:
/// `{"contentBlockIndex":N,"delta":{"text":"..."},"p":"..."}`, its `p` padding (random in length
/// and content, as every payload's) and any other unknown field skipped. The first such event is
/// scanned and learned; the next ones, the same bytes but for their text and padding, are read by
/// comparison (`fastjson::Template`). A delta of reasoning or a tool call, a repeated field,
/// anything the scanner does not take is left to the plain path (`ConverseDecoder::delta`), which
/// reads it the same.
mod fast {
    use crate::fastjson::{JsonStr, Learner, Scanner, Used};

    /// The text of a text delta; `None`: not one, or not read here.
    pub(super) fn text_delta<'a>(data: &'a str, learner: &mut Learner<()>) -> Option<JsonStr<'a>> {
        let mut used = Used::default();
        if learner.read(data, &mut used).is_some() {
            if let Some(text) = used.take(0) {
                return Some(text);
            }
        }
        // The plain path skips unknown fields (serde's `IgnoredAny`) and reads the index and the
        // text as typed fields, refusing a repeated one.
        let mut s = Scanner::new(data);
        learner.watch(&mut s);
        let (mut index, mut text) = (false, None);
        s.object(|s, key| match key {
            "contentBlockIndex" if !index => {
                index = true;
                s.u32().map(|_| ())
            }
            "delta" if text.is_none() => {
                text = Some(delta_text(s)?);
                Some(())
            }
            "contentBlockIndex" | "delta" => None,
            _ => s.skip(),
        })?;
        if !s.at_end() {
            return None;
        }
        let text = text?;
        learner.learn(&mut s, || ());
        Some(text)
    }

    /// A `delta` object holding `text` and nothing the plain path reads besides.
    fn delta_text<'a>(s: &mut Scanner<'a>) -> Option<JsonStr<'a>> {
        let mut text = None;
        s.object(|s, key| match key {
            "text" if text.is_none() => {
                text = Some(s.string()?);
                Some(())
            }
            "text" | "reasoningContent" | "toolUse" => None,
            _ => s.skip(),
        })?;
        text
    }
}

#[cfg(test)]
mod tests_support {
    use super::*;
    use crate::answer::Sink;
    use crate::env::Env;
    use crate::event::Event;
    use crate::request::{Request, Settings, protocol_named};
    use std::time::Instant;

    pub(super) fn resolve(json: &str, env: &[(&'static str, &str)]) -> Result<Resolved, Error> {
        let env = Env::from_pairs(env.iter().map(|(k, v)| (*k, v.to_string())));
        let protocol = protocol_named(Some("bedrock"), super::super::REGISTRY, "request").unwrap();
        Resolved::with_env(Request::from_json(json)?, &Settings::default(), &env, protocol, Instant::now())
    }

    pub(super) const KEYS: [(&str, &str); 3] =
        [("AWS_ACCESS_KEY_ID", "AKIDTEST"), ("AWS_SECRET_ACCESS_KEY", "secret/KEY"), ("AWS_REGION", "eu-west-3")];

    pub(super) fn request(json: &str) -> HttpRequest {
        Bedrock.build_request(&resolve(json, &KEYS).unwrap()).unwrap()
    }

    pub(super) fn body_of(json: &str) -> Value {
        serde_json::from_slice(&request(json).body).unwrap()
    }

    /// The events a decoder (for the model `m1`) gives for what `feed` hands it, the answer
    /// ended; and whether its stream could end there.
    pub(super) fn decoded(
        feed: impl FnOnce(&mut ConverseDecoder, &mut Assembler<'_>) -> Result<(), Error>,
    ) -> Result<(Vec<Event<'static>>, bool), Error> {
        let mut events = Vec::new();
        let mut sink = |e: &Event<'_>| {
            events.push(e.clone().into_owned());
            true
        };
        let mut out = Assembler::new(Sink::Events(&mut sink));
        let mut decoder = ConverseDecoder { model: "m1".into(), ..ConverseDecoder::default() };
        feed(&mut decoder, &mut out)?;
        let may_end = decoder.may_end();
        out.end()?;
        drop(out);
        Ok((events, may_end))
    }

    /// MESSAGE's JSON: the last event.
    pub(super) fn message(events: &[Event<'_>]) -> Value {
        let Some(Event::Message { json, .. }) = events.last() else { panic!("MESSAGE last: {events:?}") };
        serde_json::from_str(json).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::*;
    use super::*;
    use crate::answer::Sink;
    use crate::error::ErrorKind;
    use crate::event::Event;

    fn error_of(json: &str, env: &[(&'static str, &str)]) -> String {
        match resolve(json, env).and_then(|r| Bedrock.build_request(&r)) {
            Ok(_) => panic!("{json} was accepted"),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::InvalidRequest);
                e.message().to_string()
            }
        }
    }

    const HI: &str = r#"{"messages":[{"role":"user","content":"hi"}]"#;

    #[test]
    fn the_url_has_the_region_and_the_model_encoded_as_botocore_does() {
        let arn =
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0";
        let r = request(&format!(r#"{HI},"model":"{arn}","stream":true}}"#));
        assert_eq!(
            r.url,
            "https://bedrock-runtime.eu-west-3.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream"
        );
        assert!(r.signer.is_some(), "signed: no api_key");
        let whole = request(&format!(r#"{HI},"region":"us-west-2"}}"#));
        assert_eq!(whole.url, "https://bedrock-runtime.us-west-2.amazonaws.com/model/amazon.nova-lite-v1%3A0/converse");
    }

    #[test]
    fn the_region_is_the_setting_else_the_environment_else_an_error() {
        let env = [("AWS_ACCESS_KEY_ID", "A"), ("AWS_SECRET_ACCESS_KEY", "S"), ("AWS_DEFAULT_REGION", "ap-south-1")];
        assert_eq!(resolve(&format!("{HI}}}"), &env).unwrap().fields.region.as_deref(), Some("ap-south-1"));
        let both = [("AWS_REGION", "us-east-2"), ("AWS_DEFAULT_REGION", "ap-south-1")];
        assert_eq!(resolve(&format!("{HI}}}"), &both).unwrap().fields.region.as_deref(), Some("us-east-2"));
        let e = error_of(&format!("{HI}}}"), &[("AWS_ACCESS_KEY_ID", "A"), ("AWS_SECRET_ACCESS_KEY", "S")]);
        assert!(e.contains("needs a region") && e.contains("AWS_REGION"), "{e}");
        // With a base URL and a bearer key no region is needed.
        let local = format!(r#"{HI},"base_url":"http://127.0.0.1:9","api_key":"k"}}"#);
        assert!(Bedrock.build_request(&resolve(&local, &[]).unwrap()).is_ok());
        let e = error_of(&format!(r#"{HI},"region":"us-east-1.evil.com/"}}"#), &KEYS);
        assert!(e.contains("`region`"), "{e}");
        let e = error_of(&format!("{HI}}}"), &[("AWS_REGION", "x/y"), ("AWS_ACCESS_KEY_ID", "A")]);
        assert!(e.contains("AWS_REGION"), "{e}");
    }

    #[test]
    fn credentials_are_the_api_key_first_then_sigv4_else_a_clear_error() {
        let bearer = Bedrock
            .build_request(
                &resolve(&format!("{HI}}}"), &[("AWS_BEARER_TOKEN_BEDROCK", "bk"), KEYS[0], KEYS[1], KEYS[2]]).unwrap(),
            )
            .unwrap();
        assert!(bearer.signer.is_none());
        assert!(bearer.headers.iter().any(|(n, v)| n == "authorization" && v == "Bearer bk"));
        let e = error_of(&format!("{HI}}}"), &[("AWS_REGION", "us-east-1")]);
        assert!(e.contains("no credentials") && e.contains("AWS_ACCESS_KEY_ID"), "{e}");
        assert!(!e.contains("secret/KEY"));
    }

    #[test]
    fn the_conversation_becomes_converse_blocks_with_alternating_roles() {
        let body = body_of(
            r#"{"messages":[
                {"role":"system","content":"be brief"},
                {"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}}]},
                {"role":"assistant","content":"  ","reasoning_content":"think","reasoning_signature":"sig",
                 "tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},
                               {"id":"t2","type":"function","function":{"name":"g","arguments":""}}]},
                {"role":"tool","tool_call_id":"t1","content":"{\"ok\":true}"},
                {"role":"tool","tool_call_id":"t2","content":"plain"},
                {"role":"user","content":"and?"}],
              "max_tokens":50,"temperature":0.5,"top_p":0.9,"stop":"END",
              "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}}],
              "tool_choice":"required","extra_body":{"guardrailConfig":{"guardrailIdentifier":"g"}}}"#,
        );
        assert_eq!(body["system"], json!([{"text": "be brief"}]));
        assert_eq!(body["messages"][0]["content"][1], json!({"image": {"format": "png", "source": {"bytes": "iVBO"}}}));
        let assistant = &body["messages"][1];
        assert_eq!(assistant["role"], "assistant");
        assert_eq!(
            assistant["content"][0],
            json!({"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig"}}})
        );
        assert_eq!(assistant["content"][1], json!({"toolUse": {"toolUseId": "t1", "name": "f", "input": {"a": 1}}}));
        assert_eq!(assistant["content"][2]["toolUse"]["input"], json!({}));
        assert_eq!(assistant["content"].as_array().unwrap().len(), 3, "blank text left out");
        let results = &body["messages"][2];
        assert_eq!(results["role"], "user");
        assert_eq!(
            results["content"][0],
            json!({"toolResult": {"toolUseId": "t1", "content": [{"json": {"ok": true}}]}})
        );
        assert_eq!(results["content"][1], json!({"toolResult": {"toolUseId": "t2", "content": [{"text": "plain"}]}}));
        assert_eq!(results["content"][2], json!({"text": "and?"}), "a user turn after results joins them");
        assert_eq!(body["messages"].as_array().unwrap().len(), 3);
        assert_eq!(
            body["inferenceConfig"],
            json!({"maxTokens": 50, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]})
        );
        assert_eq!(
            body["toolConfig"],
            json!({"tools": [{"toolSpec": {"name": "f", "description": "d", "inputSchema": {"json": {"type": "object"}}}}],
                   "toolChoice": {"any": {}}})
        );
        assert_eq!(body["guardrailConfig"]["guardrailIdentifier"], "g");
        assert!(body.get("model").is_none() && body.get("stream").is_none());
    }

    #[test]
    fn tool_choice_forms_and_what_converse_cannot_express_is_refused_by_name() {
        let tools = r#""tools":[{"type":"function","function":{"name":"f"}}]"#;
        let choice =
            |c: &str| body_of(&format!(r#"{HI},{tools},"tool_choice":{c}}}"#))["toolConfig"]["toolChoice"].clone();
        assert_eq!(choice(r#""auto""#), json!({"auto": {}}));
        assert_eq!(choice(r#"{"type":"function","function":{"name":"f"}}"#), json!({"tool": {"name": "f"}}));
        assert!(error_of(&format!(r#"{HI},{tools},"tool_choice":"none"}}"#), &KEYS).contains("tool_choice"));
        for (field, value) in [
            ("n", "2"),
            ("seed", "1"),
            ("user", r#""u""#),
            ("reasoning_effort", r#""low""#),
            ("response_format", r#"{"type":"json_object"}"#),
            ("parallel_tool_calls", "false"),
            ("presence_penalty", "1"),
        ] {
            let e = error_of(&format!(r#"{HI},"{field}":{value}}}"#), &KEYS);
            assert!(e.contains(&format!("`{field}` is not supported by the bedrock provider")), "{e}");
        }
        let e = error_of(
            r#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#,
            &KEYS,
        );
        assert!(e.contains("data: URL"), "{e}");
        let e = error_of(r#"{"messages":[{"role":"tool","content":"x"}]}"#, &KEYS);
        assert!(e.contains("tool_call_id"), "{e}");
    }

    /// The events of these event-stream messages (name, payload), and whether it may end after them.
    fn stream(frames: &[(&str, &str)]) -> Result<(Vec<Event<'static>>, bool), Error> {
        decoded(|decoder, out| {
            for (name, data) in frames {
                assert_eq!(decoder.frame(name, data, out)?, Flow::More);
            }
            Ok(())
        })
    }

    #[test]
    fn a_stream_gives_text_reasoning_tool_calls_finish_and_usage() {
        let (events, may_end) = stream(&[
            ("messageStart", r#"{"role":"assistant","p":"abcd"}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"hm"}},"p":"ab"}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"SIG"}},"p":"a"}"#),
            ("contentBlockStop", r#"{"contentBlockIndex":0}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":1,"delta":{"text":"Hel"},"p":"abcdefg"}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":1,"delta":{"text":"lo"}}"#),
            ("contentBlockStart", r#"{"contentBlockIndex":2,"start":{"toolUse":{"toolUseId":"tooluse_1","name":"f"}}}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"a\""}}}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":":1}"}}}"#),
            ("contentBlockStart", r#"{"contentBlockIndex":3,"start":{"toolUse":{"toolUseId":"tooluse_2","name":"g"}}}"#),
            ("contentBlockStop", r#"{"contentBlockIndex":3}"#),
            ("messageStop", r#"{"stopReason":"tool_use","p":"abc"}"#),
            ("metadata", r#"{"usage":{"inputTokens":10,"outputTokens":5,"totalTokens":15,"cacheReadInputTokens":4,"cacheWriteInputTokens":2},"metrics":{"latencyMs":9}}"#),
        ])
        .unwrap();
        assert!(may_end);
        assert!(matches!(&events[0], Event::Response { model, .. } if model == "m1"));
        let calls: Vec<(u32, String, String)> = events
            .iter()
            .filter_map(|e| match e {
                Event::ToolCall { index, id, name, .. } => Some((*index, id.to_string(), name.to_string())),
                _ => None,
            })
            .collect();
        assert_eq!(calls, [(0, "tooluse_1".into(), "f".into()), (1, "tooluse_2".into(), "g".into())]);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Finish { reason, raw, .. } if reason == "tool_calls" && raw == "tool_use"))
        );
        let usage = events.iter().find_map(|e| match e {
            Event::Usage(u) => Some(*u),
            _ => None,
        });
        let u = usage.expect("USAGE");
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens, u.cached_tokens, u.reasoning_tokens),
            (Some(16), Some(5), Some(21), Some(4), None)
        );
        let m = message(&events);
        assert_eq!(m["content"], "Hello");
        assert_eq!(m["reasoning_content"], "hm");
        assert_eq!(m["reasoning_signature"], "SIG");
        assert_eq!(m["tool_calls"][0]["function"]["arguments"], r#"{"a":1}"#);
        assert_eq!(m["tool_calls"][1]["function"]["arguments"], "{}");
    }

    #[test]
    fn a_stream_may_end_only_after_message_stop() {
        let (_, may_end) =
            stream(&[("messageStart", r#"{"role":"assistant"}"#), ("contentBlockDelta", r#"{"delta":{"text":"x"}}"#)])
                .unwrap();
        assert!(!may_end);
    }

    #[test]
    fn stop_reasons_in_openai_words() {
        for (raw, reason) in [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("tool_use", "tool_calls"),
            ("max_tokens", "length"),
            ("model_context_window_exceeded", "length"),
            ("guardrail_intervened", "content_filter"),
            ("content_filtered", "content_filter"),
            ("something_new", "something_new"),
        ] {
            assert_eq!(finish_reason(raw), reason);
        }
    }

    #[test]
    fn exceptions_are_server_errors_and_the_transient_ones_are_retryable() {
        let mut decoder = ConverseDecoder::default();
        let mut sink = |_: &Event<'_>| true;
        let mut out = Assembler::new(Sink::Events(&mut sink));
        let e =
            decoder.frame("exception:throttlingException", r#"{"message":"Too many tokens"}"#, &mut out).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Server);
        assert!(e.message().contains("throttlingException: Too many tokens"), "{}", e.message());
        assert!(decoder.retryable());
        let e = decoder.frame("exception:validationException", r#"{"message":"bad"}"#, &mut out).unwrap_err();
        assert!(e.message().contains("validationException: bad"));
        assert!(!decoder.retryable());
        for kind in [
            "serviceUnavailableException",
            "internalServerException",
            "modelStreamErrorException",
            "ThrottlingException",
        ] {
            assert!(transient(kind), "{kind}");
        }
        let e = decoder.frame("error:InternalFailure", "it broke", &mut out).unwrap_err();
        assert!(e.message().contains("InternalFailure: it broke"));
    }

    #[test]
    fn a_whole_answer_gives_the_same_events() {
        let body = br#"{"output":{"message":{"role":"assistant","content":[
            {"reasoningContent":{"reasoningText":{"text":"hm","signature":"S"}}},{"text":"Hi"},
            {"toolUse":{"toolUseId":"t1","name":"f","input":{"a":1}}}]}},
            "stopReason":"tool_use","usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5},"metrics":{"latencyMs":1}}"#;
        let (events, _) = decoded(|decoder, out| decoder.body(body, out)).unwrap();
        let m = message(&events);
        assert_eq!((m["content"].as_str(), m["reasoning_signature"].as_str()), (Some("Hi"), Some("S")));
        assert_eq!(m["tool_calls"][0]["function"]["arguments"], r#"{"a":1}"#);
        assert!(events.iter().any(|e| matches!(e, Event::Finish { reason, .. } if reason == "tool_calls")));
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Usage(u) if u.cached_tokens.is_none() && u.total_tokens == Some(5)))
        );
    }
}

#[cfg(test)]
mod what_broke_for_others {
    use super::tests_support::*;
    use serde_json::json;

    #[test]
    fn a_conversation_with_tool_blocks_and_no_tools_declares_the_tools_it_used() {
        // Converse answers 400 "The toolConfig field must be defined when using toolUse and
        // toolResult content blocks" (dify, pentagi, zot, timothy met it).
        let body = body_of(
            r#"{"messages":[{"role":"user","content":"time?"},
                {"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"get_time","arguments":"{}"}},
                                                  {"id":"t2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
                {"role":"tool","tool_call_id":"t1","content":"10:00"},{"role":"tool","tool_call_id":"t2","content":"10:01"},
                {"role":"user","content":"Now answer."}]}"#,
        );
        assert_eq!(
            body["toolConfig"],
            json!({"tools": [{"toolSpec": {"name": "get_time", "inputSchema": {"json": {"type": "object"}}}}]})
        );
        assert!(body_of(r#"{"messages":[{"role":"user","content":"hi"}]}"#).get("toolConfig").is_none());
    }

    #[test]
    fn a_blank_tool_result_is_said_in_words() {
        // Converse refuses a blank text block (hermes-agent #55092, bifrost #3537).
        let body = body_of(
            r#"{"messages":[{"role":"user","content":"run"},
                {"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"run","arguments":"{}"}}]},
                {"role":"tool","tool_call_id":"t1","content":""}],
              "tools":[{"type":"function","function":{"name":"run"}}]}"#,
        );
        assert_eq!(body["messages"][2]["content"][0]["toolResult"]["content"], json!([{"text": "(no output)"}]));
        // A result that is JSON but not an object goes as text (a `json` block must be an object).
        let body = body_of(
            r#"{"messages":[{"role":"user","content":"run"},
                {"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"run","arguments":"{}"}}]},
                {"role":"tool","tool_call_id":"t1","content":"[1,2]"}],
              "tools":[{"type":"function","function":{"name":"run"}}]}"#,
        );
        assert_eq!(body["messages"][2]["content"][0]["toolResult"]["content"], json!([{"text": "[1,2]"}]));
    }
}

#[cfg(test)]
mod reasoning_blocks {
    //! Each reasoning block goes back as it came (pi #8314, inspect_ai #5217, opencode #38623,
    //! Roo-Code #11238): encrypted `redactedContent` (OpenAI's models on Bedrock give only that,
    //! and refuse `reasoningText` sent back), and each of several blocks with its own signature
    //! (interleaved thinking between tool calls).
    use super::tests_support::*;
    use super::*;

    fn message_of(frames: &[(&str, &str)]) -> Value {
        let (events, _) = decoded(|decoder, out| {
            for (name, data) in frames {
                decoder.frame(name, data, out)?;
            }
            Ok(())
        })
        .unwrap();
        message(&events)
    }

    #[test]
    fn redacted_and_interleaved_reasoning_blocks_are_kept_and_sent_back_as_received() {
        let message = message_of(&[
            ("messageStart", r#"{"role":"assistant"}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"redactedContent":"AAEC"}}}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"redactedContent":"AwQ="}}}"#),
            ("contentBlockStop", r#"{"contentBlockIndex":0}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":1,"delta":{"reasoningContent":{"text":"first"}}}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":1,"delta":{"reasoningContent":{"signature":"S1"}}}"#),
            ("contentBlockStop", r#"{"contentBlockIndex":1}"#),
            ("contentBlockStart", r#"{"contentBlockIndex":2,"start":{"toolUse":{"toolUseId":"t1","name":"f"}}}"#),
            ("contentBlockStop", r#"{"contentBlockIndex":2}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":3,"delta":{"reasoningContent":{"text":"second"}}}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":3,"delta":{"reasoningContent":{"signature":"S2"}}}"#),
            ("messageStop", r#"{"stopReason":"tool_use"}"#),
        ]);
        assert_eq!(
            message["reasoning_items"],
            json!([
                {"reasoningContent": {"redactedContent": "AAECAwQ="}},
                {"reasoningContent": {"reasoningText": {"text": "first", "signature": "S1"}}},
                {"reasoningContent": {"reasoningText": {"text": "second", "signature": "S2"}}}
            ]),
            "one item per block, in order; a block without its stop is closed by messageStop"
        );
        // Sent back: the blocks as received, before the text and the calls; not reasoning_content.
        let messages = json!([{"role": "user", "content": "go"}, message,
            {"role": "tool", "tool_call_id": "t1", "content": "ok"}]);
        let body =
            body_of(&format!(r#"{{"messages":{messages},"tools":[{{"type":"function","function":{{"name":"f"}}}}]}}"#));
        let content = body["messages"][1]["content"].as_array().unwrap();
        assert_eq!(content[0], json!({"reasoningContent": {"redactedContent": "AAECAwQ="}}));
        assert_eq!(content[2], json!({"reasoningContent": {"reasoningText": {"text": "second", "signature": "S2"}}}));
        assert_eq!(content[3]["toolUse"]["toolUseId"], "t1");
        assert_eq!(content.len(), 4);
    }

    #[test]
    fn a_whole_answer_keeps_its_reasoning_blocks_too() {
        let body = br#"{"output":{"message":{"role":"assistant","content":[
            {"reasoningContent":{"redactedContent":"AAEC"}},{"reasoningContent":{"reasoningText":{"text":"hm","signature":"S"}}},{"text":"Hi"}]}},
            "stopReason":"end_turn","usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2}}"#;
        let (events, _) = decoded(|decoder, out| decoder.body(body, out)).unwrap();
        let message = message(&events);
        assert_eq!(message["reasoning_items"][0], json!({"reasoningContent": {"redactedContent": "AAEC"}}));
        assert_eq!(message["reasoning_items"][1]["reasoningContent"]["reasoningText"]["signature"], "S");
    }

    #[test]
    fn items_of_another_protocol_are_not_sent_as_converse_blocks() {
        let body = body_of(
            r#"{"messages":[{"role":"user","content":"a"},
                {"role":"assistant","content":"b","reasoning_content":"r","reasoning_signature":"s",
                 "reasoning_items":[{"type":"reasoning","id":"rs_1","encrypted_content":"x"}]},
                {"role":"user","content":"c"}]}"#,
        );
        assert_eq!(
            body["messages"][1]["content"],
            json!([{"reasoningContent": {"reasoningText": {"text": "r", "signature": "s"}}}, {"text": "b"}])
        );
    }
}

#[cfg(test)]
mod fast_tests {
    use super::fast;
    use crate::fastjson::Learner;

    const DELTA: &str =
        r#"{"contentBlockIndex":0,"delta":{"text":" the quick brown"},"p":"abcdefghijklmnopqrstuvwxyzABCDEFGH"}"#;

    #[test]
    fn the_fast_path_takes_text_deltas_only() {
        assert_eq!(fast::text_delta(DELTA, &mut Learner::default()).as_deref(), Some(" the quick brown"));
        let escaped = r#"{"contentBlockIndex":0,"delta":{"text":"a\nb \u00e9"},"p":"ab"}"#;
        assert_eq!(fast::text_delta(escaped, &mut Learner::default()).as_deref(), Some("a\nb é"));
        for other in [
            r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"hm"}},"p":"ab"}"#,
            r#"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{"}},"p":"ab"}"#,
            r#"{"contentBlockIndex":0,"delta":{"text":"a","toolUse":{"input":"{"}}}"#,
            r#"{"contentBlockIndex":0,"delta":{"text":"a","text":"b"}}"#,
            r#"{"contentBlockIndex":0,"contentBlockIndex":0,"delta":{"text":"a"}}"#,
            r#"{"contentBlockIndex":-1,"delta":{"text":"a"}}"#,
            r#"{"contentBlockIndex":0.5,"delta":{"text":"a"}}"#,
            r#"{"contentBlockIndex":0,"delta":{"text":null}}"#,
            r#"{"contentBlockIndex":0,"delta":null}"#,
            r#"{"contentBlockIndex":0}"#,
            r#"{"contentBlockIndex":0,"delta":{"text":"a"}} x"#,
            r#"{"contentBlockIndex":0,"delta":{"text":"a\ud800"}}"#,
        ] {
            assert!(fast::text_delta(other, &mut Learner::default()).is_none(), "{other}");
        }
    }

    #[test]
    fn learned_deltas_read_their_new_text_and_padding() {
        let mut learner = Learner::default();
        assert!(fast::text_delta(DELTA, &mut learner).is_some());
        for (text, padding) in
            [(" fox jumps over", "abc"), (" a \\\"lazy\\\" dog", ""), ("é", "abcdefghijklmnopqrstuvwxyz")]
        {
            let next = DELTA.replace(" the quick brown", text).replace("abcdefghijklmnopqrstuvwxyzABCDEFGH", padding);
            let want: String = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(fast::text_delta(&next, &mut learner).as_deref(), Some(want.as_str()), "{next}");
        }
        // Another block's index is compared as bytes: read whole, still a text delta.
        let other = DELTA.replace(r#""contentBlockIndex":0"#, r#""contentBlockIndex":2"#);
        assert_eq!(fast::text_delta(&other, &mut learner).as_deref(), Some(" the quick brown"));
        let tool =
            r#"{"contentBlockIndex":0,"delta":{"toolUse":{"input":"x"}},"p":"abcdefghijklmnopqrstuvwxyzABCDEFGH"}"#;
        assert!(fast::text_delta(tool, &mut learner).is_none());
    }
}
