//! `AichatResult`: the whole answer of a RESULT event, typed, for C and C++ (which have no JSON
//! parser for the event's text). Every string points into what the library already keeps
//! (the choices' texts and MESSAGE, NUL-terminated where they lie) or into one small buffer of
//! the short ones (ids, names, finish reasons); nothing is handed out to free.

use std::ffi::{c_char, c_int};
use std::ptr;
use std::sync::Arc;

use super::catch_or;
use super::event::{AichatEvent, AichatEventKind, AichatUsage};
use crate::result::Answer;

/// One tool call of a choice.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AichatToolCall {
    pub id: *const c_char,
    /// The function's name.
    pub name: *const c_char,
    /// Its arguments as JSON text, exactly the concatenation of its TOOL_ARGUMENTS ("" when none came).
    pub arguments: *const c_char,
    pub arguments_len: usize,
}

/// One choice of the answer. Strings are "" where the answer had none.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AichatChoice {
    /// The choice's number (`choice` of its events), 0, 1, ... in order.
    pub index: u32,
    pub text: *const c_char,
    pub text_len: usize,
    pub reasoning: *const c_char,
    pub reasoning_len: usize,
    pub refusal: *const c_char,
    pub refusal_len: usize,
    /// The calls in MESSAGE's order; NULL when `tool_call_count` is 0.
    pub tool_calls: *const AichatToolCall,
    pub tool_call_count: usize,
    /// As FINISH's `text`; "" when the server gave no reason.
    pub finish_reason: *const c_char,
    /// As FINISH's `name`: the reason as the server wrote it; "" when none.
    pub finish_reason_raw: *const c_char,
    /// MESSAGE's JSON: the assistant message to append to `messages` for the next turn.
    pub message: *const c_char,
    pub message_len: usize,
}

/// The whole answer.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AichatResult {
    /// The response id, the model and the request id header, as RESPONSE gives them ("" where absent).
    pub id: *const c_char,
    pub model: *const c_char,
    pub request_id: *const c_char,
    /// Every choice, in order (at least one).
    pub choices: *const AichatChoice,
    pub choice_count: usize,
    /// NULL when the server reported no usage (-1 in a count it did not give).
    pub usage: *const AichatUsage,
}

/// The typed answer of a RESULT event (NULL when `event` is NULL or another kind), valid as long as
/// the event is: during the callback, or until the next `aichat_stream_next_events` on its
/// stream. `event` may be a copy of the `AichatEvent` the library handed over.
///
/// # Safety
/// `event` is NULL or points to an event the library handed over, still valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_event_result(event: *const AichatEvent) -> *const AichatResult {
    catch_or(ptr::null(), || {
        if event.is_null() {
            return ptr::null();
        }
        // Read as a number: a caller's own event could hold any value there.
        // SAFETY: `event` points to a readable event per this function's contract.
        let (kind, usage) = unsafe { ((&raw const (*event).kind).cast::<c_int>().read(), (*event).usage) };
        if kind != AichatEventKind::AICHAT_EVENT_RESULT as c_int || usage.is_null() {
            return ptr::null();
        }
        // SAFETY: a RESULT event's `usage` is the start of its `ResultView` (`ResultView::event_usage`),
        // alive as long as the event.
        unsafe { &raw const (*usage.cast::<ResultView>()).result }
    })
}

/// What a RESULT event's `usage` points at: the counts first, so that the pointer is the
/// `AichatUsage *` the event promises and also leads `aichat_event_result` to the typed view.
/// Boxed, so that it stays where the event points while its owner moves.
#[repr(C)]
pub(crate) struct ResultView {
    counts: AichatUsage,
    result: AichatResult,
    choices: Vec<AichatChoice>,
    calls: Vec<AichatToolCall>,
    /// The short strings, each followed by a NUL.
    strings: Vec<u8>,
    /// Holds the long strings the view points at.
    _answer: Arc<Answer>,
}

impl ResultView {
    pub(crate) fn new(answer: &Arc<Answer>) -> Box<ResultView> {
        // The short strings are gathered first and pointed at once their buffer no longer grows.
        let mut strings = Vec::new();
        let mut add = |s: &str| {
            let at = strings.len();
            strings.extend_from_slice(s.as_bytes());
            strings.push(0);
            at
        };
        let (id, model, request_id) = answer.ids();
        let ids = [add(id), add(model), add(request_id)];
        let per_choice: Vec<_> = answer
            .choices()
            .iter()
            .map(|c| {
                let (reason, raw) = c.finish.as_ref().map_or(("", ""), |(r, w)| (r.as_str(), w.as_str()));
                let finish = [add(reason), add(raw)];
                let calls: Vec<_> = c.tool_calls.iter().map(|t| [add(&t.id), add(&t.name)]).collect();
                (finish, calls)
            })
            .collect();
        let at = |offset: usize| strings[offset..].as_ptr().cast::<c_char>();

        let mut calls = Vec::with_capacity(per_choice.iter().map(|(_, c)| c.len()).sum());
        for (c, (_, names)) in answer.choices().iter().zip(&per_choice) {
            for (t, [id, name]) in c.tool_calls.iter().zip(names) {
                let arguments = t.arguments.with_nul();
                calls.push(AichatToolCall {
                    id: at(*id),
                    name: at(*name),
                    arguments: arguments.as_ptr().cast(),
                    arguments_len: arguments.len() - 1,
                });
            }
        }
        let mut choices = Vec::with_capacity(per_choice.len());
        let mut first_call = 0;
        for (c, ([reason, raw], names)) in answer.choices().iter().zip(&per_choice) {
            let (text, reasoning, refusal) = (c.text.with_nul(), c.reasoning.with_nul(), c.refusal.with_nul());
            choices.push(AichatChoice {
                index: c.index,
                text: text.as_ptr().cast(),
                text_len: text.len() - 1,
                reasoning: reasoning.as_ptr().cast(),
                reasoning_len: reasoning.len() - 1,
                refusal: refusal.as_ptr().cast(),
                refusal_len: refusal.len() - 1,
                tool_calls: if names.is_empty() { ptr::null() } else { calls[first_call..].as_ptr() },
                tool_call_count: names.len(),
                finish_reason: at(*reason),
                finish_reason_raw: at(*raw),
                message: c.message.as_ptr().cast(),
                message_len: c.message.len() - 1,
            });
            first_call += names.len();
        }
        let counts = answer.usage().map(AichatUsage::from);
        let mut view = Box::new(ResultView {
            counts: counts.unwrap_or(AichatUsage::from(crate::event::Usage::default())),
            result: AichatResult {
                id: at(ids[0]),
                model: at(ids[1]),
                request_id: at(ids[2]),
                choices: choices.as_ptr(),
                choice_count: choices.len(),
                usage: ptr::null(),
            },
            choices,
            calls,
            strings: Vec::new(),
            _answer: answer.clone(),
        });
        // Moving the buffers into the box moved no heap memory: the pointers above stay good.
        view.strings = strings;
        if counts.is_some() {
            view.result.usage = &raw const view.counts;
        }
        view
    }

    /// The RESULT event's `usage`: the counts, at the start of the view (a pointer to the
    /// whole view, so that `aichat_event_result` may read past the counts).
    pub(crate) fn event_usage(&self) -> *const AichatUsage {
        (self as *const ResultView).cast()
    }
}
