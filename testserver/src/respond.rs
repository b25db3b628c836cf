//! Building answers, including ones that break the connection on purpose.

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use http_body_util::StreamBody;
use hyper::Response;
use hyper::body::Frame;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};

pub type Body = StreamBody<BoxStream<'static, Result<Frame<Bytes>, std::io::Error>>>;

/// No body at all, not even a length.
pub fn empty() -> Body {
    StreamBody::new(stream::empty().boxed())
}

/// A whole body sent at once.
pub fn full(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let body: Bytes = body.into();
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, content_type)
        .header(CONTENT_LENGTH, body.len())
        .body(StreamBody::new(stream::iter([Ok(Frame::data(body))]).boxed()))
        .expect("valid response")
}

/// A whole body, gzip-compressed when `gzip` (with the Content-Encoding that says so).
pub fn full_encoded(status: u16, content_type: &str, body: Bytes, gzip: bool) -> Response<Body> {
    if !gzip {
        return full(status, content_type, body);
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, &body).expect("writing to memory");
    let compressed = encoder.finish().expect("writing to memory");
    with_header(full(status, content_type, compressed), "content-encoding", "gzip")
}

/// A 200 JSON answer shaped by the faults any body can get: `bad-utf8` swaps in `bad_utf8_body`,
/// `truncate` cuts it short, `gzip` compresses it.
pub fn json_answer(body: Vec<u8>, bad_utf8_body: &'static [u8], faults: &crate::Faults) -> Response<Body> {
    let body = if faults.bad_utf8 { Bytes::from_static(bad_utf8_body) } else { Bytes::from(body) };
    if faults.truncate {
        return truncated(200, "application/json", body);
    }
    full_encoded(200, "application/json", body, faults.gzip)
}

pub fn json(status: u16, value: &serde_json::Value) -> Response<Body> {
    full(status, "application/json", serde_json::to_vec(value).expect("JSON serializes"))
}

/// An error answer in the shape OpenAI-style servers use.
pub fn json_error(status: u16, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({"error": {"message": message, "type": "test_server_error"}}))
}

/// Announces the whole body's length, sends the first half, then fails the body stream so
/// hyper closes the connection mid-body.
pub fn truncated(status: u16, content_type: &str, body: Bytes) -> Response<Body> {
    let half = body.slice(..body.len() / 2);
    // The pause lets hyper flush the headers and the first half before the failure aborts
    // the connection; without it the client may see no answer at all.
    let frames = stream::iter([Ok(Frame::data(half))]).chain(stream::once(async {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "test server: truncated on purpose"))
    }));
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, content_type)
        .header(CONTENT_LENGTH, body.len())
        .body(StreamBody::new(frames.boxed()))
        .expect("valid response")
}

/// The same answer with one more header.
pub fn with_header(mut response: Response<Body>, name: &'static str, value: &str) -> Response<Body> {
    if let Ok(v) = hyper::header::HeaderValue::from_str(value) {
        response.headers_mut().insert(name, v);
    }
    response
}

/// The answer with the `content-type` the `content-type=` fault asks for: removed for `none`,
/// else the one named; unchanged without the fault.
pub fn with_content_type_fault(mut response: Response<Body>, fault: Option<&str>) -> Response<Body> {
    match fault {
        Some("none") => {
            response.headers_mut().remove(CONTENT_TYPE);
        }
        Some(media) => response = with_header(response, "content-type", media),
        None => {}
    }
    response
}

/// A 200 answer of `content_type` whose body is what `produce` writes to the sender it is
/// given, as it writes it; the task stops quietly when the client goes away.
pub fn streamed<F>(content_type: &str, produce: impl FnOnce(tokio::sync::mpsc::Sender<Bytes>) -> F) -> Response<Body>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    tokio::spawn(produce(tx));
    let frames = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok(Frame::data(b)), rx)) });
    Response::builder()
        .status(200)
        .header(CONTENT_TYPE, content_type)
        .header("cache-control", "no-cache")
        .body(StreamBody::new(frames.boxed()))
        .expect("valid response")
}
