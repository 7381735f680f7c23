//! The client side's shared state: everything the connections, the commands and the
//! action performer share (the client registry, the pub/sub [`hub::Hub`], the live ACL
//! users, the `INFO` counters, `CLIENT PAUSE`, the names after `rename-command`, the
//! shutdown request), with no socket and no accept loop in it.
//!
//! Why its own module, below `commands` rather than inside `server` or `commands`:
//! - it is built first, before the action performer and the server, because the
//!   performer publishes events on the hub and the config rewrite reads the live users;
//!   keeping it out of `server` is what lets `main` hand both to the performer directly
//!   instead of through cells filled in later;
//! - the commands read and change it, and the server only owns sockets and tasks, so the
//!   imports run one way (`state` ← `commands` ← `server`);
//! - it needs nothing of the core nor of the commands (only `acl`, `command_table`,
//!   `config`, `glob`, `resp`), so the performer in `runtime` can use it without
//!   depending on command implementations.
//!
//! It is tokio-light: `Notify` and `CancellationToken` to wake waiting tasks, no I/O.

pub mod acl_log;
pub mod clients;
pub mod hub;
pub mod proxy;
pub mod rates;
pub mod tracking;

use crate::acl;
use crate::command_table::CmdSpec;
use crate::config::ServerConfig;
use clients::Clients;
use hub::Hub;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Process-level facts shown by `INFO server`.
#[derive(Debug, Clone, Default)]
pub struct ProcessInfo {
    /// Per-process random id (not the sentinel myid).
    pub run_id: String,
    /// Absolute path of the config file.
    pub config_file: String,
    /// Absolute path of the executable as redis reports it.
    pub executable: String,
    /// Unix milliseconds at start-up.
    pub start_ms: u64,
    pub pid: u32,
    /// INFO's `hz`: 0 shows a fresh draw of 10..19 each time, as redis-sentinel re-draws
    /// its timer frequency on every run of its timer; tests may pin a value.
    pub hz: u32,
    /// `uname -s -r -m`, e.g. `Linux 6.1.0 x86_64`.
    pub os: String,
}

/// Counters for `INFO stats`.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub commands_processed: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub rejected_connections: AtomicU64,
    /// Reads from and writes to client sockets (`total_reads_processed`,
    /// `total_writes_processed`): one per read of a request batch and one per write of
    /// a batch of output, as Redis counts its `readQueryFromClient` and
    /// `writeToClient` calls.
    pub reads_processed: AtomicU64,
    pub writes_processed: AtomicU64,
    /// Error replies sent (`total_error_replies`), protocol errors included.
    pub error_replies: AtomicU64,
    pub rates: rates::Rates,
}

/// An active `CLIENT PAUSE`.
#[derive(Debug, Clone, Copy)]
pub struct Pause {
    pub until: Instant,
    /// `ALL` (true) or `WRITE` (false; only PUBLISH is a "write" here).
    pub all: bool,
}

pub struct State {
    pub cfg: ServerConfig,
    pub info: ProcessInfo,
    pub clients: Clients,
    pub stats: Stats,
    /// The built-in proxy's counters (`INFO proxy`).
    pub proxy: proxy::ProxyStats,
    /// `CLIENT TRACKING` counts (`INFO`).
    pub tracking: tracking::TrackingTable,
    /// `ACL LOG`: read through [`State::acl_log`], written by [`State::log_refusal`].
    acl_log: Mutex<acl_log::AclLog>,
    /// Read with [`State::users`], changed with [`State::users_mut`] (which bumps
    /// `users_gen`).
    users: Mutex<acl::Users>,
    /// Bumped by every change of `users`: a connection keeps its user's rules between
    /// commands and looks them up again only when this moved (see
    /// [`crate::commands::session::Session`]).
    users_gen: AtomicU64,
    hub: Arc<Hub>,
    /// The names a client may send, after `rename-command`.
    names: CommandNames,
    pause: Mutex<Option<Pause>>,
    /// Whether `pause` may hold a pause: the per-command check skips the lock when not.
    pause_set: AtomicBool,
    pub unpaused: Notify,
    /// Cancelled by SHUTDOWN; main waits on it to exit.
    shutdown: CancellationToken,
}

impl State {
    pub fn new(cfg: ServerConfig, info: ProcessInfo) -> Arc<State> {
        let users = acl::Users::from_config(cfg.requirepass.as_deref(), &cfg.users)
            .unwrap_or_else(|_| acl::Users::from_config(None, &[]).expect("default users"));
        let mut names: HashMap<String, &'static CmdSpec> = crate::command_table::COMMANDS
            .iter()
            .map(|c| (c.name.to_string(), c))
            .collect();
        for (from, to) in &cfg.rename_commands {
            if let Some(canon) = names.remove(&from.to_ascii_lowercase())
                && !to.is_empty()
            {
                names.insert(to.to_ascii_lowercase(), canon);
            }
        }
        let names = CommandNames::new(names);
        Arc::new(State {
            hub: Arc::new(Hub::new(cfg.pubsub_limit)),
            info,
            clients: Clients::new(),
            stats: Stats::default(),
            proxy: proxy::ProxyStats::default(),
            tracking: Default::default(),
            acl_log: Mutex::default(),
            users: Mutex::new(users),
            users_gen: AtomicU64::new(0),
            names,
            pause: Mutex::new(None),
            pause_set: AtomicBool::new(false),
            unpaused: Notify::new(),
            shutdown: CancellationToken::new(),
            cfg,
        })
    }

    pub fn hub(&self) -> Arc<Hub> {
        self.hub.clone()
    }

    /// The canonical command a client-sent name refers to, after `rename-command`.
    pub fn resolve(&self, name: &[u8]) -> Option<&'static str> {
        self.resolve_spec(name).map(|c| c.name)
    }

    /// The top-level command a client-sent name (any case) refers to, after
    /// `rename-command`.
    pub fn resolve_spec(&self, name: &[u8]) -> Option<&'static CmdSpec> {
        self.names.get(name)
    }

    pub fn users(&self) -> UsersRead<'_> {
        UsersRead(self.users.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The users, to change: the generation moves when the guard is dropped (still
    /// under the lock), so a connection that sees the new generation reads the new
    /// users.
    pub fn users_mut(&self) -> UsersWrite<'_> {
        UsersWrite {
            guard: self.users.lock().unwrap_or_else(|e| e.into_inner()),
            gen_: &self.users_gen,
        }
    }

    /// The generation of the users (see `users_gen`).
    pub fn users_gen(&self) -> u64 {
        self.users_gen.load(AtomicOrdering::Acquire)
    }

    pub fn acl_log(&self) -> MutexGuard<'_, acl_log::AclLog> {
        self.acl_log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Record a refusal in `ACL LOG`, with `client`'s `CLIENT LIST` line as it is now.
    pub fn log_refusal(
        &self,
        reason: acl_log::Reason,
        object: &[u8],
        username: &[u8],
        client: &clients::ClientShared,
    ) {
        let entry = acl_log::Entry {
            count: 1,
            reason,
            object: bytes::Bytes::copy_from_slice(object),
            username: bytes::Bytes::copy_from_slice(username),
            at: Instant::now(),
            client_info: client.describe(),
        };
        let max = usize::try_from(self.cfg.acllog_max_len).unwrap_or(usize::MAX);
        self.acl_log().add(entry, max);
    }

    /// Ask the process to stop (SHUTDOWN).
    pub fn request_shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Resolves once a client sent SHUTDOWN; main then exits.
    pub async fn wait_shutdown(&self) {
        self.shutdown.cancelled().await
    }

    pub fn set_pause(&self, p: Option<Pause>) {
        let mut g = self.pause.lock().unwrap_or_else(|e| e.into_inner());
        *g = p;
        self.pause_set.store(p.is_some(), AtomicOrdering::Release);
        drop(g);
        if p.is_none() {
            self.unpaused.notify_waiters();
        }
    }

    /// The pause in effect now, if any (expired pauses are cleared).
    pub fn current_pause(&self) -> Option<Pause> {
        if !self.pause_set.load(AtomicOrdering::Acquire) {
            return None;
        }
        let mut g = self.pause.lock().unwrap_or_else(|e| e.into_inner());
        match *g {
            Some(p) if p.until > Instant::now() => Some(p),
            Some(_) => {
                *g = None;
                self.pause_set.store(false, AtomicOrdering::Release);
                None
            }
            None => None,
        }
    }
}

/// The ACL users, locked for reading.
pub struct UsersRead<'a>(MutexGuard<'a, acl::Users>);

impl std::ops::Deref for UsersRead<'_> {
    type Target = acl::Users;
    fn deref(&self) -> &acl::Users {
        &self.0
    }
}

/// The ACL users, locked for changing; dropping it bumps the generation.
pub struct UsersWrite<'a> {
    guard: MutexGuard<'a, acl::Users>,
    gen_: &'a AtomicU64,
}

impl std::ops::Deref for UsersWrite<'_> {
    type Target = acl::Users;
    fn deref(&self) -> &acl::Users {
        &self.guard
    }
}

impl std::ops::DerefMut for UsersWrite<'_> {
    fn deref_mut(&mut self) -> &mut acl::Users {
        &mut self.guard
    }
}

impl Drop for UsersWrite<'_> {
    fn drop(&mut self) {
        // Runs before `guard` is dropped, so before the lock is released.
        self.gen_.fetch_add(1, AtomicOrdering::AcqRel);
    }
}

/// Command names a client may send -> top-level command, bucketed by length and
/// compared case-insensitively in place: no hashing (the name is the client's, and
/// SipHash of it cost more than the whole lookup) and no lower-cased copy. There are a
/// dozen names, so a bucket holds one to four.
struct CommandNames {
    /// `by_len[n]`: the lower-case names of `n` bytes.
    by_len: Vec<Vec<NamedCommand>>,
}

/// A lower-case name a client may send, and the command it runs.
type NamedCommand = (Box<[u8]>, &'static CmdSpec);

impl CommandNames {
    fn new(names: HashMap<String, &'static CmdSpec>) -> Self {
        let mut by_len: Vec<Vec<NamedCommand>> = Vec::new();
        let mut names: Vec<_> = names.into_iter().collect();
        names.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (name, spec) in names {
            let n = name.len();
            if by_len.len() <= n {
                by_len.resize_with(n + 1, Vec::new);
            }
            by_len[n].push((name.into_bytes().into_boxed_slice(), spec));
        }
        CommandNames { by_len }
    }

    fn get(&self, name: &[u8]) -> Option<&'static CmdSpec> {
        // Names are UTF-8, so only a miss can be invalid UTF-8: that is matched as its
        // lossy text, as a renamed name read from the config file is.
        self.exact(name)
            .or_else(|| match String::from_utf8_lossy(name) {
                std::borrow::Cow::Owned(lossy) => self.exact(lossy.as_bytes()),
                std::borrow::Cow::Borrowed(_) => None,
            })
    }

    fn exact(&self, name: &[u8]) -> Option<&'static CmdSpec> {
        self.by_len
            .get(name.len())?
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, spec)| spec)
    }
}
