//! The faults and stream controls a request can ask for through the `/fault/<spec>` prefix.

use std::time::Duration;

use hyper::Response;

use crate::respond::{Body, json_error, with_header};

/// Parsed from a comma-separated spec. Items for both protocols:
/// - `status=N`: answer HTTP N with a JSON error body (with `fail-first`, only the first N tries;
///   with `echo`, the error message quotes the request).
/// - `retry-after=S`, `retry-after-ms=MS`: add that header to a `status` answer.
/// - `key=K`: count the requests that carry this key (`GET /attempts/K`).
/// - `fail-first=N`: with `key`, the first N requests fail (`status`, default 500), then succeed.
/// - `delay=MS`: wait MS milliseconds before answering.
/// - `silence`: never answer (the connection stays open until the client leaves).
/// - `truncate`: announce the full Content-Length, send half the body, close the connection.
/// - `not-json`: a 200 answer whose body is HTML.
/// - `echo`: the answer's text is the request as received (method, path, headers, body) as JSON.
/// - `size=N`: the answer's text is N bytes of `a`.
/// - `redirect`: a 302 to the same route without the fault prefix.
/// - `gzip`: the answer body gzip-compressed, with `Content-Encoding: gzip`.
/// - `bad-utf8`: the answer's text holds a byte that is not UTF-8 (0xFF).
/// - `overload-first=N`: Anthropic, Responses, Gemini and Bedrock streams, with `key`: the first
///   N attempts get a 200 whose stream reports an overload or failure before any content
///   (Anthropic: `message_start` then an `overloaded_error` event; Gemini: an error chunk with
///   code 503; Bedrock: an exception message, `serviceUnavailableException` unless `exception`
///   names another, at the place `exception` says, else first; a Gemini or Bedrock answer that
///   is not streamed: HTTP 503, Bedrock's `ServiceUnavailableException` or `exception`'s type).
/// - `content-type=T`: a 200 answer says `Content-Type: T` (`none`: no such header), whatever
///   its body is.
///
/// Aichat only: `no-message`, `response-false`.
///
/// Bedrock only (`/model/{id}/converse-stream`, binary AWS event-stream messages; `converse`):
/// - `exception=TYPE`, `exception=TYPE@N`: an exception message (`:message-type: exception`,
///   `:exception-type: TYPE`, e.g. `throttlingException`, payload `{"message": ...}`) ends the
///   stream: without `@N` it is the stream's first message, before `messageStart`; with `@N`
///   it follows `messageStart` and N `contentBlockDelta` messages (of any block; before
///   `messageStop` when there are fewer). Every attempt gets it, unless `overload-first` limits
///   it to the first attempts. `converse` answers the HTTP error of that type instead
///   (`throttlingException`: 429 `ThrottlingException`, see `bedrock::http_status`).
/// - `bad-prelude-crc=N`, `bad-message-crc=N`: the stream's message N (0: the first) goes out
///   with its prelude CRC, or its message CRC, off by one bit.
/// - `cut-inside=N`: the stream ends after the first half of message N's bytes.
/// - `bearer=T`: only `Authorization: Bearer T` is accepted (else any token that is not empty).
/// - `cut` ends the stream before `contentBlockStop`, `messageStop` and `metadata`; `error-event`
///   is a `modelStreamErrorException` after the first text delta; `chunks`, `interval`,
///   `split-utf8` (each message in two writes, cut inside a multi-byte character of its payload
///   when it has one), `silence-after`, `reasoning` (without a field name) and `parallel-tools`
///   (a second `toolUse` block, of the second tool when there is one) work as in the others;
///   `keepalive`, `crlf` and `cr` have no meaning in a binary stream and change nothing.
///
/// Streams (`"stream": true`) of every protocol:
/// - `chunks=N`: N content chunks `tok0 `, `tok1 `, … instead of the word-by-word answer.
///
/// OpenAI streams only (Responses and Gemini streams too: `interval`, `keepalive`, `crlf`,
/// `cr`, `split-utf8`, `error-event`, `cut`, `silence-after`):
/// - `chunk-size=N`: with `chunks`, each chunk is N bytes of text instead.
/// - `stamp`: each content chunk is the time it was written, in microseconds since the Unix
///   epoch (for latency measurements on one machine).
/// - `interval=MS`: wait between content chunks.
/// - `keepalive`: a `: keep-alive` comment before every event.
/// - `crlf`, `cr`: end lines with CRLF or a lone CR instead of LF.
/// - `split-utf8`: write every event in two parts, cut inside a multi-byte character when it
///   has one, with a pause between, so they arrive in separate reads.
/// - `error-event`: after the first content chunk, an `{"error": {...}}` event, then the end.
/// - `cut`: end the stream after half the content chunks, without `[DONE]`.
/// - `silence-after=N`: stop sending after N content chunks, keeping the connection open.
///
/// OpenAI answers (streamed or not):
/// - `reasoning`: reasoning before the answer in `reasoning_content` (`reasoning=field` in
///   OpenRouter's `reasoning`, `reasoning=both` in both with the same text).
/// - `refusal`: a refusal instead of the content.
/// - with `tools` in the request, how a stream sends the tool call (Gemini: `parallel-tools`,
///   a second call without a signature): `parallel-tools` (two calls
///   opened in one chunk in reverse order, their fragments interleaved), `whole-tool-call`
///   (each call in one chunk), `reused-index` (two calls both at index 0, each fragment
///   repeating its call's id and name).
/// - `usage-every-chunk`: a running `usage` on every chunk, the final one on the finish chunk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    pub status: Option<u16>,
    pub retry_after: Option<String>,
    pub retry_after_ms: Option<u64>,
    pub key: Option<String>,
    pub fail_first: Option<u64>,
    pub delay: Option<Duration>,
    pub silence: bool,
    pub truncate: bool,
    pub not_json: bool,
    pub no_message: bool,
    pub response_false: bool,
    pub echo: bool,
    pub size: Option<usize>,
    pub redirect: bool,
    pub gzip: bool,
    pub bad_utf8: bool,
    pub chunks: Option<u64>,
    pub chunk_size: Option<usize>,
    pub stamp: bool,
    pub interval: Option<Duration>,
    pub keepalive: bool,
    pub line_end: LineEnd,
    pub split_utf8: bool,
    pub error_event: bool,
    pub cut: bool,
    pub silence_after: Option<u64>,
    pub reasoning: Option<ReasoningField>,
    pub refusal: bool,
    pub tool_style: ToolStyle,
    pub usage_every_chunk: bool,
    pub content_type: Option<String>,
    pub overload_first: Option<u64>,
    /// Bedrock: the exception type, and after how many content deltas (`None`: first).
    pub exception: Option<(String, Option<u64>)>,
    pub bad_prelude_crc: Option<u64>,
    pub bad_message_crc: Option<u64>,
    pub cut_inside: Option<u64>,
    pub bearer: Option<String>,
}

/// Where streamed reasoning goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningField {
    ReasoningContent,
    Reasoning,
    Both,
}

/// How a stream sends tool calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ToolStyle {
    /// One call: id and name first, then the arguments in three fragments.
    #[default]
    Fragments,
    Parallel,
    Whole,
    ReusedIndex,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LineEnd {
    #[default]
    Lf,
    CrLf,
    Cr,
}

impl Faults {
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut f = Faults::default();
        for item in spec.split(',').filter(|s| !s.is_empty()) {
            let (name, value) = item.split_once('=').unwrap_or((item, ""));
            let number = || value.parse::<u64>().map_err(|_| format!("fault {name:?} needs a number, got {value:?}"));
            match name {
                "status" => f.status = Some(u16::try_from(number()?).map_err(|_| "status out of range".to_string())?),
                "retry-after" => f.retry_after = Some(value.to_string()),
                "retry-after-ms" => f.retry_after_ms = Some(number()?),
                "key" => f.key = Some(value.to_string()),
                "fail-first" => f.fail_first = Some(number()?),
                "delay" => f.delay = Some(Duration::from_millis(number()?)),
                "silence" => f.silence = true,
                "truncate" => f.truncate = true,
                "not-json" => f.not_json = true,
                "no-message" => f.no_message = true,
                "response-false" => f.response_false = true,
                "echo" => f.echo = true,
                "size" => f.size = Some(number()? as usize),
                "redirect" => f.redirect = true,
                "gzip" => f.gzip = true,
                "bad-utf8" => f.bad_utf8 = true,
                "chunks" => f.chunks = Some(number()?),
                "chunk-size" => f.chunk_size = Some(number()? as usize),
                "stamp" => f.stamp = true,
                "interval" => f.interval = Some(Duration::from_millis(number()?)),
                "keepalive" => f.keepalive = true,
                "crlf" => f.line_end = LineEnd::CrLf,
                "cr" => f.line_end = LineEnd::Cr,
                "split-utf8" => f.split_utf8 = true,
                "error-event" => f.error_event = true,
                "cut" => f.cut = true,
                "silence-after" => f.silence_after = Some(number()?),
                "reasoning" => {
                    f.reasoning = Some(match value {
                        "" => ReasoningField::ReasoningContent,
                        "field" => ReasoningField::Reasoning,
                        "both" => ReasoningField::Both,
                        _ => return Err(format!("fault \"reasoning\" takes \"field\" or \"both\", got {value:?}")),
                    })
                }
                "refusal" => f.refusal = true,
                "parallel-tools" => f.tool_style = ToolStyle::Parallel,
                "whole-tool-call" => f.tool_style = ToolStyle::Whole,
                "reused-index" => f.tool_style = ToolStyle::ReusedIndex,
                "usage-every-chunk" => f.usage_every_chunk = true,
                "content-type" => f.content_type = Some(value.replace("%2F", "/")),
                "overload-first" => f.overload_first = Some(number()?),
                "exception" => {
                    let (kind, at) = value.split_once('@').map_or((value, None), |(kind, at)| (kind, Some(at)));
                    let at = at.map(str::parse::<u64>).transpose();
                    let at = at.map_err(|_| format!("fault \"exception\" wants TYPE@N, got {value:?}"))?;
                    if kind.is_empty() {
                        return Err("fault \"exception\" needs a type, e.g. exception=throttlingException".to_string());
                    }
                    f.exception = Some((kind.to_string(), at));
                }
                "bad-prelude-crc" => f.bad_prelude_crc = Some(number()?),
                "bad-message-crc" => f.bad_message_crc = Some(number()?),
                "cut-inside" => f.cut_inside = Some(number()?),
                "bearer" => f.bearer = Some(value.to_string()),
                _ => return Err(format!("unknown fault {name:?}")),
            }
        }
        if f.fail_first.is_some() && f.key.is_none() {
            return Err("fault \"fail-first\" needs a \"key\" to count attempts by".to_string());
        }
        Ok(f)
    }

    /// Splits `/fault/<spec>/rest` into the faults and `/rest`; other paths have no faults.
    pub fn split_path(path: &str) -> Result<(Faults, &str), String> {
        match path.strip_prefix("/fault/") {
            Some(rest) => {
                let (spec, route) = rest.find('/').map_or((rest, ""), |i| (&rest[..i], &rest[i..]));
                Ok((Faults::parse(spec)?, route))
            }
            None => Ok((Faults::default(), path)),
        }
    }

    /// Waits as `delay` and `silence` ask.
    pub async fn wait(&self) {
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        if self.silence {
            std::future::pending::<()>().await;
        }
    }

    /// The failing answer this request gets, if any: an injected status or a redirect.
    /// `attempt` is this request's count under `key`; with `echo`, the error message quotes
    /// `request` (as a careless server quoting a credential would). `error` shapes the answer
    /// as the protocol's errors are shaped.
    pub fn failure(
        &self,
        attempt: Option<u64>,
        route: &str,
        request: &str,
        error: fn(u16, &str) -> Response<Body>,
    ) -> Option<Response<Body>> {
        if self.redirect {
            return Some(with_header(json_error(302, "test server: moved"), "location", route));
        }
        let status = match (self.fail_first, attempt) {
            (Some(n), Some(a)) if a <= n => self.status.unwrap_or(500),
            (Some(_), _) => return None,
            (None, _) => self.status?,
        };
        let mut message = format!("test server: injected HTTP {status}");
        if self.echo {
            message = format!("{message}; request: {request}");
        }
        let mut response = error(status, &message);
        if let Some(v) = &self.retry_after {
            response = with_header(response, "retry-after", v);
        }
        if let Some(ms) = self.retry_after_ms {
            response = with_header(response, "retry-after-ms", &ms.to_string());
        }
        Some(response)
    }

    /// The SSE line terminator asked for.
    pub fn newline(&self) -> &'static str {
        match self.line_end {
            LineEnd::Lf => "\n",
            LineEnd::CrLf => "\r\n",
            LineEnd::Cr => "\r",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_items_combine() {
        let (f, route) = Faults::split_path("/fault/delay=20,status=503/api/text").unwrap();
        assert_eq!(route, "/api/text");
        assert_eq!(f.delay, Some(Duration::from_millis(20)));
        assert_eq!(f.status, Some(503));
    }

    #[test]
    fn bedrock_items_parse() {
        let f =
            Faults::parse("exception=throttlingException@2,bad-prelude-crc=1,bad-message-crc=3,cut-inside=4,bearer=t")
                .unwrap();
        assert_eq!(f.exception, Some(("throttlingException".to_string(), Some(2))));
        assert_eq!((f.bad_prelude_crc, f.bad_message_crc, f.cut_inside), (Some(1), Some(3), Some(4)));
        assert_eq!(f.bearer.as_deref(), Some("t"));
        assert_eq!(
            Faults::parse("exception=internalServerException").unwrap().exception,
            Some(("internalServerException".into(), None))
        );
        assert!(Faults::parse("exception=x@y").is_err());
        assert!(Faults::parse("exception=").is_err());
    }

    #[test]
    fn unknown_fault_is_refused() {
        assert!(Faults::parse("explode").is_err());
        assert!(Faults::parse("fail-first=2").is_err());
    }

    #[test]
    fn plain_path_has_no_faults() {
        assert_eq!(Faults::split_path("/api/text").unwrap(), (Faults::default(), "/api/text"));
    }

    #[test]
    fn fail_first_fails_only_the_first_attempts() {
        let f = Faults::parse("key=k,fail-first=2").unwrap();
        assert_eq!(f.failure(Some(1), "/", "", json_error).map(|r| r.status().as_u16()), Some(500));
        assert_eq!(f.failure(Some(2), "/", "", json_error).map(|r| r.status().as_u16()), Some(500));
        assert!(f.failure(Some(3), "/", "", json_error).is_none());
    }
}
