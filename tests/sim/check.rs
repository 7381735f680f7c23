//! The safety invariants, checked after every step of every core.
//!
//! - One vote per epoch: once a sentinel is seen voting for a leader in epoch E (its
//!   `leader`/`leader_epoch` for a master), it never shows another leader for E, not
//!   even after a restart.
//! - One leader per epoch: at most one sentinel emits `+elected-leader` in epoch E
//!   (forced failovers excepted: redis-sentinel starts them without a majority).
//! - Epochs never go backwards on a running core; after a restart, the current epoch
//!   and every vote epoch are at least what the sentinel had already exposed through
//!   votes and config flushes.
//! - No two live sentinels hold different addresses for a master at the same config
//!   epoch (see `Checker::stale` for the one exemption redis-sentinel needs).
//!
//! The election properties behind "one leader per epoch" (issue #16: redis-sentinel
//! counts votes of its current epoch for a failover of an older one):
//! - A leader of epoch E holds votes *cast for E* from a majority of all sentinels, as
//!   the voters themselves recorded them (`Kind::ElectedWithoutVotes`).
//! - A sentinel asks for votes (is-master-down-by-addr with its run id) only in its
//!   attempt's own epoch, never in a newer one its attempt cannot use
//!   (`Kind::StaleVoteRequest`).
//! - A sentinel running a forced failover (SENTINEL FAILOVER) at epoch E never gives
//!   its vote for E to somebody else (`Kind::ForcedVoteGiven`).
//! - A sentinel whose elected failover runs at epoch E and that adopts a config epoch
//!   newer than E from a hello stops that failover in the same step
//!   (`Kind::SupersededFailover`); redis-sentinel lets it finish and switch to its own
//!   promoted replica under the adopted epoch, which is what `Checker::stale` exempts
//!   when the rules are redis-sentinel's.
//!
//! No two writable masters from a coordinated handover (issue #10,
//! `Kind::TwoWritableMasters`, raised by the model Redis in `handover`): no transition
//! of `FAILOVER TO` (promotion of the target, rollback, timeout, `FAILOVER ABORT`)
//! leaves the old master and its target both accepting writes.
//!
//! No spurious failover (issue #9, `Kind::SpuriousFailover`): in the liveness phase
//! (calm network, no faults) the master is killed once; from then on no sentinel may
//! report `+sdown`, `+odown` or `+try-failover` about any other address while that
//! address is a live master. redis-sentinel's flaw was exactly that: the new master
//! judged on the old one's silence and the peers' cached answers.

use super::Time;
use super::peer::SentinelNode;
use bytes::Bytes;
use rsentinel::config::SentinelConfig;
use rsentinel::core::Sentinel;
use rsentinel::core::instance::{FailoverState, flags};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    DoubleVote,
    TwoLeaders,
    EpochBackwards,
    VoteLost,
    ConfigConflict,
    NoConvergence,
    NoFailover,
    ElectedWithoutVotes,
    StaleVoteRequest,
    ForcedVoteGiven,
    SupersededFailover,
    SpuriousFailover,
    /// A coordinated handover (issue #10) left both of its ends writable masters.
    TwoWritableMasters,
    /// Mass failover (issue #14, [`super::multi`]): a sentinel switched a master more
    /// or less than once, or a master's replicas saw more than one promotion.
    SwitchCount,
    /// Mass failover: a `+switch-master` to an address that is not a live master of
    /// that master's own replicas in the model.
    WrongSwitch,
    /// Mass failover: not every master switched on every sentinel within the bound.
    SlowSwitch,
}

#[derive(Debug, Clone)]
pub struct Violation {
    pub kind: Kind,
    pub at: Time,
    pub text: String,
}

#[derive(Default)]
pub struct Checker {
    pub violation: Option<Violation>,
    /// Kinds not reported (`Options::skip_checks`).
    pub skip: Vec<Kind>,
    /// (myid, master, failover epoch) of every attempt seen running.
    attempts: BTreeSet<(String, String, u64)>,
    /// (voter myid, master, epoch) -> the run id it voted for.
    votes: BTreeMap<(String, String, u64), String>,
    /// (master, epoch) -> the run id that declared itself leader.
    leaders: BTreeMap<(String, u64), String>,
    /// (master, epoch) of failovers forced by SENTINEL FAILOVER.
    forced: BTreeSet<(String, u64)>,
    /// Highest current epoch seen per myid in the running incarnation.
    epoch_seen: BTreeMap<String, u64>,
    /// Per myid: the lowest current epoch a restart may come back with.
    durable: BTreeMap<String, u64>,
    /// Per (myid, master): the highest epoch it voted in.
    vote_durable: BTreeMap<(String, String), u64>,
    /// (myid, master, config epoch) adopted from a hello while that sentinel's own
    /// older failover was still running. redis-sentinel then keeps the new epoch but
    /// compares the hello's address with the pre-failover one, and its failover later
    /// switches to its own promoted replica under that epoch: a known 7.0.15 weakness,
    /// exempt from the conflict check rather than "fixed" here.
    stale: BTreeSet<(String, String, u64)>,
    /// Per (myid, master): highest config epoch seen in the running incarnation.
    config_seen: BTreeMap<(String, String), u64>,
    /// The addresses of the masters the liveness phase (or the mass failover of
    /// [`super::multi`]) killed, once it has; empty before.
    spurious_watch: BTreeSet<(String, u16)>,
}

impl Checker {
    /// Report a violation found outside the sentinels (the model Redis).
    pub fn fail_at(&mut self, kind: Kind, at: Time, text: String) {
        self.fail(kind, at, text);
    }

    fn fail(&mut self, kind: Kind, at: Time, text: String) {
        if self.violation.is_none() && !self.skip.contains(&kind) {
            self.violation = Some(Violation { kind, at, text });
        }
    }

    /// After core `i` handled something: its votes, epochs and config against history
    /// and against every other live core.
    pub fn observe(&mut self, at: Time, i: usize, nodes: &[SentinelNode]) {
        let Some(core) = nodes[i].live() else {
            return;
        };
        let id = core.myid().to_string();
        let seen = self.epoch_seen.entry(id.clone()).or_default();
        if core.current_epoch() < *seen {
            let text = format!("sentinel{i} epoch {} < {}", core.current_epoch(), *seen);
            return self.fail(Kind::EpochBackwards, at, text);
        }
        *seen = core.current_epoch();
        for m in core.masters() {
            let name = m.common.name.clone();
            if m.failover_state != FailoverState::None {
                self.attempts
                    .insert((id.clone(), name.clone(), m.failover_epoch));
            }
            if let Some(leader) = m.leader.as_ref().filter(|_| m.leader_epoch > 0) {
                self.vote(at, i, &id, &name, m.leader_epoch, leader);
                let forced = m.common.flags & flags::FORCE_FAILOVER != 0
                    && m.failover_state != FailoverState::None
                    && m.leader_epoch == m.failover_epoch;
                if forced && !leader.eq_ignore_ascii_case(&id) {
                    let text = format!(
                        "sentinel{i} runs a forced failover in epoch {} but voted {leader} ({name})",
                        m.leader_epoch
                    );
                    self.fail(Kind::ForcedVoteGiven, at, text);
                }
            }
            let prev = self.config_seen.get(&(id.clone(), name.clone())).copied();
            if m.config_epoch > prev.unwrap_or(0)
                && m.failover_state != FailoverState::None
                && m.failover_epoch < m.config_epoch
            {
                self.stale
                    .insert((id.clone(), name.clone(), m.config_epoch));
                if m.failover_state != FailoverState::WaitStart {
                    let text = format!(
                        "sentinel{i} adopted config epoch {} and goes on with its failover of epoch {} ({name}, {:?})",
                        m.config_epoch, m.failover_epoch, m.failover_state
                    );
                    self.fail(Kind::SupersededFailover, at, text);
                }
            }
            let cs = self
                .config_seen
                .entry((id.clone(), name.clone()))
                .or_default();
            if m.config_epoch < *cs {
                let text = format!(
                    "sentinel{i} {name} config epoch {} < {}",
                    m.config_epoch, cs
                );
                return self.fail(Kind::EpochBackwards, at, text);
            }
            *cs = m.config_epoch;
        }
        self.config_conflicts(at, i, core, nodes);
    }

    /// Record a vote (seen in a core's state or in a vote reply it sent) and compare
    /// it with the one already seen from that voter for that epoch.
    pub fn vote(
        &mut self,
        at: Time,
        i: usize,
        voter: &str,
        master: &str,
        epoch: u64,
        leader: &str,
    ) {
        let key = (voter.to_string(), master.to_string(), epoch);
        match self.votes.get(&key) {
            Some(prev) if !prev.eq_ignore_ascii_case(leader) => {
                let text =
                    format!("sentinel{i} voted {prev} then {leader} in epoch {epoch} ({master})");
                self.fail(Kind::DoubleVote, at, text)
            }
            Some(_) => {}
            None => {
                self.votes.insert(key, leader.to_string());
                let d = self
                    .vote_durable
                    .entry((voter.to_string(), master.to_string()))
                    .or_default();
                *d = (*d).max(epoch);
                let d = self.durable.entry(voter.to_string()).or_default();
                *d = (*d).max(epoch);
            }
        }
    }

    /// Same config epoch must mean same address, across all live cores.
    fn config_conflicts(&mut self, at: Time, i: usize, core: &Sentinel, nodes: &[SentinelNode]) {
        for (mi, m) in core.masters().iter().enumerate() {
            let mine = core.current_master_addr(mi);
            let forced = self
                .forced
                .contains(&(m.common.name.clone(), m.config_epoch));
            for (j, other) in nodes.iter().enumerate() {
                let Some(oc) = other.live().filter(|_| j != i) else {
                    continue;
                };
                // By the core's name index: with many masters (issue #14) a scan
                // per master and peer made every step quadratic.
                let Some(omi) = oc.master_index(&m.common.name) else {
                    continue;
                };
                let stale = |id: &str| {
                    self.stale
                        .contains(&(id.to_string(), m.common.name.clone(), m.config_epoch))
                };
                if oc.masters()[omi].config_epoch != m.config_epoch
                    || forced
                    || stale(core.myid())
                    || stale(oc.myid())
                {
                    continue;
                }
                let theirs = oc.current_master_addr(omi);
                if theirs != mine {
                    let text = format!(
                        "{} config epoch {}: sentinel{i} has {mine:?}, sentinel{j} has {theirs:?}",
                        m.common.name, m.config_epoch
                    );
                    return self.fail(Kind::ConfigConflict, at, text);
                }
            }
        }
    }

    /// Core `i` sends `args`: a vote request (is-master-down-by-addr with its own run
    /// id) must carry the epoch of its running attempt.
    pub fn vote_request(&mut self, at: Time, i: usize, core: &Sentinel, args: &[Bytes]) {
        let arg = |k: usize| args.get(k).map(|a| String::from_utf8_lossy(a).into_owned());
        if !arg(1).is_some_and(|a| a.eq_ignore_ascii_case("is-master-down-by-addr")) {
            return;
        }
        let (Some(host), Some(port), Some(epoch), Some(runid)) = (arg(2), arg(3), arg(4), arg(5))
        else {
            return;
        };
        if runid == "*" {
            return;
        }
        let Some(mi) = port
            .parse()
            .ok()
            .and_then(|p| core.master_by_addr(&host, p))
        else {
            return;
        };
        let m = &core.masters()[mi];
        let attempt = (m.failover_state != FailoverState::None).then_some(m.failover_epoch);
        let epoch: u64 = epoch.parse().unwrap_or(0);
        // A request held until its link's local address was known leaves later than
        // it was made: an attempt that has ended by then still counts.
        let key = (core.myid().to_string(), m.common.name.clone(), epoch);
        if attempt != Some(epoch) && !self.attempts.contains(&key) {
            let text = format!(
                "sentinel{i} asks for votes in epoch {epoch}, its attempt is in {attempt:?} ({})",
                m.common.name
            );
            self.fail(Kind::StaleVoteRequest, at, text);
        }
    }

    /// Core `i` emitted `+elected-leader` (`master <name> <ip> <port>`).
    pub fn elected(&mut self, at: Time, i: usize, payload: &str, nodes: &[SentinelNode]) {
        let Some(core) = nodes[i].live() else {
            return;
        };
        let name = payload.split(' ').nth(1).unwrap_or_default().to_string();
        let Some(m) = core.master(&name) else { return };
        let key = (name.clone(), m.failover_epoch);
        if self.forced.contains(&key) {
            return;
        }
        // The votes for this leader in its epoch, as the voters recorded them (its own
        // vote, cast in this very step, is not observed yet).
        let epoch = m.failover_epoch;
        let mut voters: BTreeSet<&str> = self
            .votes
            .iter()
            .filter(|((_, mn, e), l)| {
                *mn == name && *e == epoch && l.eq_ignore_ascii_case(core.myid())
            })
            .map(|((v, _, _), _)| v.as_str())
            .collect();
        if m.leader_epoch == epoch
            && m.leader
                .as_ref()
                .is_some_and(|l| l.eq_ignore_ascii_case(core.myid()))
        {
            voters.insert(core.myid());
        }
        let majority = nodes.len() / 2 + 1;
        if voters.len() < majority {
            let text = format!(
                "sentinel{i} {} elected in epoch {epoch} with {} vote(s) for that epoch, {majority} needed ({name})",
                core.myid(),
                voters.len()
            );
            self.fail(Kind::ElectedWithoutVotes, at, text);
        }
        match self.leaders.get(&key) {
            Some(prev) if *prev != core.myid() => {
                let text = format!(
                    "{prev} and sentinel{i} {} both elected in epoch {} ({name})",
                    core.myid(),
                    key.1
                );
                self.fail(Kind::TwoLeaders, at, text)
            }
            Some(_) => {}
            None => {
                self.leaders.insert(key, core.myid().to_string());
            }
        }
    }

    /// Is this sentinel's view of `master` at `epoch` the known stale case?
    /// The liveness phase killed the master at `addr`: watch for spurious failovers.
    pub fn watch_spurious(&mut self, addr: (String, u16)) {
        self.spurious_watch.insert(addr);
    }

    /// A `+sdown`/`+odown`/`+try-failover` of core `i` about the master at `addr`,
    /// which `live_master` says is a live master in the model right now.
    pub fn down_event(
        &mut self,
        at: Time,
        i: usize,
        channel: &str,
        addr: (String, u16),
        live_master: bool,
    ) {
        if self.spurious_watch.is_empty() {
            return;
        }
        if live_master && !self.spurious_watch.contains(&addr) {
            // One killed master (the liveness phase) reads as before: its address.
            let old = match self.spurious_watch.first() {
                Some(one) if self.spurious_watch.len() == 1 => format!("{one:?}"),
                _ => format!("{} killed masters", self.spurious_watch.len()),
            };
            let text = format!(
                "sentinel{i} {channel} about {addr:?}, a live master, after the failover away from {old}"
            );
            self.fail(Kind::SpuriousFailover, at, text);
        }
    }

    pub fn is_stale(&self, myid: &str, master: &str, epoch: u64) -> bool {
        self.stale
            .contains(&(myid.to_string(), master.to_string(), epoch))
    }

    pub fn forced(&mut self, master: &str, epoch: u64) {
        self.forced.insert((master.to_string(), epoch));
    }

    /// A config flush: what it holds can be relied upon after a restart.
    pub fn persisted(&mut self, myid: &str, snap: &SentinelConfig) {
        let d = self.durable.entry(myid.to_string()).or_default();
        *d = (*d).max(snap.current_epoch);
    }

    /// A restarted core must come back with its flushed epoch and every vote it cast.
    pub fn restarted(&mut self, at: Time, myid: &str, core: &Sentinel) {
        let durable = self.durable.get(myid).copied().unwrap_or(0);
        if core.current_epoch() < durable {
            let text = format!(
                "{myid} restarted with epoch {} < {durable}",
                core.current_epoch()
            );
            return self.fail(Kind::VoteLost, at, text);
        }
        for m in core.masters() {
            let key = (myid.to_string(), m.common.name.clone());
            let voted = self.vote_durable.get(&key).copied().unwrap_or(0);
            if m.leader_epoch < voted {
                let text = format!(
                    "{myid} restarted with leader-epoch {} < its vote in {voted} ({})",
                    m.leader_epoch, m.common.name
                );
                return self.fail(Kind::VoteLost, at, text);
            }
            self.config_seen.insert(key, m.config_epoch);
        }
        self.epoch_seen
            .insert(myid.to_string(), core.current_epoch());
    }
}
