//! `AichatStream`: a completion pulled in batches instead of pushed through a callback, for
//! callers whose callbacks are expensive (an FFI relay to another thread, an event loop).

use std::ffi::c_char;
use std::time::Duration;

use super::{
    AichatCancel, AichatClient, AichatError, AichatStatus, BoxedHandle, catch_reporting, status_of, str_from_c,
};
use crate::client::{Call, Next};
use crate::error::Error;
use crate::request::Request;

/// Most chunks, and about the most bytes, one `aichat_stream_next` returns.
const BATCH_CHUNKS: usize = 4096;
const BATCH_BYTES: usize = 1024 * 1024;

/// A running completion whose chunks are pulled with `aichat_stream_next`. Use it from one
/// thread at a time (it may move between threads); cancel it from any thread through the token
/// it was opened with. Release it with `aichat_stream_free`, which also stops the request.
pub struct AichatStream {
    call: Call,
    text: Vec<u8>,
    ends: Vec<usize>,
    /// An error that followed chunks in the same batch: reported by the next call.
    deferred: Option<Error>,
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

/// Starts a completion on `client` and returns at once (the request runs on a library thread).
/// NULL on failure, with `*error` set; the request is validated here. `cancel` may be NULL.
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
    catch_reporting(error, || {
        // SAFETY: forwarded from this function's contract.
        let client = unsafe { AichatClient::from_ref(client, "client") }?;
        // SAFETY: forwarded from this function's contract.
        let json = unsafe { str_from_c(request_json, "request_json") }?;
        // SAFETY: forwarded from this function's contract.
        let cancel = unsafe { cancel.as_ref() }.map(AichatCancel::token);
        let call = client.inner().start(Request::from_json(json)?, cancel)?;
        Ok(AichatStream { call, text: Vec::new(), ends: Vec::new(), deferred: None }.into_raw())
    })
    .unwrap_or(std::ptr::null_mut())
}

/// Waits up to `wait_ms` milliseconds for chunks, then returns in `*chunks` every chunk that is
/// already there, in order (`count` 0 if none arrived in time; `finished` 1 at the normal end).
/// On failure, returns its status with `*error` set, once every chunk that arrived before the
/// failure was returned by earlier calls; later calls return the same status again.
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
        let stream = unsafe { stream.as_mut() }.ok_or_else(|| super::null_argument("stream"))?;
        // SAFETY: forwarded from this function's contract.
        let out = unsafe { chunks.as_mut() }.ok_or_else(|| super::null_argument("chunks"))?;
        let finished = stream.fill(Duration::from_millis(wait_ms.into()))?;
        *out = AichatChunks {
            text: stream.text.as_ptr().cast(),
            text_len: stream.text.len() - 1,
            ends: stream.ends.as_ptr(),
            count: stream.ends.len(),
            finished,
        };
        Ok(())
    }))
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
    /// Replaces the batch with what arrives within `wait` and whatever is queued right after.
    /// Returns whether the completion finished. A failure is reported once the batch that
    /// preceded it was returned, and again by every later call.
    fn fill(&mut self, wait: Duration) -> Result<bool, Error> {
        self.text.clear();
        self.ends.clear();
        let result = match &self.deferred {
            Some(e) => Err(e.clone()),
            None => self.collect(wait),
        };
        self.text.push(0);
        result.or_else(|e| {
            self.deferred = Some(e.clone());
            if self.ends.is_empty() { Err(e) } else { Ok(false) }
        })
    }

    fn collect(&mut self, wait: Duration) -> Result<bool, Error> {
        let mut next = self.call.next(Some(wait))?;
        loop {
            match next {
                Next::Chunk(chunk) => {
                    self.text.extend_from_slice(chunk.as_str().as_bytes());
                    self.ends.push(self.text.len());
                }
                Next::Pending => return Ok(false),
                Next::End => return Ok(true),
            }
            if self.ends.len() >= BATCH_CHUNKS || self.text.len() >= BATCH_BYTES {
                return Ok(false);
            }
            next = self.call.next(Some(Duration::ZERO))?;
        }
    }
}
