//! aichat: a chat-completion client with a C ABI.
//!
//! Data flows one way: JSON in → [`request::Request`] (validated) → [`request::Resolved`]
//! (merged with client defaults) → a provider builds the HTTP request → [`transport`] sends it
//! and reads the body → the provider decodes the answer into an [`answer::Assembler`] → typed
//! [`event::Event`]s (or only the text) → the caller's sink. The `ffi` module only
//! translates between that safe core and C.

pub mod answer;
pub mod cancel;
pub mod client;
pub mod env;
pub mod error;
pub mod event;
mod fastjson;
pub mod ffi;
pub mod interrupt;
mod mailbox;
mod message;
pub mod ndjson;
pub mod net;
pub mod prompt;
pub mod providers;
pub mod request;
pub mod secret;
mod spare;
pub mod sse;
pub mod transport;

pub use cancel::CancelToken;
pub use client::Client;
pub use error::{Error, ErrorKind};
pub use event::{Event, Usage};
pub use request::{Message, Request, Settings};
