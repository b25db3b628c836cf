//! The OpenAI-compatible services by name: each is the `openai` protocol with its own default
//! base URL and key variable, one row of data each. `base_url` and `api_key` still override
//! them. A service's quirk lives in its row (Azure's `api-key` header, and its endpoint, which
//! the `/openai/v1` path is added to).

use crate::error::Error;
use crate::request::{ProtocolDefaults, Resolved};
use crate::transport::HttpRequest;

use super::openai::{self, KeyHeader, OpenAi, Quirks};
use super::{Decoder, Field, Framing, Protocol};

/// One OpenAI-compatible service.
#[derive(Debug)]
pub struct Compatible {
    name: &'static str,
    /// "" when there is none: `base_url` or `base_url_env` must say.
    base_url: &'static str,
    /// A variable holding the service's endpoint, which `path` is added to.
    base_url_env: Option<(&'static str, &'static str)>,
    key_env: Option<&'static str>,
    quirks: Quirks,
}

const fn service(name: &'static str, base_url: &'static str, key_env: &'static str) -> Compatible {
    Compatible { name, base_url, base_url_env: None, key_env: Some(key_env), quirks: Quirks::NONE }
}

const fn local(name: &'static str, base_url: &'static str) -> Compatible {
    Compatible { name, base_url, base_url_env: None, key_env: None, quirks: Quirks::NONE }
}

pub static OPENROUTER: Compatible = service("openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY");
pub static GROQ: Compatible = service("groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY");
pub static DEEPSEEK: Compatible = service("deepseek", "https://api.deepseek.com", "DEEPSEEK_API_KEY");
/// Mistral refuses `stream_options` (422 "extra_forbidden"), and streams usage unasked.
pub static MISTRAL: Compatible = Compatible {
    quirks: Quirks { stream_options: false, ..Quirks::NONE },
    ..service("mistral", "https://api.mistral.ai/v1", "MISTRAL_API_KEY")
};
pub static TOGETHER: Compatible = service("together", "https://api.together.xyz/v1", "TOGETHER_API_KEY");
pub static FIREWORKS: Compatible = service("fireworks", "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY");
pub static XAI: Compatible = service("xai", "https://api.x.ai/v1", "XAI_API_KEY");
pub static CEREBRAS: Compatible = service("cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY");
/// Azure OpenAI's v1 API: `$AZURE_OPENAI_ENDPOINT/openai/v1`, the key in `api-key`.
pub static AZURE: Compatible = Compatible {
    name: "azure",
    base_url: "",
    base_url_env: Some(("AZURE_OPENAI_ENDPOINT", "/openai/v1")),
    key_env: Some("AZURE_OPENAI_API_KEY"),
    quirks: Quirks { key_header: KeyHeader::ApiKey, ..Quirks::NONE },
};
pub static LMSTUDIO: Compatible = local("lmstudio", "http://127.0.0.1:1234/v1");
pub static VLLM: Compatible = local("vllm", "http://127.0.0.1:8000/v1");

impl ProtocolDefaults for Compatible {
    fn name(&self) -> &'static str {
        self.name
    }

    fn default_base_url(&self) -> &'static str {
        self.base_url
    }

    fn base_url_env(&self) -> Option<&'static str> {
        self.base_url_env.map(|(var, _)| var)
    }

    /// The endpoint, with or without a trailing slash, and the service's path.
    fn base_url_from_env(&self, value: &str) -> String {
        let path = self.base_url_env.map_or("", |(_, path)| path);
        format!("{}{path}", value.trim_end_matches('/'))
    }

    fn api_key_env(&self) -> Option<&'static str> {
        self.key_env
    }

    fn speaks(&self) -> &'static str {
        "openai"
    }

    fn takes(&self) -> &'static [Field] {
        openai::TAKES
    }
}

impl Protocol for Compatible {
    fn build_request(&self, r: &Resolved) -> Result<HttpRequest, Error> {
        openai::build_request_with(r, self.quirks)
    }

    fn framing(&self, content_type: &str, stream_asked: bool) -> Framing {
        OpenAi.framing(content_type, stream_asked)
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        OpenAi.decoder()
    }

    fn plain_decoder(&self) -> Box<dyn Decoder> {
        OpenAi.plain_decoder()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::env::Env;
    use crate::request::{Request, Settings};

    fn resolve(provider: &str, env: &[(&str, &str)]) -> Result<Resolved, Error> {
        let json = format!(r#"{{"provider":"{provider}","messages":[]}}"#);
        let env = Env::from_pairs(env.iter().map(|(k, v)| (*k, v.to_string())));
        crate::providers::resolve(Request::from_json(&json)?, &Settings::default(), &env, Instant::now())
            .map(|(_, r)| r)
    }

    #[test]
    fn each_service_has_its_base_url_and_key_variable() {
        for (name, url, key) in [
            ("openrouter", "https://openrouter.ai/api/v1", Some("OPENROUTER_API_KEY")),
            ("groq", "https://api.groq.com/openai/v1", Some("GROQ_API_KEY")),
            ("deepseek", "https://api.deepseek.com", Some("DEEPSEEK_API_KEY")),
            ("mistral", "https://api.mistral.ai/v1", Some("MISTRAL_API_KEY")),
            ("together", "https://api.together.xyz/v1", Some("TOGETHER_API_KEY")),
            ("fireworks", "https://api.fireworks.ai/inference/v1", Some("FIREWORKS_API_KEY")),
            ("xai", "https://api.x.ai/v1", Some("XAI_API_KEY")),
            ("cerebras", "https://api.cerebras.ai/v1", Some("CEREBRAS_API_KEY")),
            ("lmstudio", "http://127.0.0.1:1234/v1", None),
            ("vllm", "http://127.0.0.1:8000/v1", None),
        ] {
            let env: Vec<(&str, &str)> = key.map(|k| (k, "sk-svc")).into_iter().collect();
            let r = resolve(name, &env).unwrap();
            assert_eq!(r.base_url, url, "{name}");
            assert_eq!(r.api_key.as_ref().map(|k| k.expose()), key.map(|_| "sk-svc"), "{name}");
            assert!(resolve(name, &[("OPENAI_API_KEY", "sk-openai")]).unwrap().api_key.is_none(), "{name}");
            let req = build_request_of(name, &env);
            assert!(req.url.ends_with("/chat/completions"));
            let bearer = req.headers.iter().any(|(n, v)| n == "authorization" && v == "Bearer sk-svc");
            assert_eq!(bearer, key.is_some(), "{name}");
        }
    }

    fn build_request_of(name: &str, env: &[(&str, &str)]) -> HttpRequest {
        let r = resolve(name, env).unwrap();
        crate::providers::by_name(name).unwrap().build_request(&r).unwrap()
    }

    #[test]
    fn azure_takes_its_endpoint_with_or_without_a_slash_and_sends_api_key() {
        for endpoint in ["https://res.openai.azure.com", "https://res.openai.azure.com/"] {
            let env = [("AZURE_OPENAI_ENDPOINT", endpoint), ("AZURE_OPENAI_API_KEY", "az-key")];
            assert_eq!(resolve("azure", &env).unwrap().base_url, "https://res.openai.azure.com/openai/v1");
            let req = build_request_of("azure", &env);
            assert_eq!(req.url, "https://res.openai.azure.com/openai/v1/chat/completions");
            assert!(req.headers.iter().any(|(n, v)| n == "api-key" && v == "az-key"));
            assert!(!req.headers.iter().any(|(n, _)| n == "authorization"));
        }
        let e = resolve("azure", &[]).unwrap_err();
        assert_eq!(
            e.message(),
            "invalid request: the azure provider has no default `base_url`: set `base_url` or AZURE_OPENAI_ENDPOINT"
        );
    }

    #[test]
    fn mistral_is_not_sent_stream_options() {
        let json = r#"{"provider":"mistral","messages":[],"stream":true}"#;
        for (provider, sent) in [("mistral", false), ("groq", true)] {
            let json = json.replace("mistral", provider);
            let (p, r) = crate::providers::resolve(
                Request::from_json(&json).unwrap(),
                &Settings::default(),
                &Env::default(),
                Instant::now(),
            )
            .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&p.build_request(&r).unwrap().body).unwrap();
            assert_eq!(body.get("stream_options").is_some(), sent, "{provider}");
        }
    }

    #[test]
    fn base_url_and_api_key_still_win() {
        let json = r#"{"provider":"groq","messages":[],"base_url":"http://gw/v1","api_key":"sk-mine"}"#;
        let env = Env::from_pairs([("GROQ_API_KEY", "sk-env".to_string())]);
        let (_, r) =
            crate::providers::resolve(Request::from_json(json).unwrap(), &Settings::default(), &env, Instant::now())
                .unwrap();
        assert_eq!(r.base_url, "http://gw/v1");
        assert_eq!(r.api_key.unwrap().expose(), "sk-mine");
    }
}
