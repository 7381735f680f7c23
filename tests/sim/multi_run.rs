//! The mass failover of issue #14 on a [`super::multi`] world: settle, SIGKILL every
//! master at the same instant (no restart), run until quiescent, then judge.
//!
//! On top of the safety invariants checked after every step (per master name: one vote
//! per voter and epoch, one leader per epoch, one address per config epoch, ...), and
//! the spurious-failover watch (a `+sdown`/`+odown`/`+try-failover` about a live master
//! other than the killed ones, e.g. a second failover of a promoted replica):
//! - every sentinel switches every master exactly once, each master sees one promotion
//!   (`Kind::SwitchCount`), and each switch names a live master among that master's
//!   own replicas (`Kind::WrongSwitch`, checked as the event happens);
//! - every master is switched on every sentinel in time (`Kind::SlowSwitch`): within
//!   `Spec::bound_ms` of the kill if its first election had a leader by then, else
//!   within one retry round (2 x failover-timeout later). A split first election
//!   (every candidate voted for itself in the same epoch) is only retried after that
//!   pause, by design, so it gets the longer bound and is counted
//!   (`MassOutcome::retried`); redis-sentinel's rules miss the short bound.
//!
//! Optional network faults (slow links with resets, partitions, an isolated sentinel,
//! and with `Spec::crashes` sentinel crashes and restarts) run for `Spec::fault_ms`
//! after the kill; no Redis process crashes, so a second promotion is never needed to
//! stay live.

use super::check::{Kind, Violation};
use super::multi::Spec;
use super::world::{Msg, World};
use super::{NodeId, Options, Outcome, Time, redis};
use rand::Rng;
use rsentinel::core::instance::FailoverState;

/// One seed's mass failover.
#[derive(Debug)]
pub struct MassOutcome {
    pub outcome: Outcome,
    /// From the kill until every sentinel had switched every master (first switch of
    /// the last pair); `None` if some pair never switched.
    pub all_switched_ms: Option<u64>,
    /// (sentinel, master) pairs that switched at least once, of `pairs`.
    pub switched_pairs: usize,
    pub pairs: usize,
    /// `+switch-master` events in total (`pairs` when each switched exactly once).
    pub switches: usize,
    pub leaders: u64,
    /// `+promoted-slave` events, and replicas made masters in the model.
    pub promotions: u64,
    pub model_promotions: u64,
    /// Elections started (`+try-failover`) and lost (`-failover-abort-not-elected`).
    pub tries: u64,
    pub not_elected: u64,
    /// Masters whose first election had no leader within `Spec::bound_ms`.
    pub retried: usize,
}

/// Build the world for `spec`, run its mass failover, judge it.
pub fn run_mass_failover(seed: u64, opts: &Options, spec: &Spec) -> MassOutcome {
    let mut w = World::multi(seed, opts.clone(), spec);
    w.mass_failover(spec);
    let watch = w.watch.take().expect("multi world");
    let pairs = w.nodes.len() * watch.groups.len();
    let killed = watch.killed_at.unwrap_or(Time::MAX);
    let retried = (watch.first_elected.iter())
        .filter(|e| e.is_none_or(|e| e.saturating_sub(killed) > spec.bound_ms))
        .count();
    MassOutcome {
        all_switched_ms: watch.all_switched_ms(w.nodes.len()),
        switched_pairs: watch.switched_pairs(),
        pairs,
        switches: watch.switches.values().map(Vec::len).sum(),
        leaders: watch.leaders.iter().sum(),
        promotions: watch.promotions.iter().sum(),
        model_promotions: watch.model_promotions.iter().sum(),
        tries: watch.tries,
        not_elected: watch.not_elected,
        retried,
        outcome: w.outcome(),
    }
}

impl World {
    /// Run in `step_ms` slices until `cond` holds or `bound` ms pass; false on a
    /// violation or at the bound. Between slices, `between` may act (faults).
    fn run_while(
        &mut self,
        bound: u64,
        step_ms: u64,
        mut between: impl FnMut(&mut World),
        cond: impl Fn(&World) -> bool,
    ) -> bool {
        let end = self.now + bound;
        while self.now < end {
            between(self);
            if !self.run_until(self.now + step_ms) {
                return false;
            }
            if cond(self) {
                return true;
            }
        }
        false
    }

    fn mass_failover(&mut self, spec: &Spec) {
        if !self.run_while(60_000, 500, |_| {}, World::multi_settled) {
            if self.check.violation.is_none() {
                let at = self.now;
                let text = "the deployment did not settle in 60 s".to_string();
                self.fail(Violation {
                    kind: Kind::NoConvergence,
                    at,
                    text,
                });
            }
            return;
        }
        let groups = self.watch.as_ref().expect("multi world").groups.clone();
        // A sentinel cut off from a live master (or behind a link slower than
        // down-after) rightly reports it down: under faults the spurious-failover
        // watch starts once the healed network has delivered what it held back and
        // the broken links are dialled again (3 x down-after after the heal).
        let killed_addrs: Vec<(String, u16)> = groups
            .iter()
            .map(|gr| (redis::ip(gr.master), redis::PORT))
            .collect();
        let arm = |w: &mut World| {
            for a in &killed_addrs {
                w.check.watch_spurious(a.clone());
            }
        };
        for gr in &groups {
            self.kill_redis(gr.master);
        }
        let mut armed = spec.fault_ms == 0;
        if armed {
            arm(self);
        }
        let killed = self.now;
        self.watch.as_mut().expect("multi world").killed_at = Some(killed);
        let fault_end = killed + spec.fault_ms;
        let mut next_fault = killed;
        let mut healed = spec.fault_ms == 0;
        let patience = spec.patience_ms.unwrap_or(self.retry_bound(spec) + 10_000);
        let quiet = self.run_while(
            patience,
            100,
            |w| {
                if w.now < fault_end && w.now >= next_fault {
                    w.net_fault(fault_end, spec.crashes);
                    next_fault = w.now + w.rng.gen_range(500..3_000);
                } else if w.now >= fault_end && !healed {
                    w.trace.note(w.now, "network healed".into());
                    w.net.blocked.clear();
                    w.calm_network();
                    for i in 0..w.nodes.len() {
                        w.restart_sentinel(i);
                    }
                    healed = true;
                } else if healed && !armed && w.now >= fault_end + 3 * spec.down_after {
                    arm(w);
                    armed = true;
                }
            },
            |w| w.now >= fault_end && w.multi_quiescent(),
        );
        if self.check.violation.is_some() {
            return;
        }
        // Long enough for a second failover of a promoted master to show (down-after
        // plus the peers' cached answers), as in the single-master liveness phase.
        if quiet && !self.run_until(self.now + 2 * spec.down_after + 6_000) {
            return;
        }
        self.judge(spec, quiet);
    }

    /// Every pair switched, no failover running, every master's sentinels agree on one
    /// live master of its replicas, and that master's other replicas follow it.
    fn multi_quiescent(&self) -> bool {
        let watch = self.watch.as_ref().expect("multi world");
        if watch.all_switched_ms(self.nodes.len()).is_none() {
            return false;
        }
        watch.groups.iter().all(|gr| {
            let mut addrs = self.nodes.iter().map(|s| {
                let core = s.live()?;
                let mi = core.master_index(&gr.name)?;
                (core.masters()[mi].failover_state == FailoverState::None)
                    .then(|| core.current_master_addr(mi))
            });
            let Some(Some(first)) = addrs.next() else {
                return false;
            };
            if !addrs.all(|a| a.as_ref() == Some(&first)) {
                return false;
            }
            let Some(NodeId::Redis(p)) = self.resolve(&first.0, first.1) else {
                return false;
            };
            let follow = |r: &usize| {
                *r == p
                    || (self.redis[*r].master.as_ref() == Some(&first) && self.redis[*r].link_up)
            };
            gr.replicas.contains(&p) && self.redis[p].is_master() && gr.replicas.iter().all(follow)
        })
    }

    /// How long any master may take (see `Spec::bound_ms`): one retry round after a
    /// split election on a calm network, a timeout and a retry under faults.
    fn retry_bound(&self, spec: &Spec) -> u64 {
        let ft = self.nodes[0].persisted.masters[0].failover_timeout_ms;
        let rounds = if spec.fault_ms > 0 { 3 } else { 2 };
        spec.fault_ms + rounds * ft + 2 * spec.bound_ms
    }

    /// The end checks: the time bounds, then exactly one switch per pair and one
    /// promotion per master.
    fn judge(&mut self, spec: &Spec, quiet: bool) {
        let retry = self.retry_bound(spec);
        let watch = self.watch.as_ref().expect("multi world");
        let n = self.nodes.len();
        let at = self.now;
        let killed = watch.killed_at.unwrap_or(at);
        for g in 0..watch.groups.len() {
            let elected = watch.first_elected[g].map(|e| e - killed);
            let fast = spec.fault_ms == 0 && elected.is_some_and(|e| e <= spec.bound_ms);
            let limit = if fast { spec.bound_ms } else { retry };
            let done = watch.group_switched(g, n).map(|d| d - killed);
            if done.is_none_or(|d| d > limit) {
                let text = format!(
                    "{}: first leader elected {elected:?} ms after the kill, switched on every sentinel after {done:?} ms, bound {limit} ms; {} of {} (sentinel, master) pairs switched within it",
                    super::multi::name(g),
                    self.pairs_switched_by(killed + limit),
                    n * watch.groups.len()
                );
                return self.fail(Violation {
                    kind: Kind::SlowSwitch,
                    at,
                    text,
                });
            }
        }
        if !quiet {
            let text = "all switched, but the deployment never became quiescent".to_string();
            return self.fail(Violation {
                kind: Kind::NoConvergence,
                at,
                text,
            });
        }
        if !spec.exactly_once {
            return;
        }
        let twice = watch.switches.iter().find(|(_, v)| v.len() != 1);
        let promoted = (0..watch.groups.len())
            .find(|&g| watch.promotions[g] != 1 || watch.model_promotions[g] != 1);
        let text = match (twice, promoted) {
            (Some(((i, g), v)), _) => format!(
                "sentinel{i} switched {} {} times",
                super::multi::name(*g),
                v.len()
            ),
            (None, Some(g)) => format!(
                "{}: {} +promoted-slave, {} replicas made masters by SLAVEOF NO ONE",
                super::multi::name(g),
                watch.promotions[g],
                watch.model_promotions[g]
            ),
            (None, None) => return,
        };
        self.fail(Violation {
            kind: Kind::SwitchCount,
            at,
            text,
        });
    }

    /// (sentinel, master) pairs whose first switch came by `t`.
    fn pairs_switched_by(&self, t: Time) -> usize {
        let watch = self.watch.as_ref().expect("multi world");
        watch
            .switches
            .values()
            .filter(|v| v.first().is_some_and(|&s| s <= t))
            .count()
    }

    /// One network fault: a slow, lossy period, a partition between a sentinel and
    /// another node (one way or both), or an isolated sentinel; with `crashes`, also a
    /// sentinel crash. Each heals by itself, and everything is healed at `fault_end`.
    fn net_fault(&mut self, fault_end: Time, crashes: bool) {
        let now = self.now;
        let i = self.rng.gen_range(0..self.nodes.len());
        let s = NodeId::Sentinel(i);
        let kinds = if crashes { 4 } else { 3 };
        match self.rng.gen_range(0..kinds) {
            3 => {
                self.crash_sentinel(i);
                let back = self.rng.gen_range(500..8_000);
                self.restart_sentinel_in(i, back);
            }
            0 => {
                self.net.max_delay = self.rng.gen_range(50..800);
                self.net.reset_prob = [0.0, 0.001, 0.01][self.rng.gen_range(0..3)];
                let text = format!(
                    "slow network {}ms reset {}",
                    self.net.max_delay, self.net.reset_prob
                );
                self.trace.note(now, text);
                let calm = (now + self.rng.gen_range(1_000..10_000)).min(fault_end);
                self.schedule(calm, Msg::NetCalm);
            }
            1 => {
                let k = self.rng.gen_range(0..self.nodes.len() + self.redis.len());
                let other = if k < self.nodes.len() {
                    NodeId::Sentinel(k)
                } else {
                    NodeId::Redis(k - self.nodes.len())
                };
                if other != s {
                    let both = self.rng.gen_bool(0.6);
                    self.trace
                        .note(now, format!("partition {s:?} -> {other:?} both={both}"));
                    self.net.partition(s, other, both);
                    let heal = now + self.rng.gen_range(1_000..10_000);
                    self.schedule(heal, Msg::Heal(s, other));
                }
            }
            _ => {
                let heal = now + self.rng.gen_range(1_000..8_000);
                self.trace.note(now, format!("isolate {s:?}"));
                let others: Vec<NodeId> = (0..self.nodes.len())
                    .map(NodeId::Sentinel)
                    .chain((0..self.redis.len()).map(NodeId::Redis))
                    .filter(|o| *o != s)
                    .collect();
                for o in others {
                    self.net.partition(s, o, true);
                    self.schedule(heal, Msg::Heal(s, o));
                }
            }
        }
    }
}
