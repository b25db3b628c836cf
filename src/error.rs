//! The one error type of the core. Each error has a kind, which maps once to a C status code
//! (`crate::ffi::status`), a message written for the person who will read it, and the HTTP
//! status when a server answered.

use std::fmt;

/// What went wrong, in the categories the C status codes expose. Never renumbered: see
/// `AichatStatus` for the stable numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A caller-side misuse that is not about the request's content (NULL, bad UTF-8).
    InvalidArgument,
    /// The request or options JSON does not parse or does not fit the schema.
    InvalidRequest,
    /// DNS, connection refused, TLS handshake, proxy.
    Connect,
    /// A connect, idle or whole-call timeout.
    Timeout,
    /// The server answered with a non-2xx status.
    HttpStatus,
    /// The answer does not follow the protocol: bad JSON, missing field, truncated.
    Protocol,
    /// A well-formed answer that reports a failure.
    Server,
    /// The sink asked to stop, or the cancel token fired.
    Cancelled,
    /// The connection broke mid-transfer.
    Io,
    /// The answer exceeded `max_response_bytes`, or the caps on choices and tool calls.
    TooLarge,
    /// A bug in this library (a caught panic).
    Internal,
}

/// Most bytes of a server's text one message carries, however many places in the message it
/// fills (its error text, a decoder's reason that quotes it, the answer it could not read), so
/// a hostile server can't fill memory or a user's log with one error.
pub const MAX_SERVER_TEXT: usize = 512;

/// Of `MAX_SERVER_TEXT`, the most a decoder's reason may take (serde's errors quote the value
/// they did not expect, which can be the whole answer); the answer's text gets the rest.
const MAX_REASON_TEXT: usize = 160;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    http_status: u16,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), http_status: 0 }
    }

    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = status;
        self
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidRequest, message)
    }

    pub fn protocol(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Protocol, message)
    }

    pub fn cancelled(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Cancelled, message)
    }

    /// The sink (the caller's chunk callback) asked to stop.
    pub fn stopped_by_sink() -> Self {
        Error::cancelled("stopped by the chunk callback")
    }

    /// The same error with `secrets` (from `secret::maskable`) masked in its message, by
    /// `secret::mask_in`'s rule: a server may echo a credential back in its error text.
    pub fn redacted(mut self, secrets: &[String]) -> Self {
        if let std::borrow::Cow::Owned(masked) = crate::secret::mask_in(&self.message, secrets) {
            self.message = masked;
        }
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status of the answer that caused the error, 0 when there was none.
    pub fn http_status(&self) -> u16 {
        self.http_status
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Text a server sent, made fit for a message: the call's secrets masked (before anything is
/// cut, so no part of one survives), control and bidirectional-override characters replaced
/// (so the message stays one line and reads as it is: no log spoofing), and cut to at most
/// `MAX_SERVER_TEXT` bytes on a character boundary.
pub fn server_text(text: &str) -> String {
    server_text_within(text, MAX_SERVER_TEXT)
}

/// A protocol error for server text that could not be decoded: `what`, the decoder's `reason`
/// and the `text`, with at most `MAX_SERVER_TEXT` bytes of the last two together.
pub fn undecodable(what: &str, reason: &dyn fmt::Display, text: &str) -> Error {
    let reason = server_text_within(&reason.to_string(), MAX_REASON_TEXT);
    let text = server_text_within(text, MAX_SERVER_TEXT - reason.len());
    if text.is_empty() {
        Error::protocol(format!("{what} ({reason})"))
    } else {
        Error::protocol(format!("{what} ({reason}): {text}"))
    }
}

/// `server_text` cut to at most `max` bytes (the `…` that marks a cut included).
fn server_text_within(text: &str, max: usize) -> String {
    const CUT: char = '…';
    let masked = crate::secret::mask(text.trim());
    // Replacing a character never makes the text longer: text that fits is never cut.
    let room = if masked.len() <= max { max } else { max.saturating_sub(CUT.len_utf8()) };
    let mut out = String::new();
    for c in masked.chars() {
        if out.len() + c.len_utf8() > room {
            out.push(CUT);
            break;
        }
        out.push(if c.is_control() || is_bidi_control(c) { ' ' } else { c });
    }
    out
}

/// The characters that change the direction text is shown in (Unicode's bidi controls).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_cut_on_a_char_boundary() {
        let long = "é".repeat(MAX_SERVER_TEXT);
        let cut = server_text(&long);
        assert!(cut.ends_with('…') && cut.len() <= MAX_SERVER_TEXT);
        assert_eq!(cut.chars().filter(|&c| c == 'é').count(), (MAX_SERVER_TEXT - 3) / 2);
        let fits = "é".repeat(MAX_SERVER_TEXT / 2);
        assert_eq!(server_text(&fits), fits);
    }

    #[test]
    fn undecodable_keeps_the_reason_and_the_text_within_the_cap_together() {
        let long = "x".repeat(10_000);
        let e = undecodable("the answer is not JSON", &format!("invalid type: string {long:?}"), &long);
        let own = "the answer is not JSON (): ".len();
        assert!(e.message().len() <= own + MAX_SERVER_TEXT, "{}", e.message().len());
        assert!(e.message().starts_with("the answer is not JSON (invalid type: string \"xx"), "{}", e.message());
        assert_eq!(undecodable("w", &"why", "").message(), "w (why)");
        assert_eq!(undecodable("w", &"why", "it").message(), "w (why): it");
    }

    #[test]
    fn server_text_replaces_control_characters() {
        assert_eq!(server_text(" a\nb\r\tc "), "a b  c");
    }

    #[test]
    fn server_text_neutralises_bidi_overrides() {
        assert_eq!(server_text("user\u{202E}gnp.exe\u{2066}x\u{200F}"), "user gnp.exe x ");
    }

    #[test]
    fn server_text_masks_secrets_before_cutting() {
        let _scope = crate::secret::scope(vec!["sk-abcdefghijklmnopqrstuvwxyz".into()]);
        for at in 480..MAX_SERVER_TEXT {
            let text = format!("{}sk-abcdefghijklmnopqrstuvwxyz tail", "x".repeat(at));
            let shown = server_text(&text);
            assert!(!shown.contains("sk-abc"), "key at {at}: {shown}");
        }
    }

    #[test]
    fn redacted_masks_the_secret() {
        let e = Error::new(ErrorKind::HttpStatus, "Incorrect API key provided: sk-123. Again: sk-123")
            .redacted(&["sk-123".into()]);
        assert_eq!(e.message(), "Incorrect API key provided: ***. Again: ***");
    }

    #[test]
    fn http_status_defaults_to_zero() {
        let e = Error::protocol("x");
        assert_eq!(e.http_status(), 0);
        assert_eq!(e.with_http_status(503).http_status(), 503);
    }
}
