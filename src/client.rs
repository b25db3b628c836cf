//! The client: client-wide defaults plus one transport (so one connection pool), usable from
//! many threads at once.
//!
//! Each call runs the provider and its HTTP exchange on a library thread, while the calling
//! thread waits for chunks and hands them to the sink (or pulls them, see [`Call`]). That split is what lets a call return
//! promptly on cancel or on its deadline even while a socket read is blocked, keeps the sink on
//! the caller's thread, and keeps TLS and parsing off small foreign stacks (koffi, green threads).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread;
use std::time::{Duration, Instant};

use crate::cancel::CancelToken;
use crate::error::{Error, ErrorKind};
use crate::request::{Request, Resolved, Secret, Settings};
use crate::transport::{Abandon, Transport};

/// How often a waiting call looks at its cancel token.
const CANCEL_POLL: Duration = Duration::from_millis(5);
/// Chunks decoded ahead of the sink; bounds memory when the sink is slower than the network.
const CHUNK_QUEUE: usize = 64;

/// One piece of completion text. It keeps a trailing NUL so C callers get a C string without a
/// copy; `as_str` leaves it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk(String);

impl Chunk {
    fn new(text: &str) -> Chunk {
        let mut s = String::with_capacity(text.len() + 1);
        s.push_str(text);
        s.push('\0');
        Chunk(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0[..self.0.len() - 1]
    }

    /// The text followed by one NUL byte.
    pub fn as_bytes_with_nul(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

enum Event {
    Chunk(Chunk),
    End(Result<(), Error>),
}

#[derive(Debug, Clone, Default)]
pub struct Client {
    defaults: Settings,
    transport: Transport,
}

impl Client {
    pub fn new(defaults: Settings) -> Client {
        Client { defaults, transport: Transport::new() }
    }

    /// A client from options JSON (`None` for library defaults).
    pub fn from_options_json(json: Option<&str>) -> Result<Client, Error> {
        let defaults = match json {
            Some(json) => Settings::options_from_json(json)?,
            None => Settings::default(),
        };
        Ok(Client::new(defaults))
    }

    /// Runs one completion, handing each chunk to `sink` on this thread as it arrives.
    /// `sink` returns `false` to stop: the call then fails with `ErrorKind::Cancelled`.
    pub fn create_completion(
        &self,
        request: Request,
        cancel: Option<&CancelToken>,
        sink: &mut dyn FnMut(&Chunk) -> bool,
    ) -> Result<(), Error> {
        let mut call = self.start(request, cancel)?;
        loop {
            match call.next(None)? {
                Next::Chunk(chunk) if !sink(&chunk) => return Err(Error::stopped_by_sink()),
                Next::Chunk(_) | Next::Pending => {}
                Next::End => return Ok(()),
            }
        }
    }

    /// Starts one completion and returns at once; its chunks are pulled with [`Call::next`].
    pub fn start(&self, request: Request, cancel: Option<&CancelToken>) -> Result<Call, Error> {
        let resolved = Resolved::new(request, &self.defaults)?;
        let cancel = cancel.cloned();
        if cancel.as_ref().is_some_and(CancelToken::is_triggered) {
            return Err(cancelled_error());
        }
        let (tx, events) = sync_channel(CHUNK_QUEUE);
        let abandon = Abandon::default();
        let call = Call {
            deadline: Instant::now() + resolved.timeout,
            timeout_ms: resolved.timeout.as_millis(),
            api_key: resolved.api_key.clone(),
            events,
            cancel,
            abandon: AbandonOnDrop(abandon.clone()),
            ended: false,
        };
        let transport = self.transport.clone();
        thread::Builder::new()
            .name("aichat-request".into())
            .spawn(move || run_worker(resolved, transport, abandon, tx))
            .map_err(|e| Error::new(ErrorKind::Io, format!("could not start the request thread: {e}")))?;
        Ok(call)
    }
}

/// What [`Call::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Chunk(Chunk),
    /// Nothing arrived within the wait.
    Pending,
    /// The completion finished; every chunk was returned.
    End,
}

/// A running completion. Dropping it abandons the request: its library thread stops at its
/// next read and closes the connection.
pub struct Call {
    events: Receiver<Event>,
    cancel: Option<CancelToken>,
    deadline: Instant,
    timeout_ms: u128,
    /// Masked out of error messages.
    api_key: Option<Secret>,
    abandon: AbandonOnDrop,
    ended: bool,
}

impl Call {
    /// The next chunk, waiting up to `wait` (`None`: until something happens). Fails with the
    /// call's error once the chunks that arrived before it were returned, with
    /// `ErrorKind::Cancelled` once the cancel token fired, and with `ErrorKind::Timeout` past
    /// `timeout_ms`.
    pub fn next(&mut self, wait: Option<Duration>) -> Result<Next, Error> {
        self.next_inner(wait).map_err(|e| {
            self.ended = true;
            self.abandon.0.set();
            match &self.api_key {
                Some(key) => e.redacted(key.expose()),
                None => e,
            }
        })
    }

    fn next_inner(&mut self, wait: Option<Duration>) -> Result<Next, Error> {
        if self.ended {
            return Ok(Next::End);
        }
        let until = wait.map(|w| Instant::now() + w);
        loop {
            let limit = until.map_or(self.deadline, |u| u.min(self.deadline));
            match self.events.recv_timeout(limit.saturating_duration_since(Instant::now()).min(CANCEL_POLL)) {
                Ok(Event::Chunk(chunk)) => return Ok(Next::Chunk(chunk)),
                Ok(Event::End(result)) => {
                    self.ended = true;
                    return result.map(|()| Next::End);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::new(ErrorKind::Internal, "the request thread ended without a result"));
                }
            }
            if self.cancel.as_ref().is_some_and(CancelToken::is_triggered) {
                return Err(cancelled_error());
            }
            let now = Instant::now();
            if now >= self.deadline {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("the call took longer than timeout_ms={}", self.timeout_ms),
                ));
            }
            if until.is_some_and(|u| now >= u) {
                return Ok(Next::Pending);
            }
        }
    }
}

fn run_worker(resolved: Resolved, transport: Transport, abandon: Abandon, tx: SyncSender<Event>) {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut sink = |text: &str| !abandon.is_set() && tx.send(Event::Chunk(Chunk::new(text))).is_ok();
        resolved.provider.run(&resolved, &transport, &abandon, &mut sink)
    }))
    .unwrap_or_else(|_| Err(Error::new(ErrorKind::Internal, "internal error: the request thread panicked")));
    // The receiver may be gone (the call was abandoned); nobody is left to tell then.
    let _ = tx.send(Event::End(result));
}

fn cancelled_error() -> Error {
    Error::cancelled("cancelled by the cancel token")
}

struct AbandonOnDrop(Abandon);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_keeps_a_trailing_nul_outside_its_text() {
        let c = Chunk::new("héllo");
        assert_eq!(c.as_str(), "héllo");
        assert_eq!(c.as_bytes_with_nul(), "héllo\0".as_bytes());
    }

    #[test]
    fn triggered_token_fails_before_any_network_work() {
        let token = CancelToken::new();
        token.trigger();
        let client = Client::default();
        let req = Request::from_json(r#"{"messages":[],"base_url":"http://192.0.2.1"}"#).unwrap();
        let err = client.create_completion(req, Some(&token), &mut |_| true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled);
    }
}
