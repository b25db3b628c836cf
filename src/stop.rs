//! Why a call should stop: its cancel token fired, or its caller abandoned it. The reactor
//! looks at a call's [`Stop`] whenever the call's exchange wakes it; a cancel token that fires
//! wakes the exchange at once (see `reactor::exchange`), so nothing polls for a cancel.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::cancel::CancelToken;
use crate::error::Error;

#[derive(Debug, Clone, Default)]
pub struct Stop {
    abandoned: Arc<AtomicBool>,
    cancel: Option<CancelToken>,
}

impl Stop {
    pub fn new(cancel: Option<CancelToken>) -> Stop {
        Stop { abandoned: Arc::default(), cancel }
    }

    /// Wakes `waker` when the cancel token (if any) fires.
    pub(crate) fn on_cancel(&self, waker: std::sync::Weak<dyn crate::cancel::Wake>) {
        if let Some(c) = &self.cancel {
            c.on_trigger(waker)
        }
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
}
