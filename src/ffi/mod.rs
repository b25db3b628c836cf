//! The C ABI. One module per C object; every exported function goes through the helpers below,
//! so the panic boundary, NULL checks, string conversion and `AichatError **` reporting are
//! written once. The C conventions these implement are documented in the README.

mod abi;
mod cancel;
mod client;
mod completion;
mod error;
mod event;
mod result;
mod status;
mod stream;

pub use abi::aichat_abi_json;
pub use cancel::*;
pub use client::*;
pub use completion::*;
pub use error::*;
pub use event::{AichatEvent, AichatEventCallback, AichatEventKind, AichatUsage};
pub use result::{AichatChoice, AichatResult, AichatToolCall, aichat_event_result};
pub use status::*;
pub use stream::*;

use std::any::Any;
use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use crate::error::{Error, ErrorKind};

/// An opaque C handle owned through a `Box`: created with `into_raw`, borrowed with `from_ref`,
/// released with `free`. Tying the three to the type means a handle can't be freed as another.
pub(crate) trait BoxedHandle: Sized {
    fn into_raw(self) -> *mut Self {
        Box::into_raw(Box::new(self))
    }

    /// # Safety
    /// `ptr` is NULL or came from `into_raw` of this type and was not freed.
    unsafe fn from_ref<'a>(ptr: *const Self, name: &str) -> Result<&'a Self, Error> {
        // SAFETY: per this function's contract, a non-NULL pointer is a live handle.
        unsafe { ptr.as_ref() }.ok_or_else(|| null_argument(name))
    }

    /// # Safety
    /// `ptr` is NULL or came from `into_raw` of this type and was not freed.
    unsafe fn free(ptr: *mut Self) {
        if !ptr.is_null() {
            // SAFETY: per this function's contract, the pointer is an unfreed Box of Self.
            drop(unsafe { Box::from_raw(ptr) });
        }
    }
}

pub(crate) fn null_argument(name: &str) -> Error {
    Error::new(ErrorKind::InvalidArgument, format!("`{name}` is NULL"))
}

/// A string handed to C: its bytes and the NUL C expects after them, in a buffer reused from one
/// string to the next (a stream costs no allocation per piece). The buffer only grows, and is
/// kept at its full length, so a copy is one `memcpy` and a store.
#[derive(Default)]
pub(crate) struct CText(Vec<u8>);

impl CText {
    /// `s` as a C string, valid until the next call; a static "" when empty.
    #[inline]
    pub(crate) fn of(&mut self, s: &str) -> *const c_char {
        let n = s.len();
        if n == 0 {
            return c"".as_ptr();
        }
        if self.0.len() <= n {
            self.0.resize(n + 1, 0);
        }
        self.0[..n].copy_from_slice(s.as_bytes());
        self.0[n] = 0;
        self.0.as_ptr().cast()
    }
}

/// Borrows a NUL-terminated C string as UTF-8.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string valid for the returned lifetime.
pub(crate) unsafe fn str_from_c<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(null_argument(name));
    }
    // SAFETY: non-NULL and NUL-terminated per this function's contract.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("`{name}` is not valid UTF-8 (bad byte at offset {})", e.valid_up_to()),
        )
    })
}

/// Runs the body of an exported function that has no error out-parameter; a panic gives
/// `fallback`.
pub(crate) fn catch_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Runs the body of an exported function that reports through `AichatError **error`: on
/// success `*error` becomes NULL, on failure (a panic included) a new error the caller frees.
/// Returns the body's value or the failure's status.
pub(crate) fn catch_reporting<T>(
    error_out: *mut *mut AichatError,
    body: impl FnOnce() -> Result<T, Error>,
) -> Result<T, AichatStatus> {
    let result = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| Err(panic_error(&*panic)));
    let (value, error) = match result {
        Ok(value) => (Ok(value), ptr::null_mut()),
        Err(e) => (Err(AichatStatus::from(e.kind())), AichatError::from(e).into_raw()),
    };
    if error_out.is_null() {
        // SAFETY: `error` is NULL or was just made by `into_raw` and is owned here.
        unsafe { AichatError::free(error) };
    } else {
        // SAFETY: the caller passed a writable `AichatError *` location (README: errors).
        unsafe { *error_out = error };
    }
    value
}

/// The status of a `catch_reporting` call that returns no value.
pub(crate) fn status_of(result: Result<(), AichatStatus>) -> AichatStatus {
    match result {
        Ok(()) => AichatStatus::AICHAT_OK,
        Err(status) => status,
    }
}

fn panic_error(panic: &(dyn Any + Send)) -> Error {
    let what = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown panic");
    Error::new(ErrorKind::Internal, format!("internal error (a bug in aichat, please report it): {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_c_text_is_the_string_and_a_nul_at_every_length() {
        let mut c = CText::default();
        for n in (0..40).chain([100, 3, 17, 0, 9]) {
            let s: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            let p = c.of(&s);
            // SAFETY: `of` returns a NUL-terminated string valid until the next call.
            assert_eq!(unsafe { CStr::from_ptr(p) }.to_str().unwrap(), s);
        }
    }

    #[test]
    fn a_panic_becomes_internal_with_an_error() {
        let mut error = ptr::null_mut();
        let result: Result<(), _> = catch_reporting(&mut error, || panic!("boom"));
        assert_eq!(result, Err(AichatStatus::AICHAT_ERROR_INTERNAL));
        // SAFETY: `error` was just set by catch_reporting.
        let e = unsafe { &*error };
        assert_eq!(AichatStatus::from(crate::error::ErrorKind::Internal), AichatStatus::AICHAT_ERROR_INTERNAL);
        assert!(e.message().contains("boom"));
        // SAFETY: owned here, freed once.
        unsafe { AichatError::free(error) };
    }

    #[test]
    fn a_panic_with_null_error_out_is_still_caught() {
        let result: Result<(), _> = catch_reporting(ptr::null_mut(), || panic!("boom"));
        assert_eq!(result, Err(AichatStatus::AICHAT_ERROR_INTERNAL));
        assert_eq!(catch_or(7, || panic!("boom")), 7);
    }

    #[test]
    fn success_sets_error_out_to_null() {
        let mut error: *mut AichatError = ptr::dangling_mut();
        assert_eq!(catch_reporting(&mut error, || Ok(5)), Ok(5));
        assert!(error.is_null());
    }
}
