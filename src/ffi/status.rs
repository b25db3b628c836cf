//! Status codes, their names, and the library version.

use std::ffi::{c_char, c_int};

use crate::error::ErrorKind;

pub const AICHAT_VERSION_MAJOR: u32 = 0;
pub const AICHAT_VERSION_MINOR: u32 = 1;
pub const AICHAT_VERSION_PATCH: u32 = 0;

/// The result of a call. The numbers are stable: a code is never renumbered or reused.
/// A program that stores or receives a status as an integer should pass unknown values to
/// `aichat_status_name`, which names them `"AICHAT_UNKNOWN"`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AichatStatus {
    AICHAT_OK = 0,
    /// NULL where a pointer is required, or a string that is not UTF-8.
    AICHAT_ERROR_INVALID_ARGUMENT = 1,
    /// The JSON does not parse or does not fit the request schema.
    AICHAT_ERROR_INVALID_REQUEST = 2,
    /// DNS, connection refused, TLS handshake, proxy.
    AICHAT_ERROR_CONNECT = 3,
    /// Connect, idle or whole-call timeout.
    AICHAT_ERROR_TIMEOUT = 4,
    /// The server answered with a non-2xx status (see `aichat_error_http_status`).
    AICHAT_ERROR_HTTP_STATUS = 5,
    /// The answer is not what the protocol says: bad JSON, missing field, truncated.
    AICHAT_ERROR_PROTOCOL = 6,
    /// A well-formed answer that reports a failure (aichat `"response": false`).
    AICHAT_ERROR_SERVER = 7,
    /// The callback returned non-zero, or the cancel token fired.
    AICHAT_ERROR_CANCELLED = 8,
    /// The connection broke mid-transfer.
    AICHAT_ERROR_IO = 9,
    /// The answer exceeded `max_response_bytes`, or (event API) has more than 128 choices or
    /// 4,096 tool calls in all.
    AICHAT_ERROR_TOO_LARGE = 10,
    /// A bug in the library (a caught panic). Please report it.
    AICHAT_ERROR_INTERNAL = 11,
}

const NAMES: [&std::ffi::CStr; 12] = [
    c"AICHAT_OK",
    c"AICHAT_ERROR_INVALID_ARGUMENT",
    c"AICHAT_ERROR_INVALID_REQUEST",
    c"AICHAT_ERROR_CONNECT",
    c"AICHAT_ERROR_TIMEOUT",
    c"AICHAT_ERROR_HTTP_STATUS",
    c"AICHAT_ERROR_PROTOCOL",
    c"AICHAT_ERROR_SERVER",
    c"AICHAT_ERROR_CANCELLED",
    c"AICHAT_ERROR_IO",
    c"AICHAT_ERROR_TOO_LARGE",
    c"AICHAT_ERROR_INTERNAL",
];

impl From<ErrorKind> for AichatStatus {
    fn from(kind: ErrorKind) -> Self {
        use AichatStatus::*;
        match kind {
            ErrorKind::InvalidArgument => AICHAT_ERROR_INVALID_ARGUMENT,
            ErrorKind::InvalidRequest => AICHAT_ERROR_INVALID_REQUEST,
            ErrorKind::Connect => AICHAT_ERROR_CONNECT,
            ErrorKind::Timeout => AICHAT_ERROR_TIMEOUT,
            ErrorKind::HttpStatus => AICHAT_ERROR_HTTP_STATUS,
            ErrorKind::Protocol => AICHAT_ERROR_PROTOCOL,
            ErrorKind::Server => AICHAT_ERROR_SERVER,
            ErrorKind::Cancelled => AICHAT_ERROR_CANCELLED,
            ErrorKind::Io => AICHAT_ERROR_IO,
            ErrorKind::TooLarge => AICHAT_ERROR_TOO_LARGE,
            ErrorKind::Internal => AICHAT_ERROR_INTERNAL,
        }
    }
}

/// The library version, `"MAJOR.MINOR.PATCH"`, a static string (never freed).
#[unsafe(no_mangle)]
pub extern "C" fn aichat_version() -> *const c_char {
    c"0.1.0".as_ptr()
}

/// The name of a status code, e.g. `"AICHAT_ERROR_TIMEOUT"`, or `"AICHAT_UNKNOWN"` for any
/// other integer. A static string (never freed).
#[unsafe(no_mangle)]
pub extern "C" fn aichat_status_name(status: c_int) -> *const c_char {
    usize::try_from(status).ok().and_then(|i| NAMES.get(i)).map_or(c"AICHAT_UNKNOWN".as_ptr(), |name| name.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn name(status: c_int) -> &'static str {
        // SAFETY: aichat_status_name returns static NUL-terminated strings.
        unsafe { CStr::from_ptr(aichat_status_name(status)) }.to_str().unwrap()
    }

    #[test]
    fn names_match_the_numbers() {
        assert_eq!(name(AichatStatus::AICHAT_OK as c_int), "AICHAT_OK");
        assert_eq!(name(AichatStatus::AICHAT_ERROR_TIMEOUT as c_int), "AICHAT_ERROR_TIMEOUT");
        assert_eq!(name(AichatStatus::AICHAT_ERROR_INTERNAL as c_int), "AICHAT_ERROR_INTERNAL");
        assert_eq!(name(12), "AICHAT_UNKNOWN");
        assert_eq!(name(-1), "AICHAT_UNKNOWN");
        assert_eq!(name(c_int::MIN), "AICHAT_UNKNOWN");
    }

    #[test]
    fn version_matches_the_crate() {
        // SAFETY: static string.
        let v = unsafe { CStr::from_ptr(aichat_version()) }.to_str().unwrap();
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        assert_eq!(v, format!("{AICHAT_VERSION_MAJOR}.{AICHAT_VERSION_MINOR}.{AICHAT_VERSION_PATCH}"));
    }
}
