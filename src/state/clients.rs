//! The client registry: one [`ClientShared`] per connection, shared between the
//! connection task (which owns the socket), the pub/sub hub (which queues messages into
//! the client's output buffer) and `CLIENT LIST/KILL` (which read and kill other clients).
//!
//! Output goes through [`ClientShared::queue`] so command replies and pub/sub messages keep
//! one order, and so the output-buffer limit of pub/sub clients can be enforced at the
//! moment bytes are added: a subscriber that stops reading is disconnected instead of
//! making the process grow without bound.

use crate::command_table::CmdSpec;
use bytes::BytesMut;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Mutable per-connection facts shown by `CLIENT LIST` / `CLIENT INFO` that change
/// rarely (AUTH, HELLO, CLIENT SETNAME, SUBSCRIBE). What changes with every request
/// lives in [`Activity`] instead, so the query path takes no lock for it.
#[derive(Debug, Clone)]
pub struct ClientState {
    pub name: Option<String>,
    pub user: String,
    pub sub: usize,
    pub psub: usize,
    pub no_evict: bool,
    /// `CLIENT TRACKING on`: (the redirect client id, 0 for none; BCAST).
    pub tracking: Option<(u64, bool)>,
}

/// The per-request facts of `CLIENT LIST` (`cmd`, `idle`, `qbuf`, `argv-mem`, `rbp`):
/// written by the connection task around every command and only read by `CLIENT
/// LIST/INFO`, so plain relaxed atomics replace a mutex round-trip each (a pipelining
/// client runs hundreds of thousands of commands a second). A reader may see the fields
/// of two neighbouring requests mixed, as it could already see them between the
/// separate lockings before.
#[derive(Debug, Default)]
pub struct Activity {
    /// Address of the last command's spec in the static command table (its name is
    /// looked up only when shown), 0 before the first (`cmd=NULL`).
    last_cmd: AtomicUsize,
    /// Nanoseconds from `created` to the last interaction.
    last_interaction: AtomicU64,
    /// Bytes of the arguments of the last request (`argv-mem` while it runs).
    last_req_len: AtomicUsize,
    /// Raw bytes of the request being executed, 0 between requests (`qbuf`).
    qbuf: AtomicUsize,
    /// Size of the last reply (`rbp`, the reply buffer peak, of a recently active client).
    last_reply_len: AtomicUsize,
    /// At least one request ran (`cmd` may still be `NULL`: an unknown command).
    served: AtomicBool,
}

impl Activity {
    /// A request of `n` raw bytes was taken from the query buffer.
    pub fn set_qbuf(&self, n: usize) {
        self.qbuf.store(n, Ordering::Relaxed);
    }

    /// The request about to run has `n` bytes of arguments.
    pub fn set_req_len(&self, n: usize) {
        self.last_req_len.store(n, Ordering::Relaxed);
        self.served.store(true, Ordering::Relaxed);
    }

    /// The request finished with a reply of `reply_len` bytes.
    pub fn end_request(&self, reply_len: usize) {
        self.qbuf.store(0, Ordering::Relaxed);
        self.last_reply_len.store(reply_len, Ordering::Relaxed);
    }
}

/// What Redis' `CLIENT LIST` memory fields look like in the three states a sentinel
/// client is usually in: running the command (query buffer of 20474 usable bytes,
/// 16 KB reply buffer), recently active (buffer kept, 2 s), idle (buffers shrunk by
/// `clientsCron`).
const QUERYBUF_ALLOC: usize = 20474;
const BASE_MEM: usize = 1824;
const IDLE_SHRINK_SECS: u64 = 2;

/// The output buffer of a client, and when it first went over the soft limit.
#[derive(Debug, Default)]
struct Out {
    buf: BytesMut,
    soft_since: Option<Instant>,
    closed: bool,
}

/// Why [`ClientShared::queue`] did not take output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The client is gone or going.
    Dead,
    /// This output broke the pub/sub output-buffer limit: the client is now killed.
    /// Its `CLIENT LIST` line, for the log.
    OverLimit(String),
}

impl Refused {
    /// Redis' warning for a client closed at its output-buffer limit.
    pub fn log_line(&self) -> Option<String> {
        match self {
            Refused::OverLimit(line) => Some(format!(
                "Client {line} scheduled to be closed ASAP for overcoming of output buffer limits."
            )),
            Refused::Dead => None,
        }
    }
}

/// Pub/sub output-buffer limit: (hard bytes, soft bytes, soft seconds); 0 = none.
pub type OutLimit = (u64, u64, u64);

/// Where a connection comes from, as `CLIENT LIST` shows and `CLIENT KILL` matches it:
/// `ip:port` (IPv6 in brackets), or for a `unixsocket` client the configured path with
/// `:0` on both sides (Redis' `genClientAddrString`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub addr: String,
    pub laddr: String,
    /// A `unixsocket` client: flag `U`, never refused by protected mode.
    pub unix: bool,
}

impl Endpoints {
    pub fn tcp(peer: std::net::SocketAddr, local: std::net::SocketAddr) -> Self {
        Endpoints {
            addr: peer.to_string(),
            laddr: local.to_string(),
            unix: false,
        }
    }

    pub fn unix(path: &str) -> Self {
        let a = format!("{path}:0");
        Endpoints {
            addr: a.clone(),
            laddr: a,
            unix: true,
        }
    }
}

pub struct ClientShared {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub unix: bool,
    pub fd: i32,
    pub created: Instant,
    pub state: Mutex<ClientState>,
    pub activity: Activity,
    /// The protocol version (HELLO): read for every reply and every pub/sub message.
    resp: AtomicU8,
    out: Mutex<Out>,
    /// Woken when output is queued or the client is killed.
    pub wake: Notify,
    /// Woken when the writer drained the buffer (back-pressure for pipelining clients).
    pub drained: Notify,
    /// Cancelled when the client is killed: both connection halves stop at once.
    pub cancel: CancellationToken,
    /// Set with `cancel`: checked before every command, where the token's own check
    /// (a mutex) would cost more than the command.
    killed: AtomicBool,
    /// Close once the queued output is written (protocol errors, CLIENT KILL of self).
    closing: AtomicBool,
}

impl ClientShared {
    pub fn new(id: u64, at: Endpoints, fd: i32) -> Self {
        let now = Instant::now();
        ClientShared {
            id,
            addr: at.addr,
            laddr: at.laddr,
            unix: at.unix,
            fd,
            created: now,
            state: Mutex::new(ClientState {
                name: None,
                user: "default".into(),
                sub: 0,
                psub: 0,
                no_evict: false,
                tracking: None,
            }),
            activity: Activity::default(),
            resp: AtomicU8::new(2),
            out: Mutex::new(Out::default()),
            wake: Notify::new(),
            drained: Notify::new(),
            cancel: CancellationToken::new(),
            killed: AtomicBool::new(false),
            closing: AtomicBool::new(false),
        }
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, ClientState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn resp(&self) -> u8 {
        self.resp.load(Ordering::Relaxed)
    }

    pub fn set_resp(&self, v: u8) {
        self.resp.store(v, Ordering::Relaxed)
    }

    /// `now` in the form [`Self::touch`] takes: nanoseconds since the connection.
    pub fn clock(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.created).as_nanos() as u64
    }

    /// A request was read at `clock` (see [`Self::clock`]; the connection reads the
    /// clock once per batch of requests, as redis caches it once per event-loop
    /// iteration: `idle` is in seconds).
    pub fn touch(&self, clock: u64) {
        self.activity
            .last_interaction
            .store(clock, Ordering::Relaxed);
    }

    /// The command about to run (past its checks), shown as `cmd=`.
    pub fn set_last_cmd(&self, cmd: &'static CmdSpec) {
        let addr = cmd as *const CmdSpec as usize;
        self.activity.last_cmd.store(addr, Ordering::Relaxed);
    }

    /// The last request named no command (unknown command or subcommand).
    pub fn clear_last_cmd(&self) {
        self.activity.last_cmd.store(0, Ordering::Relaxed);
    }

    /// Full name of the last command (`client|list`), `NULL` before the first and
    /// after a request that named no command.
    pub fn last_cmd(&self) -> &'static str {
        use crate::acl::selector::{all_commands, id_at};
        match self.activity.last_cmd.load(Ordering::Relaxed) {
            0 => "NULL",
            addr => id_at(addr).map_or("NULL", |id| all_commands()[id].name),
        }
    }

    fn last_interaction(&self) -> Instant {
        let ns = self.activity.last_interaction.load(Ordering::Relaxed);
        self.created + std::time::Duration::from_nanos(ns)
    }

    fn is_pubsub(&self) -> bool {
        let s = self.state();
        s.sub + s.psub > 0
    }

    /// Append output. For clients in pub/sub mode `limit` is enforced: past the hard
    /// limit, or past the soft limit for longer than its seconds, the client is killed
    /// and the bytes are dropped ([`Refused::OverLimit`], with the client's line for
    /// Redis' warning). Refused too if the client is already dead.
    pub fn queue(&self, bytes: &[u8], limit: OutLimit) -> Result<(), Refused> {
        if self.is_killed() {
            return Err(Refused::Dead);
        }
        let pubsub = self.is_pubsub();
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if out.closed {
            return Err(Refused::Dead);
        }
        let size = (out.buf.len() + bytes.len()) as u64;
        if pubsub {
            let (hard, soft, secs) = limit;
            let over_hard = hard > 0 && size > hard;
            let over_soft = soft > 0 && size > soft;
            let soft_expired = match (over_soft, out.soft_since) {
                (true, Some(t)) => t.elapsed().as_secs() >= secs,
                (true, None) => {
                    out.soft_since = Some(Instant::now());
                    secs == 0
                }
                (false, _) => {
                    out.soft_since = None;
                    false
                }
            };
            if over_hard || soft_expired {
                // The line as Redis logs it: with the output that broke the limit.
                out.closed = true;
                out.buf.extend_from_slice(bytes);
                drop(out);
                let line = self.describe();
                self.out.lock().unwrap_or_else(|e| e.into_inner()).buf = BytesMut::new();
                self.kill();
                return Err(Refused::OverLimit(line));
            }
        }
        out.buf.extend_from_slice(bytes);
        drop(out);
        self.wake.notify_one();
        Ok(())
    }

    /// Take everything queued so far (the writer task sends it).
    pub fn take_output(&self) -> BytesMut {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let b = out.buf.split();
        if b.is_empty() {
            self.drained.notify_waiters();
        }
        b
    }

    /// Take everything queued so far without waking a task waiting for `drained` (the
    /// connection's reader, the only such task, takes its own output this way).
    pub fn take_queued(&self) -> BytesMut {
        self.out
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .buf
            .split()
    }

    pub fn pending_output(&self) -> usize {
        self.out.lock().unwrap_or_else(|e| e.into_inner()).buf.len()
    }

    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.cancel.cancel();
        self.wake.notify_one();
        self.drained.notify_waiters();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Stop reading; the writer closes the socket once the queued output is sent.
    pub fn close_after_reply(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// The `CLIENT LIST` line (without the trailing newline).
    pub fn describe(&self) -> String {
        let s = self.state();
        let now = Instant::now();
        let age = now.duration_since(self.created).as_secs();
        let idle = now
            .saturating_duration_since(self.last_interaction())
            .as_secs();
        let last_cmd = self.last_cmd();
        let a = &self.activity;
        let qbuf = a.qbuf.load(Ordering::Relaxed);
        // Redis' letters in its order; a sentinel client can only be P(ub/sub),
        // t(racking), B(CAST tracking), U(nix socket) or e (CLIENT NO-EVICT on).
        let mut flags = String::with_capacity(4);
        if s.sub + s.psub > 0 {
            flags.push('P');
        }
        if let Some((_, bcast)) = s.tracking {
            flags.push('t');
            if bcast {
                flags.push('B');
            }
        }
        if self.unix {
            flags.push('U');
        }
        if s.no_evict {
            flags.push('e');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let obl = self.pending_output();
        // (qbuf, qbuf-free, argv-mem, rbs, rbp, tot-mem without output)
        let (qbuf, qfree, argv, rbs, rbp, mem) = if qbuf > 0 {
            let mem = BASE_MEM + (16384 - 1024) + QUERYBUF_ALLOC;
            (
                qbuf,
                QUERYBUF_ALLOC.saturating_sub(qbuf),
                a.last_req_len.load(Ordering::Relaxed),
                16384,
                16384,
                mem,
            )
        } else if idle < IDLE_SHRINK_SECS && a.served.load(Ordering::Relaxed) {
            let rbp = a.last_reply_len.load(Ordering::Relaxed).min(1024);
            (
                0,
                QUERYBUF_ALLOC,
                0,
                1024,
                rbp,
                BASE_MEM + QUERYBUF_ALLOC - 26,
            )
        } else {
            (0, 0, 0, 1024, 0, BASE_MEM)
        };
        let events = if obl > 0 { "rw" } else { "r" };
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db=0 sub={} psub={} ssub=0 multi=-1 qbuf={} qbuf-free={} argv-mem={} multi-mem=0 rbs={} rbp={} obl={} oll=0 omem={} tot-mem={} events={} cmd={} user={} redir={} resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            s.name.as_deref().unwrap_or(""),
            age,
            idle,
            flags,
            s.sub,
            s.psub,
            qbuf,
            qfree,
            argv,
            rbs,
            rbp,
            obl,
            obl,
            mem + obl,
            events,
            last_cmd,
            s.user,
            s.tracking.map_or(-1, |(redirect, _)| redirect as i64),
            self.resp()
        )
    }
}

/// All connected clients, by id (ascending id = connection order, as `CLIENT LIST`).
#[derive(Default)]
pub struct Clients {
    map: Mutex<BTreeMap<u64, Arc<ClientShared>>>,
    next_id: AtomicU64,
}

impl Clients {
    pub fn new() -> Self {
        Clients {
            map: Mutex::new(BTreeMap::new()),
            // Redis' initServer makes two internal clients (the Lua clients of EVAL and
            // FUNCTION) before any connection, also in sentinel mode: the first
            // connection of redis-sentinel is id 3.
            next_id: AtomicU64::new(3),
        }
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::SeqCst)
    }

    pub fn add(&self, c: Arc<ClientShared>) {
        self.lock().insert(c.id, c);
    }

    pub fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn all(&self) -> Vec<Arc<ClientShared>> {
        self.lock().values().cloned().collect()
    }

    /// INFO's `client_recent_max_input_buffer` as Redis' clientsCron leaves it: the
    /// query buffer of a client that sent a request (20 KB as Redis allocates it),
    /// once the cron (10-19 times a second in sentinel mode) has looked at that client;
    /// 0 before, so a fresh `redis-cli info` alone reads 0, as on redis-sentinel.
    pub fn recent_max_input_buffer(&self) -> usize {
        const CRON_PERIOD: std::time::Duration = std::time::Duration::from_millis(100);
        const QUERY_BUFFER: usize = 20480;
        let seen = self.lock().values().any(|c| {
            c.activity.served.load(Ordering::Relaxed) && c.created.elapsed() >= CRON_PERIOD
        });
        if seen { QUERY_BUFFER } else { 0 }
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientShared>> {
        self.lock().get(&id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<ClientShared>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}
