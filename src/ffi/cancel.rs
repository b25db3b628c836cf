//! `AichatCancel`: a token that stops the calls it is passed to, triggered from any thread.

use super::{BoxedHandle, catch_or};
use crate::cancel::CancelToken;

/// A cancel token. Thread-safe: trigger it from any thread while calls that were given it run
/// on others. Once triggered it stays triggered; use a new token for new calls.
pub struct AichatCancel(CancelToken);

impl BoxedHandle for AichatCancel {}

impl AichatCancel {
    pub(crate) fn token(&self) -> &CancelToken {
        &self.0
    }
}

/// A new, untriggered token, released with `aichat_cancel_free`. NULL only if allocation fails.
#[unsafe(no_mangle)]
pub extern "C" fn aichat_cancel_new() -> *mut AichatCancel {
    catch_or(std::ptr::null_mut(), || AichatCancel(CancelToken::new()).into_raw())
}

/// Makes every running and future call given this token return `AICHAT_ERROR_CANCELLED` at
/// once, in every phase (looking the name up, connecting, TLS, writing the request, waiting,
/// reading), and closes their connections. Any thread, any time; idempotent. NULL is ignored.
///
/// # Safety
/// `cancel` is NULL or an unfreed token.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_cancel_trigger(cancel: *const AichatCancel) {
    // SAFETY: forwarded from this function's contract.
    catch_or((), || {
        if let Ok(c) = unsafe { AichatCancel::from_ref(cancel, "cancel") } {
            c.0.trigger()
        }
    })
}

/// Releases a token. NULL is accepted. Free it only after every call given it has returned.
///
/// # Safety
/// `cancel` is NULL or an unfreed token no running call still uses.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aichat_cancel_free(cancel: *mut AichatCancel) {
    // SAFETY: forwarded from this function's contract.
    catch_or((), || unsafe { AichatCancel::free(cancel) })
}
