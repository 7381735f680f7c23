//! The world without chance, for the failover tests that compare event sequences and
//! timings with the captures of the real redis-sentinel.
//!
//! The captures ran on one machine: replies took well under a millisecond, each
//! sentinel's timer fired on its own steady phase, and nothing failed unless the test
//! made it. So this mode has no latency (a target acts on a request in the same step),
//! ticks every 100 ms at fixed phases, no faults, and no replication steps (a replica
//! re-pointed by SLAVEOF reports its link up `sync_ms` later). The topology is given
//! explicitly, on 127.0.0.1 with the captures' ports, and every node keeps a record
//! (events, logs, actions, commands sent) for the tests to read. The safety checks of
//! the seeded runs stay on; a violation fails the test.

use super::redis::RedisNode;
use super::world::Msg;
use super::{Options, peer::SentinelNode};
use bytes::Bytes;
use rsentinel::config::{MasterConfig, SentinelConfig};
use rsentinel::resp::Reply;

pub use super::world::World;
pub use crate::support::{IDS, T0};

fn hex_id(c: char) -> String {
    std::iter::repeat_n(c, 40).collect()
}

impl World {
    /// Redis instances on `ports` (the first is the master, the others replicate it,
    /// with run ids chosen so that the last one wins the run-id tie-break) and no
    /// sentinels yet.
    pub fn golden(ports: &[u16]) -> World {
        let opts = Options::calm(0);
        let mut w = World::empty(0, opts, T0);
        w.golden = true;
        w.sync_ms = 300;
        let ids = ['9', 'd', 'a', 'c', 'b'];
        for (n, &port) in ports.iter().enumerate() {
            let master = (n != 0).then(|| ("127.0.0.1".to_string(), ports[0]));
            let id = hex_id(ids[n % ids.len()]);
            let mut r = RedisNode::with_id("127.0.0.1".into(), port, id, master);
            r.offset = 1000;
            r.sync_at = (n != 0).then_some(0);
            r.down_since_seconds = Some(1);
            w.redis.push(r);
        }
        w
    }

    /// Add a sentinel core with this config; it ticks at `T0 + phase` + k × 100 ms.
    pub fn add_sentinel(&mut self, myid: &str, port: u16, m: MasterConfig, seed: u64, phase: u64) {
        let cfg = SentinelConfig {
            myid: Some(myid.to_string()),
            masters: vec![m],
            ..Default::default()
        };
        let node = SentinelNode::start("127.0.0.1".into(), port, cfg, seed, self.now);
        self.nodes.push(node);
        let i = self.nodes.len() - 1;
        self.schedule(self.now + phase, Msg::Tick(i, self.nodes[i].incarn));
        self.after_core(i);
    }

    /// The golden topology: master 41000, replicas 41001/41002, sentinels s1..s3 on
    /// 41100..41102 knowing each other and the replicas.
    pub fn golden_three(tune: impl Fn(&mut MasterConfig)) -> World {
        World::three(&[41000, 41001, 41002], tune)
    }

    /// Master `ports[0]` with the other ports as replicas (known in this order), watched
    /// by s1..s3 (quorum 2, down-after 2000, failover-timeout 10000) that know each other.
    pub fn three(ports: &[u16], tune: impl Fn(&mut MasterConfig)) -> World {
        let mut w = World::golden(ports);
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
                .map(|o| ("127.0.0.1".into(), 41100 + o as u16, IDS[o].into()))
                .collect();
            tune(&mut m);
            w.add_sentinel(IDS[n], 41100 + n as u16, m, 11 + n as u64, [30, 0, 60][n]);
        }
        w
    }

    /// One sentinel (quorum 1) over master `ports[0]` and its replicas.
    pub fn single(name: &str, ports: &[u16], tune: impl Fn(&mut MasterConfig)) -> World {
        let mut w = World::golden(ports);
        let mut m = MasterConfig::new(name, "127.0.0.1", ports[0], 1);
        m.down_after_ms = 1000;
        m.failover_timeout_ms = 3000;
        tune(&mut m);
        w.add_sentinel(IDS[0], 41410, m, 5, 0);
        w
    }

    pub fn redis(&mut self, port: u16) -> &mut RedisNode {
        self.redis.iter_mut().find(|r| r.port == port).unwrap()
    }

    /// Kill a Redis instance: every connection to it breaks.
    pub fn kill(&mut self, port: u16) {
        let r = self.redis.iter().position(|r| r.port == port).unwrap();
        self.kill_redis(r);
        self.run_for(0);
    }

    /// Bring a killed instance back as the same process (same run id and role): the
    /// captures' sentinels saw no reboot.
    pub fn revive(&mut self, port: u16) {
        self.redis(port).alive = true;
    }

    /// Run the clock `ms` further; a broken safety property fails the test.
    pub fn run_for(&mut self, ms: u64) {
        let ok = self.run_until(self.now + ms);
        assert!(ok, "{:?}", self.check.violation);
    }

    /// Run until `pred` holds (checked after every tick) or `limit` ms passed.
    pub fn run_while_not(&mut self, limit: u64, pred: impl Fn(&World) -> bool) -> bool {
        let end = self.now + limit;
        while self.now < end {
            if pred(self) {
                return true;
            }
            let next = self.next_step().unwrap_or(end).min(end);
            self.run_for(next - self.now);
        }
        pred(self)
    }

    /// A client command on node `n` (e.g. `SENTINEL FAILOVER mymaster`).
    pub fn command(&mut self, n: usize, args: &[&str]) -> Reply {
        let args: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        let reply = self.operator_command(n, &args).expect("sentinel is up");
        self.run_for(0);
        reply
    }

    /// The replication links as they are now: a replica's is up from its `sync_at` on
    /// while the instance it points at is alive and a master.
    pub fn sync_links(&mut self) {
        let up: Vec<bool> = self
            .redis
            .iter()
            .map(|r| {
                r.sync_at.is_some_and(|t| t <= self.now)
                    && r.master.as_ref().is_some_and(|(h, p)| {
                        self.redis
                            .iter()
                            .any(|m| &m.ip == h && m.port == *p && m.alive && m.is_master())
                    })
            })
            .collect();
        for (r, up) in self.redis.iter_mut().zip(up) {
            r.link_up = up;
        }
    }
}
