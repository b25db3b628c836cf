//! The settings table: every field a request or client options may carry, declared once, in
//! [`settings!`] below. From each row come the [`Settings`] struct (what JSON parses into), the
//! client-then-request merge, the per-field checks, whether a protocol takes the field, `Debug`
//! with credentials masked, and the [`TABLE`] that `aichat_abi_json` hands to the binding
//! generator (`scripts/generate.py`), which writes the Go, Node and Python options and the
//! README's schema table from it.
//!
//! Adding a setting: one row here, then its mapping in each protocol that sends it (and, if the
//! field is not sent by every protocol, its `Field` in those protocols' `takes`), then
//! `make generate`.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::request::{Headers, Json, Secret, check_base_url, is_header_safe_key};

pub const DEFAULT_MODEL: &str = "gpt-3.5-turbo";
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
pub const DEFAULT_TIMEOUT_MS: u64 = 600_000;
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// What a setting's value is, as the bindings type it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The conversation: an array of messages (request only).
    Messages,
    String,
    Bool,
    /// A finite number.
    Number,
    /// A whole number, negative allowed.
    Integer,
    /// A whole number, 0 allowed.
    Count,
    /// A whole number of at least 1.
    Positive,
    /// A duration in milliseconds, at least 1.
    Millis,
    /// One of the listed strings.
    Choice(&'static [&'static str]),
    /// An `http://` or `https://` URL.
    Url,
    /// A credential: masked in messages and `Debug`.
    Secret,
    /// A proxy URL, or "" for no proxy at all.
    Proxy,
    /// A file path.
    Path,
    /// Header names to string values.
    Headers,
    /// A JSON object, merged as written.
    Object,
    /// OpenAI's `tools` array.
    Tools,
    /// `"auto"`, `"none"`, `"required"` or an object naming a function.
    ToolChoice,
    /// A JSON object (`{"type": "json_object"}`, `{"type": "json_schema", ...}`).
    ResponseFormat,
    /// A string or an array of strings.
    Stop,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Messages => "messages",
            Kind::String => "string",
            Kind::Bool => "bool",
            Kind::Number => "number",
            Kind::Integer => "integer",
            Kind::Count => "count",
            Kind::Positive => "positive",
            Kind::Millis => "millis",
            Kind::Choice(_) => "choice",
            Kind::Url => "url",
            Kind::Secret => "secret",
            Kind::Proxy => "proxy",
            Kind::Path => "path",
            Kind::Headers => "headers",
            Kind::Object => "object",
            Kind::Tools => "tools",
            Kind::ToolChoice => "tool_choice",
            Kind::ResponseFormat => "response_format",
            Kind::Stop => "stop",
        }
    }

    /// Whether `Debug` must not show the value (credentials, and URLs or headers that may
    /// carry them).
    pub fn sensitive(self) -> bool {
        matches!(self, Kind::Secret | Kind::Proxy | Kind::Headers | Kind::Url)
    }
}

/// Where a setting may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A request only (`messages`).
    Request,
    /// Client options and requests; a request's value wins.
    Both,
}

/// Which protocols take a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Every protocol (it configures the call, or every protocol has an equivalent).
    Every,
    /// Only the protocols that list its [`Field`] in `ProtocolDefaults::takes`; elsewhere it is
    /// `AICHAT_ERROR_INVALID_REQUEST`.
    Listed,
}

/// A setting's default, as documented and described to the bindings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Default {
    /// Unset: nothing is sent, the server decides.
    None,
    Bool(bool),
    Int(u64),
    Str(&'static str),
    /// Said in words (it depends on the protocol or the environment).
    Note(&'static str),
}

/// One row of the table.
#[derive(Debug)]
pub struct Setting {
    pub field: Field,
    /// The JSON name.
    pub name: &'static str,
    pub kind: Kind,
    pub scope: Scope,
    pub taken: Taken,
    pub default: Default,
    /// One line (the row's doc comment).
    pub doc: &'static str,
}

/// A check that always passes, for rows whose type says it all.
fn any<T>(_: &T) -> Result<(), String> {
    Ok(())
}

fn at_least_1(v: &u64) -> Result<(), String> {
    if *v == 0 { Err("must be at least 1".into()) } else { Ok(()) }
}

/// `n`: the choices the assembler keeps apart (`answer::MAX_CHOICES`).
fn choices(v: &u32) -> Result<(), String> {
    let most = crate::answer::MAX_CHOICES;
    if *v == 0 || *v as usize > most { Err(format!("must be from 1 to {most}")) } else { Ok(()) }
}

/// A JSON value kept as written is read as a value by some protocols: its depth is bounded.
fn shallow(v: &Json) -> Result<(), String> {
    let most = crate::request::MAX_NESTING;
    if crate::request::nesting(v.get()) > most {
        return Err(format!("is nested more than {most} levels deep"));
    }
    Ok(())
}

fn finite(v: &f64) -> Result<(), String> {
    if v.is_finite() { Ok(()) } else { Err("must be a finite number".into()) }
}

#[allow(clippy::ptr_arg)] // a check takes its field's own type
fn url(v: &String) -> Result<(), String> {
    check_base_url(v)
}

#[allow(clippy::ptr_arg)] // a check takes its field's own type
fn proxy(v: &String) -> Result<(), String> {
    if !v.is_empty() && ureq::Proxy::new(v).is_err() {
        return Err("is not a proxy URL (e.g. http://host:3128, or \"\" for no proxy)".into());
    }
    Ok(())
}

#[allow(clippy::ptr_arg)] // a check takes its field's own type
fn path(v: &String) -> Result<(), String> {
    if v.is_empty() { Err("must be the path of a PEM file".into()) } else { Ok(()) }
}

#[allow(clippy::ptr_arg)] // a check takes its field's own type
fn tls_roots(v: &String) -> Result<(), String> {
    let accepted = TLS_ROOTS;
    if accepted.contains(&v.as_str()) {
        return Ok(());
    }
    Err(format!("is {v:?}; accepted values: {}", accepted.join(", ")))
}

const TLS_ROOTS: &[&str] = &["webpki", "system"];

/// `region`: it becomes part of a host name and of the signature's scope, so only what AWS's
/// region names are made of (`us-east-1`, `eu-central-2`, `us-gov-west-1`).
#[allow(clippy::ptr_arg)] // a check takes its field's own type
pub(crate) fn region(v: &String) -> Result<(), String> {
    let ok = !v.is_empty()
        && v.len() <= 32
        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if ok { Ok(()) } else { Err("must be an AWS region name such as us-east-1".into()) }
}

fn api_key(v: &Secret) -> Result<(), String> {
    if v.expose().is_empty() || !is_header_safe_key(v.expose()) {
        return Err("must be non-empty, without CR, LF or control characters".into());
    }
    Ok(())
}

fn headers(h: &Headers) -> Result<(), String> {
    for (name, value) in &h.0 {
        if ureq::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(format!("has an invalid header name {name:?}"));
        }
        if value.contains(['\r', '\n']) || ureq::http::HeaderValue::from_str(value).is_err() {
            return Err(format!("has an invalid value for {name:?} (CR, LF or control characters)"));
        }
    }
    Ok(())
}

/// The check of a JSON value kept as written: [`shallow`], then of the shape `is` says it has,
/// else it `must` be.
fn json(is: fn(&Json) -> bool, must: &'static str) -> impl Fn(&Json) -> Result<(), String> {
    move |v| {
        shallow(v)?;
        if is(v) { Ok(()) } else { Err(must.into()) }
    }
}

fn tools(v: &Json) -> bool {
    v.value().as_array().is_some_and(|a| a.iter().all(Value::is_object))
}

fn tool_choice(v: &Json) -> bool {
    let v = v.value();
    v.is_string() || v.is_object()
}

fn object(v: &Json) -> bool {
    v.get().starts_with('{')
}

fn stop(v: &Json) -> bool {
    let v = v.value();
    v.is_string() || v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
}

/// Declares the table: for each row, its doc, JSON name, Rust type, kind, scope, the protocols
/// that take it, its default and its check.
macro_rules! settings {
    ($(
        $(#[doc = $doc:literal])+
        $name:ident: $ty:ty, $kind:expr, $scope:ident, $taken:ident, $default:expr, $check:expr;
    )*) => {
        /// Every field a request or client options may carry, all optional, as they appear in
        /// JSON (see [`TABLE`] for each one's documentation).
        #[derive(Clone, Default, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Settings {
            $($(#[doc = $doc])+ pub $name: Option<$ty>,)*
        }

        /// A setting, named in code (protocols list the ones they take by it).
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Field {
            $($name,)*
        }

        /// The table, in the order the README shows it.
        pub static TABLE: &[Setting] = &[
            $(Setting {
                field: Field::$name,
                name: stringify!($name),
                kind: $kind,
                scope: Scope::$scope,
                taken: Taken::$taken,
                default: $default,
                doc: concat!($($doc),+),
            },)*
        ];

        impl Settings {
            /// These settings, with each unset field taken from `defaults`.
            pub fn or(&self, defaults: &Settings) -> Settings {
                Settings { $($name: self.$name.clone().or_else(|| defaults.$name.clone()),)* }
            }

            /// Whether `field` is set.
            pub fn is_set(&self, field: Field) -> bool {
                match field { $(Field::$name => self.$name.is_some(),)* }
            }

            /// The first set field whose value its row's check refuses, with why.
            pub(crate) fn first_invalid(&self) -> Option<(&'static str, String)> {
                $(if let Some(value) = &self.$name {
                    if let Err(why) = ($check)(value) {
                        return Some((stringify!($name), why));
                    }
                })*
                None
            }
        }

        impl std::fmt::Debug for Settings {
            /// Shows the set fields; a credential, a header, a proxy or a URL (which may carry
            /// credentials) shows as `***`.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut s = f.debug_struct("Settings");
                $(if let Some(value) = &self.$name {
                    if ($kind).sensitive() {
                        s.field(stringify!($name), &format_args!("{}", crate::secret::MASK));
                    } else {
                        s.field(stringify!($name), value);
                    }
                })*
                s.finish()
            }
        }
    };
}

settings! {
    /// The conversation, in OpenAI's schema (a request only).
    messages: Vec<Json>, Kind::Messages, Request, Every, Default::None, any;
    /// The protocol: one of the registry's names.
    provider: String, Kind::String, Both, Every, Default::Note("aichat"), any;
    /// The model name.
    model: String, Kind::String, Both, Every, Default::Note("the protocol's (`default_model` in `aichat_abi_json`): gpt-3.5-turbo for aichat and openai"), any;
    /// Stream the answer as it is generated.
    stream: bool, Kind::Bool, Both, Every, Default::Bool(false), any;
    /// The server's base URL.
    base_url: String, Kind::Url, Both, Every, Default::Note("the protocol's, or its environment variable"), url;
    /// The API key; sent as each protocol sends it.
    api_key: Secret, Kind::Secret, Both, Every, Default::Note("the protocol's environment variable"), api_key;
    /// Extra HTTP headers; each value is masked in messages.
    headers: Headers, Kind::Headers, Both, Every, Default::Note("none"), headers;
    /// A proxy URL (http, socks4, socks4a, socks5, socks5h); "" for none.
    proxy: String, Kind::Proxy, Both, Every, Default::Note("http_proxy, https_proxy, all_proxy and no_proxy"), proxy;
    /// Sampling temperature.
    temperature: f64, Kind::Number, Both, Every, Default::None, finite;
    /// Nucleus sampling.
    top_p: f64, Kind::Number, Both, Every, Default::None, finite;
    /// Presence penalty.
    presence_penalty: f64, Kind::Number, Both, Listed, Default::None, finite;
    /// Frequency penalty.
    frequency_penalty: f64, Kind::Number, Both, Listed, Default::None, finite;
    /// Most tokens to generate.
    max_tokens: u64, Kind::Count, Both, Listed, Default::None, any;
    /// The functions the model may call (OpenAI's `tools`).
    tools: Json, Kind::Tools, Both, Listed, Default::None, json(tools, "must be an array of tool objects");
    /// Whether and which tool the model must call.
    tool_choice: Json, Kind::ToolChoice, Both, Listed, Default::None, json(tool_choice, "must be a string or an object");
    /// Whether the model may call several tools at once.
    parallel_tool_calls: bool, Kind::Bool, Both, Listed, Default::None, any;
    /// The answer's format (JSON object, JSON schema).
    response_format: Json, Kind::ResponseFormat, Both, Listed, Default::None, json(object, "must be an object");
    /// Where generation stops.
    stop: Json, Kind::Stop, Both, Listed, Default::None, json(stop, "must be a string or an array of strings");
    /// Sampling seed.
    seed: i64, Kind::Integer, Both, Listed, Default::None, any;
    /// Reasoning effort for reasoning models ("low", "medium", "high", ...).
    reasoning_effort: String, Kind::String, Both, Listed, Default::None, any;
    /// How many choices to generate; events carry each one's index.
    n: u32, Kind::Positive, Both, Listed, Default::None, choices;
    /// With `stream`, ask for token usage in the stream.
    include_usage: bool, Kind::Bool, Both, Every, Default::Bool(true), any;
    /// With the event API, end the answer with one RESULT event: the whole answer, assembled.
    result: bool, Kind::Bool, Both, Every, Default::Bool(false), any;
    /// An id of the end user, for the provider's abuse monitoring.
    user: String, Kind::String, Both, Listed, Default::None, any;
    /// The AWS region (Bedrock); its host and signature are for it.
    region: String, Kind::String, Both, Listed, Default::Note("AWS_REGION, AWS_DEFAULT_REGION, or the AWS profile's"), region;
    /// Fields merged into the request body as written (they win).
    extra_body: Map<String, Value>, Kind::Object, Both, Listed, Default::None, any;
    /// Longest wait to connect (TCP and TLS), per attempt.
    connect_timeout_ms: u64, Kind::Millis, Both, Every, Default::Int(DEFAULT_CONNECT_TIMEOUT_MS), at_least_1;
    /// Longest silence while waiting for or reading the answer.
    idle_timeout_ms: u64, Kind::Millis, Both, Every, Default::Int(DEFAULT_IDLE_TIMEOUT_MS), at_least_1;
    /// Longest whole call, retries included.
    timeout_ms: u64, Kind::Millis, Both, Every, Default::Int(DEFAULT_TIMEOUT_MS), at_least_1;
    /// Retries of a failed attempt (connection errors, 408, 409, 429, 5xx, overload).
    max_retries: u32, Kind::Count, Both, Every, Default::Int(DEFAULT_MAX_RETRIES as u64), any;
    /// Largest answer body read.
    max_response_bytes: u64, Kind::Positive, Both, Every, Default::Int(DEFAULT_MAX_RESPONSE_BYTES), at_least_1;
    /// PEM certificates trusted instead of the built-in roots.
    ca_file: String, Kind::Path, Both, Every, Default::Note("none: `tls_roots` decides"), path;
    /// Trust roots: "webpki" (Mozilla's, built in) or "system" (the operating system's).
    tls_roots: String, Kind::Choice(TLS_ROOTS), Both, Every, Default::Str("webpki"), tls_roots;
}

/// The row of `field`.
pub fn row(field: Field) -> &'static Setting {
    TABLE.iter().find(|s| s.field == field).expect("every field has a row")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_one_row_in_declaration_order() {
        let mut names: Vec<&str> = TABLE.iter().map(|s| s.name).collect();
        assert_eq!(row(Field::tls_roots).name, "tls_roots");
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
    }

    #[test]
    fn docs_are_one_line() {
        for s in TABLE {
            assert!(!s.doc.trim().is_empty() && !s.doc.contains('\n'), "{}: {:?}", s.name, s.doc);
        }
    }

    #[test]
    fn debug_masks_credentials_headers_proxies_and_urls() {
        let s: Settings = serde_json::from_str(
            r#"{"api_key":"sk-a","proxy":"http://u:pw@p:1","headers":{"x":"hv"},"base_url":"http://h","model":"m"}"#,
        )
        .unwrap();
        let shown = format!("{s:?}");
        for secret in ["sk-a", "pw", "hv", "http://h"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("\"m\""), "{shown}");
    }
}
