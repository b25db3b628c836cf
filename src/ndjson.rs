//! A byte-level newline-delimited JSON framer (Ollama's native API streams one JSON object a
//! line). It only turns bytes into lines: it knows nothing of JSON or of any provider. Bytes
//! may arrive split anywhere; a line is decoded as UTF-8 (invalid bytes become U+FFFD) only
//! once it is complete, so a character split across two reads arrives whole. Lines end at LF;
//! a CR before it is dropped; blank lines are skipped.

use std::borrow::Cow;

pub use crate::sse::TooLong;
use crate::sse::text_of;

#[derive(Debug)]
pub struct Framer {
    /// The incomplete line carried over from earlier input.
    line: Vec<u8>,
    cap: usize,
}

impl Framer {
    /// `cap` bounds one line, in bytes.
    pub fn new(cap: usize) -> Framer {
        Framer { line: Vec::new(), cap }
    }

    /// Feeds the next bytes of the stream; calls `on_line` with each complete, non-blank line,
    /// in order. `on_line` returns `false` to stop: `feed` then returns at once with `Ok(false)`.
    pub fn feed(&mut self, mut input: &[u8], on_line: &mut dyn FnMut(&str) -> bool) -> Result<bool, TooLong> {
        if !self.line.is_empty() {
            // The line carried over from earlier input, if it ends in this one.
            let Some(end) = memchr::memchr(b'\n', input) else {
                self.check_len(self.line.len() + input.len())?;
                self.line.extend_from_slice(input);
                return Ok(true);
            };
            self.check_len(self.line.len() + end)?;
            let mut line = std::mem::take(&mut self.line);
            line.extend_from_slice(&input[..end]);
            let keep_going = deliver(&text_of(&line), on_line);
            line.clear();
            self.line = line;
            input = &input[end + 1..];
            if !keep_going {
                return Ok(false);
            }
        }
        // The lines whole in the rest are checked as UTF-8 in one pass (cheaper than line by
        // line): LF is ASCII, so every line of a valid span is valid text on its own.
        let whole = memchr::memrchr(b'\n', input).map_or(0, |last| last + 1);
        let (lines, tail) = input.split_at(whole);
        let text = simdutf8::basic::from_utf8(lines).ok();
        let mut at = 0;
        while at < lines.len() {
            let end = at + memchr::memchr(b'\n', &lines[at..]).expect("every line has its LF");
            self.check_len(end - at)?;
            let line = match text {
                Some(text) => Cow::Borrowed(&text[at..end]),
                None => text_of(&lines[at..end]),
            };
            at = end + 1;
            if !deliver(&line, on_line) {
                return Ok(false);
            }
        }
        self.check_len(tail.len())?;
        self.line.extend_from_slice(tail);
        Ok(true)
    }

    fn check_len(&self, len: usize) -> Result<(), TooLong> {
        // The line's LF is not counted; its CR may be.
        if len > self.cap + 1 { Err(TooLong { cap: self.cap }) } else { Ok(()) }
    }
}

/// Hands on `line` without its CR, unless it is blank.
fn deliver(line: &str, on_line: &mut dyn FnMut(&str) -> bool) -> bool {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.bytes().all(|b| b.is_ascii_whitespace()) {
        return true;
    }
    on_line(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_split(input: &[u8], cuts: &[usize]) -> Result<Vec<String>, TooLong> {
        let mut framer = Framer::new(64);
        let mut lines = Vec::new();
        let mut last = 0;
        for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
            framer.feed(&input[last..cut], &mut |l| {
                lines.push(l.to_string());
                true
            })?;
            last = cut;
        }
        Ok(lines)
    }

    /// The lines of `input`, checked to be the same for every split into two and three pieces.
    fn lines(input: &[u8]) -> Vec<String> {
        let whole = lines_split(input, &[]).unwrap();
        for i in 0..=input.len() {
            for j in i..=input.len() {
                assert_eq!(lines_split(input, &[i, j]).unwrap(), whole, "split at {i},{j} of {input:?}");
            }
        }
        whole
    }

    #[test]
    fn one_object_a_line_lf_or_crlf_blank_lines_skipped() {
        assert_eq!(lines(b"{\"a\":1}\n{\"b\":2}\r\n\n \r\n{\"c\":3}\n"), ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
    }

    #[test]
    fn a_line_without_its_newline_waits() {
        let mut framer = Framer::new(64);
        let mut seen = Vec::new();
        framer
            .feed(b"{\"a\":1}\n{\"done\":tr", &mut |l| {
                seen.push(l.to_string());
                true
            })
            .unwrap();
        assert_eq!(seen, ["{\"a\":1}"]);
    }

    #[test]
    fn a_character_split_across_reads_arrives_whole_and_bad_bytes_are_replaced() {
        assert_eq!(lines("h\u{e9}llo\n".as_bytes()), ["h\u{e9}llo"]);
        assert_eq!(lines(b"a\xffb\n"), ["a\u{fffd}b"]);
    }

    #[test]
    fn a_line_over_the_cap_is_an_error_however_it_is_split() {
        let long = [b'x'; 70];
        assert!(lines_split(&long, &[]).is_err());
        assert!(lines_split(&long, &[30]).is_err());
        let mut ok = vec![b'y'; 64];
        ok.push(b'\n');
        assert_eq!(lines(&ok).len(), 1);
    }

    #[test]
    fn stopping_returns_false_and_delivers_no_more() {
        let mut framer = Framer::new(64);
        let mut seen = 0;
        let r = framer.feed(b"a\nb\n", &mut |_| {
            seen += 1;
            false
        });
        assert_eq!((r, seen), (Ok(false), 1));
    }
}
