//! `POST /api/chat`: Ollama's native chat API, an NDJSON stream (one object a line, the last
//! with `done: true`) or, with `"stream": false`, one object. The answer is
//! `"You said: <last user message>"` word by word; a request with `tools` gets a whole call of
//! the first tool (as Ollama sends them, without an id); a conversation that ends in a `tool`
//! message gets `"The tool returned: <content>"`.

use bytes::{Bytes, BytesMut};
use hyper::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::answer;
use crate::capture::Captured;
use crate::faults::Faults;
use crate::openai::{REASONING, Writer};
use crate::respond::{Body, json, json_answer, streamed};

const CREATED_AT: &str = "2026-01-01T00:00:00.000000000Z";

pub fn answer(req: &Captured, faults: &Faults) -> Response<Body> {
    let Some(body) = req.json_body() else {
        return json(400, &json!({"error": "test server: body is not JSON"}));
    };
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return json(400, &json!({"error": "messages is required"}));
    };
    let model = body.get("model").and_then(Value::as_str).unwrap_or("llama-test").to_string();
    let content = |m: &Value| m.get("content").and_then(Value::as_str).unwrap_or("").to_string();
    let tool_result = messages.last().filter(|m| m.get("role").and_then(Value::as_str) == Some("tool"));
    let last_user = messages.iter().rev().find(|m| m.get("role").and_then(Value::as_str) == Some("user")).map(content);
    let tool = body.get("tools").and_then(Value::as_array).and_then(|t| t.first()).map(|tool| {
        let name = tool.pointer("/function/name").and_then(Value::as_str).unwrap_or("tool").to_string();
        (name, tool.pointer("/function/parameters"))
    });
    let asked = answer::Asked { last_user, tool_result: tool_result.map(content), tool, ..Default::default() };
    let answer::Plan { text, words, call, .. } = answer::Plan::new(req, faults, None, asked);
    let tool = call.map(|(name, arguments)| json!({"function": {"name": name, "arguments": arguments}}));
    let line = |message: Value, done: bool| {
        let mut object = json!({"model": model, "created_at": CREATED_AT, "message": message, "done": done});
        if done {
            object["done_reason"] = json!("stop");
            object["prompt_eval_count"] = json!(9);
            object["eval_count"] = json!(12);
        }
        object
    };
    if body.get("stream").and_then(Value::as_bool) == Some(false) {
        let mut message =
            json!({"role": "assistant", "content": if tool.is_some() { String::new() } else { text.clone() }});
        if faults.reasoning.is_some() {
            message["thinking"] = json!(REASONING);
        }
        if let Some(call) = &tool {
            message["tool_calls"] = json!([call]);
        }
        return json_answer(
            line(message, true).to_string().into_bytes(),
            b"{\"message\":{\"content\":\"\xff\"},\"done\":true}",
            faults,
        );
    }
    let mut lines = Vec::new();
    if faults.reasoning.is_some() {
        for word in answer::words(REASONING) {
            lines.push(line(json!({"role": "assistant", "content": "", "thinking": word}), false));
        }
    }
    match &tool {
        Some(call) => lines.push(line(json!({"role": "assistant", "content": "", "tool_calls": [call]}), false)),
        None => {
            for word in words {
                lines.push(line(json!({"role": "assistant", "content": word}), false));
            }
        }
    }
    let content_lines = lines.len();
    lines.push(line(json!({"role": "assistant", "content": ""}), true));
    stream(lines.iter().map(Value::to_string).collect(), content_lines, faults.clone())
}

fn stream(lines: Vec<String>, content_lines: usize, faults: Faults) -> Response<Body> {
    streamed("application/x-ndjson", |tx| produce(lines, content_lines, faults, tx))
}

async fn produce(lines: Vec<String>, content_lines: usize, f: Faults, tx: mpsc::Sender<Bytes>) {
    let paced = f.interval.is_some() || f.split_utf8;
    let mut out = Writer { tx, pending: BytesMut::new(), paced, split_utf8: f.split_utf8 };
    let nl = if f.line_end == crate::faults::LineEnd::CrLf { "\r\n" } else { "\n" };
    let cut_at = if f.cut { content_lines / 2 } else { lines.len() };
    for (i, line) in lines.iter().take(cut_at).enumerate() {
        if f.silence_after == Some(i as u64) {
            out.flush().await;
            std::future::pending::<()>().await;
        }
        if let Some(d) = f.interval.filter(|_| i > 0) {
            tokio::time::sleep(d).await;
        }
        let keepalive = if f.keepalive { nl } else { "" };
        if !out.write(format!("{keepalive}{line}{nl}")).await {
            return;
        }
        if f.error_event && i == 0 {
            out.write(format!("{}{nl}", json!({"error": "test server: injected stream error"}))).await;
            out.flush().await;
            return;
        }
    }
    out.flush().await;
}
