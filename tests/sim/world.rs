//! The world: one event queue ordered by (time, sequence), the nodes, the network,
//! and the loop that delivers everything and checks the invariants after every step.

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
}

pub struct World {
    pub seed: u64,
    pub now: Time,
    pub rng: StdRng,
    pub opts: Options,
    queue: BTreeMap<(Time, u64), Msg>,
    seq: u64,
    pub redis: Vec<RedisNode>,
    pub sentinels: Vec<SentinelNode>,
    pub net: Net,
    pub check: Checker,
    pub trace: Trace,
    pub steps: u64,
    pub stats: BTreeMap<String, u64>,
    /// Faults are injected only before this time.
    pub chaos_end: Time,
    pub master_name: String,
}

impl World {
    pub fn new(seed: u64, opts: Options) -> World {
        let mut w = World {
            seed,
            now: START,
            rng: StdRng::seed_from_u64(seed),
            trace: Trace::new(opts.trace_len),
            chaos_end: START + opts.chaos_ms,
            opts,
            queue: BTreeMap::new(),
            seq: 0,
            redis: Vec::new(),
            sentinels: Vec::new(),
            net: Net::new(),
            check: Checker::default(),
            steps: 0,
            stats: BTreeMap::new(),
            master_name: "mymaster".into(),
        };
        w.build();
        w
    }

    /// Redis 0 is the master, every other Redis replicates it; sentinels start with
    /// only the master configured and discover the rest.
    fn build(&mut self) {
        for r in 0..self.opts.redis {
            let master = (r > 0).then(|| (super::redis::ip(0), super::redis::PORT));
            let node = RedisNode::new(r, master, &mut self.rng, self.now);
            self.redis.push(node);
        }
        let quorum = (self.opts.sentinels / 2 + 1) as u32;
        let down_after = self.rng.gen_range(2..=5) * 1000;
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
            self.sentinels.push(node);
            self.schedule_tick(i);
        }
        for i in 0..self.sentinels.len() {
            self.after_core(i);
        }
        self.schedule(self.now + 100, Msg::Repl);
        if self.opts.faults {
            let first = self.now + self.rng.gen_range(1_000..5_000);
            self.schedule(first, Msg::Fault);
        }
        self.schedule(self.chaos_end, Msg::HealAll);
    }

    pub fn schedule(&mut self, at: Time, m: Msg) {
        self.seq += 1;
        self.queue.insert((at.max(self.now), self.seq), m);
    }

    /// redis-sentinel re-randomizes its hz (10..19) on every timer run.
    pub fn schedule_tick(&mut self, i: usize) {
        let hz = self.rng.gen_range(10..20);
        let incarn = self.sentinels[i].incarn;
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
                if self.sentinels[i].incarn == incarn && self.sentinels[i].core.is_some() {
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
        }
    }

    /// Feed one event to sentinel `i` at its local time, then act on what it asks.
    pub fn core_event(&mut self, i: usize, ev: Event) {
        let local = self.local_time(i);
        if !matches!(ev, Event::Tick) {
            self.trace.push(self.now, "s", i, Detail::Event(ev.clone()));
        }
        let Some(core) = self.sentinels[i].core.as_mut() else {
            return;
        };
        core.handle(local, ev);
        self.after_core(i);
    }

    /// Perform the actions of core `i`, then check the invariants it may have broken.
    pub fn after_core(&mut self, i: usize) {
        let Some(core) = self.sentinels[i].core.as_mut() else {
            return;
        };
        let actions = core.drain_actions();
        for a in actions {
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
                        let incarn = self.sentinels[i].incarn;
                        let id = self.net.open(i, incarn, link, conn, target);
                        self.enqueue_target(id, Packet::Syn);
                    }
                }
                Action::Send {
                    link,
                    conn,
                    req,
                    args,
                } => {
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
                Action::Exit(_) => {
                    self.crash_sentinel(i);
                    return;
                }
                Action::Log { .. } | Action::Script(_) => {}
            }
        }
        let now = self.now;
        self.check.observe(now, i, &self.sentinels);
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
        ) {
            *self.stats.entry(channel.to_string()).or_default() += 1;
        }
        if channel == "+elected-leader" {
            let now = self.now;
            self.check.elected(now, i, payload, &self.sentinels);
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
        self.sentinels
            .iter()
            .position(|s| s.ip == host && s.port == port)
            .map(NodeId::Sentinel)
    }

    /// Queue a packet towards the target; a message may instead reset the connection.
    pub fn enqueue_target(&mut self, id: u64, p: Packet) {
        if matches!(p, Packet::Cmd(..)) && self.rng.gen_bool(self.net.reset_prob) {
            self.kill_conn(id, "Connection reset by peer");
            return;
        }
        let delay = self.rng.gen_range(1..=self.net.max_delay);
        let now = self.now;
        let Some(c) = self.net.conns.get_mut(&id) else {
            return;
        };
        if c.dead {
            return;
        }
        let ready = c.to_target.back().map_or(0, |b| b.0).max(now + delay);
        c.to_target.push_back((ready, p));
        if !c.flush_target {
            c.flush_target = true;
            self.schedule(ready, Msg::Flush(id, Dir::ToTarget));
        }
    }

    /// Queue an event towards the owning core (in order behind earlier ones).
    pub fn enqueue_owner(&mut self, id: u64, ev: Event) {
        let delay = self.rng.gen_range(1..=self.net.max_delay);
        let now = self.now;
        let Some(c) = self.net.conns.get_mut(&id) else {
            return;
        };
        let ready = c.to_owner.back().map_or(0, |b| b.0).max(now + delay);
        c.to_owner.push_back((ready, ev));
        if !c.flush_owner {
            c.flush_owner = true;
            self.schedule(ready, Msg::Flush(id, Dir::ToOwner));
        }
    }

    /// Break a connection: the target stops seeing it, the owner is told (in order,
    /// after whatever the target had already sent).
    pub fn kill_conn(&mut self, id: u64, error: &str) {
        let Some(c) = self.net.conns.get_mut(&id) else {
            return;
        };
        if c.dead {
            return;
        }
        c.dead = true;
        c.open = false;
        c.subscribed = false;
        c.to_target.clear();
        let ev = Event::Disconnected {
            link: c.link,
            conn: c.kind,
            error: error.to_string(),
        };
        self.enqueue_owner(id, ev);
    }

    /// Deliver what is due on one direction; a blocked path is retried later, as TCP
    /// retransmits, so nothing overtakes and nothing is lost.
    fn flush(&mut self, id: u64, d: Dir) {
        let Some(c) = self.net.conns.get_mut(&id) else {
            return;
        };
        match d {
            Dir::ToTarget => c.flush_target = false,
            Dir::ToOwner => c.flush_owner = false,
        }
        let (from, to) = Net::ends(c, d);
        if self.net.is_blocked(from, to) {
            let retry = self.now + self.rng.gen_range(200..1_000);
            self.reflush(id, d, retry);
            return;
        }
        loop {
            let now = self.now;
            let Some(c) = self.net.conns.get_mut(&id) else {
                return;
            };
            match d {
                Dir::ToTarget => match c.to_target.front() {
                    Some((t, _)) if *t <= now => {
                        let (_, p) = c.to_target.pop_front().expect("front");
                        self.deliver_to_target(id, p);
                    }
                    Some(&(t, _)) => return self.reflush(id, d, t),
                    None => return,
                },
                Dir::ToOwner => match c.to_owner.front() {
                    Some((t, _)) if *t <= now => {
                        let (_, ev) = c.to_owner.pop_front().expect("front");
                        self.deliver_to_owner(id, ev);
                    }
                    Some(&(t, _)) => return self.reflush(id, d, t),
                    None => return,
                },
            }
        }
    }

    fn reflush(&mut self, id: u64, d: Dir, at: Time) {
        let Some(c) = self.net.conns.get_mut(&id) else {
            return;
        };
        let flag = match d {
            Dir::ToTarget => &mut c.flush_target,
            Dir::ToOwner => &mut c.flush_owner,
        };
        if !*flag {
            *flag = true;
            self.schedule(at, Msg::Flush(id, d));
        }
    }

    fn deliver_to_target(&mut self, id: u64, p: Packet) {
        let c = &self.net.conns[&id];
        let (target, link, dead) = (c.target, c.link, c.dead);
        if dead {
            return;
        }
        match p {
            Packet::Syn => {
                let incarn = match target {
                    Some(NodeId::Redis(r)) if self.redis[r].alive => Some(self.redis[r].incarn),
                    Some(NodeId::Sentinel(j)) if self.sentinels[j].core.is_some() => {
                        Some(self.sentinels[j].incarn)
                    }
                    _ => None,
                };
                let Some(incarn) = incarn else {
                    return self.kill_conn(id, "Connection refused");
                };
                let c = self.net.conns.get_mut(&id).expect("present");
                c.open = true;
                c.target_incarn = incarn;
                let ev = Event::Connected {
                    link,
                    conn: c.kind,
                    local_ip: self.sentinels[c.owner].ip.clone(),
                };
                self.enqueue_owner(id, ev);
            }
            Packet::Cmd(req, args) => {
                if !c.open {
                    return;
                }
                let reply = match target {
                    Some(NodeId::Redis(r)) => self.redis_command(r, id, &args),
                    Some(NodeId::Sentinel(j)) => self.peer_command(j, &args),
                    None => return,
                };
                let alive = self.net.conns.get(&id).is_some_and(|c| !c.dead);
                if let (Some(req), true) = (req, alive) {
                    self.enqueue_owner(id, Event::Reply { link, req, reply });
                }
            }
        }
    }

    fn deliver_to_owner(&mut self, id: u64, ev: Event) {
        let c = &self.net.conns[&id];
        let owner = c.owner;
        if self.sentinels[owner].incarn != c.owner_incarn || self.sentinels[owner].core.is_none() {
            self.net.remove(id);
            return;
        }
        if matches!(ev, Event::Disconnected { .. }) {
            self.net.remove(id);
        }
        self.core_event(owner, ev);
    }

    fn outcome(self) -> Outcome {
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
        for n in &self.sentinels {
            if let Some(c) = &n.core {
                let (h, p) = c.current_master_addr(0);
                s += &format!(" s[{} e{} {h}:{p}]", &c.myid[..6], c.current_epoch);
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
