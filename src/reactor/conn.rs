//! One connection as the reactor drives it: a non-blocking TCP socket, with rustls' connection
//! object on top once TLS starts. Neither waits: a read or write that would block says so, and
//! the task waits for the poller.

use std::io::{self, Read, Write};
use std::sync::Arc;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use rustls::ClientConnection;
use rustls::pki_types::ServerName;

pub(crate) struct Conn {
    sock: TcpStream,
    tls: Option<Box<ClientConnection>>,
    registered: bool,
}

/// What a read found.
pub(crate) enum Recv {
    Data(usize),
    /// Nothing more until the poller says so.
    WouldBlock,
    /// The peer closed the connection (cleanly, for TLS: see `Conn::recv`).
    Eof,
}

/// A TLS failure, kept apart from socket errors so that messages can say which it was.
#[derive(Debug)]
pub(crate) struct TlsError(pub(crate) rustls::Error);

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for TlsError {}

fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, TlsError(e))
}

impl Conn {
    pub(crate) fn new(sock: TcpStream) -> Conn {
        // Requests are written whole; small segments must not wait for an ACK.
        let _ = sock.set_nodelay(true);
        Conn { sock, tls: None, registered: false }
    }

    pub(crate) fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Starts TLS with `host` over this connection (after a proxy's tunnel, if any).
    pub(crate) fn start_tls(&mut self, config: Arc<rustls::ClientConfig>, host: &str) -> io::Result<()> {
        let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("invalid server name {host:?}: {e}")))?;
        let tls = ClientConnection::new(config, name).map_err(tls_error)?;
        self.tls = Some(Box::new(tls));
        Ok(())
    }

    pub(crate) fn register(&mut self, registry: &Registry, token: Token, interest: Interest) -> io::Result<()> {
        if self.registered {
            registry.reregister(&mut self.sock, token, interest)
        } else {
            self.registered = true;
            registry.register(&mut self.sock, token, interest)
        }
    }

    /// Whether a connect in progress finished: `Ok(true)` connected, `Ok(false)` not yet.
    pub(crate) fn connected(&mut self) -> io::Result<bool> {
        if let Some(e) = self.sock.take_error()? {
            return Err(e);
        }
        match self.sock.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) if e.raw_os_error() == Some(libc_einprogress()) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes what it can of `bytes` (through TLS, if on); returns how many were taken. TLS
    /// takes them all and sends what the socket accepts (see `flush`).
    pub(crate) fn send(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match &mut self.tls {
            None => match self.sock.write(bytes) {
                Ok(n) => Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
                Err(e) => Err(e),
            },
            Some(tls) => {
                let n = tls.writer().write(bytes)?;
                self.flush()?;
                Ok(n)
            }
        }
    }

    /// Sends the TLS records waiting to go out, as far as the socket takes them.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        let Some(tls) = &mut self.tls else { return Ok(()) };
        while tls.wants_write() {
            match tls.write_tls(&mut self.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Whether a TLS handshake is under way.
    pub(crate) fn is_handshaking(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.is_handshaking())
    }

    /// Whether bytes wait to go out (TLS records the socket did not take yet).
    pub(crate) fn wants_write(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.wants_write())
    }

    /// Reads what has arrived into `buf` (plaintext, through TLS if on).
    pub(crate) fn recv(&mut self, buf: &mut [u8]) -> io::Result<Recv> {
        let Some(tls) = &mut self.tls else {
            return loop {
                match self.sock.read(buf) {
                    Ok(0) => break Ok(Recv::Eof),
                    Ok(n) => break Ok(Recv::Data(n)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(Recv::WouldBlock),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
        };
        loop {
            match tls.reader().read(buf) {
                Ok(0) => return Ok(Recv::Eof),
                Ok(n) => return Ok(Recv::Data(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The peer closed without close_notify: an end all the same (the HTTP layer
                // tells a complete answer from a cut one).
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(Recv::Eof),
                Err(e) => return Err(e),
            }
            // No plaintext buffered: read records from the socket.
            match tls.read_tls(&mut self.sock) {
                Ok(0) => {
                    // A handshake cut short is a failure; after it, an unannounced close.
                    if tls.is_handshaking() {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the peer closed the connection during the TLS handshake",
                        ));
                    }
                    return Ok(Recv::Eof);
                }
                Ok(_) => {
                    tls.process_new_packets().map_err(tls_error)?;
                    // Handshake messages and alerts to answer.
                    while tls.wants_write() {
                        match tls.write_tls(&mut self.sock) {
                            Ok(_) => {}
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                            Err(e) => return Err(e),
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Recv::WouldBlock),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether a parked connection is still open: no bytes and no EOF are waiting. One peek
    /// that does not wait.
    #[cfg(unix)]
    pub(crate) fn is_open(&mut self) -> bool {
        use std::os::fd::AsRawFd;
        let mut byte = 0u8;
        // SAFETY: `recv` writes at most one byte, into `byte`, from this socket's own descriptor.
        let n = unsafe {
            libc::recv(self.sock.as_raw_fd(), (&raw mut byte).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT)
        };
        n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
    }

    #[cfg(not(unix))]
    pub(crate) fn is_open(&mut self) -> bool {
        let mut byte = [0u8];
        matches!(self.sock.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Takes the socket off `registry` (a loop's poller); dropping the connection closes it.
    pub(crate) fn deregister(&mut self, registry: &Registry) {
        if self.registered {
            let _ = registry.deregister(&mut self.sock);
            self.registered = false;
        }
    }

    /// Takes the socket off `registry` and closes it.
    pub(crate) fn close(mut self, registry: &Registry) {
        self.deregister(registry);
    }
}

#[cfg(unix)]
fn libc_einprogress() -> i32 {
    libc::EINPROGRESS
}

#[cfg(not(unix))]
fn libc_einprogress() -> i32 {
    -1
}
