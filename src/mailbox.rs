//! The queue between a pulled call's library thread and its caller: bounded (the thread waits
//! when the caller is slow), woken by the cancel token, and, once asked for, mirrored by a
//! descriptor an event loop can poll.
//!
//! The descriptor is the read end of a socket pair holding one byte while the caller has
//! something to take (an event, the end, a failure) and none otherwise: level-triggered, and a
//! kind every poller accepts (`poll`/`epoll`, asyncio's `add_reader`, and a Node `net.Socket`,
//! which cannot watch an eventfd). The byte is written when the queue turns ready and read back
//! when the caller empties it, so a fast stream costs two system calls per batch, not per event,
//! and a stream nobody polls costs none.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::cancel::Wake;
use crate::error::{Error, ErrorKind};

pub(crate) struct Mailbox<T> {
    state: Mutex<State<T>>,
    /// Something was queued, or the caller should look again (a cancel).
    arrived: Condvar,
    /// Room was made, or the caller went away.
    room: Condvar,
    capacity: usize,
}

struct State<T> {
    items: VecDeque<T>,
    /// The cancel token fired: the caller has a failure to take.
    woken: bool,
    /// The caller took the end or a failure: every later take returns at once.
    done: bool,
    /// The caller holds items it took but has not returned yet (see [`Mailbox::take_into`]).
    held: bool,
    /// The caller is gone: the library thread stops at its next send.
    closed: bool,
    signal: Option<Signal>,
}

impl<T> State<T> {
    fn ready(&self) -> bool {
        !self.items.is_empty() || self.held || self.woken || self.done
    }

    /// Makes the descriptor agree with `ready()`.
    fn sync_signal(&mut self) {
        let ready = self.ready();
        if let Some(s) = &mut self.signal {
            s.set(ready)
        }
    }
}

/// What [`Mailbox::take_into`] found.
pub(crate) enum Taken {
    Items,
    /// Nothing came within the wait.
    Empty,
    /// The cancel token fired (the caller decides what that means).
    Woken,
}

impl<T> Mailbox<T> {
    pub(crate) fn new(capacity: usize) -> Mailbox<T> {
        Mailbox {
            state: Mutex::new(State {
                items: VecDeque::new(),
                woken: false,
                done: false,
                held: false,
                closed: false,
                signal: None,
            }),
            arrived: Condvar::new(),
            room: Condvar::new(),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing runs user code under this lock; a poisoned one still holds consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `items` at once, waiting for room while the queue is full; `stopped` is asked
    /// every `slice` while waiting. Returns false (dropping the items) when the caller is gone
    /// or `stopped` says so.
    pub(crate) fn send_all(&self, items: Vec<T>, slice: Duration, stopped: impl Fn() -> bool) -> bool {
        let mut state = self.lock();
        while state.items.len() >= self.capacity && !state.closed {
            if stopped() {
                return false;
            }
            state = self.room.wait_timeout(state, slice).unwrap_or_else(|e| e.into_inner()).0;
        }
        self.push_all(state, items)
    }

    fn push_all(&self, mut state: MutexGuard<'_, State<T>>, items: impl IntoIterator<Item = T>) -> bool {
        if state.closed {
            return false;
        }
        state.items.extend(items);
        state.sync_signal();
        drop(state);
        self.arrived.notify_one();
        true
    }

    /// Moves every queued item to `out`, waiting until `until` (`None`: no wait) for one. One
    /// lock per batch, not per item. The descriptor stays readable while the caller holds what
    /// it took: it calls [`Mailbox::drained`] once `out` is empty again.
    pub(crate) fn take_into(&self, until: Option<Instant>, out: &mut VecDeque<T>) -> Taken {
        let mut state = self.lock();
        loop {
            if !state.items.is_empty() {
                out.append(&mut state.items);
                state.held = true;
                drop(state);
                self.room.notify_one();
                return Taken::Items;
            }
            if state.woken {
                return Taken::Woken;
            }
            let left = until.map_or(Duration::ZERO, |u| u.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                return Taken::Empty;
            }
            state = self.arrived.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// The caller returned everything it took.
    pub(crate) fn drained(&self) {
        let mut state = self.lock();
        state.held = false;
        state.sync_signal();
    }

    /// The caller took the end or a failure: the descriptor stays readable from now on.
    pub(crate) fn finish(&self) {
        let mut state = self.lock();
        state.done = true;
        state.sync_signal();
    }

    /// The caller is gone: a waiting send returns, later ones fail, queued items are dropped.
    pub(crate) fn close(&self) {
        let items = {
            let mut state = self.lock();
            state.closed = true;
            std::mem::take(&mut state.items)
        };
        self.room.notify_all();
        drop(items); // outside the lock
    }

    /// The descriptor, made on first use and kept until the mailbox is dropped.
    #[cfg(unix)]
    pub(crate) fn fd(&self) -> Result<std::os::fd::RawFd, Error> {
        use std::os::fd::AsRawFd;
        let mut state = self.lock();
        if state.signal.is_none() {
            state.signal = Some(Signal::new()?);
            state.sync_signal();
        }
        Ok(state.signal.as_ref().map_or(-1, |s| s.reader.as_raw_fd()))
    }

    #[cfg(not(unix))]
    pub(crate) fn fd(&self) -> Result<i32, Error> {
        Err(Error::new(ErrorKind::Io, "a pollable descriptor is available on Unix only"))
    }
}

/// Most events a [`Producer`] gathers before handing them over.
pub(crate) const BATCH: usize = 64;

/// The library thread's side of a mailbox: gathers events and hands them over in batches.
pub(crate) struct Producer<T> {
    mailbox: Arc<Mailbox<T>>,
    pending: RefCell<Vec<T>>,
    /// The caller went away or the call stopped: every later send fails.
    failed: Cell<bool>,
}

impl<T> Producer<T> {
    pub(crate) fn new(mailbox: Arc<Mailbox<T>>) -> Producer<T> {
        Producer { mailbox, pending: RefCell::new(Vec::with_capacity(BATCH)), failed: Cell::new(false) }
    }

    /// Gathers `item`, handing the batch over once it is full. False once the caller is gone.
    pub(crate) fn send(&self, item: T, slice: Duration, stopped: impl Fn() -> bool) -> bool {
        if self.failed.get() {
            return false;
        }
        let full = {
            let mut pending = self.pending.borrow_mut();
            pending.push(item);
            pending.len() >= BATCH
        };
        !full || self.flush(slice, stopped)
    }

    /// Hands over what was gathered, waiting for room as [`Mailbox::send_all`] does.
    pub(crate) fn flush(&self, slice: Duration, stopped: impl Fn() -> bool) -> bool {
        let Ok(mut pending) = self.pending.try_borrow_mut() else { return !self.failed.get() };
        if pending.is_empty() || self.failed.get() {
            return !self.failed.get();
        }
        let batch = std::mem::replace(&mut *pending, Vec::with_capacity(BATCH));
        drop(pending);
        if !self.mailbox.send_all(batch, slice, stopped) {
            self.failed.set(true);
        }
        !self.failed.get()
    }

    /// Hands over what was gathered and then `item`, however full the queue is.
    pub(crate) fn send_last(&self, item: T) {
        let mut pending = std::mem::take(&mut *self.pending.borrow_mut());
        pending.push(item);
        let state = self.mailbox.lock();
        self.mailbox.push_all(state, pending);
    }
}

impl<T: Send> Wake for Mailbox<T> {
    fn wake(&self) {
        let mut state = self.lock();
        state.woken = true;
        state.sync_signal();
        drop(state);
        self.arrived.notify_all();
    }
}

/// One byte in a socket pair while ready. Both ends are non-blocking and close-on-exec.
#[cfg(unix)]
struct Signal {
    reader: std::os::unix::net::UnixStream,
    writer: std::os::unix::net::UnixStream,
    raised: bool,
}

#[cfg(not(unix))]
struct Signal;

#[cfg(not(unix))]
impl Signal {
    fn set(&mut self, _: bool) {}
}

#[cfg(unix)]
impl Signal {
    fn new() -> Result<Signal, Error> {
        let fail =
            |e: std::io::Error| Error::new(ErrorKind::Io, format!("could not make the stream's descriptor: {e}"));
        let (reader, writer) = std::os::unix::net::UnixStream::pair().map_err(fail)?;
        reader.set_nonblocking(true).map_err(fail)?;
        writer.set_nonblocking(true).map_err(fail)?;
        Ok(Signal { reader, writer, raised: false })
    }

    fn set(&mut self, ready: bool) {
        use std::io::{Read, Write};
        if ready == self.raised {
            return;
        }
        if ready {
            // The pair's buffer holds far more than the one byte it ever carries; a failure
            // here (none is expected) would only cost the poller a wake-up.
            let _ = (&self.writer).write(&[1]);
        } else {
            // Empties it: a poller that reads the descriptor itself (Node) may have taken the
            // byte already, which is fine.
            let mut sink = [0u8; 16];
            while matches!((&self.reader).read(&mut sink), Ok(n) if n > 0) {}
        }
        self.raised = ready;
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::fd::RawFd;

    fn readable(fd: RawFd) -> bool {
        let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd; fd is the mailbox's own, open for the test's duration.
        let n = unsafe { libc::poll(&mut p, 1, 0) };
        n == 1 && p.revents & libc::POLLIN != 0
    }

    /// One item, as a caller that returns items one by one takes them.
    fn take_one(m: &Mailbox<usize>, held: &mut VecDeque<usize>) -> Option<usize> {
        if held.is_empty() && !matches!(m.take_into(None, held), Taken::Items) {
            return None;
        }
        let item = held.pop_front();
        if held.is_empty() {
            m.drained();
        }
        item
    }

    #[test]
    fn descriptor_is_readable_exactly_while_something_waits() {
        let m = Mailbox::new(4);
        let mut held = VecDeque::new();
        let fd = m.fd().unwrap();
        assert!(!readable(fd));
        assert!(m.send_all(vec![1, 2], Duration::from_millis(1), || false));
        assert!(readable(fd));
        assert_eq!(take_one(&m, &mut held), Some(1));
        assert!(readable(fd), "one item left, held by the caller");
        assert_eq!(take_one(&m, &mut held), Some(2));
        assert!(!readable(fd));
        assert_eq!(take_one(&m, &mut held), None);
        m.wake();
        assert!(readable(fd));
        assert!(matches!(m.take_into(None, &mut held), Taken::Woken));
        m.finish();
        assert!(readable(fd));
    }

    #[test]
    fn a_descriptor_asked_for_late_starts_ready() {
        let m = Mailbox::new(4);
        m.send_all(vec![1], Duration::from_millis(1), || false);
        assert!(readable(m.fd().unwrap()));
        assert_eq!(m.fd().unwrap(), m.fd().unwrap(), "one descriptor per mailbox");
    }

    #[test]
    fn a_full_queue_lets_go_when_stopped_or_closed() {
        let m = std::sync::Arc::new(Mailbox::new(1));
        assert!(m.send_all(vec![0], Duration::from_millis(1), || false));
        assert!(!m.send_all(vec![1], Duration::from_millis(1), || true));
        let m2 = m.clone();
        let t = std::thread::spawn(move || m2.send_all(vec![2], Duration::from_secs(60), || false));
        std::thread::sleep(Duration::from_millis(20));
        m.close();
        assert!(!t.join().unwrap());
    }

    #[test]
    fn a_producer_hands_over_in_batches_and_on_flush() {
        let m = std::sync::Arc::new(Mailbox::new(1000));
        let mut held = VecDeque::new();
        let fd = m.fd().unwrap();
        let p = Producer::new(m.clone());
        for i in 0..BATCH - 1 {
            assert!(p.send(i, Duration::from_millis(1), || false));
        }
        assert!(!readable(fd), "held until the batch is full or flushed");
        assert!(p.send(BATCH - 1, Duration::from_millis(1), || false));
        assert!(readable(fd));
        for i in 0..BATCH {
            assert_eq!(take_one(&m, &mut held), Some(i));
        }
        assert!(p.send(7, Duration::from_millis(1), || false));
        assert!(p.flush(Duration::from_millis(1), || false));
        assert_eq!(take_one(&m, &mut held), Some(7));
        p.send(8, Duration::from_millis(1), || false);
        p.send_last(9);
        assert_eq!(take_one(&m, &mut held), Some(8));
        assert_eq!(take_one(&m, &mut held), Some(9));
        m.close();
        p.send(10, Duration::from_millis(1), || false);
        assert!(!p.flush(Duration::from_millis(1), || false), "the caller is gone");
        assert!(!p.send(11, Duration::from_millis(1), || false));
    }
}
