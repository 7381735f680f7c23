//! The client-facing tokio server: listener, connections, pub/sub hub, auth.
//!
//! [`Server`] holds everything shared by the connections: the shell (the only way to the
//! core), the client registry, the pub/sub [`hub::Hub`], the ACL users and the counters
//! `INFO` reports. Each accepted socket runs [`conn::run`] in its own task.

pub mod accept;
pub mod bridge;
pub mod clients;
pub mod conn;

pub mod hub;
pub mod rates;

use crate::acl;
use crate::config::ServerConfig;
use crate::shell::Shell;
use clients::Clients;
use hub::Hub;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
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
    /// The randomised timer frequency (10..19).
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
    pub rates: rates::Rates,
}

/// An active `CLIENT PAUSE`.
#[derive(Debug, Clone, Copy)]
pub struct Pause {
    pub until: Instant,
    /// `ALL` (true) or `WRITE` (false; only PUBLISH is a "write" here).
    pub all: bool,
}

pub struct Server {
    pub shell: Arc<Shell>,
    pub cfg: ServerConfig,
    pub info: ProcessInfo,
    pub clients: Clients,
    pub stats: Stats,
    pub users: Mutex<acl::Users>,
    hub: Arc<Hub>,
    /// Lower-case name a client sends -> canonical command name, after `rename-command`.
    names: HashMap<String, &'static str>,
    pause: Mutex<Option<Pause>>,
    pub unpaused: Notify,
    /// Cancelled by SHUTDOWN; main waits on it to exit.
    shutdown: CancellationToken,
    /// One rate sampler per server, however many listeners serve it.
    sampling: AtomicBool,
}

impl Server {
    pub fn new(shell: Arc<Shell>, cfg: ServerConfig, info: ProcessInfo) -> Arc<Server> {
        let users = acl::Users::from_config(cfg.requirepass.as_deref(), &cfg.users)
            .unwrap_or_else(|_| acl::Users::from_config(None, &[]).expect("default users"));
        let mut names: HashMap<String, &'static str> = crate::command_table::COMMANDS
            .iter()
            .map(|c| (c.name.to_string(), c.name))
            .collect();
        for (from, to) in &cfg.rename_commands {
            if let Some(canon) = names.remove(&from.to_ascii_lowercase())
                && !to.is_empty()
            {
                names.insert(to.to_ascii_lowercase(), canon);
            }
        }
        Arc::new(Server {
            hub: Arc::new(Hub::new(cfg.pubsub_limit)),
            shell,
            info,
            clients: Clients::new(),
            stats: Stats::default(),
            users: Mutex::new(users),
            names,
            pause: Mutex::new(None),
            unpaused: Notify::new(),
            shutdown: CancellationToken::new(),
            sampling: AtomicBool::new(false),
            cfg,
        })
    }

    pub fn hub(&self) -> Arc<Hub> {
        self.hub.clone()
    }

    /// The canonical command a client-sent name refers to, after `rename-command`.
    pub fn resolve(&self, name: &[u8]) -> Option<&'static str> {
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        self.names.get(&lower).copied()
    }

    pub fn users(&self) -> std::sync::MutexGuard<'_, acl::Users> {
        self.users.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Accept connections forever (one task per client).
    pub async fn serve(self: Arc<Server>, listener: TcpListener) {
        if self
            .sampling
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            tokio::spawn(sample_rates(self.clone()));
        }
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let s = self.clone();
                    tokio::spawn(async move { conn::run(s, stream).await });
                }
                Err(e) => {
                    tracing::warn!("Accepting client connection: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
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
        *self.pause.lock().unwrap_or_else(|e| e.into_inner()) = p;
        if p.is_none() {
            self.unpaused.notify_waiters();
        }
    }

    /// The pause in effect now, if any (expired pauses are cleared).
    pub fn current_pause(&self) -> Option<Pause> {
        let mut g = self.pause.lock().unwrap_or_else(|e| e.into_inner());
        match *g {
            Some(p) if p.until > Instant::now() => Some(p),
            Some(_) => {
                *g = None;
                None
            }
            None => None,
        }
    }
}

/// Feed the `instantaneous_*` INFO figures every 100 ms (Redis samples in serverCron).
async fn sample_rates(server: Arc<Server>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        let st = &server.stats;
        st.rates.sample(
            st.commands_processed.load(Ordering::Relaxed),
            st.net_input_bytes.load(Ordering::Relaxed),
            st.net_output_bytes.load(Ordering::Relaxed),
            Instant::now(),
        );
    }
}
