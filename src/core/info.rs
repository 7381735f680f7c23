//! INFO replies: what they teach (run id, role, replicas, replication state) and what
//! they make this sentinel do (re-point replicas that follow the wrong master, notice a
//! promotion, follow the re-pointing of replicas during a failover).

use super::dns::Lookup;
use super::instance::*;
use super::monitor::Inst;
use super::{Action, Sentinel};
use crate::config::LogLevel;

/// What one INFO text says, before it is applied.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParsedInfo {
    pub run_id: Option<String>,
    pub role: Option<Role>,
    /// `slaveN:` lines (only meaningful in a master's INFO), as (ip, port).
    pub replicas: Vec<(String, u16)>,
    /// Milliseconds; 0 when the line is absent.
    pub master_link_down_ms: u64,
    pub master_host: Option<String>,
    pub master_port: Option<u16>,
    pub master_link_up: Option<bool>,
    pub priority: Option<i64>,
    pub repl_offset: Option<u64>,
    pub announced: Option<bool>,
}

/// Parse INFO the way redis-sentinel does: line prefixes, replication fields only
/// after `role:slave`.
pub fn parse_info(text: &str) -> ParsedInfo {
    use super::hello::atoi;
    let mut p = ParsedInfo::default();
    for l in text.split("\r\n") {
        if l.len() >= 47 && l.starts_with("run_id:") {
            // Redis copies 40 bytes: the text may hold multi-byte characters (or the
            // U+FFFD of invalid bytes) across the cut, so cut the bytes, not the str.
            p.run_id = Some(String::from_utf8_lossy(&l.as_bytes()[7..47]).into_owned());
        }
        let b = l.as_bytes();
        if l.len() >= 7
            && l.starts_with("slave")
            && b[5].is_ascii_digit()
            && let Some(addr) = parse_replica_line(l)
        {
            p.replicas.push(addr);
        }
        if l.len() >= 32 && l.starts_with("master_link_down_since_seconds") {
            // Capped at i64::MAX (replica selection compares it as a signed number).
            p.master_link_down_ms = (atoi(l.get(31..).unwrap_or("")).max(0) as u64)
                .saturating_mul(1000)
                .min(i64::MAX as u64);
        }
        if l.starts_with("role:master") {
            p.role = Some(Role::Master);
        } else if l.starts_with("role:slave") {
            p.role = Some(Role::Slave);
        }
        if p.role != Some(Role::Slave) {
            continue;
        }
        if let Some(v) = l.strip_prefix("master_host:") {
            p.master_host = Some(v.to_string());
        } else if let Some(v) = l.strip_prefix("master_port:") {
            p.master_port = Some(atoi(v) as u16);
        } else if let Some(v) = l.strip_prefix("master_link_status:") {
            p.master_link_up = Some(v.eq_ignore_ascii_case("up"));
        } else if let Some(v) = l.strip_prefix("slave_priority:") {
            p.priority = Some(atoi(v));
        } else if let Some(v) = l.strip_prefix("slave_repl_offset:") {
            p.repl_offset = Some(atoi(v).max(0) as u64);
        } else if let Some(v) = l.strip_prefix("replica_announced:") {
            p.announced = Some(atoi(v) != 0);
        }
    }
    p
}

/// `slaveN:ip=..,port=..,...` or the pre-2.8 `slaveN:<ip>,<port>,<state>`.
fn parse_replica_line(l: &str) -> Option<(String, u16)> {
    let (ip, port) = if let Some(pos) = l.find("ip=") {
        let ip = l[pos + 3..].split(',').next()?;
        let port = l[l.find("port=")? + 5..].split(',').next()?;
        (ip, port)
    } else {
        let mut it = l[l.find(':')? + 1..].split(',');
        let (ip, port) = (it.next()?, it.next()?);
        it.next()?;
        (ip, port)
    };
    Some((ip.to_string(), super::hello::atoi(port) as u16))
}

impl Sentinel {
    /// Apply an INFO reply from master or replica `i`, then react to it.
    pub(crate) fn refresh_from_info(&mut self, i: Inst, text: &str) {
        let now = self.now;
        let p = parse_info(text);
        let mi = i.master();
        let c = self.common_mut(i);
        c.info = Some(text.to_string());
        if let Some(id) = &p.run_id {
            if c.runid.is_empty() {
                c.runid = id.clone();
            } else if c.runid != *id {
                c.runid = id.clone();
                self.emit_inst(LogLevel::Notice, "+reboot", i, "");
                let m = &mut self.masters[mi];
                if matches!(i, Inst::Master(_)) && m.master_reboot_down_after_period_ms != 0 {
                    m.common.flags |= flags::MASTER_REBOOT;
                    m.master_reboot_since = now;
                }
            }
        }
        if let Inst::Master(_) = i {
            for (ip, port) in &p.replicas {
                self.discover_replica(mi, ip, *port);
            }
        }
        if let Some(h) = &p.master_host {
            self.want_resolved(h);
        }
        if let Inst::Replica(_, ri) = i {
            let r = &mut self.masters[mi].replicas[ri];
            r.master_link_down_time = p.master_link_down_ms;
            if let Some(h) = &p.master_host
                && !r
                    .slave_master_host
                    .as_ref()
                    .is_some_and(|o| o.eq_ignore_ascii_case(h))
            {
                r.slave_master_host = Some(h.clone());
                r.common.slave_conf_change_time = now;
            }
            if let Some(port) = p.master_port
                && r.slave_master_port != port
            {
                r.slave_master_port = port;
                r.common.slave_conf_change_time = now;
            }
            if let Some(up) = p.master_link_up {
                r.master_link_status_up = up;
            }
            r.priority = p.priority.unwrap_or(r.priority);
            r.repl_offset = p.repl_offset.unwrap_or(r.repl_offset);
            r.announced = p.announced.unwrap_or(r.announced);
        }
        self.common_mut(i).info_refresh = now;

        let Some(role) = p.role else { return };
        let c = self.common_mut(i);
        if role != c.role_reported {
            c.role_reported_time = now;
            c.role_reported = role;
            if role == Role::Slave {
                c.slave_conf_change_time = now;
            }
            let configured = if matches!(i, Inst::Master(_)) {
                Role::Master
            } else {
                Role::Slave
            };
            let ch = if configured == role {
                "+role-change"
            } else {
                "-role-change"
            };
            let rest = format!("new reported role is {}", role.name());
            self.emit_inst(LogLevel::Verbose, ch, i, &rest);
        }
        if self.tilt {
            return;
        }
        if let Inst::Replica(_, ri) = i {
            self.act_on_replica_info(mi, ri, role);
        }
    }

    /// A `slaveN:` line of master `mi`: add the replica if new (`+slave`, flush).
    /// A name needs resolving first: without resolve-hostnames it is skipped (logged
    /// twice, by the lookup and by the creation attempt, like the real one); with it,
    /// the line waits for the answer.
    fn discover_replica(&mut self, mi: usize, ip: &str, port: u16) {
        match self.lookup(ip) {
            Lookup::Ip(_) => self.discover_resolved_replica(mi, ip, port),
            _ if !self.resolve_hostnames => {
                for _ in 0..2 {
                    self.push(Action::Log {
                        level: LogLevel::Warning,
                        text: format!("Failed to resolve hostname '{ip}'"),
                    });
                }
            }
            _ => self.wait_replica(mi, ip, port),
        }
    }

    /// Add the replica at `host` unless known. A name that failed to resolve still
    /// gets a record, with an empty IP (logged once more for the creation attempt).
    pub(crate) fn discover_resolved_replica(&mut self, mi: usize, host: &str, port: u16) {
        let ip = match self.lookup(host) {
            Lookup::Ip(ip) => ip,
            _ => {
                self.push(Action::Log {
                    level: LogLevel::Warning,
                    text: format!("Failed to resolve hostname '{host}'"),
                });
                String::new()
            }
        };
        let name = self.replica_name(host, &ip, port);
        if self.masters[mi].replica(&name).is_some() {
            return;
        }
        let down_after = self.masters[mi].common.down_after_ms;
        let r = self.new_replica(host, port, down_after);
        self.masters[mi].replicas.push(r);
        let ri = self.masters[mi].replicas.len() - 1;
        self.emit_inst(LogLevel::Notice, "+slave", Inst::Replica(mi, ri), "");
        self.push(Action::PersistConfig);
    }

    /// The acting half for a replica's INFO (not in TILT).
    fn act_on_replica_info(&mut self, mi: usize, ri: usize, role: Role) {
        let now = self.now;
        let i = Inst::Replica(mi, ri);
        let m = &self.masters[mi];
        let r = &m.replicas[ri];
        let (maddr, mport) = (self.announced_addr(&m.common).to_string(), m.common.port);
        if role == Role::Master {
            let wait = self.timing.publish_period * 4;
            if r.common.flags & flags::PROMOTED != 0
                && m.common.flags & flags::FAILOVER_IN_PROGRESS != 0
                && matches!(
                    m.failover_state,
                    FailoverState::WaitPromotion | FailoverState::CoordinatedHandover
                )
            {
                if m.failover_state == FailoverState::CoordinatedHandover {
                    self.handover_done(mi);
                }
                self.promotion_acknowledged(mi, ri);
            } else if r.common.flags & flags::PROMOTED == 0
                && self.master_looks_sane(mi)
                && self.no_down_for(&r.common, wait)
                && now.saturating_sub(r.common.role_reported_time) > wait
                && self.send_slaveof(i, Some((&maddr, mport)))
            {
                self.emit_inst(LogLevel::Notice, "+convert-to-slave", i, "");
            }
            return;
        }
        let follows_master = r.slave_master_port == mport
            && r.slave_master_host
                .as_deref()
                .is_some_and(|h| self.addr_matches_host(&m.common, h));
        if !follows_master {
            let wait = m.failover_timeout_ms;
            if self.master_looks_sane(mi)
                && self.no_down_for(&r.common, wait)
                && now.saturating_sub(r.common.slave_conf_change_time) > wait
                && self.send_slaveof(i, Some((&maddr, mport)))
            {
                self.emit_inst(LogLevel::Notice, "+fix-slave-config", i, "");
            }
        }
        self.reconf_progress(mi, ri);
    }

    /// During `reconf_slaves`: `reconf_sent` -> `reconf_inprog` once the replica follows
    /// the promoted one, -> `reconf_done` once its link is up.
    fn reconf_progress(&mut self, mi: usize, ri: usize) {
        let m = &self.masters[mi];
        let r = &m.replicas[ri];
        if r.common.flags & (flags::RECONF_SENT | flags::RECONF_INPROG) == 0 {
            return;
        }
        let Some(p) = m.promoted.as_ref().and_then(|p| m.replica(p)) else {
            return;
        };
        let follows = r.slave_master_port == p.common.port
            && r.slave_master_host
                .as_deref()
                .is_some_and(|h| self.addr_matches_host(&p.common, h));
        let i = Inst::Replica(mi, ri);
        if r.common.flags & flags::RECONF_SENT != 0 && follows {
            let c = self.common_mut(i);
            c.flags = (c.flags & !flags::RECONF_SENT) | flags::RECONF_INPROG;
            self.emit_inst(LogLevel::Notice, "+slave-reconf-inprog", i, "");
        }
        let r = &self.masters[mi].replicas[ri];
        if r.common.flags & flags::RECONF_INPROG != 0 && r.master_link_status_up {
            let c = self.common_mut(i);
            c.flags = (c.flags & !flags::RECONF_INPROG) | flags::RECONF_DONE;
            self.emit_inst(LogLevel::Notice, "+slave-reconf-done", i, "");
            // The next replica (parallel-syncs) or the end of the failover now, not on
            // the next tick (issue #9).
            if self.masters[mi].failover_state == FailoverState::ReconfSlaves {
                self.failover_progress_now(mi);
            }
        }
    }

    /// The promoted replica reports `role:master` (§7.5): adopt the failover epoch,
    /// move to `reconf_slaves`, announce, run the leader's reconfig script and force
    /// hellos on the next tick so observers switch quickly.
    fn promotion_acknowledged(&mut self, mi: usize, ri: usize) {
        let now = self.now;
        let m = &mut self.masters[mi];
        m.config_epoch = m.failover_epoch;
        m.failover_state = FailoverState::ReconfSlaves;
        m.failover_state_change_time = now;
        self.push(Action::PersistConfig);
        self.emit_inst(
            LogLevel::Warning,
            "+promoted-slave",
            Inst::Replica(mi, ri),
            "",
        );
        if self.simfailure_flags & super::SIMFAILURE_CRASH_AFTER_PROMOTION != 0 {
            self.sim_failure_crash();
            return;
        }
        self.emit_inst(
            LogLevel::Warning,
            "+failover-state-reconf-slaves",
            Inst::Master(mi),
            "",
        );
        let m = &self.masters[mi];
        if let Some(path) = m.client_reconfig_script.clone() {
            let (oa, op) = (self.announced_addr(&m.common).to_string(), m.common.port);
            let pr = &m.replicas[ri].common;
            let (pa, pp) = (self.announced_addr(pr).to_string(), pr.port);
            let args = vec![
                m.common.name.clone(),
                "leader".into(),
                "start".into(),
                oa,
                op.to_string(),
                pa,
                pp.to_string(),
            ];
            self.run_script(&path, args);
        }
        self.announce_promotion_now(mi);
        // Start reconfiguring the other replicas now, not on the next tick (issue #9).
        self.failover_progress_now(mi);
    }

    /// Make every record of master `mi` publish a hello on the next tick.
    pub(super) fn force_hello_update(&mut self, mi: usize) {
        let back = self.timing.publish_period + 1;
        let m = &mut self.masters[mi];
        let all = std::iter::once(&mut m.common)
            .chain(m.replicas.iter_mut().map(|r| &mut r.common))
            .chain(m.sentinels.iter_mut().map(|s| &mut s.common));
        for c in all {
            c.last_pub_time = c.last_pub_time.saturating_sub(back);
        }
    }

    /// The failover leader's hello about the promoted replica, now, on every record whose
    /// link is up (issue #9): the peers learn the new master in the input that promoted
    /// it instead of on the next tick, and that hello is most of what an observer's
    /// `+switch-master` waits for. Records whose link is down get it on the first tick
    /// after they reconnect ([`Self::force_hello_update`]). Observers that switch on a
    /// hello keep relaying on the next tick: the leader has already told everyone.
    fn announce_promotion_now(&mut self, mi: usize) {
        self.force_hello_update(mi);
        if !self.fast_failover() {
            return;
        }
        let m = &self.masters[mi];
        let records = std::iter::once(Inst::Master(mi))
            .chain((0..m.replicas.len()).map(|ri| Inst::Replica(mi, ri)))
            .chain((0..m.sentinels.len()).map(|si| Inst::Sentinel(mi, si)));
        for i in records.collect::<Vec<_>>() {
            if self.send_hello(i) {
                self.common_mut(i).last_pub_time = self.now;
            }
        }
    }

    /// Configured as master, reported master, not down, INFO fresh.
    pub fn master_looks_sane(&self, mi: usize) -> bool {
        let c = &self.masters[mi].common;
        c.flags & flags::MASTER != 0
            && c.role_reported == Role::Master
            && c.flags & (flags::S_DOWN | flags::O_DOWN) == 0
            && self.now.saturating_sub(c.info_refresh) < self.timing.info_period * 2
    }

    /// No SDOWN/ODOWN recorded in the last `ms` milliseconds.
    pub fn no_down_for(&self, c: &Common, ms: u64) -> bool {
        let recent = c.s_down_since.max(c.o_down_since);
        recent == 0 || self.now.saturating_sub(recent) > ms
    }

    /// The reconfiguration transaction (§7.6): MULTI, `SLAVEOF <host> <port>` (or
    /// `SLAVEOF NO ONE` for `None`), CONFIG REWRITE, CLIENT KILL TYPE normal|pubsub,
    /// EXEC, every name through the rename map, replies ignored. False when the
    /// instance has no command connection.
    pub(super) fn send_slaveof(&mut self, i: Inst, target: Option<(&str, u16)>) -> bool {
        let mi = i.master();
        let port;
        let (host, port) = match target {
            Some((h, p)) => {
                port = p.to_string();
                (h, port.as_str())
            }
            None => ("NO", "ONE"),
        };
        let cmds = [
            self.command(mi, "MULTI", &[]),
            self.command(mi, "SLAVEOF", &[host, port]),
            self.command(mi, "CONFIG", &["REWRITE"]),
            self.command(mi, "CLIENT", &["KILL", "TYPE", "normal"]),
            self.command(mi, "CLIENT", &["KILL", "TYPE", "pubsub"]),
            self.command(mi, "EXEC", &[]),
        ];
        let sent = cmds
            .into_iter()
            .all(|args| self.send_cmd(i, Request::Ignored, args));
        // With the fast failover (issue #9), an INFO right behind the transaction: the
        // instance answers it after EXEC, so the promotion (or the new master address)
        // is seen one round trip after it happened instead of at the next INFO poll.
        if sent
            && self.fast_failover()
            && self.masters[mi].common.flags & flags::FAILOVER_IN_PROGRESS != 0
        {
            let args = self.command(mi, "INFO", &[]);
            self.send_cmd(i, Request::Info, args);
        }
        sent
    }
}
