//! `POST /v1/chat/completions`: OpenAI's chat-completions wire format, one JSON answer or an SSE
//! stream of `chat.completion.chunk` objects ending in `data: [DONE]`. The answer is
//! `"You said: <last user message>"`, streamed word by word.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, StreamExt};
use http_body_util::StreamBody;
use hyper::Response;
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::answer;
use crate::capture::Captured;
use crate::faults::Faults;
use crate::respond::{Body, full, json_answer, json_error};

const ID: &str = "chatcmpl-aichat-test";
const CREATED: u64 = 1_700_000_000;
/// Events are gathered into writes of about this size when nothing asks for pacing.
const WRITE_BATCH: usize = 16 * 1024;

pub fn answer(req: &Captured, faults: &Faults) -> Response<Body> {
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
    let text = if faults.echo {
        req.to_json().to_string()
    } else if let Some(n) = faults.size {
        "a".repeat(n)
    } else {
        let last_user = messages
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .and_then(|m| m.get("content").and_then(Value::as_str));
        answer::reply(last_user)
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
        return stream(Plan { model, pieces, include_usage, faults: faults.clone() });
    }
    let completion = json!({
        "id": ID, "object": "chat.completion", "created": CREATED, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": null, "finish_reason": "stop"}],
        "usage": usage(),
    });
    let bad_utf8 = b"{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"bad \xff byte\"}}]}";
    json_answer(completion.to_string().into_bytes(), bad_utf8, faults)
}

fn usage() -> Value {
    json!({"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21})
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
}

impl Plan {
    /// One SSE event with the line ending and keep-alive the faults ask for.
    fn event(&self, data: &str) -> String {
        let nl = self.faults.newline();
        let keepalive = if self.faults.keepalive { format!(": keep-alive{nl}{nl}") } else { String::new() };
        format!("{keepalive}data: {data}{nl}{nl}")
    }

    fn chunk(&self, delta: Value, finish_reason: Value) -> String {
        let chunk = json!({
            "id": ID, "object": "chat.completion.chunk", "created": CREATED, "model": self.model,
            "system_fingerprint": null,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        });
        self.event(&chunk.to_string())
    }

    /// A content chunk, written without building a JSON tree: this is the hot path of the
    /// throughput benchmarks.
    fn content_chunk(&self, content: &str) -> String {
        let content = serde_json::to_string(content).expect("a string serializes");
        let model = serde_json::to_string(&self.model).expect("a string serializes");
        self.event(&format!(
            r#"{{"id":"{ID}","object":"chat.completion.chunk","created":{CREATED},"model":{model},"system_fingerprint":null,"choices":[{{"index":0,"delta":{{"content":{content}}},"logprobs":null,"finish_reason":null}}]}}"#
        ))
    }
}

/// Streams the plan from a task, so pacing and faults are plain sequential code.
fn stream(plan: Plan) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    tokio::spawn(produce(plan, tx));
    let frames = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok(Frame::data(b)), rx)) });
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(StreamBody::new(frames.boxed()))
        .expect("valid response")
}

/// Writes events as the plan says; stops quietly when the client goes away.
async fn produce(plan: Plan, tx: mpsc::Sender<Bytes>) {
    let f = &plan.faults;
    let paced = f.interval.is_some() || f.split_utf8 || f.stamp;
    let mut out = Writer { tx, pending: BytesMut::new(), paced, split_utf8: f.split_utf8 };
    let n = plan.pieces.len();
    let cut_at = if f.cut { n / 2 } else { n };
    let role = plan.chunk(json!({"role": "assistant", "content": ""}), Value::Null);
    if !out.write(role).await {
        return;
    }
    for i in 0..cut_at {
        if f.silence_after == Some(i) {
            out.flush().await;
            std::future::pending::<()>().await;
        }
        if let Some(d) = f.interval.filter(|_| i > 0) {
            tokio::time::sleep(d).await;
        }
        let content = if f.stamp { now_micros().to_string() } else { plan.pieces.get(i) };
        if !out.write(plan.content_chunk(&content)).await {
            return;
        }
        if f.error_event {
            let error = json!({"error": {"message": "test server: injected stream error", "type": "server_error"}});
            out.write(plan.event(&error.to_string())).await;
            out.flush().await;
            return;
        }
    }
    if f.cut {
        out.flush().await;
        return;
    }
    out.write(plan.chunk(json!({}), json!("stop"))).await;
    if plan.include_usage {
        let chunk = json!({"id": ID, "object": "chat.completion.chunk", "created": CREATED, "model": plan.model,
                           "choices": [], "usage": usage()});
        out.write(plan.event(&chunk.to_string())).await;
    }
    out.write(plan.event("[DONE]")).await;
    out.flush().await;
}

struct Writer {
    tx: mpsc::Sender<Bytes>,
    pending: BytesMut,
    paced: bool,
    split_utf8: bool,
}

impl Writer {
    /// Queues one event; returns `false` once the client is gone.
    async fn write(&mut self, event: String) -> bool {
        if self.split_utf8 {
            let cut = split_point(&event);
            if self.tx.send(Bytes::copy_from_slice(&event.as_bytes()[..cut])).await.is_err() {
                return false;
            }
            // A pause, so the two halves reach the client in separate reads.
            tokio::time::sleep(Duration::from_millis(5)).await;
            return self.tx.send(Bytes::copy_from_slice(&event.as_bytes()[cut..])).await.is_ok();
        }
        self.pending.extend_from_slice(event.as_bytes());
        if self.paced || self.pending.len() >= WRITE_BATCH { self.flush().await } else { true }
    }

    async fn flush(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        let bytes = self.pending.split().freeze();
        self.tx.send(bytes).await.is_ok()
    }
}

fn now_micros() -> u128 {
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
