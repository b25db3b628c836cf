//! A byte-level framer for the AWS event stream (`application/vnd.amazon.eventstream`), the
//! binary framing Amazon Bedrock's ConverseStream answers in.
//!
//! It only turns bytes into messages (their headers and payload): it knows nothing of JSON or
//! of any provider. Bytes may arrive split anywhere.
//!
//! A message, every integer big-endian:
//!
//! ```text
//! total length (4) | headers length (4) | prelude CRC32 (4, of the 8 bytes before it)
//! headers | payload | message CRC32 (4, of every byte before it)
//! ```
//!
//! so the smallest message (no headers, no payload) is 16 bytes. A header is a 1-byte name
//! length, the name (UTF-8), a 1-byte value type and the value: 0 true and 1 false (no bytes),
//! 2 byte, 3 short, 4 integer, 5 long (1, 2, 4, 8 bytes), 6 byte array and 7 string (a 2-byte
//! length, then the bytes), 8 timestamp (8 bytes, milliseconds since the epoch), 9 UUID (16).
//!
//! Unlike a text framing, nothing here resynchronises: one bad length would shift every later
//! message, so the first framing error is final.

use std::fmt;

/// The prelude: total length, headers length, prelude CRC.
const PRELUDE: usize = 12;
/// The prelude and the message CRC: the smallest message.
const MIN_MESSAGE: usize = PRELUDE + 4;

/// A framing failure: the stream cannot be read past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// A message's total length is over the framer's cap (found from its prelude, before any
    /// of it is buffered).
    TooLong { cap: usize },
    /// A prelude's CRC does not match: its lengths cannot be trusted.
    PreludeCrc,
    /// A message's CRC does not match.
    MessageCrc,
    /// A message whose CRCs match but whose lengths or headers make no sense; says which.
    Malformed(&'static str),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLong { cap } => write!(f, "an event-stream message is over {cap} bytes"),
            FrameError::PreludeCrc => f.write_str("an event-stream message's prelude fails its CRC32 check"),
            FrameError::MessageCrc => f.write_str("an event-stream message fails its CRC32 check"),
            FrameError::Malformed(why) => write!(f, "a malformed event-stream message: {why}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// A header's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(&'a [u8]),
    String(&'a str),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// One complete message whose CRCs matched and whose headers all parse. It borrows the
/// framer's input (or, for a message that arrived in pieces, its carry buffer): copy out what
/// must outlive the callback.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The headers section, already checked to parse: looked through on each request (a
    /// message has a handful of headers, so that costs less than collecting them).
    headers: &'a [u8],
    payload: &'a [u8],
    /// The first `:message-type` and `:event-type` headers' text (`None` when absent or not a
    /// string), found while the headers were checked: the driver asks for both on every message.
    message_type: Option<&'a str>,
    event_type: Option<&'a str>,
}

impl<'a> Message<'a> {
    /// The value of the first header named `name`. (A name repeated is not an error, as in the
    /// AWS SDK for Rust: the first one counts.)
    pub fn header(&self, name: &str) -> Option<HeaderValue<'a>> {
        let mut rest = self.headers;
        while !rest.is_empty() {
            let (raw, after) = split_header(rest).ok()?;
            if raw.name == name.as_bytes() {
                return raw.value().ok();
            }
            rest = after;
        }
        None
    }

    /// The text of the first header named `name` when it is a string (type 7); `None` when
    /// there is no such header or it holds another type.
    pub fn string_header(&self, name: &str) -> Option<&'a str> {
        match self.header(name)? {
            HeaderValue::String(text) => Some(text),
            _ => None,
        }
    }

    /// `:message-type`: "event", "exception" (a modelled error) or "error".
    pub fn message_type(&self) -> Option<&'a str> {
        self.message_type
    }

    /// `:event-type`, an event's kind (Bedrock: "messageStart", "contentBlockDelta", ...).
    pub fn event_type(&self) -> Option<&'a str> {
        self.event_type
    }

    /// `:exception-type`, an exception's kind (Bedrock: "throttlingException", ...).
    pub fn exception_type(&self) -> Option<&'a str> {
        self.string_header(":exception-type")
    }

    /// Every header, in order: name and value.
    pub fn headers(&self) -> Headers<'a> {
        Headers { rest: self.headers }
    }

    /// The payload, as bytes (Bedrock's is JSON).
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

/// The headers of a [`Message`], in order.
#[derive(Debug, Clone)]
pub struct Headers<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, HeaderValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        // Checked when the message was framed: neither fails.
        let (raw, after) = split_header(self.rest).ok()?;
        let header = (simdutf8::basic::from_utf8(raw.name).ok()?, raw.value().ok()?);
        self.rest = after;
        Some(header)
    }
}

#[derive(Debug)]
pub struct Framer {
    /// The start of a message that has not all arrived yet. Once it holds the whole prelude,
    /// that prelude has been checked and the message's length fits the cap, so this never
    /// grows past the cap.
    carry: Vec<u8>,
    /// The first framing error, returned again by every later `feed`.
    failed: Option<FrameError>,
    cap: usize,
}

impl Framer {
    /// `cap` bounds one message's total length, in bytes.
    pub fn new(cap: usize) -> Framer {
        Framer { carry: Vec::new(), failed: None, cap }
    }

    /// Feeds the next bytes of the stream; calls `on_message` with each complete message whose
    /// CRCs match, in order. `on_message` returns `false` to stop: `feed` then returns at once
    /// with `Ok(false)`; the rest of `input` is dropped, so a stopped stream is not fed again.
    /// After an error every call returns it again.
    pub fn feed(&mut self, input: &[u8], on_message: &mut dyn FnMut(&Message<'_>) -> bool) -> Result<bool, FrameError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let fed = self.feed_ok(input, on_message);
        if let Err(e) = fed {
            self.failed = Some(e);
            self.carry = Vec::new();
        }
        fed
    }

    /// Whether the bytes of an incomplete message are held: a stream ending now is cut inside
    /// a message. False after an error (what was held is dropped).
    pub fn in_message(&self) -> bool {
        !self.carry.is_empty()
    }

    fn feed_ok(
        &mut self,
        mut input: &[u8],
        on_message: &mut dyn FnMut(&Message<'_>) -> bool,
    ) -> Result<bool, FrameError> {
        if !self.carry.is_empty() {
            // The message carried over from earlier input: its prelude first, since its
            // lengths say nothing until its CRC matches.
            if self.carry.len() < PRELUDE {
                let take = (PRELUDE - self.carry.len()).min(input.len());
                self.carry.extend_from_slice(&input[..take]);
                input = &input[take..];
                if self.carry.len() < PRELUDE {
                    return Ok(true);
                }
                let total = self.prelude(&self.carry)?;
                self.carry.reserve_exact(total - PRELUDE);
            }
            let total = be32(&self.carry[..4]);
            let take = (total - self.carry.len()).min(input.len());
            self.carry.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.carry.len() < total {
                return Ok(true);
            }
            let mut carry = std::mem::take(&mut self.carry);
            let keep_going = deliver(&carry, on_message)?;
            carry.clear();
            self.carry = carry;
            if !keep_going {
                return Ok(false);
            }
        }
        // The messages whole in the input are handed out where they lie: only a tail that
        // is not all here is copied.
        while input.len() >= PRELUDE {
            let total = self.prelude(&input[..PRELUDE])?;
            if input.len() < total {
                // Room for the whole message now, so the reads that complete it do not grow
                // the buffer step by step (a no-op once it is that large).
                self.carry.reserve_exact(total);
                break;
            }
            let (message, rest) = input.split_at(total);
            if !deliver(message, on_message)? {
                return Ok(false);
            }
            input = rest;
        }
        self.carry.extend_from_slice(input);
        Ok(true)
    }

    /// Checks a prelude (its first 12 bytes) and returns the message's total length.
    fn prelude(&self, prelude: &[u8]) -> Result<usize, FrameError> {
        if crc32fast::hash(&prelude[..8]) != be32(&prelude[8..12]) as u32 {
            return Err(FrameError::PreludeCrc);
        }
        let (total, headers) = (be32(&prelude[..4]), be32(&prelude[4..8]));
        if total < MIN_MESSAGE {
            return Err(FrameError::Malformed("its total length is under 16 bytes"));
        }
        if headers > total - MIN_MESSAGE {
            return Err(FrameError::Malformed("its headers length runs past its end"));
        }
        if total > self.cap {
            return Err(FrameError::TooLong { cap: self.cap });
        }
        Ok(total)
    }
}

/// Checks the CRC and headers of `message` (one whole message, its prelude already checked)
/// and hands it to `on_message`.
fn deliver(message: &[u8], on_message: &mut dyn FnMut(&Message<'_>) -> bool) -> Result<bool, FrameError> {
    let (body, crc) = message.split_at(message.len() - 4);
    if crc32fast::hash(body) != be32(crc) as u32 {
        return Err(FrameError::MessageCrc);
    }
    let (headers, payload) = body[PRELUDE..].split_at(be32(&message[4..8]));
    // Every header is parsed (and its text checked as UTF-8) once here, so that looking
    // headers up later cannot fail.
    let mut rest = headers;
    let (mut message_type, mut event_type) = (None, None);
    while !rest.is_empty() {
        let (raw, after) = split_header(rest).map_err(FrameError::Malformed)?;
        utf8(raw.name).map_err(|_| FrameError::Malformed("a header name is not UTF-8"))?;
        let value = raw.value().map_err(FrameError::Malformed)?;
        let text = match value {
            HeaderValue::String(text) => Some(text),
            _ => None,
        };
        // The first of each counts, as in `Message::header`.
        match raw.name {
            b":message-type" => _ = message_type.get_or_insert(text),
            b":event-type" => _ = event_type.get_or_insert(text),
            _ => {}
        }
        rest = after;
    }
    let (message_type, event_type) = (message_type.flatten(), event_type.flatten());
    Ok(on_message(&Message { headers, payload, message_type, event_type }))
}

/// `bytes` as text: a header's name or value, short and nearly always ASCII, checked inline
/// (a call to a validator costs more than such a string); anything else by `simdutf8`.
#[inline]
fn utf8(bytes: &[u8]) -> Result<&str, simdutf8::basic::Utf8Error> {
    if bytes.len() <= 64 && bytes.iter().all(u8::is_ascii) {
        // SAFETY: ASCII is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    simdutf8::basic::from_utf8(bytes)
}

/// A header cut out of the headers section, its value not yet decoded.
struct RawHeader<'a> {
    name: &'a [u8],
    kind: u8,
    value: &'a [u8],
}

impl<'a> RawHeader<'a> {
    fn value(&self) -> Result<HeaderValue<'a>, &'static str> {
        let v = self.value;
        // `split_header` cut `v` to the size its type takes.
        Ok(match self.kind {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(v[0] as i8),
            3 => HeaderValue::Short(i16::from_be_bytes([v[0], v[1]])),
            4 => HeaderValue::Int(i32::from_be_bytes(v.try_into().expect("4 bytes"))),
            5 => HeaderValue::Long(i64::from_be_bytes(v.try_into().expect("8 bytes"))),
            6 => HeaderValue::Bytes(v),
            7 => HeaderValue::String(utf8(v).map_err(|_| "a string header is not UTF-8")?),
            8 => HeaderValue::Timestamp(i64::from_be_bytes(v.try_into().expect("8 bytes"))),
            9 => HeaderValue::Uuid(v.try_into().expect("16 bytes")),
            _ => unreachable!("split_header accepts only types 0 to 9"),
        })
    }
}

/// Cuts the first header off `headers` (not empty); returns it and the rest.
fn split_header(headers: &[u8]) -> Result<(RawHeader<'_>, &[u8]), &'static str> {
    let name_len = usize::from(headers[0]);
    let (name, rest) = headers[1..].split_at_checked(name_len).ok_or("a header name runs past the headers")?;
    let (&kind, rest) = rest.split_first().ok_or("a header has no value type")?;
    let (value_len, rest) = match kind {
        0 | 1 => (0, rest),
        2 => (1, rest),
        3 => (2, rest),
        4 => (4, rest),
        5 | 8 => (8, rest),
        9 => (16, rest),
        6 | 7 => {
            let (len, rest) = rest.split_at_checked(2).ok_or("a header value runs past the headers")?;
            (usize::from(u16::from_be_bytes([len[0], len[1]])), rest)
        }
        _ => return Err("a header has an unknown value type"),
    };
    let (value, rest) = rest.split_at_checked(value_len).ok_or("a header value runs past the headers")?;
    Ok((RawHeader { name, kind, value }, rest))
}

/// The big-endian u32 in `bytes` (4 bytes), as a length.
fn be32(bytes: &[u8]) -> usize {
    u32::from_be_bytes(bytes.try_into().expect("4 bytes")) as usize
}

/// One message's bytes, for tests, the fuzz corpus and benchmarks. Panics on a header name over
/// 255 bytes or a string or byte array over 65535.
#[doc(hidden)]
pub fn encode(headers: &[(&str, HeaderValue<'_>)], payload: &[u8]) -> Vec<u8> {
    let mut head = Vec::new();
    for (name, value) in headers {
        head.push(u8::try_from(name.len()).expect("a header name is at most 255 bytes"));
        head.extend_from_slice(name.as_bytes());
        let with_len = |head: &mut Vec<u8>, kind: u8, bytes: &[u8]| {
            head.push(kind);
            head.extend_from_slice(&u16::try_from(bytes.len()).expect("at most 65535 bytes").to_be_bytes());
            head.extend_from_slice(bytes);
        };
        match *value {
            HeaderValue::Bool(b) => head.push(if b { 0 } else { 1 }),
            HeaderValue::Byte(n) => head.extend_from_slice(&[2, n as u8]),
            HeaderValue::Short(n) => {
                head.push(3);
                head.extend_from_slice(&n.to_be_bytes());
            }
            HeaderValue::Int(n) => {
                head.push(4);
                head.extend_from_slice(&n.to_be_bytes());
            }
            HeaderValue::Long(n) => {
                head.push(5);
                head.extend_from_slice(&n.to_be_bytes());
            }
            HeaderValue::Bytes(bytes) => with_len(&mut head, 6, bytes),
            HeaderValue::String(text) => with_len(&mut head, 7, text.as_bytes()),
            HeaderValue::Timestamp(ms) => {
                head.push(8);
                head.extend_from_slice(&ms.to_be_bytes());
            }
            HeaderValue::Uuid(uuid) => {
                head.push(9);
                head.extend_from_slice(&uuid);
            }
        }
    }
    let total = MIN_MESSAGE + head.len() + payload.len();
    let mut message = Vec::with_capacity(total);
    message.extend_from_slice(&u32::try_from(total).expect("a message is under 4 GiB").to_be_bytes());
    message.extend_from_slice(&(head.len() as u32).to_be_bytes());
    message.extend_from_slice(&crc32fast::hash(&message).to_be_bytes());
    message.extend_from_slice(&head);
    message.extend_from_slice(payload);
    message.extend_from_slice(&crc32fast::hash(&message).to_be_bytes());
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use HeaderValue as V;

    /// A delivered message, owned: its headers (in order) and payload.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Owned {
        headers: Vec<(String, String)>,
        payload: Vec<u8>,
    }

    fn owned(m: &Message<'_>) -> Owned {
        let headers = m.headers().map(|(name, value)| (name.to_string(), format!("{value:?}"))).collect();
        Owned { headers, payload: m.payload().to_vec() }
    }

    /// What a stream fed in pieces cut at `cuts` gives: the messages, then the error or
    /// whether an incomplete message is held at the end.
    fn messages_split(cap: usize, input: &[u8], cuts: &[usize]) -> (Vec<Owned>, Result<bool, FrameError>) {
        let mut framer = Framer::new(cap);
        let mut seen = Vec::new();
        let mut last = 0;
        for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
            let fed = framer.feed(&input[last..cut], &mut |m| {
                seen.push(owned(m));
                true
            });
            if let Err(e) = fed {
                return (seen, Err(e));
            }
            last = cut;
        }
        (seen, Ok(framer.in_message()))
    }

    /// The messages of `input`, checked to be the same (and the same error) for every split
    /// into two and three pieces.
    fn messages(input: &[u8]) -> (Vec<Owned>, Result<bool, FrameError>) {
        let whole = messages_split(1 << 20, input, &[]);
        for i in 0..=input.len() {
            for j in i..=input.len() {
                assert_eq!(messages_split(1 << 20, input, &[i, j]), whole, "split at {i},{j} of {input:?}");
            }
        }
        whole
    }

    /// The one message `input` holds, which must be whole and valid.
    fn one(input: &[u8]) -> Owned {
        let (seen, end) = messages(input);
        assert_eq!(end, Ok(false), "no error, nothing left over");
        assert_eq!(seen.len(), 1);
        seen.into_iter().next().unwrap()
    }

    fn expect(headers: &[(&str, HeaderValue<'_>)], payload: &[u8]) -> Owned {
        let headers = headers.iter().map(|(name, value)| (name.to_string(), format!("{value:?}"))).collect();
        Owned { headers, payload: payload.to_vec() }
    }

    /// A message around raw header bytes (which need not parse), with correct lengths and CRCs.
    fn raw_message(headers: &[u8], payload: &[u8]) -> Vec<u8> {
        let total = (16 + headers.len() + payload.len()) as u32;
        let mut m = total.to_be_bytes().to_vec();
        m.extend_from_slice(&(headers.len() as u32).to_be_bytes());
        m.extend_from_slice(&crc32fast::hash(&m).to_be_bytes());
        m.extend_from_slice(headers);
        m.extend_from_slice(payload);
        m.extend_from_slice(&crc32fast::hash(&m).to_be_bytes());
        m
    }

    /// A prelude with these lengths and a correct CRC.
    fn prelude(total: u32, headers: u32) -> Vec<u8> {
        let mut p = total.to_be_bytes().to_vec();
        p.extend_from_slice(&headers.to_be_bytes());
        p.extend_from_slice(&crc32fast::hash(&p).to_be_bytes());
        p
    }

    /// A Bedrock ConverseStream event, headers in the order Bedrock sends them.
    fn bedrock_event(event_type: &str, json: &str) -> Vec<u8> {
        encode(
            &[
                (":event-type", V::String(event_type)),
                (":content-type", V::String("application/json")),
                (":message-type", V::String("event")),
            ],
            json.as_bytes(),
        )
    }

    /// Two messages in Bedrock's shape: the stream the split and corruption tests use.
    fn two_messages() -> Vec<u8> {
        let mut stream =
            bedrock_event("messageStart", r#"{"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP","role":"assistant"}"#);
        stream.extend(bedrock_event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abcdefghijklmnopqrstu"}"#,
        ));
        stream
    }

    // botocore's vectors (tests/unit/test_eventstream.py, which the AWS C runtime's
    // message_deserializer_test.c shares), in the same order.
    const EMPTY_MESSAGE: &[u8] = b"\x00\x00\x00\x10\x00\x00\x00\x00\x05\xc2H\xeb}\x98\xc8\xff";
    const INT8_HEADER: &[u8] = b"\x00\x00\x00\x17\x00\x00\x00\x07)\x86\x01X\x04byte\x02\xff\xc2\xf8i\xdc";
    const INT16_HEADER: &[u8] = b"\x00\x00\x00\x19\x00\x00\x00\x09q\x0e\x92>\x05short\x03\xff\xff\xb2|\xb6\xcc";
    const INT32_HEADER: &[u8] =
        b"\x00\x00\x00\x1d\x00\x00\x00\x0d\x83\xe3\xf0\xe7\x07integer\x04\xff\xff\xff\xff\x8b\x8e\x12\xeb";
    const INT64_HEADER: &[u8] =
        b"\x00\x00\x00\x1e\x00\x00\x00\x0e]J\xdb\x8d\x04long\x05\xff\xff\xff\xff\xff\xff\xff\xffK\xc22\xda";
    const PAYLOAD_NO_HEADERS: &[u8] = b"\x00\x00\x00\x1d\x00\x00\x00\x00\xfdR\x8cZ{'foo':'bar'}\xc3e96";
    const PAYLOAD_ONE_STR_HEADER: &[u8] = b"\x00\x00\x00=\x00\x00\x00 \x07\xfd\x83\x96\x0ccontent-type\x07\x00\x10\
        application/json{'foo':'bar'}\x8d\x9c\x08\xb1";
    const ALL_HEADERS_TYPES: &[u8] = b"\x00\x00\x00b\x00\x00\x00R\x03\xb5\xcb\x9c\
        \x010\x00\x011\x01\x012\x02\x02\x013\x03\x00\x03\
        \x014\x04\x00\x00\x00\x04\x015\x05\x00\x00\x00\x00\x00\x00\x00\x05\
        \x016\x06\x00\x05bytes\x017\x07\x00\x04utf8\
        \x018\x08\x00\x00\x00\x00\x00\x00\x00\x08\x019\x090123456789abcdef\
        c56q";
    const ERROR_EVENT_MESSAGE: &[u8] = b"\x00\x00\x00R\x00\x00\x00B\xbf#c~\
        \x0d:message-type\x07\x00\x05error\x0b:error-code\x07\x00\x04code\
        \x0e:error-message\x07\x00\x07messagekl\xea=";
    const CORRUPTED_LENGTH: &[u8] = b"\x01\x00\x00\x1d\x00\x00\x00\x00\xfdR\x8cZ{'foo':'bar'}\xc3e96";
    const CORRUPTED_PAYLOAD: &[u8] = b"\x00\x00\x00\x1d\x00\x00\x00\x00\xfdR\x8cZ{'foo':'bar'\x8d\xc3e96";
    const CORRUPTED_HEADERS: &[u8] = b"\x00\x00\x00=\x00\x00\x00 \x07\xfd\x83\x96\x0ccontent+type\x07\x00\x10\
        application/json{'foo':'bar'}\x8d\x9c\x08\xb1";
    const CORRUPTED_HEADER_LENGTH: &[u8] = b"\x00\x00\x00=\xff\x00\x01\x02\x07\xfd\x83\x96\x0ccontent-type\x07\x00\x10\
        application/json{'foo':'bar'}\x8d\x9c\x08\xb1";
    const DUPLICATE_HEADER: &[u8] =
        b"\x00\x00\x00$\x00\x00\x00\x14K\xb9\x82\xd0\x04test\x04asdf\x04test\x04asdf\xf3\xf4uc";
    const INVALID_HEADERS_LENGTH: &[u8] = b"\x00\x00\x00=\xff\x00\x01\x02\x15\x83\xf5\xc2\x0ccontent-type\x07\x00\x10\
        application/json{'foo':'bar'}/7\x7f]";
    /// Only its prelude: a 24 MiB payload follows it in botocore's test.
    const INVALID_PAYLOAD_LENGTH_PRELUDE: &[u8] = b"\x01\x80\x00!\x00\x00\x00\x00\xdd?3\xb1";

    // The AWS SDK for Rust's vectors (smithy-rs, rust-runtime/aws-smithy-eventstream/test_data).
    const VALID_ALL_HEADERS_AND_PAYLOAD: &[u8] = b"\x00\x00\x00\x96\x00\x00\x00z\x8b\xb4\x95\xfb\
        \x04true\x00\x05false\x01\x04byte\x022\x05short\x03N \x03int\x04\x00\x07\xa1 \
        \x04long\x05\x00\x00\x00\x0b\xa4;t\x00\x05bytes\x06\x00\x0asome bytes\x03str\x07\x00\x08some str\
        \x04time\x08\x00\x00\x00\x01*\x05\xf2\x00\x04uuid\x09\xb7\x9b\xc9\x14\xde!N\x13\xb8\xb2\xbcG\xe8[\x7f\x0b\
        some payload\x01\xa0X`";
    const VALID_EMPTY_PAYLOAD: &[u8] =
        b"\x00\x00\x00\x1f\x00\x00\x00\x0f\x17-\xc2\xab\x0bsome-header\x03\x01\xf4\x93<\x5c\xad";
    const VALID_NO_HEADERS: &[u8] = b"\x00\x00\x00$\x00\x00\x00\x00QcV\xadanother test payload\x8d\xf8\x0ee";

    #[test]
    fn botocore_positive_vectors() {
        assert_eq!(one(EMPTY_MESSAGE), expect(&[], b""));
        assert_eq!(one(INT8_HEADER), expect(&[("byte", V::Byte(-1))], b""));
        assert_eq!(one(INT16_HEADER), expect(&[("short", V::Short(-1))], b""));
        assert_eq!(one(INT32_HEADER), expect(&[("integer", V::Int(-1))], b""));
        assert_eq!(one(INT64_HEADER), expect(&[("long", V::Long(-1))], b""));
        assert_eq!(one(PAYLOAD_NO_HEADERS), expect(&[], b"{'foo':'bar'}"));
        let json = V::String("application/json");
        assert_eq!(one(PAYLOAD_ONE_STR_HEADER), expect(&[("content-type", json)], b"{'foo':'bar'}"));
        let all = [
            ("0", V::Bool(true)),
            ("1", V::Bool(false)),
            ("2", V::Byte(2)),
            ("3", V::Short(3)),
            ("4", V::Int(4)),
            ("5", V::Long(5)),
            ("6", V::Bytes(b"bytes")),
            ("7", V::String("utf8")),
            ("8", V::Timestamp(8)),
            ("9", V::Uuid(*b"0123456789abcdef")),
        ];
        assert_eq!(one(ALL_HEADERS_TYPES), expect(&all, b""));
        let error = [
            (":message-type", V::String("error")),
            (":error-code", V::String("code")),
            (":error-message", V::String("message")),
        ];
        assert_eq!(one(ERROR_EVENT_MESSAGE), expect(&error, b""));
        // The encoder writes the same bytes.
        assert_eq!(encode(&all, b""), ALL_HEADERS_TYPES);
        assert_eq!(encode(&error, b""), ERROR_EVENT_MESSAGE);
        assert_eq!(encode(&[("content-type", json)], b"{'foo':'bar'}"), PAYLOAD_ONE_STR_HEADER);
        assert_eq!(encode(&[], b""), EMPTY_MESSAGE);
    }

    #[test]
    fn botocore_positive_vectors_in_one_stream() {
        let vectors = [
            EMPTY_MESSAGE,
            INT8_HEADER,
            INT16_HEADER,
            INT32_HEADER,
            INT64_HEADER,
            PAYLOAD_NO_HEADERS,
            PAYLOAD_ONE_STR_HEADER,
            ALL_HEADERS_TYPES,
            ERROR_EVENT_MESSAGE,
        ];
        let stream = vectors.concat();
        let expected: Vec<Owned> = vectors.iter().map(|v| one(v)).collect();
        for size in 1..=stream.len() {
            let cuts: Vec<usize> = (size..stream.len()).step_by(size).collect();
            assert_eq!(messages_split(1024, &stream, &cuts), (expected.clone(), Ok(false)), "pieces of {size}");
        }
    }

    #[test]
    fn botocore_negative_vectors() {
        assert_eq!(messages(CORRUPTED_LENGTH), (vec![], Err(FrameError::PreludeCrc)));
        assert_eq!(messages(CORRUPTED_PAYLOAD), (vec![], Err(FrameError::MessageCrc)));
        assert_eq!(messages(CORRUPTED_HEADERS), (vec![], Err(FrameError::MessageCrc)));
        assert_eq!(messages(CORRUPTED_HEADER_LENGTH), (vec![], Err(FrameError::PreludeCrc)));
        // CRCs that match around a headers length past the message's end.
        assert!(matches!(messages(INVALID_HEADERS_LENGTH), (v, Err(FrameError::Malformed(_))) if v.is_empty()));
        // A 24 MiB message against a cap of 24 MiB: refused from its prelude alone.
        let mut framer = Framer::new(24 << 20);
        assert_eq!(
            framer.feed(INVALID_PAYLOAD_LENGTH_PRELUDE, &mut |_| true),
            Err(FrameError::TooLong { cap: 24 << 20 })
        );
    }

    #[test]
    fn a_repeated_header_name_is_accepted_and_the_first_counts() {
        // botocore raises DuplicateHeader; the AWS SDK for Rust keeps both, as here.
        let asdf = V::Int(i32::from_be_bytes(*b"asdf")); // type 4, an integer
        assert_eq!(one(DUPLICATE_HEADER), expect(&[("test", asdf), ("test", asdf)], b""));
        let stream = encode(&[(":event-type", V::String("first")), (":event-type", V::String("second"))], b"");
        let mut framer = Framer::new(1024);
        framer
            .feed(&stream, &mut |m| {
                assert_eq!(m.event_type(), Some("first"));
                true
            })
            .unwrap();
    }

    #[test]
    fn aws_sdk_for_rust_vectors() {
        let all = [
            ("true", V::Bool(true)),
            ("false", V::Bool(false)),
            ("byte", V::Byte(50)),
            ("short", V::Short(20_000)),
            ("int", V::Int(500_000)),
            ("long", V::Long(50_000_000_000)),
            ("bytes", V::Bytes(b"some bytes")),
            ("str", V::String("some str")),
            ("time", V::Timestamp(5_000_000_000)),
            ("uuid", V::Uuid(0xb79bc914_de21_4e13_b8b2_bc47e85b7f0b_u128.to_be_bytes())),
        ];
        assert_eq!(one(VALID_ALL_HEADERS_AND_PAYLOAD), expect(&all, b"some payload"));
        assert_eq!(encode(&all, b"some payload"), VALID_ALL_HEADERS_AND_PAYLOAD);
        assert_eq!(one(VALID_EMPTY_PAYLOAD), expect(&[("some-header", V::Short(500))], b""));
        assert_eq!(one(VALID_NO_HEADERS), expect(&[], b"another test payload"));
        let stream = [VALID_ALL_HEADERS_AND_PAYLOAD, VALID_EMPTY_PAYLOAD, VALID_NO_HEADERS].concat();
        assert_eq!(messages(&stream).0.len(), 3);
    }

    #[test]
    fn aws_sdk_for_rust_invalid_vectors() {
        // Its broken-header vectors change a header byte and keep the message CRC: the CRC,
        // checked before the headers are parsed, catches them.
        let valid = VALID_ALL_HEADERS_AND_PAYLOAD;
        let with = |at: usize, bytes: &[u8]| [&valid[..at], bytes, &valid[at + bytes.len()..]].concat();
        let value_type = with(0x1e, b"`"); // invalid_header_value_type: 0x60 for "byte"'s type
        let name_length = with(0x19, b"\xff"); // invalid_header_name_length
        let string_length = with(0x58, b"\xff\xff"); // invalid_header_string_value_length
        let message_crc = with(0x92, b"\xde\xad\xbe\xef"); // invalid_message_checksum
        let prelude_crc = with(8, b"\xde\xad\xbe\xef"); // invalid_prelude_checksum
        for broken in [&value_type, &name_length, &string_length, &message_crc] {
            assert_eq!(messages(broken), (vec![], Err(FrameError::MessageCrc)));
        }
        assert_eq!(messages(&prelude_crc), (vec![], Err(FrameError::PreludeCrc)));
    }

    #[test]
    fn malformed_headers_with_matching_crcs_are_errors() {
        let malformed = |headers: &[u8]| {
            let (seen, end) = messages(&raw_message(headers, b"{}"));
            assert!(seen.is_empty() && matches!(end, Err(FrameError::Malformed(_))), "{headers:?}: {end:?}");
        };
        malformed(b"\x01a\x0a"); // an unknown type
        malformed(b"\x01a\xff");
        malformed(b"\x01a"); // no type
        malformed(b"\x00"); // a headers length of 1
        malformed(b"\x05a"); // the name runs past the headers
        malformed(b"\x01a\x07\x00\x05hi"); // the string runs past the headers
        malformed(b"\x01a\x07\x00"); // its length too
        malformed(b"\x01a\x06\x00\x03xy");
        malformed(b"\x01a\x03\x00"); // a short cut in half
        malformed(b"\x01a\x04\x00\x00\x00");
        malformed(b"\x01a\x05\x00\x00\x00\x00\x00\x00\x00");
        malformed(b"\x01a\x08\x00\x00\x00\x00\x00\x00\x00");
        malformed(b"\x01a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        malformed(b"\x01a\x02");
        malformed(b"\x01\xff\x00"); // a name that is not UTF-8
        malformed(b"\x01a\x07\x00\x02\xc3("); // a string that is not UTF-8
        malformed(b"\x01a\x00\x01b\x0b"); // a good header, then a bad one
        // The same shapes, whole, are fine; a byte array need not be UTF-8; an empty name is
        // allowed (as in the AWS SDKs).
        assert_eq!(one(&raw_message(b"\x01a\x07\x00\x02hi", b"")), expect(&[("a", V::String("hi"))], b""));
        assert_eq!(one(&raw_message(b"\x01a\x06\x00\x01\xff", b"")), expect(&[("a", V::Bytes(b"\xff"))], b""));
        assert_eq!(one(&raw_message(b"\x00\x00", b"x")), expect(&[("", V::Bool(true))], b"x"));
    }

    #[test]
    fn bad_lengths_with_a_matching_prelude_crc_are_errors() {
        for total in [0, 1, 12, 15] {
            let mut framer = Framer::new(1024);
            let fed = framer.feed(&prelude(total, 0), &mut |_| panic!("no message"));
            assert!(matches!(fed, Err(FrameError::Malformed(_))), "total {total}: {fed:?}");
        }
        for (total, headers) in [(16, 1), (20, 5), (20, u32::MAX)] {
            let mut framer = Framer::new(1024);
            let fed = framer.feed(&prelude(total, headers), &mut |_| panic!("no message"));
            assert!(matches!(fed, Err(FrameError::Malformed(_))), "{total}, {headers}: {fed:?}");
        }
        // Headers that fill the whole message are fine.
        let m = raw_message(b"\x01a\x00", b"");
        assert_eq!(one(&m), expect(&[("a", V::Bool(true))], b""));
    }

    #[test]
    fn a_corrupt_length_is_found_from_the_prelude_alone() {
        // A length of 4 GiB with a bad CRC: an error after 12 bytes, not a wait for 4 GiB.
        let mut bad = prelude(u32::MAX, 0);
        bad[11] ^= 1;
        let mut framer = Framer::new(usize::MAX);
        assert_eq!(framer.feed(&bad[..11], &mut |_| true), Ok(true));
        assert_eq!(framer.feed(&bad[11..], &mut |_| true), Err(FrameError::PreludeCrc));
    }

    #[test]
    fn every_split_of_a_two_message_stream_gives_the_same_messages() {
        let stream = two_messages();
        let (seen, end) = messages(&stream);
        assert_eq!(end, Ok(false));
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].headers[0], (":event-type".to_string(), r#"String("contentBlockDelta")"#.to_string()));
        // Every piece of one byte, too.
        let cuts: Vec<usize> = (1..stream.len()).collect();
        assert_eq!(messages_split(1024, &stream, &cuts), (seen, Ok(false)));
    }

    #[test]
    fn a_byte_changed_anywhere_is_an_error_never_another_message() {
        let stream = two_messages();
        let (good, _) = messages_split(1024, &stream, &[]);
        let first_len = be32(&stream[..4]);
        for at in 0..stream.len() {
            for flip in [0x01, 0x80, 0xff, 0x5a] {
                let mut bad = stream.clone();
                bad[at] ^= flip;
                let (seen, end) = messages_split(1024, &bad, &[]);
                assert!(end.is_err(), "byte {at} ^ {flip:#x}: {end:?}");
                // The message before the changed one still arrives, unchanged.
                let before = if at < first_len { 0 } else { 1 };
                assert_eq!(seen, good[..before], "byte {at} ^ {flip:#x}");
                assert_eq!(messages_split(1024, &bad, &[at, at + 1]), (seen, end), "byte {at} ^ {flip:#x}, split");
            }
        }
    }

    #[test]
    fn a_message_over_the_cap_is_refused_before_it_is_buffered() {
        let m = encode(&[(":event-type", V::String("contentBlockDelta"))], &[b'x'; 100]);
        let len = m.len();
        assert_eq!(messages_split(len, &m, &[]), (vec![one(&m)], Ok(false)));
        assert_eq!(messages_split(len - 1, &m, &[]), (vec![], Err(FrameError::TooLong { cap: len - 1 })));
        // The prelude is enough to refuse it.
        let mut framer = Framer::new(len - 1);
        assert_eq!(framer.feed(&m[..5], &mut |_| true), Ok(true));
        assert_eq!(framer.feed(&m[5..12], &mut |_| true), Err(FrameError::TooLong { cap: len - 1 }));
        // A small message before it is still delivered.
        let stream = [encode(&[], b"a"), m].concat();
        assert_eq!(
            messages_split(len - 1, &stream, &[3]),
            (vec![expect(&[], b"a")], Err(FrameError::TooLong { cap: len - 1 }))
        );
    }

    #[test]
    fn after_an_error_the_framer_stays_failed() {
        let mut framer = Framer::new(1024);
        assert_eq!(framer.feed(CORRUPTED_PAYLOAD, &mut |_| true), Err(FrameError::MessageCrc));
        assert!(!framer.in_message());
        for _ in 0..2 {
            assert_eq!(
                framer.feed(EMPTY_MESSAGE, &mut |_| panic!("no message after an error")),
                Err(FrameError::MessageCrc)
            );
            assert_eq!(framer.feed(b"", &mut |_| panic!("no message after an error")), Err(FrameError::MessageCrc));
        }
    }

    #[test]
    fn stopping_returns_false_and_delivers_no_more() {
        let stream = [two_messages(), two_messages()].concat();
        for cut in [0, 5, 40, stream.len()] {
            let mut framer = Framer::new(1024);
            let mut seen = 0;
            let mut stop_at_first = |_: &Message<'_>| {
                seen += 1;
                false
            };
            let first = framer.feed(&stream[..cut], &mut stop_at_first);
            let fed = if cut == stream.len() { first } else { framer.feed(&stream[cut..], &mut stop_at_first) };
            assert_eq!((fed, seen), (Ok(false), 1), "cut at {cut}");
        }
    }

    #[test]
    fn in_message_says_whether_a_message_is_cut() {
        let stream = two_messages();
        let first = be32(&stream[..4]);
        assert!(!Framer::new(1024).in_message());
        for (end, cut) in [(1, true), (11, true), (12, true), (first - 1, true), (first, false), (first + 1, true)] {
            let mut framer = Framer::new(1024);
            framer.feed(&stream[..end], &mut |_| true).unwrap();
            assert_eq!(framer.in_message(), cut, "after {end} bytes");
        }
        let mut framer = Framer::new(1024);
        framer.feed(&stream[..first + 1], &mut |_| true).unwrap();
        framer.feed(&stream[first + 1..], &mut |_| true).unwrap();
        assert!(!framer.in_message());
    }

    #[test]
    fn whole_messages_are_handed_out_in_place() {
        let stream = two_messages();
        let range = stream.as_ptr_range();
        let mut framer = Framer::new(1024);
        let mut n = 0;
        framer
            .feed(&stream, &mut |m| {
                n += 1;
                range.contains(&m.payload().as_ptr()) && range.contains(&m.event_type().unwrap().as_ptr())
            })
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(framer.carry.capacity(), 0, "nothing copied");
    }

    #[test]
    fn bedrock_accessors() {
        let mut stream = bedrock_event("messageStop", r#"{"p":"abcdefghijklmn","stopReason":"end_turn"}"#);
        stream.extend(encode(
            &[
                (":exception-type", V::String("throttlingException")),
                (":content-type", V::String("application/json")),
                (":message-type", V::String("exception")),
            ],
            br#"{"message":"Too many requests, please wait before trying again."}"#,
        ));
        let mut seen = Vec::new();
        let mut framer = Framer::new(1024);
        framer
            .feed(&stream, &mut |m| {
                let text = |t: Option<&str>| t.map(str::to_string);
                seen.push((text(m.message_type()), text(m.event_type()), text(m.exception_type()), m.payload().len()));
                assert_eq!(m.string_header(":content-type"), Some("application/json"));
                assert_eq!(m.header(":content-type"), Some(V::String("application/json")));
                assert_eq!(m.string_header("absent"), None);
                true
            })
            .unwrap();
        assert_eq!(
            seen,
            [
                (Some("event".into()), Some("messageStop".into()), None, 46),
                (Some("exception".into()), None, Some("throttlingException".into()), 65),
            ]
        );
        // A header of another type is not a string.
        let m = encode(&[(":message-type", V::Int(1))], b"");
        framer
            .feed(&m, &mut |m| {
                assert_eq!((m.message_type(), m.header(":message-type")), (None, Some(V::Int(1))));
                true
            })
            .unwrap();
    }

    #[test]
    fn errors_say_what_failed() {
        assert_eq!(FrameError::TooLong { cap: 1024 }.to_string(), "an event-stream message is over 1024 bytes");
        assert_eq!(FrameError::PreludeCrc.to_string(), "an event-stream message's prelude fails its CRC32 check");
        assert_eq!(FrameError::MessageCrc.to_string(), "an event-stream message fails its CRC32 check");
        assert_eq!(
            FrameError::Malformed("a header has an unknown value type").to_string(),
            "a malformed event-stream message: a header has an unknown value type"
        );
    }
}
