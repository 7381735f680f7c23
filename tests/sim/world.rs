//! The world: one event queue ordered by (time, sequence), the nodes, the network,
//! and the loop that delivers everything and checks the invariants after every step.
//! The seeded runs and the golden-timed failover tests ([`super::golden_mode`]) share
//! it, so a fix to the model Redis, the peers or the checks reaches both.

use super::check::{Checker, Violation};
use super::net::{Dir, Net, Packet};
use super::peer::SentinelNode;
use super::redis::RedisNode;
use super::trace::{Detail, Trace};
use super::{NodeId, Options, Outcome, START, Time};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rsentinel::core::{Action, Event};
use std::collections::BTreeMap;

/// Things that happen at a point in simulated time.
#[derive(Debug, Clone)]
pub enum Msg {
    /// Timer of sentinel `i`, incarnation `incarn`.
    Tick(usize, u64),
    /// Deliver what is due on one direction of a connection.
    Flush(u64, Dir),
    /// Replication step of the model Redis instances.
    Repl,
    /// Inject the next random fault (chaos phase only).
    Fault,
    RestartRedis(usize),
    RestartSentinel(usize),
    Heal(NodeId, NodeId),
    /// End of a slow/lossy network period.
    NetCalm,
    /// End of the chaos phase: everything is repaired.
    HealAll,
    /// One event towards a connection's owner, without latency (golden-timed mode):
    /// events reach the cores in the order they were sent, across all connections.
    Deliver(u64, Event),
}

pub struct World {
    pub seed: u64,
    pub now: Time,
    pub rng: StdRng,
    pub opts: Options,
    queue: BTreeMap<(Time, u64), Msg>,
    seq: u64,
    pub redis: Vec<RedisNode>,
    pub nodes: Vec<SentinelNode>,
    pub net: Net,
    pub check: Checker,
    pub trace: Trace,
    pub steps: u64,
    pub stats: BTreeMap<String, u64>,
    /// Faults are injected only before this time.
    pub chaos_end: Time,
    pub master_name: String,
    /// The golden-timed mode of [`super::golden_mode`]: no latency, fixed tick phases,
    /// replication links that come up by time, and each node's record kept.
    pub golden: bool,
    /// How long a replica re-pointed by SLAVEOF takes to sync where links come up by
    /// time (golden-timed mode; the seeded runs have replication steps instead).
    pub sync_ms: u64,
    /// The multi-master scenario's record of switches and promotions (issue #14,
    /// [`super::multi`]); `None` elsewhere, so the other runs pay nothing for it.
    pub watch: Option<Box<super::multi::Watch>>,
}

impl World {
    pub fn new(seed: u64, opts: Options) -> World {
        let mut w = World::empty(seed, opts, START);
        w.build();
        w
    }

    /// No nodes and nothing scheduled, the clock at `start`: the seeded runs build their
    /// topology from the seed on it, the golden-timed mode its explicit one.
    pub fn empty(seed: u64, opts: Options, start: Time) -> World {
        let mut w = World {
            seed,
            now: start,
            rng: StdRng::seed_from_u64(seed),
            trace: Trace::new(opts.trace_len),
            chaos_end: start + opts.chaos_ms,
            opts,
            queue: BTreeMap::new(),
            seq: 0,
            redis: Vec::new(),
            nodes: Vec::new(),
            net: Net::new(),
            check: Checker::default(),
            steps: 0,
            stats: BTreeMap::new(),
            master_name: "mymaster".into(),
            golden: false,
            sync_ms: 0,
            watch: None,
        };
        w.check.skip = w.opts.skip_checks.clone();
        w
    }

    /// Redis 0 is the master, every other Redis replicates it; sentinels start with
    /// only the master configured and discover the rest.
    fn build(&mut self) {
        for r in 0..self.opts.redis {
            let master = (r > 0).then(|| (super::redis::ip(0), super::redis::PORT));
            let node = RedisNode::new(r, master, &mut self.rng);
            self.redis.push(node);
        }
        let quorum = (self.opts.sentinels / 2 + 1) as u32;
        let drawn = self.rng.gen_range(2..=5) * 1000;
        let down_after = self.opts.down_after.unwrap_or(drawn);
        let failover_timeout = self.rng.gen_range(10..=30) * 1000;
        for i in 0..self.opts.sentinels {
            let node = SentinelNode::new(
                i,
                &self.master_name,
                quorum,
                down_after,
                failover_timeout,
                &mut self.rng,
                self.now,
            );
            self.nodes.push(node);
            self.nodes[i]
                .core
                .set_upstream_election(self.opts.upstream_election);
            self.schedule_tick(i);
        }
        for i in 0..self.nodes.len() {
            self.after_core(i);
        }
        self.schedule(self.now + 100, Msg::Repl);
        if self.opts.faults {
            let first = self.now + self.rng.gen_range(1_000..5_000);
            self.schedule(first, Msg::Fault);
        }
        self.schedule(self.chaos_end, Msg::HealAll);
    }

    /// When something happens next: a test that steps from tick to tick stops there.
    pub fn next_step(&self) -> Option<Time> {
        self.queue.first_key_value().map(|((at, _), _)| *at)
    }

    pub fn schedule(&mut self, at: Time, m: Msg) {
        self.seq += 1;
        self.queue.insert((at.max(self.now), self.seq), m);
    }

    /// redis-sentinel re-randomizes its hz (10..19) on every timer run; the golden
    /// captures are compared tick for tick, so that mode keeps a steady 10.
    pub fn schedule_tick(&mut self, i: usize) {
        let hz = if self.golden {
            10
        } else {
            self.rng.gen_range(10..20)
        };
        let incarn = self.nodes[i].incarn;
        self.schedule(self.now + 1000 / hz, Msg::Tick(i, incarn));
    }

    /// Run the seed: chaos, heal, quiet time, then (optionally) liveness.
    pub fn run(mut self) -> Outcome {
        let end = self.chaos_end + self.opts.quiet_ms;
        if self.run_until(end) && self.opts.liveness {
            self.liveness();
        }
        self.outcome()
    }

    /// Process events up to `end`; false once an invariant is violated.
    pub fn run_until(&mut self, end: Time) -> bool {
        while self.check.violation.is_none() {
            let Some((&(at, _), _)) = self.queue.first_key_value() else {
                break;
            };
            if at > end {
                break;
            }
            let ((at, _), m) = self.queue.pop_first().expect("peeked");
            self.now = at;
            self.steps += 1;
            self.step(m);
        }
        self.now = self.now.max(end);
        self.check.violation.is_none()
    }

    fn step(&mut self, m: Msg) {
        match m {
            Msg::Tick(i, incarn) => {
                if self.nodes[i].incarn == incarn && self.nodes[i].running {
                    self.core_event(i, Event::Tick);
                    self.schedule_tick(i);
                }
            }
            Msg::Flush(id, d) => self.flush(id, d),
            Msg::Repl => {
                self.replicate();
                self.schedule(self.now + 100, Msg::Repl);
            }
            Msg::Fault => {
                if self.now < self.chaos_end {
                    self.inject_fault();
                    let next = self.now + self.rng.gen_range(500..6_000);
                    self.schedule(next, Msg::Fault);
                }
            }
            Msg::RestartRedis(r) => self.restart_redis(r),
            Msg::RestartSentinel(i) => self.restart_sentinel(i),
            Msg::Heal(a, b) => {
                self.trace.note(self.now, format!("heal {a:?} {b:?}"));
                self.net.heal(a, b);
            }
            Msg::NetCalm => self.calm_network(),
            Msg::HealAll => self.heal_all(),
            Msg::Deliver(id, ev) => {
                if self.net.conns.contains_key(&id) {
                    self.deliver_to_owner(id, ev);
                }
            }
        }
    }

    /// Feed one event to sentinel `i` at its local time, then act on what it asks.
    pub fn core_event(&mut self, i: usize, ev: Event) {
        let local = self.local_time(i);
        if !matches!(ev, Event::Tick) {
            self.trace.push(self.now, "s", i, Detail::Event(ev.clone()));
        }
        let Some(core) = self.nodes[i].live_mut() else {
            return;
        };
        core.handle(local, ev);
        self.after_core(i);
    }

    /// Perform the actions of core `i`, then check the invariants it may have broken.
    pub fn after_core(&mut self, i: usize) {
        let Some(core) = self.nodes[i].live_mut() else {
            return;
        };
        let actions = core.drain_actions();
        for a in actions {
            if self.golden {
                self.record(i, &a);
            }
            if !matches!(a, Action::Log { .. } | Action::Script(_)) {
                self.trace.push(self.now, "s", i, Detail::Action(a.clone()));
            }
            match a {
                Action::Connect {
                    link,
                    conn,
                    host,
                    port,
                } => {
                    if self.net.lookup(i, link, conn).is_none() {
                        let target = self.resolve(&host, port);
                        let incarn = self.nodes[i].incarn;
                        let id = self.net.open(i, incarn, link, conn, target, port);
                        self.enqueue_target(id, Packet::Syn);
                    }
                }
                Action::Send {
                    link,
                    conn,
                    req,
                    args,
                } => {
                    if let Some(core) = self.nodes[i].live() {
                        self.check.vote_request(self.now, i, core, &args);
                    }
                    if let Some(id) = self.net.lookup(i, link, conn) {
                        self.enqueue_target(id, Packet::Cmd(req, args));
                    }
                }
                Action::Close { link, conn } => {
                    if let Some(id) = self.net.lookup(i, link, conn) {
                        self.net.remove(id);
                    }
                }
                Action::Event {
                    channel, payload, ..
                } => self.on_core_event(i, &channel, &payload),
                Action::PersistConfig => self.persist(i),
                Action::Exit(code) => {
                    self.nodes[i].exited = Some(code);
                    self.crash_sentinel(i);
                    return;
                }
                // The simulated instances are addressed by IP: nothing to resolve.
                Action::Log { .. } | Action::Script(_) | Action::Resolve { .. } => {}
            }
        }
        let now = self.now;
        self.check.observe(now, i, &self.nodes);
    }

    fn on_core_event(&mut self, i: usize, channel: &str, payload: &str) {
        if matches!(
            channel,
            "+elected-leader"
                | "+switch-master"
                | "+failover-end"
                | "+try-failover"
                | "+tilt"
                | "+odown"
                | "+promoted-slave"
                | "+vote-for-leader"
                | "+failover-state-coordinated-handover"
                | "-failover-abort-coordinated-timeout"
                | "-failover-abort-coordinated-refused"
        ) {
            *self.stats.entry(channel.to_string()).or_default() += 1;
        }
        if matches!(channel, "+sdown" | "+odown" | "+try-failover") {
            let t: Vec<&str> = payload.split(' ').collect();
            if t.len() >= 4 && t[0] == "master" {
                let addr = (t[2].to_string(), t[3].parse().unwrap_or(0));
                let live = matches!(self.resolve(&addr.0, addr.1),
                    Some(NodeId::Redis(r)) if self.redis[r].alive && self.redis[r].master.is_none());
                let now = self.now;
                self.check.down_event(now, i, channel, addr, live);
            }
        }
        if channel == "+elected-leader" {
            let now = self.now;
            self.check.elected(now, i, payload, &self.nodes);
        }
        if self.watch.is_some() {
            self.watch_event(i, channel, payload);
        }
    }

    /// Which node listens at host:port.
    pub fn resolve(&self, host: &str, port: u16) -> Option<NodeId> {
        if let Some(r) = self
            .redis
            .iter()
            .position(|n| n.ip == host && n.port == port)
        {
            return Some(NodeId::Redis(r));
        }
        self.nodes
            .iter()
            .position(|s| s.ip == host && s.port == port)
            .map(NodeId::Sentinel)
    }
}

impl World {
    pub fn outcome(self) -> Outcome {
        let fingerprint = self.fingerprint();
        Outcome {
            seed: self.seed,
            steps: self.steps,
            violation: self.check.violation.clone(),
            fingerprint,
            trace: self.trace.lines(),
            stats: self.stats,
        }
    }

    /// A compact description of the final state of every node.
    fn fingerprint(&self) -> String {
        let mut s = format!("t={} steps={}", self.now - START, self.steps);
        for n in &self.nodes {
            if let Some(c) = n.live() {
                let (h, p) = c.current_master_addr(0);
                s += &format!(" s[{} e{} {h}:{p}]", &c.myid()[..6], c.current_epoch());
            }
        }
        for r in &self.redis {
            s += &format!(" r[{} {:?} {}]", r.alive, r.master, r.offset);
        }
        s
    }

    /// Record a violation found outside the per-step checks (liveness).
    pub fn fail(&mut self, v: Violation) {
        if self.check.violation.is_none() {
            self.check.violation = Some(v);
        }
    }
}
