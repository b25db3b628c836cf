//! The I/O reactor. A loop drives connections: sockets are non-blocking and registered with the
//! operating system's poller (epoll here; kqueue and IOCP through the same `mio` crate); every
//! timeout is a timer; a cancel or a caller leaving wakes the loop through a `mio::Waker`.
//! HTTP/1.1 is ureq's own sans-IO state machine (`ureq-proto`), TLS is rustls' connection
//! object, both fed by one task per exchange (see [`task`]). The only blocking work, DNS lookups
//! through `getaddrinfo` and SOCKS handshakes, runs on a small bounded pool ([`dns`]).
//!
//! Two kinds of loop run that same code ([`Engine`]): the process's I/O thread ("aichat-io"),
//! started by the first pulled stream, drives every pulled stream whatever their number; and a
//! thread that pushes a call runs its own loop while it waits, so a pushed call crosses no
//! thread. Idle connections are shared by all of them ([`pool`]).
//!
//! A call hands its loop the request and gets an [`exchange::Exchange`]: the one object the
//! caller and the loop share, through which the answer's head, body bytes and end arrive (see
//! there). Decoding the answer (framing, JSON, events) is done by the caller as it takes the
//! bytes, so the I/O thread only moves bytes and thousands of streams cost it little.
//!
//! Threads: "aichat-io" lives as long as the process; the DNS pool has at most
//! [`dns::MAX_THREADS`] threads, which exit when idle.

mod conn;
mod dns;
pub(crate) mod exchange;
mod pool;
pub(crate) mod signal;
mod socks;
pub(crate) mod task;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token, Waker};

use crate::error::{Error, ErrorKind};
use exchange::Exchange;
use task::{Step, Task};

/// The reactor's slot of a task or an idle connection; the generation tells a reused slot from
/// the one a late event or command meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    index: u32,
    generation: u32,
}

impl Key {
    fn token(self) -> Token {
        Token(((self.generation as usize) << 32) | self.index as usize)
    }

    fn of(token: Token) -> Key {
        Key { index: token.0 as u32, generation: (token.0 >> 32) as u32 }
    }
}

/// The waker's token: no slot has it (slots' generations start at 0 and index < u32::MAX).
const WAKE: Token = Token(usize::MAX);

/// What other threads ask of the reactor.
pub(crate) enum Command {
    /// Run this exchange.
    Start(Box<Task>),
    /// The exchange of the task in this slot changed on the caller's side (it took bytes, left,
    /// or was cancelled).
    Look(Key),
    /// The DNS pool's answer for an exchange.
    Resolved(Arc<Exchange>, Result<Vec<SocketAddr>, Error>),
    /// The DNS pool made a connection through a SOCKS proxy for an exchange.
    Tunnelled(Arc<Exchange>, Result<std::net::TcpStream, Error>),
}

/// Where other threads reach a loop: its inbox, and the waker that interrupts its wait.
pub(crate) struct Shared {
    inbox: Mutex<Vec<Command>>,
    waker: Waker,
}

impl Shared {
    /// Hands `command` to the loop (waking it if it may be asleep).
    pub(crate) fn post(&self, command: Command) {
        let was_empty = {
            let mut inbox = self.inbox.lock().unwrap_or_else(|e| e.into_inner());
            inbox.push(command);
            inbox.len() == 1
        };
        // An inbox that held commands already has a wake-up on the way.
        if was_empty {
            let _ = self.waker.wake();
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reactor::Shared")
    }
}

static REACTOR: OnceLock<Result<Arc<Shared>, String>> = OnceLock::new();

/// The process's I/O thread, started on first use.
fn shared() -> Result<&'static Arc<Shared>, Error> {
    REACTOR
        .get_or_init(|| {
            let start = || -> std::io::Result<Arc<Shared>> {
                let l = Loop::new()?;
                let shared = l.shared.clone();
                std::thread::Builder::new()
                    .name("aichat-io".into())
                    // Explicit, so that starting it reads no environment variable (RUST_MIN_STACK).
                    .stack_size(512 * 1024)
                    .spawn(move || {
                        crate::quiet::library_thread();
                        l.run()
                    })?;
                Ok(shared)
            };
            start().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::new(ErrorKind::Io, format!("could not start the I/O thread: {e}")))
}

/// Which loop runs an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    /// The process's I/O thread: pulled streams, whose callers only take what it brings.
    Thread,
    /// The calling thread's own loop, run while the call waits: a pushed call, whose thread is
    /// blocked in the library anyway, does its I/O itself, with no hand-over between threads.
    Caller,
}

thread_local! {
    /// This thread's loop for pushed calls, made by its first one (an epoll instance and a
    /// waker: two descriptors per thread that pushes calls, kept until the thread exits).
    static LOCAL: std::cell::RefCell<Option<Loop>> = const { std::cell::RefCell::new(None) };
}

/// The inbox of `engine`'s loop (for the caller's thread, its own, made on first use).
pub(crate) fn loop_for(engine: Engine) -> Result<Arc<Shared>, Error> {
    match engine {
        Engine::Thread => shared().cloned(),
        Engine::Caller => LOCAL.with(|l| {
            let mut l = l.try_borrow_mut().map_err(|_| Error::new(ErrorKind::Internal, "the loop is busy"))?;
            if l.is_none() {
                let made =
                    Loop::new().map_err(|e| Error::new(ErrorKind::Io, format!("could not make an I/O loop: {e}")))?;
                *l = Some(made);
            }
            Ok(l.as_ref().map(|l| l.shared.clone()).expect("made above"))
        }),
    }
}

/// Runs `f` on this thread's own loop, if it has one and is not running it already.
fn with_local<R>(f: impl FnOnce(&mut Loop) -> R) -> Option<R> {
    LOCAL.with(|l| l.try_borrow_mut().ok()?.as_mut().map(f))
}

/// Runs this thread's own loop once: waits for its sockets, commands or timers until `until`
/// at the latest, and does what they ask. A call that pushes waits here instead of on its
/// exchange. Re-entrant calls (a pushed call made from inside another's callback) are fine: the
/// callback runs outside this function.
pub(crate) fn run_local(until: Option<Instant>) {
    with_local(|l| l.run_once(until));
}

pub(crate) use pool::{ClientId, PoolKey};
pub(crate) use socks::Version as SocksVersion;

/// A client went away: its idle connections are closed, and any that finishes a call for it.
pub(crate) fn close_pool(client: &ClientId) {
    pool::client_gone(client);
}

/// Starts `task` on `engine`'s loop (`shared` is its inbox). On the caller's own loop the task
/// takes its first turn at once, on this thread: the request goes out before this returns, with
/// no command queued and no wake-up.
pub(crate) fn start(engine: Engine, shared: &Shared, task: Task) {
    let mut task = Some(Box::new(task));
    if engine == Engine::Caller {
        with_local(|l| l.begin(task.take().expect("not taken yet")));
    }
    if let Some(task) = task {
        shared.post(Command::Start(task))
    }
}

struct Slot {
    generation: u32,
    /// `None` while the slot is free.
    task: Option<Box<Task>>,
    /// The earliest time a timer is queued for this slot.
    scheduled: Option<Instant>,
}

/// What a task may use during its turn.
pub(crate) struct Cx<'a> {
    pub(crate) registry: &'a mio::Registry,
    /// The task's own token, for registering its socket.
    pub(crate) token: Token,
    /// Where the task reads into: the reactor's one read buffer.
    pub(crate) scratch: &'a mut Vec<u8>,
    /// Most bytes the task reads in one turn before others get theirs.
    pub(crate) read_turn: usize,
}

/// Longest a read of one connection goes on before others get their turn.
const READ_TURN: usize = 256 * 1024;

struct Loop {
    poll: Poll,
    shared: Arc<Shared>,
    events: Events,
    slots: Vec<Slot>,
    free: Vec<u32>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    /// Tasks with work left over from their last turn (more to read, a resumed connection).
    runnable: VecDeque<Key>,
    scratch: Vec<u8>,
}

impl Loop {
    /// A loop with its poller and its inbox (the waker other threads wake it with).
    fn new() -> std::io::Result<Loop> {
        let poll = Poll::new()?;
        let shared = Arc::new(Shared { inbox: Mutex::new(Vec::new()), waker: Waker::new(poll.registry(), WAKE)? });
        Ok(Loop {
            poll,
            shared,
            events: Events::with_capacity(1024),
            slots: Vec::new(),
            free: Vec::new(),
            timers: BinaryHeap::new(),
            runnable: VecDeque::new(),
            scratch: vec![0; 64 * 1024],
        })
    }

    fn run(mut self) {
        loop {
            self.run_once(None);
        }
    }

    /// One round: waits for sockets, commands or the next timer (or `until`), then does what
    /// they ask.
    fn run_once(&mut self, until: Option<Instant>) {
        let now = Instant::now();
        let timeout = if self.runnable.is_empty() {
            let timer = self.timers.peek().map(|Reverse((at, _))| *at);
            [timer, until].into_iter().flatten().min().map(|at| at.saturating_duration_since(now))
        } else {
            Some(Duration::ZERO)
        };
        // mio rounds a wait up to whole milliseconds, so a timer due in less than one does not
        // make the loop spin.
        let timeout = timeout.map(|t| t.min(Duration::from_secs(3600)));
        let mut events = std::mem::replace(&mut self.events, Events::with_capacity(0));
        match self.poll.poll(&mut events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Nothing sensible is left to do but try again a little later.
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
        for event in events.iter() {
            if event.token() == WAKE {
                continue;
            }
            let key = Key::of(event.token());
            let ready = task::Ready {
                readable: event.is_readable() || event.is_read_closed() || event.is_error(),
                writable: event.is_writable() || event.is_write_closed() || event.is_error(),
                read_closed: event.is_read_closed() || event.is_error(),
            };
            self.on_ready(key, ready);
        }
        self.events = events;
        self.take_commands();
        self.run_runnable();
        self.fire_timers();
    }

    fn take_commands(&mut self) {
        let commands = std::mem::take(&mut *self.shared.inbox.lock().unwrap_or_else(|e| e.into_inner()));
        for command in commands {
            match command {
                Command::Start(task) => self.begin(task),
                Command::Look(key) => self.turn(key, |task, cx| task.look(cx)),
                Command::Resolved(ex, result) => {
                    if let Some(key) = self.task_of(&ex) {
                        self.turn(key, move |task, cx| task.resolved(cx, result));
                    }
                }
                Command::Tunnelled(ex, result) => {
                    if let Some(key) = self.task_of(&ex) {
                        self.turn(key, move |task, cx| task.tunnelled(cx, result));
                    }
                }
            }
        }
    }

    /// Takes a task and gives it its first turn.
    fn begin(&mut self, task: Box<Task>) {
        let key = self.insert(task);
        self.turn(key, |task, cx| task.begin(cx));
    }

    /// The slot of the task running `ex`, if it still runs.
    fn task_of(&self, ex: &Arc<Exchange>) -> Option<Key> {
        let key = ex.key()?;
        let slot = self.slots.get(key.index as usize)?;
        (slot.generation == key.generation && slot.task.as_ref().is_some_and(|t| t.runs(ex))).then_some(key)
    }

    fn run_runnable(&mut self) {
        for _ in 0..self.runnable.len() {
            let Some(key) = self.runnable.pop_front() else { break };
            self.on_ready(key, task::Ready { readable: true, writable: true, read_closed: false });
        }
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, token))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            let key = Key::of(Token(token));
            let Some(slot) = self.slot_mut(key) else { continue };
            if slot.scheduled == Some(at) {
                slot.scheduled = None;
            }
            self.turn(key, |task, cx| task.timer(cx));
        }
    }

    fn on_ready(&mut self, key: Key, ready: task::Ready) {
        self.turn(key, |task, cx| task.ready(cx, ready));
    }

    /// Gives the task in `key` a turn, then does what it asked: a timer, another turn, its
    /// connection pooled, its slot freed.
    fn turn(&mut self, key: Key, f: impl FnOnce(&mut Task, &mut Cx<'_>) -> Step) {
        let slot = self.slots.get_mut(key.index as usize).filter(|s| s.generation == key.generation);
        let Some(task) = slot.and_then(|s| s.task.as_mut()) else { return };
        let mut cx =
            Cx { registry: self.poll.registry(), token: key.token(), scratch: &mut self.scratch, read_turn: READ_TURN };
        let step = f(task, &mut cx);
        task.exchange().publish();
        match step {
            Step::Wait(deadline) => self.schedule(key, deadline),
            Step::Again(deadline) => {
                self.runnable.push_back(key);
                self.schedule(key, deadline);
            }
            Step::Done(pooled) => {
                self.remove(key);
                if let Some((pool_key, conn)) = pooled {
                    self.park(pool_key, conn);
                }
            }
        }
    }

    /// Keeps a connection whose answer ended cleanly for the next request to the same place,
    /// whichever loop runs it.
    fn park(&mut self, pool_key: pool::PoolKey, mut conn: conn::Conn) {
        conn.deregister(self.poll.registry());
        pool::put(pool_key, conn);
    }

    fn schedule(&mut self, key: Key, deadline: Option<Instant>) {
        let Some(at) = deadline else { return };
        let Some(slot) = self.slot_mut(key) else { return };
        // A timer already queued fires first and then asks for the later one again.
        if slot.scheduled.is_some_and(|s| s <= at) {
            return;
        }
        slot.scheduled = Some(at);
        self.timers.push(Reverse((at, key.token().0)));
    }

    fn slot_mut(&mut self, key: Key) -> Option<&mut Slot> {
        self.slots.get_mut(key.index as usize).filter(|s| s.generation == key.generation)
    }

    fn insert(&mut self, task: Box<Task>) -> Key {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot { generation: 0, task: None, scheduled: None });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        let key = Key { index, generation: slot.generation };
        task.exchange().set_key(key);
        slot.task = Some(task);
        slot.scheduled = None;
        key
    }

    /// Frees a slot, closing what it held.
    fn remove(&mut self, key: Key) {
        let registry = self.poll.registry();
        let Some(slot) = self.slots.get_mut(key.index as usize).filter(|s| s.generation == key.generation) else {
            return;
        };
        if let Some(mut task) = slot.task.take() {
            task.close(registry);
        }
        slot.generation = slot.generation.wrapping_add(1);
        slot.scheduled = None;
        self.free.push(key.index);
    }
}
