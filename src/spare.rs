//! Large buffers a client keeps from one call for the next. The event API accumulates each
//! choice's text (for MESSAGE) and writes MESSAGE's JSON; past the allocator's threshold for
//! mapping memory (128 KiB with glibc) these are fresh pages at every call, and faulting them in
//! is about 3% of a long stream's time through the event API (perf, 200,000 chunks). A longer
//! answer costs more: with a 9 MB text (200,000 Gemini chunks of 8 words), buffers too large to
//! keep were about 7% of the event API's time (page faults, copies as the text grew, unmapping;
//! perf). A client keeps at most [`KEPT`] buffers of at most [`MAX_KEPT_BYTES`] each, and frees
//! them with itself.

use std::sync::Mutex;

/// Buffers a client keeps.
pub(crate) const KEPT: usize = 2;
/// Larger buffers are freed, not kept. 16 MiB: answers of several megabytes are not rare (long
/// documents, code), and glibc makes the same trade itself: once a mapped block is freed it serves
/// blocks up to that size (32 MiB at most) from its heap, whose freed memory it keeps for reuse.
/// A client that streamed such an answer holds at most 32 MiB between calls.
pub(crate) const MAX_KEPT_BYTES: usize = 16 << 20;

#[derive(Debug, Default)]
pub(crate) struct Spare(Mutex<Vec<Vec<u8>>>);

impl Spare {
    /// The largest kept buffer, emptied, or a new one.
    pub(crate) fn take(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop().unwrap_or_default()
    }

    /// As `take`, as a `String` (kept buffers are empty).
    pub(crate) fn take_string(&self) -> String {
        String::from_utf8(self.take()).unwrap_or_default()
    }

    /// Keeps `buf` for a later call, unless it is too large or enough are kept already.
    pub(crate) fn give(&self, mut buf: Vec<u8>) {
        if buf.capacity() == 0 || buf.capacity() > MAX_KEPT_BYTES {
            return;
        }
        buf.clear();
        let mut kept = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept.len() < KEPT {
            kept.push(buf);
            kept.sort_by_key(Vec::capacity);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_few_bounded_buffers_and_hands_out_the_largest() {
        let spare = Spare::default();
        assert_eq!(spare.take().capacity(), 0);
        spare.give(Vec::with_capacity(10));
        spare.give(Vec::with_capacity(MAX_KEPT_BYTES + 1)); // too large: freed
        spare.give(vec![1, 2, 3]); // kept, emptied
        spare.give(Vec::with_capacity(99)); // one too many: freed
        let largest = spare.take();
        assert!(largest.is_empty() && largest.capacity() >= 10);
        assert!(spare.take().capacity() >= 3);
        assert_eq!(spare.take().capacity(), 0);
    }
}
