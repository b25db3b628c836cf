//! A cancellation token: set from any thread, seen by the call that holds it. A waiting pulled
//! call registers to be woken when it fires, so a cancel reaches a caller blocked in
//! `Call::next` or polling a stream's descriptor at once, not at the next timeout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Something to wake when a token fires (a pulled call's queue). Called on the triggering
/// thread: it must only signal, never block.
pub trait Wake: Send + Sync {
    fn wake(&self);
}

#[derive(Clone, Default)]
pub struct CancelToken(Arc<Inner>);

#[derive(Default)]
struct Inner {
    triggered: AtomicBool,
    /// Weak: a token outlives the calls it was given to (C frees them in any order).
    wakers: Mutex<Vec<Weak<dyn Wake>>>,
}

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelToken").field("triggered", &self.is_triggered()).finish()
    }
}

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Fires the token and wakes every call waiting on it. Idempotent.
    pub fn trigger(&self) {
        self.0.triggered.store(true, Ordering::Release);
        let wakers = std::mem::take(&mut *lock(&self.0.wakers));
        wakers.iter().filter_map(Weak::upgrade).for_each(|w| w.wake());
    }

    pub fn is_triggered(&self) -> bool {
        self.0.triggered.load(Ordering::Acquire)
    }

    /// Wakes `waker` when the token fires (at once if it already has).
    pub(crate) fn on_trigger(&self, waker: Weak<dyn Wake>) {
        {
            let mut wakers = lock(&self.0.wakers);
            // Calls that ended leave dead entries; a token reused for many calls stays small.
            wakers.retain(|w| w.strong_count() > 0);
            wakers.push(waker.clone());
        }
        // A trigger that ran before the push above took the list without this entry.
        if self.is_triggered() {
            if let Some(w) = waker.upgrade() {
                w.wake()
            }
        }
    }
}

/// The list stays usable after a panic elsewhere: it holds only weak pointers.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_registered_and_late_waiters_once_each() {
        let token = CancelToken::new();
        let early = Arc::new(Count(AtomicUsize::new(0)));
        let early_dyn: Arc<dyn Wake> = early.clone();
        token.on_trigger(Arc::downgrade(&early_dyn));
        token.trigger();
        token.trigger();
        assert_eq!(early.0.load(Ordering::SeqCst), 1);
        let late = Arc::new(Count(AtomicUsize::new(0)));
        let late_dyn: Arc<dyn Wake> = late.clone();
        token.on_trigger(Arc::downgrade(&late_dyn));
        assert_eq!(late.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn dead_waiters_are_dropped() {
        let token = CancelToken::new();
        for _ in 0..100 {
            let w: Arc<dyn Wake> = Arc::new(Count(AtomicUsize::new(0)));
            token.on_trigger(Arc::downgrade(&w));
        }
        assert!(lock(&token.0.wakers).len() <= 1);
    }
}
