//! One HTTP exchange on the reactor, from the first attempt to the end of the body: look the
//! name up, connect (directly, through an HTTP proxy's CONNECT tunnel or a SOCKS proxy), start
//! TLS, send the request, read the head, retry as the retry rules say, then move the body to
//! the caller and the connection to the pool. Nothing here waits: each turn does what the
//! socket allows and says when the task next needs the reactor (a timer, another turn).
//!
//! HTTP/1.1 itself (request head, content length, status line, headers, chunked and
//! length-delimited bodies, whether a connection may be kept) is ureq-proto's `Call`.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mio::{Interest, Registry};
use ureq_proto::BodyMode;
use ureq_proto::client::state::{RecvBody, RecvResponse};
use ureq_proto::client::{Call, RecvBodyResult, RecvResponseResult, SendRequestResult};
use ureq_proto::http;

use super::Cx;
use super::conn::{Conn, Recv, TlsError};
use super::dns::{self, Job};
use super::exchange::{Append, Exchange, Head};
use super::pool::PoolKey;
use super::socks::Socks;
use crate::error::{Error, ErrorKind, server_text};
use crate::transport::{HttpRequest, NetSettings, RetryAfter, backoff, parse_retry_after, retryable_status};

/// Largest status line and headers taken from a server (or a proxy).
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// How much of an answer is read after the caller left, so the connection can be reused.
const DRAIN_BYTES: u64 = 64 * 1024;
/// How long that may take.
const DRAIN_TIME: Duration = Duration::from_millis(500);
/// Where servers put the id of a request, most common first: OpenAI, Anthropic, OpenRouter.
const REQUEST_ID_HEADERS: [&str; 4] = ["x-request-id", "request-id", "x-generation-id", "x-amzn-requestid"];

/// Which way the socket is ready.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ready {
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// The peer closed its side: reads go on to the end, since no later event will say so.
    pub(crate) read_closed: bool,
}

/// What the task asks of the reactor after a turn.
pub(crate) enum Step {
    /// Wait for the socket, a command, or the deadline.
    Wait(Option<Instant>),
    /// Give it another turn soon (it stopped reading to let others have theirs).
    Again(Option<Instant>),
    /// Finished; keep the connection for the next request to the same place, if given.
    Done(Option<(PoolKey, Conn)>),
}

/// How a call reaches its server.
#[derive(Debug, Clone)]
pub(crate) enum Route {
    Direct,
    /// An HTTP proxy, through a CONNECT tunnel (for http:// and https:// targets alike).
    Tunnel {
        host: String,
        port: u16,
        /// `Proxy-Authorization` value.
        auth: Option<String>,
    },
    Socks {
        version: super::socks::Version,
        host: String,
        port: u16,
        user: Option<String>,
        password: Option<String>,
    },
}

/// What the transport hands the reactor for one call.
pub(crate) struct Plan {
    pub(crate) request: HttpRequest,
    pub(crate) net: NetSettings,
    pub(crate) route: Route,
    /// The TLS settings, for an https:// target.
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    pub(crate) pool: PoolKey,
    /// Attempts already spent on this call (a retry of a failure found after the head).
    pub(crate) attempts_before: u32,
    /// Not before then (a retry's back-off).
    pub(crate) not_before: Option<Instant>,
    /// `host:port` for messages.
    pub(crate) host: String,
    pub(crate) target_host: String,
    pub(crate) target_port: u16,
}

enum Phase {
    /// Before an attempt: a back-off, or a retry's wait.
    Waiting(Instant),
    /// A lookup is out on the pool.
    Resolving,
    /// A SOCKS handshake is out on the pool.
    Socks,
    Connecting {
        addrs: Vec<SocketAddr>,
        next: usize,
    },
    /// The proxy's CONNECT request is sent; its answer is awaited.
    Tunnel,
    /// The request goes out and its answer's head is awaited.
    Head(Call<RecvResponse>),
    Body(Call<RecvBody>),
    /// The caller left after the end it wanted: what is left is read (a little), so the
    /// connection can be pooled.
    Draining(Call<RecvBody>, Instant),
    Done,
}

pub(crate) struct Task {
    ex: Arc<Exchange>,
    plan: Plan,
    phase: Phase,
    conn: Option<Conn>,
    /// Attempts started, counting those before this task.
    attempt: u32,
    /// A failed request on a pooled connection was sent again on a fresh one.
    fresh_retry_used: bool,
    /// The connection of this attempt came from the pool.
    reused: bool,
    /// Some byte of this attempt's answer arrived.
    answered: bool,
    /// The poller said the peer closed (see `Ready::read_closed`).
    peer_closed: bool,
    /// Reading stopped until the caller takes what waits for it (`exchange::HIGH`).
    paused: bool,
    /// Bytes to send (the CONNECT request, then the request) and how many went out.
    out: Vec<u8>,
    out_pos: usize,
    /// The request as ureq-proto wrote it, kept across attempts (in `out` while it is sent).
    request_bytes: Vec<u8>,
    /// `out` holds the request (moved there from `request_bytes`, not copied).
    out_is_request: bool,
    /// How much of the request is its head: the part with credentials, wiped when done.
    head_len: usize,
    /// ureq-proto's state past that request, for the first attempt (a retry makes its own).
    first_call: Option<Call<RecvResponse>>,
    /// Received bytes not yet consumed (a partial head or chunk header).
    inbuf: Vec<u8>,
    attempt_started: Instant,
    last_progress: Instant,
    gzip: Option<Box<flate2::write::GzDecoder<Vec<u8>>>>,
    drained: u64,
}

impl Drop for Task {
    fn drop(&mut self) {
        // The request's bytes hold its credentials.
        // Only the head holds credentials; the body (up to 64 MiB) is the caller's own text.
        for bytes in [&mut self.request_bytes, &mut self.out] {
            let head = self.head_len.min(bytes.len());
            zeroize::Zeroize::zeroize(&mut bytes[..head]);
        }
    }
}

/// Why an attempt failed, and whether the request surely did not reach the server whole: only
/// then is it sent again, so that a server can't act on (and bill) one request twice.
struct Failure {
    error: Error,
    unsent: bool,
}

impl Task {
    pub(crate) fn new(ex: Arc<Exchange>, plan: Plan) -> Result<Task, Error> {
        let mut request_bytes = Vec::new();
        // A signed request is written when each attempt starts, with its signature of then.
        let first_call = match plan.request.signer {
            None => Some(drive_request(&plan.request, &mut request_bytes)?),
            Some(_) => None,
        };
        let head_len = request_bytes.len().saturating_sub(plan.request.body.len());
        let now = Instant::now();
        Ok(Task {
            ex,
            attempt: plan.attempts_before,
            plan,
            phase: Phase::Done,
            conn: None,
            fresh_retry_used: false,
            reused: false,
            answered: false,
            peer_closed: false,
            paused: false,
            out: Vec::new(),
            out_pos: 0,
            request_bytes,
            out_is_request: false,
            head_len,
            first_call,
            inbuf: Vec::new(),
            attempt_started: now,
            last_progress: now,
            gzip: None,
            drained: 0,
        })
    }

    pub(crate) fn exchange(&self) -> &Arc<Exchange> {
        &self.ex
    }

    pub(crate) fn runs(&self, ex: &Arc<Exchange>) -> bool {
        Arc::ptr_eq(&self.ex, ex)
    }

    pub(crate) fn close(&mut self, registry: &Registry) {
        if let Some(conn) = self.conn.take() {
            conn.close(registry);
        }
        self.phase = Phase::Done;
    }

    /// The first turn.
    pub(crate) fn begin(&mut self, cx: &mut Cx<'_>) -> Step {
        if let Some(step) = self.stopped(cx) {
            return step;
        }
        // The caller left before the reactor took the task (its Look found no slot yet).
        if self.ex.is_gone() {
            return Step::Done(None);
        }
        match self.plan.not_before.take() {
            Some(until) if until > Instant::now() => {
                self.phase = Phase::Waiting(until);
                Step::Wait(self.deadline())
            }
            _ => self.attempt(cx),
        }
    }

    /// A new attempt: a pooled connection if there is one, else a new one.
    fn attempt(&mut self, cx: &mut Cx<'_>) -> Step {
        self.attempt += 1;
        if std::mem::take(&mut self.out_is_request) {
            self.request_bytes = std::mem::take(&mut self.out);
        }
        if self.plan.request.signer.is_some() {
            if let Err(error) = self.sign_request() {
                return self.fail(cx, Failure { error, unsent: false });
            }
        }
        let now = Instant::now();
        self.attempt_started = now;
        self.last_progress = now;
        self.answered = false;
        self.peer_closed = false;
        self.paused = false;
        self.inbuf.clear();
        self.gzip = None;
        // A retry because a pooled connection had been closed goes on a fresh one.
        let idle = if self.fresh_retry_used { None } else { super::pool::take(&self.plan.pool) };
        if let Some(mut conn) = idle {
            if conn.register(cx.registry, cx.token, Interest::READABLE | Interest::WRITABLE).is_ok() {
                self.reused = true;
                self.conn = Some(conn);
                return self.send_request(cx);
            }
            conn.close(cx.registry);
        }
        self.reused = false;
        match &self.plan.route {
            Route::Socks { version, host, port, user, password } => {
                let socks = Socks {
                    version: *version,
                    proxy_host: host.clone(),
                    proxy_port: *port,
                    user: user.clone(),
                    password: password.clone(),
                    target_host: self.plan.target_host.clone(),
                    target_port: self.plan.target_port,
                    timeout: self.plan.net.connect_timeout,
                };
                self.phase = Phase::Socks;
                match dns::submit(Job::Socks { socks, ex: self.ex.clone() }) {
                    Ok(()) => Step::Wait(self.deadline()),
                    Err(error) => self.fail(cx, Failure { error, unsent: false }),
                }
            }
            Route::Direct | Route::Tunnel { .. } => {
                let (host, port) = match &self.plan.route {
                    Route::Tunnel { host, port, .. } => (host.clone(), *port),
                    _ => (self.plan.target_host.clone(), self.plan.target_port),
                };
                if let Some(addrs) = dns::cached(&host, port) {
                    return self.connect(cx, addrs, 0);
                }
                self.phase = Phase::Resolving;
                match dns::submit(Job::Resolve { host, port, ex: self.ex.clone() }) {
                    Ok(()) => Step::Wait(self.deadline()),
                    Err(error) => self.fail(cx, Failure { error, unsent: false }),
                }
            }
        }
    }

    pub(crate) fn resolved(&mut self, cx: &mut Cx<'_>, result: Result<Vec<SocketAddr>, Error>) -> Step {
        if !matches!(self.phase, Phase::Resolving) {
            return Step::Wait(self.deadline());
        }
        match result {
            Ok(addrs) => self.connect(cx, addrs, 0),
            Err(error) => self.fail(cx, Failure { error, unsent: true }),
        }
    }

    pub(crate) fn tunnelled(&mut self, cx: &mut Cx<'_>, result: Result<std::net::TcpStream, Error>) -> Step {
        if !matches!(self.phase, Phase::Socks) {
            return Step::Wait(self.deadline());
        }
        let stream = match result {
            Ok(stream) => stream,
            Err(error) => return self.fail(cx, Failure { error, unsent: true }),
        };
        if let Err(e) = stream.set_nonblocking(true) {
            return self.fail(cx, self.connect_failure(e));
        }
        let mut conn = Conn::new(mio::net::TcpStream::from_std(stream));
        if let Err(e) = conn.register(cx.registry, cx.token, Interest::READABLE | Interest::WRITABLE) {
            return self.fail(cx, self.connect_failure(e));
        }
        self.conn = Some(conn);
        self.secure_and_send(cx)
    }

    /// Starts a non-blocking connect to `addrs[next]`, or the next address that takes one.
    fn connect(&mut self, cx: &mut Cx<'_>, addrs: Vec<SocketAddr>, mut next: usize) -> Step {
        let mut last = None;
        while next < addrs.len() {
            let addr = addrs[next];
            next += 1;
            match mio::net::TcpStream::connect(addr) {
                Ok(sock) => {
                    let mut conn = Conn::new(sock);
                    match conn.register(cx.registry, cx.token, Interest::READABLE | Interest::WRITABLE) {
                        Ok(()) => {
                            self.conn = Some(conn);
                            self.phase = Phase::Connecting { addrs, next };
                            return Step::Wait(self.deadline());
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(e) => last = Some(e),
            }
        }
        let e = last.unwrap_or_else(|| std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        self.fail(cx, self.connect_failure(e))
    }

    fn connect_failure(&self, e: std::io::Error) -> Failure {
        let to = match &self.plan.route {
            Route::Tunnel { host, port, .. } => format!("the proxy {host}:{port}"),
            _ => self.plan.host.clone(),
        };
        Failure { error: Error::new(ErrorKind::Connect, format!("could not connect to {to}: {e}")), unsent: true }
    }

    /// The TCP connection is up: tunnel through the proxy, or go on to TLS and the request.
    fn connected(&mut self, cx: &mut Cx<'_>) -> Step {
        if let Route::Tunnel { auth, .. } = &self.plan.route {
            let target = format!("{}:{}", self.plan.target_host, self.plan.target_port);
            let mut connect = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
            connect.push_str(concat!("User-Agent: aichat/", env!("CARGO_PKG_VERSION"), "\r\n"));
            if let Some(auth) = auth {
                connect.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
            }
            connect.push_str("\r\n");
            self.out = connect.into_bytes();
            self.out_pos = 0;
            self.phase = Phase::Tunnel;
            return self.pump(cx);
        }
        self.secure_and_send(cx)
    }

    fn secure_and_send(&mut self, cx: &mut Cx<'_>) -> Step {
        match self.secure() {
            Ok(()) => self.send_request(cx),
            Err(failure) => self.fail(cx, failure),
        }
    }

    /// Starts TLS over the connection, for an https:// target.
    fn secure(&mut self) -> Result<(), Failure> {
        if let (Some(tls), Some(conn)) = (&self.plan.tls, &mut self.conn) {
            if let Err(e) = conn.start_tls(tls.clone(), &self.plan.target_host) {
                let error = Error::new(ErrorKind::Connect, format!("TLS with {} failed: {e}", self.plan.host));
                return Err(Failure { error, unsent: true });
            }
        }
        Ok(())
    }

    fn send_request(&mut self, cx: &mut Cx<'_>) -> Step {
        match self.queue_request() {
            Ok(()) => self.pump(cx),
            Err(failure) => self.fail(cx, failure),
        }
    }

    /// Signs the request for this attempt and writes it anew (the old head, with the old
    /// signature, wiped).
    fn sign_request(&mut self) -> Result<(), Error> {
        let head = self.head_len.min(self.request_bytes.len());
        zeroize::Zeroize::zeroize(&mut self.request_bytes[..head]);
        self.request_bytes.clear();
        self.plan.request.sign_now()?;
        self.first_call = Some(drive_request(&self.plan.request, &mut self.request_bytes)?);
        self.head_len = self.request_bytes.len() - self.plan.request.body.len();
        Ok(())
    }

    /// Puts the request in the output and waits for the answer's head.
    fn queue_request(&mut self) -> Result<(), Failure> {
        let call = match self.first_call.take() {
            Some(call) => call,
            None => response_call(&self.plan.request).map_err(|error| Failure { error, unsent: true })?,
        };
        // What `out` held (a CONNECT request) may carry the proxy's password.
        zeroize::Zeroize::zeroize(&mut self.out);
        self.out = std::mem::take(&mut self.request_bytes);
        self.out_is_request = true;
        self.out_pos = 0;
        self.phase = Phase::Head(call);
        Ok(())
    }

    /// The socket is ready.
    pub(crate) fn ready(&mut self, cx: &mut Cx<'_>, ready: Ready) -> Step {
        self.peer_closed |= ready.read_closed;
        match &self.phase {
            Phase::Connecting { .. } if ready.readable || ready.writable => {
                let Some(conn) = &mut self.conn else { return Step::Wait(self.deadline()) };
                match conn.connected() {
                    Ok(true) => self.connected(cx),
                    Ok(false) => Step::Wait(self.deadline()),
                    Err(e) => {
                        let Phase::Connecting { addrs, next } = std::mem::replace(&mut self.phase, Phase::Done) else {
                            unreachable!()
                        };
                        if let Some(conn) = self.conn.take() {
                            conn.close(cx.registry);
                        }
                        if next < addrs.len() && is_address_specific(&e) {
                            return self.connect(cx, addrs, next);
                        }
                        self.fail(cx, self.connect_failure(e))
                    }
                }
            }
            Phase::Tunnel | Phase::Head(_) | Phase::Body(_) | Phase::Draining(..) => self.pump(cx),
            _ => Step::Wait(self.deadline()),
        }
    }

    /// The caller's side changed: it took bytes (resume reading), left, or was cancelled.
    pub(crate) fn look(&mut self, cx: &mut Cx<'_>) -> Step {
        if let Some(step) = self.stopped(cx) {
            return step;
        }
        if self.ex.is_gone() {
            return match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Body(call) => {
                    self.phase = Phase::Draining(call, Instant::now() + DRAIN_TIME);
                    self.pump(cx)
                }
                phase @ Phase::Draining(..) => {
                    self.phase = phase;
                    Step::Wait(self.deadline())
                }
                _ => {
                    self.close(cx.registry);
                    Step::Done(None)
                }
            };
        }
        match self.phase {
            Phase::Body(_) => {
                // The caller took what waited (or looked for more): read on.
                self.paused = false;
                self.last_progress = Instant::now();
                self.pump(cx)
            }
            _ => Step::Wait(self.deadline()),
        }
    }

    /// Ends the task if its call was cancelled or abandoned (unless the caller already had its
    /// answer and the connection is being drained for the pool).
    fn stopped(&mut self, cx: &mut Cx<'_>) -> Option<Step> {
        if matches!(self.phase, Phase::Draining(..)) {
            return None;
        }
        let reason = self.ex.stop().reason()?;
        self.close(cx.registry);
        self.ex.finish(Err(reason));
        Some(Step::Done(None))
    }

    /// A timer went off: whatever is due.
    pub(crate) fn timer(&mut self, cx: &mut Cx<'_>) -> Step {
        if let Some(step) = self.stopped(cx) {
            return step;
        }
        let now = Instant::now();
        let net = &self.plan.net;
        let host = &self.plan.host;
        if let Phase::Draining(_, until) = self.phase {
            if now >= until {
                self.close(cx.registry);
                return Step::Done(None);
            }
            return Step::Wait(self.deadline());
        }
        if now >= net.deadline {
            let error = Error::new(
                ErrorKind::Timeout,
                format!("the call to {host} took longer than timeout_ms={}", net.timeout.as_millis()),
            );
            self.close(cx.registry);
            self.ex.finish(Err(error));
            return Step::Done(None);
        }
        match &self.phase {
            Phase::Waiting(until) if now >= *until => return self.attempt(cx),
            Phase::Resolving | Phase::Socks | Phase::Connecting { .. } | Phase::Tunnel
                if now >= self.attempt_started + net.connect_timeout =>
            {
                return self.fail(cx, self.connect_timeout());
            }
            Phase::Head(_) if self.handshaking() && now >= self.attempt_started + net.connect_timeout => {
                return self.fail(cx, self.connect_timeout());
            }
            Phase::Head(_) if !self.handshaking() && now >= self.last_progress + net.idle_timeout => {
                let sending = self.out_pos < self.out.len() || self.conn.as_ref().is_some_and(Conn::wants_write);
                let failure = if sending {
                    Failure {
                        error: Error::new(
                            ErrorKind::Timeout,
                            format!(
                                "{host} took none of the request for longer than idle_timeout_ms={}",
                                net.idle_timeout.as_millis()
                            ),
                        ),
                        unsent: true,
                    }
                } else {
                    Failure { error: self.idle_timeout(), unsent: false }
                };
                return self.fail(cx, failure);
            }
            Phase::Body(_) if !self.paused && now >= self.last_progress + net.idle_timeout => {
                let error = self.idle_timeout();
                return self.fail(cx, Failure { error, unsent: false });
            }
            _ => {}
        }
        Step::Wait(self.deadline())
    }

    /// A TLS handshake counts as connecting (`connect_timeout_ms`, and a retry if it fails).
    fn handshaking(&self) -> bool {
        self.conn.as_ref().is_some_and(Conn::is_handshaking)
    }

    fn connect_timeout(&self) -> Failure {
        let error = Error::new(
            ErrorKind::Timeout,
            format!(
                "connecting to {} timed out (connect_timeout_ms={})",
                self.plan.host,
                self.plan.net.connect_timeout.as_millis()
            ),
        );
        Failure { error, unsent: true }
    }

    fn idle_timeout(&self) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "{} sent nothing for longer than idle_timeout_ms={}",
                self.plan.host,
                self.plan.net.idle_timeout.as_millis()
            ),
        )
    }

    /// When the task next needs a timer.
    fn deadline(&self) -> Option<Instant> {
        let net = &self.plan.net;
        let phase = match &self.phase {
            Phase::Waiting(until) => Some(*until),
            Phase::Resolving | Phase::Socks | Phase::Connecting { .. } | Phase::Tunnel => {
                Some(self.attempt_started + net.connect_timeout)
            }
            Phase::Head(_) if self.handshaking() => Some(self.attempt_started + net.connect_timeout),
            Phase::Head(_) => Some(self.last_progress + net.idle_timeout),
            // A slow caller is not the server's silence: no idle timer while paused.
            Phase::Body(_) if self.paused => None,
            Phase::Body(_) => Some(self.last_progress + net.idle_timeout),
            Phase::Draining(_, until) => return Some(*until),
            Phase::Done => return None,
        };
        Some(phase.map_or(net.deadline, |p| p.min(net.deadline)))
    }

    /// Moves bytes both ways as far as the socket allows, handling what arrives.
    fn pump(&mut self, cx: &mut Cx<'_>) -> Step {
        let mut read = 0;
        loop {
            if let Err(e) = self.write_out() {
                return self.io_failure(cx, e);
            }
            if matches!(self.phase, Phase::Done) {
                return Step::Done(None);
            }
            if self.paused && matches!(self.phase, Phase::Body(_)) {
                return Step::Wait(self.deadline());
            }
            let Some(conn) = &mut self.conn else { return Step::Done(None) };
            let received = conn.recv(cx.scratch);
            match received {
                Ok(Recv::Data(n)) => {
                    // A plain socket that gave less than asked for is empty (epoll(7)): the next
                    // bytes bring a new readiness event, so no read is spent to hear "would block".
                    // Not once the peer closed: its end was announced with the bytes, and no
                    // later event will announce it again.
                    let drained = n < cx.scratch.len() && !conn.is_tls() && !self.peer_closed;
                    read += n;
                    self.last_progress = Instant::now();
                    let scratch = std::mem::take(cx.scratch);
                    let step = self.input(cx, &scratch[..n]);
                    *cx.scratch = scratch;
                    if let Some(step) = step {
                        return step;
                    }
                    if drained && self.out_pos >= self.out.len() {
                        return Step::Wait(self.deadline());
                    }
                    if read >= cx.read_turn {
                        return Step::Again(self.deadline());
                    }
                }
                Ok(Recv::WouldBlock) => return Step::Wait(self.deadline()),
                Ok(Recv::Eof) => return self.eof(cx),
                Err(e) => return self.io_failure(cx, e),
            }
        }
    }

    fn write_out(&mut self) -> std::io::Result<()> {
        let Some(conn) = &mut self.conn else { return Ok(()) };
        while self.out_pos < self.out.len() {
            let n = conn.send(&self.out[self.out_pos..])?;
            if n == 0 {
                break;
            }
            self.out_pos += n;
            self.last_progress = Instant::now();
        }
        conn.flush()
    }

    /// Bytes arrived. `Some(step)` ends the turn.
    fn input(&mut self, cx: &mut Cx<'_>, data: &[u8]) -> Option<Step> {
        match &self.phase {
            Phase::Tunnel => {
                self.inbuf.extend_from_slice(data);
                self.tunnel_answer(cx)
            }
            Phase::Head(_) => {
                self.answered = true;
                self.inbuf.extend_from_slice(data);
                self.head(cx)
            }
            Phase::Body(_) | Phase::Draining(..) => {
                if self.inbuf.is_empty() {
                    self.body(cx, data)
                } else {
                    let mut input = std::mem::take(&mut self.inbuf);
                    input.extend_from_slice(data);
                    let step = self.body(cx, &input);
                    input.clear();
                    if self.inbuf.is_empty() {
                        self.inbuf = input; // keeps its capacity
                    }
                    step
                }
            }
            _ => None,
        }
    }

    /// The proxy's answer to CONNECT.
    fn tunnel_answer(&mut self, cx: &mut Cx<'_>) -> Option<Step> {
        let parsed = ureq_proto::parser::try_parse_response::<64>(&self.inbuf);
        let (Route::Tunnel { host, port, .. }, host_port) = (&self.plan.route, &self.plan.host) else {
            return None;
        };
        let refused = |why: String| Failure {
            error: Error::new(
                ErrorKind::Connect,
                format!("the proxy {host}:{port} refused to reach {host_port}: {why}"),
            ),
            unsent: true,
        };
        match parsed {
            Ok(Some((used, response))) if response.status().is_success() => {
                self.inbuf.drain(..used);
                // The pump this runs in goes on with the request.
                match self.secure().and_then(|()| self.queue_request()) {
                    Ok(()) => None,
                    Err(failure) => Some(self.fail(cx, failure)),
                }
            }
            Ok(Some((_, response))) => Some(self.fail(cx, refused(format!("HTTP {}", response.status())))),
            Ok(None) if self.inbuf.len() > MAX_HEAD_BYTES => {
                Some(self.fail(cx, refused("its answer's head is too long".into())))
            }
            Ok(None) => None,
            Err(e) => Some(self.fail(cx, refused(format!("a malformed answer ({})", server_text(&e.to_string()))))),
        }
    }

    /// Parses the answer's head once it is whole, then retries or hands it to the caller.
    fn head(&mut self, cx: &mut Cx<'_>) -> Option<Step> {
        let host = self.plan.host.clone();
        let malformed = |why: String| Failure {
            error: Error::protocol(format!("{host} sent a malformed HTTP answer: {why}")),
            unsent: false,
        };
        let Phase::Head(call) = &mut self.phase else { return None };
        let response = loop {
            match call.try_response(&self.inbuf, false) {
                Ok((used, Some(response))) => {
                    self.inbuf.drain(..used);
                    break response;
                }
                // An informational answer (100 Continue) was skipped: look again.
                Ok((used, None)) if used > 0 => {
                    self.inbuf.drain(..used);
                }
                Ok(_) if self.inbuf.len() > MAX_HEAD_BYTES => {
                    let error = Error::protocol(format!(
                        "{host} sent response headers of over {MAX_HEAD_BYTES} bytes, the limit"
                    ));
                    return Some(self.fail(cx, Failure { error, unsent: false }));
                }
                Ok(_) => return None,
                // The parser's reason may quote the server's bytes.
                Err(e) => return Some(self.fail(cx, malformed(server_text(&e.to_string())))),
            }
        };
        if response.status().is_informational() {
            // 1xx other than 100 (103 Early Hints): ureq-proto returns it; the real head follows.
            return if self.inbuf.is_empty() { None } else { self.head(cx) };
        }
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
        let status = response.status().as_u16();
        if retryable_status(status) && self.attempt <= self.plan.net.max_retries {
            let wait = match parse_retry_after(header("retry-after-ms"), header("retry-after"), SystemTime::now()) {
                RetryAfter::TooLong => None,
                RetryAfter::Wait(d) => Some(d),
                RetryAfter::NotGiven => Some(backoff(self.attempt - 1)),
            };
            if let Some(wait) = wait.filter(|w| Instant::now() + *w < self.plan.net.deadline) {
                // The error body is of no use now; a new connection is cheaper than reading it.
                if let Some(conn) = self.conn.take() {
                    conn.close(cx.registry);
                }
                self.phase = Phase::Waiting(Instant::now() + wait);
                return Some(Step::Wait(self.deadline()));
            }
        }
        let gzip = header("content-encoding").is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
        self.gzip = gzip.then(|| Box::new(flate2::write::GzDecoder::new(Vec::new())));
        self.ex.deliver_head(Head {
            status,
            content_type: header("content-type").unwrap_or("").trim().to_ascii_lowercase(),
            request_id: REQUEST_ID_HEADERS.iter().find_map(|name| header(name)).unwrap_or("").to_string(),
            error_type: header("x-amzn-errortype").map_or("", |t| t.split(':').next().unwrap_or("").trim()).to_string(),
            attempts: self.attempt,
        });
        let Phase::Head(call) = std::mem::replace(&mut self.phase, Phase::Done) else { unreachable!() };
        match call.proceed() {
            Some(RecvResponseResult::RecvBody(call)) => {
                self.phase = Phase::Body(call);
                if self.inbuf.is_empty() {
                    return None;
                }
                let rest = std::mem::take(&mut self.inbuf);
                self.body(cx, &rest)
            }
            Some(RecvResponseResult::Cleanup(call)) => {
                self.ex.finish(Ok(()));
                Some(self.done(cx, !call.must_close_connection()))
            }
            // A redirect: never followed (a POST must not become a GET elsewhere); the caller
            // reports the status.
            Some(RecvResponseResult::Redirect(_)) | None => {
                self.ex.finish(Ok(()));
                Some(self.done(cx, false))
            }
        }
    }

    /// Body bytes arrived: decode them (chunked, gzip) into the caller's buffer.
    fn body(&mut self, cx: &mut Cx<'_>, input: &[u8]) -> Option<Step> {
        let mut pos = 0;
        loop {
            let (call, draining) = match &mut self.phase {
                Phase::Body(call) => (call, false),
                Phase::Draining(call, _) => (call, true),
                _ => return None,
            };
            let ended = call.can_proceed() && call.body_mode() != BodyMode::CloseDelimited;
            if ended {
                break;
            }
            if pos == input.len() {
                return None;
            }
            let rest = &input[pos..];
            let result = if draining {
                let mut sink = [0u8; 8 * 1024];
                call.read(rest, &mut sink).map(|(i, o)| {
                    self.drained += o as u64;
                    (i, o)
                })
            } else if let Some(gz) = &mut self.gzip {
                let mut plain = vec![0u8; rest.len()];
                call.read(rest, &mut plain).and_then(|(i, o)| {
                    gz.write_all(&plain[..o]).map_err(|e| ureq_proto::Error::HttpParseFail(format!("gzip: {e}")))?;
                    let out = std::mem::take(gz.get_mut());
                    if !out.is_empty() && self.ex.append(|body| body.extend_from_slice(&out)) == Append::Full {
                        self.paused = true;
                    }
                    Ok((i, o))
                })
            } else {
                let mut read = Ok((0, 0));
                let appended = self.ex.append(|body| {
                    let start = body.len();
                    body.resize(start + rest.len(), 0);
                    read = call.read(rest, &mut body[start..]);
                    body.truncate(start + read.as_ref().map_or(0, |(_, o)| *o));
                });
                if appended == Append::Full {
                    self.paused = true;
                }
                if appended == Append::Gone {
                    // Nothing was taken: read it again as drained.
                    let Phase::Body(call) = std::mem::replace(&mut self.phase, Phase::Done) else { unreachable!() };
                    self.phase = Phase::Draining(call, Instant::now() + DRAIN_TIME);
                    continue;
                }
                read
            };
            match result {
                Ok((0, 0)) => {
                    // Waits for more input: keep the rest (a partial chunk header).
                    self.inbuf.extend_from_slice(&input[pos..]);
                    return None;
                }
                Ok((used, _)) => pos += used,
                Err(e) => {
                    let error = Error::protocol(format!(
                        "{} sent a malformed HTTP answer: {}",
                        self.plan.host,
                        server_text(&e.to_string())
                    ));
                    return Some(self.fail(cx, Failure { error, unsent: false }));
                }
            }
            if draining && self.drained > DRAIN_BYTES {
                self.close(cx.registry);
                return Some(Step::Done(None));
            }
        }
        // The body ended.
        if pos < input.len() {
            // Bytes past the end of the answer: the connection can't be trusted with another.
            self.inbuf.clear();
            return Some(self.end(cx, false));
        }
        Some(self.end(cx, true))
    }

    /// The body ended cleanly.
    fn end(&mut self, cx: &mut Cx<'_>, reusable: bool) -> Step {
        if let Some(gz) = self.gzip.take() {
            match gz.finish() {
                Ok(rest) if !rest.is_empty() => {
                    self.ex.append(|body| body.extend_from_slice(&rest));
                }
                Ok(_) => {}
                Err(e) => {
                    let error = Error::protocol(format!("{} sent a malformed gzip body: {e}", self.plan.host));
                    return self.fail(cx, Failure { error, unsent: false });
                }
            }
        }
        self.ex.finish(Ok(()));
        let keep = match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Body(call) | Phase::Draining(call, _) => match call.proceed() {
                Some(RecvBodyResult::Cleanup(call)) => reusable && !call.must_close_connection(),
                _ => false,
            },
            _ => false,
        };
        self.done(cx, keep && self.inbuf.is_empty())
    }

    fn done(&mut self, cx: &mut Cx<'_>, keep: bool) -> Step {
        self.phase = Phase::Done;
        match self.conn.take() {
            Some(conn) if keep => Step::Done(Some((self.plan.pool.clone(), conn))),
            Some(conn) => {
                conn.close(cx.registry);
                Step::Done(None)
            }
            None => Step::Done(None),
        }
    }

    /// The connection closed.
    fn eof(&mut self, cx: &mut Cx<'_>) -> Step {
        let host = self.plan.host.clone();
        match &self.phase {
            Phase::Body(call) | Phase::Draining(call, _) if call.body_mode() == BodyMode::CloseDelimited => {
                self.end(cx, false)
            }
            Phase::Draining(..) => {
                self.close(cx.registry);
                Step::Done(None)
            }
            Phase::Body(_) => {
                let error =
                    Error::new(ErrorKind::Io, format!("the connection to {host} broke: the answer was cut short"));
                self.fail(cx, Failure { error, unsent: false })
            }
            Phase::Tunnel => {
                let error =
                    Error::new(ErrorKind::Connect, format!("the proxy closed the connection before reaching {host}"));
                self.fail(cx, Failure { error, unsent: true })
            }
            _ => {
                let e = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed before an answer arrived");
                self.io_failure(cx, e)
            }
        }
    }

    fn io_failure(&mut self, cx: &mut Cx<'_>, e: std::io::Error) -> Step {
        let host = &self.plan.host;
        if let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<TlsError>()) {
            let error = Error::new(ErrorKind::Connect, format!("TLS with {host} failed: {tls}"));
            return self.fail(cx, Failure { error, unsent: !self.answered });
        }
        let failure = match &self.phase {
            Phase::Tunnel => self.connect_failure(e),
            Phase::Head(_) => {
                // Before any answer, a failure that breaks an established connection may have
                // come after the server took the request whole; anything else means it did not.
                let broke = matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::ConnectionAborted
                        | std::io::ErrorKind::BrokenPipe
                        | std::io::ErrorKind::UnexpectedEof
                );
                let error = if broke || self.answered {
                    Error::new(ErrorKind::Io, format!("the connection to {host} broke: {e}"))
                } else {
                    Error::new(ErrorKind::Connect, format!("could not connect to {host}: {e}"))
                };
                Failure { error, unsent: !broke && !self.answered }
            }
            _ => Failure {
                error: Error::new(ErrorKind::Io, format!("the connection to {host} broke: {e}")),
                unsent: false,
            },
        };
        self.fail(cx, failure)
    }

    /// An attempt failed: try again if the rules allow, else report it.
    fn fail(&mut self, cx: &mut Cx<'_>, failure: Failure) -> Step {
        if let Some(conn) = self.conn.take() {
            conn.close(cx.registry);
        }
        if matches!(self.phase, Phase::Draining(..)) || self.ex.is_gone() {
            self.phase = Phase::Done;
            return Step::Done(None);
        }
        // A pooled connection the server had closed (its close raced this request): the
        // request is sent once more on a new connection, whatever max_retries says, as curl and
        // OkHttp do. Only while no byte of the answer came.
        let in_head = matches!(self.phase, Phase::Head(_));
        if self.reused && in_head && !self.answered && !self.fresh_retry_used {
            self.fresh_retry_used = true;
            self.attempt -= 1;
            return self.attempt(cx);
        }
        let net = &self.plan.net;
        if failure.unsent && self.attempt <= net.max_retries {
            let wait = backoff(self.attempt - 1);
            if Instant::now() + wait < net.deadline {
                self.phase = Phase::Waiting(Instant::now() + wait);
                return Step::Wait(self.deadline());
            }
        }
        self.phase = Phase::Done;
        self.ex.finish(Err(failure.error));
        Step::Done(None)
    }
}

/// Failures that concern one address only: the next one may still work.
fn is_address_specific(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::HostUnreachable
            | std::io::ErrorKind::NetworkUnreachable
            | std::io::ErrorKind::NetworkDown
            | std::io::ErrorKind::AddrNotAvailable
    )
}

/// The request as ureq-proto builds it, with the headers ureq adds by default.
fn http_request(req: &HttpRequest) -> Result<http::Request<()>, Error> {
    let mut builder = http::Request::builder().method(http::Method::POST).uri(req.url.as_str());
    let has = |name: &str| req.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    for (name, value) in &req.headers {
        builder = builder.header(name.as_ref(), value.as_ref());
    }
    if !has("user-agent") {
        builder = builder.header("user-agent", concat!("aichat/", env!("CARGO_PKG_VERSION")));
    }
    if !has("accept") {
        builder = builder.header("accept", "*/*");
    }
    if !has("accept-encoding") {
        builder = builder.header("accept-encoding", "gzip");
    }
    builder = builder.header("content-length", req.body.len());
    builder.body(()).map_err(|e| Error::invalid_request(format!("invalid request header or `base_url`: {e}")))
}

fn proto_error(e: ureq_proto::Error) -> Error {
    Error::invalid_request(format!("the request cannot be sent: {e}"))
}

/// A `Call` waiting for the answer's head, past the request (which `write_request` wrote).
fn response_call(req: &HttpRequest) -> Result<Call<RecvResponse>, Error> {
    drive_request(req, &mut Vec::new())
}

/// The request's bytes: head and body, to go out in one write.
#[cfg(test)]
fn write_request(req: &HttpRequest) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    drive_request(req, &mut out)?;
    Ok(out)
}

/// Writes the request (head and body) into `out` with ureq-proto, and returns its `Call` past
/// the request, waiting for the answer's head.
fn drive_request(req: &HttpRequest, out: &mut Vec<u8>) -> Result<Call<RecvResponse>, Error> {
    let call = Call::new(http_request(req)?).map_err(proto_error)?;
    let mut call = call.proceed();
    let head = 256 + req.url.len() + req.headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum::<usize>();
    let start = out.len();
    out.reserve(head + req.body.len());
    while !call.can_proceed() {
        let at = out.len();
        out.resize(at + head, 0);
        let n = call.write(&mut out[at..]).map_err(proto_error)?;
        out.truncate(at + n);
        if n == 0 {
            break;
        }
    }
    let mut call = match call.proceed().map_err(proto_error)? {
        Some(SendRequestResult::SendBody(call)) => call,
        Some(SendRequestResult::RecvResponse(call)) => return Ok(call),
        _ => {
            out.truncate(start);
            return Err(Error::invalid_request("the request cannot be sent: unexpected protocol state"));
        }
    };
    // A length-delimited body goes out as it is: ureq-proto is only told how much was taken.
    out.extend_from_slice(&req.body);
    call.consume_direct_write(req.body.len()).map_err(proto_error)?;
    call.proceed().ok_or_else(|| Error::invalid_request("the request cannot be sent: its body was not written whole"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn request(body: &str) -> HttpRequest {
        HttpRequest {
            url: "http://127.0.0.1:9/v1/chat/completions?x=1".into(),
            headers: vec![(Cow::Borrowed("content-type"), Cow::Borrowed("application/json"))],
            body: body.as_bytes().to_vec(),
            signer: None,
        }
    }

    #[test]
    fn the_request_goes_out_whole_with_the_default_headers() {
        let bytes = write_request(&request(r#"{"a":1}"#)).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("POST /v1/chat/completions?x=1 HTTP/1.1\r\n"), "{text}");
        for line in [
            "host: 127.0.0.1:9\r\n",
            "content-type: application/json\r\n",
            "user-agent: aichat/",
            "accept: */*\r\n",
            "accept-encoding: gzip\r\n",
            "content-length: 7\r\n",
        ] {
            assert!(text.contains(line), "{line:?} in {text}");
        }
        assert!(text.ends_with("\r\n\r\n{\"a\":1}"), "{text}");
    }

    #[test]
    fn an_empty_body_is_sent_with_a_zero_length() {
        let text = String::from_utf8(write_request(&request("")).unwrap()).unwrap();
        assert!(text.contains("content-length: 0\r\n") && text.ends_with("\r\n\r\n"), "{text}");
    }
}
