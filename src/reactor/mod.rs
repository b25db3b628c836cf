//! The I/O reactor: one library thread ("aichat-io") drives every connection of the process,
//! whatever the number of calls and streams. Sockets are non-blocking and registered with the
//! operating system's poller (epoll here; kqueue and IOCP through the same `mio` crate); every
//! timeout is a timer; a cancel or a caller leaving wakes the thread through a `mio::Waker`.
//! HTTP/1.1 is ureq's own sans-IO state machine (`ureq-proto`), TLS is rustls' connection
//! object, both fed from here (see [`task`]). The only blocking work, DNS lookups through
//! `getaddrinfo` and SOCKS handshakes, runs on a small bounded pool ([`dns`]).
//!
//! A call hands the reactor its request and gets an [`exchange::Exchange`]: the one object the
//! two threads share, through which the answer's head, body bytes and end arrive (see there).
//! Decoding the answer (framing, JSON, events) is done by the caller's thread as it takes the
//! bytes, so the reactor thread only moves bytes and thousands of streams cost it little.
//!
//! Threads: "aichat-io" starts with the first call and lives as long as the process; the DNS
//! pool has at most [`dns::MAX_THREADS`] threads, which exit when idle.

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

use mio::{Events, Interest, Poll, Token, Waker};

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
    /// A client went away: close its idle connections.
    ClosePool(u64),
}

struct Shared {
    inbox: Mutex<Vec<Command>>,
    waker: Waker,
}

static REACTOR: OnceLock<Result<Shared, String>> = OnceLock::new();

fn shared() -> Result<&'static Shared, Error> {
    REACTOR
        .get_or_init(|| {
            let start = || -> std::io::Result<Shared> {
                let poll = Poll::new()?;
                let waker = Waker::new(poll.registry(), WAKE)?;
                std::thread::Builder::new().name("aichat-io".into()).spawn(move || Loop::new(poll).run())?;
                Ok(Shared { inbox: Mutex::new(Vec::new()), waker })
            };
            start().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::new(ErrorKind::Io, format!("could not start the I/O thread: {e}")))
}

/// Hands `command` to the reactor thread (waking it if it may be asleep). Fails only when the
/// reactor could not be started.
pub(crate) fn post(command: Command) -> Result<(), Error> {
    let shared = shared()?;
    let was_empty = {
        let mut inbox = shared.inbox.lock().unwrap_or_else(|e| e.into_inner());
        inbox.push(command);
        inbox.len() == 1
    };
    // An inbox that held commands already has a wake-up on the way.
    if was_empty {
        let _ = shared.waker.wake();
    }
    Ok(())
}

pub(crate) use pool::PoolKey;
pub(crate) use socks::Version as SocksVersion;

/// A client went away: its idle connections are closed (if the reactor ever ran).
pub(crate) fn close_pool(client: u64) {
    if REACTOR.get().is_some_and(Result::is_ok) {
        let _ = post(Command::ClosePool(client));
    }
}

/// Starts `task` on the reactor.
pub(crate) fn start(task: Task) -> Result<(), Error> {
    post(Command::Start(Box::new(task)))
}

enum Entry {
    Free,
    Task(Box<Task>),
    Idle(pool::Idle),
}

struct Slot {
    generation: u32,
    entry: Entry,
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
    pool: &'a mut pool::Pool,
    slots: &'a mut Vec<Slot>,
    /// Slots of idle connections the task took, freed after the turn.
    taken: Vec<Key>,
}

impl Cx<'_> {
    /// An idle connection for `key` that is still open, if the pool has one.
    pub(crate) fn take_idle(&mut self, key: &pool::PoolKey) -> Option<conn::Conn> {
        while let Some(idle_key) = self.pool.take(key) {
            let Some(slot) =
                self.slots.get_mut(idle_key.index as usize).filter(|s| s.generation == idle_key.generation)
            else {
                continue;
            };
            if let Entry::Idle(idle) = std::mem::replace(&mut slot.entry, Entry::Free) {
                self.taken.push(idle_key);
                let mut conn = idle.into_conn();
                if conn.is_open() {
                    return Some(conn);
                }
                conn.close(self.registry);
            }
        }
        None
    }
}

/// Longest a read of one connection goes on before others get their turn.
const READ_TURN: usize = 256 * 1024;

struct Loop {
    poll: Poll,
    slots: Vec<Slot>,
    free: Vec<u32>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    /// Tasks with work left over from their last turn (more to read, a resumed connection).
    runnable: VecDeque<Key>,
    pool: pool::Pool,
    scratch: Vec<u8>,
}

impl Loop {
    fn new(poll: Poll) -> Loop {
        Loop {
            poll,
            slots: Vec::new(),
            free: Vec::new(),
            timers: BinaryHeap::new(),
            runnable: VecDeque::new(),
            pool: pool::Pool::default(),
            scratch: vec![0; 64 * 1024],
        }
    }

    fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = if self.runnable.is_empty() {
                self.timers.peek().map(|Reverse((at, _))| at.saturating_duration_since(Instant::now()))
            } else {
                Some(Duration::ZERO)
            };
            // Rounded up: epoll counts in milliseconds, and waking early only to sleep again
            // would spin.
            let timeout = timeout.map(|t| t.max(Duration::from_millis(1)).min(Duration::from_secs(3600)));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    // Nothing sensible is left to do but try again a little later.
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
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
            self.take_commands();
            self.run_runnable();
            self.fire_timers();
        }
    }

    fn take_commands(&mut self) {
        let Ok(shared) = shared() else { return };
        let commands = std::mem::take(&mut *shared.inbox.lock().unwrap_or_else(|e| e.into_inner()));
        for command in commands {
            match command {
                Command::Start(task) => {
                    let key = self.insert(Entry::Task(task));
                    self.turn(key, |task, cx| task.begin(cx));
                }
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
                Command::ClosePool(client) => {
                    for key in self.pool.remove_client(client) {
                        self.remove(key);
                    }
                }
            }
        }
    }

    /// The slot of the task running `ex`, if it still runs.
    fn task_of(&self, ex: &Arc<Exchange>) -> Option<Key> {
        let key = ex.key()?;
        match &self.slots.get(key.index as usize)?.entry {
            Entry::Task(task) if task.runs(ex) => Some(key),
            _ => None,
        }
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
            match &slot.entry {
                Entry::Task(_) => self.turn(key, |task, cx| task.timer(cx)),
                Entry::Idle(idle) => {
                    if idle.expired(now) {
                        self.pool.forget(key);
                        self.remove(key);
                    } else {
                        let at = idle.expires();
                        self.schedule(key, Some(at));
                    }
                }
                Entry::Free => {}
            }
        }
    }

    fn on_ready(&mut self, key: Key, ready: task::Ready) {
        let Some(slot) = self.slot_mut(key) else { return };
        match &mut slot.entry {
            Entry::Task(_) => self.turn(key, |task, cx| task.ready(cx, ready)),
            // An idle connection that turns readable was closed by the server (or sent what no
            // request asked for): it is of no more use.
            Entry::Idle(_) => {
                self.pool.forget(key);
                self.remove(key);
            }
            Entry::Free => {}
        }
    }

    /// Gives the task in `key` a turn, then does what it asked: a timer, another turn, its
    /// connection pooled, its slot freed.
    fn turn(&mut self, key: Key, f: impl FnOnce(&mut Task, &mut Cx<'_>) -> Step) {
        let Some(slot) = self.slot_mut(key) else { return };
        // Out of its slot while it runs, so that it can take an idle connection from another.
        let mut task = match std::mem::replace(&mut slot.entry, Entry::Free) {
            Entry::Task(task) => task,
            other => {
                slot.entry = other;
                return;
            }
        };
        let mut cx = Cx {
            registry: self.poll.registry(),
            token: key.token(),
            scratch: &mut self.scratch,
            pool: &mut self.pool,
            slots: &mut self.slots,
            taken: Vec::new(),
            read_turn: READ_TURN,
        };
        let step = f(&mut task, &mut cx);
        task.exchange().publish();
        for idle in std::mem::take(&mut cx.taken) {
            self.remove(idle);
        }
        if let Some(slot) = self.slot_mut(key) {
            slot.entry = Entry::Task(task);
        }
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

    /// Keeps a connection whose answer ended cleanly for the next request to the same place.
    fn park(&mut self, pool_key: pool::PoolKey, mut conn: conn::Conn) {
        let idle_key = self.insert(Entry::Free);
        if conn.register(self.poll.registry(), idle_key.token(), Interest::READABLE).is_err() {
            self.remove(idle_key);
            return;
        }
        let idle = pool::Idle::new(conn, pool_key.clone());
        let expires = idle.expires();
        if let Some(slot) = self.slot_mut(idle_key) {
            slot.entry = Entry::Idle(idle);
        }
        self.schedule(idle_key, Some(expires));
        for evicted in self.pool.add(pool_key, idle_key) {
            self.remove(evicted);
        }
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

    fn insert(&mut self, entry: Entry) -> Key {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot { generation: 0, entry: Entry::Free, scheduled: None });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.entry = entry;
        slot.scheduled = None;
        let key = Key { index, generation: slot.generation };
        if let Entry::Task(task) = &slot.entry {
            task.exchange().set_key(key);
        }
        key
    }

    /// Frees a slot, closing what it held.
    fn remove(&mut self, key: Key) {
        let registry = self.poll.registry();
        let Some(slot) = self.slots.get_mut(key.index as usize).filter(|s| s.generation == key.generation) else {
            return;
        };
        match std::mem::replace(&mut slot.entry, Entry::Free) {
            Entry::Task(mut task) => task.close(registry),
            Entry::Idle(idle) => idle.close(registry),
            Entry::Free => {}
        }
        slot.generation = slot.generation.wrapping_add(1);
        slot.scheduled = None;
        self.free.push(key.index);
    }
}
