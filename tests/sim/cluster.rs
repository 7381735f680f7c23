//! An in-process cluster for failover tests: several sentinel cores on one fake clock,
//! the simulation's model Redis instances ([`RedisNode`]) on 127.0.0.1, and a router
//! that carries every command a core sends.
//!
//! * Redis instances answer PING, INFO (the model's, with a fixed
//!   `master_link_down_since_seconds:1`), PUBLISH (forwarded to every hello
//!   subscription on that instance) and apply the SLAVEOF of the reconfiguration
//!   transaction; a replica's link comes up `sync_ms` after it was pointed at a live
//!   master.
//! * Peer sentinels: `SENTINEL ...` goes through the real command layer of the target
//!   core and the reply comes back as `Event::Reply`; `PUBLISH __sentinel__:hello` is a
//!   hello for the target core.
//! * Delivery has zero latency; each core ticks every 100 ms at its own phase.

use bytes::Bytes;
use rsentinel::commands::sentinel::sentinel_command;
use rsentinel::config::{LogLevel, MasterConfig, SentinelConfig};
use rsentinel::core::instance::{ConnKind, LinkId};
use rsentinel::core::{Action, Event, Identity, Sentinel};
use rsentinel::resp::Reply;
use std::collections::{HashMap, VecDeque};

mod redis;
use super::redis::RedisNode;
pub use crate::support::{IDS, T0};

pub struct Node {
    pub core: Sentinel,
    pub port: u16,
    pub links: HashMap<LinkId, u16>,
    /// (time, "channel payload")
    pub events: Vec<(u64, String)>,
    pub logs: Vec<(u64, String)>,
    pub actions: Vec<(u64, Action)>,
    /// Commands sent on command connections: (time, target port, args).
    pub sent: Vec<(u64, u16, Vec<String>)>,
    pub exited: Option<i32>,
    pub next_tick: u64,
}

pub struct World {
    pub now: u64,
    pub nodes: Vec<Node>,
    pub redis: Vec<RedisNode>,
    pub sync_ms: u64,
    /// Hello subscriptions: (node, link, redis port).
    subs: Vec<(usize, LinkId, u16)>,
    queue: VecDeque<(usize, Event)>,
}

fn hex_id(c: char) -> String {
    std::iter::repeat_n(c, 40).collect()
}

impl World {
    /// Redis instances on `ports` (the first is the master, the others replicate it,
    /// with run ids chosen so that the last one wins the run-id tie-break) and no
    /// sentinels yet.
    pub fn new(ports: &[u16]) -> World {
        let ids = ['9', 'd', 'a', 'c', 'b'];
        let redis = ports
            .iter()
            .enumerate()
            .map(|(n, &port)| {
                let master = (n != 0).then(|| ("127.0.0.1".to_string(), ports[0]));
                let mut r = RedisNode::with_id(
                    "127.0.0.1".into(),
                    port,
                    hex_id(ids[n % ids.len()]),
                    master,
                );
                r.offset = 1000;
                r.sync_at = (n != 0).then_some(0);
                r.down_since_seconds = Some(1);
                r
            })
            .collect();
        World {
            now: T0,
            nodes: Vec::new(),
            redis,
            sync_ms: 300,
            subs: Vec::new(),
            queue: VecDeque::new(),
        }
    }

    /// Add a sentinel core with this config; it ticks at `T0 + phase` + k × 100 ms.
    pub fn add_sentinel(&mut self, myid: &str, port: u16, m: MasterConfig, seed: u64, phase: u64) {
        let cfg = SentinelConfig {
            myid: Some(myid.to_string()),
            masters: vec![m],
            ..Default::default()
        };
        let id = Identity {
            port,
            ..Default::default()
        };
        self.nodes.push(Node {
            core: Sentinel::new(&cfg, id, seed, self.now),
            port,
            links: HashMap::new(),
            events: Vec::new(),
            logs: Vec::new(),
            actions: Vec::new(),
            sent: Vec::new(),
            exited: None,
            next_tick: self.now + phase,
        });
    }

    /// The golden topology: master 41000, replicas 41001/41002, sentinels s1..s3 on
    /// 41100..41102 knowing each other and the replicas.
    pub fn golden_three(tune: impl Fn(&mut MasterConfig)) -> World {
        World::three(&[41000, 41001, 41002], tune)
    }

    /// Master `ports[0]` with the other ports as replicas (known in this order), watched
    /// by s1..s3 (quorum 2, down-after 2000, failover-timeout 10000) that know each other.
    pub fn three(ports: &[u16], tune: impl Fn(&mut MasterConfig)) -> World {
        let mut w = World::new(ports);
        for n in 0..3 {
            let mut m = MasterConfig::new("mymaster", "127.0.0.1", ports[0], 2);
            m.down_after_ms = 2000;
            m.failover_timeout_ms = 10000;
            m.known_replicas = ports[1..]
                .iter()
                .map(|&p| ("127.0.0.1".to_string(), p))
                .collect();
            m.known_sentinels = (0..3)
                .filter(|&o| o != n)
                .map(|o| {
                    (
                        "127.0.0.1".to_string(),
                        41100 + o as u16,
                        IDS[o].to_string(),
                    )
                })
                .collect();
            tune(&mut m);
            w.add_sentinel(IDS[n], 41100 + n as u16, m, 11 + n as u64, [30, 0, 60][n]);
        }
        w
    }

    /// One sentinel (quorum 1) over master `ports[0]` and its replicas.
    pub fn single(name: &str, ports: &[u16], tune: impl Fn(&mut MasterConfig)) -> World {
        let mut w = World::new(ports);
        let mut m = MasterConfig::new(name, "127.0.0.1", ports[0], 1);
        m.down_after_ms = 1000;
        m.failover_timeout_ms = 3000;
        tune(&mut m);
        w.add_sentinel(IDS[0], 41410, m, 5, 0);
        w
    }

    /// Kill a Redis instance: every connection to it breaks.
    pub fn kill(&mut self, port: u16) {
        self.redis(port).alive = false;
        self.subs.retain(|s| s.2 != port);
        for n in 0..self.nodes.len() {
            let links: Vec<LinkId> = self.nodes[n]
                .links
                .iter()
                .filter(|(_, p)| **p == port)
                .map(|(l, _)| *l)
                .collect();
            for link in links {
                for conn in [ConnKind::Cmd, ConnKind::PubSub] {
                    self.queue.push_back((
                        n,
                        Event::Disconnected {
                            link,
                            conn,
                            error: "Connection reset by peer".into(),
                        },
                    ));
                }
            }
        }
        self.drain();
    }

    /// Restart a killed instance with the role it had.
    pub fn revive(&mut self, port: u16) {
        self.redis(port).alive = true;
    }

    /// Run the clock until `t` (absolute), ticking every core on its own phase.
    pub fn run_until(&mut self, t: u64) {
        while let Some(n) = (0..self.nodes.len())
            .filter(|&n| self.nodes[n].exited.is_none())
            .min_by_key(|&n| self.nodes[n].next_tick)
        {
            let at = self.nodes[n].next_tick;
            if at > t {
                break;
            }
            self.now = at;
            self.nodes[n].next_tick += 100;
            self.queue.push_back((n, Event::Tick));
            self.drain();
        }
        self.now = t;
    }

    pub fn run_for(&mut self, ms: u64) {
        self.run_until(self.now + ms);
    }

    /// Run until `pred` holds (checked after every tick) or `limit` ms passed.
    pub fn run_while_not(&mut self, limit: u64, pred: impl Fn(&World) -> bool) -> bool {
        let end = self.now + limit;
        while self.now < end {
            if pred(self) {
                return true;
            }
            let next = self
                .nodes
                .iter()
                .filter(|n| n.exited.is_none())
                .map(|n| n.next_tick)
                .min()
                .unwrap_or(end);
            self.run_until(next.min(end));
        }
        pred(self)
    }

    /// A client command on node `n` (e.g. `SENTINEL FAILOVER mymaster`).
    pub fn command(&mut self, n: usize, args: &[&str]) -> Reply {
        let args: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        let r = sentinel_command(&mut self.nodes[n].core, self.now, &args);
        self.route(n);
        self.drain();
        r
    }

    fn drain(&mut self) {
        while let Some((n, ev)) = self.queue.pop_front() {
            if self.nodes[n].exited.is_some() {
                continue;
            }
            self.nodes[n].core.handle(self.now, ev);
            self.route(n);
        }
    }

    /// Carry out every action node `n` produced.
    fn route(&mut self, n: usize) {
        let now = self.now;
        for a in self.nodes[n].core.drain_actions() {
            if self.nodes[n].exited.is_some() {
                break;
            }
            self.nodes[n].actions.push((now, a.clone()));
            match a {
                Action::Connect {
                    link, conn, port, ..
                } => {
                    self.nodes[n].links.insert(link, port);
                    let up = self.redis.iter().any(|r| r.port == port && r.alive)
                        || self
                            .nodes
                            .iter()
                            .any(|x| x.port == port && x.exited.is_none());
                    let ev = if up {
                        Event::Connected {
                            link,
                            conn,
                            local_ip: "127.0.0.1".into(),
                        }
                    } else {
                        Event::Disconnected {
                            link,
                            conn,
                            error: "Connection refused".into(),
                        }
                    };
                    self.queue.push_back((n, ev));
                }
                Action::Send {
                    link,
                    conn,
                    req,
                    args,
                } => self.on_send(n, link, conn, req, args),
                Action::Close {
                    link,
                    conn: ConnKind::PubSub,
                } => {
                    self.subs.retain(|s| !(s.0 == n && s.1 == link));
                }
                // Debug-level events are logged only, never published.
                Action::Event {
                    level,
                    channel,
                    payload,
                    ..
                } if level != LogLevel::Debug => self.nodes[n]
                    .events
                    .push((now, format!("{channel} {payload}"))),
                Action::Log { text, .. } => self.nodes[n].logs.push((now, text)),
                Action::Exit(code) => self.nodes[n].exited = Some(code),
                _ => {}
            }
        }
    }

    fn on_send(
        &mut self,
        n: usize,
        link: LinkId,
        conn: ConnKind,
        req: Option<rsentinel::core::instance::ReqId>,
        args: Vec<Bytes>,
    ) {
        let Some(&port) = self.nodes[n].links.get(&link) else {
            return;
        };
        let args: Vec<String> = args
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect();
        if conn == ConnKind::PubSub {
            if args[0] == "SUBSCRIBE" && self.redis.iter().any(|r| r.port == port && r.alive) {
                self.subs.push((n, link, port));
            }
            return;
        }
        self.nodes[n].sent.push((self.now, port, args.clone()));
        let reply = if let Some(t) = self.nodes.iter().position(|x| x.port == port) {
            self.sentinel_answer(t, &args)
        } else {
            self.redis_answer(port, &args)
        };
        if let (Some(req), Some(reply)) = (req, reply) {
            self.queue.push_back((n, Event::Reply { link, req, reply }));
        }
    }

    /// A peer sentinel answers as in the simulation ([`super::peer::answer`]).
    fn sentinel_answer(&mut self, t: usize, args: &[String]) -> Option<Reply> {
        if self.nodes[t].exited.is_some() {
            return None;
        }
        let b: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        let reply = super::peer::answer(&mut self.nodes[t].core, self.now, &b);
        self.route(t);
        Some(reply)
    }

    /// Events of node `n` ("channel payload"), in order.
    pub fn events(&self, n: usize) -> Vec<String> {
        self.nodes[n]
            .events
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// The first time node `n` emitted an event starting with `prefix`.
    pub fn event_time(&self, n: usize, prefix: &str) -> Option<u64> {
        self.nodes[n]
            .events
            .iter()
            .find(|(_, e)| e.starts_with(prefix))
            .map(|(t, _)| *t)
    }

    pub fn has_event(&self, n: usize, prefix: &str) -> bool {
        self.event_time(n, prefix).is_some()
    }

    /// Events of node `n` emitted at or after `from` whose channel is in the failover
    /// catalogue (drops link/role noise that depends on the capture's history).
    pub fn events_from(&self, n: usize, from: u64) -> Vec<String> {
        self.nodes[n]
            .events
            .iter()
            .filter(|(t, _)| *t >= from)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// Index of the node that emitted `+elected-leader`.
    pub fn leader(&self) -> Option<usize> {
        (0..self.nodes.len()).find(|&n| self.has_event(n, "+elected-leader"))
    }
}
