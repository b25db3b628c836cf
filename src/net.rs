//! The network layer under ureq: everything the library plugs into ureq through its
//! `unversioned` API, which ureq may change in any release (Cargo.toml pins ureq with `~` for
//! that reason; a new ureq is taken after checking this file). Three parts:
//!
//! - the connector chain: ureq's own (SOCKS, HTTP CONNECT proxies, rustls) with ours in it;
//! - TCP connections whose writes wait in short slices ([`SlicedTcp`]): ureq's TCP transport
//!   writes a body with one `write_all` under `SO_SNDTIMEO`, whose timeout restarts after every
//!   partial write (a peer that reads slowly, or stops, holds the call for several idle
//!   timeouts) and which a cancel cannot reach. Between slices a write looks at the current
//!   call's `Stop`, and it fails once no byte went out for the write timeout (`idle_timeout_ms`)
//!   or the call's deadline passed;
//! - a layer between TCP and TLS ([`Interruptible`]) whose waits for input are sliced the same
//!   way, so a cancel reaches a silent server and a TLS handshake;
//! - name resolution with a short cache ([`CachingResolver`]).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ureq::Agent;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::time::Duration as UreqDuration;
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, RustlsConnector,
    ShutdownHandle, SocksConnector, Transport,
};

use crate::interrupt::{SLICE, current_is_set, stop_is_set};

/// An agent with `config`: ureq's default connector chain with our TCP transport and the
/// interruptible layer between TCP and TLS, and the caching resolver.
pub fn agent(config: Config) -> Agent {
    let connector =
        ().chain(SocksConnector::default())
            .chain(ConnectProxyConnector::default())
            .chain(TcpConnector)
            .chain(InterruptConnector)
            .chain(RustlsConnector::default());
    Agent::with_parts(config, connector, CachingResolver::default())
}

/// The error an interrupted wait returns; the transport reports the `Stop`'s reason instead.
fn interrupted() -> ureq::Error {
    ureq::Error::Io(std::io::Error::other("aichat: the call was stopped"))
}

/// Shortest connect budget an address gets when a host has several.
const MIN_PER_ADDRESS: std::time::Duration = std::time::Duration::from_millis(10);

/// Opens TCP connections for the chain, unless a proxy connector before it already did.
#[derive(Debug, Default)]
pub struct TcpConnector;

impl<In: Transport> Connector<In> for TcpConnector {
    type Out = Either<In, SlicedTcp>;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        if chained.is_some() {
            // A SOCKS proxy connection replaces the one we would open.
            return Ok(chained.map(Either::A));
        }
        let stream = Arc::new(connect(details)?);
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        (details.register_shutdown)(Arc::downgrade(&stream) as std::sync::Weak<dyn ShutdownHandle>)?;
        let buffers = LazyBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size());
        Ok(Some(Either::B(SlicedTcp {
            stream,
            buffers,
            read_timeout: None,
            write_slicing: false,
            held: Vec::new(),
            held_limits: None,
        })))
    }
}

/// Tries the host's addresses in order, each with a share of the connect budget that halves
/// from one address to the next (as ureq and curl do), moving on when an address refuses or is
/// unreachable.
fn connect(details: &ConnectionDetails) -> Result<TcpStream, ureq::Error> {
    let started = Instant::now();
    let budget = limit(&details.timeout);
    let total_weight = 2.0 * (1.0 - 0.5_f64.powi(details.addrs.len() as i32));
    let mut weight = 1.0_f64;
    let mut last: Option<ureq::Error> = None;
    for addr in details.addrs.iter() {
        let share = budget.map(|b| b.mul_f64(weight / total_weight).max(MIN_PER_ADDRESS));
        weight /= 2.0;
        match connect_one(addr, share) {
            Ok(stream) => return Ok(stream),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                if budget.is_some_and(|b| started.elapsed() >= b) {
                    return Err(ureq::Error::Timeout(details.timeout.reason));
                }
                last = Some(ureq::Error::Timeout(details.timeout.reason));
            }
            Err(e) if is_address_specific(&e) => last = Some(e.into()),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused").into()))
}

fn connect_one(addr: &SocketAddr, timeout: Option<std::time::Duration>) -> io::Result<TcpStream> {
    match timeout {
        Some(t) => TcpStream::connect_timeout(addr, t),
        None => TcpStream::connect(addr),
    }
}

/// Failures that concern one address only: the next one may still work.
fn is_address_specific(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::NetworkDown
            | io::ErrorKind::AddrNotAvailable
    )
}

pub struct SlicedTcp {
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
    /// The read timeout set on the socket, so it is changed only when it must be.
    read_timeout: Option<std::time::Duration>,
    /// Whether the socket's write timeout is set to one slice.
    write_slicing: bool,
    /// Small writes held until the transport next waits for input (see `transmit_output`).
    held: Vec<u8>,
    /// The limits of the first held write, which the flush keeps to.
    held_limits: Option<WriteLimits>,
}

/// Most bytes held back to go out in one segment.
const HOLD_BYTES: usize = 16 * 1024;

/// When a write must end: the call's deadline, an idle limit, and what to report on either.
#[derive(Clone, Copy)]
struct WriteLimits {
    deadline: Option<Instant>,
    idle: Option<std::time::Duration>,
    reason: ureq::Timeout,
}

impl WriteLimits {
    fn of(timeout: &NextTimeout) -> WriteLimits {
        WriteLimits {
            deadline: limit(timeout).map(|d| Instant::now() + d),
            idle: timeout.per_write.map(|d| *d),
            reason: timeout.reason,
        }
    }
}

impl std::fmt::Debug for SlicedTcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlicedTcp").field("peer", &self.stream.peer_addr().ok()).finish()
    }
}

impl SlicedTcp {
    /// Sends the held writes, within the limits of the first.
    fn flush_held(&mut self) -> Result<(), ureq::Error> {
        let Some(limits) = self.held_limits.take() else { return Ok(()) };
        let result = write_all_within(&self.stream, &mut self.write_slicing, &self.held, limits);
        self.held.clear();
        result
    }
}

/// Writes all of `bytes`: by `limits.deadline`, never idle for `limits.idle`, and giving up when
/// the call is stopped (checked between slices of `SLICE`, the socket's write timeout).
fn write_all_within(
    mut stream: &TcpStream,
    slicing: &mut bool,
    bytes: &[u8],
    limits: WriteLimits,
) -> Result<(), ureq::Error> {
    if !*slicing {
        stream.set_write_timeout(Some(SLICE))?;
        *slicing = true;
    }
    let mut written = 0;
    let mut last_progress = Instant::now();
    while written < bytes.len() {
        match stream.write(&bytes[written..]) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
            Ok(n) => {
                written += n;
                last_progress = Instant::now();
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
        if written < bytes.len() {
            if stop_is_set() {
                return Err(interrupted());
            }
            let now = Instant::now();
            if limits.deadline.is_some_and(|d| now >= d) {
                return Err(ureq::Error::Timeout(limits.reason));
            }
            if limits.idle.is_some_and(|i| now.duration_since(last_progress) >= i) {
                return Err(ureq::Error::Timeout(ureq::Timeout::PerWrite));
            }
        }
    }
    Ok(())
}

/// `Some(duration)`, or `None` for a timeout that never happens.
fn limit(timeout: &NextTimeout) -> Option<std::time::Duration> {
    (!timeout.after.is_not_happening()).then(|| *timeout.after)
}

impl Transport for SlicedTcp {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    /// A small write (a request's head, a short body) is held and sent with what follows, when
    /// the transport next waits for input: a request then leaves in one segment instead of two,
    /// and the server is woken once. ureq always reads after it writes a request (the answer, or
    /// a `100 Continue`), so nothing held waits longer than the request's own writes.
    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let limits = WriteLimits::of(&timeout);
        if self.held.len() + amount <= HOLD_BYTES {
            self.held.extend_from_slice(&self.buffers.output()[..amount]);
            self.held_limits.get_or_insert(limits);
            return Ok(());
        }
        self.flush_held()?;
        let SlicedTcp { stream, buffers, write_slicing, .. } = self;
        write_all_within(stream, write_slicing, &buffers.output()[..amount], limits)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.flush_held()?;
        let timeout = timeout.for_read();
        let wait = match limit(&timeout) {
            Some(d) if d.is_zero() => return Err(ureq::Error::Timeout(timeout.reason)),
            other => other,
        };
        if wait != self.read_timeout {
            self.stream.set_read_timeout(wait)?;
            self.read_timeout = wait;
        }
        let input = self.buffers.input_append_buf();
        let amount = loop {
            match (&*self.stream).read(input) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    return Err(ureq::Error::Timeout(timeout.reason));
                }
                Err(e) => return Err(e.into()),
            }
        };
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    #[cfg(unix)]
    fn is_open(&mut self) -> bool {
        // Open when a read would block: no bytes and no EOF are waiting. One peek that does not
        // wait, where toggling non-blocking mode around a read took three system calls (ureq
        // asks twice per call: when pooling the connection and when taking it again).
        use std::os::fd::AsRawFd;
        let mut byte = 0u8;
        // SAFETY: `recv` writes at most one byte, into `byte`, from this stream's own descriptor.
        let n = unsafe {
            libc::recv(self.stream.as_raw_fd(), (&raw mut byte).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT)
        };
        n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
    }

    #[cfg(not(unix))]
    fn is_open(&mut self) -> bool {
        // Open when a read would block: no bytes and no EOF are waiting.
        let probe = || -> io::Result<bool> {
            self.stream.set_nonblocking(true)?;
            let open = match (&*self.stream).read(&mut [0u8]) {
                Err(e) => e.kind() == io::ErrorKind::WouldBlock,
                Ok(_) => false,
            };
            self.stream.set_nonblocking(false)?;
            Ok(open)
        };
        probe().unwrap_or(false)
    }
}

/// Wraps each new connection (below TLS, so handshakes are covered too) in [`Interruptible`].
#[derive(Debug, Default)]
pub struct InterruptConnector;

impl<In: Transport> Connector<In> for InterruptConnector {
    type Out = Interruptible<In>;

    fn connect(&self, _: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(Interruptible))
    }
}

/// A transport whose waits for input end early when the current call's `Stop` is set.
#[derive(Debug)]
pub struct Interruptible<T>(T);

impl<T: Transport> Transport for Interruptible<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.0.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        crate::interrupt::before_wait();
        match current_is_set() {
            None => return self.0.await_input(timeout),
            Some(true) => return Err(interrupted()),
            Some(false) => {}
        }
        let full = timeout.for_read();
        let started = Instant::now();
        loop {
            let left = (!full.after.is_not_happening()).then(|| full.after.saturating_sub(started.elapsed()));
            if left == Some(Duration::ZERO) {
                return Err(ureq::Error::Timeout(full.reason));
            }
            let slice = left.map_or(SLICE, |l| l.min(SLICE));
            let sliced =
                NextTimeout { after: slice.into(), reason: full.reason, per_read: None, per_write: full.per_write };
            match self.0.await_input(sliced) {
                // Only the slice ran out: look at the Stop, then wait on.
                Err(ureq::Error::Timeout(_)) if left.is_none_or(|l| l > slice) => {
                    if current_is_set() == Some(true) {
                        return Err(interrupted());
                    }
                }
                other => return other,
            }
        }
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }

    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
}

/// How long an answer is kept (libcurl's default DNS cache timeout).
const TTL: Duration = Duration::from_secs(60);
/// Names kept at most; past that the cache starts over.
const MAX_ENTRIES: usize = 256;

#[derive(Debug, Default)]
pub struct CachingResolver {
    inner: DefaultResolver,
    cache: Mutex<HashMap<String, (Instant, ResolvedSocketAddrs)>>,
}

impl Resolver for CachingResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!("{:?} {:?} {:?}", uri.scheme_str(), uri.authority(), config.ip_family());
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, addrs)) = cache.get(&key) {
            if at.elapsed() < TTL {
                return Ok(addrs.clone());
            }
        }
        drop(cache);
        let host = uri.host().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
        // An IP literal resolves at once: no lookup thread, no timeout to enforce.
        let timeout = if host.parse::<IpAddr>().is_ok() {
            NextTimeout { after: UreqDuration::NotHappening, ..timeout }
        } else {
            timeout
        };
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}
