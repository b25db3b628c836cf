//! The client: client-wide defaults plus one transport (so one connection pool), usable from
//! many threads at once.
//!
//! The network I/O of every call runs on the reactor (`crate::reactor`), one library thread for
//! the whole process; the answer is decoded on the caller's thread, in one of two ways:
//! - pushed (`create_completion`): the call waits for bytes and decodes them as they arrive,
//!   calling the sink as each chunk is decoded.
//! - pulled (`start`, then [`Call::next`]): nothing runs between the caller's pulls; each pull
//!   decodes what arrived and returns its events, for callers that can't take a callback
//!   cheaply (FFI relays, event loops) or must not block. A pulled call costs no thread.
//!
//! Either way the caller chooses a [`Mode`]: the text of choice 0, or every event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::answer::{Assembler, Mode, NulEventSink, Sink};
use crate::cancel::CancelToken;
use crate::env::Env;
use crate::error::{Error, ErrorKind};
use crate::event::{Event, EventSink};
use crate::providers::{
    self, Provider,
    driver::{Advance, Run},
};
use crate::pulled::Pulled;
use crate::reactor::Engine;
use crate::reactor::signal::Notify;
use crate::request::{Request, Resolved, Settings, TlsRoots, protocol_named};
use crate::secret;
use crate::spare::Spare;
use crate::stop::Stop;
use crate::transport::Transport;

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
        let variables = providers::REGISTRY
            .iter()
            .flat_map(|p| p.base_url_env().into_iter().chain(p.api_key_envs()).chain(p.env_vars().iter().copied()));
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
        protocol_named(defaults.provider.as_deref(), providers::REGISTRY, "options")?;
        let ca_file = defaults.ca_file.clone();
        let client = Client::new(defaults);
        if let Some(path) = ca_file {
            client.transport.tls_config(&TlsRoots::File(path))?;
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
        let (protocol, resolved, stop) = self.prepare(request, cancel)?;
        drive(protocol, &resolved, &self.transport, &self.spare, &stop, sink)
    }

    /// Starts one completion and returns at once (its request is on its way); its events (only
    /// choice 0's text in `Mode::Text`) are pulled with [`Call::next`].
    pub fn start(&self, request: Request, cancel: Option<&CancelToken>, mode: Mode) -> Result<Call, Error> {
        let (protocol, resolved, stop) = self.prepare(request, cancel)?;
        let notify = Arc::new(Notify::default());
        let run = {
            let _masked = secret::scope(resolved.secrets());
            Run::start(protocol, &resolved, &self.transport, &stop, Engine::Thread, Some(notify.clone()))
                .map_err(|e| redact(e, &resolved))?
        };
        Ok(Call {
            deadline: resolved.net.deadline,
            timeout_ms: resolved.net.timeout.as_millis(),
            out: Assembler::new(Sink::queue(mode)).with_spare(self.spare.clone()).with_result(resolved.result),
            run,
            resolved,
            transport: self.transport.clone(),
            stop,
            notify,
            mode,
            ended: None,
        })
    }

    /// The call starting now: its protocol (looked up once, here), the request merged with
    /// this client's defaults, and its stop; fails at once when the token has already fired.
    fn prepare(&self, request: Request, cancel: Option<&CancelToken>) -> Result<(Provider, Resolved, Stop), Error> {
        let (protocol, resolved) = providers::resolve(request, &self.defaults, &self.env, Instant::now())?;
        let stop = Stop::new(cancel.cloned());
        match stop.reason() {
            Some(reason) => Err(reason),
            None => Ok((protocol, resolved, stop)),
        }
    }
}

/// Runs the provider into an assembler of `mode` feeding `sink`, then ends the answer. A sink
/// that returns false ends it with `Error::stopped_by_sink()`. The call's secrets are masked
/// out of every server text while it runs, and out of its error at the end.
fn drive(
    protocol: Provider,
    r: &Resolved,
    transport: &Transport,
    spare: &Arc<Spare>,
    stop: &Stop,
    sink: Sink<'_>,
) -> Result<(), Error> {
    let _masked = secret::scope(r.secrets());
    let mut out = Assembler::new(sink).with_spare(spare.clone()).with_result(r.result);
    let result = providers::driver::run(protocol, r, transport, stop, &mut out).and_then(|()| out.end());
    result.map_err(|e| redact(e, r))
}

fn redact(e: Error, r: &Resolved) -> Error {
    e.redacted(&secret::maskable(r.secrets()))
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

/// A running completion, decoded as the caller pulls it. Dropping it abandons the request: the
/// reactor closes its connection.
pub struct Call {
    run: Run,
    out: Assembler<'static>,
    resolved: Resolved,
    transport: Transport,
    stop: Stop,
    notify: Arc<Notify>,
    mode: Mode,
    deadline: Instant,
    timeout_ms: u128,
    /// How the answer ended, once it did: returned after the events decoded before it.
    ended: Option<Result<(), Error>>,
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
        self.decode_until(wait);
        let next = match self.out.queued().and_then(Pulled::pop) {
            Some(event) => Ok(Next::Event(event)),
            None => match &self.ended {
                Some(ended) => ended.clone().map(|()| Next::End),
                None => Ok(Next::Pending),
            },
        };
        self.after_pull(next.is_err() || matches!(next, Ok(Next::End)));
        next.inspect_err(|_| self.stop.abandon())
    }

    /// Everything decoded within `wait` (see [`Call::next`]), handed to `take` at once; returns
    /// whether the call finished (nothing follows). A failure is returned once the items that
    /// preceded it were taken.
    pub(crate) fn pull(&mut self, wait: Option<Duration>, take: impl FnOnce(&mut Pulled)) -> Result<bool, Error> {
        self.decode_until(wait);
        let queued = self.out.queued().is_some_and(|q| !q.is_empty());
        let result = match (&self.ended, queued) {
            (_, true) => {
                if let Some(q) = self.out.queued() {
                    take(q);
                }
                let rest = self.out.queued().is_some_and(|q| !q.is_empty());
                Ok(!rest && matches!(self.ended, Some(Ok(()))))
            }
            (Some(ended), false) => ended.clone().map(|()| true),
            (None, false) => Ok(false),
        };
        self.after_pull(result.is_err() || matches!(result, Ok(true)));
        result.inspect_err(|_| self.stop.abandon())
    }

    /// Keeps the descriptor up to date after a pull: readable while decoded items wait, while
    /// an end not yet returned waits (a failure decoded in the same pass as the items just
    /// returned: the reactor, done with the exchange, will not raise it again), and for good once
    /// the call ended.
    fn after_pull(&mut self, ended: bool) {
        let held = ended || self.ended.is_some() || self.out.queued().is_some_and(|q| !q.is_empty());
        self.notify.set_held(held);
    }

    /// Decodes what arrives until something is there to return (an item, the end), waiting up
    /// to `wait` for it.
    fn decode_until(&mut self, wait: Option<Duration>) {
        let until = wait.map_or(self.deadline, |w| Instant::now() + w);
        let done = |call: &mut Call| call.ended.is_some() || call.out.queued().is_some_and(|q| !q.is_empty());
        if done(self) {
            return; // a pull of what is already decoded needs no secrets masked
        }
        let _masked = secret::scope(self.resolved.secrets());
        loop {
            if done(self) {
                return;
            }
            match self.run.advance(&self.resolved, &self.transport, &self.stop, &mut self.out) {
                Advance::Ended(result) => {
                    let result = result.and_then(|()| self.out.end()).map_err(|e| redact(e, &self.resolved));
                    self.ended = Some(result);
                    continue;
                }
                Advance::Decoded => continue,
                Advance::Idle => {}
            }
            if let Some(reason) = self.stop.reason() {
                self.ended = Some(Err(reason));
                continue;
            }
            if Instant::now() >= self.deadline {
                self.ended = Some(Err(Error::new(
                    ErrorKind::Timeout,
                    format!("the call took longer than timeout_ms={}", self.timeout_ms),
                )));
                continue;
            }
            if Instant::now() >= until {
                return;
            }
            self.run.wait(Some(until.min(self.deadline)));
        }
    }

    /// A descriptor that is readable while [`Call::next`] has something to return without
    /// waiting; see `reactor::signal`. Made on first use, owned by the call.
    pub fn fd(&self) -> Result<i32, Error> {
        self.notify.fd()
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.stop.abandon();
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
