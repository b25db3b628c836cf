//! `AichatError`: what a failed call reports, owned by the caller until `aichat_error_free`.

use std::ffi::{CString, c_char};

use super::{AichatStatus, BoxedHandle, catch_or};
use crate::error::Error;

/// A failed call's status, message and HTTP status. Opaque; read it with the accessors below and
/// release it with `aichat_error_free`. Not tied to a thread.
pub struct AichatError {
    status: AichatStatus,
    message: CString,
    http_status: u16,
}

impl BoxedHandle for AichatError {}

impl From<Error> for AichatError {
    fn from(e: Error) -> Self {
        // Messages are built by the library and never contain NUL; drop any to be sure.
        let message = CString::new(e.message().replace('\0', "")).unwrap_or_default();
        AichatError { status: e.kind().into(), message, http_status: e.http_status() }
    }
}

/// The status of the failed call. `AICHAT_ERROR_INVALID_ARGUMENT` if `error` is NULL.
///
/// # Safety
/// `error` is NULL or an unfreed error from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_error_code(error: *const AichatError) -> AichatStatus {
    // SAFETY: forwarded from this function's contract.
    catch_or(AichatStatus::AICHAT_ERROR_INTERNAL, || match unsafe { AichatError::from_ref(error, "error") } {
        Ok(e) => e.status,
        Err(_) => AichatStatus::AICHAT_ERROR_INVALID_ARGUMENT,
    })
}

/// A one-line UTF-8 message for a person: what failed and, where known, which field, host or
/// server text. Valid until `aichat_error_free(error)`. `""` (static) if `error` is NULL.
///
/// # Safety
/// `error` is NULL or an unfreed error from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_error_message(error: *const AichatError) -> *const c_char {
    // SAFETY: forwarded from this function's contract.
    catch_or(c"".as_ptr(), || match unsafe { AichatError::from_ref(error, "error") } {
        Ok(e) => e.message.as_ptr(),
        Err(_) => c"".as_ptr(),
    })
}

/// The HTTP status of the answer behind the error; 0 when no HTTP answer arrived (or `error` is
/// NULL).
///
/// # Safety
/// `error` is NULL or an unfreed error from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_error_http_status(error: *const AichatError) -> u16 {
    // SAFETY: forwarded from this function's contract.
    catch_or(0, || unsafe { AichatError::from_ref(error, "error") }.map_or(0, |e| e.http_status))
}

/// Releases an error. NULL is accepted and ignored.
///
/// # Safety
/// `error` is NULL or an unfreed error from this library; it must not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_error_free(error: *mut AichatError) {
    // SAFETY: forwarded from this function's contract.
    catch_or((), || unsafe { AichatError::free(error) })
}

#[cfg(test)]
impl AichatError {
    pub(crate) fn message(&self) -> &str {
        self.message.to_str().unwrap_or("")
    }
}
