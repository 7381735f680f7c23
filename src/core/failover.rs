//! The failover state machine (SENTINEL.md §7.2): one step per timer run for a master
//! whose attempt is in progress.
//!
//! `wait_start` → `select_slave` → `send_slaveof_noone` → `wait_promotion` →
//! `reconf_slaves` → `update_config`. The move out of `wait_promotion` is not taken here
//! but when the promoted replica's INFO says `role:master` (info.rs); `reconf_slaves` and
//! the final switch live in reconf.rs. A coordinated failover (issue #10) replaces
//! `send_slaveof_noone` / `wait_promotion` with the states of coordinated.rs. Every
//! transition records the state-change time, which the per-state timeouts are measured
//! from.

use super::Sentinel;
use super::instance::*;
use super::monitor::Inst;
use crate::config::LogLevel;
use crate::core::{Action, SIMFAILURE_CRASH_AFTER_ELECTION};

impl Sentinel {
    /// Advance master `mi`'s failover by one step, if one is in progress.
    ///
    /// Event-driven (a deviation in speed only, issue #9): when a step moves to a state
    /// whose cause is already there (elected → `select_slave` → `send_slaveof_noone`),
    /// that state runs at once instead of on the next timer run, so the event sequence
    /// is redis-sentinel's and only the gaps between the events shrink.
    pub(crate) fn failover_state_machine(&mut self, mi: usize) {
        loop {
            if self.masters[mi].common.flags & flags::FAILOVER_IN_PROGRESS == 0 {
                return;
            }
            let before = self.masters[mi].failover_state;
            match before {
                FailoverState::WaitStart => self.failover_wait_start(mi),
                FailoverState::SelectSlave => self.failover_select_slave(mi),
                FailoverState::SendSlaveofNoone => self.failover_send_slaveof_noone(mi),
                FailoverState::WaitPromotion => self.failover_wait_promotion(mi),
                FailoverState::ReconfSlaves => self.reconf_next_slave(mi),
                FailoverState::SendFailoverTo => self.failover_send_failover_to(mi),
                FailoverState::CoordinatedHandover => self.failover_coordinated_handover(mi),
                FailoverState::None | FailoverState::UpdateConfig => {}
            }
            let after = self.masters[mi].failover_state;
            // Select at once only if a replica qualifies now: right after ODOWN the
            // replicas' INFO may still be older than the selection accepts (it is
            // polled every second only from ODOWN on), and the next tick may find it
            // fresh where an immediate selection would abort the attempt.
            let chain = match after {
                FailoverState::SelectSlave => self.select_replica(mi).is_some(),
                FailoverState::SendSlaveofNoone | FailoverState::SendFailoverTo => true,
                _ => false,
            };
            // A simulated crash asked the shell to exit: do nothing more.
            let crashed = self
                .outbox
                .last()
                .is_some_and(|a| matches!(a, Action::Exit(_)));
            if after == before || !chain || crashed || !self.fast_failover() {
                return;
            }
        }
    }

    /// Run master `mi`'s failover now, outside the timer, because one of its causes
    /// just arrived (a vote, the promotion seen in INFO, a replica reconfigured): the
    /// next state(s) and, once the failover is over, the switch itself. Not in TILT
    /// (the timer leaves TILT; an input never does). The caller must not use record
    /// positions of master `mi` afterwards: the switch re-creates its replicas.
    pub(crate) fn failover_progress_now(&mut self, mi: usize) {
        if self.tilt || !self.fast_failover() {
            return;
        }
        self.failover_state_machine(mi);
        if self.masters[mi].failover_state == FailoverState::UpdateConfig {
            self.switch_to_promoted(mi);
        }
    }

    /// Move to `state` now.
    fn set_failover_state(&mut self, mi: usize, state: FailoverState) {
        let m = &mut self.masters[mi];
        m.failover_state = state;
        m.failover_state_change_time = self.now;
    }

    /// `wait_start`: proceed once elected (or forced by SENTINEL FAILOVER); give up
    /// after min(election-timeout, failover-timeout) counted from the start time.
    ///
    /// Also give up as soon as the current epoch has moved past the attempt's epoch
    /// (a deviation, see `get_leader`): peers only vote in the epoch they are asked
    /// for, which is our current one, so no new vote for the attempt's epoch can come
    /// and asking on would only spend the newer epoch's votes on an attempt that may
    /// not count them. Replies already received still count, hence the leader check
    /// first. The start time stays, so the next attempt (at a newer epoch) keeps the
    /// usual 2 × failover-timeout pacing.
    fn failover_wait_start(&mut self, mi: usize) {
        let epoch = self.masters[mi].failover_epoch;
        let leader = self.get_leader(mi, epoch);
        let is_leader = leader.is_some_and(|l| l.eq_ignore_ascii_case(&self.myid));
        let m = &self.masters[mi];
        if !is_leader && m.common.flags & flags::FORCE_FAILOVER == 0 {
            let timeout = self.timing.election_timeout.min(m.failover_timeout_ms) as i64;
            // With per-master elections (issue #14) a newer epoch taken by another
            // master's failover does not stop votes for this one: only a newer vote of
            // ours for this master does.
            let overtaken = self.masters[mi].leader_epoch > epoch && !self.upstream_election;
            let m = &self.masters[mi];
            if overtaken || self.now as i64 - m.failover_start_time as i64 > timeout {
                let split = !overtaken && self.fast_failover() && self.election_split(mi, epoch);
                self.emit_inst(
                    LogLevel::Warning,
                    "-failover-abort-not-elected",
                    Inst::Master(mi),
                    "",
                );
                self.abort_failover(mi);
                if split {
                    self.retry_split_election(mi);
                }
            }
            return;
        }
        self.emit_inst(LogLevel::Warning, "+elected-leader", Inst::Master(mi), "");
        if self.simfailure_flags & SIMFAILURE_CRASH_AFTER_ELECTION != 0 {
            self.sim_failure_crash();
            return;
        }
        self.set_failover_state(mi, FailoverState::SelectSlave);
        self.emit_inst(
            LogLevel::Warning,
            "+failover-state-select-slave",
            Inst::Master(mi),
            "",
        );
    }

    /// `select_slave`: pick the replica to promote (§7.4) or abort.
    fn failover_select_slave(&mut self, mi: usize) {
        let Some(ri) = self.select_replica(mi) else {
            self.emit_inst(
                LogLevel::Warning,
                "-failover-abort-no-good-slave",
                Inst::Master(mi),
                "",
            );
            self.abort_failover(mi);
            return;
        };
        let r = Inst::Replica(mi, ri);
        self.emit_inst(LogLevel::Warning, "+selected-slave", r, "");
        self.common_mut(r).flags |= flags::PROMOTED;
        self.masters[mi].promoted = Some(self.common(r).name.clone());
        if self.masters[mi].handover.is_some() {
            // Coordinated (issue #10): the master hands over, see `coordinated`.
            self.set_failover_state(mi, FailoverState::SendFailoverTo);
            self.emit_inst(LogLevel::Notice, "+failover-state-send-failover-to", r, "");
            return;
        }
        self.set_failover_state(mi, FailoverState::SendSlaveofNoone);
        self.emit_inst(
            LogLevel::Notice,
            "+failover-state-send-slaveof-noone",
            r,
            "",
        );
    }

    /// The promoted replica's position, if the failover has one.
    pub(crate) fn promoted_index(&self, mi: usize) -> Option<usize> {
        let m = &self.masters[mi];
        let name = m.promoted.as_deref()?;
        m.replicas.iter().position(|r| r.common.name == name)
    }

    /// `send_slaveof_noone`: send the promotion transaction as soon as the replica's
    /// link is up; abort if it stays unreachable for failover-timeout.
    fn failover_send_slaveof_noone(&mut self, mi: usize) {
        let Some(ri) = self.promoted_index(mi) else {
            return;
        };
        let r = Inst::Replica(mi, ri);
        if self.link_of(r).disconnected() {
            let m = &self.masters[mi];
            let elapsed = self.now as i64 - m.failover_state_change_time as i64;
            if elapsed > m.failover_timeout_ms as i64 {
                self.emit_inst(
                    LogLevel::Warning,
                    "-failover-abort-slave-timeout",
                    Inst::Master(mi),
                    "",
                );
                self.abort_failover(mi);
            }
            return;
        }
        if !self.send_slaveof(r, None) {
            return;
        }
        self.emit_inst(LogLevel::Notice, "+failover-state-wait-promotion", r, "");
        self.set_failover_state(mi, FailoverState::WaitPromotion);
    }

    /// `wait_promotion`: only the timeout is handled here; the promotion itself is seen
    /// in the replica's INFO.
    fn failover_wait_promotion(&mut self, mi: usize) {
        let m = &self.masters[mi];
        if self.now as i64 - m.failover_state_change_time as i64 > m.failover_timeout_ms as i64 {
            self.emit_inst(
                LogLevel::Warning,
                "-failover-abort-slave-timeout",
                Inst::Master(mi),
                "",
            );
            self.abort_failover(mi);
        }
    }

    /// Give up an attempt (possible up to `wait_promotion`). The start time stays, so
    /// the next attempt waits 2 × failover-timeout.
    pub(super) fn abort_failover(&mut self, mi: usize) {
        if let Some(ri) = self.promoted_index(mi) {
            self.masters[mi].replicas[ri].common.flags &= !flags::PROMOTED;
        }
        let m = &mut self.masters[mi];
        m.common.flags &= !(flags::FAILOVER_IN_PROGRESS | flags::FORCE_FAILOVER);
        m.promoted = None;
        m.handover = None;
        self.set_failover_state(mi, FailoverState::None);
    }

    /// SENTINEL SIMULATE-FAILURE: log like redis-sentinel, then ask the shell to exit
    /// with code 99.
    pub(crate) fn sim_failure_crash(&mut self) {
        self.push(Action::Log {
            level: LogLevel::Warning,
            text: "Sentinel CRASH because of SENTINEL simulate-failure".into(),
        });
        self.push(Action::Exit(99));
    }
}
