//! `aichat-testserver [PORT] [--tls CERT_FILE]`: serves on 127.0.0.1:PORT (0 or none = any free
//! port), prints `http://127.0.0.1:PORT` as its first line, and exits on SIGTERM, SIGINT or end
//! of stdin (when stdin is a pipe). With `--tls`, it serves HTTPS with a new self-signed
//! certificate, written as PEM to CERT_FILE for clients to trust, and prints `https://...`.

use std::io::Write;
use std::sync::Arc;

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;

fn main() -> std::process::ExitCode {
    let usage = || {
        eprintln!("usage: aichat-testserver [PORT] [--tls CERT_FILE]   (PORT 0 = any free port)");
        std::process::ExitCode::from(2)
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (port, tls_cert_file) = match args.as_slice() {
        [] => (Some(0), None),
        [port] => (port.parse().ok(), None),
        [flag, file] if flag == "--tls" => (Some(0), Some(file.clone())),
        [port, flag, file] if flag == "--tls" => (port.parse().ok(), Some(file.clone())),
        _ => (None, None),
    };
    let Some(port) = port else { return usage() };
    let tls = match tls_cert_file.map(|file| self_signed_acceptor(&file)).transpose() {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("aichat-testserver: cannot set up TLS: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let code = runtime.block_on(async move {
        let listener = match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("aichat-testserver: cannot bind 127.0.0.1:{port}: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().expect("bound address");
        println!("{}://{addr}", if tls.is_some() { "https" } else { "http" });
        let _ = std::io::stdout().flush();
        let stop = Arc::new(Notify::new());
        tokio::spawn(stop_on_signal_or_eof(stop.clone()));
        aichat_testserver::serve(listener, stop, Default::default(), tls).await;
        std::process::ExitCode::SUCCESS
    });
    // Don't wait for the blocking stdin reader: it only ends when stdin does.
    runtime.shutdown_background();
    code
}

/// A new self-signed certificate, its PEM written to `file`, and the acceptor presenting it.
fn self_signed_acceptor(file: &str) -> std::io::Result<tokio_rustls::TlsAcceptor> {
    let cert = aichat_testserver::SelfSigned::generate()?;
    std::fs::write(file, cert.cert_pem())?;
    cert.acceptor()
}

async fn stop_on_signal_or_eof(stop: Arc<Notify>) {
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let eof = async {
        // Only a pipe or socket has an end worth waiting for: /dev/null (a background job's
        // stdin) would stop the server at once, and a terminal never ends.
        if !stdin_is_pipe() {
            return std::future::pending().await;
        }
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 256];
        while !matches!(stdin.read(&mut buf).await, Ok(0) | Err(_)) {}
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = eof => {}
    }
    stop.notify_one();
}

fn stdin_is_pipe() -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata("/dev/stdin").is_ok_and(|m| m.file_type().is_fifo() || m.file_type().is_socket())
}
