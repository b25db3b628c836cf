//! Prompt composition of the original Aichat provider: one `"<role>: <content>\n"` line per
//! message, then `"assistant:"`. Roles and content are used verbatim.

use crate::request::Message;

pub fn compose(messages: &[Message]) -> String {
    let len = messages.iter().map(|m| m.role.len() + m.content.len() + 3).sum::<usize>();
    let mut prompt = String::with_capacity(len + "assistant:".len());
    for m in messages {
        prompt.push_str(&m.role);
        prompt.push_str(": ");
        prompt.push_str(&m.content);
        prompt.push('\n');
    }
    prompt.push_str("assistant:");
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message() {
        assert_eq!(compose(&[Message::new("user", "Hi")]), "user: Hi\nassistant:");
    }

    #[test]
    fn empty_list_gives_assistant_only() {
        assert_eq!(compose(&[]), "assistant:");
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
            compose(&messages),
            "system:   Be brief. \nUser: line 1\nline 2\nassistant: \nuser: héllo 👋\nassistant:"
        );
    }
}
