//! Hostile servers that no HTTP library would let us be: each speaks just enough HTTP/1.1 (or
//! breaks it) on purpose, on its own loopback port. For the hostile-server tests; the request
//! is read with the least parsing that works (head up to the blank line, then Content-Length).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// How a [`RawServer`] answers every connection.
#[derive(Debug, Clone)]
pub enum Raw {
    /// Read the request, write these bytes, close.
    Reply(Vec<u8>),
    /// Read the request, write these bytes, then reset the connection (RST, not FIN).
    ReplyThenReset(Vec<u8>),
    /// Read the request, write a status line, then header lines forever.
    EndlessHeaders,
    /// Accept and never read nor write; the connection stays open.
    NeverRead,
    /// Read the request, close without a word.
    CloseAtOnce,
    /// Read the request, write these bytes, then keep the connection open without a word
    /// (a stream whose end marker came but whose body never ends).
    ReplyThenHold(Vec<u8>),
    /// Read the request, then write these bytes one at a time, this many milliseconds apart.
    Trickle(Vec<u8>, u64),
}

pub struct RawServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
}

impl RawServer {
    pub fn start(behaviour: Raw) -> std::io::Result<RawServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        thread::spawn(move || {
            while !stopped.load(Ordering::Acquire) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        counter.fetch_add(1, Ordering::AcqRel);
                        let behaviour = behaviour.clone();
                        let stopped = stopped.clone();
                        thread::spawn(move || answer(stream, &behaviour, &stopped));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(RawServer { addr, stop, accepted })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections were accepted so far (a client that connected is past building
    /// its request).
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Acquire)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn answer(stream: TcpStream, behaviour: &Raw, stopped: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    if let Raw::NeverRead = behaviour {
        while !stopped.load(Ordering::Acquire) {
            thread::sleep(Duration::from_millis(20));
        }
        return;
    }
    let mut reader = BufReader::new(stream);
    if read_request(&mut reader).is_err() {
        return;
    }
    let mut stream = reader.into_inner();
    match behaviour {
        Raw::Reply(bytes) => {
            let _ = stream.write_all(bytes);
        }
        Raw::ReplyThenReset(bytes) => {
            let _ = stream.write_all(bytes);
            let _ = stream.flush();
            thread::sleep(Duration::from_millis(50));
            // SO_LINGER 0: close() sends RST.
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        }
        Raw::EndlessHeaders => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n");
            for i in 0u64.. {
                if stopped.load(Ordering::Acquire)
                    || stream.write_all(format!("x-endless-{i}: {}\r\n", "v".repeat(64)).as_bytes()).is_err()
                {
                    break;
                }
            }
        }
        Raw::ReplyThenHold(bytes) => {
            let _ = stream.write_all(bytes);
            while !stopped.load(Ordering::Acquire) {
                thread::sleep(Duration::from_millis(20));
            }
        }
        Raw::Trickle(bytes, ms) => {
            for b in bytes {
                if stopped.load(Ordering::Acquire) || stream.write_all(&[*b]).is_err() {
                    break;
                }
                thread::sleep(Duration::from_millis(*ms));
            }
        }
        Raw::CloseAtOnce | Raw::NeverRead => {}
    }
}

/// Reads one request: the head up to the blank line, then Content-Length bytes of body.
fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<()> {
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((_, value)) = line.split_once(':').filter(|(name, _)| name.eq_ignore_ascii_case("content-length")) {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    std::io::copy(&mut reader.take(length as u64), &mut std::io::sink())?;
    Ok(())
}
