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

impl CreateError {
    pub fn text(self) -> &'static str {
        match self {
            CreateError::InvalidPort => "Invalid port number.",
            CreateError::DuplicateName => "Duplicate master name.",
        }
    }
}

impl Sentinel {
    /// Close both connections of a link but keep the link (it reconnects on the next
    /// tick). Closing the command connection forgets its pending requests, whose replies
    /// can no longer arrive.
    pub fn close_link_conns(&mut self, id: LinkId) {
        self.close_conn(id, ConnKind::Cmd);
        self.close_conn(id, ConnKind::PubSub);
    }

    /// Drop the connections to a master and all its replicas, so they reconnect with new
    /// credentials (SENTINEL SET auth-pass / auth-user).
    pub fn drop_master_connections(&mut self, m: usize) {
        let mut ids = vec![self.masters[m].common.link];
        ids.extend(self.masters[m].replicas.iter().map(|r| r.common.link));
        for id in ids {
            self.close_link_conns(id);
        }
    }

    /// Drop every connected link to a peer sentinel (CONFIG SET sentinel-user/-pass).
    /// Returns how many were dropped.
    pub fn drop_sentinel_connections(&mut self) -> usize {
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
    pub fn monitor_master(
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
    pub fn remove_master(&mut self, m: usize) {
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
    pub fn reset_master(&mut self, m: usize, keep_sentinels: bool, event: bool) {
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
    pub fn start_failover(&mut self, m: usize) {
        // uint64 in Redis: a hello can push the epoch to the maximum, and it wraps.
        self.current_epoch = self.current_epoch.wrapping_add(1);
        let epoch = self.current_epoch;
        let master = &mut self.masters[m];
        master.failover_state = FailoverState::WaitStart;
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
    pub fn set_down_after(&mut self, m: usize, ms: u64) {
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
    pub fn set_rename_command(&mut self, m: usize, cmd: &str, new: &str) {
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
        (self.announced_addr(c).to_string(), c.port)
    }
}
