//! The deterministic answer to a conversation, shared by both protocols.

pub const GREETING: &str = "Hello! How can I help you today?";

/// `"You said: <last user message>"`, or a greeting when there is none.
pub fn reply(last_user_message: Option<&str>) -> String {
    match last_user_message {
        Some(text) => format!("You said: {text}"),
        None => GREETING.to_string(),
    }
}

/// The arguments the model "passes" to a tool: its first parameter (of the JSON Schema
/// `parameters`) set to `value`; `{}` when it takes none.
pub fn tool_arguments(parameters: Option<&serde_json::Value>, value: &str) -> serde_json::Value {
    let first = parameters.and_then(|p| p.get("properties")).and_then(|p| p.as_object()).and_then(|p| p.keys().next());
    match first {
        Some(name) => serde_json::json!({ name.clone(): value }),
        None => serde_json::json!({}),
    }
}

/// The text cut into word-sized chunks, each word with the spaces after it, so that the
/// chunks concatenate to the text.
pub fn words(text: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c != ' ' && current.ends_with(' ') {
            chunks.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_spaces() {
        assert_eq!(words("You said: Hi  there"), ["You ", "said: ", "Hi  ", "there"]);
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words("héllo wörld").concat(), "héllo wörld");
    }
}
