//! The pure Sentinel state machine.
//!
//! [`Sentinel`] owns every master, replica and peer-sentinel record, the epochs, the votes
//! and (later) the failover state machine. The shell feeds it [`Event`]s with the current
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
pub mod scripts;
pub mod sdown;
pub mod select;
pub mod send;
pub mod tilt;
pub mod vote;

use crate::config::{LogLevel, MasterConfig, SentinelConfig};
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
    /// A reply to request `req` arrived on the command connection of `link`.
    Reply {
        link: LinkId,
        req: ReqId,
        reply: Reply,
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

    /// Create a master record (and its known replicas and sentinels) from config.
    pub fn add_master_from_config(&mut self, m: &MasterConfig) {
        let link = self.new_link(&m.host, m.port, false);
        let mut common =
            self.new_common(&m.name, &m.host, m.port, link, flags::MASTER, Role::Master);
        common.down_after_ms = m.down_after_ms;
        let mut master = Master {
            common,
            quorum: m.quorum,
            failover_timeout_ms: m.failover_timeout_ms,
            parallel_syncs: m.parallel_syncs,
            notification_script: m.notification_script.clone(),
            client_reconfig_script: m.client_reconfig_script.clone(),
            auth_pass: m.auth_pass.clone(),
            auth_user: m.auth_user.clone(),
            master_reboot_down_after_period_ms: m.master_reboot_down_after_period_ms,
            master_reboot_since: 0,
            rename_commands: m.rename_commands.clone(),
            config_epoch: m.config_epoch,
            leader: None,
            leader_epoch: m.leader_epoch,
            failover_state: FailoverState::None,
            failover_epoch: 0,
            failover_start_time: 0,
            failover_state_change_time: 0,
            failover_delay_logged: 0,
            promoted: None,
            replicas: Vec::new(),
            sentinels: Vec::new(),
        };
        for (h, p) in &m.known_replicas {
            let r = self.new_replica(h, *p, m.down_after_ms);
            master.replicas.push(r);
        }
        for (h, p, runid) in &m.known_sentinels {
            let s = self.new_sentinel_peer(h, *p, runid, m.down_after_ms);
            master.sentinels.push(s);
        }
        if m.config_epoch > self.current_epoch {
            self.current_epoch = m.config_epoch;
        }
        self.masters.push(master);
        self.reindex_masters();
    }

    /// A replica record, named `<announced addr>:<port>` once and for all (the IP form
    /// without announce-hostnames, as redis-sentinel keys its replicas).
    pub fn new_replica(&mut self, host: &str, port: u16, down_after_ms: u64) -> Replica {
        let ip = self.initial_ip(host);
        let name = self.replica_name(host, &ip, port);
        let link = self.new_link(host, port, false);
        let mut common = self.new_common(&name, host, port, link, flags::SLAVE, Role::Slave);
        common.ip = ip;
        common.down_after_ms = down_after_ms;
        Replica {
            common,
            master_link_down_time: 0,
            master_link_status_up: false,
            slave_master_host: None,
            slave_master_port: 0,
            priority: 100,
            repl_offset: 0,
            announced: true,
            reconf_sent_time: 0,
        }
    }

    /// A peer-sentinel record. Shares an existing link to the same run id if any master
    /// already has one (redis-sentinel's link sharing).
    pub fn new_sentinel_peer(
        &mut self,
        host: &str,
        port: u16,
        runid: &str,
        down_after_ms: u64,
    ) -> SentinelPeer {
        let shared = self
            .masters
            .iter()
            .flat_map(|m| m.sentinels.iter())
            .find(|s| s.common.runid == runid && s.common.host == host && s.common.port == port)
            .map(|s| s.common.link);
        let link = match shared {
            Some(l) => {
                if let Some(link) = self.links.get_mut(&l) {
                    link.refcount += 1;
                }
                l
            }
            None => self.new_link(host, port, true),
        };
        let mut common = self.new_common(runid, host, port, link, flags::SENTINEL, Role::Master);
        common.runid = runid.to_string();
        common.down_after_ms = down_after_ms;
        // Both clocks start at creation, as in redis-sentinel: a freshly loaded peer shows
        // `last-hello-message` as the time since load, and is not asked before ASK-PERIOD.
        SentinelPeer {
            common,
            last_hello_time: self.now,
            last_master_down_reply_time: self.now,
            leader: None,
            leader_epoch: 0,
        }
    }

    fn new_common(
        &mut self,
        name: &str,
        host: &str,
        port: u16,
        link: LinkId,
        flags: u32,
        role: Role,
    ) -> Common {
        let ip = self.initial_ip(host);
        Common {
            flags,
            name: name.to_string(),
            host: host.to_string(),
            ip,
            port,
            runid: String::new(),
            link,
            down_after_ms: self.timing.default_down_after,
            last_pub_time: self.now,
            s_down_since: 0,
            o_down_since: 0,
            info_refresh: 0,
            info: None,
            role_reported: role,
            role_reported_time: self.now,
            slave_conf_change_time: self.now,
        }
    }

    pub fn new_link(&mut self, host: &str, port: u16, to_sentinel: bool) -> LinkId {
        let id = LinkId(self.next_link);
        self.next_link += 1;
        self.links
            .insert(id, Link::new(id, host, port, to_sentinel, self.now));
        id
    }

    /// Drop one reference to a link; closes and forgets it when unused.
    pub fn release_link(&mut self, id: LinkId) {
        let gone = match self.links.get_mut(&id) {
            Some(l) => {
                l.refcount = l.refcount.saturating_sub(1);
                l.refcount == 0
            }
            None => false,
        };
        if gone {
            let l = self.links.remove(&id).expect("link present");
            if l.cc {
                self.push(Action::Close {
                    link: id,
                    conn: ConnKind::Cmd,
                });
            }
            if l.pc {
                self.push(Action::Close {
                    link: id,
                    conn: ConnKind::PubSub,
                });
            }
        }
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
            Event::Disconnected { link, conn, error } => self.on_disconnected(link, conn, &error),
            Event::Reply { link, req, reply } => self.on_reply(link, req, reply),
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

    /// The persisted state, in the shape the config rewrite wants.
    pub fn config_snapshot(&self) -> SentinelConfig {
        SentinelConfig {
            myid: Some(self.myid.clone()),
            current_epoch: self.current_epoch,
            announce_ip: self.announce_ip.clone(),
            announce_port: self.announce_port,
            deny_scripts_reconfig: self.deny_scripts_reconfig,
            resolve_hostnames: self.resolve_hostnames,
            announce_hostnames: self.announce_hostnames,
            sentinel_user: self.sentinel_user.clone(),
            sentinel_pass: self.sentinel_pass.clone(),
            masters: (0..self.masters.len())
                .map(|mi| self.master_snapshot(mi))
                .collect(),
        }
    }

    /// Master `mi` as persisted. The `monitor` line carries the *current* master address
    /// (the promoted replica's once the failover reached `reconf_slaves`), and a replica
    /// at that address is written with the old master's address instead, as
    /// redis-sentinel does: a leader that crashes right after the promotion then restarts
    /// on the new master instead of holding the new config epoch with the old address.
    fn master_snapshot(&self, mi: usize) -> MasterConfig {
        let m = &self.masters[mi];
        let (host, port) = self.current_master_addr(mi);
        let own = (self.announced_addr(&m.common).to_string(), m.common.port);
        MasterConfig {
            name: m.common.name.clone(),
            host: host.clone(),
            port,
            quorum: m.quorum,
            down_after_ms: m.common.down_after_ms,
            failover_timeout_ms: m.failover_timeout_ms,
            parallel_syncs: m.parallel_syncs,
            notification_script: m.notification_script.clone(),
            client_reconfig_script: m.client_reconfig_script.clone(),
            auth_pass: m.auth_pass.clone(),
            auth_user: m.auth_user.clone(),
            master_reboot_down_after_period_ms: m.master_reboot_down_after_period_ms,
            config_epoch: m.config_epoch,
            leader_epoch: m.leader_epoch,
            // A replica whose name never resolved has an empty address (as in 7.0.15);
            // it is not persisted, since `known-replica` with an empty host would make
            // the file unloadable.
            known_replicas: m
                .replicas
                .iter()
                .filter(|r| !self.announced_addr(&r.common).is_empty())
                .map(|r| {
                    let addr = (self.announced_addr(&r.common).to_string(), r.common.port);
                    if addr.0 == host && addr.1 == port {
                        own.clone()
                    } else {
                        addr
                    }
                })
                .collect(),
            known_sentinels: m
                .sentinels
                .iter()
                .filter(|s| !s.common.runid.is_empty())
                .map(|s| (s.common.ip.clone(), s.common.port, s.common.runid.clone()))
                .collect(),
            rename_commands: m.rename_commands.clone(),
        }
    }
}

/// 40 lowercase hex characters, the format of run ids and myids.
pub fn random_hex_id(rng: &mut StdRng) -> String {
    (0..40)
        .map(|_| std::char::from_digit(rng.gen_range(0..16), 16).unwrap())
        .collect()
}
