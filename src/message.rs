//! MESSAGE's JSON, written directly. It is the one JSON the library writes that grows with the
//! answer (it holds every piece of text), so its strings are escaped a word at a time instead of
//! byte by byte. The bytes are exactly what `serde_json` writes for the same message (tested
//! below against it).

use crate::answer::Accumulated;
use crate::fastjson::find_special;

/// A tool call as MESSAGE lists it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: Accumulated,
    /// Gemini's `thoughtSignature` for the call (empty: none), written as the call's
    /// `extra_content.google.thought_signature`, the spelling of Gemini's OpenAI-compatible API.
    pub signature: String,
}

/// The assembled assistant message, written in `out` (emptied first; its capacity is reused):
/// `content` (null when empty), then each of `reasoning_content`, `reasoning_signature`, `refusal`,
/// `reasoning_items` (JSON objects, comma-separated, written as they are) and `tool_calls` when
/// not empty, in that order; a call with a signature has `extra_content` after `function`.
pub(crate) fn message_json(
    mut out: String,
    content: &str,
    reasoning: &str,
    signature: &str,
    items: &str,
    refusal: &str,
    calls: &[ToolCall],
) -> String {
    // Exactly the length written: a buffer that doubled past a guess would hold up to twice
    // the message, and the message is as long as the answer (README: memory stays within twice
    // the bytes received).
    let strings = calls
        .iter()
        .map(|c| {
            let signature = if c.signature.is_empty() { 0 } else { SIGNATURE_WORDS.len() + escaped_len(&c.signature) };
            escaped_len(&c.id) + escaped_len(&c.name) + escaped_len(c.arguments.as_str()) + CALL_WORDS.len() + signature
        })
        .sum::<usize>();
    let texts = [("reasoning_content", reasoning), ("reasoning_signature", signature), ("refusal", refusal)]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(key, v)| key.len() + 4 + escaped_len(v))
        .sum::<usize>();
    let content_len = if content.is_empty() { 4 } else { escaped_len(content) };
    let calls_len = if calls.is_empty() { 0 } else { r#","tool_calls":[]"#.len() + strings + calls.len() - 1 };
    let items_len = if items.is_empty() { 0 } else { r#","reasoning_items":[]"#.len() + items.len() };
    out.clear();
    // The closing brace, and the NUL the assembler adds for C.
    out.reserve_exact(HEAD.len() + content_len + texts + items_len + calls_len + 2);
    #[cfg(debug_assertions)]
    let reserved = out.capacity();
    out.push_str(HEAD);
    if content.is_empty() {
        out.push_str("null");
    } else {
        string(&mut out, content);
    }
    for (key, value) in [("reasoning_content", reasoning), ("reasoning_signature", signature), ("refusal", refusal)] {
        if !value.is_empty() {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            string(&mut out, value);
        }
    }
    if !items.is_empty() {
        out.push_str(r#","reasoning_items":["#);
        out.push_str(items);
        out.push(']');
    }
    if !calls.is_empty() {
        out.push_str(r#","tool_calls":["#);
        for (i, call) in calls.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(r#"{"id":"#);
            string(&mut out, &call.id);
            out.push_str(r#","type":"function","function":{"name":"#);
            string(&mut out, &call.name);
            out.push_str(r#","arguments":"#);
            string(&mut out, call.arguments.as_str());
            out.push('}');
            if !call.signature.is_empty() {
                out.push_str(r#","extra_content":{"google":{"thought_signature":"#);
                string(&mut out, &call.signature);
                out.push_str("}}");
            }
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
    #[cfg(debug_assertions)]
    debug_assert_eq!(out.capacity(), reserved, "the length was computed exactly");
    out
}

const HEAD: &str = r#"{"role":"assistant","content":"#;
/// What a tool call adds around its three strings.
const CALL_WORDS: &str = r#"{"id":,"type":"function","function":{"name":,"arguments":}}"#;
/// What a call's signature adds around its string.
const SIGNATURE_WORDS: &str = r#","extra_content":{"google":{"thought_signature":}}"#;

/// The length of `s` as [`string`] writes it, quotes included.
fn escaped_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut len = s.len() + 2;
    let mut at = find_special(bytes, 0);
    while let Some(&byte) = bytes.get(at) {
        len += match byte {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            _ => 5,
        };
        at = find_special(bytes, at + 1);
    }
    len
}

/// `s` as a JSON string, escaped as `serde_json` escapes: `"`, `\` and the control characters
/// (the short forms where JSON has one, else `\u00xx`); everything else as it is.
fn string(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    loop {
        let at = find_special(bytes, start);
        out.push_str(&s[start..at]);
        let Some(&byte) = bytes.get(at) else { break };
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
        }
        start = at + 1;
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    /// The message as the library wrote it with serde_json before.
    #[derive(Serialize)]
    struct Message<'a> {
        role: &'static str,
        content: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reasoning_content: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reasoning_signature: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        refusal: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tool_calls: Option<Vec<Call<'a>>>,
    }

    #[derive(Serialize)]
    struct Call<'a> {
        id: &'a str,
        #[serde(rename = "type")]
        kind: &'static str,
        function: Function<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        extra_content: Option<serde_json::Value>,
    }

    #[derive(Serialize)]
    struct Function<'a> {
        name: &'a str,
        arguments: &'a str,
    }

    /// What serde_json writes for the same message.
    fn reference(content: &str, reasoning: &str, signature: &str, refusal: &str, calls: &[ToolCall]) -> String {
        fn some(s: &str) -> Option<&str> {
            (!s.is_empty()).then_some(s)
        }
        let calls = calls
            .iter()
            .map(|c| Call {
                id: &c.id,
                kind: "function",
                function: Function { name: &c.name, arguments: c.arguments.as_str() },
                extra_content: some(&c.signature).map(|s| serde_json::json!({"google": {"thought_signature": s}})),
            })
            .collect::<Vec<_>>();
        serde_json::to_string(&Message {
            role: "assistant",
            content: some(content),
            reasoning_content: some(reasoning),
            reasoning_signature: some(signature),
            refusal: some(refusal),
            tool_calls: (!calls.is_empty()).then_some(calls),
        })
        .unwrap()
    }

    /// The message, checking it was written into exactly the room it needs and a NUL's.
    fn exact(content: &str, reasoning: &str, signature: &str, refusal: &str, calls: &[ToolCall]) -> String {
        let json = message_json(String::new(), content, reasoning, signature, "", refusal, calls);
        assert_eq!(json.capacity(), json.len() + 1, "{json}");
        json
    }

    #[test]
    fn every_character_class_is_written_as_serde_json_writes_it() {
        // Every ASCII byte, alone and between others, in each place a string goes.
        let mut samples: Vec<String> = (0u8..128).map(|b| char::from(b).to_string()).collect();
        samples.push((0u8..128).map(char::from).collect());
        samples.extend(
            ["é 日本 👋 \u{2028}\u{7f}", "a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{1}i\u{1f}", "0123456789abcdef\"x", ""]
                .map(String::from),
        );
        for s in &samples {
            let calls = [
                ToolCall { id: s.clone(), name: s.clone(), arguments: s.as_str().into(), signature: s.clone() },
                ToolCall { id: s.clone(), name: s.clone(), arguments: s.as_str().into(), signature: String::new() },
            ];
            for calls in [&calls[..], &[]] {
                assert_eq!(exact(s, s, s, s, calls), reference(s, s, s, s, calls), "{s:?}");
                assert_eq!(exact(s, "", "", "", calls), reference(s, "", "", "", calls), "{s:?}");
                assert_eq!(exact("", s, "", s, calls), reference("", s, "", s, calls), "{s:?}");
            }
        }
    }

    #[test]
    fn long_text_with_escapes_at_every_offset() {
        for offset in 0..24 {
            let s = format!("{}\"{}\n{}", "x".repeat(offset), "y".repeat(offset * 3), "é".repeat(offset));
            assert_eq!(exact(&s, "", "", "", &[]), reference(&s, "", "", "", &[]));
        }
        let two_calls = [
            ToolCall { id: "call_1".into(), name: "f".into(), arguments: r#"{"a":1}"#.into(), signature: "s".into() },
            ToolCall { id: String::new(), name: String::new(), arguments: "".into(), signature: String::new() },
        ];
        assert_eq!(exact("", "", "", "", &two_calls), reference("", "", "", "", &two_calls));
    }

    #[test]
    fn reasoning_items_are_written_as_they_are_in_exactly_their_room() {
        let items = r#"{"type":"reasoning","id":"rs_1","encrypted_content":"e"},{"type":"reasoning","id":"rs_2"}"#;
        let json = message_json(String::new(), "hi", "", "", items, "", &[]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["reasoning_items"][1]["id"], "rs_2");
        assert_eq!(v["content"], "hi");
    }
}
