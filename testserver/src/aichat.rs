//! `POST /api/text`: the Aichat protocol. The answer to a prompt is deterministic:
//! `"You said: <last user content>"`, or a greeting when the prompt has no user message.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

use crate::faults::Faults;
use crate::respond::{Body, full, json as json_response, json_error, truncated};

/// Largest request body read; more is answered 413.
const MAX_REQUEST_BODY: usize = 256 * 1024 * 1024;

pub const GREETING: &str = "Hello! How can I help you today?";

/// The reply to a prompt in the Aichat format (`"role: content\n"`... `"assistant:"`).
pub fn reply(prompt: &str) -> String {
    let body = prompt.strip_suffix("assistant:").unwrap_or(prompt);
    let body = body.strip_suffix('\n').unwrap_or(body);
    match body.rfind("user: ") {
        Some(i) if i == 0 || body.as_bytes()[i - 1] == b'\n' => {
            format!("You said: {}", &body[i + "user: ".len()..])
        }
        _ => GREETING.to_string(),
    }
}

pub async fn answer(req: Request<Incoming>, faults: &Faults, route: &str) -> Response<Body> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let headers: Vec<Value> = req
        .headers()
        .iter()
        .map(|(k, v)| json!([k.as_str(), String::from_utf8_lossy(v.as_bytes())]))
        .collect();
    let body = match Limited::new(req.into_body(), MAX_REQUEST_BODY)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => return json_error(413, &format!("test server: request body: {e}")),
    };
    faults.wait().await;
    if let Some(status) = faults.status {
        return json_error(status, &format!("test server: injected HTTP {status}"));
    }
    if faults.redirect {
        return Response::builder()
            .status(302)
            .header("location", route)
            .body(full(200, "text/plain", "").into_body())
            .expect("valid response");
    }
    if faults.not_json {
        return full(
            200,
            "text/html",
            "<html><body>Service temporarily unavailable</body></html>",
        );
    }
    if faults.no_message {
        return json_response(200, &json!({"response": true}));
    }
    if faults.response_false {
        return json_response(
            200,
            &json!({"response": false, "message": "test server: injected failure"}),
        );
    }
    let text = if faults.echo {
        let body_json = serde_json::from_slice::<Value>(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        json!({"method": method, "path": path, "headers": headers, "body": body_json}).to_string()
    } else if let Some(n) = faults.size {
        "a".repeat(n)
    } else {
        let prompt: Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return json_error(400, &format!("test server: body is not JSON: {e}")),
        };
        match prompt.get("message").and_then(Value::as_str) {
            Some(p) => reply(p),
            None => return json_error(400, "test server: body has no string `message`"),
        }
    };
    let answer = Bytes::from(
        serde_json::to_vec(&json!({"message": text, "response": true})).expect("serializes"),
    );
    if faults.truncate {
        return truncated(200, "application/json", answer);
    }
    full(200, "application/json", answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_echoes_the_last_user_message() {
        assert_eq!(reply("user: Hi\nassistant:"), "You said: Hi");
        assert_eq!(
            reply("user: a\nassistant: b\nuser: two\nlines\nassistant:"),
            "You said: two\nlines"
        );
    }

    #[test]
    fn reply_greets_without_a_user_message() {
        assert_eq!(reply("assistant:"), GREETING);
        assert_eq!(reply("system: be kind\nassistant:"), GREETING);
    }
}
