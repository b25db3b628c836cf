//! Idle keep-alive connections, by where they lead. An idle connection stays registered with
//! the poller: if the server closes it (or sends anything) it is dropped at once, so a request
//! rarely meets a connection the server already closed. One that does is retried on a fresh
//! connection (see `task`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::Key;
use super::conn::Conn;

/// How long an idle connection is kept (ureq's and many servers' keep-alive defaults are 15 s
/// or more; a shorter wait than the server's avoids racing its close).
const MAX_IDLE: Duration = Duration::from_secs(15);
/// Idle connections kept per destination, and in all.
const MAX_PER_KEY: usize = 16;
const MAX_TOTAL: usize = 256;

/// Which requests may share a connection: the client (each client has its own pool), the
/// scheme and authority, the proxy, and the TLS trust choice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    pub(crate) client: u64,
    pub(crate) origin: String,
}

#[derive(Default)]
pub(crate) struct Pool {
    idle: HashMap<PoolKey, Vec<Key>>,
    total: usize,
}

impl Pool {
    /// The most recently parked connection for `key`.
    pub(crate) fn take(&mut self, key: &PoolKey) -> Option<Key> {
        let keys = self.idle.get_mut(key)?;
        let taken = keys.pop();
        if keys.is_empty() {
            self.idle.remove(key);
        }
        if taken.is_some() {
            self.total -= 1;
        }
        taken
    }

    /// Adds a parked connection; returns those evicted to stay within the limits.
    pub(crate) fn add(&mut self, key: PoolKey, slot: Key) -> Vec<Key> {
        let mut evicted = Vec::new();
        let keys = self.idle.entry(key).or_default();
        keys.push(slot);
        self.total += 1;
        if keys.len() > MAX_PER_KEY {
            evicted.push(keys.remove(0));
            self.total -= 1;
        }
        if self.total > MAX_TOTAL {
            // Rare: many destinations at once. Drop the oldest of the largest group.
            if let Some(keys) = self.idle.values_mut().max_by_key(|k| k.len()) {
                evicted.push(keys.remove(0));
                self.total -= 1;
            }
            self.idle.retain(|_, k| !k.is_empty());
        }
        evicted
    }

    /// Forgets a connection that closed or expired.
    pub(crate) fn forget(&mut self, slot: Key) {
        for keys in self.idle.values_mut() {
            if let Some(i) = keys.iter().position(|k| *k == slot) {
                keys.remove(i);
                self.total -= 1;
                break;
            }
        }
        self.idle.retain(|_, k| !k.is_empty());
    }

    /// Forgets every connection of `client`; returns them, to be closed.
    pub(crate) fn remove_client(&mut self, client: u64) -> Vec<Key> {
        let mut removed = Vec::new();
        self.idle.retain(|key, keys| {
            if key.client == client {
                removed.append(keys);
                false
            } else {
                true
            }
        });
        self.total -= removed.len();
        removed
    }
}

/// A parked connection.
pub(crate) struct Idle {
    conn: Conn,
    since: Instant,
}

impl Idle {
    pub(crate) fn new(conn: Conn, _key: PoolKey) -> Idle {
        Idle { conn, since: Instant::now() }
    }

    pub(crate) fn expires(&self) -> Instant {
        self.since + MAX_IDLE
    }

    pub(crate) fn expired(&self, now: Instant) -> bool {
        now >= self.expires()
    }

    pub(crate) fn into_conn(self) -> Conn {
        self.conn
    }

    pub(crate) fn close(mut self, registry: &mio::Registry) {
        self.conn.close(registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(client: u64, origin: &str) -> PoolKey {
        PoolKey { client, origin: origin.into() }
    }

    #[test]
    fn takes_the_newest_and_evicts_the_oldest() {
        let mut pool = Pool::default();
        let k = key(1, "http://a");
        for i in 0..(MAX_PER_KEY as u32 + 1) {
            let evicted = pool.add(k.clone(), Key { index: i, generation: 0 });
            assert_eq!(evicted.len(), usize::from(i as usize == MAX_PER_KEY));
        }
        assert_eq!(pool.take(&k), Some(Key { index: MAX_PER_KEY as u32, generation: 0 }));
        assert_eq!(pool.take(&key(2, "http://a")), None, "another client's pool");
    }

    #[test]
    fn a_client_leaving_takes_its_connections() {
        let mut pool = Pool::default();
        pool.add(key(1, "http://a"), Key { index: 0, generation: 0 });
        pool.add(key(2, "http://a"), Key { index: 1, generation: 0 });
        assert_eq!(pool.remove_client(1), vec![Key { index: 0, generation: 0 }]);
        assert_eq!(pool.total, 1);
        pool.forget(Key { index: 1, generation: 0 });
        assert_eq!(pool.total, 0);
        assert!(pool.idle.is_empty());
    }
}
