//! The protocols the library speaks, one file each. A provider turns a resolved request into
//! an HTTP request, and the HTTP answer into the pieces the [`Assembler`] makes events of.

pub mod aichat;
pub mod openai;

use crate::answer::Assembler;
use crate::error::Error;
use crate::interrupt::Stop;
use crate::request::{Headers, Resolved};
use std::borrow::Cow;

use crate::transport::{Header, Transport};

/// A provider's own headers with the caller's `headers` on top: one with the same name
/// (case-insensitively) replaces the provider's.
fn with_extra_headers(base: Vec<Header>, extra: &Headers) -> Vec<Header> {
    let mut headers: Vec<Header> =
        base.into_iter().filter(|(name, _)| !extra.0.keys().any(|e| e.eq_ignore_ascii_case(name))).collect();
    headers.extend(extra.0.iter().map(|(name, value)| (Cow::Owned(name.clone()), Cow::Owned(value.clone()))));
    headers
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Provider {
    /// The original chat-gpt.org `/api/text` protocol (gpt4free's `Aichat`).
    #[default]
    Aichat,
    /// OpenAI-compatible `/chat/completions`, with SSE streaming.
    OpenAi,
}

impl Provider {
    /// Every provider.
    pub const ALL: &'static [Provider] = &[Provider::Aichat, Provider::OpenAi];

    /// The accepted values of the `provider` field, for error messages.
    pub const NAMES: &'static [&'static str] = &["aichat", "openai"];

    pub fn from_name(name: &str) -> Option<Provider> {
        match name {
            "aichat" => Some(Provider::Aichat),
            "openai" => Some(Provider::OpenAi),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::Aichat => "aichat",
            Provider::OpenAi => "openai",
        }
    }

    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::Aichat => aichat::DEFAULT_BASE_URL,
            Provider::OpenAi => openai::DEFAULT_BASE_URL,
        }
    }

    /// The environment variable consulted for `base_url` when neither request nor client set it.
    pub fn base_url_env(self) -> Option<&'static str> {
        match self {
            Provider::Aichat => None,
            Provider::OpenAi => Some("OPENAI_BASE_URL"),
        }
    }

    /// The environment variable consulted for `api_key` when neither request nor client set it.
    pub fn api_key_env(self) -> Option<&'static str> {
        match self {
            Provider::Aichat => None,
            Provider::OpenAi => Some("OPENAI_API_KEY"),
        }
    }

    /// Whether the provider takes an optional request field that not all of them do.
    pub fn accepts(self, field: &str) -> bool {
        match self {
            // The original protocol has exactly five body fields.
            Provider::Aichat => !matches!(
                field,
                "extra_body"
                    | "max_tokens"
                    | "tools"
                    | "tool_choice"
                    | "parallel_tool_calls"
                    | "response_format"
                    | "stop"
                    | "seed"
                    | "reasoning_effort"
                    | "n"
            ),
            Provider::OpenAi => true,
        }
    }

    /// Runs one completion: sends the request, decodes the answer into `out`.
    pub fn run(
        self,
        request: &Resolved,
        transport: &Transport,
        stop: &Stop,
        out: &mut Assembler<'_>,
    ) -> Result<(), Error> {
        match self {
            Provider::Aichat => aichat::run(request, transport, stop, out),
            Provider::OpenAi => openai::run(request, transport, stop, out),
        }
    }
}
