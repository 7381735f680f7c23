//! The pure Sentinel state machine.
//!
//! [`Sentinel`] owns every master, replica and peer-sentinel record, the epochs, the votes
//! and the failover state machine (`election`, `failover`, `reconf`). The shell feeds it [`Event`]s with the current
//! time and drains [`Action`]s with [`Sentinel::drain_actions`]. It never reads a clock,
//! never touches a socket or a file and draws randomness only from the RNG it was given,
//! so a test can drive it on a fake clock and a seed replays a run exactly.

pub mod admin;
pub mod ask;
pub mod conn;
pub mod describe;
pub mod dns;
pub mod election;
pub mod events;
pub mod failover;
pub mod hello;
pub mod info;
pub mod instance;
pub mod monitor;
pub mod reconf;
pub mod records;
pub mod scripts;
pub mod sdown;
pub mod select;
pub mod send;
pub mod snapshot;
pub mod tilt;
pub mod vote;

use crate::config::{LogLevel, SentinelConfig};
use crate::resp::Reply;
use bytes::Bytes;
use instance::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

/// Something that happened, as the shell tells the core.
#[derive(Debug, Clone)]
pub enum Event {
    /// The periodic timer ran (10-19 times a second in redis-sentinel).
    Tick,
    /// A connection of `link` is established; `local_ip` is our side's address (used in
    /// hellos when no announce-ip is set).
    Connected {
        link: LinkId,
        conn: ConnKind,
        local_ip: String,
    },
    /// A connection of `link` failed or closed.
    Disconnected {
        link: LinkId,
        conn: ConnKind,
        error: String,
    },
    /// A connection of `link` could not even be attempted: its socket could not be
    /// created or bound to `bind-source-addr`. hiredis reports these at once, from the
    /// connect call, and redis-sentinel logs them; everything later is silent.
    ConnectFailed {
        link: LinkId,
        conn: ConnKind,
        error: String,
    },
    /// A reply to request `req` arrived on the command connection of `link`.
    Reply {
        link: LinkId,
        req: ReqId,
        reply: Reply,
    },
    /// An error reply arrived on a pub/sub connection for a request sent without an
    /// id: the SUBSCRIBE of a connection that may not subscribe (`-NOAUTH`, `-NOPERM`).
    /// The connection is still open; what to do about it is the core's call.
    UntrackedError {
        link: LinkId,
        conn: ConnKind,
        error: String,
    },
    /// A pub/sub message arrived on the pub/sub connection of `link`.
    Message {
        link: LinkId,
        channel: Bytes,
        payload: Bytes,
    },
    /// The answer to an [`Action::Resolve`]: the first address of `host`, or `None`
    /// when it does not resolve.
    Resolved { host: String, ip: Option<String> },
}

/// Something the shell must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open connection `conn` of `link` to host:port (ignored if it already exists).
    Connect {
        link: LinkId,
        conn: ConnKind,
        host: String,
        port: u16,
    },
    /// Send `args` as a RESP2 multibulk on connection `conn` of `link`. `req` is echoed in
    /// the [`Event::Reply`]; `None` means the reply is read and dropped (pub/sub
    /// connection handshakes).
    Send {
        link: LinkId,
        conn: ConnKind,
        req: Option<ReqId>,
        args: Vec<Bytes>,
    },
    /// Close connection `conn` of `link`.
    Close { link: LinkId, conn: ConnKind },
    /// Resolve `host` off the event loop and answer with [`Event::Resolved`].
    Resolve { host: String },
    /// An event: log it at `level` and publish it on the local pub/sub unless debug.
    /// `script` names the notification script the core queued for it (informational:
    /// the core's script queue runs it through [`Action::Script`]).
    Event {
        level: LogLevel,
        channel: String,
        payload: String,
        script: Option<String>,
    },
    /// A plain log line (not an event).
    Log { level: LogLevel, text: String },
    /// Rewrite the config file now from [`Sentinel::config_snapshot`].
    PersistConfig,
    /// Exit the process with this code (SIMULATE-FAILURE crashes).
    Exit(i32),
    /// Start or kill a script (the queue lives in the core, the processes in the shell).
    Script(scripts::ScriptCmd),
}

/// The `SENTINEL DEBUG` knobs; process-global in redis-sentinel, per core here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    pub info_period: u64,
    pub ping_period: u64,
    pub ask_period: u64,
    pub publish_period: u64,
    pub default_down_after: u64,
    pub default_failover_timeout: u64,
    pub tilt_trigger: u64,
    pub tilt_period: u64,
    pub slave_reconf_timeout: u64,
    pub min_link_reconnect_period: u64,
    pub election_timeout: u64,
    pub script_max_runtime: u64,
    pub script_retry_delay: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            info_period: 10_000,
            ping_period: 1_000,
            ask_period: 1_000,
            publish_period: 2_000,
            default_down_after: 30_000,
            default_failover_timeout: 180_000,
            tilt_trigger: 2_000,
            tilt_period: 30_000,
            slave_reconf_timeout: 10_000,
            min_link_reconnect_period: 15_000,
            election_timeout: 10_000,
            script_max_runtime: 60_000,
            script_retry_delay: 30_000,
        }
    }
}

/// Process-level facts the core reports but does not own (INFO, hellos).
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// Our listening port (for hellos when no announce-port is set).
    pub port: u16,
    /// `requirepass`: sent as `AUTH` to peer sentinels when no sentinel-pass is set
    /// (the legacy "all sentinels share one password" setup).
    pub requirepass: Option<String>,
    /// `tls-port`; announced in hellos instead of `port` when `tls_replication` is on.
    pub tls_port: u16,
    pub tls_replication: bool,
}

pub struct Sentinel {
    pub myid: String,
    pub current_epoch: u64,
    pub announce_ip: Option<String>,
    pub announce_port: u16,
    pub deny_scripts_reconfig: bool,
    pub resolve_hostnames: bool,
    pub announce_hostnames: bool,
    pub sentinel_user: Option<String>,
    pub sentinel_pass: Option<String>,
    pub masters: Vec<Master>,
    pub links: BTreeMap<LinkId, Link>,
    pub timing: Timing,
    pub identity: Identity,
    pub tilt: bool,
    pub tilt_start_time: u64,
    pub previous_time: u64,
    pub simfailure_flags: u32,
    /// Elect and fail over exactly as redis-sentinel 7.0.15 does, epoch flaws included
    /// (votes of the current epoch counted for an older attempt, see
    /// `election::get_leader`; a failover superseded by a newer config epoch going on,
    /// see `hello::failover_superseded`). Off in the program; the simulation turns it
    /// on to show that its checker catches what these rules lead to.
    pub upstream_election: bool,
    /// Notification and client-reconfig scripts waiting, running or due for a retry.
    pub scripts: scripts::ScriptQueue,
    /// Local time zone offset from UTC in seconds, for the ctime-formatted times in log
    /// lines (`Next failover delay: ...`); the shell sets it, 0 means UTC.
    pub utc_offset_secs: i64,
    /// The time of the event being handled.
    pub now: u64,
    pub rng: StdRng,
    /// `access(path, X_OK)` for SENTINEL SET script paths; injected so the pure core never
    /// touches the filesystem itself and tests can fake it.
    pub is_executable: fn(&str) -> bool,
    next_link: u64,
    next_req: u64,
    outbox: Vec<Action>,
    /// Which instance record each in-flight request belongs to (a shared sentinel link
    /// carries requests of several records).
    pub(crate) req_owner: BTreeMap<ReqId, monitor::InstanceKey>,
    master_names: std::collections::HashMap<String, usize>,
    /// Our side's address of each command connection, for hellos.
    pub(crate) link_local_ip: BTreeMap<LinkId, String>,
    /// Requests held until their link's local address is known (see [`send`]).
    pub(crate) held: BTreeMap<LinkId, Vec<send::Held>>,
    /// Hostname answers and the work waiting for them (see [`dns`]).
    pub dns: dns::Dns,
}

pub const SIMFAILURE_CRASH_AFTER_ELECTION: u32 = 1;
pub const SIMFAILURE_CRASH_AFTER_PROMOTION: u32 = 2;

impl Sentinel {
    /// Build the core from a loaded config. A missing myid is generated from `seed`'s
    /// RNG (the caller then persists it, as redis-sentinel does on first start).
    pub fn new(cfg: &SentinelConfig, identity: Identity, seed: u64, now: u64) -> Self {
        Self::new_with_dns(cfg, identity, seed, now, Vec::new())
    }

    /// [`Sentinel::new`] with the config's hostnames already resolved (`None`: failed),
    /// as redis-sentinel resolves them while loading the config, so records start with
    /// their IP (and replica names in IP form without announce-hostnames).
    pub fn new_with_dns(
        cfg: &SentinelConfig,
        identity: Identity,
        seed: u64,
        now: u64,
        resolved: Vec<(String, Option<String>)>,
    ) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let myid = cfg.myid.clone().unwrap_or_else(|| random_hex_id(&mut rng));
        let mut s = Sentinel {
            myid,
            current_epoch: cfg.current_epoch,
            announce_ip: cfg.announce_ip.clone(),
            announce_port: cfg.announce_port,
            deny_scripts_reconfig: cfg.deny_scripts_reconfig,
            resolve_hostnames: cfg.resolve_hostnames,
            announce_hostnames: cfg.announce_hostnames,
            sentinel_user: cfg.sentinel_user.clone(),
            sentinel_pass: cfg.sentinel_pass.clone(),
            masters: Vec::new(),
            links: BTreeMap::new(),
            timing: Timing::default(),
            identity,
            tilt: false,
            tilt_start_time: 0,
            previous_time: now,
            simfailure_flags: 0,
            upstream_election: false,
            scripts: scripts::ScriptQueue::new(),
            utc_offset_secs: 0,
            now,
            rng,
            is_executable: admin::access_executable,
            next_link: 1,
            next_req: 1,
            outbox: Vec::new(),
            req_owner: BTreeMap::new(),
            master_names: std::collections::HashMap::new(),
            link_local_ip: BTreeMap::new(),
            held: BTreeMap::new(),
            dns: dns::Dns::default(),
        };
        for (host, ip) in resolved {
            s.dns.seed(&host, ip);
        }
        for m in &cfg.masters {
            s.add_master_from_config(m);
        }
        s
    }

    pub fn next_req_id(&mut self) -> ReqId {
        let r = ReqId(self.next_req);
        self.next_req += 1;
        r
    }

    pub fn push(&mut self, a: Action) {
        self.outbox.push(a);
    }

    /// Take every action produced since the last call, in order.
    pub fn drain_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.outbox)
    }

    pub fn master(&self, name: &str) -> Option<&Master> {
        self.master_index(name).map(|i| &self.masters[i])
    }
    pub fn master_mut(&mut self, name: &str) -> Option<&mut Master> {
        self.master_index(name).map(|i| &mut self.masters[i])
    }

    /// Position of the master called `name`. Hellos and replies look masters up by name
    /// thousands of times a second at 1,000+ masters, so this goes through a name index;
    /// the index is a cache, checked on every use, so a stale entry (after direct edits of
    /// `masters`) costs a linear search, never a wrong answer.
    pub fn master_index(&self, name: &str) -> Option<usize> {
        match self.master_names.get(name) {
            Some(&i) if self.masters.get(i).is_some_and(|m| m.common.name == name) => Some(i),
            _ => self.masters.iter().position(|m| m.common.name == name),
        }
    }

    /// Rebuild the name index after masters were added or removed.
    pub(crate) fn reindex_masters(&mut self) {
        self.master_names = self
            .masters
            .iter()
            .enumerate()
            .map(|(i, m)| (m.common.name.clone(), i))
            .collect();
    }

    /// Handle one event at time `now`.
    ///
    /// Every input of the monitoring loop comes through here: the timer (which runs the
    /// TILT check and then every instance, like `sentinelTimer`), connection state
    /// changes, replies to requests the core sent, and pub/sub hello messages.
    pub fn handle(&mut self, now: u64, event: Event) {
        self.now = now;
        match event {
            Event::Tick => self.timer(),
            Event::Connected {
                link,
                conn,
                local_ip,
            } => self.on_connected(link, conn, local_ip),
            Event::Disconnected { link, conn, .. } => {
                self.on_disconnected(link, conn);
            }
            Event::ConnectFailed { link, conn, error } => {
                self.on_connect_failed(link, conn, &error)
            }
            Event::Reply { link, req, reply } => self.on_reply(link, req, reply),
            Event::UntrackedError { link, conn, .. } => self.on_untracked_error(link, conn),
            Event::Message {
                link,
                channel,
                payload,
            } => self.on_message(link, &channel, &payload),
            Event::Resolved { host, ip } => self.on_resolved(&host, ip),
        }
    }

    /// One run of the periodic timer: TILT check, then every master with its replicas
    /// and sentinels, in order.
    fn timer(&mut self) {
        self.check_tilt();
        let mut switch = None;
        for mi in 0..self.masters.len() {
            self.handle_instance(monitor::Inst::Master(mi));
            // Records may be added (not removed) while handling; index by position.
            let mut ri = 0;
            while ri < self.masters[mi].replicas.len() {
                self.handle_instance(monitor::Inst::Replica(mi, ri));
                ri += 1;
            }
            let mut si = 0;
            while si < self.masters[mi].sentinels.len() {
                self.handle_instance(monitor::Inst::Sentinel(mi, si));
                si += 1;
            }
            if self.masters[mi].failover_state == FailoverState::UpdateConfig {
                switch = Some(mi);
            }
        }
        if let Some(mi) = switch {
            self.switch_to_promoted(mi);
        }
        for cmd in self.scripts.poll(self.now, self.timing.script_max_runtime) {
            match cmd {
                scripts::ScriptCmd::Event(e) => self.push(e.into()),
                c => self.push(Action::Script(c)),
            }
        }
    }

    /// Queue a script run (notification or client-reconfig script).
    pub fn run_script(&mut self, path: &str, args: Vec<String>) {
        self.scripts.schedule(path, args);
    }
}

/// 40 lowercase hex characters, the format of run ids and myids.
pub fn random_hex_id(rng: &mut StdRng) -> String {
    (0..40)
        .map(|_| std::char::from_digit(rng.gen_range(0..16), 16).unwrap())
        .collect()
}
