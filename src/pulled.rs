//! What a pulled call has decoded and not yet handed to its caller. In text mode the chunks of
//! choice 0's text lie one after the other in one buffer with their end offsets, which is the
//! shape `aichat_stream_next` returns, so a whole batch changes hands by swapping two buffers:
//! no string per chunk is made, copied or freed. In event mode, the events in order.

use std::borrow::Cow;
use std::collections::VecDeque;

use crate::event::Event;

#[derive(Debug, Default)]
pub struct Pulled {
    /// Every event (event mode).
    events: VecDeque<Event<'static>>,
    /// Choice 0's text (text mode): the chunks one after the other, and where each ends.
    text: Vec<u8>,
    ends: Vec<usize>,
    /// Chunks of `text` already returned one by one.
    taken: usize,
}

impl Pulled {
    pub(crate) fn push_event(&mut self, event: Event<'static>) {
        self.events.push_back(event);
    }

    pub(crate) fn push_text(&mut self, text: &str) {
        self.text.extend_from_slice(text.as_bytes());
        self.ends.push(self.text.len());
    }

    /// Items not returned yet.
    pub fn len(&self) -> usize {
        self.events.len() + self.ends.len() - self.taken
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The oldest item.
    pub fn pop(&mut self) -> Option<Event<'static>> {
        if let Some(event) = self.events.pop_front() {
            return Some(event);
        }
        let end = *self.ends.get(self.taken)?;
        let start = if self.taken == 0 { 0 } else { self.ends[self.taken - 1] };
        // Chunks are whole UTF-8 (`push_text` takes a str).
        let text = String::from_utf8_lossy(&self.text[start..end]).into_owned();
        self.taken += 1;
        if self.taken == self.ends.len() {
            self.clear_text();
        }
        Some(Event::Text { choice: 0, text: Cow::Owned(text) })
    }

    /// Moves every text chunk into `text` and `ends` (emptied first): the buffers are swapped
    /// when none was returned one by one, so a batch costs no copy.
    pub(crate) fn take_text(&mut self, text: &mut Vec<u8>, ends: &mut Vec<usize>) {
        text.clear();
        ends.clear();
        if self.taken == 0 {
            std::mem::swap(&mut self.text, text);
            std::mem::swap(&mut self.ends, ends);
        } else {
            let start = self.ends[self.taken - 1];
            text.extend_from_slice(&self.text[start..]);
            ends.extend(self.ends[self.taken..].iter().map(|e| e - start));
        }
        self.clear_text();
    }

    /// Moves every event into `out`.
    pub(crate) fn take_events(&mut self, out: &mut Vec<Event<'static>>) {
        out.extend(self.events.drain(..));
    }

    fn clear_text(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.taken = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_come_out_one_by_one_or_all_at_once_in_order() {
        let mut q = Pulled::default();
        for t in ["a", "bc", "déf"] {
            q.push_text(t);
        }
        assert_eq!(q.len(), 3);
        assert_eq!(q.pop(), Some(Event::Text { choice: 0, text: "a".into() }));
        let (mut text, mut ends) = (vec![b'x'], vec![9]);
        q.take_text(&mut text, &mut ends);
        assert_eq!((text.as_slice(), ends.as_slice()), ("bcdéf".as_bytes(), &[2, 6][..]));
        assert!(q.is_empty());
        q.push_text("g");
        q.take_text(&mut text, &mut ends);
        assert_eq!((text.as_slice(), ends.as_slice()), (&b"g"[..], &[1][..]));
    }
}
