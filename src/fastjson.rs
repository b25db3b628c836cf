//! A scanner for the decoders' fast paths: it reads the few fields a decoder wants from a
//! streamed chunk and steps over the rest without building anything.
//!
//! It accepts only a strict subset of JSON, and only what `serde_json` accepts too: anything
//! else (a key with an escape, a number with an exponent, nesting deeper than [`MAX_DEPTH`], a
//! byte out of place) makes it give up (`None`), and the decoder then runs its plain `serde_json`
//! path on the same frame. A string with escapes is judged by `serde_json` itself. So the fast
//! path never decides on its own what is valid: it can only be faster, never different, which
//! the differential fuzz target `fast_paths` checks against the plain path.

use std::borrow::Cow;

/// Deeper values are left to the plain path.
const MAX_DEPTH: u32 = 16;

pub(crate) struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Judge a skipped string with escapes as a `String` (what a plain path that parses a
    /// `serde_json::Value` does: it refuses a lone surrogate escape) rather than as serde's
    /// `IgnoredAny` (what a plain path that skips unknown fields does: it lets one pass).
    strings_as_values: bool,
    /// When set, the span of every string value read (not keys), in order, and whether it was
    /// read as a value the caller uses (`string`) or stepped over (`skip`): what a decoder
    /// needs to learn a [`Template`] of its frames.
    pub(crate) spans: Option<Vec<Span>>,
    /// Record the numbers stepped over (`skip`) as spans too, and the ones read with
    /// [`Scanner::u32_used`]: for frames whose numbers change from one to the next (a sequence
    /// number, token counts so far), which a [`Template`] then scans instead of comparing. The
    /// numbers read with [`Scanner::u32`] are still compared as bytes.
    pub(crate) numbers_as_holes: bool,
}

/// A string value's place in a frame: from its opening quote to just after its closing one (or
/// a number's, from its first byte to just after its last).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub open: usize,
    pub close: usize,
    pub used: bool,
    pub number: bool,
}

/// A string value: borrowed when it has no escapes.
pub(crate) type JsonStr<'a> = Cow<'a, str>;

impl<'a> Scanner<'a> {
    /// For a plain path that skips unknown fields with `IgnoredAny`.
    pub(crate) fn new(text: &'a str) -> Scanner<'a> {
        Scanner { text, bytes: text.as_bytes(), pos: 0, strings_as_values: false, spans: None, numbers_as_holes: false }
    }

    /// For a plain path that parses the whole frame as a `serde_json::Value`.
    pub(crate) fn for_value(text: &'a str) -> Scanner<'a> {
        Scanner { strings_as_values: true, ..Scanner::new(text) }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips JSON whitespace (the four bytes serde_json skips).
    #[inline]
    pub(crate) fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    #[inline]
    fn eat(&mut self, byte: u8) -> Option<()> {
        self.ws();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    /// Only whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.ws();
        self.pos == self.bytes.len()
    }

    /// An object: `field` is called with each key, positioned at its value, and must consume
    /// the value.
    #[inline]
    pub(crate) fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.ws();
            let key = self.key()?;
            self.eat(b':')?;
            self.ws();
            field(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array: `element` is called positioned at each element, and must consume it.
    #[inline]
    pub(crate) fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.ws();
            element(self)?;
            self.ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `null`: true (and consumed) when the next value is null.
    #[inline]
    pub(crate) fn null(&mut self) -> bool {
        if self.bytes[self.pos..].starts_with(b"null") {
            self.pos += 4;
            true
        } else {
            false
        }
    }

    /// A key: a string without escapes.
    #[inline(always)]
    fn key(&mut self) -> Option<&'a str> {
        let (start, end, escaped) = self.string_span()?;
        if escaped {
            return None;
        }
        Some(&self.text[start..end])
    }

    /// A string value (unescaped by serde_json when it has escapes).
    #[inline]
    pub(crate) fn string(&mut self) -> Option<JsonStr<'a>> {
        let open = self.pos;
        let (start, end, escaped) = self.string_span()?;
        self.record(open, true);
        if !escaped {
            return Some(Cow::Borrowed(&self.text[start..end]));
        }
        serde_json::from_str::<String>(&self.text[open..self.pos]).ok().map(Cow::Owned)
    }

    /// A string value the caller's meaning depends on but expects to repeat (an event's type, a
    /// model name): not recorded, so a [`Template`] compares its bytes instead of scanning it.
    pub(crate) fn string_fixed(&mut self) -> Option<JsonStr<'a>> {
        let spans = self.spans.take();
        let value = self.string();
        self.spans = spans;
        value
    }

    /// How many used string values were recorded so far: the index the next one will have in
    /// what [`Template::apply`] gives.
    pub(crate) fn used_so_far(&self) -> usize {
        self.spans.as_ref().map_or(0, |spans| spans.iter().filter(|s| s.used).count())
    }

    fn record(&mut self, open: usize, used: bool) {
        if let Some(spans) = &mut self.spans {
            spans.push(Span { open, close: self.pos, used, number: false });
        }
    }

    fn record_number(&mut self, open: usize, used: bool) {
        if let Some(spans) = &mut self.spans {
            spans.push(Span { open, close: self.pos, used, number: true });
        }
    }

    fn skip_string(&mut self) -> Option<()> {
        let open = self.pos;
        let (_, _, escaped) = self.string_span()?;
        if escaped {
            self.judge_skipped(open)?;
        }
        self.record(open, false);
        Some(())
    }

    /// serde_json's own judgement of the escapes of the skipped string from `open` to here, as
    /// the plain path would judge them.
    fn judge_skipped(&self, open: usize) -> Option<()> {
        let literal = &self.text[open..self.pos];
        if self.strings_as_values {
            serde_json::from_str::<String>(literal).ok().map(|_| ())
        } else {
            serde_json::from_str::<serde::de::IgnoredAny>(literal).ok().map(|_| ())
        }
    }

    /// Null or a string.
    #[inline]
    pub(crate) fn null_or_string(&mut self) -> Option<Option<JsonStr<'a>>> {
        if self.null() { Some(None) } else { self.string().map(Some) }
    }

    /// A non-negative integer that fits u32, in plain digits (no sign, fraction or exponent).
    #[inline]
    pub(crate) fn u32(&mut self) -> Option<u32> {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        // Not followed by what would make it another number.
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return None;
        }
        u32_of(&self.text[start..self.pos])
    }

    /// As [`Scanner::u32`], a number the caller uses and expects to change from frame to frame:
    /// recorded (when numbers are holes) as a used value, which a [`Template`] gives back as its
    /// digits (for [`u32_of`]).
    pub(crate) fn u32_used(&mut self) -> Option<u32> {
        let open = self.pos;
        let value = self.u32()?;
        if self.numbers_as_holes {
            self.record_number(open, true);
        }
        Some(value)
    }

    /// Steps over any value.
    pub(crate) fn skip(&mut self) -> Option<()> {
        self.skip_at(0)
    }

    fn skip_at(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' if depth < MAX_DEPTH => self.object(|s, _| s.skip_at(depth + 1)),
            b'[' if depth < MAX_DEPTH => self.array(|s| s.skip_at(depth + 1)),
            b'-' | b'0'..=b'9' => {
                let open = self.pos;
                self.number()?;
                if self.numbers_as_holes {
                    self.record_number(open, false);
                }
                Some(())
            }
            b'n' => self.literal(b"null"),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            _ => None,
        }
    }

    /// `false`, and nothing else.
    pub(crate) fn literal_false(&mut self) -> Option<()> {
        self.literal(b"false")
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Some(())
        } else {
            None
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, at most 20 digits: exponents and long numbers are left to
    /// the plain path.
    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        let digits = self.pos - int;
        if digits == 0 || (digits > 1 && self.bytes[int] == b'0') {
            return None;
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let frac = self.pos;
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
            if self.pos == frac {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) || self.pos - start > 22 {
            return None;
        }
        Some(())
    }

    /// The span of the string starting here (after its opening quote, before its closing one),
    /// leaving the scanner after it; whether it holds a backslash. A control character makes
    /// it give up, as serde_json refuses those.
    #[inline(always)]
    fn string_span(&mut self) -> Option<(usize, usize, bool)> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        let bytes = self.bytes;
        loop {
            i = find_special(bytes, i);
            match bytes.get(i)? {
                b'"' => {
                    self.pos = i + 1;
                    return Some((start, i, escaped));
                }
                b'\\' => {
                    escaped = true;
                    i += 2; // the escaped byte cannot end the string; serde_json judges the escape
                }
                _ => return None, // a control character
            }
        }
    }
}

/// A frame learned from a stream, to read the next frames by comparison: servers send chunks
/// that are the same bytes but for a few string values (OpenAI's id, model and fingerprint
/// repeat in every chunk; the text and a random `obfuscation` change). A frame that is the
/// learned one with other strings at the same places has the same structure, keys and
/// numbers, so it is valid exactly when its new strings are, and means what the learned one
/// meant with those strings: comparing the bytes between the strings (`memcmp`) and scanning
/// only the strings replaces parsing it.
pub(crate) struct Template {
    frame: String,
    spans: Vec<Span>,
    strings_as_values: bool,
    /// Frames it read.
    hits: u32,
}

/// Most used strings a template gives back.
pub(crate) const MAX_USED: usize = 8;

impl Template {
    /// `spans`: what a [`Scanner`] recorded while it read `frame` whole and accepted it.
    pub(crate) fn new(frame: &str, spans: Vec<Span>, strings_as_values: bool) -> Option<Template> {
        (spans.iter().filter(|s| s.used).count() <= MAX_USED).then(|| Template {
            frame: frame.to_string(),
            spans,
            strings_as_values,
            hits: 0,
        })
    }

    /// Reads `data` if it is the learned frame with other string values: what it gives has the
    /// k-th used string at `k`. `None` (nothing to rely on) otherwise.
    pub(crate) fn apply<'a>(&self, data: &'a str, used: &mut Used<'a>) -> Option<()> {
        self.apply_noting(data, used, false).map(|_| ())
    }

    /// As `apply`; when `note`, also says which unused strings (bit i: the i-th span, for the
    /// first 64) were the same bytes as in the learned frame.
    fn apply_noting<'a>(&self, data: &'a str, used: &mut Used<'a>, note: bool) -> Option<u64> {
        let (new, old) = (data.as_bytes(), self.frame.as_bytes());
        let mut s = Scanner { strings_as_values: self.strings_as_values, ..Scanner::new(data) };
        used.frame = data;
        used.count = 0;
        let (mut at_new, mut at_old, mut same) = (0, 0, 0u64);
        for (i, span) in self.spans.iter().enumerate() {
            let between = &old[at_old..span.open];
            if !same_bytes(new.get(at_new..at_new + between.len())?, between) {
                return None;
            }
            let open = at_new + between.len();
            s.pos = open;
            if span.number {
                s.number()?;
                if span.used {
                    used.spans[used.count] = (open as u32, s.pos as u32);
                    used.count += 1;
                } else if note && i < 64 && new[open..s.pos] == old[span.open..span.close] {
                    same |= 1 << i;
                }
                at_new = s.pos;
                at_old = span.close;
                continue;
            }
            let (start, end, escaped) = s.string_span()?;
            if span.used {
                if escaped {
                    // serde_json's own judgement and value, as `Scanner::string` would give.
                    let value = serde_json::from_str::<String>(&data[open..s.pos]).ok()?;
                    used.decoded.push((used.count, value));
                }
                used.spans[used.count] = (start as u32, end as u32);
                used.count += 1;
            } else {
                if escaped {
                    s.judge_skipped(open)?;
                }
                if note && i < 64 && new[open..s.pos] == old[span.open..span.close] {
                    same |= 1 << i;
                }
            }
            at_new = s.pos;
            at_old = span.close;
        }
        same_bytes(new.get(at_new..)?, &old[at_old..]).then_some(same)
    }

    /// As `apply`, for the first frame after the learned one: the unused strings that did not
    /// change (an id, a model name) become part of the bytes compared, so later frames compare
    /// them with `memcmp` instead of scanning them. A frame where one does change then simply
    /// does not match, and is read whole.
    pub(crate) fn apply_and_settle<'a>(&mut self, data: &'a str, used: &mut Used<'a>) -> Option<()> {
        let same = self.apply_noting(data, used, true)?;
        let mut i = 0;
        self.spans.retain(|_| {
            let keep = i >= 64 || same & (1 << i) == 0;
            i += 1;
            keep
        });
        Some(())
    }
}

/// The used strings a [`Template`] read from a frame, in order: where each lies in the frame,
/// and the value of each that has escapes (decoded when the frame was read, as few are).
#[derive(Default)]
pub(crate) struct Used<'a> {
    frame: &'a str,
    /// Each string's contents, between its quotes.
    spans: [(u32, u32); MAX_USED],
    count: usize,
    decoded: Vec<(usize, String)>,
}

impl<'a> Used<'a> {
    /// The k-th used string.
    pub(crate) fn take(&mut self, k: usize) -> Option<JsonStr<'a>> {
        if k >= self.count {
            return None;
        }
        if let Some(at) = self.decoded.iter().position(|(i, _)| *i == k) {
            return Some(Cow::Owned(self.decoded.swap_remove(at).1));
        }
        let (start, end) = self.spans[k];
        Some(Cow::Borrowed(&self.frame[start as usize..end as usize]))
    }
}

/// The digits of a non-negative integer that fits u32, in plain digits (no sign, leading zero,
/// fraction or exponent): what [`Scanner::u32`] accepts.
#[inline]
pub(crate) fn u32_of(digits: &str) -> Option<u32> {
    let bytes = digits.as_bytes();
    if bytes.is_empty() || bytes.len() > 10 || (bytes.len() > 1 && bytes[0] == b'0') {
        return None;
    }
    let mut value = 0u64;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(b - b'0');
    }
    u32::try_from(value).ok()
}

/// `a == b`, without a call to `memcmp` for the short runs between a frame's strings.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("eight bytes"));
    match n {
        0 => true,
        1..8 => a.iter().zip(b).all(|(x, y)| x == y),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// A decoder's learned frame and what its strings mean (`S`, the decoder's own), with the
/// policy the decoders share: the first frame read after learning settles the template; a
/// stream whose frames differ in more than their strings (a learned frame that reads nothing
/// next, [`MAX_WASTED`] times in a row) stops paying for learning.
pub(crate) struct Learner<S> {
    current: Option<(Template, S)>,
    wasted: u32,
}

/// Learned frames that read nothing, in a row, after which a stream stops learning.
pub(crate) const MAX_WASTED: u32 = 4;

impl<S> Default for Learner<S> {
    fn default() -> Self {
        Learner { current: None, wasted: 0 }
    }
}

impl<S> Learner<S> {
    /// Reads `data` with the learned frame: its used strings in `used`, and what they mean.
    pub(crate) fn read<'a>(&mut self, data: &'a str, used: &mut Used<'a>) -> Option<&S> {
        let (template, shape) = self.current.as_mut()?;
        if template.hits == 0 {
            template.apply_and_settle(data, used)?;
        } else {
            template.apply(data, used)?;
        }
        template.hits += 1;
        Some(shape)
    }

    /// Makes `s` record what it reads, when this learner wants its frame.
    pub(crate) fn watch(&self, s: &mut Scanner<'_>) {
        if self.wasted < MAX_WASTED {
            s.spans = Some(Vec::with_capacity(16));
        }
    }

    /// The frame `s` read whole and accepted: learned if `watch` made `s` record it, with what
    /// its strings mean (`shape`, computed only then).
    pub(crate) fn learn(&mut self, s: &mut Scanner<'_>, shape: impl FnOnce() -> S) {
        let Some(spans) = s.spans.take() else { return };
        let Some(template) = Template::new(s.text, spans, s.strings_as_values) else { return };
        let useless = self.current.as_ref().is_some_and(|(t, _)| t.hits == 0);
        self.wasted = if useless { self.wasted + 1 } else { 0 };
        self.current = Some((template, shape()));
    }
}

/// The position of the first `"`, `\` or control character in `bytes` at or after `from`, or
/// `bytes.len()` when there is none: sixteen bytes at a time with SSE2 (every x86-64 has it),
/// then eight at a time.
#[inline]
pub(crate) fn find_special(bytes: &[u8], mut from: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    while let Some(block) = bytes.get(from..from + 16) {
        let mask = special_mask16(block.try_into().expect("sixteen bytes"));
        if mask != 0 {
            return from + mask.trailing_zeros() as usize;
        }
        from += 16;
    }
    while let Some(word) = bytes.get(from..from + 8) {
        let flags = special_lanes(u64::from_le_bytes(word.try_into().expect("eight bytes")));
        if flags != 0 {
            return from + (flags.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    while from < bytes.len() && !matches!(bytes[from], b'"' | b'\\' | 0x00..=0x1f) {
        from += 1;
    }
    from
}

/// Bit i set when byte i of `block` is `"`, `\` or a control character.
#[cfg(target_arch = "x86_64")]
#[inline]
fn special_mask16(block: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of every x86-64 (the target's baseline), and the load reads the 16
    // bytes of `block`, which needs no alignment.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // A control character is a byte whose unsigned max with 0x1f is 0x1f.
        let control = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }
}

/// The high bit of each byte of `word` that may be `"`, `\` or below 0x20 (the usual SWAR
/// tests for a zero byte): the lowest one set is exact.
#[inline]
pub(crate) fn special_lanes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let quote = zero_in(word ^ (ONES * b'"' as u64));
    let backslash = zero_in(word ^ (ONES * b'\\' as u64));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    quote | backslash | control
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skips(json: &str) -> bool {
        let mut s = Scanner::new(json);
        s.ws();
        s.skip().is_some() && s.at_end()
    }

    #[test]
    fn accepts_what_serde_accepts_and_gives_up_otherwise() {
        for ok in [r#"{"a":[1,-2.5,0,true,false,null,"x\n\u00e9",{}],"b":{"c":[]}}"#, " 0 ", r#""é\"""#, "[]"] {
            assert!(skips(ok), "{ok}");
            assert!(serde_json::from_str::<serde::de::IgnoredAny>(ok).is_ok());
        }
        // Refused: invalid JSON, and valid forms left to the plain path (exponents, escaped keys).
        for refused in
            ["{", "[1,]", "01", "1.", "-", "nul", "\"a\u{1}\"", r#""\x""#, "1e5", r#"{"\u0061":1}"#, "{1:2}", "\"abc"]
        {
            assert!(!skips(refused), "{refused}");
        }
    }

    #[test]
    fn strings_and_integers() {
        let mut s = Scanner::new(r#""plain" "with \"escape\"" 42 4294967296 007"#);
        assert_eq!(s.string().unwrap(), Cow::Borrowed("plain"));
        s.ws();
        assert_eq!(s.string().unwrap(), "with \"escape\"");
        s.ws();
        assert_eq!(s.u32(), Some(42));
        s.ws();
        assert_eq!(s.u32(), None);
        let mut s = Scanner::new("007");
        assert_eq!(s.u32(), None);
    }

    /// Learns `frame`, reading its `text` value as used and skipping the rest.
    fn learn(frame: &str) -> Learner<()> {
        let mut s = Scanner::new(frame);
        let mut learner = Learner::default();
        learner.watch(&mut s);
        s.object(|s, key| if key == "text" { s.string().map(|_| ()) } else { s.skip() }).unwrap();
        learner.learn(&mut s, || ());
        learner
    }

    fn read(learner: &mut Learner<()>, frame: &str) -> Option<String> {
        let mut used = Used::default();
        learner.read(frame, &mut used)?;
        used.take(0).map(|t| t.into_owned())
    }

    #[test]
    fn a_template_reads_frames_that_differ_only_in_their_strings() {
        let mut l = learn(r#"{"id":"a1","n":5,"text":"one","r":"x"}"#);
        assert_eq!(read(&mut l, r#"{"id":"a1","n":5,"text":"two \" q","r":"yy"}"#).as_deref(), Some("two \" q"));
        // The id did not change between the first two: it is now compared, not scanned.
        assert_eq!(read(&mut l, r#"{"id":"a1","n":5,"text":"three","r":"z"}"#).as_deref(), Some("three"));
        for other in [
            r#"{"id":"a2","n":5,"text":"t","r":"z"}"#,
            r#"{"id":"a1","n":6,"text":"t","r":"z"}"#,
            r#"{"id":"a1","n":5,"text":"t","r":"z"} "#,
            r#"{"id":"a1","n":5,"text":"t\x","r":"z"}"#,
            r#"{"id":"a1","n":5,"text":"t","r":"z","s":1}"#,
            "{\"id\":\"a1\",\"n\":5,\"text\":\"t\u{1}\",\"r\":\"z\"}",
        ] {
            assert_eq!(read(&mut l, other), None, "{other}");
        }
    }

    #[test]
    fn find_special_finds_the_first_special_byte_at_every_offset() {
        for len in 0..48 {
            for at in 0..=len {
                for special in [b'"', b'\\', 0x00, 0x1f] {
                    // Bytes that are not special around it: printable, DEL and UTF-8 bytes.
                    let mut bytes: Vec<u8> = (0..len).map(|i| [b'a', 0x7f, 0xc3, 0xa9, b' ', 0x20][i % 6]).collect();
                    if at < len {
                        bytes[at] = special;
                    }
                    for from in 0..=at {
                        assert_eq!(find_special(&bytes, from), at, "len {len}, at {at}, from {from}, byte {special}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_word_test_finds_every_special_byte_in_every_lane() {
        for lane in 0..8 {
            for special in [b'"', b'\\', 0x00, 0x1f] {
                let mut bytes = *b"abcdefgh";
                bytes[lane] = special;
                let lanes = special_lanes(u64::from_le_bytes(bytes));
                assert_eq!(lanes.trailing_zeros() / 8, lane as u32);
            }
        }
        assert_eq!(special_lanes(u64::from_le_bytes(*b"abc~\x7f\xff !")), 0);
    }
}
