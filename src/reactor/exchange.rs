//! One HTTP exchange as its two sides share it: the reactor writes what arrives (the answer's
//! head, body bytes, the end or a failure), the caller takes it. One lock, one condition
//! variable and, for a pulled call, the call's descriptor: nothing else crosses threads.
//!
//! Flow control: the reactor stops reading a connection once `HIGH` bytes wait for the caller,
//! and the caller asks it to go on when it takes them, so a slow caller holds at most that much
//! of a fast server's answer, and an idle stream holds nothing.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Instant;

use super::signal::Notify;
use super::{Command, Key};
use crate::cancel::Wake;
use crate::error::Error;
use crate::stop::Stop;

/// Bytes waiting for the caller past which the reactor stops reading the connection.
pub(crate) const HIGH: usize = 256 * 1024;

/// The status line and the headers the library reads.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub status: u16,
    /// The media type, lower-cased, `""` when absent.
    pub content_type: String,
    /// The server's id for the request, `""` when absent.
    pub request_id: String,
    /// Attempts the transport made for this answer (1 when the first one got it).
    pub attempts: u32,
}

pub(crate) struct Exchange {
    state: Mutex<State>,
    changed: Condvar,
    stop: Stop,
    notify: Option<Arc<Notify>>,
    me: Weak<Exchange>,
}

#[derive(Default)]
struct State {
    head: Option<Head>,
    body: Vec<u8>,
    end: Option<Result<(), Error>>,
    /// The caller's side is gone: it has what it wanted, or gave up.
    gone: bool,
    /// The reactor stopped reading until the caller takes the body.
    paused: bool,
    /// The caller waits on `changed`.
    waiting: bool,
    /// The cancel token fired.
    cancelled: bool,
    /// The reactor's slot for this exchange's task.
    key: Option<Key>,
}

impl State {
    /// Whether the caller has something to take (or to notice). The head alone does not
    /// count: the caller can do nothing with it before body bytes (or the end) follow.
    fn ready(&self) -> bool {
        !self.body.is_empty() || self.end.is_some() || self.cancelled
    }
}

/// What the caller found when it took the body.
pub(crate) enum Taken {
    /// Bytes were moved into the caller's buffer.
    Bytes,
    /// Nothing yet.
    Nothing,
    /// The body ended (`Ok`) or failed; nothing more will come.
    End(Result<(), Error>),
}

impl Exchange {
    pub(crate) fn new(stop: Stop, notify: Option<Arc<Notify>>) -> Arc<Exchange> {
        let ex = Arc::new_cyclic(|me| Exchange {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stop,
            notify,
            me: me.clone(),
        });
        let waker: Arc<dyn Wake> = ex.clone();
        ex.stop.on_cancel(Arc::downgrade(&waker));
        if let Some(n) = &ex.notify {
            n.set(false);
        }
        ex
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing runs user code under this lock; a poisoned one still holds consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the caller and updates the descriptor after a change made under `state`.
    fn changed(&self, state: MutexGuard<'_, State>) {
        if let Some(n) = &self.notify {
            n.set(state.ready());
        }
        let waiting = state.waiting;
        drop(state);
        if waiting {
            self.changed.notify_all();
        }
    }

    fn post(&self) {
        if let Some(me) = self.me.upgrade() {
            let _ = super::post(Command::Look(me));
        }
    }

    // --- the reactor's side ---

    pub(crate) fn stop(&self) -> &Stop {
        &self.stop
    }

    pub(crate) fn set_key(&self, key: Key) {
        self.lock().key = Some(key);
    }

    pub(crate) fn key(&self) -> Option<Key> {
        self.lock().key
    }

    pub(crate) fn is_gone(&self) -> bool {
        self.lock().gone
    }

    /// Whether the caller is waiting for room to be made (the reactor paused the connection).
    pub(crate) fn is_paused(&self) -> bool {
        let state = self.lock();
        state.paused && state.body.len() >= HIGH
    }

    pub(crate) fn deliver_head(&self, head: Head) {
        let mut state = self.lock();
        state.head = Some(head);
        self.changed(state);
    }

    /// Lets `fill` append decoded body bytes; returns whether the reactor should stop reading
    /// until the caller takes them (or the caller is gone, and nobody will).
    pub(crate) fn append(&self, fill: impl FnOnce(&mut Vec<u8>)) -> Append {
        let mut state = self.lock();
        if state.gone {
            return Append::Gone;
        }
        let before = state.body.len();
        fill(&mut state.body);
        let full = state.body.len() >= HIGH;
        state.paused = full;
        if before == 0 && !state.body.is_empty() {
            self.changed(state);
        }
        if full { Append::Full } else { Append::More }
    }

    /// The body ended or the exchange failed; the first word is the one that counts.
    pub(crate) fn finish(&self, result: Result<(), Error>) {
        let mut state = self.lock();
        if state.end.is_none() {
            state.end = Some(result);
            self.changed(state);
        }
    }

    // --- the caller's side ---

    /// The answer's head, the failure that came instead, or `None` while neither arrived.
    pub(crate) fn take_head(&self) -> Option<Result<Head, Error>> {
        let state = self.lock();
        if let Some(head) = &state.head {
            return Some(Ok(head.clone()));
        }
        if let Some(Err(e)) = &state.end {
            return Some(Err(e.clone()));
        }
        None
    }

    /// Moves the body bytes that arrived into `buf` (which must be empty): the two buffers are
    /// swapped, so no byte is copied and both keep their capacity.
    pub(crate) fn take_body(&self, buf: &mut Vec<u8>) -> Taken {
        debug_assert!(buf.is_empty());
        let mut state = self.lock();
        if !state.body.is_empty() {
            std::mem::swap(&mut state.body, buf);
            let resume = std::mem::take(&mut state.paused);
            self.changed(state);
            if resume {
                self.post();
            }
            return Taken::Bytes;
        }
        match &state.end {
            Some(end) => Taken::End(end.clone()),
            None => Taken::Nothing,
        }
    }

    /// Waits until the reactor changes something for the caller, the cancel token fires, or
    /// `until` passes (`None`: no limit; the reactor's timers bound every exchange).
    pub(crate) fn wait(&self, until: Option<Instant>) {
        let mut state = self.lock();
        while !state.ready() {
            state.waiting = true;
            state = match until {
                None => self.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(until) => {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    self.changed.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0
                }
            };
        }
        state.waiting = false;
    }

    /// The caller is done with the exchange: whatever the reactor still does for it is for the
    /// connection's sake (draining it for the pool, or closing it).
    pub(crate) fn leave(&self) {
        let mut state = self.lock();
        if state.gone {
            return;
        }
        state.gone = true;
        state.body = Vec::new();
        drop(state);
        self.post();
    }
}

/// What [`Exchange::append`] says the reactor should do next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Append {
    More,
    Full,
    Gone,
}

impl Wake for Exchange {
    fn wake(&self) {
        let mut state = self.lock();
        state.cancelled = true;
        self.changed(state);
        self.changed.notify_all();
        self.post();
    }
}
