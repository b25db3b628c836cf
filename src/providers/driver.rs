//! What every protocol shares: send the request through the transport, turn a non-2xx answer
//! into `AICHAT_ERROR_HTTP_STATUS` with the server's message, pick the framing, feed frames to
//! the protocol's decoder, stop on the sink, detect truncation, drain the rest so the
//! connection can be reused, and attach the HTTP status to every error of a 2xx answer.

use crate::answer::Assembler;
use crate::error::Error;
use crate::interrupt::Stop;
use crate::request::Resolved;
use crate::transport::{self, HttpResponse, Transport};
use crate::{ndjson, sse};

use super::{Decoder, Flow, Framing, Provider};

/// Largest SSE line or event, or NDJSON line; smaller when `max_response_bytes` is.
const MAX_FRAME_BYTES: usize = 1024 * 1024;

/// How much is read after a stream's end marker so the connection can go back to the pool.
const DRAIN_AFTER_END: usize = 64 * 1024;

/// Runs one call of `protocol`: sends, decodes the answer into `out`. A failure the decoder
/// calls retryable (an overload reported after a 200) is retried as a retryable status is,
/// while nothing of the answer was delivered, attempts are left and `timeout_ms` allows.
pub fn run(
    protocol: Provider,
    r: &Resolved,
    transport: &Transport,
    stop: &Stop,
    out: &mut Assembler<'_>,
) -> Result<(), Error> {
    let mut attempt = 0;
    loop {
        let mut decoder = protocol.decoder();
        match run_once(protocol, &mut *decoder, r, transport, stop, out) {
            Err(e) if decoder.retryable() && !out.delivered() && attempt < r.net.max_retries => {
                let wait = transport::backoff(attempt);
                if std::time::Instant::now() + wait >= r.net.deadline {
                    return Err(e);
                }
                transport::sleep_unless_stopped(wait, stop)?;
                attempt += 1;
            }
            result => return result,
        }
    }
}

fn run_once(
    protocol: Provider,
    decoder: &mut dyn Decoder,
    r: &Resolved,
    transport: &Transport,
    stop: &Stop,
    out: &mut Assembler<'_>,
) -> Result<(), Error> {
    let mut response = transport.send(&protocol.build_request(r)?, &r.net, stop)?;
    if !response.is_success() {
        return Err(response.status_error());
    }
    let status = response.status();
    out.set_request_id(response.request_id());
    let cap = MAX_FRAME_BYTES.min(usize::try_from(r.net.max_response_bytes).unwrap_or(usize::MAX));
    let result = match protocol.framing(response.content_type(), r.stream) {
        Framing::Json => response.read_to_end().and_then(|body| decoder.body(&body, out)),
        Framing::Sse => {
            let mut framer = sse::Framer::new(cap);
            read_frames(&mut response, decoder, out, |bytes, on_frame| framer.feed(bytes, on_frame))
        }
        Framing::Ndjson => {
            let mut framer = ndjson::Framer::new(cap);
            read_frames(&mut response, decoder, out, |bytes, on_frame| {
                framer.feed(bytes, &mut |line| on_frame("", line))
            })
        }
    };
    result.map_err(|e| if e.http_status() == 0 { e.with_http_status(status) } else { e })
}

/// Reads the body through `feed` (a framer), decoding each frame as soon as it is complete,
/// until the decoder sees the end marker; a body that ends before it was truncated.
fn read_frames(
    response: &mut HttpResponse,
    decoder: &mut dyn Decoder,
    out: &mut Assembler<'_>,
    mut feed: impl FnMut(&[u8], &mut sse::OnEvent<'_>) -> Result<bool, sse::TooLong>,
) -> Result<(), Error> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut outcome: Result<Flow, Error> = Ok(Flow::More);
    loop {
        let n = response.read(&mut buf)?;
        if n == 0 {
            return Err(Error::protocol(format!(
                "the stream from {} ended before {} (truncated)",
                response.host(),
                decoder.end_marker()
            )));
        }
        let fed = feed(&buf[..n], &mut |event, data| {
            outcome = decoder.frame(event, data, out);
            matches!(outcome, Ok(Flow::More))
        });
        fed.map_err(|too_long| {
            Error::protocol(format!("a line or event from {} is over {} bytes", response.host(), too_long.cap))
        })?;
        match std::mem::replace(&mut outcome, Ok(Flow::More))? {
            Flow::More => {}
            Flow::Done => {
                response.drain(DRAIN_AFTER_END);
                return Ok(());
            }
        }
    }
}
