//! `POST /v1beta/models/{model}:streamGenerateContent` (SSE of whole `GenerateContentResponse`
//! chunks, no `[DONE]`; the last chunk has the `finishReason`) and `:generateContent` (one
//! object): Google's Gemini API. The answer is `"You said: <last user text>"`; a request with
//! `tools` gets a `functionCall` of the first tool carrying a `thoughtSignature` (with
//! `parallel-tools`, a second call without one, as Gemini signs only the first of parallel
//! calls); contents that end in a `functionResponse` get `"The tool returned: <result>"`. Like
//! Gemini 3, a `functionCall` sent back without the signature it was given is answered 400.
//! With the `reasoning` fault a thought part comes first and the text ends with an empty part
//! carrying a signature, as real streams end.

use bytes::{Bytes, BytesMut};
use hyper::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::answer;
use crate::capture::Captured;
use crate::faults::{Faults, ToolStyle};
use crate::openai::{REASONING, Writer};
use crate::respond::{Body, json, json_answer, streamed};

const ID: &str = "gemini-aichat-test";
/// The signature the first function call carries, and the one a reasoned text ends with.
pub const CALL_SIGNATURE: &str = "sig-call-aichat-test";
pub const TEXT_SIGNATURE: &str = "sig-text-aichat-test";

/// An error in Google's shape.
fn api_error(code: u16, status: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message, "status": status}})
}

fn text_of(parts: Option<&Value>) -> String {
    parts
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| p.get("thought").and_then(Value::as_bool) != Some(true))
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect()
}

/// The model id of a path `/…/models/{model}:{method}`, and whether the method streams.
fn route(path: &str) -> (String, bool) {
    let tail = path.rsplit("/models/").next().unwrap_or("");
    let (model, method) = tail.rsplit_once(':').unwrap_or((tail, ""));
    let model = model.replace("%2F", "/").replace("%3F", "?").replace("%23", "#");
    (model, method == "streamGenerateContent")
}

/// The first model turn whose first `functionCall` part lacks the signature this server gave,
/// as Gemini 3 checks: its position in `contents`, and the function's name.
fn unsigned_call(contents: &[Value]) -> Option<(usize, String)> {
    contents.iter().enumerate().find_map(|(at, c)| {
        let parts = c.get("parts").and_then(Value::as_array).into_iter().flatten();
        let first = parts.into_iter().find(|p| p.get("functionCall").is_some())?;
        let unsigned = c.get("role").and_then(Value::as_str) == Some("model")
            && first.get("thoughtSignature").and_then(Value::as_str) != Some(CALL_SIGNATURE);
        let name = first.pointer("/functionCall/name").and_then(Value::as_str).unwrap_or("");
        unsigned.then(|| (at, name.to_string()))
    })
}

/// `attempt`: this request's count under the `key` fault.
pub fn answer(req: &Captured, faults: &Faults, attempt: Option<u64>) -> Response<Body> {
    let Some(body) = req.json_body() else {
        return json(400, &api_error(400, "INVALID_ARGUMENT", "test server: body is not JSON"));
    };
    let Some(contents) = body.get("contents").and_then(Value::as_array) else {
        return json(
            400,
            &api_error(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified"),
        );
    };
    if let Some((at, name)) = unsigned_call(contents).filter(|_| !faults.echo) {
        let message = format!(
            "Function call is missing a thought_signature in functionCall parts. This is required for tools to \
             work correctly, and missing thought_signature may lead to degraded model performance. Additional data, \
             function call `default_api:{name}` , position {at}."
        );
        return json(400, &api_error(400, "INVALID_ARGUMENT", &message));
    }
    let (model, stream) = route(&req.path);
    let last = contents.last();
    let result = last
        .and_then(|c| c.get("parts"))
        .and_then(Value::as_array)
        .and_then(|parts| parts.last())
        .and_then(|p| p.pointer("/functionResponse/response"));
    let last_user = contents
        .iter()
        .rev()
        .find(|c| c.get("role").and_then(Value::as_str) == Some("user") && !text_of(c.get("parts")).is_empty())
        .map(|c| text_of(c.get("parts")));
    let tool =
        body.pointer("/tools/0/functionDeclarations").and_then(Value::as_array).and_then(|d| d.first()).map(|first| {
            let name = first.get("name").and_then(Value::as_str).unwrap_or("tool").to_string();
            (name, first.get("parameters"))
        });
    let asked = answer::Asked {
        last_user,
        tool_result: result.map(|result| match result.get("result") {
            Some(Value::String(s)) => s.clone(),
            _ => result.to_string(),
        }),
        tool,
        max_tokens: body.pointer("/generationConfig/maxOutputTokens").and_then(Value::as_u64),
        ..Default::default()
    };
    let answer::Plan { words, call, cut_short, failed, .. } = answer::Plan::new(req, faults, attempt, asked);
    let mut calls = Vec::new();
    if let Some((name, args)) = call {
        calls.push(json!({"functionCall": {"name": name, "args": args}, "thoughtSignature": CALL_SIGNATURE}));
        if faults.tool_style == ToolStyle::Parallel {
            calls.push(json!({"functionCall": {"name": name, "args": args}}));
        }
    }
    let plan = Plan { model, words, calls, cut_short, faults: faults.clone() };
    if stream {
        return streamed("text/event-stream", |tx| produce(plan, failed, tx));
    }
    if failed {
        return json(503, &api_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."));
    }
    let mut parts = Vec::new();
    if plan.faults.reasoning.is_some() {
        parts.push(json!({"text": REASONING, "thought": true}));
    }
    if plan.calls.is_empty() {
        let mut part = json!({"text": plan.words.concat()});
        if plan.faults.reasoning.is_some() {
            part["thoughtSignature"] = json!(TEXT_SIGNATURE);
        }
        parts.push(part);
    }
    parts.extend(plan.calls.iter().cloned());
    let whole = plan.chunk(parts, Some(plan.finish_reason()), true);
    json_answer(
        whole.to_string().into_bytes(),
        b"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\xff\"}]}}]}",
        faults,
    )
}

struct Plan {
    model: String,
    words: Vec<String>,
    calls: Vec<Value>,
    cut_short: bool,
    faults: Faults,
}

impl Plan {
    fn finish_reason(&self) -> &'static str {
        if self.cut_short { "MAX_TOKENS" } else { "STOP" }
    }

    /// One response object; the final one has the whole usage, the others a running count.
    fn chunk(&self, parts: Vec<Value>, finish: Option<&str>, last: bool) -> Value {
        let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
        if let Some(reason) = finish {
            candidate["finishReason"] = json!(reason);
        }
        let usage = if last {
            json!({"promptTokenCount": 9, "candidatesTokenCount": 8, "thoughtsTokenCount": 4,
                   "totalTokenCount": 21, "cachedContentTokenCount": 3})
        } else {
            json!({"promptTokenCount": 9, "totalTokenCount": 9})
        };
        json!({"candidates": [candidate], "usageMetadata": usage, "modelVersion": self.model, "responseId": ID})
    }

    fn event(&self, data: &Value) -> String {
        let nl = self.faults.newline();
        let ping = if self.faults.keepalive { format!(": keep-alive{nl}{nl}") } else { String::new() };
        format!("{ping}data: {data}{nl}{nl}")
    }
}

async fn produce(plan: Plan, failed: bool, tx: mpsc::Sender<Bytes>) {
    let f = &plan.faults;
    let paced = f.interval.is_some() || f.split_utf8;
    let mut out = Writer { tx, pending: BytesMut::new(), paced, split_utf8: f.split_utf8 };
    if failed {
        out.write(plan.event(&api_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."))).await;
        out.flush().await;
        return;
    }
    if f.reasoning.is_some() {
        for word in answer::words(REASONING) {
            if !out.write(plan.event(&plan.chunk(vec![json!({"text": word, "thought": true})], None, false))).await {
                return;
            }
        }
    }
    if !plan.calls.is_empty() {
        let chunk = plan.chunk(plan.calls.clone(), Some(plan.finish_reason()), true);
        out.write(plan.event(&chunk)).await;
        out.flush().await;
        return;
    }
    let cut_at = if f.cut { plan.words.len() / 2 } else { plan.words.len() };
    for (i, word) in plan.words.iter().take(cut_at).enumerate() {
        if f.silence_after == Some(i as u64) {
            out.flush().await;
            std::future::pending::<()>().await;
        }
        if let Some(d) = f.interval.filter(|_| i > 0) {
            tokio::time::sleep(d).await;
        }
        if !out.write(plan.event(&plan.chunk(vec![json!({"text": word})], None, false))).await {
            return;
        }
        if f.error_event {
            out.write(plan.event(&api_error(500, "INTERNAL", "An internal error has occurred."))).await;
            out.flush().await;
            return;
        }
    }
    if f.cut {
        out.flush().await;
        return;
    }
    // The end: an empty text part, with the signature when the model thought.
    let mut end = json!({"text": ""});
    if f.reasoning.is_some() {
        end["thoughtSignature"] = json!(TEXT_SIGNATURE);
    }
    out.write(plan.event(&plan.chunk(vec![end], Some(plan.finish_reason()), true))).await;
    out.flush().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_names_the_model_and_the_method() {
        assert_eq!(route("/v1beta/models/gemini-test:streamGenerateContent"), ("gemini-test".into(), true));
        assert_eq!(route("/v1beta/models/a%2Fb:generateContent"), ("a/b".into(), false));
    }

    #[test]
    fn a_call_sent_back_without_its_signature_is_found() {
        let signed = json!({"role": "model", "parts": [{"functionCall": {"name": "f"}, "thoughtSignature": CALL_SIGNATURE},
                                                       {"functionCall": {"name": "f"}}]});
        let unsigned = json!({"role": "model", "parts": [{"text": "x"}, {"functionCall": {"name": "f"}}]});
        assert_eq!(unsigned_call(&[json!({"role": "user"}), signed.clone()]), None);
        assert_eq!(unsigned_call(&[json!({"role": "user"}), signed, unsigned]), Some((2, "f".to_string())));
    }
}
