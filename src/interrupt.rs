//! Stopping a call from outside while it waits on the network: the cancel token, or the caller
//! abandoning the call. ureq's reads block for as long as their timeout, so the transport below
//! TLS waits in short slices and looks at the current call's [`Stop`] between them. The call
//! makes its `Stop` current on its thread with [`enter`]; connections come from a shared pool,
//! so the `Stop` can't live in the connection itself.
//!
//! Writes are sliced by the TCP transport itself (`crate::tcp`), which owns the socket.
//!
//! What this does not reach: the TCP connect and the DNS lookup, which block until they finish
//! or `connect_timeout_ms` passes.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

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
fn current_is_set() -> Option<bool> {
    CURRENT.with(|c| c.borrow().as_ref().map(Stop::is_set))
}

/// Whether the call running on this thread should stop now.
pub(crate) fn stop_is_set() -> bool {
    current_is_set() == Some(true)
}

/// Wraps each new connection (below TLS, so handshakes are covered too) in [`Interruptible`].
#[derive(Debug, Default)]
pub struct InterruptConnector;

impl<In: Transport> Connector<In> for InterruptConnector {
    type Out = Interruptible<In>;

    fn connect(&self, _: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(Interruptible))
    }
}

/// A transport whose waits for input end early when the current call's `Stop` is set.
#[derive(Debug)]
pub struct Interruptible<T>(T);

/// The error an interrupted wait returns; the transport reports the `Stop`'s reason instead.
pub(crate) fn interrupted() -> ureq::Error {
    ureq::Error::Io(std::io::Error::other("aichat: the call was stopped"))
}

impl<T: Transport> Transport for Interruptible<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.0.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        match current_is_set() {
            None => return self.0.await_input(timeout),
            Some(true) => return Err(interrupted()),
            Some(false) => {}
        }
        let full = timeout.for_read();
        let started = Instant::now();
        loop {
            let left = (!full.after.is_not_happening()).then(|| full.after.saturating_sub(started.elapsed()));
            if left == Some(Duration::ZERO) {
                return Err(ureq::Error::Timeout(full.reason));
            }
            let slice = left.map_or(SLICE, |l| l.min(SLICE));
            let sliced =
                NextTimeout { after: slice.into(), reason: full.reason, per_read: None, per_write: full.per_write };
            match self.0.await_input(sliced) {
                // Only the slice ran out: look at the Stop, then wait on.
                Err(ureq::Error::Timeout(_)) if left.is_none_or(|l| l > slice) => {
                    if current_is_set() == Some(true) {
                        return Err(interrupted());
                    }
                }
                other => return other,
            }
        }
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }

    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
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
