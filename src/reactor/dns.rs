//! The reactor's blocking work, on a small bounded pool: name lookups through the system's
//! resolver (`getaddrinfo` has no non-blocking form), with a short cache, and SOCKS handshakes.
//! At most [`MAX_THREADS`] threads, made when work arrives and gone after a minute idle. A
//! job's answer goes back to the reactor as a command; a call cancelled meanwhile has already
//! failed, and the late answer is dropped there.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::Command;
use super::exchange::Exchange;
use super::socks::Socks;
use crate::error::{Error, ErrorKind};

/// Most threads doing blocking lookups at once.
pub(crate) const MAX_THREADS: usize = 4;
/// How long a pool thread waits for work before it exits.
const IDLE_EXIT: Duration = Duration::from_secs(60);
/// How long an answer is kept (libcurl's default DNS cache timeout).
const TTL: Duration = Duration::from_secs(60);
/// Names kept at most; past that the cache starts over.
const MAX_ENTRIES: usize = 256;

pub(crate) enum Job {
    Resolve { host: String, port: u16, ex: Arc<Exchange> },
    Socks { socks: Socks, ex: Arc<Exchange> },
}

#[derive(Default)]
struct Jobs {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

/// Answers by (host, port), with when they were looked up.
type Cache = HashMap<(String, u16), (Instant, Vec<SocketAddr>)>;

struct Pool {
    jobs: Mutex<Jobs>,
    arrived: Condvar,
    cache: Mutex<Cache>,
}

static POOL: std::sync::LazyLock<Pool> = std::sync::LazyLock::new(|| Pool {
    jobs: Mutex::new(Jobs::default()),
    arrived: Condvar::new(),
    cache: Mutex::new(HashMap::new()),
});

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The addresses of `host` at once when no lookup is needed (an IP literal) or the cache has
/// them; `None`: submit a lookup.
pub(crate) fn cached(host: &str, port: u16) -> Option<Vec<SocketAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Some(vec![SocketAddr::new(ip, port)]);
    }
    let cache = lock(&POOL.cache);
    match cache.get(&(host.to_string(), port)) {
        Some((at, addrs)) if at.elapsed() < TTL => Some(addrs.clone()),
        _ => None,
    }
}

/// Queues `job` for the pool.
pub(crate) fn submit(job: Job) -> Result<(), Error> {
    let mut jobs = lock(&POOL.jobs);
    jobs.queue.push_back(job);
    if jobs.idle > 0 {
        drop(jobs);
        POOL.arrived.notify_one();
        return Ok(());
    }
    if jobs.threads < MAX_THREADS {
        jobs.threads += 1;
        // An explicit stack size: starting the thread then reads no environment variable.
        let spawned = std::thread::Builder::new().name("aichat-dns".into()).stack_size(256 * 1024).spawn(work);
        if let Err(e) = spawned {
            jobs.threads -= 1;
            if jobs.threads == 0 {
                jobs.queue.pop_back();
                return Err(Error::new(ErrorKind::Io, format!("could not start a lookup thread: {e}")));
            }
        }
    }
    Ok(())
}

fn work() {
    crate::quiet::library_thread();
    loop {
        let job = {
            let mut jobs = lock(&POOL.jobs);
            loop {
                if let Some(job) = jobs.queue.pop_front() {
                    break job;
                }
                jobs.idle += 1;
                let (guard, waited) = POOL.arrived.wait_timeout(jobs, IDLE_EXIT).unwrap_or_else(|e| e.into_inner());
                jobs = guard;
                jobs.idle -= 1;
                if waited.timed_out() && jobs.queue.is_empty() {
                    jobs.threads -= 1;
                    return;
                }
            }
        };
        match job {
            Job::Resolve { host, port, ex } => {
                let result = resolve(&host, port);
                ex.clone().post(Command::Resolved(ex, result));
            }
            Job::Socks { socks, ex } => {
                let result = socks.connect();
                ex.clone().post(Command::Tunnelled(ex, result));
            }
        }
    }
}

/// Looks `host` up (blocking) and caches the answer.
pub(crate) fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, Error> {
    if let Some(addrs) = cached(host, port) {
        return Ok(addrs);
    }
    let not_found = || Error::new(ErrorKind::Connect, format!("host not found: {host}:{port}"));
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs().map_err(|_| not_found())?.collect();
    if addrs.is_empty() {
        return Err(not_found());
    }
    let mut cache = lock(&POOL.cache);
    if cache.len() >= MAX_ENTRIES {
        cache.clear();
    }
    cache.insert((host.to_string(), port), (Instant::now(), addrs.clone()));
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_need_no_lookup() {
        assert_eq!(cached("127.0.0.1", 8), Some(vec!["127.0.0.1:8".parse().unwrap()]));
        assert_eq!(cached("[::1]", 9), Some(vec!["[::1]:9".parse().unwrap()]));
    }

    #[test]
    fn an_unknown_host_is_a_connect_error_naming_it() {
        let e = resolve("no-such-host.invalid", 80).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Connect);
        assert_eq!(e.message(), "host not found: no-such-host.invalid:80");
    }
}
