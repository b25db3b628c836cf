//! TLS: certificates are verified by default; `ca_file` trusts a private CA (here the test
//! server's self-signed certificate) instead of the built-in roots.

mod common;
use common::*;
use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

fn ca_file(pem: &str) -> tempfile_path::Path {
    tempfile_path::Path::with(pem.as_bytes())
}

/// A file removed on drop (std only).
mod tempfile_path {
    use std::sync::atomic::{AtomicUsize, Ordering};
    pub struct Path(pub std::path::PathBuf);
    impl Path {
        pub fn with(contents: &[u8]) -> Path {
            static N: AtomicUsize = AtomicUsize::new(0);
            let path = std::env::temp_dir().join(format!(
                "aichat-test-{}-{}.pem",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::write(&path, contents).unwrap();
            Path(path)
        }
        pub fn as_str(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }
    impl Drop for Path {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn call(base: &str, extra: &str) -> Outcome {
    complete(&ClientHandle::new(Some(r#"{"max_retries":0}"#)), &request(base, HI, extra))
}

#[test]
fn self_signed_server_is_rejected_by_default() {
    let (server, _) = Server::start_tls().unwrap();
    let out = call(&server.base_url(), "");
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT, "{}", out.message);
    assert!(out.message.contains(&server.addr().to_string()), "{}", out.message);
    assert!(out.message.to_lowercase().contains("certificate"), "{}", out.message);
}

#[test]
fn ca_file_trusts_the_given_certificate() {
    let (server, cert) = Server::start_tls().unwrap();
    let ca = ca_file(cert.cert_pem());
    let out = call(&server.base_url(), &format!(r#""ca_file":"{}""#, ca.as_str()));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text(), "You said: Hi");
}

#[test]
fn ca_file_replaces_the_roots_it_does_not_add_to_them() {
    // Trusting one self-signed server does not make another one trusted.
    let (server, _) = Server::start_tls().unwrap();
    let (_, other) = Server::start_tls().unwrap();
    let ca = ca_file(other.cert_pem());
    let out = call(&server.base_url(), &format!(r#""ca_file":"{}""#, ca.as_str()));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT, "{}", out.message);
}

#[test]
fn ca_file_as_a_client_option() {
    let (server, cert) = Server::start_tls().unwrap();
    let ca = ca_file(cert.cert_pem());
    let client = ClientHandle::new(Some(&format!(r#"{{"ca_file":"{}","proxy":""}}"#, ca.as_str())));
    let out = complete(&client, &request(&server.base_url(), HI, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
}

#[test]
fn unreadable_or_empty_ca_file_is_invalid_request() {
    let out = call("https://127.0.0.1:9", r#""ca_file":"/nonexistent/ca.pem""#);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(out.message.contains("cannot read it"), "{}", out.message);
    let junk = ca_file("not a certificate\n");
    let out = call("https://127.0.0.1:9", &format!(r#""ca_file":"{}""#, junk.as_str()));
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_INVALID_REQUEST);
    assert!(out.message.contains("no PEM certificate"), "{}", out.message);
}

#[test]
fn cancel_reaches_a_silent_tls_handshake_promptly() {
    // Accepts TCP, never says a word of TLS.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(2));
        let _ = s.flush();
    });
    let client = ClientHandle::new(None);
    let cancel = CancelHandle::new();
    let req = request(&format!("https://{addr}"), HI, r#""max_retries":0"#);
    let (out, late) = std::thread::scope(|s| {
        let call = s.spawn(|| (complete_with(Some(&client), &req, Some(&cancel), None), Instant::now()));
        std::thread::sleep(Duration::from_millis(300));
        unsafe { aichat_cancel_trigger(cancel.0) };
        let triggered = Instant::now();
        let (out, returned) = call.join().unwrap();
        (out, returned.saturating_duration_since(triggered))
    });
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CANCELLED, "{}", out.message);
    // The contract is 100 ms (a few ms here); the margin is for a loaded machine.
    assert!(late < Duration::from_millis(500), "{late:?}");
    holder.join().unwrap();
}

#[test]
fn ca_file_is_read_once_per_client_and_its_connections_are_reused() {
    let (server, cert) = Server::start_tls().unwrap();
    let ca = ca_file(cert.cert_pem());
    let client = ClientHandle::new(Some(&format!(r#"{{"ca_file":"{}","proxy":"","max_retries":0}}"#, ca.as_str())));
    for _ in 0..20 {
        let out = complete(&client, &request(&server.base_url(), HI, ""));
        assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    }
    assert_eq!(server.connections(), 1, "20 sequential calls on one client share one connection");
    // Read when the client was made: the file may go away afterwards.
    drop(ca);
    let out = complete(&client, &request(&server.base_url(), HI, ""));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
}
