//! Credentials: the API key, secret headers, proxy passwords. A [`Secret`] is never printed by
//! `Debug` and is wiped from memory when dropped. While a call runs, its secrets are masked out
//! of every text that becomes part of an error message ([`mask`]), before the text is cut to
//! length, so that not even the start of a secret a server quoted back survives.

use std::borrow::Cow;
use std::cell::RefCell;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroize;

/// What a masked secret becomes in a message.
pub const MASK: &str = "***";

/// Shorter values are not masked: they are not secrets worth the name, and masking them would
/// garble every message that happens to contain them.
const MIN_MASKED_LEN: usize = 4;

/// Headers whose values are credentials.
const SECRET_HEADERS: [&str; 5] = ["authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"];

/// A credential. `Debug` shows `Secret(***)`; the memory is zeroed when it is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// Whether a header's value is a credential (case-insensitive name).
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// The secrets in a secret header's value: the value, and the credential after its scheme
/// word (`Bearer <token>`, `Basic <credentials>`).
pub fn header_secrets(value: &str) -> impl Iterator<Item = &str> {
    let credential = value.split_once(' ').map(|(_, c)| c.trim());
    std::iter::once(value).chain(credential)
}

/// The credentials of a URL (`scheme://user:password@host`): the whole user info, and the
/// password alone.
pub fn userinfo_secrets(url: &str) -> Vec<&str> {
    let Some((_, rest)) = url.split_once("://") else { return Vec::new() };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else { return Vec::new() };
    let mut found = vec![userinfo];
    found.extend(userinfo.split_once(':').map(|(_, password)| password));
    found
}

/// `url` with its user info, if any, replaced by `***`, for messages.
pub fn without_userinfo(url: &str) -> Cow<'_, str> {
    match userinfo_secrets(url).first() {
        Some(userinfo) => Cow::Owned(url.replacen(&format!("{userinfo}@"), "***@", 1)),
        None => Cow::Borrowed(url),
    }
}

thread_local! {
    static CURRENT: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Makes `secrets` the ones masked on this thread until the returned guard drops.
pub fn scope(secrets: Vec<String>) -> Scope {
    let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= MIN_MASKED_LEN).collect();
    // Longest first: a secret that contains another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    Scope(CURRENT.with(|c| c.replace(secrets)))
}

pub struct Scope(Vec<String>);

impl Drop for Scope {
    fn drop(&mut self) {
        let mut previous = std::mem::take(&mut self.0);
        CURRENT.with(|c| {
            let mut current = c.borrow_mut();
            for s in current.iter_mut() {
                s.zeroize();
            }
            std::mem::swap(&mut *current, &mut previous);
        });
    }
}

/// `text` with every secret of the current scope replaced by `***`.
pub fn mask(text: &str) -> Cow<'_, str> {
    CURRENT.with(|c| {
        let secrets = c.borrow();
        if !secrets.iter().any(|s| text.contains(s.as_str())) {
            return Cow::Borrowed(text);
        }
        let mut masked = text.to_string();
        for s in secrets.iter() {
            if masked.contains(s.as_str()) {
                masked = masked.replace(s.as_str(), MASK);
            }
        }
        Cow::Owned(masked)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret() {
        assert_eq!(format!("{:?}", Secret::new("sk-123456")), "Secret(***)");
    }

    #[test]
    fn a_scope_masks_its_secrets_and_restores_the_outer_one() {
        let _outer = scope(vec!["outer-secret".into()]);
        {
            let _inner = scope(vec!["sk-abcdef".into(), "sk-abcdef-longer".into(), "abc".into()]);
            assert_eq!(mask("key sk-abcdef-longer and sk-abcdef; abc"), "key *** and ***; abc");
            assert_eq!(mask("outer-secret"), "outer-secret");
        }
        assert_eq!(mask("outer-secret"), "***");
    }

    #[test]
    fn header_and_url_secrets() {
        assert_eq!(header_secrets("Bearer tok-1").collect::<Vec<_>>(), ["Bearer tok-1", "tok-1"]);
        assert_eq!(userinfo_secrets("http://user:pa:ss@proxy:3128/x"), ["user:pa:ss", "pa:ss"]);
        assert_eq!(without_userinfo("http://u:p@h:1/x"), "http://***@h:1/x");
        assert!(userinfo_secrets("http://proxy:3128").is_empty());
        assert!(is_secret_header("X-Api-Key") && !is_secret_header("x-request-id"));
    }
}
