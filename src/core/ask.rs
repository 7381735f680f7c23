//! `SENTINEL is-master-down-by-addr`: asking peers about a master we think is down
//! (and, during our own failover, asking for their vote), reading their replies, and
//! the lookup half of answering such a query ourselves.

use super::Sentinel;
use super::instance::*;
use super::monitor::Inst;
use crate::config::LogLevel;
use crate::core::Action;
use crate::resp::Reply;

/// Peer replies older than this many ASK periods no longer count.
const ASK_VALIDITY_PERIODS: u64 = 5;

impl Sentinel {
    /// One query round for master `mi`: expire stale peer answers, then query every
    /// connected peer whose last answer is at least ASK-PERIOD old (or all, `forced`),
    /// only while the master is SDOWN from our point of view.
    pub(crate) fn ask_other_sentinels(&mut self, mi: usize, forced: bool) {
        let now = self.now;
        let ask = self.timing.ask_period;
        for si in 0..self.masters[mi].sentinels.len() {
            let s = &mut self.masters[mi].sentinels[si];
            let elapsed = now.saturating_sub(s.last_master_down_reply_time);
            if elapsed > ask * ASK_VALIDITY_PERIODS {
                s.common.flags &= !flags::MASTER_DOWN;
                s.leader = None;
            }
            let m = &self.masters[mi];
            if m.common.flags & flags::S_DOWN == 0 {
                continue;
            }
            let i = Inst::Sentinel(mi, si);
            if self.link_of(i).disconnected() {
                continue;
            }
            if !forced && elapsed < self.reask_period(mi) {
                continue;
            }
            let addr = self.announced_addr(&m.common).to_string();
            let port = m.common.port.to_string();
            // Our run id asks for a vote in the current epoch: only while our attempt
            // runs in that very epoch (redis-sentinel also asks once it has been
            // overtaken, spending the newer epoch's votes on a stale attempt; see
            // `get_leader`). With per-master elections (issue #14) the attempt asks in
            // its own epoch, however many newer ones other masters' failovers took.
            let in_attempt = m.failover_state != FailoverState::None;
            let (epoch, runid) = if in_attempt && self.fast_failover() {
                (m.failover_epoch, self.myid.clone())
            } else if in_attempt
                && (m.failover_epoch == self.current_epoch || self.upstream_election)
            {
                (self.current_epoch, self.myid.clone())
            } else {
                (self.current_epoch, "*".to_string())
            };
            let epoch = epoch.to_string();
            let master = m.common.name.clone();
            let args = self.command(
                mi,
                "SENTINEL",
                &["is-master-down-by-addr", &addr, &port, &epoch, &runid],
            );
            self.send_cmd(i, Request::IsMasterDownByAddr { master }, args);
        }
    }

    /// How soon a peer is asked again about master `mi`: ASK-PERIOD, except while our
    /// own attempt waits for its election, when every `failover_info_period` (a
    /// deviation in speed only, issue #9: a peer votes once per epoch and answers the
    /// same vote again, so asking again changes no outcome, it only learns it sooner).
    fn reask_period(&self, mi: usize) -> u64 {
        let m = &self.masters[mi];
        let electing = m.common.flags & flags::FAILOVER_IN_PROGRESS != 0
            && m.failover_state == FailoverState::WaitStart;
        if electing && self.fast_failover() {
            self.timing.ask_period.min(self.timing.failover_info_period)
        } else {
            self.timing.ask_period
        }
    }

    /// A peer's answer: only `[int, bulk, int]` is accepted; it refreshes the peer's
    /// "master down" opinion and, when it carries a run id, the vote it reports.
    pub(crate) fn on_is_master_down_reply(&mut self, i: Inst, reply: &Reply) {
        let Inst::Sentinel(mi, si) = i else { return };
        let Reply::Array(items) = reply else { return };
        let [Reply::Int(down), Reply::Bulk(leader), Reply::Int(epoch)] = items.as_slice() else {
            return;
        };
        let now = self.now;
        let s = &mut self.masters[mi].sentinels[si];
        s.last_master_down_reply_time = now;
        if *down == 1 {
            s.common.flags |= flags::MASTER_DOWN;
        } else {
            s.common.flags &= !flags::MASTER_DOWN;
        }
        let vote = leader.as_ref() != b"*";
        if vote {
            let leader = String::from_utf8_lossy(leader).into_owned();
            let epoch = *epoch as u64;
            let log = (s.leader_epoch != epoch)
                .then(|| format!("{} voted for {} {}", s.common.name, leader, epoch));
            s.leader = Some(leader);
            s.leader_epoch = epoch;
            if let Some(text) = log {
                self.push(Action::Log {
                    level: LogLevel::Warning,
                    text,
                });
            }
        }
        self.act_on_peer_answer(mi);
    }

    /// Count a vote as it arrives instead of on the next tick (issue #9): while our
    /// attempt waits for its election, run that step now (the same check as the
    /// timer's, so only the gap shrinks; once elected, the next steps follow on the
    /// next ticks). ODOWN and the start of an attempt stay on the timer: starting on a
    /// reply would let several sentinels start before the first one's vote request
    /// reaches them (split votes). Not in TILT.
    fn act_on_peer_answer(&mut self, mi: usize) {
        if self.tilt || !self.fast_failover() {
            return;
        }
        let m = &self.masters[mi];
        if m.common.flags & flags::FAILOVER_IN_PROGRESS != 0
            && m.failover_state == FailoverState::WaitStart
        {
            self.failover_state_machine(mi);
        }
    }
}
