//! `AichatStream`: a completion pulled in batches instead of pushed through a callback, for
//! callers whose callbacks are expensive (an FFI relay to another thread, an event loop). A
//! stream is opened for text (`aichat_stream_next`) or for events (`aichat_stream_next_events`).

use std::ffi::{c_char, c_int};
use std::time::Duration;

use super::event::EventBuffers;
use super::{
    AichatCancel, AichatClient, AichatError, AichatEvent, AichatEventKind, AichatStatus, BoxedHandle, catch_reporting,
    null_argument, status_of, str_from_c,
};
use crate::answer::Mode;
use crate::client::Call;
use crate::error::{Error, ErrorKind};
use crate::event::Event;
use crate::pulled::Pulled;
use crate::request::Request;

/// A running completion whose chunks are pulled with `aichat_stream_next`. Use it from one
/// thread at a time (it may move between threads); cancel it from any thread through the token
/// it was opened with. Release it with `aichat_stream_free`, which also stops the request.
pub struct AichatStream {
    call: Call,
    text: TextBatch,
    events: EventBatch,
}

impl BoxedHandle for AichatStream {}

/// The chunks one `aichat_stream_next` returned, valid until the next call on the same stream
/// or `aichat_stream_free`. Chunk `i` is the bytes `[i == 0 ? 0 : ends[i - 1], ends[i])` of
/// `text`; each is UTF-8 and never splits a UTF-8 sequence, as with the callback.
#[repr(C)]
pub struct AichatChunks {
    /// All chunks of this batch, one after the other, followed by a NUL (not counted).
    pub text: *const c_char,
    pub text_len: usize,
    /// The end offset in `text` of each chunk.
    pub ends: *const usize,
    /// How many chunks: 0 when none arrived within the wait.
    pub count: usize,
    /// 1 once the completion finished normally: no chunk follows these.
    pub finished: bool,
}

/// The events one `aichat_stream_next_events` returned, valid until the next call on the same
/// stream or `aichat_stream_free`.
#[repr(C)]
pub struct AichatEvents {
    pub items: *const AichatEvent,
    /// How many events: 0 when none arrived within the wait.
    pub count: usize,
    /// 1 once the completion finished normally: no event follows these.
    pub finished: bool,
}

/// Starts a completion on `client` for its text and returns at once (the library's I/O thread
/// sends the request; the answer is decoded as it is pulled). NULL on failure, with `*error` set; the request is validated here.
/// `cancel` may be NULL.
///
/// # Safety
/// `client` and `cancel` are NULL or unfreed handles; `request_json` is NULL or a
/// NUL-terminated string; `error` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_client_stream_open(
    client: *const AichatClient,
    request_json: *const c_char,
    cancel: *const AichatCancel,
    error: *mut *mut AichatError,
) -> *mut AichatStream {
    // SAFETY: forwarded from this function's contract.
    unsafe { open(client, request_json, cancel, error, Mode::Text) }
}

/// As `aichat_client_stream_open`, for a stream whose events are pulled with
/// `aichat_stream_next_events`.
///
/// # Safety
/// As `aichat_client_stream_open`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_client_stream_open_events(
    client: *const AichatClient,
    request_json: *const c_char,
    cancel: *const AichatCancel,
    error: *mut *mut AichatError,
) -> *mut AichatStream {
    // SAFETY: forwarded from this function's contract.
    unsafe { open(client, request_json, cancel, error, Mode::Events) }
}

/// # Safety
/// As `aichat_client_stream_open`.
unsafe fn open(
    client: *const AichatClient,
    request_json: *const c_char,
    cancel: *const AichatCancel,
    error: *mut *mut AichatError,
    mode: Mode,
) -> *mut AichatStream {
    catch_reporting(error, || {
        // SAFETY: forwarded from this function's contract.
        let client = unsafe { AichatClient::from_ref(client, "client") }?;
        // SAFETY: forwarded from this function's contract.
        let json = unsafe { str_from_c(request_json, "request_json") }?;
        // SAFETY: forwarded from this function's contract.
        let cancel = unsafe { cancel.as_ref() }.map(AichatCancel::token);
        let call = client.inner().start(Request::from_json(json)?, cancel, mode)?;
        let stream = AichatStream { call, text: TextBatch::default(), events: EventBatch::default() };
        Ok(stream.into_raw())
    })
    .unwrap_or(std::ptr::null_mut())
}

/// Waits up to `wait_ms` milliseconds for chunks, then returns in `*chunks` every chunk that is
/// already there, in order (`count` 0 if none arrived in time; `finished` 1 at the normal end).
/// On failure, returns its status with `*error` set, once every chunk that arrived before the
/// failure was returned by earlier calls; later calls return the same status again. `*chunks`
/// is emptied first (count 0, `text` "", `ends` NULL), so a failure leaves no stale pointer.
///
/// # Safety
/// `stream` is NULL or an unfreed stream; `chunks` is NULL or writable; `error` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_stream_next(
    stream: *mut AichatStream,
    wait_ms: u32,
    chunks: *mut AichatChunks,
    error: *mut *mut AichatError,
) -> AichatStatus {
    status_of(catch_reporting(error, || {
        // SAFETY: forwarded from this function's contract.
        let out = unsafe { chunks.as_mut() }.ok_or_else(|| null_argument("chunks"))?;
        // Whatever happens next (a NULL stream too), the caller keeps no pointer from an
        // earlier batch.
        *out = AichatChunks { text: c"".as_ptr(), text_len: 0, ends: std::ptr::null(), count: 0, finished: false };
        // SAFETY: forwarded from this function's contract.
        let stream = unsafe { stream.as_mut() }.ok_or_else(|| null_argument("stream"))?;
        stream.expect_mode(Mode::Text)?;
        let finished = fill(&mut stream.call, &mut stream.text, wait_ms)?;
        let text = &stream.text;
        *out = AichatChunks {
            text: text.text.as_ptr().cast(),
            text_len: text.text.len() - 1,
            ends: text.ends.as_ptr(),
            count: text.ends.len(),
            finished,
        };
        Ok(())
    }))
}

/// Waits up to `wait_ms` milliseconds for events, then returns in `*events` every event that
/// is already there, in order; otherwise as `aichat_stream_next`. For a stream opened with
/// `aichat_client_stream_open_events`.
///
/// # Safety
/// `stream` is NULL or an unfreed stream; `events` is NULL or writable; `error` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_stream_next_events(
    stream: *mut AichatStream,
    wait_ms: u32,
    events: *mut AichatEvents,
    error: *mut *mut AichatError,
) -> AichatStatus {
    status_of(catch_reporting(error, || {
        // SAFETY: forwarded from this function's contract.
        let out = unsafe { events.as_mut() }.ok_or_else(|| null_argument("events"))?;
        *out = AichatEvents { items: std::ptr::null(), count: 0, finished: false };
        // SAFETY: forwarded from this function's contract.
        let stream = unsafe { stream.as_mut() }.ok_or_else(|| null_argument("stream"))?;
        stream.expect_mode(Mode::Events)?;
        let finished = fill(&mut stream.call, &mut stream.events, wait_ms)?;
        let items = &stream.events.items;
        *out = AichatEvents { items: items.as_ptr(), count: items.len(), finished };
        Ok(())
    }))
}

/// A descriptor that is readable while `aichat_stream_next` / `aichat_stream_next_events` may
/// have something to return (answer bytes arrived, decoded items are held, the end, a failure);
/// with it, those calls with `wait_ms` 0 never block. A call made when it is readable returns
/// at once, with the items the new bytes complete: none when they hold only part of one, after
/// which the descriptor is quiet again until more arrive. Owned by the stream: do not read,
/// write or close it; valid until `aichat_stream_free`. -1 with `*error` set if one cannot be
/// made. Level-triggered: it stays readable until the caller has taken everything there is, and
/// after the end or a failure.
///
/// It is one end of a Unix socket pair, so `poll`/`epoll`/`kqueue`, libuv, GLib, Go's poller and
/// asyncio's `add_reader` all accept it; the same descriptor is returned on every call. A
/// cancel through the stream's token, and the call's own timeouts, make it readable at once.
/// Unix only: elsewhere it fails with `AICHAT_ERROR_IO`.
///
/// # Safety
/// `stream` is NULL or an unfreed stream; `error` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_stream_fd(stream: *mut AichatStream, error: *mut *mut AichatError) -> c_int {
    catch_reporting(error, || {
        // SAFETY: forwarded from this function's contract.
        let stream = unsafe { stream.as_ref() }.ok_or_else(|| null_argument("stream"))?;
        stream.call.fd()
    })
    .unwrap_or(-1)
}

/// Stops the request if it is still running and releases the stream. NULL is accepted.
///
/// # Safety
/// `stream` is NULL or an unfreed stream; it must not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_stream_free(stream: *mut AichatStream) {
    // SAFETY: forwarded from this function's contract.
    super::catch_or((), || unsafe { AichatStream::free(stream) })
}

impl AichatStream {
    fn expect_mode(&self, mode: Mode) -> Result<(), Error> {
        if self.call.mode() == mode {
            return Ok(());
        }
        let (opened, next) = match self.call.mode() {
            Mode::Text => ("aichat_client_stream_open", "aichat_stream_next"),
            Mode::Events => ("aichat_client_stream_open_events", "aichat_stream_next_events"),
        };
        Err(Error::new(ErrorKind::InvalidArgument, format!("the stream was opened with {opened}: pull it with {next}")))
    }
}

/// What one pull returns.
trait Batch {
    fn clear(&mut self);
    /// Takes every item the call decoded.
    fn take(&mut self, queue: &mut Pulled);
    /// Makes what was gathered readable from C.
    fn seal(&mut self);
}

/// Replaces `batch` with what arrives within `wait_ms`. Returns whether the completion
/// finished. A failure is reported once the batch that preceded it was returned, and again by
/// every later call (the call keeps how it ended: see `Call::pull`).
fn fill(call: &mut Call, batch: &mut impl Batch, wait_ms: u32) -> Result<bool, Error> {
    batch.clear();
    let result = call.pull(Some(Duration::from_millis(wait_ms.into())), |queue| batch.take(queue));
    batch.seal();
    result
}

/// Chunks of text, one after the other, with their end offsets.
#[derive(Default)]
struct TextBatch {
    text: Vec<u8>,
    ends: Vec<usize>,
}

impl Batch for TextBatch {
    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    fn take(&mut self, queue: &mut Pulled) {
        // Swapped, not copied: the call's buffers come here, these go back to it.
        queue.take_text(&mut self.text, &mut self.ends);
    }

    fn seal(&mut self) {
        self.text.push(0);
    }
}

/// Events, and the C views of them once sealed; the buffers are reused from batch to batch.
#[derive(Default)]
struct EventBatch {
    events: Vec<Event<'static>>,
    buffers: Vec<EventBuffers>,
    items: Vec<AichatEvent>,
}

impl Batch for EventBatch {
    fn clear(&mut self) {
        // RESULT, the last event of a stream so the last of its batch, holds the whole answer:
        // it goes with its batch rather than with the stream.
        if self.items.last().is_some_and(|e| e.kind == AichatEventKind::AICHAT_EVENT_RESULT) {
            self.buffers[self.items.len() - 1].forget_result();
        }
        self.events.clear();
        self.items.clear();
    }

    fn take(&mut self, queue: &mut Pulled) {
        queue.take_events(&mut self.events);
    }

    fn seal(&mut self) {
        // Sized first: the views point into the buffers, which must not move afterwards.
        if self.buffers.len() < self.events.len() {
            self.buffers.resize_with(self.events.len(), EventBuffers::default);
        }
        self.items.clear();
        self.items.extend(self.events.iter().zip(&mut self.buffers).map(|(e, b)| b.view(e)));
    }
}
