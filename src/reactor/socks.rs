//! SOCKS proxies (socks4, socks4a, socks5, socks5h): the handshake is a few blocking exchanges
//! on a fresh connection, done on the lookup pool (see `dns`) within `connect_timeout_ms`; the
//! connected socket then goes to the reactor, which runs TLS and HTTP over it as over any other.
//! A cancel during the handshake fails the call at once; the pool thread finishes the handshake
//! (bounded by the connect timeout) and the socket is then closed.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V4,
    /// The proxy resolves the target's name.
    V4a,
    V5,
    /// The proxy resolves the target's name.
    V5h,
}

pub(crate) struct Socks {
    pub(crate) version: Version,
    pub(crate) proxy_host: String,
    pub(crate) proxy_port: u16,
    pub(crate) user: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) target_host: String,
    pub(crate) target_port: u16,
    pub(crate) timeout: Duration,
}

impl Socks {
    /// Connects to the proxy and asks it for a connection to the target.
    pub(crate) fn connect(self) -> Result<TcpStream, Error> {
        let until = Instant::now() + self.timeout;
        let proxy = format!("{}:{}", self.proxy_host, self.proxy_port);
        let timed_out = || {
            Error::new(
                ErrorKind::Timeout,
                format!("connecting to {}:{} through the SOCKS proxy timed out", self.target_host, self.target_port),
            )
        };
        let addrs = super::dns::resolve(&self.proxy_host, self.proxy_port)?;
        let mut last = None;
        let mut stream = None;
        for addr in addrs {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(timed_out());
            }
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let mut stream = stream.ok_or_else(|| {
            let why = last.map(|e| format!(": {e}")).unwrap_or_default();
            Error::new(ErrorKind::Connect, format!("could not connect to the SOCKS proxy {proxy}{why}"))
        })?;
        let left = until.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        let io = |e: std::io::Error| {
            if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) {
                timed_out()
            } else {
                Error::new(ErrorKind::Connect, format!("the SOCKS proxy {proxy} broke off: {e}"))
            }
        };
        stream.set_read_timeout(Some(left)).map_err(io)?;
        stream.set_write_timeout(Some(left)).map_err(io)?;
        match self.version {
            Version::V4 | Version::V4a => self.v4(&mut stream).map_err(io)?,
            Version::V5 | Version::V5h => self.v5(&mut stream).map_err(io)??,
        }
        stream.set_read_timeout(None).map_err(io)?;
        stream.set_write_timeout(None).map_err(io)?;
        Ok(stream)
    }

    fn refused(&self, why: &str) -> Error {
        Error::new(
            ErrorKind::Connect,
            format!("the SOCKS proxy refused to reach {}:{}: {why}", self.target_host, self.target_port),
        )
    }

    /// The target's address, looked up here (for the versions where the proxy does not).
    fn local_address(&self) -> Result<SocketAddr, Error> {
        super::dns::resolve(&self.target_host, self.target_port)?
            .into_iter()
            .find(|a| self.version != Version::V4 || a.is_ipv4())
            .ok_or_else(|| self.refused("SOCKS4 reaches IPv4 addresses only"))
    }

    fn v4(&self, s: &mut TcpStream) -> std::io::Result<()> {
        let mut request = vec![4, 1];
        request.extend_from_slice(&self.target_port.to_be_bytes());
        let remote_name = self.version == Version::V4a;
        match remote_name {
            true => request.extend_from_slice(&[0, 0, 0, 1]),
            false => match self.local_address().map_err(std::io::Error::other)?.ip() {
                IpAddr::V4(ip) => request.extend_from_slice(&ip.octets()),
                IpAddr::V6(_) => return Err(std::io::Error::other("SOCKS4 reaches IPv4 addresses only")),
            },
        }
        request.extend_from_slice(self.user.as_deref().unwrap_or("").as_bytes());
        request.push(0);
        if remote_name {
            request.extend_from_slice(self.target_host.as_bytes());
            request.push(0);
        }
        s.write_all(&request)?;
        let mut reply = [0u8; 8];
        s.read_exact(&mut reply)?;
        if reply[1] != 0x5a {
            return Err(std::io::Error::other(format!("SOCKS4 request rejected (code {:#04x})", reply[1])));
        }
        Ok(())
    }

    fn v5(&self, s: &mut TcpStream) -> std::io::Result<Result<(), Error>> {
        let with_password = self.user.is_some();
        s.write_all(if with_password { &[5, 2, 0, 2] } else { &[5, 1, 0] })?;
        let mut choice = [0u8; 2];
        s.read_exact(&mut choice)?;
        match choice {
            [5, 0] => {}
            [5, 2] if with_password => {
                let (user, password) = (self.user.as_deref().unwrap_or(""), self.password.as_deref().unwrap_or(""));
                if user.len() > 255 || password.len() > 255 {
                    return Ok(Err(self.refused("the proxy user name or password is over 255 bytes")));
                }
                let mut auth = vec![1, user.len() as u8];
                auth.extend_from_slice(user.as_bytes());
                auth.push(password.len() as u8);
                auth.extend_from_slice(password.as_bytes());
                s.write_all(&auth)?;
                let mut status = [0u8; 2];
                s.read_exact(&mut status)?;
                if status[1] != 0 {
                    return Ok(Err(self.refused("the proxy did not accept its user name and password")));
                }
            }
            _ => return Ok(Err(self.refused("no authentication method the proxy accepts"))),
        }
        let mut request = vec![5, 1, 0];
        if self.version == Version::V5h {
            if self.target_host.len() > 255 {
                return Ok(Err(self.refused("the host name is over 255 bytes")));
            }
            request.push(3);
            request.push(self.target_host.len() as u8);
            request.extend_from_slice(self.target_host.as_bytes());
        } else {
            match self.local_address() {
                Ok(SocketAddr::V4(a)) => {
                    request.push(1);
                    request.extend_from_slice(&a.ip().octets());
                }
                Ok(SocketAddr::V6(a)) => {
                    request.push(4);
                    request.extend_from_slice(&a.ip().octets());
                }
                Err(e) => return Ok(Err(e)),
            }
        }
        request.extend_from_slice(&self.target_port.to_be_bytes());
        s.write_all(&request)?;
        let mut reply = [0u8; 4];
        s.read_exact(&mut reply)?;
        if reply[1] != 0 {
            return Ok(Err(self.refused(&format!("SOCKS5 reply code {}", reply[1]))));
        }
        let rest = match reply[3] {
            1 => 4 + 2,
            4 => 16 + 2,
            3 => {
                let mut len = [0u8; 1];
                s.read_exact(&mut len)?;
                usize::from(len[0]) + 2
            }
            _ => return Ok(Err(self.refused("a malformed SOCKS5 reply"))),
        };
        let mut bound = vec![0u8; rest];
        s.read_exact(&mut bound)?;
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A SOCKS5 proxy that checks the greeting and request, then answers "hello" over the
    /// tunnel.
    fn fake_socks5(expect_request: Vec<u8>) -> (u16, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut greeting = [0u8; 3];
            s.read_exact(&mut greeting).unwrap();
            assert_eq!(greeting, [5, 1, 0]);
            s.write_all(&[5, 0]).unwrap();
            let mut request = vec![0u8; expect_request.len()];
            s.read_exact(&mut request).unwrap();
            assert_eq!(request, expect_request);
            s.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 80]).unwrap();
            s.write_all(b"hello").unwrap();
        });
        (port, t)
    }

    #[test]
    fn socks5h_sends_the_name_and_tunnels() {
        let mut expect = vec![5, 1, 0, 3, 11];
        expect.extend_from_slice(b"example.com");
        expect.extend_from_slice(&443u16.to_be_bytes());
        let (port, t) = fake_socks5(expect);
        let socks = Socks {
            version: Version::V5h,
            proxy_host: "127.0.0.1".into(),
            proxy_port: port,
            user: None,
            password: None,
            target_host: "example.com".into(),
            target_port: 443,
            timeout: Duration::from_secs(5),
        };
        let mut stream = socks.connect().unwrap();
        let mut hello = [0u8; 5];
        stream.read_exact(&mut hello).unwrap();
        assert_eq!(&hello, b"hello");
        t.join().unwrap();
    }

    #[test]
    fn a_proxy_that_is_not_there_is_a_connect_error() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let socks = Socks {
            version: Version::V5,
            proxy_host: "127.0.0.1".into(),
            proxy_port: port,
            user: None,
            password: None,
            target_host: "127.0.0.1".into(),
            target_port: 1,
            timeout: Duration::from_secs(2),
        };
        assert_eq!(socks.connect().unwrap_err().kind(), ErrorKind::Connect);
    }
}
