//! Name resolution with a short-lived cache. ureq resolves the host before every request, even
//! one that reuses a pooled connection, and does it on a new thread whenever a timeout applies:
//! a thread per request. Like libcurl, keep answers for a minute; IP literals need no lookup.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;
use ureq::unversioned::transport::time::Duration as UreqDuration;

/// How long an answer is kept (libcurl's default DNS cache timeout).
const TTL: Duration = Duration::from_secs(60);
/// Names kept at most; past that the cache starts over.
const MAX_ENTRIES: usize = 256;

#[derive(Debug, Default)]
pub struct CachingResolver {
    inner: DefaultResolver,
    cache: Mutex<HashMap<String, (Instant, ResolvedSocketAddrs)>>,
}

impl Resolver for CachingResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!("{:?} {:?} {:?}", uri.scheme_str(), uri.authority(), config.ip_family());
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, addrs)) = cache.get(&key) {
            if at.elapsed() < TTL {
                return Ok(addrs.clone());
            }
        }
        drop(cache);
        let host = uri.host().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
        // An IP literal resolves at once: no lookup thread, no timeout to enforce.
        let timeout = if host.parse::<IpAddr>().is_ok() {
            NextTimeout { after: UreqDuration::NotHappening, ..timeout }
        } else {
            timeout
        };
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}
