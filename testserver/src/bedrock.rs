//! `POST /model/{modelId}/converse-stream` and `POST /model/{modelId}/converse`: Amazon
//! Bedrock's Converse API. The stream is AWS event-stream binary messages
//! (`application/vnd.amazon.eventstream`, see [`crate::eventstream`]): `messageStart`, a
//! reasoning block (deltas, then its signature) with the `reasoning` fault, the text's
//! `contentBlockDelta`s or a `toolUse` block (`contentBlockStart` with the id and name, the
//! input JSON in three fragments), `contentBlockStop`, `messageStop` with the stop reason and
//! `metadata` with usage and metrics; every event's JSON carries Bedrock's `"p"` padding.
//! `converse` answers the same as one JSON object.
//!
//! The answer is the shared plan's (see [`crate::answer`]): `"You said: <last user text>"`; a
//! `toolUse` of the first tool when `toolConfig` offers tools (of the tool `toolChoice` names);
//! `"The tool returned: <result>"` when the last turn ends in a `toolResult`; cut to
//! `inferenceConfig.maxTokens` words (`max_tokens`) or before a stop sequence (`stop_sequence`).
//!
//! Every request must authenticate: `Authorization: Bearer <token>` (any token that is not
//! empty, or only the `bearer` fault's), or SigV4 with one of [`crate::sigv4::CREDENTIALS`]
//! (service `bedrock`, any region); else 403 as AWS answers. A conversation Bedrock refuses is
//! answered 400 `ValidationException` with Bedrock's message: one that does not start with a
//! user turn or whose roles do not alternate, a blank text block, a `toolUse` without its
//! `toolResult` in the next turn (or a result without its use), tool blocks without
//! `toolConfig`, a reasoning block sent back without [`SIGNATURE`] or with other text (not
//! checked with `echo`), and out-of-range `inferenceConfig`. The model id arrives
//! percent-encoded (an ARN's `:` and `/` as `%3A`, `%2F`); decoded, it must be made of
//! `A-Za-z0-9.:/_-` (so one encoded twice is refused), and the answer's `x-aichat-model-id`
//! header shows it. Errors carry `x-amzn-errortype: <Type>:<namespace>` and `{"message"}`;
//! every answer carries `x-amzn-requestid`.

use bytes::{Bytes, BytesMut};
use hyper::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::answer;
use crate::capture::Captured;
use crate::eventstream;
use crate::faults::{Faults, ToolStyle};
use crate::openai::{REASONING, Writer};
use crate::respond::{Body, json, json_answer, streamed, with_content_type_fault, with_header};
use crate::sigv4;

/// The `x-amzn-requestid` of every answer.
pub const REQUEST_ID: &str = "a1c4a7e5-7e57-4b3d-8ed2-00000000b3d0";
/// The signature of the reasoning block, which must come back with the block.
pub const SIGNATURE: &str = "sig-bedrock-aichat-test";
/// Tool-use ids are this and the call's number.
pub const TOOL_USE_ID: &str = "tooluse_aichatTest";
const NAMESPACE: &str = "http://internal.amazon.com/coral/com.amazon.bedrock/";
/// Authentication errors come from AWS's front door, not from Bedrock.
const AUTH_NAMESPACE: &str = "http://internal.amazon.com/coral/com.amazon.coral.service/";
const PADDING: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LATENCY_MS: u64 = 42;

fn error_in(status: u16, kind: &str, namespace: &str, message: &str) -> Response<Body> {
    let response = json(status, &json!({"message": message}));
    let response = with_header(response, "x-amzn-errortype", &format!("{kind}:{namespace}"));
    with_header(response, "x-amzn-requestid", REQUEST_ID)
}

/// A Bedrock error answer of this type.
fn error_of(status: u16, kind: &str, message: &str) -> Response<Body> {
    error_in(status, kind, NAMESPACE, message)
}

/// The error answer for an injected status, its type the one Bedrock uses for that status.
pub fn error(status: u16, message: &str) -> Response<Body> {
    let kind = match status {
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        408 => "ModelTimeoutException",
        424 => "ModelErrorException",
        429 => "ThrottlingException",
        503 => "ServiceUnavailableException",
        500.. => "InternalServerException",
        _ => "ValidationException",
    };
    error_of(status, kind, message)
}

fn invalid(message: &str) -> Response<Body> {
    error_of(400, "ValidationException", message)
}

/// A stream exception's type (`throttlingException`) as an HTTP error: its status and type
/// (`ThrottlingException`).
pub fn http_status(exception: &str) -> (u16, String) {
    let status = match exception {
        "throttlingException" | "modelNotReadyException" => 429,
        "serviceUnavailableException" => 503,
        "validationException" | "serviceQuotaExceededException" => 400,
        "accessDeniedException" => 403,
        "resourceNotFoundException" => 404,
        "modelTimeoutException" => 408,
        "modelStreamErrorException" | "modelErrorException" => 424,
        _ => 500,
    };
    let mut kind = exception.to_string();
    if let Some(first) = kind.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    (status, kind)
}

fn exception_message(kind: &str) -> &'static str {
    match kind {
        "throttlingException" => "Too many requests, please wait before trying again.",
        "serviceUnavailableException" => "Bedrock is unable to process your request.",
        "internalServerException" => {
            "The system encountered an unexpected error during processing. Try your request again."
        }
        "modelStreamErrorException" => "The model stream encountered an error. Try your request again.",
        "validationException" => "The request failed validation.",
        _ => "test server: injected exception",
    }
}

/// Checks the request's credentials (a Bearer token, or a SigV4 signature by a test
/// credential): the 403 answer when they do not pass.
pub fn refusal(req: &Captured, faults: &Faults) -> Option<Response<Body>> {
    let refuse = |status: u16, kind: &str, message: &str| Some(error_in(status, kind, AUTH_NAMESPACE, message));
    let Some(authorization) = req.headers.iter().find(|(n, _)| n == "authorization").map(|(_, v)| v.as_str()) else {
        return refuse(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    };
    if let Some(token) = authorization.strip_prefix("Bearer ") {
        let token = token.trim();
        if token.is_empty() || faults.bearer.as_deref().is_some_and(|t| t != token) {
            return refuse(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            );
        }
        return None;
    }
    let request = sigv4::Request {
        method: &req.method,
        path: &req.path,
        query: req.query.as_deref(),
        headers: &req.headers,
        body: &req.body,
    };
    match sigv4::verify(&request, &sigv4::Rules::bedrock()) {
        Ok(_) => None,
        Err(rejection) => refuse(rejection.status, rejection.kind, &rejection.message),
    }
}

/// The model id of the path (decoded) and whether the method streams.
fn route(path: &str) -> (String, bool) {
    let tail = path.rsplit_once("/model/").map_or("", |(_, tail)| tail);
    let (id, method) = tail.rsplit_once('/').unwrap_or((tail, ""));
    (String::from_utf8_lossy(&sigv4::decode(id)).into_owned(), method == "converse-stream")
}

fn valid_model_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 2048 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b".:/_-".contains(&b))
}

/// `attempt`: this request's count under the `key` fault.
pub fn answer(req: &Captured, faults: &Faults, attempt: Option<u64>) -> Response<Body> {
    let (model, stream) = route(&req.path);
    let mut response = with_header(answer_body(req, faults, attempt, &model, stream), "x-amzn-requestid", REQUEST_ID);
    response = with_header(response, "x-aichat-model-id", &model);
    with_content_type_fault(response, faults.content_type.as_deref())
}

/// A `toolSpec`'s name and the JSON Schema of its input.
fn spec_of(spec: &Value) -> (String, Option<&Value>) {
    (spec["name"].as_str().unwrap_or("tool").to_string(), spec.pointer("/inputSchema/json"))
}

/// The text of a turn's text blocks.
fn text_of(content: Option<&Value>) -> String {
    let blocks = content.and_then(Value::as_array).into_iter().flatten();
    blocks.filter_map(|b| b.get("text").and_then(Value::as_str)).collect()
}

/// A tool result's content as text: its text blocks, and its JSON blocks serialized.
fn result_text(result: &Value) -> String {
    let blocks = result.get("content").and_then(Value::as_array).into_iter().flatten();
    blocks
        .map(|b| match (b.get("text"), b.get("json")) {
            (Some(Value::String(text)), _) => text.clone(),
            (_, Some(json)) => json.to_string(),
            _ => String::new(),
        })
        .collect()
}

fn answer_body(req: &Captured, faults: &Faults, attempt: Option<u64>, model: &str, stream: bool) -> Response<Body> {
    if !valid_model_id(model) {
        return invalid("The provided model identifier is invalid.");
    }
    let Some(body) = req.json_body() else {
        return error_of(400, "SerializationException", "test server: the body is not JSON");
    };
    if let Err(message) = validate(&body, !faults.echo) {
        return invalid(&message);
    }
    let messages = body["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
    let last_user = messages
        .iter()
        .rev()
        .filter(|m| m["role"] == "user")
        .map(|m| text_of(m.get("content")))
        .find(|text| !text.is_empty());
    let tool_result = messages
        .last()
        .filter(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_array())
        .and_then(|blocks| blocks.iter().rev().find_map(|b| b.get("toolResult")))
        .map(result_text);
    let specs: Vec<&Value> = body
        .pointer("/toolConfig/tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("toolSpec"))
        .collect();
    let chosen = body.pointer("/toolConfig/toolChoice/tool/name").and_then(Value::as_str);
    let first = chosen.and_then(|name| specs.iter().position(|s| s["name"] == name)).unwrap_or(0);
    let stop = body.pointer("/inferenceConfig/stopSequences").and_then(Value::as_array).into_iter().flatten();
    let asked = answer::Asked {
        last_user: last_user.clone(),
        tool_result,
        tool: specs.get(first).map(|s| spec_of(s)),
        max_tokens: body.pointer("/inferenceConfig/maxTokens").and_then(Value::as_u64),
        stop: stop.filter_map(Value::as_str).map(str::to_string).collect(),
    };
    let plan = answer::Plan::new(req, faults, attempt, asked);
    let mut calls: Vec<(String, Value)> = plan.call.clone().into_iter().collect();
    if faults.tool_style == ToolStyle::Parallel && !calls.is_empty() {
        // The second call: of the second tool (the first, when the first call was of another).
        let (name, schema) = spec_of(specs.get(if first == 0 { 1 } else { 0 }).unwrap_or(&specs[first]));
        calls.push((name, answer::tool_arguments(schema, last_user.as_deref().unwrap_or(""))));
    }
    // The exception this attempt gets: `exception` on every attempt, or with `overload-first`
    // on the first attempts only (then `serviceUnavailableException` unless named).
    let exception = match (&faults.exception, faults.overload_first) {
        (Some(exception), None) => Some(exception.clone()),
        (exception, Some(_)) if plan.failed => {
            Some(exception.clone().unwrap_or(("serviceUnavailableException".to_string(), None)))
        }
        _ => None,
    };
    let stop_reason = if !calls.is_empty() {
        "tool_use"
    } else if plan.cut_short {
        "max_tokens"
    } else if plan.stopped {
        "stop_sequence"
    } else {
        "end_turn"
    };
    let answer = Answer { words: plan.words, calls, stop_reason, exception, faults: faults.clone() };
    if stream {
        return streamed("application/vnd.amazon.eventstream", |tx| produce(answer, tx));
    }
    if let Some((kind, _)) = &answer.exception {
        let (status, kind_name) = http_status(kind);
        return error_of(status, &kind_name, exception_message(kind));
    }
    let mut content = Vec::new();
    if faults.reasoning.is_some() {
        content.push(json!({"reasoningContent": {"reasoningText": {"text": REASONING, "signature": SIGNATURE}}}));
    }
    if answer.calls.is_empty() {
        content.push(json!({"text": answer.words.concat()}));
    }
    for (i, (name, input)) in answer.calls.iter().enumerate() {
        content.push(json!({"toolUse": {"toolUseId": format!("{TOOL_USE_ID}{i}"), "name": name, "input": input}}));
    }
    let whole = json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason, "usage": usage(), "metrics": {"latencyMs": LATENCY_MS},
    });
    json_answer(
        whole.to_string().into_bytes(),
        b"{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[{\"text\":\"\xff\"}]}},\"stopReason\":\"end_turn\"}",
        faults,
    )
}

fn usage() -> Value {
    json!({"inputTokens": 6, "outputTokens": 12, "totalTokens": 23, "cacheReadInputTokens": 3,
           "cacheWriteInputTokens": 2})
}

/// Why Bedrock would refuse this request body, in its words; `signatures`: check that reasoning
/// blocks come back as they were given.
fn validate(body: &Value, signatures: bool) -> Result<(), String> {
    let constraint = |value: &Value, at: &str, rule: &str| {
        format!(
            "1 validation error detected: Value '{value}' at '{at}' failed to satisfy constraint: Member must {rule}"
        )
    };
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Err(constraint(&Value::Null, "messages", "not be null"));
    };
    let mut uses_tools = false;
    // The tool-use ids of the previous (assistant) turn.
    let mut open_uses: Vec<String> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        if role != "user" && role != "assistant" {
            let at = format!("messages.{}.member.role", i + 1);
            return Err(constraint(&m["role"], &at, "satisfy enum value set: [user, assistant]"));
        }
        if i == 0 && role != "user" {
            return Err("A conversation must start with a user message. Try again with a conversation that starts \
                        with a user message."
                .to_string());
        }
        if i > 0 && messages[i - 1]["role"] == role {
            return Err("A conversation must alternate between user and assistant roles. Make sure the \
                        conversation alternates between user and assistant roles and try again."
                .to_string());
        }
        let blocks = m.get("content").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        if blocks.is_empty() {
            return Err(format!(
                "The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to the \
                 content field and try again."
            ));
        }
        let mut uses = Vec::new();
        let mut results = Vec::new();
        for (j, block) in blocks.iter().enumerate() {
            let at = format!("messages.{i}.content.{j}");
            let Some((kind, value)) = block.as_object().filter(|o| o.len() == 1).and_then(|o| o.iter().next()) else {
                return Err(format!("The ContentBlock object at {at} must set exactly one of its members."));
            };
            match kind.as_str() {
                "text" => {
                    if value.as_str().is_none_or(|t| t.trim().is_empty()) {
                        return Err(format!(
                            "The text field in the ContentBlock object at {at} is blank. Add text to the text field, \
                             and try again."
                        ));
                    }
                }
                "image" => {
                    let format = value["format"].as_str().unwrap_or("");
                    if !["png", "jpeg", "gif", "webp"].contains(&format) {
                        return Err(constraint(
                            &value["format"],
                            &format!("{at}.image.format"),
                            "satisfy enum value set: [png, jpeg, gif, webp]",
                        ));
                    }
                    use base64::Engine;
                    let bytes = value.pointer("/source/bytes").and_then(Value::as_str).unwrap_or("");
                    if bytes.is_empty() || base64::engine::general_purpose::STANDARD.decode(bytes).is_err() {
                        return Err(format!("{at}.image.source.bytes: the image is not valid base64 bytes"));
                    }
                }
                "toolUse" if role == "assistant" => {
                    uses_tools = true;
                    let id = value["toolUseId"].as_str().filter(|s| !s.is_empty());
                    let name = value["name"].as_str().filter(|s| !s.is_empty());
                    let (Some(id), Some(_)) = (id, name) else {
                        return Err(format!("{at}.toolUse: toolUseId and name are required"));
                    };
                    if !value["input"].is_object() {
                        return Err(format!("{at}.toolUse.input: the input must be a JSON object"));
                    }
                    uses.push(id.to_string());
                }
                "toolResult" if role == "user" => {
                    uses_tools = true;
                    let Some(id) = value["toolUseId"].as_str() else {
                        return Err(constraint(&Value::Null, &format!("{at}.toolResult.toolUseId"), "not be null"));
                    };
                    let parts = value["content"].as_array().map(Vec::as_slice).unwrap_or_default();
                    if let Some(k) = parts.iter().position(|p| {
                        p.get("text").is_none()
                            && p.get("json").is_none()
                            && p.get("image").is_none()
                            && p.get("document").is_none()
                    }) {
                        return Err(format!(
                            "{at}.toolResult.content.{k}: a result block is text, json, image or document"
                        ));
                    }
                    if let Some(status) = value.get("status").filter(|s| *s != "success" && *s != "error") {
                        return Err(constraint(
                            status,
                            &format!("{at}.toolResult.status"),
                            "satisfy enum value set: [success, error]",
                        ));
                    }
                    results.push(id.to_string());
                }
                "reasoningContent" if role == "assistant" => {
                    if value.get("redactedContent").is_some() {
                        continue;
                    }
                    let text = value.pointer("/reasoningText/text").and_then(Value::as_str);
                    let signature = value.pointer("/reasoningText/signature").and_then(Value::as_str);
                    if text.is_none() {
                        return Err(format!(
                            "{at}.reasoningContent: reasoningText.text or redactedContent is required"
                        ));
                    }
                    if signatures && signature.is_none() {
                        return Err(format!("{at}.reasoningContent.reasoningText.signature: Field required"));
                    }
                    if signatures && (signature != Some(SIGNATURE) || text != Some(REASONING)) {
                        return Err(format!("{at}: Invalid `signature` in `thinking` block"));
                    }
                }
                "toolUse" | "toolResult" | "reasoningContent" => {
                    return Err(format!("{at}: a {kind} block cannot be in a {role} message."));
                }
                "document" | "video" | "cachePoint" | "guardContent" | "citationsContent" => {}
                _ => return Err(format!("The ContentBlock object at {at} has an unknown member {kind:?}.")),
            }
        }
        if role == "user" {
            let missing: Vec<&str> = open_uses.iter().filter(|u| !results.contains(u)).map(String::as_str).collect();
            if !missing.is_empty() {
                return Err(format!(
                    "Expected toolResult blocks at messages.{i}.content for the following Ids: {}",
                    missing.join(", ")
                ));
            }
            if results.iter().any(|r| !open_uses.contains(r)) {
                return Err(format!(
                    "The number of toolResult blocks at messages.{i}.content exceeds the number of toolUse blocks of \
                     previous turn."
                ));
            }
        }
        open_uses = uses;
    }
    if let Some(system) = body.get("system") {
        let blocks = system.as_array().ok_or_else(|| constraint(system, "system", "be a list"))?;
        for (j, block) in blocks.iter().enumerate() {
            if block.get("text").is_some_and(|t| t.as_str().is_none_or(|t| t.trim().is_empty())) {
                return Err(format!(
                    "The text field in the SystemContentBlock object at system.{j} is blank. Add text to the text \
                     field, and try again."
                ));
            }
        }
    }
    let config = body.get("inferenceConfig").unwrap_or(&Value::Null);
    if let Some(n) = config.get("maxTokens").filter(|n| n.as_u64().is_none_or(|n| n < 1)) {
        return Err(constraint(n, "inferenceConfig.maxTokens", "have value greater than or equal to 1"));
    }
    for field in ["temperature", "topP"] {
        if let Some(v) = config.get(field).filter(|v| v.as_f64().is_none_or(|v| !(0.0..=1.0).contains(&v))) {
            let rule = if v.as_f64().is_some_and(|v| v < 0.0) {
                "have value greater than or equal to 0"
            } else {
                "have value less than or equal to 1"
            };
            return Err(constraint(v, &format!("inferenceConfig.{field}"), rule));
        }
    }
    if let Some(stop) = config.get("stopSequences") {
        let all_strings = stop.as_array().is_some_and(|s| s.iter().all(Value::is_string));
        if !all_strings || stop.as_array().is_some_and(|s| s.len() > 4) {
            return Err(constraint(stop, "inferenceConfig.stopSequences", "have length less than or equal to 4"));
        }
    }
    match body.get("toolConfig") {
        None if uses_tools => {
            return Err(
                "The toolConfig field must be defined when using toolUse and toolResult content blocks.".to_string()
            );
        }
        None => {}
        Some(config) => {
            let tools = config.get("tools").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            if tools.is_empty() {
                return Err(constraint(&config["tools"], "toolConfig.tools", "have length greater than or equal to 1"));
            }
            let mut names = Vec::new();
            for (k, tool) in tools.iter().enumerate() {
                if tool.get("cachePoint").is_some() {
                    continue;
                }
                let name = tool.pointer("/toolSpec/name").and_then(Value::as_str).unwrap_or("");
                let valid = !name.is_empty()
                    && name.len() <= 64
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !valid {
                    let at = format!("toolConfig.tools.{}.member.toolSpec.name", k + 1);
                    return Err(constraint(&json!(name), &at, "satisfy regular expression pattern: [a-zA-Z0-9_-]+"));
                }
                if !tool.pointer("/toolSpec/inputSchema/json").is_some_and(Value::is_object) {
                    return Err(format!("toolConfig.tools.{k}.toolSpec.inputSchema: the json schema is required"));
                }
                names.push(name);
            }
            if let Some(choice) = config.get("toolChoice") {
                let kinds: Vec<&String> = choice.as_object().map(|o| o.keys().collect()).unwrap_or_default();
                let one_of = kinds.len() == 1 && ["auto", "any", "tool"].contains(&kinds[0].as_str());
                if !one_of {
                    return Err("The toolChoice object must set exactly one of auto, any and tool.".to_string());
                }
                if let Some(tool) = choice.get("tool") {
                    let name = tool["name"].as_str().unwrap_or("");
                    if !names.contains(&name) {
                        return Err(format!("toolConfig.toolChoice.tool.name: {name:?} is not one of the tools"));
                    }
                }
            }
        }
    }
    Ok(())
}

/// What one stream sends.
struct Answer {
    words: Vec<String>,
    calls: Vec<(String, Value)>,
    stop_reason: &'static str,
    /// The exception this attempt gets, and after how many deltas (`None`: before anything).
    exception: Option<(String, Option<u64>)>,
    faults: Faults,
}

/// The tool input cut into three fragments (on character boundaries).
fn fragments(text: &str) -> Vec<&str> {
    let cut = |k: usize| (k * text.len() / 3..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
    let (one, two) = (cut(1), cut(2));
    [&text[..one], &text[one..two], &text[two..]].into_iter().filter(|f| !f.is_empty()).collect()
}

/// Where `split-utf8` cuts a message: inside the first multi-byte character of its payload,
/// else in the middle.
fn split_point(message: &[u8]) -> usize {
    let headers_len = u32::from_be_bytes([message[4], message[5], message[6], message[7]]) as usize;
    let payload = eventstream::PRELUDE + headers_len..message.len() - 4;
    let start = payload.start;
    message[payload].iter().position(|&b| b >= 0xC0).map_or(message.len() / 2, |i| start + i + 1)
}

/// Writes the messages, counting them for the faults that name one.
struct Out {
    out: Writer,
    faults: Faults,
    /// Messages written so far.
    sent: u64,
    /// `contentBlockDelta` messages written so far.
    deltas: u64,
    exception: Option<(String, Option<u64>)>,
}

impl Out {
    /// One message; `false` when the stream must end (the client left, or `cut-inside` cut it).
    async fn message(&mut self, headers: &[(&str, &str)], payload: &[u8]) -> bool {
        let mut bytes = eventstream::encode(headers, payload);
        let n = self.sent;
        self.sent += 1;
        if self.faults.bad_prelude_crc == Some(n) {
            bytes[eventstream::PRELUDE - 1] ^= 1;
        }
        if self.faults.bad_message_crc == Some(n) {
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
        }
        if self.faults.cut_inside == Some(n) {
            let half = &bytes[..bytes.len() / 2];
            self.out.write_bytes(half, half.len() / 2).await;
            self.out.flush().await;
            return false;
        }
        let cut = split_point(&bytes);
        self.out.write_bytes(&bytes, cut).await
    }

    /// An event with Bedrock's padding field, whose length changes from message to message.
    async fn event(&mut self, kind: &str, mut payload: Value) -> bool {
        payload["p"] = json!(&PADDING[..1 + (self.sent as usize * 7) % PADDING.len()]);
        let headers = [(":event-type", kind), (":content-type", "application/json"), (":message-type", "event")];
        self.message(&headers, payload.to_string().as_bytes()).await
    }

    /// The exception message; the stream ends after it.
    async fn exception(&mut self, kind: &str) {
        let payload = json!({"message": exception_message(kind)}).to_string();
        let headers =
            [(":exception-type", kind), (":content-type", "application/json"), (":message-type", "exception")];
        self.message(&headers, payload.as_bytes()).await;
        self.out.flush().await;
        self.exception = None;
    }

    /// Sends the exception if it is due after `self.deltas` deltas; whether it was.
    async fn exception_due(&mut self) -> bool {
        match self.exception.clone() {
            Some((kind, Some(at))) if at == self.deltas => {
                self.exception(&kind).await;
                true
            }
            _ => false,
        }
    }

    /// A `contentBlockDelta`; `false` when the stream must end.
    async fn delta(&mut self, index: usize, delta: Value) -> bool {
        if !self.event("contentBlockDelta", json!({"contentBlockIndex": index, "delta": delta})).await {
            return false;
        }
        self.deltas += 1;
        !self.exception_due().await
    }
}

async fn produce(answer: Answer, tx: mpsc::Sender<Bytes>) {
    let f = &answer.faults;
    let paced = f.interval.is_some() || f.split_utf8;
    let writer = Writer { tx, pending: BytesMut::new(), paced, split_utf8: f.split_utf8 };
    let mut out = Out { out: writer, faults: f.clone(), sent: 0, deltas: 0, exception: answer.exception.clone() };
    if let Some((kind, None)) = answer.exception.clone() {
        out.exception(&kind).await;
        return;
    }
    if !out.event("messageStart", json!({"role": "assistant"})).await || out.exception_due().await {
        return;
    }
    let mut index = 0;
    if f.reasoning.is_some() {
        for word in answer::words(REASONING) {
            if !out.delta(index, json!({"reasoningContent": {"text": word}})).await {
                return;
            }
        }
        if !out.delta(index, json!({"reasoningContent": {"signature": SIGNATURE}})).await
            || !out.event("contentBlockStop", json!({"contentBlockIndex": index})).await
        {
            return;
        }
        index += 1;
    }
    if answer.calls.is_empty() {
        let cut_at = if f.cut { answer.words.len() / 2 } else { answer.words.len() };
        for (i, word) in answer.words.iter().take(cut_at).enumerate() {
            if f.silence_after == Some(i as u64) {
                out.out.flush().await;
                std::future::pending::<()>().await;
            }
            if let Some(d) = f.interval.filter(|_| i > 0) {
                tokio::time::sleep(d).await;
            }
            if !out.delta(index, json!({"text": word})).await {
                return;
            }
            if f.error_event {
                out.exception("modelStreamErrorException").await;
                return;
            }
        }
        if f.cut {
            out.out.flush().await;
            return;
        }
        if !out.event("contentBlockStop", json!({"contentBlockIndex": index})).await {
            return;
        }
    }
    for (i, (name, input)) in answer.calls.iter().enumerate() {
        let start = json!({"contentBlockIndex": index,
            "start": {"toolUse": {"toolUseId": format!("{TOOL_USE_ID}{i}"), "name": name}}});
        if !out.event("contentBlockStart", start).await {
            return;
        }
        for fragment in fragments(&input.to_string()) {
            if !out.delta(index, json!({"toolUse": {"input": fragment}})).await {
                return;
            }
        }
        if !out.event("contentBlockStop", json!({"contentBlockIndex": index})).await {
            return;
        }
        index += 1;
    }
    // An exception placed after more deltas than the answer has comes before the end.
    if let Some((kind, Some(_))) = out.exception.clone() {
        out.exception(&kind).await;
        return;
    }
    if !out.event("messageStop", json!({"stopReason": answer.stop_reason})).await {
        return;
    }
    out.event("metadata", json!({"usage": usage(), "metrics": {"latencyMs": LATENCY_MS}})).await;
    out.out.flush().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_decodes_the_model_id() {
        let arn =
            "/fault/echo/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.x/converse";
        assert_eq!(route(arn), ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x".into(), false));
        assert_eq!(route("/model/anthropic.claude-v2%3A1/converse-stream"), ("anthropic.claude-v2:1".into(), true));
        assert!(valid_model_id("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x"));
        assert!(!valid_model_id(&route("/model/arn%253Aaws/converse").0), "encoded twice");
    }

    #[test]
    fn exceptions_map_to_http_errors() {
        assert_eq!(http_status("throttlingException"), (429, "ThrottlingException".into()));
        assert_eq!(http_status("serviceUnavailableException"), (503, "ServiceUnavailableException".into()));
        assert_eq!(http_status("whatever"), (500, "Whatever".into()));
    }

    fn user(text: &str) -> Value {
        json!({"role": "user", "content": [{"text": text}]})
    }

    #[test]
    fn conversations_bedrock_refuses_are_refused() {
        let tools = json!({"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}}]});
        let call =
            json!({"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}]});
        let result = |id: &str| json!({"role": "user", "content": [{"toolResult": {"toolUseId": id, "content": [{"text": "1"}]}}]});
        let check = |messages: Value, tool_config: Option<&Value>| {
            let mut body = json!({"messages": messages});
            if let Some(config) = tool_config {
                body["toolConfig"] = config.clone();
            }
            validate(&body, true)
        };
        assert_eq!(check(json!([user("Hi")]), None), Ok(()));
        assert_eq!(check(json!([user("Hi"), call, result("t1")]), Some(&tools)), Ok(()));
        let starts = check(json!([{"role": "assistant", "content": [{"text": "x"}]}]), None).unwrap_err();
        assert!(starts.starts_with("A conversation must start with a user message"), "{starts}");
        let alternates = check(json!([user("a"), user("b")]), None).unwrap_err();
        assert!(alternates.starts_with("A conversation must alternate between user and assistant roles"));
        let missing = check(json!([user("Hi"), call, user("no result")]), Some(&tools)).unwrap_err();
        assert_eq!(missing, "Expected toolResult blocks at messages.2.content for the following Ids: t1");
        let said = json!({"role": "assistant", "content": [{"text": "no call"}]});
        let extra = check(json!([user("Hi"), said, result("t1")]), Some(&tools)).unwrap_err();
        assert!(extra.contains("exceeds the number of toolUse blocks of previous turn"), "{extra}");
        let no_config = check(json!([user("Hi"), call, result("t1")]), None).unwrap_err();
        assert!(no_config.starts_with("The toolConfig field must be defined"), "{no_config}");
        let blank = check(json!([user(" ")]), None).unwrap_err();
        assert!(blank.starts_with("The text field in the ContentBlock object at messages.0.content.0 is blank"));
        let reasoning = |text: &str, signature: Option<&str>| {
            let mut block = json!({"reasoningText": {"text": text}});
            if let Some(s) = signature {
                block["reasoningText"]["signature"] = json!(s);
            }
            let turn = json!({"role": "assistant", "content": [{"reasoningContent": block}, {"text": "ok"}]});
            check(json!([user("Hi"), turn, user("more")]), None)
        };
        assert_eq!(reasoning(REASONING, Some(SIGNATURE)), Ok(()));
        assert!(reasoning(REASONING, None).unwrap_err().ends_with("signature: Field required"));
        assert!(reasoning("edited", Some(SIGNATURE)).unwrap_err().contains("Invalid `signature`"));
        let hot = validate(&json!({"messages": [user("Hi")], "inferenceConfig": {"temperature": 1.5}}), true);
        assert!(hot.unwrap_err().contains("at 'inferenceConfig.temperature' failed to satisfy constraint"));
    }

    #[test]
    fn tool_input_fragments_join_to_the_input() {
        let input = r#"{"tz":"héllo wörld"}"#;
        let parts = fragments(input);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.concat(), input);
    }
}
