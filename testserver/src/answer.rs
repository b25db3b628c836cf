//! The deterministic answer to a conversation, shared by every protocol: each route reads its
//! request into an [`Asked`], and the [`Plan`] says what to answer.

use serde_json::Value;

use crate::capture::Captured;
use crate::faults::Faults;

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

/// What a route read from its request, in the terms every protocol shares.
#[derive(Debug, Default)]
pub struct Asked<'a> {
    /// The text of the last user turn.
    pub last_user: Option<String>,
    /// The tool result the conversation ends with, as text.
    pub tool_result: Option<String>,
    /// The first tool offered: its name and the JSON Schema of its parameters.
    pub tool: Option<(String, Option<&'a Value>)>,
    /// The output-token limit, where the protocol's answer obeys it (one word a token).
    pub max_tokens: Option<u64>,
    /// Stop sequences, where the protocol's answer obeys them.
    pub stop: Vec<String>,
}

/// The answer every route gives, before its wire format: the same conversation gets the same
/// text, the same pieces and the same tool call whatever the protocol.
#[derive(Debug)]
pub struct Plan {
    /// `"You said: <last user text>"`, `"The tool returned: <result>"` when the conversation
    /// ends in a tool result, a greeting when there is no user text; the request as received
    /// with `echo`; cut before the first stop sequence it holds.
    pub text: String,
    /// The pieces of a stream: the text's words, or `tok0 `, `tok1 `, … with `chunks`; no
    /// more than `max_tokens` of them.
    pub words: Vec<String>,
    /// `max_tokens` cut the words short.
    pub cut_short: bool,
    /// A stop sequence cut the text short.
    pub stopped: bool,
    /// The tool call, when tools are offered and the conversation does not end in a result
    /// (never with `echo`): the first tool's name and its arguments (see [`tool_arguments`]).
    pub call: Option<(String, Value)>,
    /// `overload-first` says this attempt fails.
    pub failed: bool,
}

impl Plan {
    /// `attempt`: this request's count under the `key` fault.
    pub fn new(req: &Captured, faults: &Faults, attempt: Option<u64>, asked: Asked) -> Plan {
        let mut text = if faults.echo {
            req.to_json().to_string()
        } else if let Some(result) = &asked.tool_result {
            format!("The tool returned: {result}")
        } else {
            reply(asked.last_user.as_deref())
        };
        let stop_at = asked.stop.iter().filter(|s| !s.is_empty() && !faults.echo).filter_map(|s| text.find(s.as_str()));
        let stopped = match stop_at.min() {
            Some(at) => {
                text.truncate(at);
                true
            }
            None => false,
        };
        let call = asked.tool.filter(|_| asked.tool_result.is_none() && !faults.echo).map(|(name, parameters)| {
            let arguments = tool_arguments(parameters, asked.last_user.as_deref().unwrap_or(""));
            (name, arguments)
        });
        let mut words = match faults.chunks {
            Some(n) => (0..n).map(|i| format!("tok{i} ")).collect(),
            None => words(&text),
        };
        let limit = asked.max_tokens.map(|n| n as usize);
        let cut_short = limit.is_some_and(|n| n < words.len());
        words.truncate(limit.unwrap_or(usize::MAX));
        let failed = faults.overload_first.zip(attempt).is_some_and(|(n, a)| a <= n);
        Plan { text, words, cut_short, stopped, call, failed }
    }
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

    fn captured() -> Captured {
        Captured { method: "POST".into(), path: "/x".into(), query: None, headers: vec![], body: "{}".into() }
    }

    #[test]
    fn the_plan_answers_the_last_user_text_or_the_tool_result() {
        let schema = serde_json::json!({"properties": {"tz": {"type": "string"}}});
        let asked = || Asked { last_user: Some("Hi there".into()), ..Default::default() };
        let plan = Plan::new(&captured(), &Faults::default(), None, asked());
        assert_eq!((plan.text.as_str(), plan.words.len(), plan.call.is_none()), ("You said: Hi there", 4, true));
        let plan = Plan::new(
            &captured(),
            &Faults::default(),
            None,
            Asked { tool: Some(("f".into(), Some(&schema))), ..asked() },
        );
        assert_eq!(plan.call, Some(("f".into(), serde_json::json!({"tz": "Hi there"}))));
        let with_result = Asked { tool: Some(("f".into(), None)), tool_result: Some("12:00".into()), ..asked() };
        let plan = Plan::new(&captured(), &Faults::default(), None, with_result);
        assert_eq!((plan.text.as_str(), plan.call), ("The tool returned: 12:00", None));
        let plan = Plan::new(&captured(), &Faults::default(), None, Asked { max_tokens: Some(2), ..asked() });
        assert_eq!((plan.words.concat().as_str(), plan.cut_short), ("You said: ", true));
        let stop = vec!["the".to_string(), "Hi".to_string()];
        let plan = Plan::new(&captured(), &Faults::default(), None, Asked { stop, ..asked() });
        assert_eq!(
            (plan.text.as_str(), plan.words.concat().as_str(), plan.stopped),
            ("You said: ", "You said: ", true)
        );
        let faults = Faults::parse("key=k,overload-first=1,chunks=2").unwrap();
        assert!(Plan::new(&captured(), &faults, Some(1), asked()).failed);
        let plan = Plan::new(&captured(), &faults, Some(2), asked());
        assert_eq!((plan.failed, plan.words.concat().as_str()), (false, "tok0 tok1 "));
    }
}
