//! HTTP on behalf of the providers: one ureq agent (and so one connection pool) per client,
//! with each call's timeouts, proxy and size limit applied per request, retries with back-off,
//! and every ureq error turned into the library's error kinds with the host named.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{ErrorKind as IoKind, Read};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use ureq::tls::{RootCerts, TlsConfig};
use ureq::{Agent, BodyReader, Proxy};

use crate::error::{Error, ErrorKind, server_text};
use crate::interrupt::Stop;
use crate::net;
use crate::secret::{self, is_secret_header};
use ureq::tls::{Certificate, PemItem, parse_pem};

/// How much of a non-2xx answer's body is read to find the server's own error text.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// One request header; the providers' fixed ones are borrowed, not copied per request.
pub type Header = (Cow<'static, str>, Cow<'static, str>);

/// What a provider wants sent: always a POST with a body. `Debug` masks credential headers,
/// and their values are wiped from memory when the request is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<_> = self
            .headers
            .iter()
            .map(|(name, value)| (name, if is_secret_header(name) { secret::MASK } else { value }))
            .collect();
        f.debug_struct("HttpRequest")
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &format_args!("{} bytes", self.body.len()))
            .finish()
    }
}

impl Drop for HttpRequest {
    fn drop(&mut self) {
        for (name, value) in &mut self.headers {
            if let (true, Cow::Owned(value)) = (is_secret_header(name), value) {
                zeroize::Zeroize::zeroize(value);
            }
        }
    }
}

/// The certificates a call's TLS connections are checked against. `ca_file` wins over
/// `tls_roots`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TlsRoots {
    /// The Mozilla roots built into the library.
    WebPki,
    /// The operating system's trust store (corporate proxies, private CAs installed system wide).
    System,
    /// Only the certificates of this PEM file.
    File(String),
}

/// The proxy a call goes through, the environment's already applied (see `Env::proxy_for`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxySetting {
    None,
    Url(String),
}

/// What the transport needs of a call: where to go through, whom to trust, how long to wait,
/// how often to try, how much to take.
#[derive(Debug, Clone)]
pub struct NetSettings {
    pub proxy: ProxySetting,
    pub tls: TlsRoots,
    pub connect_timeout: Duration,
    pub idle_timeout: Duration,
    pub timeout: Duration,
    /// When the call must be over: `timeout_ms` after it started.
    pub deadline: Instant,
    pub max_retries: u32,
    pub max_response_bytes: u64,
}

/// The certificates of a PEM file (other PEM items are ignored).
pub fn read_ca_file(path: &str) -> Result<Vec<Certificate<'static>>, Error> {
    let bad = |why: String| Error::invalid_request(format!("invalid `ca_file` {path:?}: {why}"));
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut certs = Vec::new();
    for item in parse_pem(&pem) {
        if let PemItem::Certificate(cert) = item.map_err(|e| bad(format!("not valid PEM: {e}")))? {
            certs.push(cert);
        }
    }
    if certs.is_empty() {
        return Err(bad("it holds no PEM certificate".to_string()));
    }
    Ok(certs)
}

/// HTTP for one client: an agent per trust choice (`TlsRoots`), each with its own connection
/// pool, made when a call first needs it. ureq pools a connection only for calls whose TLS
/// settings are the agent's own, so one agent per choice is what lets calls with a `ca_file`
/// or the system roots reuse connections; and a `ca_file` is read once per client, not per call.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    agents: Arc<Mutex<HashMap<TlsRoots, Agent>>>,
}

impl Transport {
    pub fn new() -> Transport {
        Transport::default()
    }

    /// The agent for these roots, made on first use (reading a `ca_file` then).
    pub fn agent(&self, roots: &TlsRoots) -> Result<Agent, Error> {
        let mut agents = self.agents.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(agent) = agents.get(roots) {
            return Ok(agent.clone());
        }
        let root_certs = match roots {
            TlsRoots::WebPki => RootCerts::WebPki,
            TlsRoots::System => RootCerts::PlatformVerifier,
            TlsRoots::File(path) => RootCerts::Specific(Arc::new(read_ca_file(path)?)),
        };
        let agent = new_agent(TlsConfig::builder().root_certs(root_certs).build());
        agents.insert(roots.clone(), agent.clone());
        Ok(agent)
    }

    /// Sends the request and returns once the answer's status and headers have arrived,
    /// retrying as the retry policy says (README): failures before the whole request was sent
    /// (connecting, a timeout while connecting or writing), and 408, 409, 429 and 5xx answers,
    /// up to `max_retries` more attempts, waiting as `Retry-After`/`retry-after-ms` ask (up to
    /// 60 s) or with exponential back-off. A request the server may have received whole is not
    /// sent again unless the server answered one of those statuses. Every attempt and wait fits
    /// in what is left of the one `timeout_ms`. A retryable answer on the last attempt is
    /// returned as is, for the provider to report.
    pub fn send(&self, req: &HttpRequest, r: &NetSettings, stop: &Stop) -> Result<HttpResponse, Error> {
        let deadline = r.deadline;
        let has_time = |wait: Duration| Instant::now() + wait < deadline;
        let mut attempt = 0;
        loop {
            let last = attempt >= r.max_retries;
            match self.send_once(req, r, stop, deadline) {
                Ok(response) if last || !retryable_status(response.status) => return Ok(response),
                Ok(mut response) => {
                    let wait = match response.retry_after {
                        RetryAfter::TooLong => return Ok(response),
                        RetryAfter::Wait(d) => d,
                        RetryAfter::NotGiven => backoff(attempt),
                    };
                    if !has_time(wait) {
                        return Ok(response);
                    }
                    response.drain(ERROR_BODY_LIMIT as usize);
                    sleep_unless_stopped(wait, stop)?;
                }
                Err(Failed { error, unsent: true }) if !last => {
                    let wait = backoff(attempt);
                    if !has_time(wait) {
                        return Err(error);
                    }
                    sleep_unless_stopped(wait, stop)?;
                }
                Err(Failed { error, .. }) => return Err(error),
            }
            attempt += 1;
        }
    }

    fn send_once(
        &self,
        req: &HttpRequest,
        r: &NetSettings,
        stop: &Stop,
        deadline: Instant,
    ) -> Result<HttpResponse, Failed> {
        if let Some(reason) = stop.reason() {
            return Err(Failed::final_(reason));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let timeouts = TimeoutsMs::of(r);
            return Err(Failed::final_(map_error(
                ureq::Error::Timeout(ureq::Timeout::Global),
                &host_of(&req.url),
                &timeouts,
                Phase::Request,
            )));
        }
        let host = host_of(&req.url);
        let proxy = match &r.proxy {
            ProxySetting::None => None,
            ProxySetting::Url(url) => Some(
                Proxy::new(url).map_err(|e| Failed::final_(Error::invalid_request(format!("invalid `proxy`: {e}"))))?,
            ),
        };
        let agent = self.agent(&r.tls).map_err(Failed::final_)?;
        let mut builder = agent.post(&req.url);
        for (name, value) in &req.headers {
            builder = builder.header(name.as_ref(), value.as_ref());
        }
        let builder = builder
            .config()
            .proxy(proxy)
            .timeout_connect(Some(r.connect_timeout))
            .timeout_recv_response(Some(r.idle_timeout))
            .timeout_per_read(Some(r.idle_timeout))
            .timeout_per_write(Some(r.idle_timeout))
            // What is left of the call's one deadline, not a fresh timeout_ms per attempt.
            .timeout_global(Some(left));
        let builder = builder.build();
        let timeouts = TimeoutsMs::of(r);
        // A stopped call fails with the stop's reason, whatever the interrupted read reported.
        let response = builder.send(&req.body[..]).map_err(|e| match stop.reason() {
            Some(reason) => Failed::final_(reason),
            None => Failed { unsent: unsent(&e), error: map_error(e, &host, &timeouts, Phase::Request) },
        })?;
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
        let content_type = header("content-type").unwrap_or("").trim().to_ascii_lowercase();
        let retry_after = parse_retry_after(header("retry-after-ms"), header("retry-after"), SystemTime::now());
        let request_id = REQUEST_ID_HEADERS.iter().find_map(|name| header(name)).unwrap_or("").to_string();
        Ok(HttpResponse {
            status: response.status().as_u16(),
            host,
            content_type,
            request_id,
            retry_after,
            limit: r.max_response_bytes,
            read: 0,
            stop: stop.clone(),
            timeouts,
            // One reader for the whole body: it holds the decoder state (gzip) between reads.
            body: response.into_body().into_reader(),
        })
    }
}

/// An agent with the library's settings and `tls` (see `crate::net` for what it connects with).
fn new_agent(tls: TlsConfig) -> Agent {
    let config = Agent::config_builder()
        // Read the status ourselves, so the server's error body is not lost.
        .http_status_as_error(false)
        // A redirected POST would become a GET or leak headers elsewhere: never follow.
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent(concat!("aichat/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls)
        .build();
    net::agent(config)
}

/// Where servers put the id of a request, most common first: OpenAI, Anthropic, OpenRouter.
const REQUEST_ID_HEADERS: [&str; 3] = ["x-request-id", "request-id", "x-generation-id"];

pub struct HttpResponse {
    status: u16,
    host: String,
    content_type: String,
    request_id: String,
    /// How long the server asked to wait before trying again.
    retry_after: RetryAfter,
    limit: u64,
    read: u64,
    stop: Stop,
    timeouts: TimeoutsMs,
    body: BodyReader<'static>,
}

impl HttpResponse {
    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The `host:port` the answer came from, for messages.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The server's id for this request (`x-request-id`, `request-id` or `x-generation-id`),
    /// `""` when absent.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The media type of the answer, lower-cased, `""` when absent.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// Reads and discards up to `limit` more body bytes, so a finished connection can go back
    /// to the pool; errors are irrelevant here.
    pub fn drain(&mut self, limit: usize) {
        let mut buf = [0u8; 4096];
        let mut left = limit;
        while left > 0 {
            match self.body.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    }

    /// Reads the next bytes of the body into `buf`; 0 at the end. Enforces `max_response_bytes`
    /// and stops early once the call should stop (cancel token, caller gone).
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if let Some(reason) = self.stop.reason() {
            return Err(reason);
        }
        let n = match self.body.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == IoKind::Interrupted => return self.read(buf),
            Err(e) => return Err(self.stop.reason().unwrap_or_else(|| self.body_error(e))),
        };
        self.read += n as u64;
        if self.read > self.limit {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!("the answer from {} is larger than max_response_bytes ({} bytes)", self.host, self.limit),
            )
            .with_http_status(self.status));
        }
        Ok(n)
    }

    /// Reads the whole body (within `max_response_bytes`).
    pub fn read_to_end(&mut self) -> Result<Vec<u8>, Error> {
        let mut body = Vec::new();
        let mut buf = [0u8; 8 * 1024];
        loop {
            match self.read(&mut buf)? {
                0 => return Ok(body),
                n => body.extend_from_slice(&buf[..n]),
            }
        }
    }

    /// The error for a non-2xx answer, with the server's own error text when it sent one.
    pub fn status_error(mut self) -> Error {
        let status = self.status;
        let reason = ureq::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
        let mut body = Vec::new();
        let _ = (&mut self.body).take(ERROR_BODY_LIMIT).read_to_end(&mut body);
        let detail = error_text(&body);
        let mut message = format!("HTTP {status} {reason} from {}", self.host).trim_end().to_string();
        if !detail.is_empty() {
            message = format!("{message}: {detail}");
        }
        Error::new(ErrorKind::HttpStatus, message).with_http_status(status)
    }

    fn body_error(&self, e: std::io::Error) -> Error {
        let err = match e.kind() {
            IoKind::Other | IoKind::TimedOut => {
                map_error(ureq::Error::from(e), &self.host, &self.timeouts, Phase::Body)
            }
            _ => map_error(ureq::Error::Io(e), &self.host, &self.timeouts, Phase::Body),
        };
        err.with_http_status(self.status)
    }
}

/// Longest server-requested wait that is honoured; a longer one is not retried.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RetryAfter {
    NotGiven,
    Wait(Duration),
    /// Over `MAX_RETRY_AFTER`: give up rather than wait that long.
    TooLong,
}

/// `retry-after-ms` (milliseconds) wins over `Retry-After` (seconds or an HTTP date).
fn parse_retry_after(ms: Option<&str>, header: Option<&str>, now: SystemTime) -> RetryAfter {
    let wait = ms
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| Duration::from_secs_f64(v.min(1e9) / 1000.0))
        .or_else(|| {
            let v = header?.trim();
            match v.parse::<f64>() {
                Ok(secs) if secs.is_finite() && secs >= 0.0 => Some(Duration::from_secs_f64(secs.min(1e9))),
                Ok(_) => None,
                Err(_) => httpdate::parse_http_date(v).ok().map(|at| at.duration_since(now).unwrap_or(Duration::ZERO)),
            }
        });
    match wait {
        None => RetryAfter::NotGiven,
        Some(d) if d > MAX_RETRY_AFTER => RetryAfter::TooLong,
        Some(d) => RetryAfter::Wait(d),
    }
}

fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || (500..600).contains(&status)
}

/// Failures before any answer arrived: nothing was delivered, so trying again is safe.
/// A failed attempt, and whether the request surely did not reach the server whole: only then
/// is it sent again, so that a server can't act on (and bill) one request twice.
struct Failed {
    error: Error,
    unsent: bool,
}

impl Failed {
    /// A failure that is never retried.
    fn final_(error: Error) -> Failed {
        Failed { error, unsent: false }
    }
}

/// Whether an attempt failed before the whole request was written: while resolving,
/// connecting (TLS and proxy included) or writing it. Waiting for the answer's head means the
/// server has it all.
fn unsent(e: &ureq::Error) -> bool {
    use ureq::Error as U;
    use ureq::Timeout as T;
    match e {
        U::Timeout(T::Resolve | T::Connect | T::SendRequest | T::SendBody | T::PerWrite) => true,
        U::HostNotFound | U::ConnectionFailed | U::ConnectProxyFailed(_) => true,
        U::Tls(_) | U::Rustls(_) | U::Pem(_) => true,
        U::Io(io) => is_connect_error(io),
        _ => false,
    }
}

/// 0.5 s doubling per attempt up to 8 s, less up to a quarter at random so that many clients
/// failing together do not retry together.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = (0.5 * 2f64.powi(attempt.min(16) as i32)).min(8.0);
    Duration::from_secs_f64(base * (1.0 - 0.25 * random_fraction()))
}

/// A number in [0, 1) that differs between calls; enough for jitter, not for anything secret.
fn random_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Sleeps `wait` in short steps; fails with the stop's reason as soon as the call should stop.
pub(crate) fn sleep_unless_stopped(wait: Duration, stop: &Stop) -> Result<(), Error> {
    const STEP: Duration = Duration::from_millis(5);
    let until = Instant::now() + wait;
    loop {
        if let Some(reason) = stop.reason() {
            return Err(reason);
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(STEP));
    }
}

/// The server's explanation in an error body: `error.message`, `error`, `message`, `detail`,
/// or the text itself when it is not JSON.
fn error_text(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let found =
            [&v["error"]["message"], &v["error"], &v["message"], &v["detail"]].into_iter().find_map(|f| f.as_str());
        if let Some(text) = found {
            return server_text(text);
        }
    }
    server_text(&String::from_utf8_lossy(body))
}

fn host_of(url: &str) -> String {
    url.parse::<ureq::http::Uri>()
        .ok()
        .and_then(|u| u.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| url.to_string())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Connecting, sending, waiting for the status line and headers.
    Request,
    /// Reading the body after a status arrived.
    Body,
}

/// The call's timeouts in milliseconds, named in timeout messages.
#[derive(Debug, Clone, Copy)]
struct TimeoutsMs {
    connect: u128,
    idle: u128,
    total: u128,
}

impl TimeoutsMs {
    fn of(r: &NetSettings) -> TimeoutsMs {
        TimeoutsMs {
            connect: r.connect_timeout.as_millis(),
            idle: r.idle_timeout.as_millis(),
            total: r.timeout.as_millis(),
        }
    }
}

fn map_error(e: ureq::Error, host: &str, t: &TimeoutsMs, phase: Phase) -> Error {
    use ureq::Error as U;
    use ureq::Timeout as T;
    let idle_timeout =
        || Error::new(ErrorKind::Timeout, format!("{host} sent nothing for longer than idle_timeout_ms={}", t.idle));
    match e {
        U::Timeout(T::Resolve | T::Connect) => {
            Error::new(ErrorKind::Timeout, format!("connecting to {host} timed out (connect_timeout_ms={})", t.connect))
        }
        U::Timeout(T::Global | T::PerCall) => {
            Error::new(ErrorKind::Timeout, format!("the call to {host} took longer than timeout_ms={}", t.total))
        }
        U::Timeout(T::PerWrite) => Error::new(
            ErrorKind::Timeout,
            format!("{host} took none of the request for longer than idle_timeout_ms={}", t.idle),
        ),
        U::Timeout(_) => idle_timeout(),
        U::HostNotFound => Error::new(ErrorKind::Connect, format!("host not found: {host}")),
        U::ConnectionFailed => Error::new(ErrorKind::Connect, format!("could not connect to {host}")),
        U::Io(io) if phase == Phase::Request && is_connect_error(&io) => {
            Error::new(ErrorKind::Connect, format!("could not connect to {host}: {io}"))
        }
        U::Io(io) if io.kind() == IoKind::TimedOut => idle_timeout(),
        U::Io(io) => Error::new(ErrorKind::Io, format!("the connection to {host} broke: {io}")),
        U::Tls(why) => Error::new(ErrorKind::Connect, format!("TLS with {host} failed: {why}")),
        U::Rustls(why) => Error::new(ErrorKind::Connect, format!("TLS with {host} failed: {why}")),
        U::Pem(why) => Error::new(ErrorKind::Connect, format!("TLS with {host} failed: {why}")),
        U::ConnectProxyFailed(why) => {
            Error::new(ErrorKind::Connect, format!("the proxy refused to reach {host}: {why}"))
        }
        U::InvalidProxyUrl => Error::invalid_request("invalid `proxy`: not a proxy URL"),
        U::BodyExceedsLimit(limit) => {
            Error::new(ErrorKind::TooLarge, format!("the answer from {host} is larger than {limit} bytes"))
        }
        U::LargeResponseHeader(size, limit) => {
            Error::protocol(format!("{host} sent response headers of {size} bytes, over the {limit} byte limit"))
        }
        U::Protocol(why) => Error::protocol(format!("{host} sent a malformed HTTP answer: {why}")),
        U::BadUri(why) => Error::invalid_request(format!("invalid `base_url`: {why}")),
        other => Error::new(ErrorKind::Io, format!("HTTP exchange with {host} failed: {other}")),
    }
}

/// Before an answer arrived, an I/O error means the connection could not be made (refused,
/// DNS lookup, unreachable), unless it is one that breaks an established connection.
fn is_connect_error(io: &std::io::Error) -> bool {
    !matches!(
        io.kind(),
        IoKind::ConnectionReset
            | IoKind::ConnectionAborted
            | IoKind::BrokenPipe
            | IoKind::UnexpectedEof
            | IoKind::TimedOut
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const T3: TimeoutsMs = TimeoutsMs { connect: 1, idle: 2, total: 3 };
    const T79: TimeoutsMs = TimeoutsMs { connect: 5, idle: 7, total: 9 };

    #[test]
    fn error_text_prefers_the_json_error_message() {
        assert_eq!(error_text(br#"{"error":{"message":"bad key","type":"x"}}"#), "bad key");
        assert_eq!(error_text(br#"{"error":"nope"}"#), "nope");
        assert_eq!(error_text(br#"{"message":"busy"}"#), "busy");
        assert_eq!(error_text(b"plain\ntext"), "plain text");
        assert_eq!(error_text(b""), "");
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let p = |ms, h| parse_retry_after(ms, h, now);
        assert_eq!(p(None, None), RetryAfter::NotGiven);
        assert_eq!(p(None, Some("2")), RetryAfter::Wait(Duration::from_secs(2)));
        assert_eq!(p(None, Some("0.5")), RetryAfter::Wait(Duration::from_millis(500)));
        assert_eq!(p(Some("250"), Some("2")), RetryAfter::Wait(Duration::from_millis(250)));
        assert_eq!(p(None, Some("61")), RetryAfter::TooLong);
        assert_eq!(p(None, Some("junk")), RetryAfter::NotGiven);
        assert_eq!(p(None, Some("-1")), RetryAfter::NotGiven);
        let date = httpdate::fmt_http_date(now + Duration::from_secs(3));
        assert_eq!(p(None, Some(&date)), RetryAfter::Wait(Duration::from_secs(3)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(3));
        assert_eq!(p(None, Some(&past)), RetryAfter::Wait(Duration::ZERO));
    }

    #[test]
    fn backoff_doubles_from_half_a_second_to_eight_with_jitter() {
        for (attempt, base) in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)] {
            let d = backoff(attempt).as_secs_f64();
            assert!(d <= base && d >= base * 0.75, "attempt {attempt}: {d}");
        }
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 409, 429, 500, 502, 503, 599] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [200, 301, 400, 401, 403, 404, 422] {
            assert!(!retryable_status(s), "{s}");
        }
    }

    #[test]
    fn host_is_the_authority() {
        assert_eq!(host_of("http://127.0.0.1:8080/api/text"), "127.0.0.1:8080");
    }

    #[test]
    fn refused_connection_is_a_connect_error() {
        let io = std::io::Error::from(IoKind::ConnectionRefused);
        let e = map_error(ureq::Error::Io(io), "h:1", &T3, Phase::Request);
        assert_eq!(e.kind(), ErrorKind::Connect);
        assert!(e.message().contains("h:1"));
    }

    #[test]
    fn reset_while_reading_body_is_an_io_error() {
        let io = std::io::Error::from(IoKind::ConnectionReset);
        assert_eq!(map_error(ureq::Error::Io(io), "h", &T3, Phase::Body).kind(), ErrorKind::Io);
    }

    #[test]
    fn timeouts_name_the_setting() {
        let e = map_error(ureq::Error::Timeout(ureq::Timeout::PerRead), "h", &T79, Phase::Body);
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert_eq!(e.message(), "h sent nothing for longer than idle_timeout_ms=7");
        let e = map_error(ureq::Error::Timeout(ureq::Timeout::Global), "h", &T79, Phase::Body);
        assert_eq!(e.message(), "the call to h took longer than timeout_ms=9");
        let e = map_error(ureq::Error::Timeout(ureq::Timeout::PerWrite), "h", &T79, Phase::Request);
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::Timeout, "h took none of the request for longer than idle_timeout_ms=7")
        );
    }
}
