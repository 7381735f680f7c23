//! The seed-driven fault schedule, the final heal, and the liveness phase.
//!
//! Faults are the ones a real deployment sees: Redis processes dying and coming back
//! (with a new run id), sentinels crashing and restarting from their config file,
//! symmetric and one-way partitions between any two nodes or around one node, slow
//! and flaky networks (connection resets), and a sentinel's clock jumping (TILT).
//! Every fault repairs itself after a while, and [`World::heal_all`] repairs whatever
//! is left when the chaos phase ends.

use super::check::{Kind, Violation};
use super::world::{Msg, World};
use super::{NodeId, Time};
use rand::Rng;
use rand::seq::SliceRandom;

impl World {
    fn random_node(&mut self) -> NodeId {
        let n = self.redis.len() + self.nodes.len();
        let k = self.rng.gen_range(0..n);
        if k < self.redis.len() {
            NodeId::Redis(k)
        } else {
            NodeId::Sentinel(k - self.redis.len())
        }
    }

    fn all_nodes(&self) -> Vec<NodeId> {
        (0..self.redis.len())
            .map(NodeId::Redis)
            .chain((0..self.nodes.len()).map(NodeId::Sentinel))
            .collect()
    }

    /// Pick and inject one fault.
    pub fn inject_fault(&mut self) {
        let now = self.now;
        match self.rng.gen_range(0..100) {
            0..=17 => {
                let alive: Vec<usize> = (0..self.redis.len())
                    .filter(|&r| self.redis[r].alive)
                    .collect();
                if alive.len() > 1 {
                    let r = *alive.choose(&mut self.rng).expect("non-empty");
                    self.kill_redis(r);
                    let back = self.rng.gen_range(1_000..30_000);
                    self.schedule(now + back, Msg::RestartRedis(r));
                }
            }
            18..=32 => {
                let i = self.rng.gen_range(0..self.nodes.len());
                self.crash_sentinel(i);
                let back = self.rng.gen_range(500..20_000);
                self.restart_sentinel_in(i, back);
            }
            33..=55 => {
                let (a, b) = (self.random_node(), self.random_node());
                if a != b {
                    let both = self.rng.gen_bool(0.6);
                    self.trace
                        .note(now, format!("partition {a:?} -> {b:?} both={both}"));
                    self.net.partition(a, b, both);
                    let heal = self.rng.gen_range(1_000..30_000);
                    self.schedule(now + heal, Msg::Heal(a, b));
                }
            }
            56..=67 => {
                let a = self.random_node();
                let heal = now + self.rng.gen_range(2_000..30_000);
                self.trace.note(now, format!("isolate {a:?}"));
                for b in self.all_nodes() {
                    if b != a {
                        self.net.partition(a, b, true);
                        self.schedule(heal, Msg::Heal(a, b));
                    }
                }
            }
            68..=77 => {
                self.net.max_delay = self.rng.gen_range(50..800);
                self.net.reset_prob = [0.0, 0.001, 0.01][self.rng.gen_range(0..3)];
                self.trace.note(
                    now,
                    format!(
                        "slow network {}ms reset {}",
                        self.net.max_delay, self.net.reset_prob
                    ),
                );
                let calm = self.rng.gen_range(1_000..15_000);
                self.schedule(now + calm, Msg::NetCalm);
            }
            78..=89 => {
                let i = self.rng.gen_range(0..self.nodes.len());
                let jump: i64 = if self.rng.gen_bool(0.3) {
                    -self.rng.gen_range(1_000..20_000)
                } else {
                    self.rng.gen_range(2_500..60_000)
                };
                self.trace
                    .note(now, format!("clock of sentinel{i} jumps {jump}ms"));
                self.nodes[i].clock_offset += jump;
            }
            _ => {
                if self.opts.admin_failovers {
                    let i = self.rng.gen_range(0..self.nodes.len());
                    self.admin_failover(i);
                }
            }
        }
    }

    pub fn calm_network(&mut self) {
        self.net.max_delay = 20;
        self.net.reset_prob = 0.0;
    }

    /// End of chaos: restart everything, heal every partition, calm the network.
    pub fn heal_all(&mut self) {
        self.trace.note(self.now, "heal all".into());
        self.net.blocked.clear();
        self.calm_network();
        for r in 0..self.redis.len() {
            self.restart_redis(r);
        }
        for i in 0..self.nodes.len() {
            self.restart_sentinel(i);
        }
    }

    /// All live sentinels' view of the master address, if they agree. A sentinel left
    /// on a stale address by the known 7.0.15 weakness (see `Checker::stale`) stays
    /// there forever in redis-sentinel too, so it does not get a say.
    pub fn agreed_master(&self) -> Option<(String, u16)> {
        let mut addrs = self
            .nodes
            .iter()
            .filter_map(|s| s.live())
            .filter(|c| {
                let m = &c.masters()[0];
                !self
                    .check
                    .is_stale(c.myid(), &m.common.name, m.config_epoch)
            })
            .map(|c| c.current_master_addr(0));
        let first = addrs.next()?;
        addrs.all(|a| a == first).then_some(first)
    }

    /// The agreed address, if it is a live master in the model.
    fn agreed_real_master(&self) -> Option<(String, u16, usize)> {
        let (h, p) = self.agreed_master()?;
        match self.resolve(&h, p) {
            Some(NodeId::Redis(r)) if self.redis[r].alive && self.redis[r].master.is_none() => {
                Some((h, p, r))
            }
            _ => None,
        }
    }

    /// Run until `cond` holds (checked every second) or `bound` ms pass.
    fn run_until_cond(&mut self, bound: u64, cond: impl Fn(&World) -> bool) -> bool {
        let end = self.now + bound;
        while self.now < end {
            if !self.run_until(self.now + 1_000) {
                return false;
            }
            if cond(self) {
                return true;
            }
        }
        false
    }

    /// Liveness: after the quiet time every sentinel agrees on one real master; then,
    /// with everything healthy, killing that master leads to a completed failover (all
    /// sentinels agree on another address that really is a master).
    pub fn liveness(&mut self) {
        let m = &self.nodes[0].persisted.masters[0];
        let bound: Time = 10 * (m.down_after_ms + m.failover_timeout_ms) + 60_000;
        if !self.run_until_cond(bound, |w| w.agreed_real_master().is_some()) {
            let views: Vec<_> = self
                .nodes
                .iter()
                .filter_map(|s| s.live().map(|c| c.current_master_addr(0)))
                .collect();
            let now = self.now;
            return self.fail(Violation {
                kind: Kind::NoConvergence,
                at: now,
                text: format!("views {views:?} after heal"),
            });
        }
        let (h, p, r) = self.agreed_real_master().expect("checked");
        self.kill_redis(r);
        let old = (h, p);
        self.check.watch_spurious(old.clone());
        let ok = self.run_until_cond(bound, |w| {
            w.agreed_real_master()
                .is_some_and(|(h, p, _)| (h, p) != old)
        });
        // Long enough after the switch for redis-sentinel's spurious second failover
        // to show: down-after on the new master plus the peers' cached answers (5 s).
        if ok {
            let m = &self.nodes[0].persisted.masters[0];
            let calm = 2 * m.down_after_ms + 6_000;
            self.run_until(self.now + calm);
        }
        if !ok && self.check.violation.is_none() {
            let now = self.now;
            self.fail(Violation {
                kind: Kind::NoFailover,
                at: now,
                text: format!("master {old:?} killed, views {:?}", self.agreed_master()),
            });
        }
    }
}
