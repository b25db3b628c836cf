//! `POST /v1/chat/completions`: OpenAI's chat-completions wire format, one JSON answer or an SSE
//! stream of `chat.completion.chunk` objects ending in `data: [DONE]`. The answer is
//! `"You said: <last user message>"`, streamed word by word. A request with `tools` gets a call
//! to the first tool (its first parameter set to the last user message); a conversation that
//! ends in a `tool` result gets `"The tool returned: <result>"`. Every answer carries
//! `x-request-id`.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hyper::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::answer;
use crate::capture::Captured;
use crate::faults::{Faults, ReasoningField, ToolStyle};
use crate::respond::{Body, full, json_answer, json_error, streamed, with_content_type_fault, with_header};

const ID: &str = "chatcmpl-aichat-test";
/// The `x-request-id` header of every answer.
pub const REQUEST_ID: &str = "req-aichat-test";
const CREATED: u64 = 1_700_000_000;
/// Events are gathered into writes of about this size when nothing asks for pacing.
const WRITE_BATCH: usize = 16 * 1024;
/// What the model "thinks" before it answers, with the `reasoning` fault.
pub const REASONING: &str = "The user wrote something; I will quote it back.";
/// The refusal, with the `refusal` fault.
pub const REFUSAL: &str = "I can't help with that.";

pub fn answer(req: &Captured, faults: &Faults) -> Response<Body> {
    let response = with_header(answer_body(req, faults), "x-request-id", REQUEST_ID);
    with_content_type_fault(response, faults.content_type.as_deref())
}

fn answer_body(req: &Captured, faults: &Faults) -> Response<Body> {
    if faults.not_json {
        return full(200, "text/html", "<html><body>Service temporarily unavailable</body></html>");
    }
    let Some(body) = req.json_body() else {
        return json_error(400, "test server: body is not JSON");
    };
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return json_error(400, "test server: body has no `messages` array");
    };
    let model = body.get("model").and_then(Value::as_str).unwrap_or("test-model").to_string();
    let n = body.get("n").and_then(Value::as_u64).unwrap_or(1).clamp(1, 8) as u32;
    let last = messages.last();
    let tool_result = last.filter(|m| m.get("role").and_then(Value::as_str) == Some("tool"));
    let tools = body.get("tools").and_then(Value::as_array).filter(|t| !t.is_empty());
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| text_of(m.get("content")));
    let text = if faults.echo {
        req.to_json().to_string()
    } else if let Some(n) = faults.size {
        "a".repeat(n)
    } else if let Some(result) = tool_result {
        format!("The tool returned: {}", text_of(result.get("content")))
    } else {
        answer::reply(last_user.as_deref())
    };
    let kind = match (tools, tool_result) {
        (Some(tools), None) if !faults.echo => {
            Kind::Tools(tool_calls(tools, last_user.as_deref().unwrap_or(""), faults))
        }
        _ if faults.refusal => Kind::Refusal,
        _ => Kind::Text,
    };
    let stream_asked = body.get("stream").and_then(Value::as_bool) == Some(true);
    if stream_asked && faults.bad_utf8 {
        let events = b"data: {\"choices\":[{\"delta\":{\"content\":\"ok \"}}]}\n\n\
                       data: {\"choices\":[{\"delta\":{\"content\":\"bad \xff byte\"}}]}\n\n\
                       data: [DONE]\n\n";
        return full(200, "text/event-stream", events.as_slice());
    }
    if stream_asked {
        let include_usage = body.pointer("/stream_options/include_usage").and_then(Value::as_bool) == Some(true);
        let pieces = match (faults.chunks, faults.chunk_size) {
            (Some(n), Some(size)) => Pieces::Sized(n, size),
            (Some(n), None) => Pieces::Numbered(n),
            (None, _) => Pieces::Words(answer::words(&text)),
        };
        return stream(Plan { model, pieces, include_usage, faults: faults.clone(), kind, n });
    }
    let choices: Vec<Value> = (0..n)
        .map(|i| {
            let mut message = json!({"role": "assistant", "content": Value::Null});
            if faults.reasoning.is_some() {
                message["reasoning_content"] = json!(REASONING);
            }
            let finish = match &kind {
                Kind::Text => {
                    message["content"] = json!(text);
                    "stop"
                }
                Kind::Refusal => {
                    message["refusal"] = json!(REFUSAL);
                    "stop"
                }
                Kind::Tools(calls) => {
                    message["tool_calls"] = calls.iter().map(ToolCall::whole).collect();
                    "tool_calls"
                }
            };
            json!({"index": i, "message": message, "logprobs": null, "finish_reason": finish})
        })
        .collect();
    let completion = json!({
        "id": ID, "object": "chat.completion", "created": CREATED, "model": model,
        "choices": choices, "usage": usage(),
    });
    let bad_utf8 = b"{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"bad \xff byte\"}}]}";
    json_answer(completion.to_string().into_bytes(), bad_utf8, faults)
}

/// A message content as text: a string, or the text parts of an array joined.
fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect(),
        _ => String::new(),
    }
}

/// `{"<first parameter>": "<last user message>"}` for a tool (`{}` when it takes none).
fn arguments_for(tool: &Value, last_user: &str) -> String {
    answer::tool_arguments(tool.pointer("/function/parameters"), last_user).to_string()
}

/// The calls the model "makes": one to the first tool; with `parallel-tools`, one to each of
/// the first two (the first twice when there is one).
fn tool_calls(tools: &[Value], last_user: &str, faults: &Faults) -> Vec<ToolCall> {
    let count =
        if faults.tool_style == ToolStyle::Parallel || faults.tool_style == ToolStyle::ReusedIndex { 2 } else { 1 };
    (0..count)
        .map(|i| {
            let tool = tools.get(i).unwrap_or(&tools[0]);
            ToolCall {
                id: format!("call_aichat_{i}"),
                name: tool.pointer("/function/name").and_then(Value::as_str).unwrap_or("tool").to_string(),
                arguments: arguments_for(tool, last_user),
            }
        })
        .collect()
}

fn usage() -> Value {
    json!({"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21,
           "prompt_tokens_details": {"cached_tokens": 3}, "completion_tokens_details": {"reasoning_tokens": 4}})
}

enum Kind {
    Text,
    Refusal,
    Tools(Vec<ToolCall>),
}

struct ToolCall {
    id: String,
    name: String,
    arguments: String,
}

impl ToolCall {
    fn whole(&self) -> Value {
        json!({"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}})
    }

    /// The arguments cut into three fragments (on character boundaries).
    fn fragments(&self) -> Vec<&str> {
        let a = &self.arguments;
        let cut = |k: usize| (k * a.len() / 3..=a.len()).find(|&i| a.is_char_boundary(i)).unwrap_or(a.len());
        let (one, two) = (cut(1), cut(2));
        [&a[..one], &a[one..two], &a[two..]].into_iter().filter(|f| !f.is_empty()).collect()
    }
}

enum Pieces {
    Words(Vec<String>),
    Numbered(u64),
    /// N chunks of this many bytes each.
    Sized(u64, usize),
}

impl Pieces {
    fn len(&self) -> u64 {
        match self {
            Pieces::Words(w) => w.len() as u64,
            Pieces::Numbered(n) | Pieces::Sized(n, _) => *n,
        }
    }

    fn get(&self, i: u64) -> String {
        match self {
            Pieces::Words(w) => w[i as usize].clone(),
            Pieces::Numbered(_) => format!("tok{i} "),
            Pieces::Sized(_, size) => {
                let line = "The quick brown fox jumps over the lazy dog. ";
                line.chars().cycle().skip(i as usize % line.len()).take(*size).collect()
            }
        }
    }
}

struct Plan {
    model: String,
    pieces: Pieces,
    include_usage: bool,
    faults: Faults,
    kind: Kind,
    n: u32,
}

impl Plan {
    /// One SSE event with the line ending and keep-alive the faults ask for.
    fn event(&self, data: &str) -> String {
        let nl = self.faults.newline();
        let keepalive = if self.faults.keepalive { format!(": keep-alive{nl}{nl}") } else { String::new() };
        format!("{keepalive}data: {data}{nl}{nl}")
    }

    /// With `usage-every-chunk`, the usage so far (`sent` chunks), as vLLM sends it.
    fn running_usage(&self, sent: u64) -> String {
        if self.faults.usage_every_chunk {
            format!(r#","usage":{{"prompt_tokens":9,"completion_tokens":{sent},"total_tokens":{}}}"#, 9 + sent)
        } else {
            String::new()
        }
    }

    fn chunk(&self, choice: u32, delta: Value, finish_reason: Value, sent: u64) -> String {
        let mut chunk = json!({
            "id": ID, "object": "chat.completion.chunk", "created": CREATED, "model": self.model,
            "system_fingerprint": null,
            "choices": [{"index": choice, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        });
        if self.faults.usage_every_chunk {
            chunk["usage"] = if finish_reason.is_null() {
                json!({"prompt_tokens": 9, "completion_tokens": sent, "total_tokens": 9 + sent})
            } else {
                usage()
            };
        }
        self.event(&chunk.to_string())
    }

    /// A content chunk, written without building a JSON tree: this is the hot path of the
    /// throughput benchmarks.
    fn content_chunk(&self, choice: u32, content: &str, sent: u64) -> String {
        let content = serde_json::to_string(content).expect("a string serializes");
        let model = serde_json::to_string(&self.model).expect("a string serializes");
        let usage = self.running_usage(sent);
        self.event(&format!(
            r#"{{"id":"{ID}","object":"chat.completion.chunk","created":{CREATED},"model":{model},"system_fingerprint":null,"choices":[{{"index":{choice},"delta":{{"content":{content}}},"logprobs":null,"finish_reason":null}}]{usage}}}"#
        ))
    }

    /// The reasoning delta in the field(s) the `reasoning` fault names.
    fn reasoning_delta(&self, text: &str) -> Value {
        match self.faults.reasoning {
            Some(ReasoningField::Reasoning) => json!({"reasoning": text}),
            Some(ReasoningField::Both) => json!({"reasoning_content": text, "reasoning": text}),
            _ => json!({"reasoning_content": text}),
        }
    }

    /// The tool-call chunks of one choice, in the style the faults ask for.
    fn tool_chunks(&self, choice: u32, calls: &[ToolCall]) -> Vec<Value> {
        let start = |i: usize, c: &ToolCall| json!({"index": i, "id": c.id, "type": "function", "function": {"name": c.name, "arguments": ""}});
        let args = |i: usize, text: &str| json!({"index": i, "function": {"arguments": text}});
        let delta = |calls: Vec<Value>| json!({"tool_calls": calls});
        let _ = choice;
        match self.faults.tool_style {
            ToolStyle::Fragments => {
                let mut out = vec![delta(vec![start(0, &calls[0])])];
                out.extend(calls[0].fragments().into_iter().map(|f| delta(vec![args(0, f)])));
                out
            }
            ToolStyle::Whole => calls
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    delta(vec![json!({"index": i, "id": c.id, "type": "function",
                                      "function": {"name": c.name, "arguments": c.arguments}})])
                })
                .collect(),
            // Both calls open in one chunk, listed in reverse order (so only `index` says which
            // is which), then their fragments alternate.
            ToolStyle::Parallel => {
                let mut out = vec![delta(vec![start(1, &calls[1]), start(0, &calls[0])])];
                let (a, b) = (calls[0].fragments(), calls[1].fragments());
                for k in 0..a.len().max(b.len()) {
                    if let Some(f) = b.get(k) {
                        out.push(delta(vec![args(1, f)]));
                    }
                    if let Some(f) = a.get(k) {
                        out.push(delta(vec![args(0, f)]));
                    }
                }
                out
            }
            // Both calls at index 0; every fragment of a call repeats its id and name, as
            // llama.cpp-based servers do.
            ToolStyle::ReusedIndex => calls
                .iter()
                .flat_map(|c| {
                    c.fragments().into_iter().map(move |f| {
                        delta(vec![json!({"index": 0, "id": c.id, "type": "function",
                                          "function": {"name": c.name, "arguments": f}})])
                    })
                })
                .collect(),
        }
    }
}

/// Streams the plan from a task, so pacing and faults are plain sequential code.
fn stream(plan: Plan) -> Response<Body> {
    streamed("text/event-stream", |tx| produce(plan, tx))
}

/// Writes events as the plan says; stops quietly when the client goes away.
async fn produce(plan: Plan, tx: mpsc::Sender<Bytes>) {
    let f = &plan.faults;
    let paced = f.interval.is_some() || f.split_utf8 || f.stamp;
    let mut out = Writer { tx, pending: BytesMut::new(), paced, split_utf8: f.split_utf8 };
    let mut sent = 0u64;
    for choice in 0..plan.n {
        if !out.write(plan.chunk(choice, json!({"role": "assistant", "content": ""}), Value::Null, sent)).await {
            return;
        }
    }
    if f.reasoning.is_some() {
        for word in answer::words(REASONING) {
            for choice in 0..plan.n {
                sent += 1;
                if !out.write(plan.chunk(choice, plan.reasoning_delta(&word), Value::Null, sent)).await {
                    return;
                }
            }
        }
    }
    let finish = match &plan.kind {
        Kind::Text => {
            let n = plan.pieces.len();
            let cut_at = if f.cut { n / 2 } else { n };
            for i in 0..cut_at {
                if f.silence_after == Some(i) {
                    out.flush().await;
                    std::future::pending::<()>().await;
                }
                if let Some(d) = f.interval.filter(|_| i > 0) {
                    tokio::time::sleep(d).await;
                }
                let content = if f.stamp { now_micros().to_string() } else { plan.pieces.get(i) };
                for choice in 0..plan.n {
                    sent += 1;
                    if !out.write(plan.content_chunk(choice, &content, sent)).await {
                        return;
                    }
                }
                if f.error_event {
                    let error =
                        json!({"error": {"message": "test server: injected stream error", "type": "server_error"}});
                    out.write(plan.event(&error.to_string())).await;
                    out.flush().await;
                    return;
                }
            }
            if f.cut {
                out.flush().await;
                return;
            }
            "stop"
        }
        Kind::Refusal => {
            for word in answer::words(REFUSAL) {
                for choice in 0..plan.n {
                    sent += 1;
                    if !out.write(plan.chunk(choice, json!({"refusal": word}), Value::Null, sent)).await {
                        return;
                    }
                }
            }
            "stop"
        }
        Kind::Tools(calls) => {
            for choice in 0..plan.n {
                for delta in plan.tool_chunks(choice, calls) {
                    sent += 1;
                    if !out.write(plan.chunk(choice, delta, Value::Null, sent)).await {
                        return;
                    }
                }
            }
            "tool_calls"
        }
    };
    for choice in 0..plan.n {
        out.write(plan.chunk(choice, json!({}), json!(finish), sent)).await;
    }
    if plan.include_usage {
        let chunk = json!({"id": ID, "object": "chat.completion.chunk", "created": CREATED, "model": plan.model,
                           "choices": [], "usage": usage()});
        out.write(plan.event(&chunk.to_string())).await;
    }
    out.write(plan.event("[DONE]")).await;
    out.flush().await;
}

pub(crate) struct Writer {
    pub(crate) tx: mpsc::Sender<Bytes>,
    pub(crate) pending: BytesMut,
    pub(crate) paced: bool,
    pub(crate) split_utf8: bool,
}

impl Writer {
    /// Queues one event; returns `false` once the client is gone.
    pub(crate) async fn write(&mut self, event: String) -> bool {
        let cut = if self.split_utf8 { split_point(&event) } else { 0 };
        self.write_bytes(event.as_bytes(), cut).await
    }

    /// Queues one event of any bytes; with `split_utf8`, writes it in two parts cut at `cut`.
    pub(crate) async fn write_bytes(&mut self, event: &[u8], cut: usize) -> bool {
        if self.split_utf8 {
            if self.tx.send(Bytes::copy_from_slice(&event[..cut])).await.is_err() {
                return false;
            }
            // A pause, so the two halves reach the client in separate reads.
            tokio::time::sleep(Duration::from_millis(5)).await;
            return self.tx.send(Bytes::copy_from_slice(&event[cut..])).await.is_ok();
        }
        self.pending.extend_from_slice(event);
        if self.paced || self.pending.len() >= WRITE_BATCH { self.flush().await } else { true }
    }

    pub(crate) async fn flush(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        let bytes = self.pending.split().freeze();
        self.tx.send(bytes).await.is_ok()
    }
}

pub(crate) fn now_micros() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_micros()
}

/// Inside the first multi-byte character (after its first byte), else the middle.
fn split_point(event: &str) -> usize {
    match event.char_indices().find(|(_, c)| c.len_utf8() > 1) {
        Some((i, _)) => i + 1,
        None => event.len() / 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_is_inside_a_multibyte_character() {
        let e = "data: h\u{e9}llo";
        let cut = split_point(e);
        assert!(!e.is_char_boundary(cut));
        assert_eq!(split_point("abcd"), 2);
    }
}
