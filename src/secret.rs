//! Credentials: the API key, every value of the caller's `headers`, proxy passwords. A
//! [`Secret`] is never printed by `Debug` and is wiped from memory when dropped. While a call
//! runs, its secrets are masked out of every text that becomes part of an error message
//! ([`mask`]), before the text is cut to length, so that not even the start of a secret a server
//! quoted back survives.
//!
//! Which occurrences are masked ([`mask_in`]): a secret of `ANYWHERE_LEN` bytes or more wherever
//! it appears (no word that long turns up by chance, and a server may quote a key inside a
//! longer token, URL-encoded for one); a shorter one, of at least `MIN_MASKED_LEN` bytes, only
//! as a whole token: not where a letter or digit right before or after it would continue it, so
//! a key `roke` leaves "the connection broke" whole (a key that is itself a word is masked where
//! that word stands alone); one shorter than that never.

use std::borrow::Cow;
use std::cell::RefCell;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroize;

/// What a masked secret becomes in a message.
pub const MASK: &str = "***";

/// Shorter values are not masked: they are not secrets worth the name, and masking them would
/// garble every message that happens to contain them.
const MIN_MASKED_LEN: usize = 4;

/// Secrets at least this long are masked wherever they occur; shorter ones only as whole tokens.
const ANYWHERE_LEN: usize = 16;

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

/// The secrets in a header's value (every header a caller sets is taken for a credential: a
/// list of names would miss `x-goog-api-key`, `X-Auth-Token` and the next one): the value, and
/// what follows its first word (`Bearer <token>`, `Basic <credentials>`).
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

/// `secrets` as [`mask_in`] takes them: those long enough to mask, longest first (a secret that
/// contains another is masked whole), each once.
pub fn maskable(secrets: Vec<String>) -> Vec<String> {
    let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= MIN_MASKED_LEN).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

/// Makes `secrets` the ones masked on this thread until the returned guard drops.
pub fn scope(secrets: Vec<String>) -> Scope {
    Scope(CURRENT.with(|c| c.replace(maskable(secrets))))
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
    CURRENT.with(|c| mask_in(text, &c.borrow()))
}

/// `text` with the occurrences of `secrets` (from [`maskable`]) replaced by `***`, by the rule
/// in the module's documentation.
pub fn mask_in<'t>(text: &'t str, secrets: &[String]) -> Cow<'t, str> {
    let mut masked = Cow::Borrowed(text);
    for secret in secrets {
        if let Some(replaced) = replace_occurrences(&masked, secret) {
            masked = Cow::Owned(replaced);
        }
    }
    masked
}

/// `text` with the occurrences of `secret` that count replaced, or `None` when none does.
fn replace_occurrences(text: &str, secret: &str) -> Option<String> {
    let anywhere = secret.len() >= ANYWHERE_LEN;
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let (first, last) = (secret.chars().next(), secret.chars().next_back());
    let mut out: Option<String> = None;
    let mut copied = 0;
    for (at, _) in text.match_indices(secret) {
        let end = at + secret.len();
        let continues_before = word(first) && word(text[..at].chars().next_back());
        let continues_after = word(last) && word(text[end..].chars().next());
        if anywhere || !(continues_before || continues_after) {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..at]);
            out.push_str(MASK);
            copied = end;
        }
    }
    let mut out = out?;
    out.push_str(&text[copied..]);
    Some(out)
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
    }

    #[test]
    fn short_secrets_are_masked_as_whole_tokens_long_ones_anywhere() {
        let secrets = maskable(vec!["k".into(), "roke".into(), "sk-0123456789abcdef".into(), "-ab-".into()]);
        let mask = |text| mask_in(text, &secrets).into_owned();
        assert_eq!(mask("the connection broke"), "the connection broke");
        assert_eq!(mask("roke, roke. (roke) 'roke' roke"), "***, ***. (***) '***' ***");
        assert_eq!(mask("rokes xroke roke_x"), "rokes xroke ***_x");
        assert_eq!(mask("%20sk-0123456789abcdefx"), "%20***x");
        assert_eq!(mask("x-ab-y"), "x***y", "edges that are not letters or digits join nothing");
        assert_eq!(mask("k"), "k");
    }
}
