//! `POST /v1/responses`: OpenAI's Responses API, one response object or an SSE stream of typed
//! events (`response.created`, `response.output_item.added`/`.done`, `response.output_text.delta`,
//! `response.function_call_arguments.delta`, `response.reasoning_summary_text.delta`, ...,
//! `response.completed`; no `[DONE]`). The answer is `"You said: <last user text>"`; a request
//! with `tools` gets a `function_call` of the first tool; an input that ends in a
//! `function_call_output` gets `"The tool returned: <output>"`. With the `reasoning` fault a
//! reasoning item comes first, whose final `encrypted_content` differs from the one it started
//! with (as the real API's may). `max_output_tokens` below the word count ends the answer
//! `incomplete`.

use bytes::{Bytes, BytesMut};
use hyper::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::answer;
use crate::capture::Captured;
use crate::faults::Faults;
use crate::openai::{REASONING, Writer};
use crate::respond::{Body, json, json_answer, streamed};

const ID: &str = "resp_aichat_test";
pub const ENCRYPTED: &str = "enc-aichat-test-final";

fn api_error(status: u16, message: &str) -> Response<Body> {
    json(status, &json!({"error": {"message": message, "type": "invalid_request_error", "code": null}}))
}

fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => {
            parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("")
        }
        _ => String::new(),
    }
}

/// `attempt`: this request's count under the `key` fault.
pub fn answer(req: &Captured, faults: &Faults, attempt: Option<u64>) -> Response<Body> {
    let Some(body) = req.json_body() else { return api_error(400, "test server: body is not JSON") };
    let Some(input) = body.get("input").and_then(Value::as_array) else {
        return api_error(400, "Missing required parameter: 'input'.");
    };
    if body.get("store") != Some(&json!(false)) {
        return api_error(400, "test server: a stateless client sends \"store\": false");
    }
    let model = body.get("model").and_then(Value::as_str).unwrap_or("gpt-test").to_string();
    let output = input.last().filter(|i| i.get("type").and_then(Value::as_str) == Some("function_call_output"));
    let last_user = input
        .iter()
        .rev()
        .find(|i| i.get("role").and_then(Value::as_str) == Some("user"))
        .map(|i| text_of(i.get("content")));
    let tool = body.get("tools").and_then(Value::as_array).and_then(|t| t.first()).map(|tool| {
        let name = tool.get("name").and_then(Value::as_str).unwrap_or("tool").to_string();
        (name, tool.get("parameters"))
    });
    let asked = answer::Asked {
        last_user,
        tool_result: output.map(|o| o.get("output").and_then(Value::as_str).unwrap_or("").to_string()),
        tool,
        max_tokens: body.get("max_output_tokens").and_then(Value::as_u64),
        ..Default::default()
    };
    let answer::Plan { words, call, cut_short: incomplete, failed, .. } =
        answer::Plan::new(req, faults, attempt, asked);
    let tool = call.map(|(name, args)| (name, args.to_string()));
    let plan = Plan { model, words, tool, incomplete, failed, faults: faults.clone() };
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        return streamed("text/event-stream", |tx| produce(plan, tx));
    }
    if failed {
        return json(500, &json!({"error": {"message": "The server had an error", "type": "server_error"}}));
    }
    let response = plan.response(plan.output());
    json_answer(
        response.to_string().into_bytes(),
        b"{\"output\":[{\"type\":\"message\",\"content\":\"\xff\"}]}",
        faults,
    )
}

struct Plan {
    model: String,
    words: Vec<String>,
    tool: Option<(String, String)>,
    incomplete: bool,
    /// Fail with `response.failed` before any output (the `overload-first` fault).
    failed: bool,
    faults: Faults,
}

impl Plan {
    fn reasoning_item(&self, encrypted: &str) -> Value {
        json!({"type": "reasoning", "id": "rs_aichat_0", "encrypted_content": encrypted,
            "summary": [{"type": "summary_text", "text": REASONING}]})
    }

    fn call_item(&self, name: &str, arguments: &str) -> Value {
        json!({"type": "function_call", "id": "fc_aichat_0", "call_id": "call_aichat_0", "name": name,
            "arguments": arguments, "status": "completed"})
    }

    /// The output items, final.
    fn output(&self) -> Vec<Value> {
        let mut items = Vec::new();
        if self.faults.reasoning.is_some() {
            items.push(self.reasoning_item(ENCRYPTED));
        }
        match &self.tool {
            Some((name, args)) => items.push(self.call_item(name, args)),
            None => items
                .push(json!({"type": "message", "id": "msg_aichat_0", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": self.words.concat(), "annotations": []}]})),
        }
        items
    }

    fn response(&self, output: Vec<Value>) -> Value {
        let mut response = json!({
            "id": ID, "object": "response", "model": self.model, "status": "completed", "output": output,
            "usage": {"input_tokens": 9, "input_tokens_details": {"cached_tokens": 3}, "output_tokens": 12,
                      "output_tokens_details": {"reasoning_tokens": 4}, "total_tokens": 21},
        });
        if self.incomplete {
            response["status"] = json!("incomplete");
            response["incomplete_details"] = json!({"reason": "max_output_tokens"});
        }
        response
    }

    fn event(&self, n: &mut u64, mut data: Value) -> String {
        let nl = self.faults.newline();
        data["sequence_number"] = json!(*n);
        *n += 1;
        let name = data["type"].as_str().unwrap_or("").to_string();
        let ping = if self.faults.keepalive { format!(": keep-alive{nl}{nl}") } else { String::new() };
        format!("{ping}event: {name}{nl}data: {data}{nl}{nl}")
    }
}

async fn produce(plan: Plan, tx: mpsc::Sender<Bytes>) {
    let f = &plan.faults;
    let paced = f.interval.is_some() || f.split_utf8;
    let mut out = Writer { tx, pending: BytesMut::new(), paced, split_utf8: f.split_utf8 };
    let mut n = 0;
    let created = json!({"id": ID, "object": "response", "model": plan.model, "status": "in_progress", "output": []});
    if !out.write(plan.event(&mut n, json!({"type": "response.created", "response": created.clone()}))).await {
        return;
    }
    out.write(plan.event(&mut n, json!({"type": "response.in_progress", "response": created}))).await;
    if plan.failed {
        let failed = json!({"id": ID, "status": "failed", "error": {"code": "server_error", "message": "The server had an error"}});
        out.write(plan.event(&mut n, json!({"type": "response.failed", "response": failed}))).await;
        out.flush().await;
        return;
    }
    let mut index = 0;
    if f.reasoning.is_some() {
        let added = json!({"type": "response.output_item.added", "output_index": index,
            "item": {"type": "reasoning", "id": "rs_aichat_0", "encrypted_content": "enc-partial", "summary": []}});
        out.write(plan.event(&mut n, added)).await;
        for word in answer::words(REASONING) {
            out.write(plan.event(
                &mut n,
                json!({"type": "response.reasoning_summary_text.delta",
                "item_id": "rs_aichat_0", "output_index": index, "summary_index": 0, "delta": word}),
            ))
            .await;
        }
        let done =
            json!({"type": "response.output_item.done", "output_index": index, "item": plan.reasoning_item(ENCRYPTED)});
        out.write(plan.event(&mut n, done)).await;
        index += 1;
    }
    if let Some((name, args)) = &plan.tool {
        let added = json!({"type": "response.output_item.added", "output_index": index,
            "item": {"type": "function_call", "id": "fc_aichat_0", "call_id": "call_aichat_0", "name": name,
                     "arguments": "", "status": "in_progress"}});
        out.write(plan.event(&mut n, added)).await;
        let cut = (args.len() / 2..=args.len()).find(|&i| args.is_char_boundary(i)).unwrap_or(0);
        for part in [&args[..cut], &args[cut..]] {
            out.write(plan.event(
                &mut n,
                json!({"type": "response.function_call_arguments.delta",
                "item_id": "fc_aichat_0", "output_index": index, "delta": part}),
            ))
            .await;
        }
        out.write(plan.event(
            &mut n,
            json!({"type": "response.function_call_arguments.done",
            "item_id": "fc_aichat_0", "output_index": index, "arguments": args}),
        ))
        .await;
        let done =
            json!({"type": "response.output_item.done", "output_index": index, "item": plan.call_item(name, args)});
        out.write(plan.event(&mut n, done)).await;
    } else {
        let added = json!({"type": "response.output_item.added", "output_index": index,
            "item": {"type": "message", "id": "msg_aichat_0", "role": "assistant", "status": "in_progress", "content": []}});
        out.write(plan.event(&mut n, added)).await;
        let cut_at = if f.cut { plan.words.len() / 2 } else { plan.words.len() };
        for (i, word) in plan.words.iter().take(cut_at).enumerate() {
            if f.silence_after == Some(i as u64) {
                out.flush().await;
                std::future::pending::<()>().await;
            }
            if let Some(d) = f.interval.filter(|_| i > 0) {
                tokio::time::sleep(d).await;
            }
            let delta = json!({"type": "response.output_text.delta", "item_id": "msg_aichat_0",
                "output_index": index, "content_index": 0, "delta": word});
            if !out.write(plan.event(&mut n, delta)).await {
                return;
            }
            if f.error_event {
                let error = json!({"type": "error", "code": "server_error", "message": "The server had an error", "param": null});
                out.write(plan.event(&mut n, error)).await;
                out.flush().await;
                return;
            }
        }
        if f.cut {
            out.flush().await;
            return;
        }
    }
    let kind = if plan.incomplete { "response.incomplete" } else { "response.completed" };
    let response = plan.response(plan.output());
    out.write(plan.event(&mut n, json!({"type": kind, "response": response}))).await;
    out.flush().await;
}
