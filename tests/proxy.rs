//! Proxies: the `proxy` option and, by default, the environment's HTTP_PROXY / NO_PROXY, as the
//! original Python client honoured them. The test server answers absolute-form requests, so it
//! can stand in for a forward HTTP proxy; the target host does not even resolve.

mod common;
use common::*;

const UNREACHABLE: &str = "http://no-such-host.invalid";

fn call(extra: &str) -> Outcome {
    let req = format!(r#"{{"messages":{HI},"base_url":"{UNREACHABLE}","max_retries":0{extra}}}"#);
    complete(&ClientHandle::new(None), &req)
}

#[test]
fn proxy_option_routes_the_request_through_the_proxy() {
    let proxy = Server::start().unwrap();
    let out = call(&format!(r#","proxy":"{}""#, proxy.base_url()));
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "{}", out.message);
    assert_eq!(out.text(), "You said: Hi");
}

#[test]
fn environment_proxy_is_honoured_unless_turned_off_or_excluded() {
    // The only test in this binary that touches the environment.
    let proxy = Server::start().unwrap();
    // SAFETY: no other thread of this test binary reads or writes the environment.
    unsafe {
        std::env::set_var("HTTP_PROXY", proxy.base_url());
        std::env::remove_var("NO_PROXY");
    }
    let out = call("");
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "through HTTP_PROXY: {}", out.message);

    let out = call(r#","proxy":"""#);
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT, "\"\" turns proxies off: {}", out.message);

    // A client reads the environment when it is made, not on each call.
    let made_before = ClientHandle::new(None);
    unsafe { std::env::set_var("NO_PROXY", "no-such-host.invalid") };
    let req = format!(r#"{{"messages":{HI},"base_url":"{UNREACHABLE}","max_retries":0}}"#);
    let out = complete(&made_before, &req);
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "the client made before NO_PROXY was set: {}", out.message);
    let out = call("");
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT, "NO_PROXY excludes the host: {}", out.message);

    // In a CGI program HTTP_PROXY may come from a client's `Proxy:` header: it is ignored.
    unsafe {
        std::env::remove_var("NO_PROXY");
        std::env::set_var("REQUEST_METHOD", "GET");
    }
    let out = call("");
    assert_eq!(out.status, AichatStatus::AICHAT_ERROR_CONNECT, "HTTP_PROXY under CGI: {}", out.message);
    unsafe { std::env::set_var("http_proxy", proxy.base_url()) };
    let out = call("");
    assert_eq!(out.status, AichatStatus::AICHAT_OK, "http_proxy under CGI: {}", out.message);
    unsafe {
        std::env::remove_var("HTTP_PROXY");
        std::env::remove_var("http_proxy");
        std::env::remove_var("REQUEST_METHOD");
    }
}
