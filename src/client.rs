//! The client: client-wide defaults plus one transport (so one connection pool), usable from
//! many threads at once.
//!
//! A call runs in one of two ways:
//! - pushed (`create_completion`): on the caller's thread, the sink called from the decoding
//!   loop as each chunk is decoded; the cancel token reaches blocked reads through
//!   [`crate::interrupt`]. Nothing is copied or handed between threads.
//! - pulled (`start`, then [`Call::next`]): on a library thread that queues events for the
//!   caller to take, for callers that can't take a callback cheaply (FFI relays, event loops)
//!   or must not block in the call.
//!
//! Either way the caller chooses a [`Mode`]: the text of choice 0, or every event.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::answer::{Assembler, Mode, NulEventSink, Sink};
use crate::cancel::CancelToken;
use crate::env::Env;
use crate::error::{Error, ErrorKind};
use crate::event::{Event, EventSink};
use crate::interrupt::{self, SLICE, Stop};
use crate::mailbox::{Mailbox, Producer};
use crate::providers;
use crate::request::{Request, Resolved, Settings, TlsRoots, protocol_named};
use crate::secret;
use crate::spare::Spare;
use crate::transport::Transport;

/// Events decoded ahead of the sink; bounds memory when the sink is slower than the network.
const EVENT_QUEUE: usize = 64;

enum Queued {
    Event(Event<'static>),
    End(Result<(), Error>),
}

#[derive(Debug, Clone)]
pub struct Client {
    defaults: Settings,
    transport: Transport,
    /// The environment as it was when the client was made: calls never read it.
    env: Arc<Env>,
    /// Large text buffers kept from one call for the next.
    spare: Arc<Spare>,
}

impl Default for Client {
    fn default() -> Client {
        Client::new(Settings::default())
    }
}

impl Client {
    /// A client with these defaults; the environment variables it will use are read now.
    pub fn new(defaults: Settings) -> Client {
        let variables = providers::DEFAULTS.iter().flat_map(|p| [p.base_url_env(), p.api_key_env()]).flatten();
        Client::with_env(defaults, Env::capture(variables))
    }

    /// A client that sees `env` instead of the process's environment.
    pub fn with_env(defaults: Settings, env: Env) -> Client {
        Client { defaults, transport: Transport::new(), env: Arc::new(env), spare: Arc::default() }
    }

    /// A client from options JSON (`None` for library defaults). A `ca_file` among them is read
    /// now, once: a bad one fails here.
    pub fn from_options_json(json: Option<&str>) -> Result<Client, Error> {
        let defaults = match json {
            Some(json) => Settings::options_from_json(json)?,
            None => Settings::default(),
        };
        protocol_named(defaults.provider.as_deref(), &providers::DEFAULTS, "options")?;
        let ca_file = defaults.ca_file.clone();
        let client = Client::new(defaults);
        if let Some(path) = ca_file {
            client.transport.agent(&TlsRoots::File(path))?;
        }
        Ok(client)
    }

    /// Runs one completion on this thread, handing each piece of choice 0's text to `sink` as
    /// it is decoded. `sink` returns `false` to stop: the call then fails with
    /// `ErrorKind::Cancelled`.
    pub fn create_completion(
        &self,
        request: Request,
        cancel: Option<&CancelToken>,
        sink: &mut dyn FnMut(&str) -> bool,
    ) -> Result<(), Error> {
        self.run(request, cancel, Sink::Text(sink))
    }

    /// Runs one completion on this thread, handing every event to `sink` as it is decoded.
    pub fn create_completion_events(
        &self,
        request: Request,
        cancel: Option<&CancelToken>,
        sink: &mut EventSink<'_>,
    ) -> Result<(), Error> {
        self.run(request, cancel, Sink::Events(sink))
    }

    /// As `create_completion_events`, each piece of text and MESSAGE also handed over followed
    /// by a NUL where it lies (what the C API passes on without a copy).
    pub(crate) fn create_completion_events_with_nul(
        &self,
        request: Request,
        cancel: Option<&CancelToken>,
        sink: &mut dyn NulEventSink,
    ) -> Result<(), Error> {
        self.run(request, cancel, Sink::EventsWithNul(sink))
    }

    fn run(&self, request: Request, cancel: Option<&CancelToken>, sink: Sink<'_>) -> Result<(), Error> {
        let (resolved, stop) = self.prepare(request, cancel)?;
        let _scope = interrupt::enter(&stop);
        drive(&resolved, &self.transport, &self.spare, &stop, sink)
    }

    /// Starts one completion on a library thread and returns at once; its events (only choice
    /// 0's text in `Mode::Text`) are pulled with [`Call::next`].
    pub fn start(&self, request: Request, cancel: Option<&CancelToken>, mode: Mode) -> Result<Call, Error> {
        let (resolved, stop) = self.prepare(request, cancel)?;
        let mailbox = Arc::new(Mailbox::new(EVENT_QUEUE));
        let waker: Arc<dyn crate::cancel::Wake> = mailbox.clone();
        stop.on_cancel(Arc::downgrade(&waker));
        let call = Call {
            taken: VecDeque::new(),
            deadline: resolved.net.deadline,
            timeout_ms: resolved.net.timeout.as_millis(),
            mode,
            ended: false,
            hangup: Hangup { stop: stop.clone(), mailbox: mailbox.clone() },
        };
        let (transport, spare) = (self.transport.clone(), self.spare.clone());
        thread::Builder::new()
            .name("aichat-request".into())
            .spawn(move || run_worker(resolved, transport, spare, stop, mode, mailbox))
            .map_err(|e| Error::new(ErrorKind::Io, format!("could not start the request thread: {e}")))?;
        Ok(call)
    }

    /// The request merged with this client's defaults, and its stop; fails at once when the
    /// token has already fired.
    fn prepare(&self, request: Request, cancel: Option<&CancelToken>) -> Result<(Resolved, Stop), Error> {
        let resolved = Resolved::with_env(request, &self.defaults, &self.env, &providers::DEFAULTS)?;
        let stop = Stop::new(cancel.cloned());
        match stop.reason() {
            Some(reason) => Err(reason),
            None => Ok((resolved, stop)),
        }
    }
}

/// Runs the provider into an assembler of `mode` feeding `sink`, then ends the answer. A sink
/// that returns false ends it with `Error::stopped_by_sink()`. The call's secrets are masked
/// out of every server text while it runs, and out of its error at the end.
fn drive(r: &Resolved, transport: &Transport, spare: &Arc<Spare>, stop: &Stop, sink: Sink<'_>) -> Result<(), Error> {
    let secrets = r.secrets();
    let _masked = secret::scope(secrets.clone());
    let mut out = Assembler::new(sink).with_spare(spare.clone());
    let protocol = providers::by_name(r.provider.name()).expect("a resolved call names a known protocol");
    let result = providers::driver::run(protocol, r, transport, stop, &mut out).and_then(|()| out.end());
    result.map_err(|e| secrets.iter().fold(e, |e, s| e.redacted(s)))
}

/// What [`Call::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Event(Event<'static>),
    /// Nothing arrived within the wait.
    Pending,
    /// The completion finished; every chunk was returned.
    End,
}

/// A running completion. Dropping it abandons the request: its library thread stops within
/// milliseconds and closes the connection.
pub struct Call {
    /// Items taken from the mailbox in one batch, returned one by one.
    taken: VecDeque<Queued>,
    mode: Mode,
    deadline: Instant,
    timeout_ms: u128,
    ended: bool,
    hangup: Hangup,
}

impl Call {
    /// What the call was started for.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The next event, waiting up to `wait` (`None`: until something happens). Fails with the
    /// call's error once the events that arrived before it were returned, with
    /// `ErrorKind::Cancelled` once the cancel token fired, and with `ErrorKind::Timeout` past
    /// `timeout_ms`.
    pub fn next(&mut self, wait: Option<Duration>) -> Result<Next, Error> {
        let next = self.next_inner(wait);
        if !matches!(next, Ok(Next::Event(_) | Next::Pending)) {
            self.ended = true;
            self.hangup.mailbox.finish();
        }
        next.inspect_err(|_| self.hangup.stop.abandon())
    }

    /// A descriptor that is readable while [`Call::next`] has something to return without
    /// waiting; see [`crate::mailbox`]. Made on first use, owned by the call.
    pub fn fd(&self) -> Result<i32, Error> {
        self.hangup.mailbox.fd()
    }

    fn next_inner(&mut self, wait: Option<Duration>) -> Result<Next, Error> {
        if self.ended {
            return Ok(Next::End);
        }
        if self.taken.is_empty() {
            let until = wait.map_or(self.deadline, |w| (Instant::now() + w).min(self.deadline));
            self.hangup.mailbox.take_into(Some(until), &mut self.taken);
        }
        if let Some(item) = self.taken.pop_front() {
            if self.taken.is_empty() {
                self.hangup.mailbox.drained();
            }
            return match item {
                Queued::Event(event) => Ok(Next::Event(event)),
                Queued::End(result) => result.map(|()| Next::End),
            };
        }
        if let Some(reason) = self.hangup.stop.reason() {
            return Err(reason);
        }
        if Instant::now() >= self.deadline {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("the call took longer than timeout_ms={}", self.timeout_ms),
            ));
        }
        Ok(Next::Pending)
    }
}

fn run_worker(
    resolved: Resolved,
    transport: Transport,
    spare: Arc<Spare>,
    stop: Stop,
    mode: Mode,
    mailbox: Arc<Mailbox<Queued>>,
) {
    let _scope = interrupt::enter(&stop);
    let producer = Rc::new(Producer::new(mailbox));
    // A caller that stopped taking (and a cancel) lets a send waiting for room go.
    let stopped = || stop.reason().is_some();
    let flusher = {
        let (producer, stop) = (producer.clone(), stop.clone());
        interrupt::on_wait(Rc::new(move || {
            producer.flush(SLICE, || stop.reason().is_some());
        }))
    };
    let send = |event: Event<'static>| producer.send(Queued::Event(event), SLICE, stopped);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut events = |event: &Event<'_>| send(event.clone().into_owned());
        let mut text = |text: &str| send(Event::Text { choice: 0, text: text.to_string().into() });
        let sink = match mode {
            Mode::Text => Sink::Text(&mut text),
            Mode::Events => Sink::Events(&mut events),
        };
        drive(&resolved, &transport, &spare, &stop, sink)
    }))
    .unwrap_or_else(|_| Err(Error::new(ErrorKind::Internal, "internal error: the request thread panicked")));
    drop(flusher);
    // The caller may be gone (the call was abandoned); nobody is left to tell then.
    producer.send_last(Queued::End(result));
}

/// Abandons the call when the caller's side goes away, however it goes: the request stops and
/// a library thread waiting for room in the queue lets go.
struct Hangup {
    stop: Stop,
    mailbox: Arc<Mailbox<Queued>>,
}

impl Drop for Hangup {
    fn drop(&mut self) {
        self.stop.abandon();
        self.mailbox.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggered_token_fails_before_any_network_work() {
        let token = CancelToken::new();
        token.trigger();
        let client = Client::default();
        let req = Request::from_json(r#"{"messages":[],"base_url":"http://192.0.2.1"}"#).unwrap();
        let err = client.create_completion(req, Some(&token), &mut |_: &str| true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled);
    }
}
