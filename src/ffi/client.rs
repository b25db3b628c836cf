//! `AichatClient`: client-wide defaults and a shared connection pool.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;

use super::event::{AichatEvent, EventBuffers};
use super::{
    AichatCancel, AichatError, AichatEventCallback, AichatStatus, BoxedHandle, CText, catch_reporting, null_argument,
    status_of, str_from_c,
};
use crate::answer::{NulEventSink, Piece};
use crate::client::Client;
use crate::error::Error;
use crate::event::Event;
use crate::request::Request;

/// Receives one chunk of completion text. `chunk` is UTF-8, NUL-terminated, `len` bytes long
/// without the NUL (`len > 0`), never splits a UTF-8 sequence, and is valid only during the
/// callback. Return 0 to go on, non-zero to stop the call (`AICHAT_ERROR_CANCELLED`).
pub type AichatChunkCallback =
    Option<unsafe extern "C" fn(chunk: *const c_char, len: usize, user_data: *mut c_void) -> c_int>;

/// A client: defaults for its calls and one connection pool. Thread-safe: any number of threads
/// may run calls on one client at once.
pub struct AichatClient(Client);

impl BoxedHandle for AichatClient {}

impl AichatClient {
    pub(crate) fn inner(&self) -> &Client {
        &self.0
    }
}

/// A new client whose calls take their unset request fields from `options_json` (the request
/// object's fields without `messages`; NULL for library defaults). NULL on failure, with
/// `*error` set. Release with `aichat_client_free`.
///
/// # Safety
/// `options_json` is NULL or a NUL-terminated string; `error` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_client_new(
    options_json: *const c_char,
    error: *mut *mut AichatError,
) -> *mut AichatClient {
    catch_reporting(error, || {
        let options = if options_json.is_null() {
            None
        } else {
            // SAFETY: non-NULL, NUL-terminated per this function's contract.
            Some(unsafe { str_from_c(options_json, "options_json") }?)
        };
        Ok(AichatClient(Client::from_options_json(options)?).into_raw())
    })
    .unwrap_or(ptr::null_mut())
}

/// Runs one completion on `client`, calling `on_chunk` on this thread for each chunk as it
/// arrives, and returns once the answer is complete, failed, or was stopped. `cancel` may be
/// NULL.
///
/// # Safety
/// `client` and `cancel` are NULL or unfreed handles; `request_json` is NULL or a
/// NUL-terminated string; `on_chunk` is NULL or a valid function; `error` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_client_create_completion(
    client: *const AichatClient,
    request_json: *const c_char,
    on_chunk: AichatChunkCallback,
    user_data: *mut c_void,
    cancel: *const AichatCancel,
    error: *mut *mut AichatError,
) -> AichatStatus {
    status_of(catch_reporting(error, || {
        // SAFETY: forwarded from this function's contract.
        let client = unsafe { AichatClient::from_ref(client, "client") }?;
        // SAFETY: forwarded from this function's contract.
        let cancel = unsafe { cancel.as_ref() }.map(AichatCancel::token);
        // SAFETY: forwarded from this function's contract.
        unsafe { complete(&client.0, request_json, on_chunk, user_data, cancel) }
    }))
}

/// The shared body of `aichat_client_create_completion` and `aichat_create_completion`.
///
/// # Safety
/// As `aichat_client_create_completion`.
pub(crate) unsafe fn complete(
    client: &Client,
    request_json: *const c_char,
    on_chunk: AichatChunkCallback,
    user_data: *mut c_void,
    cancel: Option<&crate::cancel::CancelToken>,
) -> Result<(), Error> {
    // SAFETY: forwarded from this function's contract.
    let json = unsafe { str_from_c(request_json, "request_json") }?;
    let on_chunk = on_chunk.ok_or_else(|| null_argument("on_chunk"))?;
    let request = Request::from_json(json)?;
    let mut c_text = CText::default();
    client.create_completion(request, cancel, &mut |text: &str| {
        let chunk = c_text.of(text);
        // SAFETY: the caller vouched for `on_chunk`; the text is NUL-terminated and outlives the call.
        unsafe { on_chunk(chunk, text.len(), user_data) == 0 }
    })
}

/// Runs one completion on `client` as `aichat_client_create_completion` does, calling
/// `on_event` on this thread for every event of the answer (`AichatEventKind`) as it arrives:
/// RESPONSE first, MESSAGE last (then RESULT when the request set `result`).
///
/// # Safety
/// `client` and `cancel` are NULL or unfreed handles; `request_json` is NULL or a
/// NUL-terminated string; `on_event` is NULL or a valid function; `error` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_client_create_completion_events(
    client: *const AichatClient,
    request_json: *const c_char,
    on_event: AichatEventCallback,
    user_data: *mut c_void,
    cancel: *const AichatCancel,
    error: *mut *mut AichatError,
) -> AichatStatus {
    status_of(catch_reporting(error, || {
        // SAFETY: forwarded from this function's contract.
        let client = unsafe { AichatClient::from_ref(client, "client") }?;
        // SAFETY: forwarded from this function's contract.
        let json = unsafe { str_from_c(request_json, "request_json") }?;
        let on_event = on_event.ok_or_else(|| null_argument("on_event"))?;
        // SAFETY: forwarded from this function's contract.
        let cancel = unsafe { cancel.as_ref() }.map(AichatCancel::token);
        let request = Request::from_json(json)?;
        let mut sink = CEvents { buffers: EventBuffers::default(), on_event, user_data };
        client.0.create_completion_events_with_nul(request, cancel, &mut sink)
    }))
}

/// Hands each event to the C callback as an `AichatEvent`.
struct CEvents {
    buffers: EventBuffers,
    on_event: unsafe extern "C" fn(event: *const AichatEvent, user_data: *mut c_void) -> c_int,
    user_data: *mut c_void,
}

impl CEvents {
    fn call(&self, event: &AichatEvent) -> bool {
        // SAFETY: the caller vouched for `on_event`; the event and its strings outlive the call.
        unsafe { (self.on_event)(event, self.user_data) == 0 }
    }
}

impl NulEventSink for CEvents {
    #[inline]
    fn piece(&mut self, piece: Piece, choice: u32, with_nul: &[u8]) -> bool {
        self.call(&EventBuffers::piece_with_nul(piece, choice, with_nul))
    }

    fn event(&mut self, event: &Event<'_>, with_nul: Option<&[u8]>) -> bool {
        let c_event = self.buffers.view_with_nul(event, with_nul);
        self.call(&c_event)
    }
}

/// Releases a client. NULL is accepted. Free it only after every call on it has returned.
///
/// # Safety
/// `client` is NULL or an unfreed client no running call still uses.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_client_free(client: *mut AichatClient) {
    // SAFETY: forwarded from this function's contract.
    super::catch_or((), || unsafe { AichatClient::free(client) })
}
