//! The pieces of an answer, as every protocol decodes them: the typed events of the event API.
//! The text API is the `Text` events of choice 0.

use std::borrow::Cow;
use std::sync::Arc;

use crate::result::Answer;

/// Token counts; `None` where the server did not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub total_tokens: Option<i64>,
    /// Prompt tokens read from the server's cache (counted in `prompt_tokens` too).
    pub cached_tokens: Option<i64>,
    /// Completion tokens spent on reasoning (counted in `completion_tokens` too).
    pub reasoning_tokens: Option<i64>,
}

/// One piece of an answer. `choice` is the choice's index (0 unless `n` > 1); a tool call's
/// `index` is its position in the assembled message's `tool_calls`, whatever index the server
/// used. Text is never empty and never splits a character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// First, once: the response id and model of the first chunk, and the request id header.
    Response {
        id: Cow<'a, str>,
        model: Cow<'a, str>,
        request_id: Cow<'a, str>,
    },
    Text {
        choice: u32,
        text: Cow<'a, str>,
    },
    Reasoning {
        choice: u32,
        text: Cow<'a, str>,
    },
    /// A tool call starts; its arguments follow as `ToolArguments` with the same index.
    ToolCall {
        choice: u32,
        index: u32,
        id: Cow<'a, str>,
        name: Cow<'a, str>,
    },
    ToolArguments {
        choice: u32,
        index: u32,
        text: Cow<'a, str>,
    },
    Refusal {
        choice: u32,
        text: Cow<'a, str>,
    },
    /// Why a choice ended: `reason` is "stop", "length", "tool_calls", "content_filter" or the
    /// server's own word; `raw` is the word exactly as the server wrote it.
    Finish {
        choice: u32,
        reason: Cow<'a, str>,
        raw: Cow<'a, str>,
    },
    /// Once, after the finish reasons, when the server reported usage.
    Usage(Usage),
    /// Last, once per choice: the assembled assistant message as JSON, ready to append to
    /// `messages` for the next turn.
    Message {
        choice: u32,
        json: Cow<'a, str>,
    },
    /// Very last, once, when the request set `result`: the whole answer.
    Result(Arc<Answer>),
}

impl Event<'_> {
    /// The same event owning its text, to outlive the buffer it was decoded from.
    pub fn into_owned(self) -> Event<'static> {
        fn own(s: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(s.into_owned())
        }
        match self {
            Event::Response { id, model, request_id } => {
                Event::Response { id: own(id), model: own(model), request_id: own(request_id) }
            }
            Event::Text { choice, text } => Event::Text { choice, text: own(text) },
            Event::Reasoning { choice, text } => Event::Reasoning { choice, text: own(text) },
            Event::ToolCall { choice, index, id, name } => {
                Event::ToolCall { choice, index, id: own(id), name: own(name) }
            }
            Event::ToolArguments { choice, index, text } => Event::ToolArguments { choice, index, text: own(text) },
            Event::Refusal { choice, text } => Event::Refusal { choice, text: own(text) },
            Event::Finish { choice, reason, raw } => Event::Finish { choice, reason: own(reason), raw: own(raw) },
            Event::Usage(usage) => Event::Usage(usage),
            Event::Message { choice, json } => Event::Message { choice, json: own(json) },
            Event::Result(answer) => Event::Result(answer),
        }
    }
}

/// Receives each event as it is decoded; returns `false` to stop the call.
pub type EventSink<'a> = dyn FnMut(&Event<'_>) -> bool + 'a;
