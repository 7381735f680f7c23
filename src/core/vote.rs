//! The vote procedure (SENTINEL.md §6.2): how this sentinel grants its one vote per epoch
//! per master, whether asked by a peer (IS-MASTER-DOWN-BY-ADDR with a run id) or by its
//! own leader election.

use super::instance::{FailoverState, flags};
use super::{Action, Sentinel};
use crate::config::LogLevel;
use rand::Rng;

/// redis-sentinel's `SENTINEL_MAX_DESYNC`: the random spread added to failover start
/// times so that sentinels do not all retry in the same millisecond.
pub const MAX_DESYNC_MS: u64 = 1000;

impl Sentinel {
    /// Vote for `runid` as failover leader of master `master` in epoch `req_epoch`, or
    /// return the vote already cast for that epoch (or a later one).
    ///
    /// Returns `(leader, leader_epoch)` of the master's current vote, which may be an
    /// older vote for somebody else. The config is flushed *before* each event, as
    /// redis-sentinel does, so a crash never publishes a vote that was not persisted.
    pub(super) fn vote_leader(
        &mut self,
        master: usize,
        req_epoch: u64,
        runid: &str,
    ) -> (Option<String>, u64) {
        if req_epoch > self.current_epoch {
            self.current_epoch = req_epoch;
            self.push(Action::PersistConfig);
            self.emit_bare(
                LogLevel::Warning,
                "+new-epoch",
                master,
                &req_epoch.to_string(),
            );
        }
        let m = &self.masters[master];
        // Per-master elections (issue #14, a deviation unless `upstream_election`): the
        // one vote per epoch is per master (`leader_epoch` only grows), so a request for
        // an epoch older than the current one can still be granted. redis-sentinel
        // refuses it, which makes all but the newest of many simultaneous failovers
        // (one epoch each) fail their elections and wait 2 x failover-timeout.
        // Never for an epoch older than the configuration this master already has:
        // redis-sentinel gets that from `current_epoch >= config_epoch`, per-master
        // votes need it said (a stale attempt must not win and promote a second time).
        let per_master = self.fast_failover() && req_epoch >= m.config_epoch;
        if m.leader_epoch < req_epoch
            && (per_master || self.current_epoch <= req_epoch)
            && !self.vote_held(master, runid)
        {
            let epoch = req_epoch;
            // A forced failover (SENTINEL FAILOVER) of ours runs in this epoch without
            // an election: our vote for it is ours, or we would help a second sentinel
            // promote under the same epoch (a deviation; redis-sentinel casts it on the
            // next tick and grants it to whoever asks first).
            let forced = m.common.flags & flags::FORCE_FAILOVER != 0
                && m.failover_state != FailoverState::None
                && m.failover_epoch == epoch
                && !self.upstream_election;
            let runid = if forced {
                self.myid.clone()
            } else {
                runid.to_string()
            };
            let runid = runid.as_str();
            let m = &mut self.masters[master];
            m.leader = Some(runid.to_string());
            m.leader_epoch = epoch;
            m.leader_vote_time = self.now;
            self.push(Action::PersistConfig);
            self.emit_bare(
                LogLevel::Warning,
                "+vote-for-leader",
                master,
                &format!("{runid} {epoch}"),
            );
            // Voting for someone else delays our own attempt for this master by
            // 2 x failover-timeout (measured from this start time).
            if !runid.eq_ignore_ascii_case(&self.myid) {
                let jitter = self.rng.gen_range(0..MAX_DESYNC_MS);
                self.masters[master].failover_start_time = self.now + jitter;
            }
        }
        let m = &self.masters[master];
        (m.leader.clone(), m.leader_epoch)
    }

    /// Whether our recent vote for another candidate still binds us (rsentinel's rules
    /// only). The candidate we voted for may have just been elected and be promoting a
    /// replica: granting a newer epoch to a second candidate (one that started its
    /// attempt before hearing of the first, which per-master elections and a mass
    /// failover make likely) elects a second leader that promotes another replica, two
    /// writable masters until the configs converge. So for as long as the election we
    /// voted in can run (the election timeout, at most failover-timeout), only the same
    /// candidate gets our vote again. redis-sentinel has the same window; the
    /// simulation's mass failover found it about once per hundred seeds.
    fn vote_held(&self, master: usize, runid: &str) -> bool {
        let m = &self.masters[master];
        if !self.fast_failover() || m.leader_vote_time == 0 {
            return false;
        }
        let Some(voted) = m.leader.as_deref() else {
            return false;
        };
        let hold = self.timing.election_timeout.min(m.failover_timeout_ms);
        // A clock that went back (TILT's case) ends the hold rather than stretching it.
        let since = self.now.checked_sub(m.leader_vote_time);
        !voted.eq_ignore_ascii_case(runid) && since.is_some_and(|d| d < hold)
    }
}
