//! `aichat-testserver [PORT]`: serves on 127.0.0.1:PORT (0 or none = any free port), prints
//! `http://127.0.0.1:PORT` as its first line, and exits on SIGTERM, SIGINT or end of stdin (when stdin is a pipe).

use std::io::Write;
use std::sync::Arc;

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;

fn main() -> std::process::ExitCode {
    let port = match std::env::args().nth(1).map(|p| p.parse::<u16>()) {
        None => 0,
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            eprintln!("usage: aichat-testserver [PORT]   (PORT 0 = any free port)");
            return std::process::ExitCode::from(2);
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
        println!("http://{addr}");
        let _ = std::io::stdout().flush();
        let stop = Arc::new(Notify::new());
        tokio::spawn(stop_on_signal_or_eof(stop.clone()));
        aichat_testserver::serve(listener, stop, Default::default(), None).await;
        std::process::ExitCode::SUCCESS
    });
    // Don't wait for the blocking stdin reader: it only ends when stdin does.
    runtime.shutdown_background();
    code
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
