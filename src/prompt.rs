//! Prompt composition of the original Aichat provider: one `"<role>: <content>\n"` line per
//! message, then `"assistant:"`. Roles and content are used verbatim; the format has room for
//! text content only.

use crate::error::Error;
use crate::request::Message;

pub fn compose(messages: &[Message]) -> Result<String, Error> {
    let mut prompt = String::new();
    for (i, m) in messages.iter().enumerate() {
        let Some(content) = m.text() else {
            return Err(Error::invalid_request(format!(
                "invalid request: `messages[{i}].content` must be a string for the aichat provider"
            )));
        };
        prompt.push_str(m.role());
        prompt.push_str(": ");
        prompt.push_str(&content);
        prompt.push('\n');
    }
    prompt.push_str("assistant:");
    Ok(prompt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message() {
        assert_eq!(compose(&[Message::new("user", "Hi")]).unwrap(), "user: Hi\nassistant:");
    }

    #[test]
    fn empty_list_gives_assistant_only() {
        assert_eq!(compose(&[]).unwrap(), "assistant:");
    }

    #[test]
    fn content_that_is_not_text_is_named() {
        let r = crate::request::Request::from_json(r#"[{"role":"user","content":"a"},{"role":"user","content":[]}]"#)
            .unwrap();
        let e = compose(&r.messages).unwrap_err();
        assert_eq!(e.message(), "invalid request: `messages[1].content` must be a string for the aichat provider");
    }

    #[test]
    fn conversation_keeps_order_roles_and_content_verbatim() {
        let messages = [
            Message::new("system", "  Be brief. "),
            Message::new("User", "line 1\nline 2"),
            Message::new("assistant", ""),
            Message::new("user", "héllo 👋"),
        ];
        assert_eq!(
            compose(&messages).unwrap(),
            "system:   Be brief. \nUser: line 1\nline 2\nassistant: \nuser: héllo 👋\nassistant:"
        );
    }
}
