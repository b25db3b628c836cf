//! The environment variables the library reads, captured once when a client is made (the
//! default client: on first use), never on each call. Reading the environment while another
//! thread of the program sets a variable (Go's `os.Setenv`, C's `setenv`) is undefined
//! behaviour in C, and calls run on many threads at once.

use std::collections::HashMap;
use std::sync::Arc;

use crate::aws::{self, AwsConfig};

/// The proxy variables, as curl reads them. `HTTP_PROXY` in upper case is left out of a CGI
/// program's capture (`REQUEST_METHOD` set), where a client's `Proxy:` header arrives as
/// `HTTP_PROXY` ("httpoxy").
const PROXY_VARIABLES: [&str; 8] =
    ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"];

/// `Debug` shows the variables' names only: the values hold keys and proxy passwords.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: HashMap<String, String>,
    /// What the AWS variables and the shared files they name said, read with the variables.
    aws: Arc<AwsConfig>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_tuple("Env").field(&names).finish()
    }
}

impl Env {
    /// The process's proxy variables, the AWS ones (`aws::VARIABLES`, with the shared config
    /// and credentials files they name) and the `protocol_variables` (the protocols' base URLs
    /// and keys).
    pub fn capture<'a>(protocol_variables: impl IntoIterator<Item = &'a str>) -> Env {
        let names = protocol_variables
            .into_iter()
            .chain(PROXY_VARIABLES)
            .chain(["REQUEST_METHOD"])
            .chain(aws::VARIABLES.iter().copied());
        Env::from_pairs(names.filter_map(|name| std::env::var(name).ok().map(|value| (name, value))))
    }

    /// An environment made of these pairs (tests, and callers that want none). The AWS
    /// configuration is read from them too, and from the files they name (none without `HOME`
    /// or `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Env {
        let mut vars: HashMap<String, String> = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        if vars.contains_key("REQUEST_METHOD") {
            vars.remove("HTTP_PROXY");
        }
        let aws = Arc::new(AwsConfig::capture(&|name| vars.get(name).cloned()));
        Env { vars, aws }
    }

    /// A variable's value; an empty one counts as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The AWS region and credentials, as the variables and shared files said when this
    /// environment was captured.
    pub fn aws(&self) -> &AwsConfig {
        &self.aws
    }

    /// The same, shared (a resolved call keeps it).
    pub fn aws_shared(&self) -> Arc<AwsConfig> {
        self.aws.clone()
    }

    /// The proxy for a request to `url`, chosen as curl does: `http_proxy` (or `HTTP_PROXY`)
    /// for `http://`, `https_proxy` (or `HTTPS_PROXY`) for `https://`, else `all_proxy` (or
    /// `ALL_PROXY`); none when the host is on `no_proxy` (or `NO_PROXY`).
    pub fn proxy_for(&self, url: &str) -> Option<&str> {
        let uri: ureq::http::Uri = url.parse().ok()?;
        let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
        let no_proxy = self.get("no_proxy").or_else(|| self.get("NO_PROXY")).unwrap_or("");
        if no_proxy.split(',').map(str::trim).any(|entry| bypasses(entry, host)) {
            return None;
        }
        let (lower, upper) = match uri.scheme_str() {
            Some("https") => ("https_proxy", "HTTPS_PROXY"),
            _ => ("http_proxy", "HTTP_PROXY"),
        };
        [lower, upper, "all_proxy", "ALL_PROXY"].into_iter().find_map(|name| self.get(name))
    }
}

/// Whether a `no_proxy` entry covers `host`: `*`, the host itself, or a domain it is in
/// (`example.com` and `.example.com` both cover `api.example.com`). Ports in entries are
/// ignored.
fn bypasses(entry: &str, host: &str) -> bool {
    let entry = entry.trim_start_matches('.');
    let entry = match entry.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => entry,
    };
    let entry = entry.trim_start_matches('[').trim_end_matches(']');
    if entry.is_empty() {
        return false;
    }
    entry == "*"
        || host.eq_ignore_ascii_case(entry)
        || (host.len() > entry.len()
            && host[host.len() - entry.len()..].eq_ignore_ascii_case(entry)
            && host.as_bytes()[host.len() - entry.len() - 1] == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (*k, v.to_string())))
    }

    #[test]
    fn the_proxy_variable_follows_the_scheme() {
        let e = env(&[("http_proxy", "http://p1:1"), ("HTTPS_PROXY", "http://p2:2"), ("ALL_PROXY", "http://p3:3")]);
        assert_eq!(e.proxy_for("http://api.example/v1"), Some("http://p1:1"));
        assert_eq!(e.proxy_for("https://api.example/v1"), Some("http://p2:2"));
        let all = env(&[("ALL_PROXY", "socks5://p3:3")]);
        assert_eq!(all.proxy_for("https://x"), Some("socks5://p3:3"));
        assert_eq!(env(&[]).proxy_for("https://x"), None);
        assert_eq!(env(&[("http_proxy", "")]).proxy_for("http://x"), None, "empty is unset");
    }

    #[test]
    fn upper_case_http_proxy_is_ignored_in_a_cgi_program() {
        let plain = env(&[("HTTP_PROXY", "http://evil:1")]);
        assert_eq!(plain.proxy_for("http://api.example"), Some("http://evil:1"));
        let cgi = env(&[("HTTP_PROXY", "http://evil:1"), ("REQUEST_METHOD", "GET")]);
        assert_eq!(cgi.proxy_for("http://api.example"), None);
        let cgi_lower = env(&[("http_proxy", "http://ok:1"), ("REQUEST_METHOD", "GET")]);
        assert_eq!(cgi_lower.proxy_for("http://api.example"), Some("http://ok:1"));
    }

    #[test]
    fn the_aws_configuration_is_read_with_the_variables() {
        let dir = std::env::temp_dir().join(format!("aichat-env-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join(".aws")).unwrap();
        std::fs::write(dir.join(".aws/config"), "[profile dev]\nregion = eu-north-1\n").unwrap();
        let home = dir.to_str().unwrap();
        let e = env(&[
            ("HOME", home),
            ("AWS_PROFILE", "dev"),
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "sk"),
        ]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(e.aws().region(), Some("eu-north-1"), "read when the environment was made, not later");
        assert_eq!(e.aws().credentials().map(|c| c.access_key_id.as_str()), Some("AKIDENV"));
        assert_eq!(e.aws().credentials_source(), Some("environment"));
        let shown = format!("{e:?}");
        assert!(!shown.contains("sk\"") && !shown.contains("AKIDENV") && !shown.contains("eu-north-1"), "{shown}");
        assert_eq!(e.clone(), e);
        assert_ne!(env(&[("AWS_REGION", "a")]), env(&[("AWS_REGION", "b")]));
        assert_eq!(Env::default().aws().region(), None);
    }

    #[test]
    fn no_proxy_covers_hosts_and_their_subdomains() {
        let e = env(&[("https_proxy", "http://p:1"), ("NO_PROXY", "localhost, .internal.example,10.0.0.1:8080")]);
        assert_eq!(e.proxy_for("https://localhost:8080"), None);
        assert_eq!(e.proxy_for("https://a.internal.example"), None);
        assert_eq!(e.proxy_for("https://internal.example"), None);
        assert_eq!(e.proxy_for("https://10.0.0.1"), None);
        assert_eq!(e.proxy_for("https://notinternal.example"), Some("http://p:1"));
        assert_eq!(env(&[("https_proxy", "http://p:1"), ("no_proxy", "*")]).proxy_for("https://x"), None);
    }
}
