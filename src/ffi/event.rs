//! `AichatEvent`: a typed piece of the answer (text, reasoning, tool calls, finish reason, usage,
//! the assembled message), as the event callback and `aichat_stream_next_events` hand it over.

use std::ffi::{c_char, c_int, c_void};

use super::CText;
use super::result::ResultView;
use crate::answer::Piece;
use crate::event::{Event, Usage};

/// What an `AichatEvent` carries. The numbers are stable. Treat a value you do not know as an
/// event to skip: later versions may add kinds.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AichatEventKind {
    /// First, once: `id` the response id, `name` the model, `text` the request id header
    /// (`x-request-id`, `request-id`, `x-generation-id` or `x-amzn-requestid`); "" where absent.
    AICHAT_EVENT_RESPONSE = 1,
    /// `text`: a piece of the content.
    AICHAT_EVENT_TEXT = 2,
    /// `text`: a piece of the reasoning.
    AICHAT_EVENT_REASONING = 3,
    /// A tool call starts: `index`, `id`, `name` (`text` is "").
    AICHAT_EVENT_TOOL_CALL = 4,
    /// `text`: a piece of tool call `index`'s JSON arguments.
    AICHAT_EVENT_TOOL_ARGUMENTS = 5,
    /// `text`: a piece of a refusal.
    AICHAT_EVENT_REFUSAL = 6,
    /// `text`: why `choice` ended: "stop", "length", "tool_calls", "content_filter", or the
    /// server's own word; `name`: the reason exactly as the server wrote it.
    AICHAT_EVENT_FINISH = 7,
    /// `usage`: token counts, once, after the finish reasons.
    AICHAT_EVENT_USAGE = 8,
    /// Last (but for RESULT), once per choice: `text` is the assembled assistant message as JSON
    /// (`{"role":"assistant","content":...}` with `reasoning_content`, `refusal` and
    /// `tool_calls` when present), ready to append to `messages` for the next turn.
    AICHAT_EVENT_MESSAGE = 9,
    /// Very last, once, only when the request set `result`: `text` is the whole answer as JSON,
    /// `usage` its token counts (all -1 when the server reported none);
    /// `aichat_event_result` gives the same answer typed.
    AICHAT_EVENT_RESULT = 10,
}

/// Token counts; -1 where the server did not say.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AichatUsage {
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    /// Prompt tokens read from the server's cache (included in `prompt_tokens`).
    pub cached_tokens: i64,
    /// Completion tokens spent reasoning (included in `completion_tokens`).
    pub reasoning_tokens: i64,
}

impl From<Usage> for AichatUsage {
    fn from(u: Usage) -> Self {
        let n = |v: Option<i64>| v.unwrap_or(-1);
        AichatUsage {
            prompt_tokens: n(u.prompt_tokens),
            completion_tokens: n(u.completion_tokens),
            total_tokens: n(u.total_tokens),
            cached_tokens: n(u.cached_tokens),
            reasoning_tokens: n(u.reasoning_tokens),
        }
    }
}

/// One event. Its strings are never NULL, UTF-8, NUL-terminated, and never split a character;
/// they and `usage` are valid only during the callback, or until the next
/// `aichat_stream_next_events` on the same stream. `id` and `name`, which come without a
/// length, never hold a NUL: an answer with one in a tool call's id or name, the response id,
/// the model or the finish reason fails with `AICHAT_ERROR_PROTOCOL` naming the field, so the
/// name a program dispatches on is the one MESSAGE sends back.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AichatEvent {
    /// An `AichatEventKind` value.
    pub kind: AichatEventKind,
    /// The choice the event belongs to: 0 unless the request set `n` > 1.
    pub choice: u32,
    /// TOOL_CALL, TOOL_ARGUMENTS: the call's position in MESSAGE's `tool_calls` (0, 1, ... in
    /// order of first appearance, whatever index the server used); else 0.
    pub index: u32,
    pub text: *const c_char,
    pub text_len: usize,
    /// TOOL_CALL: the call id; RESPONSE: the response id; else "".
    pub id: *const c_char,
    /// TOOL_CALL: the function name; RESPONSE: the model; FINISH: the raw reason; else "".
    pub name: *const c_char,
    /// USAGE and RESULT only, else NULL.
    pub usage: *const AichatUsage,
}

/// Receives one event. Return 0 to go on, non-zero to stop the call (`AICHAT_ERROR_CANCELLED`).
pub type AichatEventCallback = Option<unsafe extern "C" fn(event: *const AichatEvent, user_data: *mut c_void) -> c_int>;

/// An event's fields, borrowed from it, before they are made into C strings.
pub(crate) struct Parts<'e> {
    kind: AichatEventKind,
    choice: u32,
    index: u32,
    text: &'e str,
    id: &'e str,
    name: &'e str,
    usage: Option<&'e Usage>,
}

#[inline]
pub(crate) fn parts<'e>(event: &'e Event<'_>) -> Parts<'e> {
    use AichatEventKind::*;
    let p = |kind, choice, index, text, id, name| Parts { kind, choice, index, text, id, name, usage: None };
    match event {
        Event::Response { id, model, request_id } => p(AICHAT_EVENT_RESPONSE, 0, 0, request_id, id, model),
        Event::Text { choice, text } => p(AICHAT_EVENT_TEXT, *choice, 0, text, "", ""),
        Event::Reasoning { choice, text } => p(AICHAT_EVENT_REASONING, *choice, 0, text, "", ""),
        Event::ToolCall { choice, index, id, name } => p(AICHAT_EVENT_TOOL_CALL, *choice, *index, "", id, name),
        Event::ToolArguments { choice, index, text } => p(AICHAT_EVENT_TOOL_ARGUMENTS, *choice, *index, text, "", ""),
        Event::Refusal { choice, text } => p(AICHAT_EVENT_REFUSAL, *choice, 0, text, "", ""),
        Event::Finish { choice, reason, raw } => p(AICHAT_EVENT_FINISH, *choice, 0, reason, "", raw),
        Event::Usage(usage) => Parts { usage: Some(usage), ..p(AICHAT_EVENT_USAGE, 0, 0, "", "", "") },
        Event::Message { choice, json } => p(AICHAT_EVENT_MESSAGE, *choice, 0, json, "", ""),
        Event::Result(answer) => p(AICHAT_EVENT_RESULT, 0, 0, answer.json(), "", ""),
    }
}

/// The buffers an event's C strings live in while the callback runs, reused event to event so
/// that a stream costs no allocation per event.
#[derive(Default)]
pub(crate) struct EventBuffers {
    text: CText,
    id: CText,
    name: CText,
    usage: Option<AichatUsage>,
    result: Option<Box<ResultView>>,
}

impl EventBuffers {
    /// Lets go of a RESULT's view, and the answer it holds.
    pub(crate) fn forget_result(&mut self) {
        self.result = None;
    }

    /// `event` as an `AichatEvent` pointing into these buffers (valid until the next call).
    #[inline]
    pub(crate) fn view(&mut self, event: &Event<'_>) -> AichatEvent {
        use AichatEventKind::*;
        // The pieces of text, nearly every event of a stream, have only their text to copy
        // (inlined into the caller; the rest is not).
        match event {
            Event::Text { choice, text } => text_event(AICHAT_EVENT_TEXT, *choice, 0, self.text.of(text), text.len()),
            Event::Reasoning { choice, text } => {
                text_event(AICHAT_EVENT_REASONING, *choice, 0, self.text.of(text), text.len())
            }
            _ => self.view_with_nul(event, None),
        }
    }

    /// As `view`, for any event; `with_nul`, when given, is the event's text followed by a NUL
    /// where it already lies (MESSAGE's JSON), and is pointed at instead of copied.
    #[inline(never)]
    pub(crate) fn view_with_nul(&mut self, event: &Event<'_>, with_nul: Option<&[u8]>) -> AichatEvent {
        if let Event::Result(answer) = event {
            // The JSON is pointed at where the answer keeps it, pushed or pulled.
            let json = answer.json_with_nul();
            let view = self.result.insert(ResultView::new(answer));
            return AichatEvent {
                usage: view.event_usage(),
                ..text_event(AichatEventKind::AICHAT_EVENT_RESULT, 0, 0, json.as_ptr().cast(), json.len() - 1)
            };
        }
        let p = parts(event);
        let usage = match p.usage {
            Some(&usage) => self.usage.insert(usage.into()) as *const AichatUsage,
            None => std::ptr::null(),
        };
        let text = match with_nul {
            Some(bytes) => {
                debug_assert!(bytes.len() == p.text.len() + 1 && bytes.starts_with(p.text.as_bytes()));
                bytes.as_ptr().cast()
            }
            None => self.text.of(p.text),
        };
        AichatEvent {
            kind: p.kind,
            choice: p.choice,
            index: p.index,
            text,
            text_len: p.text.len(),
            id: self.id.of(p.id),
            name: self.name.of(p.name),
            usage,
        }
    }

    /// A piece of text as an event, pointing at `with_nul` (the piece and a NUL).
    #[inline]
    pub(crate) fn piece_with_nul(piece: Piece, choice: u32, with_nul: &[u8]) -> AichatEvent {
        use AichatEventKind::*;
        let (kind, index) = match piece {
            Piece::Text => (AICHAT_EVENT_TEXT, 0),
            Piece::Reasoning => (AICHAT_EVENT_REASONING, 0),
            Piece::Refusal => (AICHAT_EVENT_REFUSAL, 0),
            Piece::ToolArguments { index } => (AICHAT_EVENT_TOOL_ARGUMENTS, index),
        };
        text_event(kind, choice, index, with_nul.as_ptr().cast(), with_nul.len() - 1)
    }
}

/// An event that carries only a text: `id` and `name` "", no usage.
#[inline]
fn text_event(kind: AichatEventKind, choice: u32, index: u32, text: *const c_char, text_len: usize) -> AichatEvent {
    let empty = c"".as_ptr();
    AichatEvent { kind, choice, index, text, text_len, id: empty, name: empty, usage: std::ptr::null() }
}
