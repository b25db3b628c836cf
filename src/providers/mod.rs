//! The protocols the library speaks, one file each. A provider turns a resolved request into
//! an HTTP request, and the HTTP answer into text chunks for the sink.

mod aichat;

use crate::error::Error;
use crate::request::Resolved;
use crate::transport::{Abandon, Transport};

/// Receives each piece of text as it is decoded; returns `false` to stop the call.
pub type Sink<'a> = dyn FnMut(&str) -> bool + 'a;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Provider {
    /// The original chat-gpt.org `/api/text` protocol (gpt4free's `Aichat`).
    #[default]
    Aichat,
}

impl Provider {
    /// The accepted values of the `provider` field, for error messages.
    pub const NAMES: &'static [&'static str] = &["aichat"];

    pub fn from_name(name: &str) -> Option<Provider> {
        match name {
            "aichat" => Some(Provider::Aichat),
            _ => None,
        }
    }

    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::Aichat => aichat::DEFAULT_BASE_URL,
        }
    }

    /// Runs one completion: sends the request, decodes the answer, feeds the sink.
    pub fn run(
        self,
        request: &Resolved,
        transport: &Transport,
        abandon: &Abandon,
        sink: &mut Sink<'_>,
    ) -> Result<(), Error> {
        match self {
            Provider::Aichat => aichat::run(request, transport, abandon, sink),
        }
    }
}
