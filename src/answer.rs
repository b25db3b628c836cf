//! Turns what a protocol decoder reads (deltas keyed by the server's own indices) into the
//! events the caller receives, and assembles each choice's message. It holds the rules every
//! protocol shares: RESPONSE first and once, tool-call fragments matched by the server's index,
//! one FINISH per choice, USAGE once after the finish reasons, MESSAGE last (then RESULT, the
//! whole answer, when the request asked for it).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use crate::error::Error;
use crate::event::{Event, EventSink, Usage};
use crate::message::{ToolCall, message_json};
use crate::pulled::Pulled;
use crate::result::{self, Answer};
use crate::spare::Spare;

/// Most distinct choices, and tool calls in all choices together, one answer may have
/// (`AICHAT_ERROR_TOO_LARGE` past them). A choice or a call costs a few hundred bytes of
/// bookkeeping and of MESSAGE's JSON however few bytes of the answer it took (`{"index":7}`
/// starts a call), so only a cap keeps memory within twice the bytes received: these make that
/// a constant, about 1 MiB at most. OpenAI's own `n` stops at 128; 4,096 calls is far more than
/// any model makes in one answer.
pub(crate) const MAX_CHOICES: usize = 128;
pub(crate) const MAX_TOOL_CALLS: usize = 4096;

/// What the caller asked for: the text of choice 0 only, or every event with the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Text,
    Events,
}

/// One piece of a tool call as a protocol delivers it; `None` where the fragment lacks it.
#[derive(Debug, Default, Clone, Copy)]
pub struct ToolFragment<'a> {
    /// The server's index for the call (the fragment's position when the server gives none).
    pub key: u32,
    pub id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub arguments: Option<&'a str>,
}

/// Where the assembler hands the answer: the text of choice 0 straight to a text sink (no event
/// is built: the text API's hot path), or every event.
pub enum Sink<'s> {
    Text(&'s mut TextSink<'s>),
    Events(&'s mut EventSink<'s>),
    /// Every event, for C: each text followed by a NUL where the assembler keeps it (a piece of
    /// text at the end of its choice's text so far; MESSAGE's JSON), so C needs no copy.
    EventsWithNul(&'s mut dyn NulEventSink),
    /// Kept for a caller that pulls them (the assembler then lives in the call, owning them):
    /// every event, or with `text_only` choice 0's text.
    Queue {
        text_only: bool,
        queue: Pulled,
    },
}

impl Sink<'_> {
    /// An empty queue for a pulled call of `mode`.
    pub fn queue(mode: Mode) -> Sink<'static> {
        Sink::Queue { text_only: mode == Mode::Text, queue: Pulled::default() }
    }
}

/// The C layer's sink. Each method returns `false` to stop the call.
pub trait NulEventSink {
    /// A piece of text (never empty), `with_nul` being the piece and a NUL: a `Text`,
    /// `Reasoning`, `Refusal` or `ToolArguments` event, handed over without building it.
    fn piece(&mut self, piece: Piece, choice: u32, with_nul: &[u8]) -> bool;
    /// Any other event; `with_nul` is MESSAGE's JSON and a NUL.
    fn event(&mut self, event: &Event<'_>, with_nul: Option<&[u8]>) -> bool;
}

/// Which text of a choice a piece adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    Text,
    Reasoning,
    Refusal,
    /// Tool call `index`'s arguments.
    ToolArguments {
        index: u32,
    },
}

impl Piece {
    /// The event a piece is.
    pub fn event(self, choice: u32, text: &str) -> Event<'_> {
        let text = Cow::Borrowed(text);
        match self {
            Piece::Text => Event::Text { choice, text },
            Piece::Reasoning => Event::Reasoning { choice, text },
            Piece::Refusal => Event::Refusal { choice, text },
            Piece::ToolArguments { index } => Event::ToolArguments { choice, index, text },
        }
    }
}

/// Receives each piece of choice 0's text; returns `false` to stop the call.
pub type TextSink<'a> = dyn FnMut(&str) -> bool + 'a;

pub struct Assembler<'s> {
    sink: Sink<'s>,
    /// Where the buffers of long texts come from and go back to, across calls (`spare`).
    spare: Option<Arc<Spare>>,
    request_id: String,
    started: bool,
    /// Whether anything but RESPONSE reached the sink.
    delivered: bool,
    choices: Vec<Choice>,
    /// Tool calls in all choices (`MAX_TOOL_CALLS`).
    tool_calls: usize,
    usage: Option<Usage>,
    /// Whether the answer ends with RESULT (the request's `result`); then the response id and
    /// model are kept for it, and each choice's finish reason.
    result: bool,
    id: String,
    model: String,
}

#[derive(Default)]
struct Choice {
    number: u32,
    content: Accumulated,
    reasoning: Accumulated,
    reasoning_signature: String,
    /// Items a protocol needs back on the next turn, as it sent them (Responses' reasoning
    /// items with their encrypted content): MESSAGE's `reasoning_items`, comma-separated.
    items: String,
    refusal: Accumulated,
    calls: Vec<ToolCall>,
    /// The server's index of a call -> its position in `calls`.
    by_key: HashMap<u32, usize>,
    finished: bool,
    /// With `result` only: the reason and the server's word.
    finish: Option<(String, String)>,
}

/// A choice's text so far (its content, reasoning or refusal, a call's arguments), kept with a
/// NUL after it: the piece just added is handed on where it lies, already as C wants it. A
/// `String` (a NUL is a character): every piece is a `&str`, so the whole is known to be UTF-8
/// and MESSAGE reads it without validating megabytes again.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Accumulated(String);

impl Accumulated {
    /// Appends `piece`; returns it as stored, followed by the NUL.
    #[inline]
    fn push(&mut self, piece: &str) -> &[u8] {
        // Where the previous NUL is (a NUL is one byte, so this cuts no character).
        let start = self.0.len().saturating_sub(1);
        self.0.truncate(start);
        self.0.reserve(piece.len() + 1);
        self.0.push_str(piece);
        self.0.push('\0');
        &self.0.as_bytes()[start..]
    }

    /// Starts from a kept buffer, before the first piece.
    #[inline]
    fn seed(&mut self, spare: Option<&Spare>) {
        if self.0.capacity() == 0 {
            if let Some(spare) = spare {
                self.0 = spare.take_string();
            }
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        self.0.strip_suffix('\0').unwrap_or(&self.0)
    }

    /// `as_str()` followed by a NUL, also when nothing was added.
    pub(crate) fn with_nul(&self) -> &[u8] {
        if self.0.is_empty() { b"\0" } else { self.0.as_bytes() }
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0.into_bytes()
    }
}

impl From<&str> for Accumulated {
    fn from(text: &str) -> Self {
        let mut all = Accumulated::default();
        all.push(text);
        all
    }
}

impl<'s> Assembler<'s> {
    pub fn new(sink: Sink<'s>) -> Assembler<'s> {
        Assembler {
            sink,
            spare: None,
            request_id: String::new(),
            started: false,
            delivered: false,
            choices: Vec::new(),
            tool_calls: 0,
            usage: None,
            result: false,
            id: String::new(),
            model: String::new(),
        }
    }

    /// Ends the answer with RESULT when `on` (the request's `result`).
    pub(crate) fn with_result(self, on: bool) -> Assembler<'s> {
        Assembler { result: on, ..self }
    }

    /// Takes the buffers of long texts from `spare`, and gives them back at the end.
    pub(crate) fn with_spare(self, spare: Arc<Spare>) -> Assembler<'s> {
        Assembler { spare: Some(spare), ..self }
    }

    /// Whether only choice 0's text is wanted (the text API): nothing else is assembled.
    fn text_only(&self) -> bool {
        matches!(self.sink, Sink::Text(_) | Sink::Queue { text_only: true, .. })
    }

    /// What a pulled call's assembler kept (`Sink::Queue`).
    pub(crate) fn queued(&mut self) -> Option<&mut Pulled> {
        match &mut self.sink {
            Sink::Queue { queue, .. } => Some(queue),
            _ => None,
        }
    }

    /// Whether RESPONSE was sent (so a decoder need not read the id and model again).
    pub fn started(&self) -> bool {
        self.started
    }

    /// Sets the request id RESPONSE will carry (from the answer's headers).
    pub fn set_request_id(&mut self, request_id: &str) {
        self.request_id = request_id.to_string();
    }

    /// By reference: the caller's event is dropped where its variant is known (a borrowed
    /// piece of text needs no drop code run per event).
    #[inline]
    fn emit(&mut self, event: &Event<'_>) -> Result<(), Error> {
        self.delivered |= !matches!(event, Event::Response { .. });
        send(&mut self.sink, event, None)
    }

    /// Whether any piece of the answer (anything but RESPONSE) reached the caller: after that a
    /// failed call is never retried.
    pub fn delivered(&self) -> bool {
        self.delivered
    }

    /// RESPONSE, unless it was already sent. Every other event sends it first when needed.
    #[inline]
    pub fn start(&mut self, id: &str, model: &str) -> Result<(), Error> {
        if self.started {
            return Ok(());
        }
        self.send_response(id, model)
    }

    #[inline(never)]
    fn send_response(&mut self, id: &str, model: &str) -> Result<(), Error> {
        self.started = true;
        if self.text_only() {
            return Ok(());
        }
        no_nul("response `id`", id)?;
        no_nul("`model`", model)?;
        no_nul("request id header", &self.request_id)?;
        if self.result {
            (self.id, self.model) = (id.to_string(), model.to_string());
        }
        // Kept for RESULT, else no longer needed.
        let request_id = if self.result { self.request_id.clone() } else { std::mem::take(&mut self.request_id) };
        self.emit(&Event::Response {
            id: Cow::Borrowed(id),
            model: Cow::Borrowed(model),
            request_id: Cow::Borrowed(&request_id),
        })
    }

    /// The position of choice `number`, added when new.
    #[inline]
    fn choice(&mut self, number: u32) -> Result<usize, Error> {
        // Nearly every answer has the one choice.
        match self.choices.first() {
            Some(first) if first.number == number => Ok(0),
            _ => self.find_or_add_choice(number),
        }
    }

    #[inline(never)]
    fn find_or_add_choice(&mut self, number: u32) -> Result<usize, Error> {
        if let Some(i) = self.choices.iter().position(|c| c.number == number) {
            return Ok(i);
        }
        if self.choices.len() >= MAX_CHOICES {
            return Err(too_large(&format!("more than {MAX_CHOICES} choices")));
        }
        self.choices.push(Choice { number, ..Choice::default() });
        Ok(self.choices.len() - 1)
    }

    /// A piece of the content of `choice`.
    pub fn text(&mut self, choice: u32, text: &str) -> Result<(), Error> {
        if text.is_empty() {
            return Ok(());
        }
        if let Sink::Text(sink) = &mut self.sink {
            if choice == 0 {
                self.delivered = true;
                if !sink(text) {
                    return Err(Error::stopped_by_sink());
                }
            }
            return Ok(());
        }
        if let Sink::Queue { text_only: true, queue } = &mut self.sink {
            if choice == 0 {
                self.delivered = true;
                queue.push_text(text);
            }
            return Ok(());
        }
        self.start("", "")?;
        let i = self.choice(choice)?;
        self.delivered = true;
        let content = &mut self.choices[i].content;
        content.seed(self.spare.as_deref());
        let with_nul = content.push(text);
        send_piece(&mut self.sink, Piece::Text, choice, text, with_nul)
    }

    /// A piece of the reasoning of `choice`.
    #[inline]
    pub fn reasoning(&mut self, choice: u32, text: &str) -> Result<(), Error> {
        // Called for every chunk, nearly always with nothing: checked here, inline.
        if text.is_empty() || self.text_only() {
            return Ok(());
        }
        self.add_reasoning(choice, text)
    }

    #[inline(never)]
    fn add_reasoning(&mut self, choice: u32, text: &str) -> Result<(), Error> {
        self.start("", "")?;
        let i = self.choice(choice)?;
        self.delivered = true;
        let reasoning = &mut self.choices[i].reasoning;
        reasoning.seed(self.spare.as_deref());
        let with_nul = reasoning.push(text);
        send_piece(&mut self.sink, Piece::Reasoning, choice, text, with_nul)
    }

    /// A piece of the signature that vouches for the reasoning (kept in MESSAGE only).
    pub fn reasoning_signature(&mut self, choice: u32, text: &str) -> Result<(), Error> {
        if text.is_empty() || self.text_only() {
            return Ok(());
        }
        let i = self.choice(choice)?;
        self.choices[i].reasoning_signature.push_str(text);
        Ok(())
    }

    /// An item of `choice` that the next turn must send back as received (a JSON object, kept
    /// in MESSAGE's `reasoning_items`; no event).
    pub fn message_item(&mut self, choice: u32, item: &str) -> Result<(), Error> {
        if self.text_only() {
            return Ok(());
        }
        let c = self.choice(choice)?;
        let items = &mut self.choices[c].items;
        if !items.is_empty() {
            items.push(',');
        }
        items.push_str(item);
        Ok(())
    }

    /// A piece of a refusal of `choice`.
    #[inline]
    pub fn refusal(&mut self, choice: u32, text: &str) -> Result<(), Error> {
        // Called for every chunk, nearly always with nothing: checked here, inline.
        if text.is_empty() || self.text_only() {
            return Ok(());
        }
        self.add_refusal(choice, text)
    }

    #[inline(never)]
    fn add_refusal(&mut self, choice: u32, text: &str) -> Result<(), Error> {
        self.start("", "")?;
        let i = self.choice(choice)?;
        self.delivered = true;
        let with_nul = self.choices[i].refusal.push(text);
        send_piece(&mut self.sink, Piece::Refusal, choice, text, with_nul)
    }

    /// A tool-call fragment of `choice`: starts a call (TOOL_CALL) when its key is new, or when
    /// it brings an id other than the current call's at that key; otherwise continues it.
    pub fn tool_call(&mut self, choice: u32, fragment: ToolFragment<'_>) -> Result<(), Error> {
        if self.text_only() {
            return Ok(());
        }
        self.start("", "")?;
        let c = self.choice(choice)?;
        let id = fragment.id.filter(|s| !s.is_empty()).map(|id| no_nul("tool call `id`", id)).transpose()?;
        let name = fragment.name.filter(|s| !s.is_empty()).map(|name| no_nul("tool call `name`", name)).transpose()?;
        let current = self.choices[c].by_key.get(&fragment.key).copied();
        let position = match current {
            Some(p) if id.is_none_or(|id| id == self.choices[c].calls[p].id) => {
                let call = &mut self.choices[c].calls[p];
                // A name that arrives after the call started completes it (no event repeats it).
                if call.name.is_empty() {
                    if let Some(name) = name {
                        call.name = name.to_string();
                    }
                }
                p
            }
            _ => {
                if self.tool_calls >= MAX_TOOL_CALLS {
                    return Err(too_large(&format!("more than {MAX_TOOL_CALLS} tool calls")));
                }
                self.tool_calls += 1;
                let choice_state = &mut self.choices[c];
                let p = choice_state.calls.len();
                choice_state.calls.push(ToolCall {
                    id: id.unwrap_or("").to_string(),
                    name: name.unwrap_or("").to_string(),
                    arguments: Accumulated::default(),
                    signature: String::new(),
                });
                choice_state.by_key.insert(fragment.key, p);
                self.emit(&Event::ToolCall {
                    choice,
                    index: p as u32,
                    id: Cow::Borrowed(id.unwrap_or("")),
                    name: Cow::Borrowed(name.unwrap_or("")),
                })?;
                p
            }
        };
        match fragment.arguments.filter(|a| !a.is_empty()) {
            Some(text) => {
                self.delivered = true;
                let with_nul = self.choices[c].calls[position].arguments.push(text);
                send_piece(&mut self.sink, Piece::ToolArguments { index: position as u32 }, choice, text, with_nul)
            }
            None => Ok(()),
        }
    }

    /// The signature of the tool call at the server's index `key` of `choice` (Gemini's
    /// `thoughtSignature`), kept in MESSAGE only; a call that has one keeps it.
    pub fn tool_call_signature(&mut self, choice: u32, key: u32, signature: &str) -> Result<(), Error> {
        if signature.is_empty() || self.text_only() {
            return Ok(());
        }
        let c = self.choice(choice)?;
        let state = &mut self.choices[c];
        if let Some(call) = state.by_key.get(&key).and_then(|&p| state.calls.get_mut(p)) {
            if call.signature.is_empty() {
                call.signature = signature.to_string();
            }
        }
        Ok(())
    }

    /// Why `choice` ended (`reason` normalized, `raw` as sent); only the first one counts.
    pub fn finish(&mut self, choice: u32, reason: &str, raw: &str) -> Result<(), Error> {
        if self.text_only() {
            return Ok(());
        }
        self.start("", "")?;
        no_nul("`finish_reason`", raw)?;
        let i = self.choice(choice)?;
        if std::mem::replace(&mut self.choices[i].finished, true) {
            return Ok(());
        }
        if self.result {
            self.choices[i].finish = Some((reason.to_string(), raw.to_string()));
        }
        self.emit(&Event::Finish { choice, reason: Cow::Borrowed(reason), raw: Cow::Borrowed(raw) })
    }

    /// Token counts; a later report replaces an earlier one (some servers send one per chunk).
    pub fn usage(&mut self, usage: Usage) {
        self.usage = Some(usage);
    }

    /// The answer is complete: USAGE, then each choice's MESSAGE (choice 0's at least), then
    /// RESULT if asked for.
    pub fn end(&mut self) -> Result<(), Error> {
        if self.text_only() {
            return Ok(());
        }
        self.start("", "")?;
        if let Some(usage) = self.usage {
            self.emit(&Event::Usage(usage))?;
        }
        if self.choices.is_empty() {
            self.choice(0)?;
        }
        let mut choices = std::mem::take(&mut self.choices);
        choices.sort_by_key(|c| c.number);
        // A text's buffer grew by doubling: cut each to its length before any MESSAGE is
        // written, so the texts and the messages together stay within twice the bytes received.
        for c in &mut choices {
            c.shrink();
        }
        if self.result {
            return self.send_messages_and_result(choices);
        }
        for c in choices {
            let mut json = self.message_of(&c);
            if let Sink::Queue { text_only: false, queue } = &mut self.sink {
                // Moved, not copied; the NUL's room stays for the C layer (`ffi::stream`).
                json.pop();
                queue.push_event(Event::Message { choice: c.number, json: Cow::Owned(json) });
            } else {
                let (text, with_nul) = (&json[..json.len() - 1], json.as_bytes());
                send(&mut self.sink, &Event::Message { choice: c.number, json: Cow::Borrowed(text) }, Some(with_nul))?;
                if let Some(spare) = &self.spare {
                    spare.give(json.into_bytes());
                }
            }
            // This choice's texts go before the next MESSAGE is written.
            if let Some(spare) = &self.spare {
                spare.give(c.content.into_bytes());
                spare.give(c.reasoning.into_bytes());
            }
        }
        Ok(())
    }

    /// A choice's MESSAGE, followed by a NUL.
    fn message_of(&self, c: &Choice) -> String {
        let buf = self.spare.as_deref().map(Spare::take_string).unwrap_or_default();
        let (content, reasoning, refusal) = (c.content.as_str(), c.reasoning.as_str(), c.refusal.as_str());
        let mut json = message_json(buf, content, reasoning, &c.reasoning_signature, &c.items, refusal, &c.calls);
        json.push('\0');
        json
    }

    /// With RESULT: each MESSAGE, kept for RESULT (the one copy of the answer that RESULT adds,
    /// besides its JSON), then RESULT.
    fn send_messages_and_result(&mut self, choices: Vec<Choice>) -> Result<(), Error> {
        let mut messages = Vec::with_capacity(choices.len());
        for c in &choices {
            let json = self.message_of(c);
            let (text, with_nul) = (&json[..json.len() - 1], json.as_bytes());
            send(&mut self.sink, &Event::Message { choice: c.number, json: Cow::Borrowed(text) }, Some(with_nul))?;
            messages.push(json);
        }
        self.send_result(choices, messages)
    }

    /// RESULT: the choices as gathered, with their MESSAGE (and a NUL) each.
    #[inline(never)]
    fn send_result(&mut self, choices: Vec<Choice>, messages: Vec<String>) -> Result<(), Error> {
        let choices = choices
            .into_iter()
            .zip(messages)
            .map(|(c, message)| result::Choice {
                index: c.number,
                text: c.content,
                reasoning: c.reasoning,
                refusal: c.refusal,
                tool_calls: c.calls,
                finish: c.finish,
                message,
            })
            .collect();
        let (id, model, request_id) =
            (std::mem::take(&mut self.id), std::mem::take(&mut self.model), std::mem::take(&mut self.request_id));
        let answer = Arc::new(Answer::new(id, model, request_id, choices, self.usage)?);
        send(&mut self.sink, &Event::Result(answer.clone()), Some(answer.json_with_nul()))?;
        // A pulled call's queue holds the answer on; a pushed one's is done with it.
        if let (Some(spare), Ok(answer)) = (&self.spare, Arc::try_unwrap(answer)) {
            answer.into_buffers().for_each(|b| spare.give(b));
        }
        Ok(())
    }
}

impl Choice {
    /// Frees what its texts' buffers hold beyond their length.
    fn shrink(&mut self) {
        for text in [&mut self.content, &mut self.reasoning, &mut self.refusal] {
            text.0.shrink_to_fit();
        }
        self.reasoning_signature.shrink_to_fit();
        self.items.shrink_to_fit();
        for call in &mut self.calls {
            call.arguments.0.shrink_to_fit();
        }
    }
}

fn too_large(what: &str) -> Error {
    Error::new(crate::error::ErrorKind::TooLarge, format!("the answer has {what}, the limit"))
}

/// `text`, a string C gets without its length (an id, a name, the model, the raw finish
/// reason), unless it holds a NUL: C would see it cut there while MESSAGE, which goes back to
/// the model, keeps all of it, so what a program dispatches on would not be what it sends back.
#[inline]
fn no_nul<'t>(field: &str, text: &'t str) -> Result<&'t str, Error> {
    match memchr::memchr(0, text.as_bytes()) {
        None => Ok(text),
        Some(_) => Err(Error::protocol(format!("the answer's {field} holds a NUL character, which C would cut short"))),
    }
}

/// Hands `event` to the sink (`with_nul`: its text followed by a NUL, for a sink that wants it).
#[inline]
fn send(sink: &mut Sink<'_>, event: &Event<'_>, with_nul: Option<&[u8]>) -> Result<(), Error> {
    let go_on = match sink {
        Sink::Events(sink) => sink(event),
        Sink::EventsWithNul(sink) => sink.event(event, with_nul),
        Sink::Queue { text_only, queue } => {
            if !*text_only {
                queue.push_event(event.clone().into_owned());
            }
            true
        }
        // Text mode hands over choice 0's text only, in `Assembler::text`.
        Sink::Text(_) => true,
    };
    if go_on { Ok(()) } else { Err(Error::stopped_by_sink()) }
}

/// `send` for a piece of text, `with_nul` where its choice keeps it. The event only borrows, so
/// it is not dropped: that spares each piece the out-of-line drop code of `Event`.
#[inline]
fn send_piece(sink: &mut Sink<'_>, piece: Piece, choice: u32, text: &str, with_nul: &[u8]) -> Result<(), Error> {
    let go_on = match sink {
        Sink::EventsWithNul(sink) => sink.piece(piece, choice, with_nul),
        Sink::Events(sink) => sink(&std::mem::ManuallyDrop::new(piece.event(choice, text))),
        Sink::Queue { text_only, queue } => {
            if !*text_only {
                queue.push_event(piece.event(choice, text).into_owned());
            }
            true
        }
        Sink::Text(_) => true,
    };
    if go_on { Ok(()) } else { Err(Error::stopped_by_sink()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(mode: Mode, feed: impl FnOnce(&mut Assembler<'_>) -> Result<(), Error>) -> Vec<Event<'static>> {
        let events = std::cell::RefCell::new(Vec::new());
        let mut event_sink = |e: &Event<'_>| {
            events.borrow_mut().push(e.clone().into_owned());
            true
        };
        let mut text_sink = |t: &str| {
            events.borrow_mut().push(Event::Text { choice: 0, text: t.to_string().into() });
            true
        };
        let sink = match mode {
            Mode::Text => Sink::Text(&mut text_sink),
            Mode::Events => Sink::Events(&mut event_sink),
        };
        let mut a = Assembler::new(sink);
        a.set_request_id("req-1");
        feed(&mut a).unwrap();
        a.end().unwrap();
        events.into_inner()
    }

    #[test]
    fn the_long_buffers_go_back_to_the_spare_and_serve_the_next_call_alike() {
        let spare = Arc::new(Spare::default());
        let long = "x".repeat(300 * 1024);
        let mut messages = Vec::new();
        for _ in 0..3 {
            let mut json = String::new();
            let mut sink = |e: &Event<'_>| {
                if let Event::Message { json: j, .. } = e {
                    json = j.to_string();
                }
                true
            };
            let mut a = Assembler::new(Sink::Events(&mut sink)).with_spare(spare.clone());
            a.text(0, &long).unwrap();
            a.reasoning(0, "why").unwrap();
            a.end().unwrap();
            messages.push(json);
        }
        assert!(messages.iter().all(|m| m == &messages[0]) && messages[0].contains(&long));
        // The content and the MESSAGE buffers are kept (two at most), the larger one first.
        assert!(spare.take().capacity() > long.len() && spare.take().capacity() > long.len());
        assert_eq!(spare.take().capacity(), 0);
    }

    #[test]
    fn accumulated_text_keeps_each_piece_with_a_nul_after_it() {
        let mut all = Accumulated::default();
        assert_eq!((all.as_str(), all.with_nul()), ("", &b"\0"[..]));
        assert_eq!(all.push("é"), "é\0".as_bytes());
        // A piece may hold a NUL of its own, even at its end: only the added one is cut.
        assert_eq!(all.push("a\0"), b"a\0\0");
        assert_eq!(all.push("€"), "€\0".as_bytes());
        assert_eq!(all.as_str(), "éa\0€");
        assert_eq!(all.with_nul(), "éa\0€\0".as_bytes());
    }

    fn frag<'a>(key: u32, id: Option<&'a str>, name: Option<&'a str>, args: Option<&'a str>) -> ToolFragment<'a> {
        ToolFragment { key, id, name, arguments: args }
    }

    fn message(events: &[Event<'_>]) -> serde_json::Value {
        match events.last() {
            Some(Event::Message { json, .. }) => serde_json::from_str(json).unwrap(),
            other => panic!("last event is not MESSAGE: {other:?}"),
        }
    }

    #[test]
    fn response_comes_first_with_the_request_id_and_message_last() {
        let events = collect(Mode::Events, |a| {
            a.start("id-1", "m")?;
            a.text(0, "Hi")?;
            a.finish(0, "stop", "stop")
        });
        assert_eq!(events[0], Event::Response { id: "id-1".into(), model: "m".into(), request_id: "req-1".into() });
        assert_eq!(events[1], Event::Text { choice: 0, text: "Hi".into() });
        assert_eq!(events[2], Event::Finish { choice: 0, reason: "stop".into(), raw: "stop".into() });
        assert_eq!(message(&events), serde_json::json!({"role":"assistant","content":"Hi"}));
        assert_eq!(events.len(), 4);
    }

    #[test]
    fn an_empty_answer_still_has_response_and_a_null_content_message() {
        let events = collect(Mode::Events, |_| Ok(()));
        assert!(matches!(events[0], Event::Response { .. }));
        assert_eq!(events[1], Event::Message { choice: 0, json: r#"{"role":"assistant","content":null}"#.into() });
    }

    #[test]
    fn a_new_id_at_a_used_key_starts_a_new_call_and_a_repeated_id_continues() {
        let events = collect(Mode::Events, |a| {
            a.tool_call(0, frag(0, Some("a"), Some("f"), Some("{\"x\"")))?;
            a.tool_call(0, frag(0, Some("a"), Some("f"), Some(":1}")))?;
            a.tool_call(0, frag(0, Some("b"), Some("g"), Some("{}")))
        });
        let calls: Vec<_> = events.iter().filter(|e| matches!(e, Event::ToolCall { .. })).collect();
        assert_eq!(calls.len(), 2);
        assert_eq!(
            message(&events)["tool_calls"],
            serde_json::json!([
                {"id":"a","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}},
                {"id":"b","type":"function","function":{"name":"g","arguments":"{}"}}
            ])
        );
    }

    #[test]
    fn finish_counts_once_per_choice_and_usage_last_wins() {
        let events = collect(Mode::Events, |a| {
            a.usage(Usage { prompt_tokens: Some(1), ..Usage::default() });
            a.finish(0, "stop", "stop")?;
            a.finish(0, "stop", "stop")?;
            a.usage(Usage { prompt_tokens: Some(2), ..Usage::default() });
            Ok(())
        });
        let kinds: Vec<_> = events.iter().map(std::mem::discriminant).collect();
        assert_eq!(kinds.len(), 4, "{events:?}");
        assert_eq!(events[2], Event::Usage(Usage { prompt_tokens: Some(2), ..Usage::default() }));
    }

    #[test]
    fn text_mode_passes_only_choice_zero_text() {
        let events = collect(Mode::Text, |a| {
            a.start("x", "y")?;
            a.reasoning(0, "think")?;
            a.text(1, "other")?;
            a.text(0, "mine")?;
            a.tool_call(0, frag(0, Some("a"), Some("f"), Some("{}")))?;
            a.finish(0, "stop", "stop")
        });
        assert_eq!(events, vec![Event::Text { choice: 0, text: "mine".into() }]);
    }

    #[test]
    fn result_comes_last_and_says_what_was_absent() {
        let events = std::cell::RefCell::new(Vec::new());
        let mut sink = |e: &Event<'_>| {
            events.borrow_mut().push(e.clone().into_owned());
            true
        };
        let mut a = Assembler::new(Sink::Events(&mut sink)).with_result(true);
        a.set_request_id("req-1");
        a.start("id-1", "m").unwrap();
        a.text(1, "two").unwrap();
        a.finish(1, "stop", "end_turn").unwrap();
        a.end().unwrap();
        let events = events.into_inner();
        let Some(Event::Result(answer)) = events.last() else { panic!("last is not RESULT: {events:?}") };
        let json: serde_json::Value = serde_json::from_str(answer.json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id":"id-1","model":"m","request_id":"req-1","usage":null,"choices":[
                {"index":1,"text":"two","reasoning":"","refusal":"","tool_calls":[],"finish_reason":"stop",
                 "finish_reason_raw":"end_turn","message":{"role":"assistant","content":"two"}}]})
        );
        assert_eq!(events[0], Event::Response { id: "id-1".into(), model: "m".into(), request_id: "req-1".into() });
        let empty = collect(Mode::Events, |_| Ok(()));
        assert!(!empty.iter().any(|e| matches!(e, Event::Result(_))), "opt-in");
    }

    #[test]
    fn too_many_choices_or_tool_calls_is_too_large() {
        let mut sink = |_: &Event<'_>| true;
        let mut a = Assembler::new(Sink::Events(&mut sink));
        for n in 0..MAX_CHOICES as u32 {
            a.text(n, "x").unwrap();
        }
        assert_eq!(a.text(u32::MAX, "x").unwrap_err().kind(), crate::error::ErrorKind::TooLarge);
        // Calls count in all choices together.
        for n in 0..MAX_TOOL_CALLS as u32 {
            a.tool_call(n % 2, frag(n, Some("c"), None, None)).unwrap();
        }
        let e = a.tool_call(3, frag(u32::MAX, Some("c"), None, None)).unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (crate::error::ErrorKind::TooLarge, "the answer has more than 4096 tool calls, the limit")
        );
    }
}
