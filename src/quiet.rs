//! Panics in the library print nothing. A panic is a bug; at the C boundary it becomes
//! `AICHAT_ERROR_INTERNAL` (`crate::ffi::catch_reporting`), but before unwinding starts Rust
//! runs the process's panic hook, and the default hook writes the message (and, under
//! `RUST_BACKTRACE`, a backtrace) to stderr: the host's stderr, which the library never writes.
//!
//! The panic hook is one per process, so the library cannot have its own. On its first use it
//! wraps whatever hook is installed (the default one, or a Rust host's own): the wrapper stays
//! silent for a panic on a thread that is running library code (inside an exported function, or
//! one of the library's own threads) and hands every other panic to the hook it wrapped, so a
//! host's panics are reported exactly as before. A host that installs a hook after the library's
//! first call replaces the wrapper; library panics then go to that hook, as the host chose. The
//! silenced panic's message and place are kept for the error the boundary makes of it.

use std::cell::{Cell, RefCell};
use std::sync::Once;

thread_local! {
    /// Whether this thread is running library code (not a host callback).
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Where the last silenced panic on this thread happened (`file:line`).
    static PLACE: RefCell<String> = const { RefCell::new(String::new()) };
}

static WRAPPED: Once = Once::new();

fn wrap_the_hook() {
    // The hook can't be changed by a thread that is unwinding (a host calling in from a `Drop`):
    // the next call wraps it.
    if std::thread::panicking() {
        return;
    }
    WRAPPED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let place = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
                let _ = PLACE.try_with(|p| p.try_borrow_mut().map(|mut p| *p = place));
            } else {
                previous(info)
            }
        }));
    });
}

/// Runs `body` as library code: a panic in it prints nothing.
pub(crate) fn run<T>(body: impl FnOnce() -> T) -> T {
    wrap_the_hook();
    let _was = Mark(QUIET.with(|q| q.replace(true)));
    body()
}

/// Runs `body`, a call into the host (a C callback), as host code: its panics (a Rust host's
/// callback that panics aborts at its own `extern "C"` edge) are reported by the host's hook.
pub(crate) fn host<T>(body: impl FnOnce() -> T) -> T {
    let _was = Mark(QUIET.with(|q| q.replace(false)));
    body()
}

/// Marks the calling thread, one the library started, as running library code for good.
pub(crate) fn library_thread() {
    wrap_the_hook();
    QUIET.with(|q| q.set(true));
}

/// Where the last silenced panic on this thread happened, "" if unknown.
pub(crate) fn last_place() -> String {
    PLACE.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

/// Restores the thread's previous mark, on unwinding too.
struct Mark(bool);

impl Drop for Mark {
    fn drop(&mut self) {
        let was = self.0;
        QUIET.with(|q| q.set(was));
    }
}
