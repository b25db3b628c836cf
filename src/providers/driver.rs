//! What every protocol shares: send the request through the transport, turn a non-2xx answer
//! into `AICHAT_ERROR_HTTP_STATUS` with the server's message, pick the framing, feed frames to
//! the protocol's decoder, stop on the sink, detect truncation, and attach the HTTP status to
//! every error of a 2xx answer.
//!
//! A [`Run`] never waits: [`Run::advance`] decodes whatever has arrived and says whether the
//! answer is complete, and [`Run::wait`] blocks until more arrives. The push API alternates the
//! two on the caller's thread; a pulled call advances it each time the caller asks for events.
//! Either way the decoding happens on the caller's thread, the network I/O on the reactor's.

use std::time::Instant;

use crate::answer::Assembler;
use crate::error::Error;
use crate::reactor::Engine;
use crate::reactor::signal::Notify;
use crate::request::Resolved;
use crate::stop::Stop;
use crate::transport::{self, Body, ERROR_BODY_LIMIT, HttpResponse, Pending, Start, Transport};
use crate::{eventstream, ndjson, sse};

use super::{Decoder, Flow, Framing, Provider};

/// Largest SSE line or event, or NDJSON line, unless the protocol says otherwise
/// (`Protocol::max_frame_bytes`); smaller when `max_response_bytes` is.
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;

/// One call of a protocol, from the request to the end of the answer.
pub struct Run {
    protocol: Provider,
    decoder: Box<dyn Decoder>,
    state: State,
    /// Where body bytes are taken into (swapped with the exchange's, see `Exchange::take_body`).
    buf: Vec<u8>,
    notify: Option<std::sync::Arc<Notify>>,
    engine: Engine,
}

enum State {
    /// The request is on its way; the head has not arrived.
    Sent(Pending),
    /// A whole body is gathered: a JSON answer, or a failed status's error text.
    Whole {
        response: HttpResponse,
        body: Vec<u8>,
        failed: bool,
    },
    /// A stream, decoded frame by frame.
    Frames {
        response: HttpResponse,
        framer: Framer,
    },
    Ended,
}

/// What [`Run::advance`] did.
#[derive(Debug)]
pub(crate) enum Advance {
    /// The answer is complete (or failed).
    Ended(Result<(), Error>),
    /// It decoded what one read brought; more may be there.
    Decoded,
    /// Nothing more without waiting for the network.
    Idle,
}

enum Framer {
    Sse(sse::Framer),
    Ndjson(ndjson::Framer),
    EventStream(eventstream::Framer),
}

impl Framer {
    /// Whether bytes of an unfinished frame are held: a body ending now is cut inside it.
    fn in_message(&self) -> bool {
        match self {
            Framer::EventStream(f) => f.in_message(),
            // Their decoders never let a stream end without their end marker.
            Framer::Sse(_) | Framer::Ndjson(_) => false,
        }
    }
}

impl Run {
    /// Sends the call's request (through `engine`'s loop) and returns at once. `notify` is the
    /// descriptor of a pulled call, kept up to date with what waits to be taken.
    pub(crate) fn start(
        protocol: Provider,
        r: &Resolved,
        transport: &Transport,
        stop: &Stop,
        engine: Engine,
        notify: Option<std::sync::Arc<Notify>>,
    ) -> Result<Run, Error> {
        let start = Start { engine, notify: notify.clone(), attempts_before: 0, not_before: None };
        let pending = transport.start(protocol.build_request(r)?, &r.net, stop, start)?;
        Ok(Run {
            protocol,
            decoder: protocol.decoder_for(r),
            state: State::Sent(pending),
            buf: Vec::new(),
            notify,
            engine,
        })
    }

    /// Waits until the network brings something (or the call is cancelled, or `until` passes).
    pub(crate) fn wait(&self, until: Option<Instant>) {
        match &self.state {
            State::Sent(pending) => pending.wait(until),
            State::Whole { response, .. } | State::Frames { response, .. } => response.wait(until),
            State::Ended => {}
        }
    }

    /// Decodes what has arrived into `out`, without waiting: the bytes of one read at most, so
    /// a pulled call hands its events over between reads. A failure the
    /// decoder calls retryable (an overload reported after a 200) is retried as a retryable
    /// status is, while nothing of the answer was delivered and attempts and time are left:
    /// the attempts count on from the transport's, so a call makes at most `max_retries + 1`.
    pub(crate) fn advance(
        &mut self,
        r: &Resolved,
        transport: &Transport,
        stop: &Stop,
        out: &mut Assembler<'_>,
    ) -> Advance {
        loop {
            let step = match &mut self.state {
                State::Ended => return Advance::Ended(Ok(())),
                State::Sent(pending) => match pending.poll() {
                    None => return Advance::Idle,
                    Some(Err(e)) => Err(e),
                    Some(Ok(response)) => {
                        self.state = self.begin_body(response, r, out);
                        continue;
                    }
                },
                State::Whole { response, body, failed } => match response.take(&mut self.buf) {
                    Ok(Body::Pending) => return Advance::Idle,
                    Ok(Body::Bytes) if *failed => {
                        let room = ERROR_BODY_LIMIT.saturating_sub(body.len());
                        body.extend_from_slice(&self.buf[..self.buf.len().min(room)]);
                        if body.len() < ERROR_BODY_LIMIT {
                            continue;
                        }
                        Err(response.status_error(body))
                    }
                    Ok(Body::Bytes) => {
                        body.extend_from_slice(&self.buf);
                        continue;
                    }
                    Ok(Body::End) if *failed => Err(response.status_error(body)),
                    Ok(Body::End) => {
                        let status = response.status();
                        self.decoder.body(body, out).map_err(|e| with_status(e, status))
                    }
                    // The error body broke off: report the status with what came, unless the
                    // call was stopped.
                    Err(e) if *failed && e.kind() != crate::error::ErrorKind::Cancelled => {
                        Err(response.status_error(body))
                    }
                    Err(e) => Err(e),
                },
                State::Frames { response, framer } => match response.take(&mut self.buf) {
                    Ok(Body::Pending) => return Advance::Idle,
                    Ok(Body::End) if self.decoder.may_end() && !framer.in_message() => Ok(()),
                    Ok(Body::End) => Err(with_status(
                        Error::protocol(format!(
                            "the stream from {} ended before {} (truncated)",
                            response.host(),
                            self.decoder.end_marker()
                        )),
                        response.status(),
                    )),
                    Err(e) => Err(e),
                    Ok(Body::Bytes) => {
                        let status = response.status();
                        match feed(framer, &self.buf, &mut *self.decoder, out, response.host()) {
                            Ok(Flow::More) => return Advance::Decoded,
                            Ok(Flow::Done) => Ok(()),
                            Err(e) => {
                                let attempts = response.attempts();
                                if self.decoder.retryable() && !out.delivered() && attempts <= r.net.max_retries {
                                    let wait = transport::backoff(attempts.saturating_sub(1));
                                    if Instant::now() + wait < r.net.deadline {
                                        match self.retry(r, transport, stop, attempts, Instant::now() + wait) {
                                            Ok(()) => continue,
                                            Err(e) => return self.end(Err(e)),
                                        }
                                    }
                                }
                                Err(with_status(e, status))
                            }
                        }
                    }
                },
            };
            return self.end(step);
        }
    }

    fn end(&mut self, result: Result<(), Error>) -> Advance {
        // Dropping the response tells the reactor the caller is done: it reads what is left of
        // the answer (a little, briefly) so the connection can be pooled, or closes it.
        self.state = State::Ended;
        Advance::Ended(result)
    }

    /// Sends the request again after `not_before`, with a new decoder.
    fn retry(
        &mut self,
        r: &Resolved,
        transport: &Transport,
        stop: &Stop,
        attempts: u32,
        not_before: Instant,
    ) -> Result<(), Error> {
        let start = Start {
            engine: self.engine,
            notify: self.notify.clone(),
            attempts_before: attempts,
            not_before: Some(not_before),
        };
        // The old exchange goes first, so the descriptor follows the new one only.
        self.state = State::Ended;
        let pending = transport.start(self.protocol.build_request(r)?, &r.net, stop, start)?;
        self.decoder = self.protocol.decoder_for(r);
        self.state = State::Sent(pending);
        Ok(())
    }

    fn begin_body(&self, response: HttpResponse, r: &Resolved, out: &mut Assembler<'_>) -> State {
        if !response.is_success() {
            return State::Whole { response, body: Vec::new(), failed: true };
        }
        out.set_request_id(response.request_id());
        let cap = self.protocol.max_frame_bytes().min(usize::try_from(r.net.max_response_bytes).unwrap_or(usize::MAX));
        match self.protocol.framing(response.content_type(), r.stream) {
            Framing::Json => State::Whole { response, body: Vec::new(), failed: false },
            Framing::Sse => State::Frames { response, framer: Framer::Sse(sse::Framer::new(cap)) },
            Framing::Ndjson => State::Frames { response, framer: Framer::Ndjson(ndjson::Framer::new(cap)) },
            Framing::EventStream => {
                State::Frames { response, framer: Framer::EventStream(eventstream::Framer::new(cap)) }
            }
        }
    }
}

fn with_status(e: Error, status: u16) -> Error {
    if e.http_status() == 0 { e.with_http_status(status) } else { e }
}

/// Feeds `bytes` to the framer, decoding each frame as soon as it is complete, until the
/// decoder sees the end marker.
fn feed(
    framer: &mut Framer,
    bytes: &[u8],
    decoder: &mut dyn Decoder,
    out: &mut Assembler<'_>,
    host: &str,
) -> Result<Flow, Error> {
    let mut outcome: Result<Flow, Error> = Ok(Flow::More);
    let mut on_frame = |event: &str, data: &str| {
        outcome = decoder.frame(event, data, out);
        matches!(outcome, Ok(Flow::More))
    };
    let too_long = |e: sse::TooLong| Error::protocol(format!("a line or event from {host} is over {} bytes", e.cap));
    match framer {
        Framer::Sse(f) => f.feed(bytes, &mut on_frame).map_err(too_long)?,
        Framer::Ndjson(f) => f.feed(bytes, &mut |line| on_frame("", line)).map_err(too_long)?,
        Framer::EventStream(f) => f
            .feed(bytes, &mut |message| {
                let payload = sse::text_of(message.payload());
                match message.message_type() {
                    Some("exception") => {
                        let kind = message.exception_type().unwrap_or("unknown");
                        on_frame(&format!("{}{kind}", super::EXCEPTION_PREFIX), &payload)
                    }
                    Some("error") => {
                        let code = message.string_header(":error-code").unwrap_or("unknown");
                        let text = message.string_header(":error-message").unwrap_or("");
                        on_frame(&format!("{}{code}", super::ERROR_PREFIX), text)
                    }
                    _ => on_frame(message.event_type().unwrap_or(""), &payload),
                }
            })
            .map_err(|e| Error::protocol(format!("the event stream from {host} is broken: {e}")))?,
    };
    outcome
}

/// Runs one call of `protocol` on this thread: sends, then decodes the answer into `out` as
/// it arrives, waiting between reads.
pub fn run(
    protocol: Provider,
    r: &Resolved,
    transport: &Transport,
    stop: &Stop,
    out: &mut Assembler<'_>,
) -> Result<(), Error> {
    // The calling thread waits anyway: it runs its own I/O (see `reactor::Engine::Caller`).
    let mut run = Run::start(protocol, r, transport, stop, Engine::Caller, None)?;
    loop {
        match run.advance(r, transport, stop, out) {
            Advance::Ended(result) => return result,
            Advance::Decoded => {}
            Advance::Idle => run.wait(None),
        }
    }
}
