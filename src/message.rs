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
}

/// The assembled assistant message, written in `out` (emptied first; its capacity is reused):
/// `content` (null when empty), then each of `reasoning_content`, `reasoning_signature`, `refusal`
/// and `tool_calls` when not empty, in that order.
pub(crate) fn message_json(
    mut out: String,
    content: &str,
    reasoning: &str,
    signature: &str,
    refusal: &str,
    calls: &[ToolCall],
) -> String {
    let strings = calls.iter().map(|c| c.id.len() + c.name.len() + c.arguments.as_str().len() + 64).sum::<usize>();
    out.clear();
    out.reserve(content.len() + reasoning.len() + signature.len() + refusal.len() + strings + 128);
    out.push_str(r#"{"role":"assistant","content":"#);
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
            out.push_str("}}");
        }
        out.push(']');
    }
    out.push('}');
    out
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
            let calls = [ToolCall { id: s.clone(), name: s.clone(), arguments: s.as_str().into() }];
            for calls in [&calls[..], &[]] {
                assert_eq!(message_json(String::new(), s, s, s, s, calls), reference(s, s, s, s, calls), "{s:?}");
                assert_eq!(message_json(String::new(), s, "", "", "", calls), reference(s, "", "", "", calls), "{s:?}");
                assert_eq!(message_json(String::new(), "", s, "", s, calls), reference("", s, "", s, calls), "{s:?}");
            }
        }
    }

    #[test]
    fn long_text_with_escapes_at_every_offset() {
        for offset in 0..24 {
            let s = format!("{}\"{}\n{}", "x".repeat(offset), "y".repeat(offset * 3), "é".repeat(offset));
            assert_eq!(message_json(String::new(), &s, "", "", "", &[]), reference(&s, "", "", "", &[]));
        }
        let two_calls = [
            ToolCall { id: "call_1".into(), name: "f".into(), arguments: r#"{"a":1}"#.into() },
            ToolCall { id: String::new(), name: String::new(), arguments: "".into() },
        ];
        assert_eq!(message_json(String::new(), "", "", "", "", &two_calls), reference("", "", "", "", &two_calls));
    }
}
