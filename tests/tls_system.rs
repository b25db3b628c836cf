//! `tls_roots: "system"`: the operating system's trust store. On Linux it is found where
//! OpenSSL looks, and `SSL_CERT_FILE` points elsewhere: here, at the test server's self-signed
//! certificate. The only test in this binary, since it sets the process's environment.

mod common;
use common::*;

#[test]
fn system_roots_trust_what_the_system_store_holds_and_nothing_else() {
    let (server, cert) = Server::start_tls().unwrap();
    let req = request(&server.base_url(), HI, r#""tls_roots":"system","max_retries":0"#);

    // The machine's store does not hold the test server's certificate.
    let out = complete(&ClientHandle::new(None), &req);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT, "{}", out.message);

    let store = std::env::temp_dir().join(format!("aichat-system-store-{}.pem", std::process::id()));
    std::fs::write(&store, cert.cert_pem()).unwrap();
    // SAFETY: no other thread of this test binary reads or writes the environment.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", &store);
        std::env::remove_var("SSL_CERT_DIR");
    }
    let out = complete(&ClientHandle::new(None), &req);
    let _ = std::fs::remove_file(&store);
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text(), "You said: Hi");

    // The built-in roots are still the default, and do not hold it.
    let webpki = request(&server.base_url(), HI, r#""max_retries":0"#);
    let out = complete(&ClientHandle::new(None), &webpki);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT, "{}", out.message);
}
