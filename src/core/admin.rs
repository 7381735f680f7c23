//! State mutations behind the administrative SENTINEL subcommands: MONITOR, REMOVE,
//! RESET, FAILOVER and the parts of SET / CONFIG SET that touch more than one field.
//!
//! They live in the core (not in the command layer) because the monitoring and failover
//! logic reuses them: the switch to a promoted replica is a reset that keeps the
//! sentinels, and an automatic failover starts exactly like a manual one.

use super::events::Subject;
use super::instance::*;
use super::vote::MAX_DESYNC_MS;
use super::{Action, Sentinel};
use crate::config::{LogLevel, MasterConfig};
use rand::Rng;

/// Default [`Sentinel::is_executable`]: `access(path, X_OK)`, the check redis-sentinel
/// applies to script paths (root passes it for any file with one execute bit).
pub fn access_executable(path: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(path) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
}

/// Why MONITOR could not create a master (texts as redis-sentinel replies them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateError {
    InvalidPort,
    DuplicateName,
}

/// Why SENTINEL FAILOVER refused to start an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailoverError {
    /// A failover of that master already runs.
    InProgress,
    /// No replica qualifies for promotion right now.
    NoGoodReplica,
    /// A coordinated failover was asked for but the master cannot hand over: it is
    /// down or its link is (issue #10).
    MasterUnreachable,
}

/// A per-master setting SENTINEL SET changes (values already validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterOption {
    DownAfter(u64),
    FailoverTimeout(u64),
    ParallelSyncs(i64),
    Quorum(u32),
    MasterRebootDownAfterPeriod(u64),
    /// `None` clears the script.
    NotificationScript(Option<String>),
    ClientReconfigScript(Option<String>),
    AuthPass(Option<String>),
    AuthUser(Option<String>),
    /// `rename-command <cmd> <new>`.
    RenameCommand(String, String),
    /// `proxy <port>` / `proxy-replicas <port>` (rsentinel's proxy, issue #11); 0 = off.
    Proxy(u16),
    ProxyReplicas(u16),
    /// `coordinated-failover yes|no` (issue #10).
    CoordinatedFailover(bool),
}

/// A process-wide setting SENTINEL CONFIG SET changes (values already validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobalOption {
    ResolveHostnames(bool),
    AnnounceHostnames(bool),
    /// `None`: unset (7.0.15 stores "" and shows it identically).
    AnnounceIp(Option<String>),
    AnnouncePort(u16),
    SentinelUser(Option<String>),
    SentinelPass(Option<String>),
}

impl CreateError {
    pub fn text(self) -> &'static str {
        match self {
            CreateError::InvalidPort => "Invalid port number.",
            CreateError::DuplicateName => "Duplicate master name.",
        }
    }
}

/// The SENTINEL command operations: each takes the time it arrives at, records it and
/// changes the state the way the subcommand does in redis-sentinel.
impl Sentinel {
    /// SENTINEL MONITOR after argument validation: create the master with the current
    /// DEBUG defaults, flush the config, then emit `+monitor`. Returns its index.
    pub fn monitor(
        &mut self,
        now: u64,
        name: &str,
        host: &str,
        port: i64,
        quorum: u32,
    ) -> Result<usize, CreateError> {
        self.now = now;
        self.monitor_master(name, host, port, quorum)
    }

    /// SENTINEL REMOVE of master `m`: `-monitor`, forget it with its replicas and
    /// sentinels, release their links, flush.
    pub fn remove(&mut self, now: u64, m: usize) {
        self.now = now;
        self.remove_master(m);
    }

    /// SENTINEL RESET of master `m`, with `+reset-master`; no flush.
    pub fn reset(&mut self, now: u64, m: usize) {
        self.now = now;
        self.reset_master(m, false, true);
    }

    /// SENTINEL FAILOVER of master `m`: refused while one runs or when no replica
    /// qualifies now; otherwise a forced attempt starts (it skips the majority
    /// requirement of the election).
    ///
    /// With `coordinated-failover yes` set on the master the attempt is coordinated
    /// (see [`Sentinel::failover_coordinated`]) when the master can hand over, and an
    /// ordinary one when it cannot (it is down: a manual failover must still work).
    pub fn failover(&mut self, now: u64, m: usize) -> Result<(), FailoverError> {
        let coordinated = self.masters[m].coordinated_failover;
        self.manual_failover(now, m, coordinated, false)
    }

    /// SENTINEL FAILOVER `<name>` COORDINATED (issue #10): like [`Sentinel::failover`],
    /// but the master hands over through `FAILOVER TO` (see `coordinated`); refused
    /// when the master is down or unreachable.
    pub fn failover_coordinated(&mut self, now: u64, m: usize) -> Result<(), FailoverError> {
        self.manual_failover(now, m, true, true)
    }

    fn manual_failover(
        &mut self,
        now: u64,
        m: usize,
        coordinated: bool,
        required: bool,
    ) -> Result<(), FailoverError> {
        self.now = now;
        if self.masters[m].common.flags & flags::FAILOVER_IN_PROGRESS != 0 {
            return Err(FailoverError::InProgress);
        }
        if self.select_replica(m).is_none() {
            return Err(FailoverError::NoGoodReplica);
        }
        let reachable = self.master_can_hand_over(m);
        if coordinated && required && !reachable {
            return Err(FailoverError::MasterUnreachable);
        }
        let name = self.masters[m].common.name.clone();
        self.push(Action::Log {
            level: LogLevel::Warning,
            text: format!("Executing user requested FAILOVER of '{name}'"),
        });
        self.start_failover(m);
        self.masters[m].common.flags |= flags::FORCE_FAILOVER;
        if coordinated && reachable {
            self.masters[m].handover = Some(Handover::default());
        }
        Ok(())
    }

    /// The master can run `FAILOVER TO`: connected, not SDOWN, reporting `role:master`.
    fn master_can_hand_over(&self, m: usize) -> bool {
        let c = &self.masters[m].common;
        !self.link_of(super::monitor::Inst::Master(m)).disconnected()
            && c.flags & flags::S_DOWN == 0
            && c.role_reported == Role::Master
    }

    /// SENTINEL IS-MASTER-DOWN-BY-ADDR for master `m` (`None`: no master at that
    /// address): our SDOWN view (never down in TILT) and, when `runid` asks for a vote,
    /// our vote for `epoch` (possibly an older one): `(down, leader, leader_epoch)`.
    pub fn is_master_down_by_addr(
        &mut self,
        now: u64,
        m: Option<usize>,
        epoch: u64,
        runid: Option<&str>,
    ) -> (bool, Option<String>, u64) {
        self.now = now;
        let down =
            m.is_some_and(|m| !self.tilt && self.masters[m].common.flags & flags::S_DOWN != 0);
        let mut vote = (None, 0);
        if let (Some(m), Some(runid)) = (m, runid) {
            vote = self.vote_leader(m, epoch, runid);
        }
        (down, vote.0, vote.1)
    }

    /// One option of SENTINEL SET on master `m`, then `+set <master> <shown>` (`shown`
    /// is the option and values as the client typed them, secrets redacted). The caller
    /// flushes once after the last option with [`Sentinel::flush_config`].
    pub fn set_master_option(&mut self, now: u64, m: usize, option: MasterOption, shown: &str) {
        self.now = now;
        let master = &mut self.masters[m];
        match option {
            MasterOption::DownAfter(ms) => self.set_down_after(m, ms),
            MasterOption::FailoverTimeout(ms) => master.failover_timeout_ms = ms,
            MasterOption::ParallelSyncs(n) => master.parallel_syncs = n,
            MasterOption::Quorum(q) => master.quorum = q,
            MasterOption::MasterRebootDownAfterPeriod(ms) => {
                master.master_reboot_down_after_period_ms = ms
            }
            MasterOption::NotificationScript(p) => master.notification_script = p,
            MasterOption::ClientReconfigScript(p) => master.client_reconfig_script = p,
            MasterOption::AuthPass(p) => {
                master.auth_pass = p;
                // Reconnect to the master and its replicas with the new credentials.
                self.drop_master_connections(m);
            }
            MasterOption::AuthUser(u) => {
                master.auth_user = u;
                self.drop_master_connections(m);
            }
            MasterOption::RenameCommand(cmd, new) => self.set_rename_command(m, &cmd, &new),
            MasterOption::Proxy(port) => {
                let was = master.proxy_port;
                master.proxy_port = port;
                if (was == 0) != (port == 0) {
                    self.follow_handover(m, port != 0);
                }
            }
            MasterOption::ProxyReplicas(port) => master.proxy_replicas_port = port,
            MasterOption::CoordinatedFailover(on) => master.coordinated_failover = on,
        }
        let name = self.masters[m].common.name.clone();
        self.emit(LogLevel::Warning, "+set", Subject::Master(&name), shown);
    }

    /// Whether SENTINEL SET may use `path` as a script: `access(path, X_OK)`, or the
    /// check given to [`Sentinel::set_executable_check`].
    pub fn is_executable(&self, path: &str) -> bool {
        (self.is_executable)(path)
    }

    /// One option of SENTINEL CONFIG SET, then a flush. New sentinel credentials drop
    /// the connections to the peer sentinels so they reconnect with them.
    pub fn set_global_option(&mut self, now: u64, option: GlobalOption) {
        self.now = now;
        let mut drop_conns = false;
        match option {
            GlobalOption::ResolveHostnames(b) => self.resolve_hostnames = b,
            GlobalOption::AnnounceHostnames(b) => self.announce_hostnames = b,
            GlobalOption::AnnounceIp(ip) => self.announce_ip = ip,
            GlobalOption::AnnouncePort(p) => self.announce_port = p,
            GlobalOption::SentinelUser(u) => {
                self.sentinel_user = u;
                drop_conns = true;
            }
            GlobalOption::SentinelPass(p) => {
                self.sentinel_pass = p;
                drop_conns = true;
            }
        }
        self.push(Action::PersistConfig);
        if drop_conns {
            self.drop_sentinel_connections();
        }
    }

    /// SENTINEL DEBUG `<knob> <ms>` (name matched case-insensitively, see
    /// [`super::Timing::KNOBS`]); not persisted. False for an unknown knob.
    pub fn set_debug_knob(&mut self, now: u64, knob: &str, ms: u64) -> bool {
        self.now = now;
        match self.timing.knob_mut(knob) {
            Some(v) => {
                *v = ms;
                true
            }
            None => false,
        }
    }

    /// SENTINEL SIMULATE-FAILURE: clear every simulated failure.
    pub fn clear_simulated_failures(&mut self, now: u64) {
        self.now = now;
        self.simfailure_flags = 0;
    }

    /// SENTINEL SIMULATE-FAILURE: add one (a `SIMFAILURE_*` bit), logged as
    /// redis-sentinel logs it.
    pub fn simulate_failure(&mut self, now: u64, bit: u32) {
        self.now = now;
        let what = if bit == super::SIMFAILURE_CRASH_AFTER_ELECTION {
            "crash after being successfully elected as failover leader"
        } else {
            "crash after promoting the selected replica to master"
        };
        self.simfailure_flags |= bit;
        self.push(Action::Log {
            level: LogLevel::Warning,
            text: format!("Failure simulation: this Sentinel will {what}"),
        });
    }

    /// Rewrite the config file (SENTINEL FLUSHCONFIG, and after SENTINEL SET).
    pub fn flush_config(&mut self, now: u64) {
        self.now = now;
        self.push(Action::PersistConfig);
    }

    /// The start-up sequence once the shell runs: flush a freshly generated myid
    /// (`myid_generated`), log `Sentinel ID is ...`, then `+monitor` each master.
    pub fn announce_startup(&mut self, now: u64, myid_generated: bool) {
        self.now = now;
        if myid_generated {
            self.push(Action::PersistConfig);
        }
        self.push(Action::Log {
            level: LogLevel::Warning,
            text: format!("Sentinel ID is {}", self.myid),
        });
        self.announce_all_monitors();
    }

    /// Close both connections of a link but keep the link (it reconnects on the next
    /// tick). Closing the command connection forgets its pending requests, whose replies
    /// can no longer arrive.
    pub(super) fn close_link_conns(&mut self, id: LinkId) {
        self.close_conn(id, ConnKind::Cmd);
        self.close_conn(id, ConnKind::PubSub);
    }

    /// Drop the connections to a master and all its replicas, so they reconnect with new
    /// credentials (SENTINEL SET auth-pass / auth-user).
    pub(super) fn drop_master_connections(&mut self, m: usize) {
        let mut ids = vec![self.masters[m].common.link];
        ids.extend(self.masters[m].replicas.iter().map(|r| r.common.link));
        for id in ids {
            self.close_link_conns(id);
        }
    }

    /// Drop every connected link to a peer sentinel (CONFIG SET sentinel-user/-pass).
    /// Returns how many were dropped.
    pub(super) fn drop_sentinel_connections(&mut self) -> usize {
        let ids: Vec<LinkId> = self
            .masters
            .iter()
            .flat_map(|m| m.sentinels.iter().map(|s| s.common.link))
            .collect();
        let mut dropped = 0;
        for id in ids {
            if self.links.get(&id).is_some_and(|l| !l.disconnected()) {
                self.close_link_conns(id);
                dropped += 1;
            }
        }
        dropped
    }

    /// SENTINEL MONITOR after argument validation: create the master with the current
    /// defaults, flush the config, then emit `+monitor` (flush first, as redis-sentinel
    /// replies before it publishes). Returns the new master's index.
    pub(super) fn monitor_master(
        &mut self,
        name: &str,
        host: &str,
        port: i64,
        quorum: u32,
    ) -> Result<usize, CreateError> {
        if !(0..=65535).contains(&port) {
            return Err(CreateError::InvalidPort);
        }
        if self.master(name).is_some() {
            return Err(CreateError::DuplicateName);
        }
        let mut cfg = MasterConfig::new(name, host, port as u16, quorum);
        cfg.down_after_ms = self.timing.default_down_after;
        cfg.failover_timeout_ms = self.timing.default_failover_timeout;
        self.add_master_from_config(&cfg);
        self.push(Action::PersistConfig);
        self.emit(
            LogLevel::Warning,
            "+monitor",
            Subject::Master(name),
            &format!("quorum {}", quorum as i32),
        );
        Ok(self.masters.len() - 1)
    }

    /// SENTINEL REMOVE: `-monitor`, forget the master with its replicas and sentinels,
    /// release their links, flush.
    pub(super) fn remove_master(&mut self, m: usize) {
        let name = self.masters[m].common.name.clone();
        self.emit(LogLevel::Warning, "-monitor", Subject::Master(&name), "");
        let master = self.masters.remove(m);
        self.reindex_masters();
        self.release_instance_links(&master);
        self.push(Action::PersistConfig);
    }

    fn release_instance_links(&mut self, master: &Master) {
        self.release_link(master.common.link);
        for r in &master.replicas {
            self.release_link(r.common.link);
        }
        for s in &master.sentinels {
            self.release_link(s.common.link);
        }
    }

    /// Reset master `m` (SENTINEL RESET, and step 2 of the switch to a promoted replica
    /// with `keep_sentinels`): forget replicas (and sentinels), close the master's
    /// connections, clear runtime flags, the vote and any failover, and restart the link
    /// timers. Configured settings, epochs and the cached INFO stay. `+reset-master` is
    /// emitted when `event` is set. No flush: redis-sentinel does not flush on RESET.
    pub(super) fn reset_master(&mut self, m: usize, keep_sentinels: bool, event: bool) {
        let replicas = std::mem::take(&mut self.masters[m].replicas);
        for r in &replicas {
            self.release_link(r.common.link);
        }
        if !keep_sentinels {
            let sentinels = std::mem::take(&mut self.masters[m].sentinels);
            for s in &sentinels {
                self.release_link(s.common.link);
            }
        }
        let link = self.masters[m].common.link;
        self.close_link_conns(link);
        let now = self.now;
        if let Some(l) = self.links.get_mut(&link) {
            l.act_ping_time = now;
            l.last_ping_time = 0;
            l.last_avail_time = now;
            l.last_pong_time = now;
        }
        let master = &mut self.masters[m];
        master.common.flags &= flags::MASTER;
        master.leader = None;
        master.failover_state = FailoverState::None;
        master.failover_state_change_time = 0;
        master.failover_start_time = 0;
        master.promoted = None;
        master.handover = None;
        master.handed_over_from = None;
        master.peer_handover = None;
        master.handover_notice = None;
        master.common.runid.clear();
        master.common.role_reported_time = now;
        master.common.role_reported = Role::Master;
        if event {
            let name = master.common.name.clone();
            self.emit(
                LogLevel::Warning,
                "+reset-master",
                Subject::Master(&name),
                "",
            );
        }
    }

    /// Start a failover attempt for master `m` (§7.1): state `wait_start`, a new epoch
    /// (`+new-epoch`, not flushed: the self-vote that follows flushes), `+try-failover`,
    /// and a start time with random jitter.
    pub(super) fn start_failover(&mut self, m: usize) {
        // uint64 in Redis: a hello can push the epoch to the maximum, and it wraps.
        self.current_epoch = self.current_epoch.wrapping_add(1);
        let epoch = self.current_epoch;
        let master = &mut self.masters[m];
        master.failover_state = FailoverState::WaitStart;
        master.handover_notice = None;
        master.common.flags |= flags::FAILOVER_IN_PROGRESS;
        master.failover_epoch = epoch;
        let name = master.common.name.clone();
        self.emit_bare(LogLevel::Warning, "+new-epoch", m, &epoch.to_string());
        self.emit(
            LogLevel::Warning,
            "+try-failover",
            Subject::Master(&name),
            "",
        );
        let jitter = self.rng.gen_range(0..MAX_DESYNC_MS);
        let master = &mut self.masters[m];
        master.failover_start_time = self.now + jitter;
        master.failover_state_change_time = self.now;
    }

    /// `down-after-milliseconds` applies to the master and is copied to every replica
    /// and sentinel record of it.
    pub(super) fn set_down_after(&mut self, m: usize, ms: u64) {
        let master = &mut self.masters[m];
        master.common.down_after_ms = ms;
        for r in &mut master.replicas {
            r.common.down_after_ms = ms;
        }
        for s in &mut master.sentinels {
            s.common.down_after_ms = ms;
        }
    }

    /// `rename-command <cmd> <new>`: replaces any older mapping of `cmd` (matched
    /// case-insensitively); renaming a command to itself just removes the mapping.
    pub(super) fn set_rename_command(&mut self, m: usize, cmd: &str, new: &str) {
        let renames = &mut self.masters[m].rename_commands;
        renames.retain(|(c, _)| !c.eq_ignore_ascii_case(cmd));
        if !cmd.eq_ignore_ascii_case(new) {
            renames.push((cmd.to_string(), new.to_string()));
        }
    }

    /// The master whose address matches `host`/`port` (IP, or hostname compared
    /// case-insensitively), as IS-MASTER-DOWN-BY-ADDR looks masters up.
    pub fn master_by_addr(&self, host: &str, port: u16) -> Option<usize> {
        self.masters.iter().position(|m| {
            m.common.port == port
                && (m.common.ip == host || m.common.host.eq_ignore_ascii_case(host))
        })
    }

    /// The address clients should use for master `m`: the promoted replica's once the
    /// failover reached `reconf_slaves`, else the master's own.
    pub fn current_master_addr(&self, m: usize) -> (String, u16) {
        let (host, port) = self.current_master_addr_ref(m);
        (host.to_string(), port)
    }

    /// [`Self::current_master_addr`] without copying the host (the client query path
    /// encodes it straight into the reply).
    pub fn current_master_addr_ref(&self, m: usize) -> (&str, u16) {
        let master = &self.masters[m];
        let switching = master.common.flags & flags::FAILOVER_IN_PROGRESS != 0
            && matches!(
                master.failover_state,
                FailoverState::ReconfSlaves | FailoverState::UpdateConfig
            );
        let promoted = master
            .promoted
            .as_deref()
            .and_then(|p| master.replica(p))
            .filter(|_| switching);
        let c = promoted.map_or(&master.common, |r| &r.common);
        (self.announced_addr(c), c.port)
    }
}
