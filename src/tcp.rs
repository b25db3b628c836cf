//! TCP connections whose writes can be stopped. ureq's own TCP transport writes a body with one
//! blocking `write_all` under `SO_SNDTIMEO`: the timeout restarts after every partial write (so
//! a peer that reads slowly, or stops, holds the call for several idle timeouts), and a cancel
//! cannot reach it. Here a write waits in short slices: between them it looks at the current
//! call's `Stop`, and it fails once no byte went out for the write timeout (`idle_timeout_ms`)
//! or the call's whole deadline passed. Reads stay as ureq does them; the interruptible layer
//! above (`crate::interrupt`) slices their waits.
//!
//! Every use of ureq's `unversioned` transport API is in this file and in `crate::interrupt`:
//! ureq may change that API in any release, which is why Cargo.toml pins ureq's version.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Instant;

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, ShutdownHandle, Transport,
};

use crate::interrupt::{SLICE, interrupted, stop_is_set};

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
        Ok(Some(Either::B(SlicedTcp { stream, buffers, read_timeout: None, write_slicing: false })))
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
}

impl std::fmt::Debug for SlicedTcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlicedTcp").field("peer", &self.stream.peer_addr().ok()).finish()
    }
}

/// `Some(duration)`, or `None` for a timeout that never happens.
fn limit(timeout: &NextTimeout) -> Option<std::time::Duration> {
    (!timeout.after.is_not_happening()).then(|| *timeout.after)
}

impl Transport for SlicedTcp {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        // The whole write must end by the call's deadline; no progress for `per_write` is idle.
        let started = Instant::now();
        let deadline = limit(&timeout).map(|d| started + d);
        let idle = timeout.per_write.map(|d| *d);
        if !self.write_slicing {
            self.stream.set_write_timeout(Some(SLICE))?;
            self.write_slicing = true;
        }
        let mut written = 0;
        let mut last_progress = started;
        while written < amount {
            match (&*self.stream).write(&self.buffers.output()[written..amount]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(n) => {
                    written += n;
                    last_progress = Instant::now();
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
            if written < amount {
                if stop_is_set() {
                    return Err(interrupted());
                }
                let now = Instant::now();
                if deadline.is_some_and(|d| now >= d) {
                    return Err(ureq::Error::Timeout(timeout.reason));
                }
                if idle.is_some_and(|i| now.duration_since(last_progress) >= i) {
                    return Err(ureq::Error::Timeout(ureq::Timeout::PerWrite));
                }
            }
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
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
