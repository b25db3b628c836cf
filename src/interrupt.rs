//! Stopping a call from outside while it waits on the network: the cancel token, or the caller
//! abandoning the call. ureq's reads and writes block for as long as their timeouts, so the
//! network layer below TLS (`crate::net`) waits in short slices and looks at the current call's
//! [`Stop`] between them. The call makes its `Stop` current on its thread with [`enter`];
//! connections come from a shared pool, so the `Stop` can't live in the connection itself.
//!
//! What this does not reach: the TCP connect and the DNS lookup, which block until they finish
//! or `connect_timeout_ms` passes.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::cancel::CancelToken;
use crate::error::Error;

/// Longest a blocked read or write goes without looking at the current call's `Stop`.
pub(crate) const SLICE: Duration = Duration::from_millis(5);

/// Why a call should stop: its cancel token fired, or its caller abandoned it.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    abandoned: Arc<AtomicBool>,
    cancel: Option<CancelToken>,
}

impl Stop {
    pub fn new(cancel: Option<CancelToken>) -> Stop {
        Stop { abandoned: Arc::default(), cancel }
    }

    /// The caller no longer wants the answer (it returned, or freed the stream).
    /// Wakes `waker` when the cancel token (if any) fires.
    pub(crate) fn on_cancel(&self, waker: std::sync::Weak<dyn crate::cancel::Wake>) {
        if let Some(c) = &self.cancel {
            c.on_trigger(waker)
        }
    }

    pub fn abandon(&self) {
        self.abandoned.store(true, Ordering::Release);
    }

    /// The error to end the call with, once it should stop.
    pub fn reason(&self) -> Option<Error> {
        if self.cancel.as_ref().is_some_and(CancelToken::is_triggered) {
            Some(Error::cancelled("cancelled by the cancel token"))
        } else if self.abandoned.load(Ordering::Acquire) {
            Some(Error::cancelled("the call was abandoned"))
        } else {
            None
        }
    }

    fn is_set(&self) -> bool {
        self.cancel.as_ref().is_some_and(CancelToken::is_triggered) || self.abandoned.load(Ordering::Acquire)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Stop>> = const { RefCell::new(None) };
    /// Run before this thread waits for network input (see [`before_wait`]).
    static BEFORE_WAIT: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Runs `f` each time this thread is about to wait for network input, until the returned guard
/// is dropped: a pulled call hands over the events it gathered then, so none is held back while
/// the thread waits.
pub(crate) fn on_wait(f: Rc<dyn Fn()>) -> WaitHook {
    WaitHook(BEFORE_WAIT.with(|b| b.replace(Some(f))))
}

pub(crate) struct WaitHook(Option<Rc<dyn Fn()>>);

impl Drop for WaitHook {
    fn drop(&mut self) {
        BEFORE_WAIT.with(|b| *b.borrow_mut() = self.0.take());
    }
}

/// Called by the transport before it waits for input.
pub(crate) fn before_wait() {
    if let Some(f) = BEFORE_WAIT.with(|b| b.borrow().clone()) {
        f()
    }
}

/// Makes `stop` the current call's on this thread until the returned guard drops.
pub fn enter(stop: &Stop) -> Scope {
    let previous = CURRENT.with(|c| c.replace(Some(stop.clone())));
    Scope(previous)
}

pub struct Scope(Option<Stop>);

impl Drop for Scope {
    fn drop(&mut self) {
        CURRENT.with(|c| *c.borrow_mut() = self.0.take());
    }
}

/// `Some(set?)` when a call on this thread has a `Stop`.
pub(crate) fn current_is_set() -> Option<bool> {
    CURRENT.with(|c| c.borrow().as_ref().map(Stop::is_set))
}

/// Whether the call running on this thread should stop now.
pub(crate) fn stop_is_set() -> bool {
    current_is_set() == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_names_the_cause() {
        let token = CancelToken::new();
        let stop = Stop::new(Some(token.clone()));
        assert!(stop.reason().is_none());
        token.trigger();
        assert_eq!(stop.reason().unwrap().message(), "cancelled by the cancel token");
        let stop = Stop::new(None);
        stop.abandon();
        assert_eq!(stop.reason().unwrap().message(), "the call was abandoned");
    }

    #[test]
    fn scopes_nest_and_restore() {
        assert_eq!(current_is_set(), None);
        let outer = Stop::new(None);
        let _a = enter(&outer);
        assert_eq!(current_is_set(), Some(false));
        {
            let inner = Stop::new(None);
            inner.abandon();
            let _b = enter(&inner);
            assert_eq!(current_is_set(), Some(true));
        }
        assert_eq!(current_is_set(), Some(false));
    }
}
