//! The request schema: the JSON a caller sends, checked once here so that nothing later has to
//! second-guess it. A request is either an array of messages or an object with `messages` and
//! settings; client options are the same settings without `messages`. A request's setting
//! overrides the client's, which overrides the library default.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::aws::AwsConfig;
use crate::env::Env;
use crate::error::Error;
pub use crate::secret::Secret;
use crate::secret::{self, without_userinfo};
pub use crate::transport::{NetSettings, ProxySetting, TlsRoots};

/// Largest request or options JSON accepted, so a runaway caller gets an error instead of a
/// multi-gigabyte allocation.
/// Where a protocol's default base URL takes the region (Bedrock's).
const REGION_SLOT: &str = "{region}";

/// The error for a call that needs an AWS region and found none.
pub fn no_region(provider: &str) -> Error {
    Error::invalid_request(format!(
        "invalid request: the {provider} provider needs a region: set `region`, AWS_REGION or \
         AWS_DEFAULT_REGION, or `region` in the profile of the AWS config file"
    ))
}

pub const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

pub use crate::settings::*;

/// Deepest nesting of arrays and objects in a message or in a setting's JSON value (`tools`,
/// `tool_choice`, `response_format`, `stop`): such values are kept as the caller wrote them and
/// some protocols rewrite them, which reads them as values; serde_json's reader stops at 128
/// levels. One limit for every protocol, so that a request valid for one is valid for all.
pub(crate) const MAX_NESTING: usize = 100;

/// A JSON value kept byte for byte as the caller wrote it (field order, nulls, numbers), for
/// fields a protocol sends on unchanged.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Json(Box<RawValue>);

impl Json {
    pub fn get(&self) -> &str {
        self.0.get()
    }

    pub fn value(&self) -> Value {
        serde_json::from_str(self.get()).expect("raw JSON was valid when parsed")
    }
}

impl PartialEq for Json {
    fn eq(&self, other: &Json) -> bool {
        self.get() == other.get()
    }
}

impl From<Value> for Json {
    fn from(value: Value) -> Json {
        Json(serde_json::value::to_raw_value(&value).expect("a JSON value always serializes"))
    }
}

/// One message of the conversation (OpenAI's schema): any JSON object with a non-empty string
/// `role` and a `content` that is a string, null, absent or an array of content parts. Every
/// other field (`name`, `tool_calls`, `tool_call_id`, ...) is kept as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    raw: Json,
    role: String,
    content: Content,
}

/// What a message's `content` is (its text is read on demand: most protocols send the message
/// as written and never need it unescaped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// Absent or null (an assistant turn that only made tool calls).
    None,
    Text,
    /// An array of content parts (text, images, audio, files).
    Parts,
}

/// The fields of a message this library reads, borrowed; the rest is kept in the raw JSON.
#[derive(Deserialize)]
struct MessageShape<'a> {
    role: String,
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
}

impl Message {
    /// `{"role": role, "content": content}`.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        let (role, content) = (role.into(), content.into());
        let quoted = |s: &str| serde_json::to_string(s).expect("a string serializes");
        let raw = format!(r#"{{"role":{},"content":{}}}"#, quoted(&role), quoted(&content));
        let raw = Json(RawValue::from_string(raw).expect("two JSON strings make a JSON object"));
        Message { raw, role, content: Content::Text }
    }

    /// Checks message `i` of a request (errors name `messages[i].<field>`).
    fn from_raw(i: usize, raw: Json) -> Result<Message, Error> {
        let at =
            |field: &str, why: &str| Error::invalid_request(format!("invalid request: `messages[{i}]{field}`{why}"));
        if !raw.get().starts_with('{') {
            return Err(at("", " must be a JSON object with a `role`"));
        }
        if nesting(raw.get()) > MAX_NESTING {
            return Err(at("", &format!(" is nested more than {MAX_NESTING} levels deep")));
        }
        let mut de = serde_json::Deserializer::from_str(raw.get());
        let shape: MessageShape = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let field = if matches!(path.as_str(), "" | "." | "?") { String::new() } else { format!(".{path}") };
            at(&field, &format!(": {}", e.into_inner()))
        })?;
        if shape.role.is_empty() {
            return Err(at(".role", " must be a non-empty string"));
        }
        let content = match shape.content.map(RawValue::get) {
            None | Some("null") => Content::None,
            Some(text) if text.starts_with('"') => Content::Text,
            Some(parts) if parts.starts_with('[') => Content::Parts,
            Some(_) => return Err(at(".content", " must be a string, null, or an array of content parts")),
        };
        let role = shape.role;
        Ok(Message { raw, role, content })
    }

    pub fn role(&self) -> &str {
        &self.role
    }

    pub fn content(&self) -> Content {
        self.content
    }

    /// The text of a string `content`, unescaped; `None` for any other content.
    pub fn text(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Text {
            content: String,
        }
        if self.content != Content::Text {
            return None;
        }
        serde_json::from_str::<Text>(self.raw.get()).ok().map(|t| t.content)
    }

    /// The message exactly as the caller wrote it.
    pub fn raw(&self) -> &Json {
        &self.raw
    }
}

impl Settings {
    /// Parses client options: the request settings without `messages`.
    pub fn options_from_json(json: &str) -> Result<Settings, Error> {
        check_size(json, "options")?;
        let settings: Settings = parse_json(json, "options")?;
        if settings.messages.is_some() {
            return Err(Error::invalid_request(
                "invalid options: `messages` belongs in a request, not in client options",
            ));
        }
        settings.validate("options")?;
        Ok(settings)
    }

    /// Checks each set field with its row's check.
    fn validate(&self, what: &str) -> Result<(), Error> {
        match self.first_invalid() {
            Some((field, why)) => Err(Error::invalid_request(format!("invalid {what}: `{field}` {why}"))),
            None => Ok(()),
        }
    }
}

/// A validated request: the conversation plus its own settings (not yet merged with a client's).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub messages: Vec<Message>,
    pub settings: Settings,
}

impl Request {
    /// Parses `[{"role":..,"content":..}, ..]` or `{"messages": [..], <settings>}`.
    pub fn from_json(json: &str) -> Result<Request, Error> {
        check_size(json, "request")?;
        let start = json.trim_start().chars().next();
        if start != Some('{') && start != Some('[') {
            return Err(Error::invalid_request(
                "invalid request: expected a JSON object with `messages`, or a JSON array of messages",
            ));
        }
        let (raw, settings) = if start == Some('[') {
            (parse_json::<Vec<Json>>(json, "request")?, Settings::default())
        } else {
            let mut settings: Settings = parse_json(json, "request")?;
            let Some(raw) = settings.messages.take() else {
                return Err(Error::invalid_request("invalid request: missing field `messages`"));
            };
            settings.validate("request")?;
            (raw, settings)
        };
        let messages = raw.into_iter().enumerate().map(|(i, m)| Message::from_raw(i, m)).collect::<Result<_, _>>()?;
        Ok(Request { messages, settings })
    }
}

/// Everything one call needs, with every default applied: what providers and the transport read.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub messages: Vec<Message>,
    pub provider: &'static dyn ProtocolDefaults,
    pub model: String,
    pub stream: bool,
    /// Without a trailing slash; the provider's default when unset.
    pub base_url: String,
    pub headers: Headers,
    /// What the transport needs: proxy, TLS, timeouts, retries, size limit.
    pub net: NetSettings,
    /// The request's, else the client's, else the protocol's environment variable.
    pub api_key: Option<Secret>,
    /// Defaults to true.
    pub include_usage: bool,
    /// Whether the event API ends with one RESULT event. Defaults to false.
    pub result: bool,
    /// The settings protocols send as written (temperature, tools, stop, ...): the request's
    /// over the client's. The fields resolved above are taken out of it; `region`, for a
    /// protocol that takes it, is filled from the AWS environment when unset.
    pub fields: Settings,
    /// The AWS credentials and region the client found when it was made (for `bedrock`).
    pub aws: Arc<AwsConfig>,
}

/// What resolving a call needs to know of its protocol. Every protocol implements it
/// (`crate::providers`); the request side knows protocols only through it.
pub trait ProtocolDefaults: std::fmt::Debug + Sync + 'static {
    /// The value of the `provider` field that selects it.
    fn name(&self) -> &'static str;
    fn default_base_url(&self) -> &'static str;
    /// The environment variable consulted for `base_url` when neither request nor client set it.
    fn base_url_env(&self) -> Option<&'static str> {
        None
    }
    /// The base URL a value of `base_url_env` stands for.
    fn base_url_from_env(&self, value: &str) -> String {
        value.to_string()
    }
    /// The environment variable consulted for `api_key` when neither request nor client set it.
    fn api_key_env(&self) -> Option<&'static str> {
        None
    }
    /// Further variables consulted for `api_key`, in order, when `api_key_env` is unset (empty
    /// or blank counts as unset): Gemini's `GEMINI_API_KEY` after `GOOGLE_API_KEY`.
    fn api_key_env_fallbacks(&self) -> &'static [&'static str] {
        &[]
    }
    /// Every variable consulted for `api_key`, the first set one winning.
    fn api_key_envs(&self) -> Vec<&'static str> {
        self.api_key_env().into_iter().chain(self.api_key_env_fallbacks().iter().copied()).collect()
    }
    /// The wire protocol it speaks: its own name, or the one it is a named service of
    /// (`"openai"` for the OpenAI-compatible services).
    fn speaks(&self) -> &'static str {
        self.name()
    }
    /// The settings not every protocol takes ([`Taken::Listed`]) that this one sends.
    fn takes(&self) -> &'static [Field] {
        &[]
    }
    /// Further environment variables it reads (captured when a client is made): Bedrock's
    /// AWS region, profile, credentials and shared-file locations.
    fn env_vars(&self) -> &'static [&'static str] {
        &[]
    }
    /// The model a request that names none asks for.
    fn default_model(&self) -> &'static str {
        DEFAULT_MODEL
    }
}

/// The protocol `name` names (the default when `None`), or the error that lists the others.
pub fn protocol_named<P: ?Sized + ProtocolDefaults>(
    name: Option<&str>,
    protocols: &[&'static P],
    what: &str,
) -> Result<&'static P, Error> {
    let Some(name) = name else { return Ok(protocols[0]) };
    protocols.iter().copied().find(|p| p.name() == name).ok_or_else(|| {
        let names: Vec<&str> = protocols.iter().map(|p| p.name()).collect();
        Error::invalid_request(format!("invalid {what}: `provider` is {name:?}; accepted values: {}", names.join(", ")))
    })
}

/// Extra request headers. `Debug` shows their names only: any of them may carry a credential.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Headers(pub BTreeMap<String, String>);

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.0.keys().map(|name| (name, secret::MASK))).finish()
    }
}

impl Resolved {
    /// Every credential this call carries, to be masked out of messages: the API key, every
    /// header value, the proxy's password.
    pub fn secrets(&self) -> Vec<String> {
        let mut found: Vec<String> = self.api_key.iter().map(|k| k.expose().to_string()).collect();
        for value in self.headers.0.values() {
            found.extend(secret::header_secrets(value).map(str::to_string));
        }
        if let ProxySetting::Url(url) = &self.net.proxy {
            found.extend(secret::userinfo_secrets(url).into_iter().map(str::to_string));
        }
        // A protocol that signs with the client's AWS keys (Bedrock): the secret key and the
        // session token (a server may quote the token, as AWS quotes a canonical request).
        if self.provider.takes().contains(&Field::region) {
            if let Some(c) = self.aws.credentials() {
                found.push(c.secret_access_key.expose().to_string());
                found.extend(c.session_token.iter().map(|t| t.expose().to_string()));
            }
        }
        found
    }
}

impl Resolved {
    /// Merges a request over client defaults over the environment (as the client captured it)
    /// and library defaults, for `protocol` (the one the merged `provider` names, picked by
    /// [`protocol_named`]), and checks what only the merged result can tell: fields the
    /// protocol does not take. The call's deadline starts at `started`.
    pub fn with_env(
        request: Request,
        client: &Settings,
        env: &Env,
        protocol: &'static dyn ProtocolDefaults,
        started: Instant,
    ) -> Result<Resolved, Error> {
        let mut s = request.settings.or(client);
        for row in TABLE.iter().filter(|row| row.taken == Taken::Listed) {
            if s.is_set(row.field) && !protocol.takes().contains(&row.field) {
                return Err(Error::invalid_request(format!(
                    "invalid request: `{}` is not supported by the {} provider",
                    row.name,
                    protocol.name()
                )));
            }
        }
        let env_nonempty = |name: &str| env.get(name).map(str::to_string);
        let base_url = match (s.base_url.take(), protocol.base_url_env()) {
            (Some(url), _) => url,
            (None, Some(var)) => match env_nonempty(var) {
                Some(value) => {
                    let url = protocol.base_url_from_env(&value);
                    check_base_url(&url).map_err(|why| Error::invalid_request(format!("invalid {var}: {why}")))?;
                    url
                }
                None => protocol.default_base_url().to_string(),
            },
            (None, None) => protocol.default_base_url().to_string(),
        };
        // A protocol that takes `region` (Bedrock) finds it in the AWS environment when unset;
        // its default base URL is made with it.
        if protocol.takes().contains(&Field::region) && s.region.is_none() {
            if let Some(region) = env.aws().region() {
                // It becomes part of a host name: checked as the setting is.
                if crate::settings::region(&region.to_string()).is_err() {
                    return Err(Error::invalid_request(
                        "invalid request: the AWS region (from AWS_REGION, AWS_DEFAULT_REGION or the AWS config \
                         file) must be a region name such as us-east-1",
                    ));
                }
                s.region = Some(region.to_string());
            }
        }
        let base_url = match (base_url.contains(REGION_SLOT), &s.region) {
            (false, _) => base_url,
            (true, Some(region)) => base_url.replace(REGION_SLOT, region),
            (true, None) => return Err(no_region(protocol.name())),
        };
        if base_url.is_empty() {
            let var = protocol.base_url_env().map(|v| format!(" or {v}")).unwrap_or_default();
            return Err(Error::invalid_request(format!(
                "invalid request: the {} provider has no default `base_url`: set `base_url`{var}",
                protocol.name()
            )));
        }
        // The first variable set, its surrounding whitespace stripped (as the official SDKs
        // read keys); one that is empty or blank counts as unset.
        let api_key = match s.api_key.take() {
            Some(key) => Some(key),
            None => protocol
                .api_key_envs()
                .into_iter()
                .find_map(|var| env.get(var).map(str::trim).filter(|v| !v.is_empty()))
                .map(|v| Secret::new(v.to_string())),
        };
        if let Some(key) = &api_key {
            if !is_header_safe_key(key.expose()) {
                return Err(Error::invalid_request("invalid request: the API key has CR, LF or control characters"));
            }
        }
        let tls = match (s.ca_file.take(), s.tls_roots.take().as_deref()) {
            (Some(path), _) => TlsRoots::File(path),
            (None, Some("system")) => TlsRoots::System,
            (None, _) => TlsRoots::WebPki,
        };
        let proxy = match s.proxy.take() {
            Some(p) if p.is_empty() => ProxySetting::None,
            Some(p) => ProxySetting::Url(p),
            None => match env.proxy_for(&base_url) {
                Some(p) if ureq::Proxy::new(p).is_err() => {
                    return Err(Error::invalid_request(
                        "invalid proxy in the environment (http_proxy, https_proxy or all_proxy): not a proxy URL",
                    ));
                }
                Some(p) => ProxySetting::Url(p.to_string()),
                None => ProxySetting::None,
            },
        };
        let ms = |v: Option<u64>, default: u64| Duration::from_millis(v.unwrap_or(default));
        let timeout = ms(s.timeout_ms.take(), DEFAULT_TIMEOUT_MS);
        s.provider = None;
        Ok(Resolved {
            messages: request.messages,
            provider: protocol,
            model: s.model.take().unwrap_or_else(|| protocol.default_model().to_string()),
            stream: s.stream.take().unwrap_or(false),
            base_url: base_url.trim_end_matches('/').to_string(),
            headers: s.headers.take().unwrap_or_default(),
            net: NetSettings {
                proxy,
                tls,
                connect_timeout: ms(s.connect_timeout_ms.take(), DEFAULT_CONNECT_TIMEOUT_MS),
                idle_timeout: ms(s.idle_timeout_ms.take(), DEFAULT_IDLE_TIMEOUT_MS),
                timeout,
                deadline: started + timeout,
                max_retries: s.max_retries.take().unwrap_or(DEFAULT_MAX_RETRIES),
                max_response_bytes: s.max_response_bytes.take().unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
            },
            api_key,
            include_usage: s.include_usage.take().unwrap_or(true),
            result: s.result.take().unwrap_or(false),
            fields: s,
            aws: env.aws_shared(),
        })
    }
}

/// Whether `Authorization: Bearer <key>` is a valid header value (no CR, LF or controls).
/// Checked for keys in requests and options, and again for one from the environment.
pub(crate) fn is_header_safe_key(key: &str) -> bool {
    ureq::http::HeaderValue::from_str(&format!("Bearer {key}")).is_ok()
}

fn check_size(json: &str, what: &str) -> Result<(), Error> {
    if json.len() > MAX_REQUEST_BYTES {
        return Err(Error::invalid_request(format!(
            "invalid {what}: {} bytes is over the {} byte limit",
            json.len(),
            MAX_REQUEST_BYTES
        )));
    }
    Ok(())
}

/// How deep arrays and objects nest in `json` (valid JSON): 0 for a scalar.
pub(crate) fn nesting(json: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in json.as_bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Parses with the path of the offending field in the message (`messages[1].role: invalid type`).
pub(crate) fn parse_json<'de, T: Deserialize<'de>>(json: &'de str, what: &str) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if matches!(path.as_str(), "" | "." | "?") {
            Error::invalid_request(format!("invalid {what}: {inner}"))
        } else {
            Error::invalid_request(format!("invalid {what}: `{path}`: {inner}"))
        }
    })?;
    de.end().map_err(|e| Error::invalid_request(format!("invalid {what}: {e}")))?;
    Ok(value)
}

pub(crate) fn check_base_url(url: &str) -> Result<(), String> {
    let shown = without_userinfo(url);
    let uri: ureq::http::Uri = url.parse().map_err(|_| format!("is not a URL: {shown:?}"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => return Err(format!("must start with http:// or https://, got {shown:?}")),
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(format!(
            "must not hold a user name or password ({shown:?}): give the key as `api_key` or in `headers`"
        ));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("has no host: {shown:?}"));
    }
    if uri.query().is_some() {
        return Err(format!("must not have a query string: {shown:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        Request::from_json(json).unwrap_err().message().to_string()
    }

    #[test]
    fn array_form_is_a_list_of_messages() {
        let r = Request::from_json(r#"[{"role":"user","content":"Hi"}]"#).unwrap();
        assert_eq!(r.messages, vec![Message::new("user", "Hi")]);
        assert_eq!(r.settings, Settings::default());
    }

    #[test]
    fn object_form_carries_settings() {
        let r = Request::from_json(r#"{"messages":[],"model":"m","stream":true,"temperature":0.5}"#).unwrap();
        assert!(r.messages.is_empty());
        assert_eq!(r.settings.model.as_deref(), Some("m"));
        assert_eq!(r.settings.stream, Some(true));
        assert_eq!(r.settings.temperature, Some(0.5));
    }

    #[test]
    fn unknown_field_is_named() {
        let m = err(r#"{"messages":[],"modle":"x"}"#);
        assert!(m.contains("unknown field `modle`"), "{m}");
    }

    #[test]
    fn other_message_fields_are_kept_verbatim_in_order_with_nulls() {
        let raw = r#"{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}],"name":null,"zeta":1,"alpha":2}"#;
        let r = Request::from_json(&format!("[{raw}]")).unwrap();
        assert_eq!(r.messages[0].raw().get(), raw);
        assert_eq!(r.messages[0].content(), Content::None);
        assert_eq!(r.messages[0].role(), "assistant");
    }

    #[test]
    fn content_may_be_a_string_null_absent_or_parts() {
        let r = Request::from_json(
            r#"[{"role":"user","content":"a"},{"role":"tool","tool_call_id":"x"},
                {"role":"user","content":[{"type":"text","text":"b"},{"type":"image_url","image_url":{"url":"data:,"}}]}]"#,
        )
        .unwrap();
        assert_eq!(r.messages[0].content(), Content::Text);
        assert_eq!(r.messages[0].text().as_deref(), Some("a"));
        assert_eq!(r.messages[1].content(), Content::None);
        assert_eq!(r.messages[2].content(), Content::Parts);
        assert_eq!(r.messages[2].text(), None);
    }

    #[test]
    fn message_role_and_content_type_are_checked_with_their_path() {
        assert!(err(r#"[{"role":"","content":"a"}]"#).contains("`messages[0].role` must be a non-empty string"));
        assert!(err(r#"[{"content":"a"}]"#).contains("`messages[0]`"));
        assert!(err(r#"[{"role":"user"},{"role":"user","content":5}]"#).contains("`messages[1].content` must be"));
        assert!(err(r#"[{"role":"user","content":{}}]"#).contains("`messages[0].content` must be"));
        assert!(err(r#"["hi"]"#).contains("`messages[0]` must be a JSON object"));
    }

    #[test]
    fn new_fields_are_shape_checked() {
        assert!(err(r#"{"messages":[],"tools":{}}"#).contains("`tools` must be an array"));
        assert!(err(r#"{"messages":[],"tools":[1]}"#).contains("`tools` must be an array"));
        assert!(err(r#"{"messages":[],"tool_choice":1}"#).contains("`tool_choice` must be"));
        assert!(err(r#"{"messages":[],"stop":[1]}"#).contains("`stop` must be"));
        assert!(err(r#"{"messages":[],"response_format":"json"}"#).contains("`response_format` must be"));
        assert!(err(r#"{"messages":[],"n":0}"#).contains("`n` must be from 1 to 128"));
        assert!(err(r#"{"messages":[],"n":129}"#).contains("`n` must be from 1 to 128"));
        assert!(err(r#"{"messages":[],"seed":1.5}"#).contains("`seed`"));
        let r = Request::from_json(
            r#"{"messages":[],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"auto",
                "stop":"x","n":2,"seed":-1,"reasoning_effort":"low","parallel_tool_calls":false,
                "response_format":{"type":"json_object"},"include_usage":false}"#,
        )
        .unwrap();
        assert_eq!(r.settings.n, Some(2));
        assert_eq!(r.settings.tool_choice.as_ref().map(Json::get), Some(r#""auto""#));
    }

    #[test]
    fn wrong_type_names_the_field_path() {
        let m = err(r#"{"messages":[{"role":"user","content":"a"},{"role":5,"content":"b"}]}"#);
        assert!(m.contains("`messages[1].role`"), "{m}");
        let m = err(r#"{"messages":[],"temperature":"hot"}"#);
        assert!(m.contains("`temperature`"), "{m}");
    }

    #[test]
    fn missing_messages_is_an_error() {
        assert_eq!(err(r#"{"model":"x"}"#), "invalid request: missing field `messages`");
    }

    #[test]
    fn malformed_json_is_an_error() {
        assert!(err("{").starts_with("invalid request: EOF"));
        assert!(err("[] trailing").starts_with("invalid request: trailing characters"));
        assert_eq!(err("42"), "invalid request: expected a JSON object with `messages`, or a JSON array of messages");
        assert_eq!(err(""), err("42"));
    }

    #[test]
    fn nesting_counts_arrays_and_objects_not_brackets_in_strings() {
        assert_eq!(nesting("1"), 0);
        assert_eq!(nesting(r#"[{"a":"[[[{"},[]]"#), 2);
        assert_eq!(nesting(r#"{"a\\":"\"[["}"#), 1);
        let objects = |n: usize| format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
        let at_limit = format!(r#"{{"messages":[],"response_format":{}}}"#, objects(MAX_NESTING));
        assert!(Request::from_json(&at_limit).is_ok_and(|r| r.settings.response_format.is_some()));
        let over = format!(r#"{{"messages":[],"response_format":{}}}"#, objects(MAX_NESTING + 1));
        assert!(err(&over).contains("`response_format` is nested more than 100 levels deep"), "{}", err(&over));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(err(&deep).starts_with("invalid request"));
        let deep = format!(r#"{{"messages":[],"headers":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
        assert!(err(&deep).contains("`headers`"));
    }

    #[test]
    fn unknown_provider_lists_accepted_values() {
        let m = resolve(r#"{"messages":[],"provider":"nope"}"#, "{}", &[]).unwrap_err().message().to_string();
        assert!(
            m.starts_with(
                "invalid request: `provider` is \"nope\"; accepted values: aichat, openai, anthropic, ollama,"
            ),
            "{m}"
        );
        for name in ["responses", "gemini", "groq", "azure"] {
            assert!(m.contains(name), "{m}");
        }
    }

    #[test]
    fn header_values_with_cr_or_lf_are_rejected() {
        let m = err(r#"{"messages":[],"headers":{"x-a":"1\r\nx-b: 2"}}"#);
        assert!(m.contains("`headers` has an invalid value for \"x-a\""), "{m}");
        let m = err(r#"{"messages":[],"headers":{"bad name":"1"}}"#);
        assert!(m.contains("invalid header name"), "{m}");
    }

    #[test]
    fn zero_timeouts_are_rejected() {
        assert!(err(r#"{"messages":[],"idle_timeout_ms":0}"#).contains("`idle_timeout_ms` must be at least 1"));
        assert!(err(r#"{"messages":[],"timeout_ms":-1}"#).contains("`timeout_ms`"));
    }

    #[test]
    fn base_url_must_be_http() {
        assert!(err(r#"{"messages":[],"base_url":"ftp://x"}"#).contains("must start with http://"));
        assert!(err(r#"{"messages":[],"base_url":"not a url"}"#).contains("`base_url`"));
    }

    #[test]
    fn out_of_range_numbers_are_rejected() {
        assert!(err(r#"{"messages":[],"temperature":1e400}"#).contains("`temperature`"));
        assert!(err(r#"{"messages":[],"max_response_bytes":1e3}"#).contains("`max_response_bytes`"));
    }

    #[test]
    fn options_reject_messages() {
        let e = Settings::options_from_json(r#"{"messages":[]}"#).unwrap_err();
        assert!(e.message().contains("`messages` belongs in a request"));
    }

    #[test]
    fn request_settings_override_client_settings() {
        let client =
            Settings::options_from_json(r#"{"model":"client","base_url":"http://c/","timeout_ms":5}"#).unwrap();
        let req = Request::from_json(r#"{"messages":[],"model":"request"}"#).unwrap();
        let r = crate::providers::resolve(req, &client, &Env::default(), std::time::Instant::now())
            .map(|(_, r)| r)
            .unwrap();
        assert_eq!(r.model, "request");
        assert_eq!(r.base_url, "http://c");
        assert_eq!(r.net.timeout, Duration::from_millis(5));
        assert_eq!(r.net.idle_timeout, Duration::from_millis(DEFAULT_IDLE_TIMEOUT_MS));
    }

    #[test]
    fn library_defaults_apply() {
        let r = crate::providers::resolve(
            Request::from_json("[]").unwrap(),
            &Settings::default(),
            &Env::default(),
            std::time::Instant::now(),
        )
        .map(|(_, r)| r)
        .unwrap();
        assert_eq!(r.provider.name(), "aichat");
        assert_eq!(r.base_url, "https://chat-gpt.org");
        assert_eq!(r.model, "gpt-3.5-turbo");
        assert!(!r.stream);
        assert_eq!(r.net.proxy, ProxySetting::None, "no proxy variable set");
        assert_eq!(r.net.connect_timeout, Duration::from_millis(10_000));
        assert_eq!(r.net.idle_timeout, Duration::from_millis(60_000));
        assert_eq!(r.net.timeout, Duration::from_millis(600_000));
        assert_eq!(r.net.max_response_bytes, 64 * 1024 * 1024);
    }

    #[test]
    fn empty_proxy_turns_proxies_off() {
        let r = resolve(r#"{"messages":[],"proxy":""}"#, "{}", &[("HTTPS_PROXY", "http://p:1")]).unwrap();
        assert_eq!(r.net.proxy, ProxySetting::None);
    }

    fn resolve(json: &str, client: &str, env: &[(&str, &str)]) -> Result<Resolved, Error> {
        crate::providers::resolve(
            Request::from_json(json).unwrap(),
            &Settings::options_from_json(client).unwrap(),
            &Env::from_pairs(env.iter().map(|(k, v)| (*k, v.to_string()))),
            std::time::Instant::now(),
        )
        .map(|(_, r)| r)
    }

    #[test]
    fn the_environment_proxy_is_chosen_for_the_base_url() {
        let env = [("https_proxy", "http://p:1"), ("NO_PROXY", "internal.example")];
        let r = resolve(r#"{"messages":[],"base_url":"https://api.example"}"#, "{}", &env).unwrap();
        assert_eq!(r.net.proxy, ProxySetting::Url("http://p:1".into()));
        let r = resolve(r#"{"messages":[],"base_url":"https://internal.example"}"#, "{}", &env).unwrap();
        assert_eq!(r.net.proxy, ProxySetting::None);
        let e = resolve("[]", "{}", &[("HTTPS_PROXY", "::not a url::")]).unwrap_err();
        assert!(e.message().starts_with("invalid proxy in the environment"), "{}", e.message());
    }

    #[test]
    fn openai_base_url_comes_from_request_then_client_then_environment_then_default() {
        let env = [("OPENAI_BASE_URL", "http://env:1/v1")];
        let openai = r#"{"messages":[],"provider":"openai"}"#;
        assert_eq!(resolve(openai, "{}", &[]).unwrap().base_url, "https://api.openai.com/v1");
        assert_eq!(resolve(openai, "{}", &env).unwrap().base_url, "http://env:1/v1");
        assert_eq!(resolve(openai, r#"{"base_url":"http://client"}"#, &env).unwrap().base_url, "http://client");
        let req = r#"{"messages":[],"provider":"openai","base_url":"http://req"}"#;
        assert_eq!(resolve(req, r#"{"base_url":"http://client"}"#, &env).unwrap().base_url, "http://req");
        // The aichat provider does not read OPENAI_BASE_URL.
        assert_eq!(resolve("[]", "{}", &env).unwrap().base_url, "https://chat-gpt.org");
    }

    #[test]
    fn anthropic_reads_its_host_from_the_environment_and_adds_v1() {
        let env = [("ANTHROPIC_BASE_URL", "http://gateway:8080/"), ("ANTHROPIC_API_KEY", "sk-ant")];
        let r = resolve(r#"{"messages":[],"provider":"anthropic"}"#, "{}", &env).unwrap();
        assert_eq!(r.base_url, "http://gateway:8080/v1");
        assert_eq!(r.api_key.as_ref().map(|k| k.expose()), Some("sk-ant"));
        let r = resolve(r#"{"messages":[],"provider":"anthropic"}"#, "{}", &[]).unwrap();
        assert_eq!(r.base_url, "https://api.anthropic.com/v1");
        assert_eq!(r.api_key, None, "OPENAI_API_KEY is not its key");
    }

    #[test]
    fn bad_openai_base_url_in_the_environment_is_named() {
        let e = resolve(r#"{"messages":[],"provider":"openai"}"#, "{}", &[("OPENAI_BASE_URL", "nope")]).unwrap_err();
        assert!(e.message().starts_with("invalid OPENAI_BASE_URL:"), "{}", e.message());
    }

    #[test]
    fn api_key_comes_from_request_then_client_then_environment() {
        let env = [("OPENAI_API_KEY", "sk-env")];
        let openai = r#"{"messages":[],"provider":"openai"}"#;
        let key = |r: Result<Resolved, Error>| r.unwrap().api_key.map(|k| k.expose().to_string());
        assert_eq!(key(resolve(openai, "{}", &[])), None);
        assert_eq!(key(resolve(openai, "{}", &env)), Some("sk-env".into()));
        assert_eq!(key(resolve(openai, r#"{"api_key":"sk-client"}"#, &env)), Some("sk-client".into()));
        let req = r#"{"messages":[],"provider":"openai","api_key":"sk-req"}"#;
        assert_eq!(key(resolve(req, r#"{"api_key":"sk-client"}"#, &env)), Some("sk-req".into()));
        assert_eq!(key(resolve("[]", "{}", &env)), None, "aichat sends no key");
    }

    #[test]
    fn a_base_url_with_credentials_is_refused_without_showing_them() {
        let m = err(r#"{"messages":[],"base_url":"https://user:pw-secret@api.example/v1"}"#);
        assert!(m.contains("must not hold a user name or password"), "{m}");
        assert!(m.contains("https://***@api.example/v1") && !m.contains("pw-secret"), "{m}");
        let e = resolve(r#"{"messages":[],"provider":"openai"}"#, "{}", &[("OPENAI_BASE_URL", "http://u:pw-env@h/v1")])
            .unwrap_err();
        assert!(!e.message().contains("pw-env"), "{}", e.message());
    }

    #[test]
    fn credentials_are_never_printed_by_debug_and_are_listed_as_secrets() {
        let json = r#"{"messages":[],"provider":"openai","api_key":"sk-secret","proxy":"http://u:proxy-pw@p:1",
                       "headers":{"X-Api-Key":"hdr-secret","Authorization":"Bearer tok-secret","x-trace":"visible"}}"#;
        let settings = Settings::options_from_json(&json.replace(r#""messages":[],"#, "")).unwrap();
        let r = resolve(json, "{}", &[]).unwrap();
        let request = Request::from_json(json).unwrap();
        let env = Env::from_pairs([
            ("OPENAI_API_KEY", "sk-env-secret".to_string()),
            ("HTTPS_PROXY", "http://u:env-pw@p:1".into()),
        ]);
        let from_env = crate::providers::resolve(
            Request::from_json(r#"{"messages":[],"provider":"openai","base_url":"https://api.example"}"#).unwrap(),
            &Settings::default(),
            &env,
            Instant::now(),
        )
        .map(|(_, r)| r)
        .unwrap();
        assert_eq!(from_env.api_key.as_ref().map(Secret::expose), Some("sk-env-secret"));
        let client = crate::Client::with_env(settings.clone(), env.clone());
        let shown = [r, from_env].map(|r| format!("{r:?}"));
        let shown = shown.into_iter().chain([settings, request.settings.clone()].map(|s| format!("{s:?}")));
        let shown = shown.chain([format!("{request:?}"), format!("{env:?}"), format!("{client:?}")]);
        for shown in shown {
            for secret in ["sk-secret", "hdr-secret", "tok-secret", "visible", "proxy-pw", "sk-env-secret", "env-pw"] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
        }
        let r = resolve(json, "{}", &[]).unwrap();
        let secrets = r.secrets();
        for secret in
            ["sk-secret", "hdr-secret", "Bearer tok-secret", "tok-secret", "visible", "u:proxy-pw", "proxy-pw"]
        {
            assert!(secrets.iter().any(|s| s == secret), "{secret} not in {secrets:?}");
        }
    }

    #[test]
    fn api_key_is_never_printed_by_debug() {
        let r = resolve(r#"{"messages":[],"provider":"openai","api_key":"sk-secret"}"#, "{}", &[]).unwrap();
        assert!(!format!("{r:?}").contains("sk-secret"));
    }

    #[test]
    fn aichat_rejects_the_openai_only_fields() {
        for field in [
            r#""tools":[]"#,
            r#""tool_choice":"auto""#,
            r#""parallel_tool_calls":true"#,
            r#""response_format":{}"#,
            r#""stop":"x""#,
            r#""seed":1"#,
            r#""reasoning_effort":"low""#,
            r#""n":1"#,
        ] {
            let e = resolve(&format!(r#"{{"messages":[],{field}}}"#), "{}", &[]).unwrap_err();
            assert!(e.message().ends_with("is not supported by the aichat provider"), "{field}: {}", e.message());
        }
        assert!(resolve(r#"{"messages":[],"include_usage":false}"#, "{}", &[]).is_ok());
        assert!(resolve("[]", "{}", &[]).unwrap().include_usage);
    }

    #[test]
    fn aichat_rejects_extra_body_and_max_tokens() {
        let e = resolve(r#"{"messages":[],"max_tokens":5}"#, "{}", &[]).unwrap_err();
        assert_eq!(e.message(), "invalid request: `max_tokens` is not supported by the aichat provider");
        let e = resolve("[]", r#"{"extra_body":{"seed":1}}"#, &[]).unwrap_err();
        assert_eq!(e.message(), "invalid request: `extra_body` is not supported by the aichat provider");
        assert!(
            resolve(r#"{"messages":[],"provider":"openai","max_tokens":5,"extra_body":{"seed":1}}"#, "{}", &[]).is_ok()
        );
    }

    #[test]
    fn extra_body_must_be_an_object() {
        assert!(err(r#"{"messages":[],"extra_body":[1]}"#).contains("`extra_body`"));
    }

    #[test]
    fn tls_roots_are_webpki_system_or_a_file() {
        assert_eq!(resolve("[]", "{}", &[]).unwrap().net.tls, TlsRoots::WebPki);
        assert_eq!(resolve(r#"{"messages":[],"tls_roots":"system"}"#, "{}", &[]).unwrap().net.tls, TlsRoots::System);
        let both = resolve(r#"{"messages":[],"tls_roots":"system","ca_file":"/x.pem"}"#, "{}", &[]).unwrap();
        assert_eq!(both.net.tls, TlsRoots::File("/x.pem".into()));
        assert!(
            err(r#"{"messages":[],"tls_roots":"mine"}"#)
                .contains("`tls_roots` is \"mine\"; accepted values: webpki, system")
        );
    }

    #[test]
    fn max_retries_defaults_to_two() {
        assert_eq!(resolve("[]", "{}", &[]).unwrap().net.max_retries, 2);
        assert_eq!(resolve(r#"{"messages":[],"max_retries":0}"#, "{}", &[]).unwrap().net.max_retries, 0);
    }
}
