//! `aichat_create_completion`: the one-shot call on a process-wide default client.

use std::ffi::{c_char, c_void};
use std::sync::OnceLock;

use super::client::complete;
use super::{AichatChunkCallback, AichatError, AichatStatus, catch_reporting, status_of};
use crate::client::Client;

/// Created on first use and kept for the life of the process, so one-shot calls reuse
/// connections.
fn default_client() -> &'static Client {
    static DEFAULT: OnceLock<Client> = OnceLock::new();
    DEFAULT.get_or_init(Client::default)
}

/// Runs one completion on the process-wide default client (library defaults, created on first
/// use), calling `on_chunk` on this thread for each chunk. Same as
/// `aichat_client_create_completion` without a client or cancel token.
///
/// # Safety
/// `request_json` is NULL or a NUL-terminated string; `on_chunk` is NULL or a valid function;
/// `error` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_create_completion(
    request_json: *const c_char,
    on_chunk: AichatChunkCallback,
    user_data: *mut c_void,
    error: *mut *mut AichatError,
) -> AichatStatus {
    // SAFETY: forwarded from this function's contract.
    status_of(catch_reporting(error, || unsafe { complete(default_client(), request_json, on_chunk, user_data, None) }))
}
