#![allow(dead_code)] // each fuzz target uses one of these
//! What each fuzz target asserts, shared by the targets (fuzz_targets/) and by the replay of
//! the committed corpus in `make test` (tests/fuzz_corpus.rs).

use aichat::answer::{Assembler, Sink};
use aichat::eventstream::{FrameError, HeaderValue};
use std::time::Instant;

use aichat::request::{Request, Settings};
use aichat::sse::Framer;
use aichat::{ErrorKind, Event};

/// Any text gives a request or an INVALID_REQUEST error, never a panic; a parsed request
/// resolves or errors cleanly.
pub fn request_json(text: &str) {
    match Request::from_json(text) {
        Ok(request) => {
            if let Err(e) =
                aichat::providers::resolve(request, &Settings::default(), &aichat::env::Env::default(), Instant::now())
            {
                assert_eq!(e.kind(), ErrorKind::InvalidRequest, "{e:?}");
            }
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidRequest, "{e:?}"),
    }
    if let Ok(options) = Settings::options_from_json(text) {
        let empty = Request { messages: vec![], settings: Settings::default() };
        let _ = aichat::providers::resolve(empty, &options, &aichat::env::Env::default(), Instant::now());
    }
}

const SSE_CAP: usize = 4096;

fn sse_events(pieces: &[&[u8]]) -> (Vec<(String, String)>, bool) {
    let mut framer = Framer::new(SSE_CAP);
    let mut events = Vec::new();
    for piece in pieces {
        let fed = framer.feed(piece, &mut |event, data| {
            events.push((event.to_string(), data.to_string()));
            true
        });
        if fed.is_err() {
            return (events, true);
        }
    }
    (events, false)
}

/// No panic on any bytes, and the events (or the size error) do not depend on how the stream
/// is split into reads. The first byte says how many of the next bytes are cut positions.
pub fn sse_framer(data: &[u8]) {
    let (stream, pieces) = split_by_header(data);
    let whole = sse_events(&[stream]);
    let split = sse_events(&pieces);
    assert_eq!(whole.1, split.1, "the size cap depends on the split");
    if !whole.1 {
        assert_eq!(whole.0, split.0, "the events depend on the split");
        assert_eq!(whole.0, sse_reference(stream), "the events differ from the plain reading of the rules");
    }
}

/// The event-stream rules read the plainest way, line by line over the whole stream: what the
/// framer, with its fast paths, must give. Invalid UTF-8 becomes U+FFFD before the lines are
/// cut (the same as per line: line ends and `:` are ASCII, never part of a bad sequence).
fn sse_reference(stream: &[u8]) -> Vec<(String, String)> {
    let stream = stream.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(stream);
    let text = String::from_utf8_lossy(stream);
    let (mut events, mut name, mut data) = (Vec::new(), String::new(), String::new());
    let mut rest: &str = &text;
    while let Some(end) = rest.find(['\r', '\n']) {
        let line = &rest[..end];
        rest = if rest[end..].starts_with("\r\n") { &rest[end + 2..] } else { &rest[end + 1..] };
        if line.is_empty() {
            let payload = data.strip_suffix('\n').unwrap_or(&data);
            if !payload.is_empty() {
                events.push((name.clone(), payload.to_string()));
            }
            name.clear();
            data.clear();
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => name = value.to_string(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            _ => {}
        }
    }
    events
}

/// Runs `decode` into an events-mode assembler whose sink checks what every event promises
/// (text never empty, tool-call indexes dense, RESPONSE first and MESSAGE last), and ends it.
fn check_events(decode: impl FnOnce(&mut Assembler<'_>) -> Result<(), aichat::Error>) -> Result<(), aichat::Error> {
    let mut seen = Vec::new();
    let mut calls = 0u32;
    let mut sink = |e: &Event<'_>| {
        match e {
            Event::Text { text, .. } | Event::Reasoning { text, .. } | Event::Refusal { text, .. } => {
                assert!(!text.is_empty(), "empty text event")
            }
            Event::ToolCall { index, .. } => {
                assert!(*index <= calls, "tool-call index {index} skips one");
                calls = calls.max(index + 1);
            }
            Event::ToolArguments { index, text, .. } => {
                assert!(*index < calls && !text.is_empty(), "arguments before their call")
            }
            _ => {}
        }
        seen.push((matches!(e, Event::Response { .. }), matches!(e, Event::Message { .. })));
        true
    };
    let mut out = Assembler::new(Sink::Events(&mut sink));
    decode(&mut out)?;
    out.end()?;
    assert!(seen.first().is_some_and(|&(response, _)| response), "RESPONSE comes first");
    assert!(seen.last().is_some_and(|&(_, message)| message), "MESSAGE comes last");
    assert_eq!(seen.iter().filter(|&&(response, _)| response).count(), 1, "one RESPONSE");
    Ok(())
}

fn ndjson_lines(pieces: &[&[u8]]) -> (Vec<String>, bool) {
    let mut framer = aichat::ndjson::Framer::new(SSE_CAP);
    let mut lines = Vec::new();
    for piece in pieces {
        let fed = framer.feed(piece, &mut |line| {
            lines.push(line.to_string());
            true
        });
        if fed.is_err() {
            return (lines, true);
        }
    }
    (lines, false)
}

/// The NDJSON framer: no panic on any bytes, and the lines (or the size error) do not depend on
/// how the stream is split into reads. The first byte says how many of the next are cuts.
pub fn ndjson_framer(data: &[u8]) {
    let (stream, pieces) = split_by_header(data);
    let whole = ndjson_lines(&[stream]);
    let split = ndjson_lines(&pieces);
    assert_eq!(whole.1, split.1, "the size cap depends on the split");
    if !whole.1 {
        assert_eq!(whole.0, split.0, "the lines depend on the split");
        let reference: Vec<String> = String::from_utf8_lossy(stream)
            .split_inclusive('\n')
            .filter_map(|line| line.strip_suffix('\n'))
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .filter(|line| !line.bytes().all(|b| b.is_ascii_whitespace()))
            .map(str::to_string)
            .collect();
        assert_eq!(whole.0, reference, "the lines differ from the plain reading of NDJSON");
    }
}

const EVENTSTREAM_CAP: usize = 4096;

/// What the event-stream framer gives for a stream fed in these pieces: each message encoded
/// again from its parsed headers and payload, then the error, or whether the stream ends inside
/// a message.
fn eventstream_messages(pieces: &[&[u8]]) -> (Vec<Vec<u8>>, Result<bool, FrameError>) {
    let mut framer = aichat::eventstream::Framer::new(EVENTSTREAM_CAP);
    let mut messages = Vec::new();
    for piece in pieces {
        let fed = framer.feed(piece, &mut |m| {
            let headers: Vec<_> = m.headers().collect();
            // The lookups agree with the list: the first header of a name counts, and only a
            // string is a string header.
            // (The first 64 headers: a fuzzed message may have 2,000, and each lookup walks them.)
            for (i, &(name, value)) in headers.iter().enumerate().take(64) {
                if headers[..i].iter().any(|&(n, _)| n == name) {
                    continue;
                }
                assert_eq!(m.header(name), Some(value), "header {name:?}");
                let text = match value {
                    HeaderValue::String(text) => Some(text),
                    _ => None,
                };
                assert_eq!(m.string_header(name), text, "string header {name:?}");
            }
            assert_eq!(m.message_type(), m.string_header(":message-type"));
            assert_eq!(m.event_type(), m.string_header(":event-type"));
            assert_eq!(m.exception_type(), m.string_header(":exception-type"));
            messages.push(aichat::eventstream::encode(&headers, m.payload()));
            true
        });
        if let Err(e) = fed {
            // A framing error is final.
            assert_eq!(framer.feed(b"", &mut |_| panic!("a message after an error")), Err(e));
            assert!(!framer.in_message());
            return (messages, Err(e));
        }
    }
    (messages, Ok(framer.in_message()))
}

/// The AWS event-stream framer: no panic on any bytes; the messages and the error do not depend
/// on how the stream is split into reads (the first byte says how many of the next are cuts);
/// and the messages, encoded again, are the stream's bytes: nothing skipped, nothing changed.
pub fn eventstream_framer(data: &[u8]) {
    let (stream, pieces) = split_by_header(data);
    let whole = eventstream_messages(&[stream]);
    let split = eventstream_messages(&pieces);
    assert_eq!(whole, split, "the messages or the error depend on the split");
    let (messages, end) = whole;
    let framed = messages.concat();
    assert!(stream.starts_with(&framed), "a message differs from the bytes it came from");
    match end {
        Ok(false) => assert_eq!(framed.len(), stream.len(), "bytes left over outside a message"),
        Ok(true) => assert!(framed.len() < stream.len(), "inside a message with no bytes held"),
        Err(_) => assert!(framed.len() < stream.len(), "an error with every byte framed"),
    }
}

/// `data` as a stream and the pieces it is cut into: the first byte says how many of the next
/// bytes are cut positions.
fn split_by_header(data: &[u8]) -> (&[u8], Vec<&[u8]>) {
    if data.is_empty() {
        return (data, vec![data]);
    }
    let (cuts, stream) = data[1..].split_at(usize::from(data[0] % 8).min(data.len() - 1));
    let mut pieces = Vec::new();
    let mut rest = stream;
    for &cut in cuts {
        let (piece, tail) = rest.split_at(usize::from(cut).min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    (stream, pieces)
}

/// The aichat answer parser: the text, or a PROTOCOL or SERVER error with a short message.
pub fn aichat_answer(body: &[u8]) {
    if let Err(e) = aichat::providers::aichat::parse_answer(body) {
        assert!(matches!(e.kind(), ErrorKind::Protocol | ErrorKind::Server), "{e:?}");
        assert!(e.message().len() < 2048, "error messages stay short");
    }
}

/// The openai decoders (stream events, one per line, and one whole answer): the events keep
/// their promises; errors are only PROTOCOL, SERVER or TOO_LARGE
/// (past the caps on choices and tool calls).
pub fn openai_answer(body: &[u8]) {
    use aichat::providers::openai::{decode_answer, decode_event};
    if let Ok(text) = std::str::from_utf8(body) {
        let result = check_events(|out| {
            for line in text.lines() {
                decode_event(line, out)?;
            }
            Ok(())
        });
        if let Err(e) = result {
            assert!(matches!(e.kind(), ErrorKind::Protocol | ErrorKind::Server | ErrorKind::TooLarge), "{e:?}");
        }
    }
    if let Err(e) = check_events(|out| decode_answer(body, out)) {
        assert!(matches!(e.kind(), ErrorKind::Protocol | ErrorKind::Server | ErrorKind::TooLarge), "{e:?}");
    }
}

/// A protocol's decoder on any bytes: each line as a stream frame, then the whole as one
/// answer. The events keep their promises; errors are only PROTOCOL, SERVER or TOO_LARGE.
fn decoder_answer(protocol: aichat::providers::Provider, body: &[u8]) {
    use aichat::providers::Flow;
    if let Ok(text) = std::str::from_utf8(body) {
        let result = check_events(|out| {
            let mut decoder = protocol.decoder();
            for line in text.lines() {
                let (event, data) = line.split_once('\t').unwrap_or(("", line));
                if decoder.frame(event, data, out)? == Flow::Done {
                    break;
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            assert!(matches!(e.kind(), ErrorKind::Protocol | ErrorKind::Server | ErrorKind::TooLarge), "{e:?}");
        }
    }
    if let Err(e) = check_events(|out| protocol.decoder().body(body, out)) {
        assert!(matches!(e.kind(), ErrorKind::Protocol | ErrorKind::Server | ErrorKind::TooLarge), "{e:?}");
    }
}

/// The Anthropic Messages decoder (a line is `EVENT<TAB>DATA`, or DATA alone).
pub fn anthropic_answer(body: &[u8]) {
    decoder_answer(&aichat::providers::anthropic::Anthropic, body);
}

/// The Bedrock Converse decoder (a line is `EVENT<TAB>DATA`: an event-stream message's
/// `:event-type`, or `exception:TYPE`, and its payload).
pub fn bedrock_answer(body: &[u8]) {
    decoder_answer(&aichat::providers::bedrock::Bedrock, body);
}

/// The Ollama chat decoder (a line is one NDJSON object).
pub fn ollama_answer(body: &[u8]) {
    decoder_answer(&aichat::providers::ollama::Ollama, body);
}

/// What a decoder did with a stream: every event it emitted, and the error it stopped with.
type Trace = (Vec<Event<'static>>, Option<(ErrorKind, String)>);

/// The three ways an assembler hands an answer over: the text API, the Rust event sink, and the
/// C layer's sink (pieces with their text NUL-terminated in place).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Text,
    Events,
    EventsWithNul,
}

/// Collects what the C layer's sink receives as events, checking each NUL-terminated text.
struct NulEvents<'a>(&'a std::cell::RefCell<Vec<Event<'static>>>);

impl aichat::answer::NulEventSink for NulEvents<'_> {
    fn piece(&mut self, piece: aichat::answer::Piece, choice: u32, with_nul: &[u8]) -> bool {
        let (text, nul) = with_nul.split_at(with_nul.len() - 1);
        assert_eq!(nul, [0], "a piece is followed by a NUL");
        let text = std::str::from_utf8(text).expect("a piece is text");
        self.0.borrow_mut().push(piece.event(choice, text).into_owned());
        true
    }

    fn event(&mut self, event: &Event<'_>, with_nul: Option<&[u8]>) -> bool {
        if let (Event::Message { json, .. }, Some(with_nul)) = (event, with_nul) {
            assert_eq!(with_nul, [json.as_bytes(), &[0]].concat(), "MESSAGE's JSON is followed by a NUL");
        }
        self.0.borrow_mut().push(event.clone().into_owned());
        true
    }
}

fn trace(frames: &[(&str, &str)], mut decoder: Box<dyn aichat::providers::Decoder>, mode: Mode) -> Trace {
    let events = std::cell::RefCell::new(Vec::new());
    let mut on_event = |e: &Event<'_>| {
        events.borrow_mut().push(e.clone().into_owned());
        true
    };
    let mut on_text = |t: &str| {
        events.borrow_mut().push(Event::Text { choice: 0, text: t.to_string().into() });
        true
    };
    let mut nul_events = NulEvents(&events);
    let sink = match mode {
        Mode::Text => Sink::Text(&mut on_text),
        Mode::Events => Sink::Events(&mut on_event),
        Mode::EventsWithNul => Sink::EventsWithNul(&mut nul_events),
    };
    let mut out = Assembler::new(sink);
    let mut failure = None;
    for (event, data) in frames {
        match decoder.frame(event, data, &mut out) {
            Ok(aichat::providers::Flow::Done) => break,
            Ok(_) => {}
            Err(e) => {
                failure = Some((e.kind(), e.message().to_string()));
                break;
            }
        }
    }
    if failure.is_none() {
        if let Err(e) = out.end() {
            failure = Some((e.kind(), e.message().to_string()));
        }
    }
    (events.into_inner(), failure)
}

/// Differential: each protocol's decoder with its fast path gives exactly the events and the
/// error of the same decoder without it (`plain_decoder`), in every sink mode (and the C layer's
/// sink gets the events the Rust one gets). Each line of the
/// input is a frame (`event<TAB>data` for a named SSE event); the openai stream starts with a
/// chunk that starts the answer, since its fast path runs only after RESPONSE.
pub fn fast_paths(data: &[u8]) {
    use aichat::providers::{Framing, REGISTRY};
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lines: Vec<(&str, &str)> = text.lines().map(|l| l.split_once('\t').unwrap_or(("", l))).collect();
    // Every registered protocol that streams in frames (a whole-body protocol has no frames).
    for &protocol in REGISTRY.iter().filter(|p| p.framing("", true) != Framing::Json) {
        let name = protocol.name();
        let mut frames = Vec::new();
        if name == "openai" {
            frames.push(("", r#"{"id":"chatcmpl-1","model":"m","choices":[]}"#));
        }
        frames.extend(lines.iter().copied());
        // Ollama makes up the ids its server does not send (time-based): not the fast path's
        // doing. They are replaced, in the ToolCall events and in the MESSAGE that repeats them.
        let generated = |mut t: Trace| {
            let mut made_up = Vec::new();
            for e in &mut t.0 {
                if let Event::ToolCall { id, .. } = e {
                    if !text.contains(id.as_ref()) {
                        made_up.push(id.to_string());
                        *id = "(generated)".into();
                    }
                }
            }
            for e in &mut t.0 {
                if let Event::Message { json, .. } = e {
                    let replaced = made_up.iter().fold(json.to_string(), |j, id| j.replace(id, "(generated)"));
                    *json = replaced.into();
                }
            }
            t
        };
        for mode in [Mode::Text, Mode::Events, Mode::EventsWithNul] {
            let fast = generated(trace(&frames, protocol.decoder(), mode));
            let plain = generated(trace(&frames, protocol.plain_decoder(), mode));
            assert_eq!(fast, plain, "{name}: the fast path differs from the plain path ({mode:?})");
            if mode == Mode::EventsWithNul {
                let events = generated(trace(&frames, protocol.decoder(), Mode::Events));
                assert_eq!(fast, events, "{name}: the C layer's sink gets other events than the Rust one");
            }
        }
    }
}
