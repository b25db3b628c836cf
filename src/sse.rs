//! A byte-level Server-Sent Events framer, following the WHATWG event-stream rules
//! (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
//!
//! It only turns bytes into events (their `event` name and `data`): it knows nothing of JSON or
//! of any provider.
//! Bytes may arrive split anywhere; a line is decoded as UTF-8 only once it is complete, so a
//! character split across two reads arrives whole.

use std::borrow::Cow;

/// Receives an event's name and data; returns `false` to stop.
pub type OnEvent<'a> = dyn FnMut(&str, &str) -> bool + 'a;

/// A line or an event's data grew past the framer's cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLong {
    pub cap: usize,
}

#[derive(Debug)]
pub struct Framer {
    /// The incomplete line carried over from earlier input.
    line: Vec<u8>,
    /// The event's data so far: each `data` line's value followed by `\n`.
    data: String,
    /// The event's `event` field (its last one), "" when it has none.
    event: String,
    /// Whether the stream's first bytes were looked at for a BOM.
    started: bool,
    /// The previous input ended with CR: a LF starting the next input belongs to it.
    after_cr: bool,
    cap: usize,
}

impl Framer {
    /// `cap` bounds one line and one event's data, in bytes.
    pub fn new(cap: usize) -> Framer {
        Framer { line: Vec::new(), data: String::new(), event: String::new(), started: false, after_cr: false, cap }
    }

    /// Feeds the next bytes of the stream; calls `on_data` with each complete event's name (its
    /// `event` field, "" when it has none) and data, in order. `on_data` returns `false` to stop:
    /// `feed` then returns at once with `Ok(false)`.
    pub fn feed(&mut self, mut input: &[u8], on_data: &mut OnEvent<'_>) -> Result<bool, TooLong> {
        if !self.started {
            // The BOM may itself be split across reads: wait for three bytes or a mismatch.
            let mut head = std::mem::take(&mut self.line);
            head.extend_from_slice(input);
            let bom = b"\xEF\xBB\xBF";
            if head.len() < 3 && bom.starts_with(&head) {
                self.line = head;
                return Ok(true);
            }
            self.started = true;
            let skip = if head.starts_with(bom) { 3 } else { 0 };
            return self.feed_started(&head[skip..], on_data);
        }
        // A LF right after a CR that ended the previous input belongs to it; an empty read in
        // between changes nothing (found by fuzzing).
        if self.after_cr && !input.is_empty() {
            self.after_cr = false;
            if input[0] == b'\n' {
                input = &input[1..];
            }
        }
        self.feed_started(input, on_data)
    }

    fn feed_started(&mut self, mut input: &[u8], on_data: &mut OnEvent<'_>) -> Result<bool, TooLong> {
        if !self.line.is_empty() {
            // The line carried over from earlier input, if it ends in this one.
            let Some(end) = memchr::memchr2(b'\n', b'\r', input) else {
                self.check_len(self.line.len() + input.len())?;
                self.line.extend_from_slice(input);
                return Ok(true);
            };
            self.check_len(self.line.len() + end)?;
            let mut line = std::mem::take(&mut self.line);
            line.extend_from_slice(&input[..end]);
            let keep_going = self.line_done(&text_of(&line), on_data)?;
            line.clear();
            self.line = line;
            let skip = line_end_len(input, end);
            self.after_cr = input[end] == b'\r' && end + 1 == input.len();
            input = &input[end + skip..];
            if !keep_going {
                return Ok(false);
            }
        }
        // The lines whole in the rest are checked as UTF-8 in one pass (cheaper than line by
        // line): a line end is ASCII, so every line of a valid span is valid text on its own.
        let whole = memchr::memrchr2(b'\n', b'\r', input).map_or(0, |last| last + 1);
        let (lines, tail) = input.split_at(whole);
        if !lines.is_empty() {
            let keep_going = match simdutf8::basic::from_utf8(lines) {
                Ok(text) => self.lines(Lines { bytes: lines, text: Some(text) }, on_data)?,
                Err(_) => self.lines(Lines { bytes: lines, text: None }, on_data)?,
            };
            if !keep_going {
                return Ok(false);
            }
            // A CR ending the input may be the first half of a CRLF.
            self.after_cr = tail.is_empty() && lines.ends_with(b"\r");
        }
        self.check_len(tail.len())?;
        self.line.extend_from_slice(tail);
        Ok(true)
    }

    /// Interprets `lines`, each ended by CR, LF or CRLF, in order.
    fn lines(&mut self, lines: Lines<'_>, on_data: &mut OnEvent<'_>) -> Result<bool, TooLong> {
        let bytes = lines.bytes;
        let mut at = 0;
        while at < bytes.len() {
            if self.data.is_empty() {
                if let Some(text) = lines.text {
                    if let Some((next, keep_going)) = self.whole_event(text, at, on_data) {
                        at = next;
                        if !keep_going {
                            return Ok(false);
                        }
                        continue;
                    }
                }
            }
            let end = at + memchr::memchr2(b'\n', b'\r', &bytes[at..]).expect("every line has its end");
            self.check_len(end - at)?;
            let keep_going = self.line_done(&lines.text(at, end), on_data)?;
            at = end + line_end_len(bytes, end);
            if !keep_going {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The usual event whole at `at`: an optional `event` line, one `data` line and the blank
    /// line, each ended by LF. Dispatched as `line_done` would, straight from the input (no
    /// copy into `data`); `None` (nothing done) for any other shape, or a line over the cap,
    /// which the line-by-line path then reads.
    fn whole_event(&mut self, text: &str, at: usize, on_data: &mut OnEvent<'_>) -> Option<(usize, bool)> {
        let bytes = text.as_bytes();
        let mut line = at;
        let mut name = None;
        if bytes[at..].starts_with(b"event:") {
            let end = lf_line_end(bytes, at, self.cap)?;
            let value = &text[at + 6..end];
            name = Some(value.strip_prefix(' ').unwrap_or(value));
            line = end + 1;
        }
        if !bytes[line..].starts_with(b"data:") {
            return None;
        }
        let end = lf_line_end(bytes, line, self.cap)?;
        if bytes.get(end + 1) != Some(&b'\n') {
            return None;
        }
        let value = &text[line + 5..end];
        let data = value.strip_prefix(' ').unwrap_or(value);
        // `data` plus the LF `line_done` would append stays within the cap: `end - line` does.
        let keep_going = data.is_empty() || on_data(name.unwrap_or(&self.event), data);
        self.event.clear();
        Some((end + 2, keep_going))
    }

    fn check_len(&self, len: usize) -> Result<(), TooLong> {
        if len > self.cap { Err(TooLong { cap: self.cap }) } else { Ok(()) }
    }

    /// Interprets one complete line (without its end).
    fn line_done(&mut self, line: &str, on_data: &mut OnEvent<'_>) -> Result<bool, TooLong> {
        if line.is_empty() {
            return Ok(self.dispatch(on_data));
        }
        if line.starts_with(':') {
            return Ok(true); // a comment: keep-alive
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        // `id`, `retry` and unknown fields carry nothing this library uses.
        if field == "event" {
            self.event.clear();
            self.event.push_str(value);
        } else if field == "data" {
            self.check_len(self.data.len() + value.len() + 1)?;
            self.data.push_str(value);
            self.data.push('\n');
        }
        Ok(true)
    }

    fn dispatch(&mut self, on_data: &mut OnEvent<'_>) -> bool {
        // An event without data, or whose data is empty (`data` alone), is not dispatched:
        // nothing downstream can use an empty payload.
        let data = self.data.strip_suffix('\n').unwrap_or(&self.data);
        let keep_going = data.is_empty() || on_data(&self.event, data);
        self.data.clear();
        self.event.clear();
        keep_going
    }
}

/// Whole lines of one input, and their text when they are valid UTF-8 as a whole.
#[derive(Clone, Copy)]
struct Lines<'a> {
    bytes: &'a [u8],
    text: Option<&'a str>,
}

impl<'a> Lines<'a> {
    /// The line from `start` to `end` as text.
    fn text(&self, start: usize, end: usize) -> Cow<'a, str> {
        match self.text {
            Some(text) => Cow::Borrowed(&text[start..end]),
            None => text_of(&self.bytes[start..end]),
        }
    }
}

/// `bytes` as text, each invalid sequence replaced by U+FFFD.
pub(crate) fn text_of(bytes: &[u8]) -> Cow<'_, str> {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// How many bytes the line end at `end` takes: 2 for CRLF, else 1.
fn line_end_len(bytes: &[u8], end: usize) -> usize {
    if bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n') { 2 } else { 1 }
}

/// The end of the line starting at `start` when it ends with a plain LF within `cap` bytes.
fn lf_line_end(bytes: &[u8], start: usize, cap: usize) -> Option<usize> {
    let end = start + memchr::memchr2(b'\n', b'\r', &bytes[start..])?;
    (bytes[end] == b'\n' && end - start <= cap).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces cut at `cuts` and returns the events.
    fn events_split(input: &[u8], cuts: &[usize]) -> Result<Vec<String>, TooLong> {
        let mut framer = Framer::new(1024);
        let mut events = Vec::new();
        let mut last = 0;
        for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
            framer.feed(&input[last..cut], &mut |_, d| {
                events.push(d.to_string());
                true
            })?;
            last = cut;
        }
        Ok(events)
    }

    /// The events of `input`, checked to be the same for every split into two and three pieces.
    fn events(input: &[u8]) -> Vec<String> {
        let whole = events_split(input, &[]).unwrap();
        for i in 0..=input.len() {
            assert_eq!(events_split(input, &[i]).unwrap(), whole, "split at {i} of {input:?}");
            for j in i..=input.len() {
                assert_eq!(events_split(input, &[i, j]).unwrap(), whole, "split at {i},{j} of {input:?}");
            }
        }
        whole
    }

    #[test]
    fn lf_crlf_and_cr_line_endings() {
        assert_eq!(events(b"data: a\n\ndata: b\n\n"), ["a", "b"]);
        assert_eq!(events(b"data: a\r\n\r\ndata: b\r\n\r\n"), ["a", "b"]);
        assert_eq!(events(b"data: a\r\rdata: b\r\r"), ["a", "b"]);
        assert_eq!(events(b"data: a\r\n\rdata: b\n\r\n"), ["a", "b"]);
    }

    #[test]
    fn cr_at_the_end_of_one_read_and_lf_at_the_start_of_the_next() {
        // The CRLF is one line end, not an empty line: no extra dispatch, nothing lost.
        assert_eq!(events_split(b"data: a\r\ndata: b\r\n\r\n", &[8]).unwrap(), ["a\nb"]);
    }

    #[test]
    fn an_empty_read_between_cr_and_lf_changes_nothing() {
        let input = b"data: a\r\ndata: b\n\n";
        assert_eq!(events_split(input, &[8, 8]).unwrap(), ["a\nb"]);
        assert_eq!(events_split(input, &[8, 8, 8, 9]).unwrap(), ["a\nb"]);
    }

    #[test]
    fn leading_bom_is_stripped_once() {
        assert_eq!(events(b"\xEF\xBB\xBFdata: a\n\n"), ["a"]);
        // A second BOM is part of the field name, so that line is an unknown field.
        assert_eq!(events(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n"), ["b"]);
    }

    #[test]
    fn the_event_name_comes_with_its_data_and_does_not_carry_over() {
        let mut framer = Framer::new(1024);
        let mut seen = Vec::new();
        let input =
            b"event: message_start\ndata: {}\n\nevent: ping\nevent: content_block_delta\ndata: x\n\ndata: y\n\n";
        for piece in input.chunks(3) {
            framer
                .feed(piece, &mut |e, d| {
                    seen.push((e.to_string(), d.to_string()));
                    true
                })
                .unwrap();
        }
        let seen: Vec<(&str, &str)> = seen.iter().map(|(e, d)| (e.as_str(), d.as_str())).collect();
        assert_eq!(seen, [("message_start", "{}"), ("content_block_delta", "x"), ("", "y")]);
    }

    #[test]
    fn comments_are_ignored() {
        assert_eq!(events(b": keep-alive\n\n:\ndata: a\n: more\n\n"), ["a"]);
    }

    #[test]
    fn only_one_leading_space_is_stripped() {
        assert_eq!(events(b"data:  two\n\ndata:none\n\n"), [" two", "none"]);
    }

    #[test]
    fn data_lines_are_joined_with_lf() {
        assert_eq!(events(b"data: a\ndata:\ndata: b\n\n"), ["a\n\nb"]);
    }

    #[test]
    fn empty_data_is_never_dispatched() {
        assert_eq!(events(b"event: ping\n\n\n\nid: 1\n\n"), Vec::<String>::new());
        // `data` with no colon appends an empty line: the data is "" and is not dispatched.
        assert_eq!(events(b"data\n\n"), Vec::<String>::new());
    }

    #[test]
    fn other_fields_do_not_break_it() {
        assert_eq!(events(b"event: x\nid: 7\nretry: 100\nfoo: bar\nnocolon\ndata: a\n\n"), ["a"]);
    }

    #[test]
    fn incomplete_event_at_the_end_is_not_dispatched() {
        assert_eq!(events(b"data: a\n\ndata: b\n"), ["a"]);
        assert_eq!(events(b"data: a\n\ndata: b"), ["a"]);
    }

    #[test]
    fn utf8_split_across_reads_arrives_whole() {
        let input = "data: héllo 👋 日本\n\n".as_bytes();
        assert_eq!(events(input), ["héllo 👋 日本"]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(events(b"data: a\xffb\n\n"), ["a\u{FFFD}b"]);
    }

    #[test]
    fn line_over_the_cap_is_an_error() {
        let mut framer = Framer::new(16);
        let long = [b'a'; 17];
        assert_eq!(framer.feed(&long, &mut |_, _| true), Err(TooLong { cap: 16 }));
        let mut framer = Framer::new(16);
        assert!(framer.feed(b"data: 0123456789", &mut |_, _| true).is_ok());
        assert!(framer.feed(b"x", &mut |_, _| true).is_err());
    }

    #[test]
    fn event_over_the_cap_is_an_error() {
        let mut framer = Framer::new(16);
        let r = framer.feed(b"data: 0123456\ndata: 0123456\ndata: 0123456\n", &mut |_, _| true);
        assert_eq!(r, Err(TooLong { cap: 16 }));
    }

    #[test]
    fn stopping_returns_false_and_delivers_no_more() {
        let mut framer = Framer::new(1024);
        let mut seen = Vec::new();
        let r = framer.feed(b"data: a\n\ndata: b\n\n", &mut |_, d| {
            seen.push(d.to_string());
            false
        });
        assert_eq!(r, Ok(false));
        assert_eq!(seen, ["a"]);
    }

    #[test]
    fn openai_style_stream() {
        let input = b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n: ping\n\ndata: [DONE]\n\n";
        assert_eq!(events(input), ["{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}", "[DONE]"]);
    }
}
