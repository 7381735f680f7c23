//! A world of many independent masters watched by the same sentinels (issue #14).
//!
//! The seeded runs of [`super::world`] have one master; mass failover is about what
//! happens when many masters of one sentinel deployment fail at the same instant, so
//! this builds M groups (a master and 1-2 replicas of its own, each master under its
//! own name in every sentinel's config, quorum a majority) on the same simulated
//! network, clock and safety checker (which keys everything by master name). The
//! world's event hook routes the events a mass failover is judged on to a [`Watch`]:
//! every `+switch-master` per sentinel and master (checked at once against the model:
//! the new address must be a live master among that master's own replicas) and every
//! `+promoted-slave`. The run itself and its end checks are in [`super::multi_run`].

use super::check::Kind;
use super::peer::{self, SentinelNode};
use super::redis::{self, RedisNode};
use super::world::{Msg, World};
use super::{NodeId, Options, START, Time};
use rand::Rng;
use rsentinel::config::{MasterConfig, SentinelConfig};
use rsentinel::core::instance::Role;
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// The shape of a multi-master world and of its mass failover.
#[derive(Clone, Debug)]
pub struct Spec {
    pub masters: usize,
    /// Each master's replica count is drawn from this range.
    pub replicas: RangeInclusive<usize>,
    /// Every master's down-after-milliseconds (the benchmark's 1000 by default).
    pub down_after: u64,
    /// Every master's failover-timeout; `None` draws 10-30 s from the seed, like the
    /// single-master runs.
    pub failover_timeout: Option<u64>,
    /// Network faults (slow links, resets, partitions, an isolated node) for this long
    /// after the kill; 0 for a calm network.
    pub fault_ms: u64,
    /// Among those faults, sentinels also crash and restart from their config file.
    pub crashes: bool,
    /// On a calm network, a master whose first election had a leader within this long
    /// after the kill must be switched on every sentinel within it too; any other
    /// master (its first election split: every candidate voted for itself) within one
    /// retry round, 2 x failover-timeout + 2 x this (`Kind::SlowSwitch`). Under faults
    /// every master gets the fault time, 3 x failover-timeout and 2 x this.
    pub bound_ms: u64,
    /// Require exactly one switch per master per sentinel and one promotion per master
    /// (`Kind::SwitchCount`). Under faults a failover slower than its timeout may be
    /// legitimately retried with another replica, so the faulty runs report counts.
    pub exactly_once: bool,
    /// How long after the kill the run waits for quiescence before judging; `None`:
    /// the retry bound (see `bound_ms`) and 10 s. A test that only needs the bound's
    /// verdict stops early; a measurement of a slow rule waits longer.
    pub patience_ms: Option<u64>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            masters: 20,
            replicas: 1..=2,
            down_after: 1000,
            failover_timeout: None,
            fault_ms: 0,
            crashes: false,
            // Measured (simulated time, `mass_failover_times`): without a split vote
            // all switched 1.29-1.51 s after the kill at 10-40 masters, 3 or 5
            // sentinels; redis-sentinel's rules take 4.4-6.2 s.
            bound_ms: 3_000,
            exactly_once: true,
            patience_ms: None,
        }
    }
}

/// One master and its replicas, as indexes into `World::redis`.
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub master: usize,
    pub replicas: Vec<usize>,
}

/// What the mass failover is judged on, recorded as the events happen.
#[derive(Default)]
pub struct Watch {
    pub groups: Vec<Group>,
    by_name: BTreeMap<String, usize>,
    /// When every master was killed.
    pub killed_at: Option<Time>,
    /// (sentinel, group) -> the times of its `+switch-master` events.
    pub switches: BTreeMap<(usize, usize), Vec<Time>>,
    /// Per group: `+promoted-slave` events (any sentinel).
    pub promotions: Vec<u64>,
    /// Per group: replicas turned into masters by `SLAVEOF NO ONE` in the model. A
    /// second leader's promotion may never be reported by `+promoted-slave` (its
    /// failover stopped once it learnt the first one's switch), yet leaves a second
    /// writable master behind until somebody re-points it.
    pub model_promotions: Vec<u64>,
    /// `Spec::exactly_once`: a promotion while another replica of the same master is
    /// already a live master is reported as it happens (two writable masters).
    pub strict: bool,
    /// Per group: `+elected-leader` events (any sentinel), and the first one's time.
    pub leaders: Vec<u64>,
    pub first_elected: Vec<Option<Time>>,
    /// `+try-failover` and `-failover-abort-not-elected` events (all masters): how
    /// many elections were started, and lost, to switch them.
    pub tries: u64,
    pub not_elected: u64,
}

impl Watch {
    fn new(groups: Vec<Group>) -> Watch {
        let by_name = groups
            .iter()
            .enumerate()
            .map(|(g, gr)| (gr.name.clone(), g))
            .collect();
        let n = groups.len();
        Watch {
            groups,
            by_name,
            promotions: vec![0; n],
            model_promotions: vec![0; n],
            leaders: vec![0; n],
            first_elected: vec![None; n],
            ..Watch::default()
        }
    }

    /// When the last (sentinel, master) pair first switched, relative to the kill;
    /// `None` while some pair has not switched yet.
    pub fn all_switched_ms(&self, sentinels: usize) -> Option<u64> {
        let killed = self.killed_at?;
        let mut last = killed;
        for i in 0..sentinels {
            for g in 0..self.groups.len() {
                last = last.max(*self.switches.get(&(i, g))?.first()?);
            }
        }
        Some(last - killed)
    }

    /// When the last sentinel first switched group `g` (`None` while one has not).
    pub fn group_switched(&self, g: usize, sentinels: usize) -> Option<Time> {
        let firsts = (0..sentinels).map(|i| self.switches.get(&(i, g))?.first().copied());
        firsts.collect::<Option<Vec<Time>>>()?.into_iter().max()
    }

    /// How many (sentinel, master) pairs have switched at least once.
    pub fn switched_pairs(&self) -> usize {
        self.switches.values().filter(|v| !v.is_empty()).count()
    }
}

/// The name every sentinel monitors group `g` under.
pub fn name(g: usize) -> String {
    format!("master{g}")
}

impl World {
    /// `spec.masters` groups, each a master with its own replicas, and
    /// `opts.sentinels` sentinels whose configs list every master (quorum a majority).
    /// The network is calm; nothing is scheduled but ticks and replication.
    pub fn multi(seed: u64, opts: Options, spec: &Spec) -> World {
        let mut w = World::empty(seed, opts, START);
        let mut groups = Vec::new();
        for g in 0..spec.masters {
            let master = w.redis.len();
            w.redis.push(RedisNode::new(master, None, &mut w.rng));
            let addr = (redis::ip(master), redis::PORT);
            let n = w.rng.gen_range(spec.replicas.clone());
            let mut replicas = Vec::new();
            for _ in 0..n {
                let r = w.redis.len();
                w.redis
                    .push(RedisNode::new(r, Some(addr.clone()), &mut w.rng));
                replicas.push(r);
            }
            let name = name(g);
            groups.push(Group {
                name,
                master,
                replicas,
            });
        }
        // `redis::ip` numbers instances within one /24.
        assert!(
            w.redis.len() < 255,
            "too many instances for the address plan"
        );
        let quorum = (w.opts.sentinels / 2 + 1) as u32;
        let drawn = w.rng.gen_range(10..=30) * 1000;
        let failover_timeout = spec.failover_timeout.unwrap_or(drawn);
        for i in 0..w.opts.sentinels {
            let masters = groups
                .iter()
                .map(|gr| {
                    let ip = redis::ip(gr.master);
                    let mut m = MasterConfig::new(&gr.name, &ip, redis::PORT, quorum);
                    m.down_after_ms = spec.down_after;
                    m.failover_timeout_ms = failover_timeout;
                    m
                })
                .collect();
            let cfg = SentinelConfig {
                myid: Some(rsentinel::core::random_hex_id(&mut w.rng)),
                masters,
                ..Default::default()
            };
            let core_seed = w.rng.r#gen();
            let ip = format!("10.0.1.{}", i + 1);
            let node = SentinelNode::start(ip, peer::PORT, cfg, core_seed, w.now);
            w.nodes.push(node);
            let upstream = w.opts.upstream_election;
            w.nodes[i].core.set_upstream_election(upstream);
            w.schedule_tick(i);
        }
        for i in 0..w.nodes.len() {
            w.after_core(i);
        }
        w.schedule(w.now + 100, Msg::Repl);
        let mut watch = Watch::new(groups);
        watch.strict = spec.exactly_once;
        w.watch = Some(Box::new(watch));
        w
    }

    /// Every sentinel knows every master's replicas (INFO'd, replicating) and its
    /// peers: the mass failover starts from a settled deployment.
    pub fn multi_settled(&self) -> bool {
        let Some(watch) = self.watch.as_ref() else {
            return false;
        };
        let peers = self.nodes.len() - 1;
        self.nodes.iter().all(|s| {
            let Some(core) = s.live() else { return false };
            watch.groups.iter().all(|gr| {
                let Some(m) = core.master(&gr.name) else {
                    return false;
                };
                m.sentinels.len() == peers
                    && m.replicas.len() == gr.replicas.len()
                    && m.replicas.iter().all(|r| {
                        r.common.info_refresh > 0
                            && r.common.role_reported == Role::Slave
                            && r.master_link_status_up
                    })
            })
        })
    }

    /// Replica `r` is about to execute `SLAVEOF NO ONE`: count it for its group, and
    /// (strict runs) report it if another replica of that master is a master already.
    pub fn watch_promotion(&mut self, r: usize) {
        let watch = self.watch.as_mut().expect("watching");
        let Some(g) = watch.groups.iter().position(|gr| gr.replicas.contains(&r)) else {
            return;
        };
        watch.model_promotions[g] += 1;
        let gr = &watch.groups[g];
        let live_master = |o: &usize| *o != r && self.redis[*o].alive && self.redis[*o].is_master();
        let other = gr.replicas.iter().copied().find(live_master);
        if let (true, Some(o)) = (watch.strict, other) {
            let text = format!(
                "{}: replica redis{r} ({}) promoted while redis{o} ({}) is already its master",
                gr.name, self.redis[r].ip, self.redis[o].ip
            );
            self.check.fail_at(Kind::SwitchCount, self.now, text);
        }
    }

    /// Sentinel `i` restarted: a master its config file already names at a new address
    /// counts as switched now, for it never publishes that `+switch-master` (a leader
    /// that crashed in reconf-slaves persisted the promoted replica, as
    /// redis-sentinel does).
    pub fn watch_restart(&mut self, i: usize) {
        let now = self.now;
        let watch = self.watch.as_mut().expect("watching");
        let core = &self.nodes[i].core;
        for (g, gr) in watch.groups.iter().enumerate() {
            let Some(mi) = core.master_index(&gr.name) else {
                continue;
            };
            let moved = core.current_master_addr(mi) != (redis::ip(gr.master), redis::PORT);
            if moved && !watch.switches.contains_key(&(i, g)) {
                watch.switches.insert((i, g), vec![now]);
            }
        }
    }

    /// Sentinel `i` published `channel payload`: record what the mass failover is
    /// judged on, and check a switch against the model right away.
    pub fn watch_event(&mut self, i: usize, channel: &str, payload: &str) {
        let t: Vec<&str> = payload.split(' ').collect();
        let name = match channel {
            "+switch-master" => t.first().copied(),
            "+elected-leader" => t.get(1).copied(),
            "+promoted-slave" => t
                .iter()
                .position(|w| *w == "@")
                .and_then(|k| t.get(k + 1).copied()),
            _ => None,
        };
        let now = self.now;
        let watch = self.watch.as_mut().expect("watching");
        match channel {
            "+try-failover" => watch.tries += 1,
            "-failover-abort-not-elected" => watch.not_elected += 1,
            _ => {}
        }
        let Some(&g) = name.and_then(|n| watch.by_name.get(n)) else {
            return;
        };
        match channel {
            "+elected-leader" => {
                watch.leaders[g] += 1;
                watch.first_elected[g].get_or_insert(now);
            }
            "+promoted-slave" => watch.promotions[g] += 1,
            _ => {
                watch.switches.entry((i, g)).or_default().push(now);
                let to = (t.get(3).copied().unwrap_or_default(), t.get(4).copied());
                let port = to.1.and_then(|p| p.parse().ok()).unwrap_or(0);
                let ok = match self.resolve(to.0, port) {
                    Some(NodeId::Redis(r)) => {
                        let gr = &self.watch.as_ref().expect("watching").groups[g];
                        gr.replicas.contains(&r) && self.redis[r].alive && self.redis[r].is_master()
                    }
                    _ => false,
                };
                if !ok {
                    let text = format!(
                        "sentinel{i} +switch-master {payload}: not a live master of its replicas"
                    );
                    self.check.fail_at(Kind::WrongSwitch, now, text);
                }
            }
        }
    }
}
