//! The pure Sentinel state machine.
//!
//! [`Sentinel`] owns every master, replica and peer-sentinel record, the epochs, the votes
//! and the failover state machine (`election`, `failover`, `reconf`). It never reads a
//! clock, never touches a socket or a file and draws randomness only from the RNG it was
//! given, so a test can drive it on a fake clock and a seed replays a run exactly.
//!
//! # Driving the core
//!
//! Like quinn-proto's `Connection`, the core is driven from outside by a shell that owns
//! the clock, the sockets, the timer and the processes:
//!
//! 1. **Inputs.** Everything that happens is fed in through a method taking `now` as its
//!    first argument, and only through those:
//!    - [`Sentinel::handle`] with an [`Event`]: the timer ran ([`Event::Tick`]), a link
//!      connected, dropped or answered, a pub/sub message or a hello published by a
//!      client arrived, a hostname resolved, a script process started or ended;
//!    - the operations of the SENTINEL commands ([`Sentinel::set_master_option`],
//!      [`Sentinel::monitor`], [`Sentinel::remove`], [`Sentinel::reset`],
//!      [`Sentinel::failover`], [`Sentinel::failover_coordinated`],
//!      [`Sentinel::is_master_down_by_addr`],
//!      [`Sentinel::set_global_option`], [`Sentinel::set_debug_knob`],
//!      [`Sentinel::simulate_failure`], [`Sentinel::flush_config`],
//!      [`Sentinel::announce_startup`]), which may also return a result for the reply.
//!
//!    `now` is milliseconds on the shell's clock: wall-clock time (`mstime()` in
//!    redis-sentinel), the same clock for every call, taken when the input arrives. It
//!    is only recorded, never trusted to be monotonic: the TILT check compares the
//!    `now` of successive [`Event::Tick`]s, so a command arriving between two ticks
//!    does not move the TILT reference, and a wall clock that jumps shows up as TILT
//!    exactly as in redis-sentinel.
//! 2. **Outputs.** After each input (or batch of inputs) call [`Sentinel::drain_actions`]
//!    and perform every [`Action`] in order before feeding the next input that depends
//!    on them (a `Send` before the `Reply` it causes; `PersistConfig` reads
//!    [`Sentinel::config_snapshot`] from the core as it is right then).
//! 3. **Timer.** There is no `poll_timeout`: every deadline is checked by the periodic
//!    timer, as in redis-sentinel. The shell feeds [`Event::Tick`] 10 to 19 times a
//!    second (redis' `hz`); a tick later than TILT-TRIGGER after the previous one (or a
//!    clock going backwards) puts the core in TILT.
//! 4. **Reads.** Rendering (SENTINEL MASTER, INFO, ROLE, the config rewrite) reads the
//!    state through `&self` accessors ([`Sentinel::masters`], [`Sentinel::master`],
//!    [`Sentinel::links`], ...); those that show ages take the `now` to measure them
//!    at. Reads change nothing.
//!
//! The state is private: the records (`Master`, `Replica`, `SentinelPeer`, `Link`) are
//! reachable from outside only by shared reference, so every change goes through an
//! input above, stamped with its time.

pub mod admin;
pub mod ask;
pub mod conn;
pub mod coordinated;
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
pub mod route;
pub mod scripts;
pub mod sdown;
pub mod select;
pub mod send;
pub mod snapshot;
pub mod tilt;
pub mod vote;

pub use admin::{CreateError, FailoverError, GlobalOption, MasterOption};

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
    /// A client published `payload` on our own `__sentinel__:hello` channel (the way
    /// peers announce themselves to a sentinel they cannot subscribe to).
    Hello { payload: Bytes },
    /// Script job `id` (from an [`Action::Script`] start) runs as process `pid`.
    ScriptStarted { id: scripts::ScriptId, pid: u32 },
    /// No process could be created for script job `id` (fork-like failure).
    ScriptSpawnFailed { id: scripts::ScriptId },
    /// The process of script job `id` ended with exit `code` (0 when killed) or
    /// `signal` (0 when it exited), as `WEXITSTATUS` / `WTERMSIG` give them.
    ScriptExited {
        id: scripts::ScriptId,
        code: i32,
        signal: i32,
    },
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
    /// The fast period of issue #9 (a deviation in speed only, not a DEBUG knob): how
    /// often peers are asked again while their answers are short of ODOWN or of our
    /// election, and (see `monitor`) how often the replicas our own failover waits on
    /// are polled with INFO; redis-sentinel uses ASK-PERIOD and 1 s.
    pub failover_info_period: u64,
}

impl Timing {
    /// The SENTINEL DEBUG knob names, in the order SENTINEL DEBUG lists them.
    pub const KNOBS: [&'static str; 13] = [
        "INFO-PERIOD",
        "PING-PERIOD",
        "ASK-PERIOD",
        "PUBLISH-PERIOD",
        "DEFAULT-DOWN-AFTER",
        "DEFAULT-FAILOVER-TIMEOUT",
        "TILT-TRIGGER",
        "TILT-PERIOD",
        "SLAVE-RECONF-TIMEOUT",
        "MIN-LINK-RECONNECT-PERIOD",
        "ELECTION-TIMEOUT",
        "SCRIPT-MAX-RUNTIME",
        "SCRIPT-RETRY-DELAY",
    ];

    /// The knob called `name` (case-insensitive).
    pub fn knob(&self, name: &str) -> Option<u64> {
        self.clone().knob_mut(name).map(|v| *v)
    }

    fn knob_mut(&mut self, name: &str) -> Option<&mut u64> {
        let i = Self::KNOBS
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))?;
        Some(match i {
            0 => &mut self.info_period,
            1 => &mut self.ping_period,
            2 => &mut self.ask_period,
            3 => &mut self.publish_period,
            4 => &mut self.default_down_after,
            5 => &mut self.default_failover_timeout,
            6 => &mut self.tilt_trigger,
            7 => &mut self.tilt_period,
            8 => &mut self.slave_reconf_timeout,
            9 => &mut self.min_link_reconnect_period,
            10 => &mut self.election_timeout,
            11 => &mut self.script_max_runtime,
            _ => &mut self.script_retry_delay,
        })
    }
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
            failover_info_period: 100,
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
    myid: String,
    current_epoch: u64,
    announce_ip: Option<String>,
    announce_port: u16,
    deny_scripts_reconfig: bool,
    resolve_hostnames: bool,
    announce_hostnames: bool,
    sentinel_user: Option<String>,
    sentinel_pass: Option<String>,
    masters: Vec<Master>,
    links: BTreeMap<LinkId, Link>,
    timing: Timing,
    identity: Identity,
    tilt: bool,
    tilt_start_time: u64,
    /// Times TILT was entered since start (Redis 8 / Valkey's `total_tilt`).
    total_tilt: u64,
    /// Show `sentinel_total_tilt` in INFO (`sentinel info-total-tilt yes`).
    info_total_tilt: bool,
    previous_time: u64,
    simfailure_flags: u32,
    /// Elect and fail over exactly as redis-sentinel 7.0.15 does, epoch flaws included
    /// (votes of the current epoch counted for an older attempt, see
    /// `election::get_leader`; a failover superseded by a newer config epoch going on,
    /// see `hello::failover_superseded`). Off in the program; the simulation turns it
    /// on to show that its checker catches what these rules lead to. Also keeps
    /// redis-sentinel's failover timing (see [`Sentinel::fast_failover`]).
    upstream_election: bool,
    /// Notification and client-reconfig scripts waiting, running or due for a retry.
    scripts: scripts::ScriptQueue,
    /// Local time zone offset from UTC in seconds, for the ctime-formatted times in log
    /// lines (`Next failover delay: ...`); see [`Sentinel::set_utc_offset`], 0 means UTC.
    utc_offset_secs: i64,
    /// The `now` of the input being handled, recorded by every entry point before it
    /// does anything; read inside the core only (see the module documentation).
    now: u64,
    rng: StdRng,
    /// `access(path, X_OK)` for SENTINEL SET script paths; injected (see
    /// [`Sentinel::set_executable_check`]) so tests can fake it.
    is_executable: fn(&str) -> bool,
    next_link: u64,
    next_req: u64,
    outbox: Vec<Action>,
    /// Which instance record each in-flight request belongs to (a shared sentinel link
    /// carries requests of several records).
    req_owner: BTreeMap<ReqId, monitor::InstanceKey>,
    master_names: std::collections::HashMap<String, usize>,
    /// Our side's address of each command connection, for hellos.
    link_local_ip: BTreeMap<LinkId, String>,
    /// Requests held until their link's local address is known (see [`send`]).
    held: BTreeMap<LinkId, Vec<send::Held>>,
    /// Hostname answers and the work waiting for them (see [`dns`]).
    dns: dns::Dns,
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
            total_tilt: 0,
            info_total_tilt: cfg.info_total_tilt,
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

    /// The id the next request will get (ids only grow, and replies on one connection
    /// come back in request order).
    fn peek_next_req(&self) -> ReqId {
        ReqId(self.next_req)
    }

    fn next_req_id(&mut self) -> ReqId {
        let r = ReqId(self.next_req);
        self.next_req += 1;
        r
    }

    fn push(&mut self, a: Action) {
        self.outbox.push(a);
    }

    /// Take every action produced since the last call, in order.
    pub fn drain_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.outbox)
    }

    /// The master called `name`.
    pub fn master(&self, name: &str) -> Option<&Master> {
        self.master_index(name).map(|i| &self.masters[i])
    }

    /// Every monitored master, in monitoring order (the order of SENTINEL MASTERS, INFO
    /// and the config file).
    pub fn masters(&self) -> &[Master] {
        &self.masters
    }

    /// Every link, by id (shared sentinel links once).
    pub fn links(&self) -> &BTreeMap<LinkId, Link> {
        &self.links
    }

    /// Link `id`, if it still exists.
    pub fn link(&self, id: LinkId) -> Option<&Link> {
        self.links.get(&id)
    }

    /// Our run id.
    pub fn myid(&self) -> &str {
        &self.myid
    }

    pub fn current_epoch(&self) -> u64 {
        self.current_epoch
    }

    pub fn announce_ip(&self) -> Option<&str> {
        self.announce_ip.as_deref()
    }

    pub fn announce_port(&self) -> u16 {
        self.announce_port
    }

    pub fn deny_scripts_reconfig(&self) -> bool {
        self.deny_scripts_reconfig
    }

    pub fn resolve_hostnames(&self) -> bool {
        self.resolve_hostnames
    }

    pub fn announce_hostnames(&self) -> bool {
        self.announce_hostnames
    }

    pub fn sentinel_user(&self) -> Option<&str> {
        self.sentinel_user.as_deref()
    }

    pub fn sentinel_pass(&self) -> Option<&str> {
        self.sentinel_pass.as_deref()
    }

    /// The SENTINEL DEBUG knobs in effect.
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// The process-level facts given at construction.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Whether the core is in TILT, and since when (meaningless when not).
    pub fn tilt(&self) -> bool {
        self.tilt
    }

    pub fn tilt_start_time(&self) -> u64 {
        self.tilt_start_time
    }

    /// How many times TILT was entered since start.
    pub fn total_tilt(&self) -> u64 {
        self.total_tilt
    }

    /// Whether INFO shows `sentinel_total_tilt` (`sentinel info-total-tilt yes`).
    pub fn info_total_tilt(&self) -> bool {
        self.info_total_tilt
    }

    /// The SIMULATE-FAILURE flags set.
    pub fn simfailure_flags(&self) -> u32 {
        self.simfailure_flags
    }

    /// The script queue (for PENDING-SCRIPTS and the INFO counters).
    pub fn scripts(&self) -> &scripts::ScriptQueue {
        &self.scripts
    }

    /// Set the local time zone offset used in log lines' ctime-formatted times (0, the
    /// default, means UTC). Environment, not state: set once before the first input.
    pub fn set_utc_offset(&mut self, secs: i64) {
        self.utc_offset_secs = secs;
    }

    /// Elect and fail over with redis-sentinel 7.0.15's epoch rules, flaws included (off
    /// by default; the simulation turns it on to show what its checker catches).
    /// Environment, not state: set once before the first input.
    pub fn set_upstream_election(&mut self, on: bool) {
        self.upstream_election = on;
    }

    /// The event-driven failover of issue #9 (steps run as their causes arrive, the
    /// awaited replicas polled fast, the new master dialed at the switch): always, except
    /// under the upstream rules, which keep redis-sentinel's timing too so the seeds that
    /// replay its flaws replay them exactly.
    pub(crate) fn fast_failover(&self) -> bool {
        !self.upstream_election
    }

    /// Replace the `access(path, X_OK)` check SENTINEL SET applies to script paths
    /// (tests fake it). Environment, not state: set once before the first input.
    pub fn set_executable_check(&mut self, check: fn(&str) -> bool) {
        self.is_executable = check;
    }

    /// Position of the master called `name`. Hellos and replies look masters up by name
    /// thousands of times a second at 1,000+ masters, so this goes through a name index;
    /// the index is a cache, checked on every use, so a stale entry (after direct edits of
    /// `masters`) costs a linear search, never a wrong answer. A handful of masters are
    /// compared directly: cheaper than hashing the name (the client query path).
    pub fn master_index(&self, name: &str) -> Option<usize> {
        if self.masters.len() <= 4 {
            return self.masters.iter().position(|m| m.common.name == name);
        }
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

    /// Handle one event at time `now` (see the module documentation for the call order).
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
            Event::Hello { payload } => self.process_hello(&payload),
            Event::ScriptStarted { id, pid } => {
                let e = self.scripts.started(id, pid);
                self.push_script_events(e);
            }
            Event::ScriptSpawnFailed { id } => {
                let e = self.scripts.spawn_failed(id);
                self.push_script_events(e);
            }
            Event::ScriptExited { id, code, signal } => {
                let delay = self.timing.script_retry_delay;
                let e = self.scripts.exited(id, code, signal, now, delay);
                self.push_script_events(e);
            }
        }
    }

    /// `+monitor` for every master, as at start-up (see also
    /// [`Sentinel::announce_startup`]).
    pub fn announce_monitors(&mut self, now: u64) {
        self.now = now;
        self.announce_all_monitors();
    }

    fn push_script_events(&mut self, events: impl IntoIterator<Item = scripts::ScriptEvent>) {
        for e in events {
            self.push(e.into());
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
    fn run_script(&mut self, path: &str, args: Vec<String>) {
        self.scripts.schedule(path, args);
    }
}

/// Tests only: the state a fixture may set directly, from [`Sentinel::test_access`].
#[doc(hidden)]
pub struct TestAccess<'a> {
    /// The time of the last input, which `&self` reads such as
    /// [`Sentinel::select_replica`] measure ages at.
    pub now: &'a mut u64,
    pub masters: &'a mut Vec<Master>,
    pub links: &'a mut BTreeMap<LinkId, Link>,
    pub current_epoch: &'a mut u64,
    pub tilt: &'a mut bool,
    pub tilt_start_time: &'a mut u64,
    /// The actions not drained yet (to hand the shell arbitrary actions).
    pub outbox: &'a mut Vec<Action>,
}

impl Sentinel {
    /// Tests only: direct access to a few fields, for fixtures that put one core in a
    /// state the fake world would need a long scripted exchange to reach (a replica's
    /// offset and priority, links in steady state, TILT entered long ago). The shell
    /// never calls it: the program changes the state only through the inputs listed in
    /// the module documentation. Edits of `masters` must not add or remove masters.
    #[doc(hidden)]
    pub fn test_access(&mut self) -> TestAccess<'_> {
        TestAccess {
            now: &mut self.now,
            masters: &mut self.masters,
            links: &mut self.links,
            current_epoch: &mut self.current_epoch,
            tilt: &mut self.tilt,
            tilt_start_time: &mut self.tilt_start_time,
            outbox: &mut self.outbox,
        }
    }

    /// Tests only: start a failover attempt of master `m` at `now` the way the
    /// election does, without its preconditions.
    #[doc(hidden)]
    pub fn test_start_failover(&mut self, now: u64, m: usize) {
        self.now = now;
        self.start_failover(m);
    }

    /// Tests only: run master `m`'s election for `epoch` at `now` as the failover's
    /// `wait_start` state does (casting our vote on the way); the winner, if any.
    #[doc(hidden)]
    pub fn test_get_leader(&mut self, now: u64, m: usize, epoch: u64) -> Option<String> {
        self.now = now;
        self.get_leader(m, epoch)
    }

    /// Tests only: send the SLAVEOF transaction (or SLAVEOF NO ONE, `target` `None`) to
    /// instance `i` at `now`, as the failover does when it promotes or reconfigures.
    #[doc(hidden)]
    pub fn test_send_slaveof(
        &mut self,
        now: u64,
        i: monitor::Inst,
        target: Option<(&str, u16)>,
    ) -> bool {
        self.now = now;
        self.send_slaveof(i, target)
    }
}

/// 40 lowercase hex characters, the format of run ids and myids.
pub fn random_hex_id(rng: &mut StdRng) -> String {
    (0..40)
        .map(|_| std::char::from_digit(rng.gen_range(0..16), 16).unwrap())
        .collect()
}
