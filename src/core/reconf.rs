//! The end of a failover: re-pointing the other replicas at the promoted one
//! (`reconf_slaves`, SENTINEL.md §7.7), detecting the end, and switching the master
//! record to the promoted replica (`update_config`, §7.9).
//!
//! The walk reproduces redis-sentinel's two observable quirks on purpose: the
//! SLAVE-RECONF-TIMEOUT check is only reached while a parallel-syncs slot is free, and a
//! replica whose reconfiguration timed out is sent the transaction once more in the same
//! step (while already counted as done).

use super::Sentinel;
use super::instance::*;
use super::monitor::Inst;
use crate::config::LogLevel;

impl Sentinel {
    /// One `reconf_slaves` step for master `mi`: fill the parallel-syncs slots, then
    /// check whether the failover is over.
    pub(crate) fn reconf_next_slave(&mut self, mi: usize) {
        let Some(pi) = self.promoted_index(mi) else {
            return;
        };
        let pc = &self.masters[mi].replicas[pi].common;
        let target = (self.announced_addr(pc).to_string(), pc.port);
        let busy = flags::RECONF_SENT | flags::RECONF_INPROG;
        let mut in_progress = self.masters[mi]
            .replicas
            .iter()
            .filter(|r| r.common.flags & busy != 0)
            .count() as i64;
        let mut next = 0;
        while in_progress < self.masters[mi].parallel_syncs
            && next < self.masters[mi].replicas.len()
        {
            let ri = next;
            next += 1;
            let i = Inst::Replica(mi, ri);
            let r = &self.masters[mi].replicas[ri];
            if r.common.flags & (flags::PROMOTED | flags::RECONF_DONE) != 0 {
                continue;
            }
            if r.common.flags & flags::RECONF_SENT != 0
                && self.now as i64 - r.reconf_sent_time as i64
                    > self.timing.slave_reconf_timeout as i64
            {
                self.emit_inst(LogLevel::Notice, "-slave-reconf-sent-timeout", i, "");
                let c = self.common_mut(i);
                c.flags = (c.flags & !flags::RECONF_SENT) | flags::RECONF_DONE;
            }
            if self.common(i).flags & busy != 0 || self.link_of(i).disconnected() {
                continue;
            }
            if self.send_slaveof(i, Some((&target.0, target.1))) {
                let now = self.now;
                let r = &mut self.masters[mi].replicas[ri];
                r.common.flags |= flags::RECONF_SENT;
                r.reconf_sent_time = now;
                self.emit_inst(LogLevel::Notice, "+slave-reconf-sent", i, "");
                in_progress += 1;
            }
        }
        self.failover_detect_end(mi, pi, &target);
    }

    /// The failover is over when every reachable replica is reconfigured, or when
    /// `reconf_slaves` lasted longer than failover-timeout; in the latter case the
    /// replicas never contacted get one best-effort SLAVEOF. Nothing is decided while
    /// the promoted replica is SDOWN.
    fn failover_detect_end(&mut self, mi: usize, pi: usize, target: &(String, u16)) {
        let m = &self.masters[mi];
        if m.replicas[pi].common.flags & flags::S_DOWN != 0 {
            return;
        }
        let elapsed = self.now as i64 - m.failover_state_change_time as i64;
        let mut not_done = m
            .replicas
            .iter()
            .filter(|r| {
                r.common.flags & (flags::PROMOTED | flags::RECONF_DONE | flags::S_DOWN) == 0
            })
            .count();
        let timeout = elapsed > m.failover_timeout_ms as i64;
        let master = Inst::Master(mi);
        if timeout {
            not_done = 0;
            self.emit_inst(LogLevel::Warning, "+failover-end-for-timeout", master, "");
        }
        if not_done == 0 {
            self.emit_inst(LogLevel::Warning, "+failover-end", master, "");
            let m = &mut self.masters[mi];
            m.failover_state = FailoverState::UpdateConfig;
            m.failover_state_change_time = self.now;
        }
        if !timeout {
            return;
        }
        let skip = flags::PROMOTED | flags::RECONF_DONE | flags::RECONF_SENT;
        for ri in 0..self.masters[mi].replicas.len() {
            let i = Inst::Replica(mi, ri);
            if self.common(i).flags & skip != 0 || self.link_of(i).disconnected() {
                continue;
            }
            if self.send_slaveof(i, Some((&target.0, target.1))) {
                self.emit_inst(LogLevel::Notice, "+slave-reconf-sent-be", i, "");
                self.common_mut(i).flags |= flags::RECONF_SENT;
            }
        }
    }

    /// `update_config`: `+switch-master`, then point the record at the promoted replica
    /// (keeping the sentinels, re-creating the replicas with the old master among them,
    /// flushing). Runs after the timer walked every master, as in redis-sentinel.
    pub(crate) fn switch_to_promoted(&mut self, mi: usize) {
        let m = &self.masters[mi];
        let target = self
            .promoted_index(mi)
            .map_or(&m.common, |pi| &m.replicas[pi].common);
        let (new_host, new_addr, new_port) = (
            target.host.clone(),
            self.announced_addr(target).to_string(),
            target.port,
        );
        let payload = format!(
            "{} {} {} {new_addr} {new_port}",
            m.common.name,
            self.announced_addr(&m.common),
            m.common.port
        );
        let old = (m.common.host.clone(), m.common.port, false);
        // The address the proxy dialled (see `route::RouteView::master`).
        let handed_over_from = m
            .handover
            .is_some()
            .then(|| (self.announced_addr(&m.common).to_string(), m.common.port));
        self.emit_for_master(LogLevel::Warning, "+switch-master", mi, payload);
        self.reset_master_and_change_address(mi, &new_host, new_port);
        if handed_over_from.is_some() {
            self.masters[mi].handed_over_from = handed_over_from;
            self.masters[mi].unpause_after_switch = Some(old);
        }
    }
}
