//! Idle keep-alive connections, by where they lead, shared by every loop (the I/O thread's and
//! each pushing thread's own): a connection a call finished with can carry the next call to the
//! same place, whichever loop runs it. An idle connection belongs to no loop (it is watched by
//! none): whether the server closed it is asked when it is taken (one peek), and one found
//! closed, or older than `MAX_IDLE`, is dropped then. A request that still meets a connection
//! the server closed is sent once more on a fresh one (see `task`). A client's connections go
//! when the client does.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use super::conn::Conn;

/// How long an idle connection is kept (ureq's and many servers' keep-alive defaults are 15 s
/// or more; a shorter wait than the server's avoids racing its close).
const MAX_IDLE: Duration = Duration::from_secs(15);
/// Idle connections kept per destination, and in all.
const MAX_PER_KEY: usize = 16;
const MAX_TOTAL: usize = 256;

/// Which requests may share a connection: the client (each client has its own pool), the
/// scheme and authority, the proxy, and the TLS trust choice. (No `Debug`: the origin names
/// the proxy, password included.)
#[derive(Clone)]
pub(crate) struct PoolKey {
    pub(crate) client: Arc<ClientId>,
    pub(crate) origin: String,
}

impl PartialEq for PoolKey {
    fn eq(&self, other: &PoolKey) -> bool {
        self.client.id == other.client.id && self.origin == other.origin
    }
}

impl Eq for PoolKey {}

impl Hash for PoolKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.client.id.hash(state);
        self.origin.hash(state);
    }
}

/// A client, as its connections know it: once it is gone, a connection that finishes a call
/// for it (one drained after its caller left, say) is closed, not pooled.
#[derive(Debug, Default)]
pub(crate) struct ClientId {
    pub(crate) id: u64,
    gone: AtomicBool,
}

impl ClientId {
    pub(crate) fn new(id: u64) -> ClientId {
        ClientId { id, gone: AtomicBool::new(false) }
    }
}

#[derive(Default)]
struct Pool {
    idle: HashMap<PoolKey, Vec<(Conn, Instant)>>,
    total: usize,
}

static POOL: LazyLock<Mutex<Pool>> = LazyLock::new(Mutex::default);

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The most recently parked connection for `key` that is still open and fresh.
pub(crate) fn take(key: &PoolKey) -> Option<Conn> {
    let mut dropped = Vec::new();
    let taken = {
        let mut pool = pool();
        let mut taken = None;
        if let Some(conns) = pool.idle.get_mut(key) {
            while let Some((mut conn, since)) = conns.pop() {
                if since.elapsed() < MAX_IDLE && conn.is_open() {
                    taken = Some(conn);
                    break;
                }
                dropped.push(conn);
            }
            if conns.is_empty() {
                pool.idle.remove(key);
            }
        }
        pool.total -= dropped.len() + usize::from(taken.is_some());
        taken
    };
    drop(dropped); // closed outside the lock
    taken
}

/// Keeps `conn` (which no loop watches any more) for the next call to `key`.
pub(crate) fn put(key: PoolKey, conn: Conn) {
    let mut evicted = Vec::new();
    {
        let mut pool = pool();
        // Under the pool's lock, as `client_gone` sets it: no connection slips in after.
        if key.client.gone.load(Ordering::Acquire) {
            drop(pool);
            drop(conn);
            return;
        }
        let now = Instant::now();
        let conns = pool.idle.entry(key).or_default();
        conns.push((conn, now));
        if conns.len() > MAX_PER_KEY {
            evicted.push(conns.remove(0));
        }
        pool.total += 1;
        if pool.total > MAX_TOTAL {
            // Many destinations at once: the stale ones go first, then the oldest of the
            // largest group.
            for conns in pool.idle.values_mut() {
                let (stale, fresh): (Vec<_>, Vec<_>) =
                    std::mem::take(conns).into_iter().partition(|(_, since)| now.duration_since(*since) >= MAX_IDLE);
                evicted.extend(stale);
                *conns = fresh;
            }
            let total: usize = pool.idle.values().map(Vec::len).sum();
            if total > MAX_TOTAL {
                if let Some(conns) = pool.idle.values_mut().max_by_key(|c| c.len()) {
                    evicted.push(conns.remove(0));
                }
            }
            pool.idle.retain(|_, c| !c.is_empty());
        }
        pool.total = pool.idle.values().map(Vec::len).sum();
    }
    drop(evicted); // closed outside the lock
}

/// The client went away: its idle connections are closed, and so is any that finishes a call
/// for it later.
pub(crate) fn client_gone(client: &ClientId) {
    let removed: Vec<Vec<(Conn, Instant)>> = {
        let mut pool = pool();
        client.gone.store(true, Ordering::Release);
        let keys: Vec<PoolKey> = pool.idle.keys().filter(|k| k.client.id == client.id).cloned().collect();
        let removed: Vec<_> = keys.iter().filter_map(|k| pool.idle.remove(k)).collect();
        pool.total -= removed.iter().map(Vec::len).sum::<usize>();
        removed
    };
    drop(removed);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connected pair of sockets: ours (as a `Conn`) and the peer's.
    fn conn() -> (Conn, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (peer, _) = listener.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        (Conn::new(mio::net::TcpStream::from_std(ours)), peer)
    }

    fn key(client: u64) -> PoolKey {
        let origin = format!("test-{client}-{:?}", std::thread::current().id());
        PoolKey { client: Arc::new(ClientId::new(client)), origin }
    }

    #[test]
    fn a_connection_comes_back_for_its_own_client_only() {
        let (c, _peer) = conn();
        put(key(1001), c);
        assert!(take(&key(1002)).is_none(), "another client's pool");
        assert!(take(&key(1001)).is_some());
        assert!(take(&key(1001)).is_none(), "taken once");
    }

    #[test]
    fn a_connection_the_peer_closed_is_dropped_when_taken() {
        let (c, peer) = conn();
        put(key(1003), c);
        drop(peer);
        std::thread::sleep(Duration::from_millis(50));
        assert!(take(&key(1003)).is_none());
    }

    #[test]
    fn a_client_leaving_closes_its_connections() {
        let (c, mut peer) = conn();
        let k = key(1004);
        put(k.clone(), c);
        client_gone(&k.client);
        use std::io::Read;
        peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(peer.read(&mut [0u8; 1]).unwrap(), 0, "the peer sees the close");
        assert!(take(&key(1004)).is_none());
        let (c, mut peer) = conn();
        put(k.clone(), c);
        assert_eq!(peer.read(&mut [0u8; 1]).unwrap(), 0, "one that comes back later is closed too");
    }
}
