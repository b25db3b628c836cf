//! A request read whole, as it arrived: what the `echo` fault sends back.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::Request;
use hyper::Response;
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::respond::{Body, json_error};

/// Largest request body read; more is answered 413.
const MAX_REQUEST_BODY: usize = 256 * 1024 * 1024;

pub struct Captured {
    pub method: String,
    pub path: String,
    /// The query string, when the request had one.
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Captured {
    pub async fn read(req: Request<Incoming>) -> Result<Captured, Response<Body>> {
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let query = req.uri().query().map(str::to_string);
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = Limited::new(req.into_body(), MAX_REQUEST_BODY)
            .collect()
            .await
            .map_err(|e| json_error(413, &format!("test server: request body: {e}")))?
            .to_bytes();
        Ok(Captured { method, path, query, headers, body })
    }

    /// The body as JSON, or `None` when it is not JSON.
    pub fn json_body(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// Method, path, headers (in order, as `[name, value]` pairs) and body (JSON when it
    /// parses); `query` too when the request had one.
    pub fn to_json(&self) -> Value {
        self.to_json_within(usize::MAX)
    }

    /// The same, with a body over `limit` bytes shown as `{"bytes": N}`.
    pub fn to_json_within(&self, limit: usize) -> Value {
        let body = if self.body.len() > limit {
            json!({"bytes": self.body.len()})
        } else {
            self.json_body().unwrap_or_else(|| Value::String(String::from_utf8_lossy(&self.body).into_owned()))
        };
        let headers: Vec<Value> = self.headers.iter().map(|(k, v)| json!([k, v])).collect();
        let mut seen = json!({"method": self.method, "path": self.path, "headers": headers, "body": body});
        if let Some(query) = &self.query {
            seen["query"] = json!(query);
        }
        seen
    }
}
