//! One HTTP exchange as its two sides share it: the reactor writes what arrives (the answer's
//! head, body bytes, the end or a failure), the caller takes it. One lock, one condition
//! variable and, for a pulled call, the call's descriptor: nothing else crosses threads.
//!
//! Flow control: the reactor stops reading a connection once `HIGH` bytes wait for the caller,
//! and the caller asks it to go on when it takes them, so a slow caller holds at most that much
//! of a fast server's answer, and an idle stream holds nothing.

use std::sync::Arc;
use std::time::Instant;

#[cfg(aichat_loom)]
use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(aichat_loom))]
use std::sync::{Condvar, Mutex, MutexGuard};

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
    /// The error's type an AWS service names in `x-amzn-errortype` (the part before any `:`),
    /// `""` when absent.
    pub error_type: String,
    /// Attempts the transport made for this answer (1 when the first one got it).
    pub attempts: u32,
}

pub(crate) struct Exchange {
    handoff: Handoff,
    stop: Stop,
    /// The loop that runs it.
    reactor: Arc<super::Shared>,
}

/// The shared state and its one wake-up: what `loom` checks (see the tests below). It tells
/// its owner when the reactor must look (by what its methods return); it never calls out.
pub(crate) struct Handoff {
    state: Mutex<State>,
    changed: Condvar,
    notify: Option<Arc<Notify>>,
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
    /// The reactor changed something the caller has not been told of yet (see `publish`).
    unpublished: bool,
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
    pub(crate) fn new(stop: Stop, notify: Option<Arc<Notify>>, reactor: Arc<super::Shared>) -> Arc<Exchange> {
        let ex = Arc::new(Exchange { handoff: Handoff::new(notify), stop, reactor });
        let waker: Arc<dyn Wake> = ex.clone();
        ex.stop.on_cancel(Arc::downgrade(&waker));
        ex
    }

    /// Asks the reactor to look at this exchange's task again (once it has one: before that,
    /// the task's first turn looks anyway).
    fn tell_reactor(&self) {
        if let Some(key) = self.handoff.key() {
            self.reactor.post(Command::Look(key));
        }
    }

    /// Hands `command` to the loop that runs this exchange (the lookup pool's answers).
    pub(crate) fn post(&self, command: Command) {
        self.reactor.post(command)
    }

    pub(crate) fn stop(&self) -> &Stop {
        &self.stop
    }

    pub(crate) fn key(&self) -> Option<Key> {
        self.handoff.key()
    }

    pub(crate) fn set_key(&self, key: Key) {
        self.handoff.lock().key = Some(key);
    }

    pub(crate) fn is_gone(&self) -> bool {
        self.handoff.lock().gone
    }

    pub(crate) fn deliver_head(&self, head: Head) {
        self.handoff.deliver_head(head)
    }

    pub(crate) fn append(&self, fill: impl FnOnce(&mut Vec<u8>)) -> Append {
        self.handoff.append(fill)
    }

    pub(crate) fn finish(&self, result: Result<(), Error>) {
        self.handoff.finish(result)
    }

    /// The end of the reactor's turn: the caller hears of what changed.
    pub(crate) fn publish(&self) {
        self.handoff.publish()
    }

    pub(crate) fn take_head(&self) -> Option<Result<Head, Error>> {
        self.handoff.take_head()
    }

    pub(crate) fn take_body(&self, buf: &mut Vec<u8>) -> Taken {
        let (taken, resume) = self.handoff.take_body(buf);
        if resume {
            self.tell_reactor();
        }
        taken
    }

    pub(crate) fn wait(&self, until: Option<Instant>) {
        self.handoff.wait(until)
    }

    pub(crate) fn leave(&self) {
        if self.handoff.leave() {
            self.tell_reactor();
        }
    }
}

impl Handoff {
    pub(crate) fn new(notify: Option<Arc<Notify>>) -> Handoff {
        if let Some(n) = &notify {
            n.set(false);
        }
        Handoff { state: Mutex::new(State::default()), changed: Condvar::new(), notify }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing runs user code under this lock; a poisoned one still holds consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn key(&self) -> Option<Key> {
        self.lock().key
    }

    /// Records a change the reactor made; the caller hears of it when the reactor's turn ends
    /// (`publish`): a turn that delivers the head, body bytes and the end wakes the caller once,
    /// and the caller does not wake to contend for the lock the reactor still takes.
    fn changed_later(&self, mut state: MutexGuard<'_, State>) {
        state.unpublished = true;
    }

    /// Tells the caller of the reactor's changes: the descriptor, and a waiting caller woken.
    /// The reactor calls it at the end of each turn of the exchange's task.
    pub(crate) fn publish(&self) {
        let mut state = self.lock();
        if std::mem::take(&mut state.unpublished) {
            self.changed(state);
        }
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

    // --- the reactor's side ---

    fn deliver_head(&self, head: Head) {
        let mut state = self.lock();
        state.head = Some(head);
        self.changed_later(state);
    }

    /// Lets `fill` append decoded body bytes; says whether the reactor should stop reading
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
            self.changed_later(state);
        }
        if full { Append::Full } else { Append::More }
    }

    /// The body ended or the exchange failed; the first word is the one that counts.
    pub(crate) fn finish(&self, result: Result<(), Error>) {
        let mut state = self.lock();
        if state.end.is_none() {
            state.end = Some(result);
            self.changed_later(state);
        }
    }

    // --- the caller's side ---

    /// The answer's head, the failure that came instead, or `None` while neither arrived.
    fn take_head(&self) -> Option<Result<Head, Error>> {
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
    /// swapped, so no byte is copied and both keep their capacity. Also says whether the
    /// reactor had paused the connection and must be told to go on.
    pub(crate) fn take_body(&self, buf: &mut Vec<u8>) -> (Taken, bool) {
        debug_assert!(buf.is_empty());
        let mut state = self.lock();
        if !state.body.is_empty() {
            std::mem::swap(&mut state.body, buf);
            let resume = std::mem::take(&mut state.paused);
            self.changed(state);
            return (Taken::Bytes, resume);
        }
        match &state.end {
            Some(end) => (Taken::End(end.clone()), false),
            None => (Taken::Nothing, false),
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
                    wait_timeout(&self.changed, state, left)
                }
            };
        }
        state.waiting = false;
    }

    /// The caller is done with the exchange: whatever the reactor still does for it is for the
    /// connection's sake (draining it for the pool, or closing it). True when the reactor must
    /// be told: the first time, unless the exchange had ended (its task is done already, and
    /// waking the reactor for nothing would cost every call a wake-up).
    pub(crate) fn leave(&self) -> bool {
        let mut state = self.lock();
        if state.gone {
            return false;
        }
        state.gone = true;
        state.body = Vec::new();
        state.end.is_none()
    }

    /// The cancel token fired: the caller wakes, and the reactor must be told.
    pub(crate) fn cancel(&self) {
        let mut state = self.lock();
        state.cancelled = true;
        self.changed(state);
        self.changed.notify_all();
    }
}

#[cfg(not(aichat_loom))]
fn wait_timeout<'a>(c: &Condvar, state: MutexGuard<'a, State>, left: std::time::Duration) -> MutexGuard<'a, State> {
    c.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0
}

/// loom has no timed wait: a model waits until woken, which is what it checks.
#[cfg(aichat_loom)]
fn wait_timeout<'a>(c: &Condvar, state: MutexGuard<'a, State>, _: std::time::Duration) -> MutexGuard<'a, State> {
    c.wait(state).unwrap_or_else(|e| e.into_inner())
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
        self.handoff.cancel();
        self.tell_reactor();
    }
}

/// Every interleaving of the reactor's and the caller's side of a handoff, explored by loom
/// (`make test-loom`): no wake-up is lost, no byte is lost or reordered, the end comes after
/// every byte, and a paused connection is always resumed.
#[cfg(all(test, aichat_loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// The caller's loop: takes until the end, waiting when nothing is there.
    fn take_all(h: &Handoff) -> (Vec<u8>, Result<(), Error>, bool) {
        let (mut got, mut resumed) = (Vec::new(), false);
        loop {
            let mut buf = Vec::new();
            match h.take_body(&mut buf) {
                (Taken::Bytes, resume) => {
                    got.extend_from_slice(&buf);
                    resumed |= resume;
                }
                (Taken::Nothing, _) => h.wait(None),
                (Taken::End(end), _) => return (got, end, resumed),
            }
        }
    }

    #[test]
    fn the_caller_gets_every_byte_in_order_then_the_end() {
        loom::model(|| {
            let h = Arc::new(Handoff::new(None));
            let reactor = {
                let h = h.clone();
                thread::spawn(move || {
                    // Two turns: one brings bytes, the next more bytes and the end.
                    h.append(|b| b.extend_from_slice(b"ab"));
                    h.publish();
                    h.append(|b| b.extend_from_slice(b"cd"));
                    h.finish(Ok(()));
                    h.publish();
                })
            };
            let (got, end, _) = take_all(&h);
            assert_eq!(got, b"abcd");
            assert!(end.is_ok());
            reactor.join().unwrap();
        });
    }

    #[test]
    fn bytes_alone_wake_a_waiting_caller() {
        loom::model(|| {
            let h = Arc::new(Handoff::new(None));
            let reactor = {
                let h = h.clone();
                thread::spawn(move || {
                    h.append(|b| b.extend_from_slice(b"a"));
                    h.publish();
                })
            };
            loop {
                let mut buf = Vec::new();
                match h.take_body(&mut buf).0 {
                    Taken::Bytes => break assert_eq!(buf, b"a"),
                    Taken::Nothing => h.wait(None),
                    Taken::End(_) => panic!("no end was sent"),
                }
            }
            reactor.join().unwrap();
        });
    }

    #[test]
    fn a_failure_reaches_a_waiting_caller() {
        loom::model(|| {
            let h = Arc::new(Handoff::new(None));
            let reactor = {
                let h = h.clone();
                thread::spawn(move || {
                    h.finish(Err(Error::protocol("broken")));
                    h.publish();
                })
            };
            let (got, end, _) = take_all(&h);
            assert!(got.is_empty());
            assert_eq!(end.unwrap_err().message(), "broken");
            reactor.join().unwrap();
        });
    }

    #[test]
    fn a_cancel_wakes_a_waiting_caller() {
        loom::model(|| {
            let h = Arc::new(Handoff::new(None));
            let canceller = {
                let h = h.clone();
                thread::spawn(move || h.cancel())
            };
            h.wait(None);
            canceller.join().unwrap();
        });
    }

    #[test]
    fn a_full_buffer_pauses_the_reactor_until_the_caller_takes_it() {
        loom::model(|| {
            let h = Arc::new(Handoff::new(None));
            let reactor = {
                let h = h.clone();
                thread::spawn(move || {
                    let full = h.append(|b| b.resize(HIGH, 1));
                    h.publish();
                    h.finish(Ok(()));
                    h.publish();
                    full
                })
            };
            let (got, end, resumed) = take_all(&h);
            let full = reactor.join().unwrap();
            assert_eq!((got.len(), end.is_ok()), (HIGH, true));
            assert_eq!(full, Append::Full);
            assert!(resumed, "the caller took a full buffer and must tell the reactor to read on");
        });
    }

    #[test]
    fn a_caller_that_left_takes_nothing_more() {
        loom::model(|| {
            let h = Arc::new(Handoff::new(None));
            let reactor = {
                let h = h.clone();
                thread::spawn(move || {
                    let appended = h.append(|b| b.extend_from_slice(b"x"));
                    h.publish();
                    appended
                })
            };
            assert!(h.leave());
            assert!(!h.leave(), "told once");
            let appended = reactor.join().unwrap();
            // Either the byte came before the caller left (and was dropped with it), or the
            // reactor learned the caller was gone.
            assert!(matches!(appended, Append::More | Append::Gone));
            assert!(h.lock().body.is_empty());
        });
    }
}
