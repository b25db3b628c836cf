//! The project's local test server: speaks every protocol of the library (`ROUTES`: Aichat's
//! `POST /api/text`, OpenAI's chat completions, Anthropic's messages, Ollama's chat, OpenAI's
//! responses, Gemini's generateContent, Amazon Bedrock's Converse with its binary event stream
//! and SigV4 or Bearer authentication) on loopback, answers deterministically from the
//! conversation (the same [`answer`] plan for every protocol), and injects faults on request.
//!
//! Faults and stream controls are chosen by a path prefix, so any client can ask for them
//! through its base URL alone: `http://127.0.0.1:PORT/fault/<spec>` where `<spec>` is a
//! comma-separated list of the items in [`Faults`], e.g. `/fault/delay=200,status=503/api/text`.
//!
//! What arrived is kept for the requests that carry a `key=K` fault: `GET /attempts/K` counts
//! them and `GET /seen/K` lists them (method, path, headers, and the body when it is under
//! 64 KiB), as do [`Server::attempts`] and [`Server::seen`].

mod aichat;
mod answer;
mod anthropic;
mod bedrock;
mod capture;
pub mod eventstream;
mod faults;
mod gemini;
mod ollama;
mod openai;
mod raw;
mod respond;
mod responses;
pub mod sigv4;
mod tls;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;

pub use faults::Faults;
pub use raw::{Raw, RawServer};
use respond::{Body, json, json_error};
pub use tls::SelfSigned;
use tokio_rustls::TlsAcceptor;

/// What the server remembers between requests: the attempts that arrived per `key=` fault.
#[derive(Debug, Default)]
pub struct State {
    attempts: Mutex<HashMap<String, Vec<serde_json::Value>>>,
    connections: std::sync::atomic::AtomicU64,
}

/// Bodies up to this size are kept with the attempts (larger ones as their length).
const SEEN_BODY_BYTES: usize = 64 * 1024;

impl State {
    /// Keeps one more attempt for `key` and returns the new count.
    fn count(&self, key: &str, request: &capture::Captured) -> u64 {
        let seen = request.to_json_within(SEEN_BODY_BYTES);
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        let list = attempts.entry(key.to_string()).or_default();
        list.push(seen);
        list.len() as u64
    }

    pub fn attempts(&self, key: &str) -> u64 {
        self.attempts.lock().unwrap_or_else(|e| e.into_inner()).get(key).map_or(0, |l| l.len() as u64)
    }

    /// The attempts that carried `key`, in order, as the `echo` fault shows a request.
    pub fn seen(&self, key: &str) -> Vec<serde_json::Value> {
        self.attempts.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned().unwrap_or_default()
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> u64 {
        self.connections.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// Serves connections from `listener` until `stop` is notified; over TLS when `tls` is given.
pub async fn serve(listener: TcpListener, stop: Arc<Notify>, state: Arc<State>, tls: Option<TlsAcceptor>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.notified() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        state.connections.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(req, state.clone()));
            let http = http1::Builder::new();
            match tls {
                None => drop(http.serve_connection(TokioIo::new(stream), service).with_upgrades().await),
                Some(tls) => {
                    if let Ok(stream) = tls.accept(stream).await {
                        drop(http.serve_connection(TokioIo::new(stream), service).await);
                    }
                }
            }
        });
    }
}

async fn handle(req: Request<Incoming>, state: Arc<State>) -> Result<Response<Body>, Infallible> {
    if req.method() == Method::CONNECT {
        return Ok(tunnel_to_self(req, state));
    }
    let (faults, route) = match Faults::split_path(req.uri().path()) {
        Ok((faults, route)) => (faults, route.to_string()),
        Err(why) => return Ok(json_error(400, &why)),
    };
    if req.method() == Method::GET {
        if let Some(key) = route.strip_prefix("/attempts/") {
            return Ok(json(200, &serde_json::json!({"attempts": state.attempts(key)})));
        }
        if let Some(key) = route.strip_prefix("/seen/") {
            return Ok(json(200, &serde_json::json!({"requests": state.seen(key)})));
        }
        return Ok(json_error(404, &format!("test server: no route for GET {route}")));
    }
    let protocol = ROUTES.iter().find(|r| r.paths.iter().any(|p| route_matches(p, &route)));
    let Some(protocol) = protocol.filter(|_| req.method() == Method::POST) else {
        return Ok(json_error(404, &format!("test server: no route for {} {route}", req.method())));
    };
    let captured = match capture::Captured::read(req).await {
        Ok(c) => c,
        Err(response) => return Ok(response),
    };
    let attempt = faults.key.as_deref().map(|key| state.count(key, &captured));
    faults.wait().await;
    if let Some(response) = (protocol.refusal)(&captured, &faults) {
        return Ok(response);
    }
    let echo = if faults.echo { captured.to_json().to_string() } else { String::new() };
    if let Some(response) = faults.failure(attempt, &route, &echo, protocol.error) {
        return Ok(response);
    }
    Ok((protocol.answer)(&captured, &faults, attempt))
}

/// How the server answers one protocol's request (the attempt number when the faults name a key).
type Answer = fn(&capture::Captured, &Faults, Option<u64>) -> Response<Body>;

/// One protocol the server speaks.
struct Route {
    /// Its paths (`*`: one path segment).
    paths: &'static [&'static str],
    answer: Answer,
    /// What every request must pass before any injected failure or answer (authentication):
    /// the refusal when it does not.
    refusal: fn(&capture::Captured, &Faults) -> Option<Response<Body>>,
    /// The protocol's error answer for a status and message (for the `status` fault).
    error: fn(u16, &str) -> Response<Body>,
}

impl Route {
    /// A protocol that admits every request and answers errors in OpenAI's shape.
    const fn new(paths: &'static [&'static str], answer: Answer) -> Route {
        Route { paths, answer, refusal: |_, _| None, error: json_error }
    }

    const fn guarded(
        self,
        refusal: fn(&capture::Captured, &Faults) -> Option<Response<Body>>,
        error: fn(u16, &str) -> Response<Body>,
    ) -> Route {
        Route { refusal, error, ..self }
    }
}

/// Whether `route` is `path`, or, where `path` has a `*`, what is around it with one path
/// segment (no `/`, not empty) in its place.
fn route_matches(path: &str, route: &str) -> bool {
    match path.split_once('*') {
        None => path == route,
        Some((before, after)) => route
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .is_some_and(|segment| !segment.is_empty() && !segment.contains('/')),
    }
}

/// Every protocol the server speaks: its paths (`*`: a path segment) and its answer, one line each.
const ROUTES: &[Route] = &[
    Route::new(&["/api/text"], |req, faults, _| aichat::answer(req, faults)),
    // Azure OpenAI's v1 API is the same under /openai/v1.
    Route::new(&["/v1/chat/completions", "/chat/completions", "/openai/v1/chat/completions"], |req, faults, _| {
        openai::answer(req, faults)
    }),
    Route::new(&["/v1/messages", "/messages"], anthropic::answer),
    Route::new(&["/api/chat"], |req, faults, _| ollama::answer(req, faults)),
    Route::new(&["/v1/responses", "/responses"], responses::answer),
    Route::new(
        &[
            "/v1beta/models/*:streamGenerateContent",
            "/v1beta/models/*:generateContent",
            "/models/*:streamGenerateContent",
            "/models/*:generateContent",
        ],
        gemini::answer,
    ),
    // The model id is one segment: an ARN's `:` and `/` arrive percent-encoded.
    Route::new(&["/model/*/converse-stream", "/model/*/converse"], bedrock::answer)
        .guarded(bedrock::refusal, bedrock::error),
];

/// Answers `CONNECT host:port` as a forward proxy would, except that the tunnel leads back to
/// this server whatever the host: so the server can stand in for an HTTP proxy in tests (the
/// target host need not even exist).
fn tunnel_to_self(req: Request<Incoming>, state: Arc<State>) -> Response<Body> {
    tokio::spawn(async move {
        if let Ok(upgraded) = hyper::upgrade::on(req).await {
            let service = service_fn(move |req| handle(req, state.clone()));
            let _ = http1::Builder::new().serve_connection(upgraded, service).await;
        }
    });
    // No Content-Length: RFC 9110 forbids it on a 2xx answer to CONNECT.
    Response::new(respond::empty())
}

/// A server running on its own thread, for tests in the same process. Stops when dropped.
pub struct Server {
    addr: SocketAddr,
    scheme: &'static str,
    stop: Arc<Notify>,
    state: Arc<State>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Binds 127.0.0.1 on a free port and starts serving.
    pub fn start() -> std::io::Result<Server> {
        Self::start_with(None)
    }

    /// The same over HTTPS, with a new self-signed certificate for 127.0.0.1 and localhost;
    /// its PEM is in [`SelfSigned::cert_pem`] for clients that should trust it.
    pub fn start_tls() -> std::io::Result<(Server, SelfSigned)> {
        let cert = SelfSigned::generate()?;
        Ok((Self::start_with(Some(cert.acceptor()?))?, cert))
    }

    fn start_with(tls: Option<TlsAcceptor>) -> std::io::Result<Server> {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(Notify::new());
        let stop_serve = stop.clone();
        let state = Arc::new(State::default());
        let state_serve = state.clone();
        let thread = std::thread::Builder::new().name("aichat-testserver".into()).spawn(move || {
            runtime.block_on(serve(listener, stop_serve, state_serve, tls));
            runtime.shutdown_background();
        })?;
        Ok(Server { addr, scheme, stop, state, thread: Some(thread) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (`https://` for [`Server::start_tls`]).
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// How many requests arrived with the fault `key=KEY`.
    pub fn attempts(&self, key: &str) -> u64 {
        self.state.attempts(key)
    }

    /// The requests that arrived with the fault `key=KEY`, in order, each as the `echo` fault
    /// shows it (`{"method", "path", "query"?, "headers": [[name, value], ...], "body"}`; a body
    /// over 64 KiB as `{"bytes": N}`).
    pub fn seen(&self, key: &str) -> Vec<serde_json::Value> {
        self.state.seen(key)
    }

    /// The value of header `name` (lowercase) in each request that arrived with `key=KEY`, in
    /// order (`None` where it was absent): e.g. each attempt's `x-amz-date`.
    pub fn header_of_attempts(&self, key: &str, name: &str) -> Vec<Option<String>> {
        let value = |seen: &serde_json::Value| {
            let headers = seen["headers"].as_array()?;
            let pair = headers.iter().find(|h| h[0] == name)?;
            pair[1].as_str().map(str::to_string)
        };
        self.state.seen(key).iter().map(value).collect()
    }

    /// How many connections the server accepted (pooled calls share one).
    pub fn connections(&self) -> u64 {
        self.state.connections()
    }

    /// The base URL that makes the server inject `spec` (see [`Faults`]).
    pub fn fault_url(&self, spec: &str) -> String {
        format!("{}/fault/{spec}", self.base_url())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
