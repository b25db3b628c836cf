//! The project's local test server: speaks the Aichat protocol on loopback, answers
//! deterministically from the prompt, and injects faults on request.
//!
//! Faults are chosen by a path prefix, so any client can ask for them through its base URL
//! alone: `http://127.0.0.1:PORT/fault/<spec>` where `<spec>` is a comma-separated list of
//! the items in [`Faults`], e.g. `/fault/delay=200,status=503/api/text`.

mod aichat;
mod faults;
mod respond;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;

pub use faults::Faults;
use respond::{Body, json_error};

/// Serves connections from `listener` until `stop` is notified.
pub async fn serve(listener: TcpListener, stop: Arc<Notify>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.notified() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(handle);
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let (faults, route) = match Faults::split_path(req.uri().path()) {
        Ok(split) => split,
        Err(why) => return Ok(json_error(400, &why)),
    };
    let route = route.to_string();
    let response = match (req.method(), route.as_str()) {
        (&Method::POST, "/api/text") => aichat::answer(req, &faults, &route).await,
        _ => json_error(
            404,
            &format!("test server: no route for {} {route}", req.method()),
        ),
    };
    Ok(response)
}

/// A server running on its own thread, for tests in the same process. Stops when dropped.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<Notify>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Binds 127.0.0.1 on a free port and starts serving.
    pub fn start() -> std::io::Result<Server> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(Notify::new());
        let stop_serve = stop.clone();
        let thread = std::thread::Builder::new()
            .name("aichat-testserver".into())
            .spawn(move || {
                runtime.block_on(serve(listener, stop_serve));
                runtime.shutdown_background();
            })?;
        Ok(Server {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL that makes the server inject `spec` (see [`Faults`]).
    pub fn fault_url(&self, spec: &str) -> String {
        format!("http://{}/fault/{spec}", self.addr)
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
