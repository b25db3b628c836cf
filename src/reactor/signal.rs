//! A stream's pollable descriptor: the read end of a Unix socket pair holding one byte while the
//! caller has something to take (the answer's head, body bytes, events it decoded and holds, the
//! end, a failure) and none otherwise. Level-triggered, and a kind every poller accepts
//! (`poll`/`epoll`, asyncio's `add_reader`, Go's runtime poller, and a Node `net.Socket`, which
//! cannot watch an eventfd). The byte is written when the stream turns ready and read back when
//! it turns idle, so a busy stream costs two system calls per batch, not per event, and a
//! stream nobody polls has no descriptor at all (it is made on first use).

use std::sync::Mutex;

use crate::error::{Error, ErrorKind};

/// The descriptor of one pulled call, shared by the exchanges it makes (a retry starts a new
/// exchange; the caller keeps the same descriptor). One lock orders every change, whichever
/// thread makes it: the reactor's side says what the exchange holds, the caller's side what it
/// holds itself, and the descriptor follows the two together.
#[derive(Default)]
pub(crate) struct Notify(Mutex<Levels>);

#[derive(Default)]
struct Levels {
    signal: Option<Signal>,
    /// The exchange has something for the caller (bytes, the end, a failure, a cancel).
    ready: bool,
    /// The caller holds events it decoded but has not returned yet.
    held: bool,
}

impl Levels {
    fn apply(&mut self) {
        let up = self.ready || self.held;
        if let Some(s) = &mut self.signal {
            s.set(up)
        }
    }
}

impl Notify {
    /// What the exchange has for the caller (called under the exchange's lock, so in order).
    pub(crate) fn set(&self, exchange_ready: bool) {
        let mut levels = lock(&self.0);
        levels.ready = exchange_ready;
        levels.apply();
    }

    /// Whether the caller holds decoded events.
    pub(crate) fn set_held(&self, held: bool) {
        let mut levels = lock(&self.0);
        levels.held = held;
        levels.apply();
    }

    /// The descriptor, made on first use and kept until the call is dropped.
    #[cfg(unix)]
    pub(crate) fn fd(&self) -> Result<std::os::fd::RawFd, Error> {
        use std::os::fd::AsRawFd;
        let mut levels = lock(&self.0);
        if levels.signal.is_none() {
            levels.signal = Some(Signal::new()?);
            levels.apply();
        }
        Ok(levels.signal.as_ref().map_or(-1, |s| s.reader.as_raw_fd()))
    }

    #[cfg(not(unix))]
    pub(crate) fn fd(&self) -> Result<i32, Error> {
        Err(Error::new(ErrorKind::Io, "a pollable descriptor is available on Unix only"))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
            // Empties it: it holds one byte at most (a poller that reads the descriptor itself,
            // as Node does, may have taken it already, which is fine), so one read does.
            let mut sink = [0u8; 16];
            let _ = (&self.reader).read(&mut sink);
        }
        self.raised = ready;
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    pub(crate) fn readable(fd: std::os::fd::RawFd) -> bool {
        let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd; fd is the test's own, open for the test's duration.
        let n = unsafe { libc::poll(&mut p, 1, 0) };
        n == 1 && p.revents & libc::POLLIN != 0
    }

    #[test]
    fn the_descriptor_follows_readiness_and_what_the_caller_holds() {
        let n = Notify::default();
        let fd = n.fd().unwrap();
        assert!(!readable(fd));
        n.set(true);
        assert!(readable(fd));
        n.set(false);
        assert!(!readable(fd));
        n.set_held(true);
        assert!(readable(fd), "the caller holds events");
        n.set(false);
        assert!(readable(fd), "still held");
        n.set_held(false);
        assert!(!readable(fd));
        assert_eq!(n.fd().unwrap(), fd, "one descriptor per call");
    }

    #[test]
    fn a_descriptor_asked_for_late_starts_ready() {
        let n = Notify::default();
        n.set(true);
        assert!(readable(n.fd().unwrap()));
    }
}
