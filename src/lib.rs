//! aichat: a chat-completion client with a C ABI.
//!
//! Data flows one way: JSON in → [`request::Request`] (validated) → [`request::Resolved`]
//! (merged with client defaults) → a provider builds the HTTP request → [`transport`] hands it
//! to the reactor (one I/O thread for every connection), which sends it and moves the body's
//! bytes to the caller's thread → the provider decodes the answer into an [`answer::Assembler`] → typed
//! [`event::Event`]s (or only the text) → the caller's sink. The `ffi` module only
//! translates between that safe core and C.

pub mod answer;
pub mod aws;
pub mod cancel;
pub mod client;
pub mod env;
pub mod error;
pub mod event;
pub mod eventstream;
mod fastjson;
pub mod ffi;
mod message;
pub mod ndjson;
pub mod prompt;
pub mod providers;
mod pulled;
mod quiet;
mod reactor;
pub mod request;
pub mod result;
pub mod secret;
pub mod settings;
pub mod sigv4;
mod spare;
pub mod sse;
pub mod stop;
mod tls;
pub mod transport;

pub use cancel::CancelToken;
pub use client::Client;
pub use error::{Error, ErrorKind};
pub use event::{Event, Usage};
pub use request::{Message, Request, Settings};
