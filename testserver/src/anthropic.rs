//! `POST /v1/messages`: Anthropic's Messages API, one message object or an SSE stream of named
//! events (`message_start`, `content_block_start`/`_delta`/`_stop`, `message_delta`,
//! `message_stop`). The answer is `"You said: <last user text>"`, streamed word by word; a
//! request with `tools` gets a `tool_use` of the first tool; a conversation that ends in a
//! `tool_result` gets `"The tool returned: <result>"`. Like the real API it wants the
//! `anthropic-version` header and `max_tokens`.

use bytes::{Bytes, BytesMut};
use hyper::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::answer;
use crate::capture::Captured;
use crate::faults::Faults;
use crate::openai::{REASONING, Writer};
use crate::respond::{Body, json, json_answer, streamed, with_header};

const ID: &str = "msg_aichat_test";
pub const REQUEST_ID: &str = "req_aichat_anthropic";
pub const SIGNATURE: &str = "sig-aichat-test";

fn api_error(status: u16, kind: &str, message: &str) -> Response<Body> {
    json(status, &json!({"type": "error", "error": {"type": kind, "message": message}}))
}

/// `attempt`: this request's count under the `key` fault.
pub fn answer(req: &Captured, faults: &Faults, attempt: Option<u64>) -> Response<Body> {
    with_header(answer_body(req, faults, attempt), "request-id", REQUEST_ID)
}

/// The text of a message's content: a string, or its text blocks (and tool results) joined.
fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .map(|b| match b.get("type").and_then(Value::as_str) {
                Some("tool_result") => text_of(b.get("content")),
                _ => b.get("text").and_then(Value::as_str).unwrap_or("").to_string(),
            })
            .collect(),
        _ => String::new(),
    }
}

fn answer_body(req: &Captured, faults: &Faults, attempt: Option<u64>) -> Response<Body> {
    if !req.headers.iter().any(|(name, _)| name == "anthropic-version") {
        return api_error(400, "invalid_request_error", "anthropic-version: header is required");
    }
    let Some(body) = req.json_body() else {
        return api_error(400, "invalid_request_error", "test server: body is not JSON");
    };
    if body.get("max_tokens").and_then(Value::as_u64).is_none() {
        return api_error(400, "invalid_request_error", "max_tokens: Field required");
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return api_error(400, "invalid_request_error", "messages: Field required");
    };
    let model = body.get("model").and_then(Value::as_str).unwrap_or("claude-test").to_string();
    let last = messages.last();
    let tool_result = last.and_then(|m| m.get("content")).and_then(Value::as_array).and_then(|blocks| {
        blocks.iter().find(|b| b.get("type").and_then(Value::as_str) == Some("tool_result")).cloned()
    });
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| text_of(m.get("content")));
    let tool = body.get("tools").and_then(Value::as_array).and_then(|t| t.first()).map(|tool| {
        let name = tool.get("name").and_then(Value::as_str).unwrap_or("tool").to_string();
        (name, tool.get("input_schema"))
    });
    let asked = answer::Asked {
        last_user,
        tool_result: tool_result.map(|result| text_of(result.get("content"))),
        tool,
        ..Default::default()
    };
    let answer::Plan { text, words, call: tool, failed: overloaded, .. } =
        answer::Plan::new(req, faults, attempt, asked);
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        return stream(Plan { model, words, tool, faults: faults.clone(), overloaded });
    }
    let mut content = Vec::new();
    if faults.reasoning.is_some() {
        content.push(json!({"type": "thinking", "thinking": REASONING, "signature": SIGNATURE}));
    }
    let stop_reason = match &tool {
        Some((name, input)) => {
            content.push(json!({"type": "tool_use", "id": "toolu_aichat_0", "name": name, "input": input}));
            "tool_use"
        }
        None => {
            content.push(json!({"type": "text", "text": text}));
            "end_turn"
        }
    };
    let message = json!({
        "id": ID, "type": "message", "role": "assistant", "model": model, "content": content,
        "stop_reason": stop_reason, "stop_sequence": null,
        "usage": {"input_tokens": 6, "cache_read_input_tokens": 3, "output_tokens": 12},
    });
    json_answer(message.to_string().into_bytes(), b"{\"content\":[{\"type\":\"text\",\"text\":\"\xff\"}]}", faults)
}

struct Plan {
    model: String,
    /// The text's pieces, one `text_delta` each.
    words: Vec<String>,
    tool: Option<(String, Value)>,
    faults: Faults,
    /// Send an `overloaded_error` right after `message_start`.
    overloaded: bool,
}

impl Plan {
    fn event(&self, name: &str, data: Value) -> String {
        let nl = self.faults.newline();
        let ping = if self.faults.keepalive {
            format!("event: ping{nl}data: {{\"type\":\"ping\"}}{nl}{nl}")
        } else {
            String::new()
        };
        format!("{ping}event: {name}{nl}data: {data}{nl}{nl}")
    }
}

fn stream(plan: Plan) -> Response<Body> {
    streamed("text/event-stream", |tx| produce(plan, tx))
}

async fn produce(plan: Plan, tx: mpsc::Sender<Bytes>) {
    let f = &plan.faults;
    let paced = f.interval.is_some() || f.split_utf8;
    let mut out = Writer { tx, pending: BytesMut::new(), paced, split_utf8: f.split_utf8 };
    let start = json!({"type": "message_start", "message": {
        "id": ID, "type": "message", "role": "assistant", "model": plan.model, "content": [],
        "stop_reason": null, "usage": {"input_tokens": 6, "cache_read_input_tokens": 3, "output_tokens": 1}}});
    if !out.write(plan.event("message_start", start)).await {
        return;
    }
    if plan.overloaded {
        let error = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        out.write(plan.event("error", error)).await;
        out.flush().await;
        return;
    }
    let mut index = 0;
    if f.reasoning.is_some() {
        out.write(plan.event(
            "content_block_start",
            json!({"type": "content_block_start", "index": index,
            "content_block": {"type": "thinking", "thinking": ""}}),
        ))
        .await;
        for word in answer::words(REASONING) {
            out.write(plan.event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index,
                "delta": {"type": "thinking_delta", "thinking": word}}),
            ))
            .await;
        }
        out.write(plan.event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index,
            "delta": {"type": "signature_delta", "signature": SIGNATURE}}),
        ))
        .await;
        out.write(plan.event("content_block_stop", json!({"type": "content_block_stop", "index": index}))).await;
        index += 1;
    }
    let stop_reason = if let Some((name, input)) = &plan.tool {
        out.write(plan.event(
            "content_block_start",
            json!({"type": "content_block_start", "index": index,
            "content_block": {"type": "tool_use", "id": "toolu_aichat_0", "name": name, "input": {}}}),
        ))
        .await;
        let arguments = input.to_string();
        let cut = (arguments.len() / 2..=arguments.len()).find(|&i| arguments.is_char_boundary(i)).unwrap_or(0);
        for part in [&arguments[..cut], &arguments[cut..]] {
            out.write(plan.event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index,
                "delta": {"type": "input_json_delta", "partial_json": part}}),
            ))
            .await;
        }
        out.write(plan.event("content_block_stop", json!({"type": "content_block_stop", "index": index}))).await;
        "tool_use"
    } else {
        out.write(plan.event(
            "content_block_start",
            json!({"type": "content_block_start", "index": index,
            "content_block": {"type": "text", "text": ""}}),
        ))
        .await;
        let words = &plan.words;
        let cut_at = if f.cut { words.len() / 2 } else { words.len() };
        for (i, word) in words.iter().take(cut_at).enumerate() {
            if f.silence_after == Some(i as u64) {
                out.flush().await;
                std::future::pending::<()>().await;
            }
            if let Some(d) = f.interval.filter(|_| i > 0) {
                tokio::time::sleep(d).await;
            }
            let delta = json!({"type": "content_block_delta", "index": index,
                "delta": {"type": "text_delta", "text": word}});
            if !out.write(plan.event("content_block_delta", delta)).await {
                return;
            }
            if f.error_event {
                let error = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
                out.write(plan.event("error", error)).await;
                out.flush().await;
                return;
            }
        }
        if f.cut {
            out.flush().await;
            return;
        }
        out.write(plan.event("content_block_stop", json!({"type": "content_block_stop", "index": index}))).await;
        "end_turn"
    };
    out.write(plan.event(
        "message_delta",
        json!({"type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": 12}}),
    ))
    .await;
    out.write(plan.event("message_stop", json!({"type": "message_stop"}))).await;
    out.flush().await;
}
