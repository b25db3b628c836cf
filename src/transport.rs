//! HTTP on behalf of the providers, the caller's side: a call's request goes to the reactor
//! (`crate::reactor`), which connects, sends, retries and reads; the caller takes the answer's
//! head and body bytes as they arrive, with or without waiting. Also the retry rules' pieces
//! the reactor applies (`Retry-After`, back-off, retryable statuses) and the TLS settings.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls::ClientConfig;
use ureq::tls::{Certificate, PemItem, parse_pem};
use ureq::{Proxy, ProxyProtocol};
use ureq_proto::http;

use crate::error::{Error, ErrorKind, server_text};
use crate::reactor::task::{Plan, Route, Task};
use crate::reactor::{self, exchange::Exchange, exchange::Taken, signal::Notify};
use crate::reactor::{ClientId, Engine, PoolKey, SocksVersion};
use crate::secret;
use crate::stop::Stop;
use crate::tls;

/// How much of a non-2xx answer's body is read to find the server's own error text.
pub(crate) const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// One request header; the providers' fixed ones are borrowed, not copied per request.
pub type Header = (Cow<'static, str>, Cow<'static, str>);

/// What a provider wants sent: always a POST with a body. `Debug` masks the value of every
/// header the call made (owned: the caller's `headers`, the key), showing only the providers'
/// fixed ones, and those values are wiped from memory when the request is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
    /// Signs the request before each attempt is sent (AWS SigV4: a signature holds the time,
    /// so a retry is signed anew); `None` for a request whose headers are final.
    pub signer: Option<Signer>,
}

/// What signs a request, at the time an attempt is sent: it sets the request's signature
/// headers, replacing those of an earlier attempt.
pub trait Sign: Send + Sync {
    fn sign(&self, request: &mut HttpRequest, now: SystemTime) -> Result<(), Error>;
}

/// A request's [`Sign`]er; two are equal when they are the same one.
#[derive(Clone)]
pub struct Signer(pub Arc<dyn Sign>);

impl PartialEq for Signer {
    fn eq(&self, other: &Signer) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Signer {}

impl HttpRequest {
    /// Has the signer, if any, sign the request for an attempt sent now.
    pub(crate) fn sign_now(&mut self) -> Result<(), Error> {
        match self.signer.clone() {
            Some(signer) => signer.0.sign(self, SystemTime::now()),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<_> = self
            .headers
            .iter()
            .map(|(name, value)| (name, if matches!(value, Cow::Owned(_)) { secret::MASK } else { value }))
            .collect();
        f.debug_struct("HttpRequest")
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &format_args!("{} bytes", self.body.len()))
            .field("signed", &self.signer.is_some())
            .finish()
    }
}

impl Drop for HttpRequest {
    fn drop(&mut self) {
        for (_, value) in &mut self.headers {
            if let Cow::Owned(value) = value {
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
/// `Debug` shows the URL without its user and password.
#[derive(Clone, PartialEq, Eq)]
pub enum ProxySetting {
    None,
    Url(String),
}

impl std::fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxySetting::None => f.write_str("None"),
            ProxySetting::Url(url) => f.debug_tuple("Url").field(&secret::without_userinfo(url)).finish(),
        }
    }
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

/// HTTP for one client: the TLS settings per trust choice (`TlsRoots`), made when a call first
/// needs them, and the client's own pool of idle connections on the reactor (freed with the
/// client). A `ca_file` is read once per client, not per call.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Keys this client's idle connections in the pool.
    client: Arc<ClientId>,
    configs: Mutex<HashMap<TlsRoots, Arc<ClientConfig>>>,
}

impl Default for Inner {
    fn default() -> Inner {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Inner { client: Arc::new(ClientId::new(NEXT.fetch_add(1, Ordering::Relaxed))), configs: Mutex::default() }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        reactor::close_pool(&self.client);
    }
}

impl Transport {
    pub fn new() -> Transport {
        Transport::default()
    }

    /// The TLS settings for these roots, made on first use (reading a `ca_file` then).
    pub fn tls_config(&self, roots: &TlsRoots) -> Result<Arc<ClientConfig>, Error> {
        let mut configs = self.inner.configs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(config) = configs.get(roots) {
            return Ok(config.clone());
        }
        let config = tls::client_config(roots)?;
        configs.insert(roots.clone(), config.clone());
        Ok(config)
    }

    /// Hands the request to the reactor and returns at once; the answer's head arrives through
    /// the returned [`Pending`]. The reactor retries as the retry policy says (README): failures
    /// before the whole request was sent (connecting, a timeout while connecting or writing),
    /// a pooled connection the server had closed, and 408, 409, 429 and 5xx answers, up to
    /// `max_retries` more attempts (less `attempts_before`, spent by this call already), waiting
    /// as `Retry-After`/`retry-after-ms` ask (up to 60 s) or with exponential back-off. A request
    /// the server may have received whole is not sent again unless the server answered one of
    /// those statuses. Every attempt and wait fits in what is left of the one `timeout_ms`. A
    /// retryable answer on the last attempt is handed over as is, for the provider to report.
    pub(crate) fn start(
        &self,
        request: HttpRequest,
        net: &NetSettings,
        stop: &Stop,
        start: Start,
    ) -> Result<Pending, Error> {
        if let Some(reason) = stop.reason() {
            return Err(reason);
        }
        let uri: http::Uri =
            request.url.parse().map_err(|e| Error::invalid_request(format!("invalid `base_url`: {e}")))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(Error::invalid_request("invalid `base_url`: the scheme must be http or https")),
        };
        let target_host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| Error::invalid_request("invalid `base_url`: it names no host"))?;
        let target_host = target_host.trim_start_matches('[').trim_end_matches(']').to_string();
        let target_port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let host = host_of(&uri);
        let route = route(&net.proxy)?;
        // Made (and a `ca_file` read) even for http://, so a bad one fails the same everywhere.
        let tls = self.tls_config(&net.tls)?;
        let tls = https.then_some(tls);
        let origin = format!(
            "{}://{target_host}:{target_port} {:?} {:?}",
            if https { "https" } else { "http" },
            net.proxy,
            net.tls
        );
        let reactor = reactor::loop_for(start.engine)?;
        let ex = Exchange::new(stop.clone(), start.notify, reactor.clone());
        let plan = Plan {
            request,
            net: net.clone(),
            route,
            tls,
            pool: PoolKey { client: self.inner.client.clone(), origin },
            attempts_before: start.attempts_before,
            not_before: start.not_before,
            host: host.clone(),
            target_host,
            target_port,
        };
        let engine = start.engine;
        reactor::start(engine, &reactor, Task::new(ex.clone(), plan)?);
        Ok(Pending { handle: Some(Handle(ex, engine)), host, limit: net.max_response_bytes, stop: stop.clone() })
    }
}

/// How a call's exchange starts: on which loop, with a descriptor to keep up to date (a pulled
/// call), and, for a retry after the head, the attempts spent and the back-off.
pub(crate) struct Start {
    pub(crate) engine: Engine,
    pub(crate) notify: Option<Arc<Notify>>,
    pub(crate) attempts_before: u32,
    pub(crate) not_before: Option<Instant>,
}

/// The reactor's route for a proxy setting.
fn route(proxy: &ProxySetting) -> Result<Route, Error> {
    let ProxySetting::Url(url) = proxy else { return Ok(Route::Direct) };
    let proxy = Proxy::new(url).map_err(|e| Error::invalid_request(format!("invalid `proxy`: {e}")))?;
    let (host, port) = (proxy.host().to_string(), proxy.port());
    let (user, password) = (proxy.username().map(str::to_string), proxy.password().map(str::to_string));
    let socks = |version| {
        Ok(Route::Socks { version, host: host.clone(), port, user: user.clone(), password: password.clone() })
    };
    match proxy.protocol() {
        ProxyProtocol::Http => {
            use base64::Engine;
            let auth = user.as_ref().map(|u| {
                let pair = format!("{u}:{}", password.as_deref().unwrap_or(""));
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
            });
            Ok(Route::Tunnel { host, port, auth })
        }
        ProxyProtocol::Socks4 => socks(SocksVersion::V4),
        ProxyProtocol::Socks4A => socks(SocksVersion::V4a),
        ProxyProtocol::Socks5 => socks(SocksVersion::V5),
        ProxyProtocol::Socks5h => socks(SocksVersion::V5h),
        _ => Err(Error::invalid_request(
            "invalid `proxy`: only http:// (CONNECT) and socks4, socks4a, socks5 and socks5h proxies are supported",
        )),
    }
}

/// The caller's hold on an exchange, and the loop that runs it: when it goes, the reactor is
/// told (and drains or closes the connection).
struct Handle(Arc<Exchange>, Engine);

impl Handle {
    /// Waits until the exchange changes: on the exchange, or, when the caller's own loop runs
    /// it, by running that loop.
    fn wait(&self, until: Option<Instant>) {
        match self.1 {
            Engine::Thread => self.0.wait(until),
            Engine::Caller => reactor::run_local(until),
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// A request on its way: the answer's head has not been taken yet.
pub(crate) struct Pending {
    /// Moves to the response when the head arrives.
    handle: Option<Handle>,
    host: String,
    limit: u64,
    stop: Stop,
}

impl Pending {
    /// The answer (its head), the failure that came instead, or `None` while neither arrived.
    /// Does not wait.
    pub(crate) fn poll(&mut self) -> Option<Result<HttpResponse, Error>> {
        if let Some(reason) = self.stop.reason() {
            return Some(Err(reason));
        }
        let handle = self.handle.as_ref()?;
        let head = handle.0.take_head()?;
        let handle = self.handle.take()?;
        Some(head.map(|head| HttpResponse {
            status: head.status,
            content_type: head.content_type,
            request_id: head.request_id,
            error_type: head.error_type,
            attempts: head.attempts,
            host: std::mem::take(&mut self.host),
            limit: self.limit,
            read: 0,
            stop: self.stop.clone(),
            handle,
        }))
    }

    /// Waits until something changes (see `Exchange::wait`).
    pub(crate) fn wait(&self, until: Option<Instant>) {
        if let Some(handle) = &self.handle {
            handle.wait(until)
        }
    }
}

/// What [`HttpResponse::take`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// Bytes are in the buffer.
    Bytes,
    /// None arrived yet.
    Pending,
    /// The body ended; nothing more comes.
    End,
}

pub struct HttpResponse {
    status: u16,
    host: String,
    content_type: String,
    request_id: String,
    error_type: String,
    attempts: u32,
    limit: u64,
    read: u64,
    stop: Stop,
    handle: Handle,
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

    /// The server's id for this request (`x-request-id`, `request-id`, `x-generation-id` or `x-amzn-requestid`),
    /// `""` when absent.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The media type of the answer, lower-cased, `""` when absent.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The attempts made to get this answer, counting a call's earlier ones.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Moves the body bytes that arrived into `buf` (emptied first), without waiting. Enforces
    /// `max_response_bytes`; fails with the stop's reason once the call should stop.
    pub(crate) fn take(&mut self, buf: &mut Vec<u8>) -> Result<Body, Error> {
        buf.clear();
        if let Some(reason) = self.stop.reason() {
            return Err(reason);
        }
        match self.handle.0.take_body(buf) {
            Taken::Bytes => {
                self.read += buf.len() as u64;
                if self.read > self.limit {
                    return Err(Error::new(
                        ErrorKind::TooLarge,
                        format!(
                            "the answer from {} is larger than max_response_bytes ({} bytes)",
                            self.host, self.limit
                        ),
                    )
                    .with_http_status(self.status));
                }
                Ok(Body::Bytes)
            }
            Taken::Nothing => Ok(Body::Pending),
            Taken::End(Ok(())) => Ok(Body::End),
            Taken::End(Err(e)) => Err(self.stop.reason().unwrap_or(e).with_http_status(self.status)),
        }
    }

    /// Waits until something changes (see `Exchange::wait`).
    pub(crate) fn wait(&self, until: Option<Instant>) {
        self.handle.wait(until)
    }

    /// The error for a non-2xx answer whose body (up to `ERROR_BODY_LIMIT`) is `body`, with the
    /// server's own error text when it sent one.
    pub(crate) fn status_error(&self, body: &[u8]) -> Error {
        let status = self.status;
        let reason = http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
        let mut detail = error_text(body);
        // An AWS service names the error's type in a header, and only its message in the body.
        if !self.error_type.is_empty() {
            detail = server_text(&if detail.is_empty() {
                self.error_type.clone()
            } else {
                format!("{}: {detail}", self.error_type)
            });
        }
        let mut message = format!("HTTP {status} {reason} from {}", self.host).trim_end().to_string();
        if !detail.is_empty() {
            message = format!("{message}: {detail}");
        }
        Error::new(ErrorKind::HttpStatus, message).with_http_status(status)
    }
}

/// Longest server-requested wait that is honoured; a longer one is not retried.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryAfter {
    NotGiven,
    Wait(Duration),
    /// Over `MAX_RETRY_AFTER`: give up rather than wait that long.
    TooLong,
}

/// `retry-after-ms` (milliseconds) wins over `Retry-After` (seconds or an HTTP date).
pub(crate) fn parse_retry_after(ms: Option<&str>, header: Option<&str>, now: SystemTime) -> RetryAfter {
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

pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || (500..600).contains(&status)
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

/// The server's explanation in an error body: `error.message`, `error`, `message`, `detail`,
/// or the text itself when it is not JSON.
fn error_text(body: &[u8]) -> String {
    if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) {
        // Google's APIs may answer a list of one error object.
        if let Some(first) = v.as_array().and_then(|a| a.first()).filter(|f| f.get("error").is_some()) {
            v = first.clone();
        }
        let found =
            [&v["error"]["message"], &v["error"], &v["message"], &v["detail"]].into_iter().find_map(|f| f.as_str());
        if let Some(text) = found {
            // Google's status word (`INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`) says what kind of
            // error it is: it goes first.
            return match v["error"]["status"].as_str().filter(|s| !s.is_empty() && v["error"]["message"].is_string()) {
                Some(status) => server_text(&format!("{status}: {text}")),
                None => server_text(text),
            };
        }
    }
    server_text(&String::from_utf8_lossy(body))
}

/// The `host:port` of a request, for messages: never the userinfo, which may hold a password.
fn host_of(uri: &http::Uri) -> String {
    uri.authority().map_or("", |a| a.as_str().rsplit('@').next().unwrap_or("")).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_text_prefers_the_json_error_message() {
        assert_eq!(error_text(br#"{"error":{"message":"bad key","type":"x"}}"#), "bad key");
        assert_eq!(error_text(br#"{"error":"nope"}"#), "nope");
        assert_eq!(error_text(br#"{"message":"busy"}"#), "busy");
        assert_eq!(error_text(b"plain\ntext"), "plain text");
        assert_eq!(error_text(b""), "");
        let google = br#"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(error_text(google), "INVALID_ARGUMENT: API key not valid.");
        assert_eq!(error_text(&[b"[", &google[..], b"]"].concat()), "INVALID_ARGUMENT: API key not valid.");
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
        let host = |url: &str| host_of(&url.parse().unwrap());
        assert_eq!(host("http://127.0.0.1:8080/api/text"), "127.0.0.1:8080");
        assert_eq!(host("https://user:pw@example.com/v1"), "example.com");
    }
}
