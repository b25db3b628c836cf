//! `aichat_abi_json`: the library describing itself — its version, the protocols it speaks, the
//! settings table, and the layout of every public struct as this build compiled it. The binding
//! generator (`scripts/generate.py`) reads it, with the header, to write `include/aichat.json`
//! and the bindings' option lists and struct declarations; the Node and Python bindings compare
//! its `layouts` with the ones they were generated for when they load the library, and refuse a
//! library that differs instead of reading garbage.

use std::ffi::{CString, c_char};
use std::mem::{align_of, offset_of, size_of};
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::{
    AichatChoice, AichatChunks, AichatEvent, AichatEvents, AichatResult, AichatToolCall, AichatUsage, catch_or,
};
use crate::providers::REGISTRY;
use crate::settings::{Default, Kind, Scope, TABLE, Taken};

/// The size of a field's type, named by a closure that borrows it (no value needed).
fn size_of_field<S, F>(_: fn(&S) -> &F) -> usize {
    size_of::<F>()
}

/// `{"size", "align", "fields": [{"name", "offset", "size"}, ...]}` of a `#[repr(C)]` struct.
macro_rules! layout {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        (stringify!($ty), json!({
            "size": size_of::<$ty>(),
            "align": align_of::<$ty>(),
            "fields": [$(json!({
                "name": stringify!($field),
                "offset": offset_of!($ty, $field),
                "size": size_of_field(|s: &$ty| &s.$field),
            })),*],
        }))
    };
}

/// Every public struct's layout. A struct added to the header must be added here: the
/// generator fails on a header struct with no layout.
fn layouts() -> Value {
    let all = [
        layout!(AichatUsage { prompt_tokens, completion_tokens, total_tokens, cached_tokens, reasoning_tokens }),
        layout!(AichatEvent { kind, choice, index, text, text_len, id, name, usage }),
        layout!(AichatChunks { text, text_len, ends, count, finished }),
        layout!(AichatEvents { items, count, finished }),
        layout!(AichatToolCall { id, name, arguments, arguments_len }),
        layout!(AichatChoice {
            index,
            text,
            text_len,
            reasoning,
            reasoning_len,
            refusal,
            refusal_len,
            tool_calls,
            tool_call_count,
            finish_reason,
            finish_reason_raw,
            message,
            message_len,
        }),
        layout!(AichatResult { id, model, request_id, choices, choice_count, usage }),
    ];
    Value::Object(all.into_iter().map(|(name, layout)| (name.to_string(), layout)).collect())
}

fn settings() -> Value {
    let rows = TABLE.iter().map(|s| {
        let protocols: Vec<&str> = REGISTRY
            .iter()
            .filter(|p| s.taken == Taken::Every || p.takes().contains(&s.field))
            .map(|p| p.name())
            .collect();
        let (default, note) = match s.default {
            Default::None => (Value::Null, None),
            Default::Bool(b) => (json!(b), None),
            Default::Int(n) => (json!(n), None),
            Default::Str(text) => (json!(text), None),
            Default::Note(text) => (Value::Null, Some(text)),
        };
        let mut row = json!({
            "name": s.name,
            "kind": s.kind.name(),
            "scope": match s.scope { Scope::Request => "request", Scope::Both => "both" },
            "protocols": protocols,
            "default": default,
            "doc": s.doc.trim(),
        });
        if let Some(note) = note {
            row["default_note"] = json!(note);
        }
        if let Kind::Choice(choices) = s.kind {
            row["choices"] = json!(choices);
        }
        row
    });
    Value::Array(rows.collect())
}

/// The whole description, as `aichat_abi_json` returns it.
pub fn description() -> Value {
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "protocols": REGISTRY.iter().map(|p| json!({
            "name": p.name(),
            "speaks": p.speaks(),
            "default_base_url": p.default_base_url(),
            "base_url_env": p.base_url_env(),
            "api_key_env": p.api_key_env(),
            "api_key_envs": p.api_key_envs(),
            "default_model": p.default_model(),
            "env_vars": p.env_vars(),
        })).collect::<Vec<_>>(),
        "settings": settings(),
        "layouts": layouts(),
    })
}

/// This library described as JSON: `version`, `protocols` (each `provider` value with its
/// default base URL and environment variables, the default first; `api_key_envs` lists every
/// key variable in the order consulted, `api_key_env` the first), `settings` (each request
/// field: `name`, `kind`, `scope`, `protocols` that take it, `default`, `doc`), and `layouts`
/// (each public struct's `size`, `align` and fields' `offset` and `size` in this build). A
/// static string (never freed); NULL only if it could not be made.
#[unsafe(no_mangle)]
pub extern "C" fn aichat_abi_json() -> *const c_char {
    static JSON: OnceLock<Option<CString>> = OnceLock::new();
    catch_or(std::ptr::null(), || {
        let text = JSON.get_or_init(|| CString::new(description().to_string()).ok());
        text.as_ref().map_or(std::ptr::null(), |t| t.as_ptr())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_names_every_setting_and_struct() {
        let d = description();
        assert_eq!(d["settings"].as_array().unwrap().len(), TABLE.len());
        assert_eq!(d["layouts"]["AichatEvent"]["size"], size_of::<AichatEvent>());
        assert_eq!(d["layouts"]["AichatEvent"]["fields"][3]["name"], "text");
        assert_eq!(d["protocols"][0]["name"], "aichat");
        assert_eq!(d["protocols"][1]["api_key_env"], "OPENAI_API_KEY");
        assert_eq!(d["protocols"][1]["api_key_envs"], json!(["OPENAI_API_KEY"]));
        let gemini = d["protocols"].as_array().unwrap().iter().find(|p| p["name"] == "gemini").unwrap();
        assert_eq!(gemini["api_key_envs"], json!(["GOOGLE_API_KEY", "GEMINI_API_KEY"]));
        let user = d["settings"].as_array().unwrap().iter().find(|s| s["name"] == "user").unwrap();
        let takers = user["protocols"].as_array().unwrap();
        assert!(takers.contains(&json!("anthropic")) && takers.contains(&json!("groq")), "{takers:?}");
        assert!(!takers.contains(&json!("ollama")) && !takers.contains(&json!("aichat")), "{takers:?}");
        // SAFETY: a static NUL-terminated string.
        let text = unsafe { std::ffi::CStr::from_ptr(aichat_abi_json()) }.to_str().unwrap();
        assert_eq!(serde_json::from_str::<Value>(text).unwrap(), d);
    }
}
