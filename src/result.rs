//! RESULT: the whole answer, assembled once here so that no wrapper folds the events itself.
//! It owns what the assembler gathered (each choice's texts, tool calls, finish reason and
//! MESSAGE) and the answer written once as JSON; the C view (`ffi::result`) points into it.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::answer::Accumulated;
use crate::error::{Error, ErrorKind};
use crate::event::Usage;
use crate::message::ToolCall;

/// The whole answer of a call that set `result`, handed over as the last event.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    id: String,
    model: String,
    request_id: String,
    choices: Vec<Choice>,
    usage: Option<Usage>,
    /// The answer as JSON, followed by a NUL (so C gets it where it lies).
    json: String,
}

/// One choice of an [`Answer`].
#[derive(Debug, PartialEq, Eq)]
pub struct Choice {
    pub(crate) index: u32,
    pub(crate) text: Accumulated,
    pub(crate) reasoning: Accumulated,
    pub(crate) refusal: Accumulated,
    pub(crate) tool_calls: Vec<ToolCall>,
    /// The normalized reason and the server's word; `None` when the server gave none.
    pub(crate) finish: Option<(String, String)>,
    /// MESSAGE's JSON followed by a NUL.
    pub(crate) message: String,
}

impl Answer {
    /// Writes the JSON of what the assembler gathered; `choices` in choice order.
    pub(crate) fn new(
        id: String,
        model: String,
        request_id: String,
        choices: Vec<Choice>,
        usage: Option<Usage>,
    ) -> Result<Answer, Error> {
        let mut answer = Answer { id, model, request_id, choices, usage, json: String::new() };
        let mut json = serde_json::to_string(&AnswerJson::of(&answer)?)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot write the answer as JSON: {e}")))?;
        json.push('\0');
        answer.json = json;
        Ok(answer)
    }

    /// The answer as JSON (README: "Events: the whole answer").
    pub fn json(&self) -> &str {
        &self.json[..self.json.len() - 1]
    }

    /// `json()` followed by a NUL.
    pub(crate) fn json_with_nul(&self) -> &[u8] {
        self.json.as_bytes()
    }

    /// The response id, the model and the request id header; "" where absent.
    pub fn ids(&self) -> (&str, &str, &str) {
        (&self.id, &self.model, &self.request_id)
    }

    pub fn choices(&self) -> &[Choice] {
        &self.choices
    }

    /// `None` when the server reported none.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// The long buffers, for the client to keep for its next call.
    pub(crate) fn into_buffers(self) -> impl Iterator<Item = Vec<u8>> {
        self.choices.into_iter().flat_map(|c| [c.text.into_bytes(), c.reasoning.into_bytes(), c.message.into_bytes()])
    }
}

impl Choice {
    pub fn index(&self) -> u32 {
        self.index
    }

    pub fn text(&self) -> &str {
        self.text.as_str()
    }

    /// MESSAGE's JSON: what goes back into `messages` for the next turn.
    pub fn message(&self) -> &str {
        &self.message[..self.message.len() - 1]
    }
}

/// The JSON shape, borrowed from the answer: every key always there; strings "" where absent,
/// `finish_reason` and `finish_reason_raw` null when the server gave none, `usage` null when it
/// reported none and each of its counts null where not said.
#[derive(Serialize)]
struct AnswerJson<'a> {
    id: &'a str,
    model: &'a str,
    request_id: &'a str,
    choices: Vec<ChoiceJson<'a>>,
    usage: Option<UsageJson>,
}

#[derive(Serialize)]
struct ChoiceJson<'a> {
    index: u32,
    text: &'a str,
    reasoning: &'a str,
    refusal: &'a str,
    tool_calls: Vec<CallJson<'a>>,
    finish_reason: Option<&'a str>,
    finish_reason_raw: Option<&'a str>,
    /// MESSAGE as it was sent, not written a second way.
    message: &'a RawValue,
}

#[derive(Serialize)]
struct CallJson<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionJson<'a>,
}

#[derive(Serialize)]
struct FunctionJson<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
struct UsageJson {
    prompt_tokens: Option<i64>,
    completion_tokens: Option<i64>,
    total_tokens: Option<i64>,
    cached_tokens: Option<i64>,
    reasoning_tokens: Option<i64>,
}

impl<'a> AnswerJson<'a> {
    fn of(answer: &'a Answer) -> Result<AnswerJson<'a>, Error> {
        let choices = answer.choices.iter().map(ChoiceJson::of).collect::<Result<_, _>>()?;
        let usage = answer.usage.map(|u| UsageJson {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.total_tokens,
            cached_tokens: u.cached_tokens,
            reasoning_tokens: u.reasoning_tokens,
        });
        Ok(AnswerJson { id: &answer.id, model: &answer.model, request_id: &answer.request_id, choices, usage })
    }
}

impl<'a> ChoiceJson<'a> {
    fn of(c: &'a Choice) -> Result<ChoiceJson<'a>, Error> {
        let message = serde_json::from_str(c.message())
            .map_err(|e| Error::new(ErrorKind::Internal, format!("MESSAGE is not JSON: {e}")))?;
        let tool_calls = c
            .tool_calls
            .iter()
            .map(|t| CallJson {
                id: &t.id,
                kind: "function",
                function: FunctionJson { name: &t.name, arguments: t.arguments.as_str() },
            })
            .collect();
        Ok(ChoiceJson {
            index: c.index,
            text: c.text.as_str(),
            reasoning: c.reasoning.as_str(),
            refusal: c.refusal.as_str(),
            tool_calls,
            finish_reason: c.finish.as_ref().map(|f| f.0.as_str()),
            finish_reason_raw: c.finish.as_ref().map(|f| f.1.as_str()),
            message,
        })
    }
}
