//! `POST /api/text`: the Aichat protocol. The answer is `"You said: <last user content>"`, the
//! last user message read back from the prompt, or a greeting when the prompt has none.

use serde_json::{Value, json};

use crate::answer;
use crate::capture::Captured;
use crate::faults::Faults;
use crate::respond::{Body, full, json as json_response, json_answer, json_error};
use hyper::Response;

/// The last user message of a prompt in the Aichat format (`"role: content\n"`… `"assistant:"`).
pub fn last_user_message(prompt: &str) -> Option<&str> {
    let body = prompt.strip_suffix("assistant:").unwrap_or(prompt);
    let body = body.strip_suffix('\n').unwrap_or(body);
    match body.rfind("user: ") {
        Some(i) if i == 0 || body.as_bytes()[i - 1] == b'\n' => Some(&body[i + "user: ".len()..]),
        _ => None,
    }
}

pub fn answer(req: &Captured, faults: &Faults) -> Response<Body> {
    if faults.not_json {
        return full(200, "text/html", "<html><body>Service temporarily unavailable</body></html>");
    }
    if faults.no_message {
        return json_response(200, &json!({"response": true}));
    }
    if faults.response_false {
        return json_response(200, &json!({"response": false, "message": "test server: injected failure"}));
    }
    let text = if faults.echo {
        req.to_json().to_string()
    } else if let Some(n) = faults.size {
        "a".repeat(n)
    } else {
        match req.json_body().as_ref().and_then(|b| b.get("message")).and_then(Value::as_str) {
            Some(prompt) => answer::reply(last_user_message(prompt)),
            None => return json_error(400, "test server: body has no string `message`"),
        }
    };
    let body = serde_json::to_vec(&json!({"message": text, "response": true})).expect("serializes");
    json_answer(body, b"{\"message\":\"bad \xff byte\",\"response\":true}", faults)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_user_message_is_read_from_the_prompt() {
        assert_eq!(last_user_message("user: Hi\nassistant:"), Some("Hi"));
        assert_eq!(last_user_message("user: a\nassistant: b\nuser: two\nlines\nassistant:"), Some("two\nlines"));
        assert_eq!(last_user_message("assistant:"), None);
        assert_eq!(last_user_message("system: be kind\nassistant:"), None);
    }
}
