//! Fault-injecting TCP relays for the soak (issue #15): every process of the soak is
//! reached only through its own relay (a listener on 127.0.0.1 that the test owns), so
//! the test can cut the link between two chosen processes, split them into groups, or
//! slow one process's links down, while kills and pauses keep working (a restarted
//! process keeps its relay and its relay port).
//!
//! Who is connecting is read from the kernel, not from the bytes: on accept, the
//! peer's ephemeral port and the relay port give the connecting socket's inode in
//! `/proc/net/tcp`, and the process holding that inode among the soak's known pids
//! (`/proc/<pid>/fd`) is the source. This works from the first byte, for every
//! protocol (a replica's `PING` before its `REPLCONF`, a sentinel's `CLIENT SETNAME`,
//! redis-sentinel and rsentinel alike), and across restarts (the pid table is updated).
//! A connection from any other process (the test's own Sentinel-aware client) is
//! [`Peer::Client`].
//!
//! A cut link behaves like a black hole, not like a refused connection: new
//! connections are accepted and their bytes read and dropped, established ones stop
//! forwarding (in both directions) and drop what they read; on healing, every
//! connection that was black-holed is closed, so both ends reconnect to a clean stream.
//! Latency delays every chunk by the larger delay of its two ends, in order.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// A process of the soak, as a source or a target of links.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub enum Peer {
    Data(usize),
    Sentinel(usize),
    /// The test process (its writer) and anything unidentified.
    Client,
}

#[derive(Default)]
struct State {
    /// Cut links, as (min, max) pairs.
    cuts: BTreeSet<(Peer, Peer)>,
    /// Added one-way latency of every link touching the peer.
    slow: BTreeMap<Peer, Duration>,
    /// Live pid of each peer process.
    pids: BTreeMap<Peer, i32>,
    /// Real port of each peer process (what its relay forwards to).
    targets: BTreeMap<Peer, u16>,
}

fn pair(a: Peer, b: Peer) -> (Peer, Peer) {
    if a <= b { (a, b) } else { (b, a) }
}

impl State {
    fn cut(&self, a: Peer, b: Peer) -> bool {
        self.cuts.contains(&pair(a, b))
    }

    fn delay(&self, a: Peer, b: Peer) -> Duration {
        let d = |p| self.slow.get(&p).copied().unwrap_or_default();
        d(a).max(d(b))
    }
}

/// Counters of what the relays saw: accepted connections by (source, target), and how
/// many were black-holed.
#[derive(Default)]
pub struct Stats {
    pub accepted: Mutex<BTreeMap<(Peer, Peer), u64>>,
    pub blackholed: AtomicU64,
    /// Connections whose owner was never found among the known pids (counted as
    /// clients): a sentinel or a node among them would escape partitions.
    pub unidentified: AtomicU64,
}

/// The relays of one soak run, on their own small runtime.
pub struct Net {
    rt: Option<tokio::runtime::Runtime>,
    state: Arc<Mutex<State>>,
    changed: watch::Sender<u64>,
    relays: BTreeMap<Peer, u16>,
    pub stats: Arc<Stats>,
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl Net {
    pub fn new() -> Net {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("relay runtime");
        Net {
            rt: Some(rt),
            state: Arc::default(),
            changed: watch::channel(0).0,
            relays: BTreeMap::new(),
            stats: Arc::default(),
        }
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        self.rt.as_ref().expect("runtime")
    }

    /// Open the relay in front of `target` on a free port below 32768 (retrying when
    /// the port is taken meanwhile); it forwards once [`Net::attach`] names the process.
    pub fn relay(&mut self, target: Peer) -> u16 {
        let listener = (0..50)
            .find_map(|_| {
                let port = crate::harness::free_port();
                let l = std::net::TcpListener::bind(("127.0.0.1", port)).ok()?;
                l.set_nonblocking(true).ok()?;
                Some(l)
            })
            .expect("no free port for a relay");
        let port = listener.local_addr().expect("addr").port();
        let (state, stats, rx) = (
            self.state.clone(),
            self.stats.clone(),
            self.changed.subscribe(),
        );
        self.rt().spawn(async move {
            let listener = TcpListener::from_std(listener).expect("tokio listener");
            loop {
                let Ok((sock, peer)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let (state, stats, rx) = (state.clone(), stats.clone(), rx.clone());
                tokio::spawn(relay_conn(
                    sock,
                    peer.port(),
                    port,
                    target,
                    state,
                    stats,
                    rx,
                ));
            }
        });
        self.relays.insert(target, port);
        port
    }

    /// `peer` now runs as `pid`, listening on `port` (after a start or a restart).
    pub fn attach(&self, peer: Peer, port: u16, pid: i32) {
        let mut st = self.state.lock().unwrap();
        st.pids.insert(peer, pid);
        st.targets.insert(peer, port);
    }

    pub fn relay_port(&self, peer: Peer) -> u16 {
        self.relays[&peer]
    }

    /// The peer whose relay listens on `port`.
    pub fn peer_at(&self, port: u16) -> Option<Peer> {
        self.relays
            .iter()
            .find(|&(_, &p)| p == port)
            .map(|(&peer, _)| peer)
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap());
        self.changed.send_modify(|g| *g += 1);
    }

    /// Cut every link between two different groups (replacing any earlier cut).
    /// Peers in no group keep all their links.
    pub fn partition(&self, groups: &[Vec<Peer>]) {
        self.update(|st| {
            st.cuts.clear();
            for (i, g) in groups.iter().enumerate() {
                for h in &groups[i + 1..] {
                    for &a in g {
                        for &b in h {
                            st.cuts.insert(pair(a, b));
                        }
                    }
                }
            }
        });
    }

    pub fn heal(&self) {
        self.update(|st| st.cuts.clear());
    }

    pub fn is_cut(&self, a: Peer, b: Peer) -> bool {
        self.state.lock().unwrap().cut(a, b)
    }

    /// Add `delay` to every link touching `peer` (`None` removes it).
    pub fn slow(&self, peer: Peer, delay: Option<Duration>) {
        self.update(|st| match delay {
            Some(d) => {
                st.slow.insert(peer, d);
            }
            None => {
                st.slow.remove(&peer);
            }
        });
    }

    pub fn clear_slow(&self) {
        self.update(|st| st.slow.clear());
    }
}

/// The process (among `pids`) that owns the socket connected from 127.0.0.1:`from` to
/// 127.0.0.1:`to`: `Some(Peer::Client)` when the socket is gone or the test's own,
/// `None` when its owner is not (yet) in `pids`.
fn identify(from: u16, to: u16, pids: &BTreeMap<Peer, i32>) -> Option<Peer> {
    let local = format!("0100007F:{from:04X}");
    let remote = format!("0100007F:{to:04X}");
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    // A closed socket's entry (TIME_WAIT, FIN_WAIT...) has inode 0 and may share the
    // addresses of the live one on loopback: look for the live one only. None: gone
    // or already closed by its owner, nothing left to cut.
    let inode = tcp.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() > 9 && f[1] == local && f[2] == remote && f[9] != "0").then(|| f[9].to_string())
    });
    let Some(inode) = inode else {
        return Some(Peer::Client);
    };
    let needle = format!("socket:[{inode}]");
    let me = std::process::id() as i32;
    for (peer, pid) in pids.iter().chain([(&Peer::Client, &me)]) {
        let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for e in dir.flatten() {
            if std::fs::read_link(e.path()).is_ok_and(|l| l.as_os_str() == needle.as_str()) {
                return Some(*peer);
            }
        }
    }
    None
}

async fn relay_conn(
    sock: TcpStream,
    from: u16,
    to: u16,
    dst: Peer,
    state: Arc<Mutex<State>>,
    stats: Arc<Stats>,
    mut rx: watch::Receiver<u64>,
) {
    let _ = sock.set_nodelay(true);
    rx.borrow_and_update();
    // A process that was just (re)started may connect before the test learns its pid:
    // ask again for a while before calling the source a client.
    let deadline = Instant::now() + Duration::from_secs(3);
    let src = loop {
        let pids = state.lock().unwrap().pids.clone();
        let found = tokio::task::spawn_blocking(move || identify(from, to, &pids))
            .await
            .unwrap_or(Some(Peer::Client));
        match found {
            Some(p) => break p,
            None if Instant::now() >= deadline => {
                stats.unidentified.fetch_add(1, Ordering::Relaxed);
                if std::env::var_os("SOAK_VERBOSE").is_some() {
                    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
                    let local = format!("0100007F:{from:04X}");
                    let line: Vec<&str> = tcp.lines().filter(|l| l.contains(&local)).collect();
                    let pids = state.lock().unwrap().pids.clone();
                    eprintln!(
                        "relay {dst:?}: source of :{from} not found ({line:?}); pids {pids:?}"
                    );
                }
                break Peer::Client;
            }
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    *stats
        .accepted
        .lock()
        .unwrap()
        .entry((src, dst))
        .or_default() += 1;
    let (cut, target) = {
        let st = state.lock().unwrap();
        (st.cut(src, dst), st.targets.get(&dst).copied())
    };
    if cut {
        stats.blackholed.fetch_add(1, Ordering::Relaxed);
        return blackhole(sock, src, dst, &state, rx).await;
    }
    let Some(target) = target else { return };
    let up = match tokio::time::timeout(
        Duration::from_secs(2),
        TcpStream::connect(("127.0.0.1", target)),
    )
    .await
    {
        Ok(Ok(up)) => up,
        // Dead target: the source sees its connection closed, as with a refused one.
        _ => return,
    };
    let _ = up.set_nodelay(true);
    let blocked = Arc::new(AtomicBool::new(false));
    let (sr, sw) = sock.into_split();
    let (ur, uw) = up.into_split();
    let mut a = tokio::spawn(pump(sr, uw, src, dst, state.clone(), blocked.clone()));
    let mut b = tokio::spawn(pump(ur, sw, src, dst, state.clone(), blocked.clone()));
    loop {
        tokio::select! {
            _ = &mut a => break,
            _ = &mut b => break,
            r = rx.changed() => {
                if r.is_err() {
                    break;
                }
                if state.lock().unwrap().cut(src, dst) {
                    if !blocked.swap(true, Ordering::SeqCst) {
                        stats.blackholed.fetch_add(1, Ordering::Relaxed);
                    }
                } else if blocked.load(Ordering::SeqCst) {
                    break; // healed: the black-holed stream is dead, close both ends
                }
            }
        }
    }
    a.abort();
    b.abort();
}

/// Read and drop until the source closes or the link heals (then close).
async fn blackhole(
    mut sock: TcpStream,
    src: Peer,
    dst: Peer,
    state: &Mutex<State>,
    mut rx: watch::Receiver<u64>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            r = sock.read(&mut buf) => {
                if matches!(r, Ok(0) | Err(_)) {
                    return;
                }
            }
            r = rx.changed() => {
                if r.is_err() || !state.lock().unwrap().cut(src, dst) {
                    return;
                }
            }
        }
    }
}

/// Forward one direction, each chunk delayed by the link's current latency (in order),
/// dropping everything while the link is black-holed. Ends when the reader ends (after
/// flushing what was queued) or the writer fails.
async fn pump(
    mut r: tokio::net::tcp::OwnedReadHalf,
    mut w: tokio::net::tcp::OwnedWriteHalf,
    src: Peer,
    dst: Peer,
    state: Arc<Mutex<State>>,
    blocked: Arc<AtomicBool>,
) {
    let (tx, mut queue) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let held = blocked.clone();
    let reader = async move {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = match r.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if held.load(Ordering::SeqCst) {
                continue;
            }
            let due = Instant::now() + state.lock().unwrap().delay(src, dst);
            if tx.send((due, buf[..n].to_vec())).is_err() {
                return;
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = queue.recv().await {
            tokio::time::sleep_until(due).await;
            if blocked.load(Ordering::SeqCst) {
                continue;
            }
            if w.write_all(&chunk).await.is_err() {
                return;
            }
        }
    };
    tokio::join!(reader, writer);
}
