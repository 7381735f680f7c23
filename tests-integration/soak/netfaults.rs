//! The soak's network faults (issue #15), through the relays: one process cut off from
//! all the others, a split of the processes into two sides, and added latency on one
//! process's links. Each lasts 2-8 s; a newer fault of the same kind replaces the
//! current one.

use super::{Resume, peer, peer_name};
use crate::relay::Peer;
use rand::Rng;
use rand::seq::SliceRandom;
use std::time::Instant;

impl super::Soak {
    /// Inject network fault `k` (17..30 of the schedule's draw); its description.
    pub(super) fn inject_net(&mut self, k: u32) -> Option<String> {
        let all: Vec<Peer> = (0..3)
            .flat_map(|i| [peer(false, i), peer(true, i)])
            .collect();
        let len = self.pause(2000, 8000);
        let due = Instant::now() + len;
        let secs = len.as_secs_f64();
        match k {
            17..=21 => {
                // One process alone; the client stays with the others.
                let victim = *all.choose(&mut self.rng)?;
                let rest: Vec<Peer> = all
                    .iter()
                    .copied()
                    .filter(|&p| p != victim)
                    .chain([Peer::Client])
                    .collect();
                self.net.partition(&[vec![victim], rest]);
                self.cut_gen += 1;
                self.pending.push((due, Resume::Heal(self.cut_gen)));
                Some(format!("isolate {} for {secs:.1} s", peer_name(victim)))
            }
            22..=26 => {
                // Two non-empty sides; the client joins the side with more sentinels.
                let mask = self.rng.gen_range(1..(1u32 << all.len()) - 1);
                let side = |n: usize| mask >> n & 1 == 1;
                let pick = |want: bool| -> Vec<Peer> {
                    (0..all.len())
                        .filter(|&n| side(n) == want)
                        .map(|n| all[n])
                        .collect()
                };
                let (mut a, mut b) = (pick(true), pick(false));
                let sentinels =
                    |v: &Vec<Peer>| v.iter().filter(|p| matches!(p, Peer::Sentinel(_))).count();
                if sentinels(&a) >= sentinels(&b) {
                    a.push(Peer::Client);
                } else {
                    b.push(Peer::Client);
                }
                let names = |v: &Vec<Peer>| {
                    v.iter()
                        .map(|&p| peer_name(p))
                        .collect::<Vec<_>>()
                        .join(",")
                };
                let f = format!(
                    "split {{{}}} | {{{}}} for {secs:.1} s",
                    names(&a),
                    names(&b)
                );
                self.net.partition(&[a, b]);
                self.cut_gen += 1;
                self.pending.push((due, Resume::Heal(self.cut_gen)));
                Some(f)
            }
            _ => {
                let p = *all.choose(&mut self.rng)?;
                let d = self.pause(20, 200);
                self.net.clear_slow();
                self.net.slow(p, Some(d));
                self.slow_gen += 1;
                self.pending.push((due, Resume::Fast(p, self.slow_gen)));
                Some(format!(
                    "slow {} by {} ms for {secs:.1} s",
                    peer_name(p),
                    d.as_millis()
                ))
            }
        }
    }
}

/// The relay on its own (not ignored, a few seconds): a replica reaching its master
/// through the master's relay is identified from /proc, its link black-holes while cut
/// and comes back on healing; a slow link delays round trips.
#[test]
fn soak_relay_cuts_heals_and_slows_a_replica_link() {
    use crate::harness::{Raw, redis_server, replication, wait_until};
    use crate::relay::Net;
    use std::time::Duration;
    require!("redis-server");
    let mut net = Net::new();
    let (r0, r1) = (net.relay(Peer::Data(0)), net.relay(Peer::Data(1)));
    let announce = |p: u16| {
        ["--replica-announce-ip", "127.0.0.1"]
            .map(String::from)
            .to_vec()
            .into_iter()
            .chain(["--replica-announce-port".to_string(), p.to_string()])
            .collect::<Vec<_>>()
    };
    let a0 = announce(r0);
    let m = redis_server(&a0.iter().map(String::as_str).collect::<Vec<_>>());
    net.attach(Peer::Data(0), m.port, m.child.id() as i32);
    let mut a1 = announce(r1);
    a1.extend(["--replicaof".into(), "127.0.0.1".into(), r0.to_string()]);
    let r = redis_server(&a1.iter().map(String::as_str).collect::<Vec<_>>());
    net.attach(Peer::Data(1), r.port, r.child.id() as i32);
    let up = || {
        replication(r.port)
            .get("master_link_status")
            .map(String::as_str)
            == Some("up")
    };
    wait_until(
        "the replica links through the relay",
        Duration::from_secs(10),
        up,
    );
    let info = replication(m.port);
    assert!(
        info.get("slave0")
            .is_some_and(|s| s.contains(&format!("port={r1}"))),
        "{info:?}"
    );
    let accepted = net.stats.accepted.lock().unwrap().clone();
    assert!(
        accepted.contains_key(&(Peer::Data(1), Peer::Data(0))),
        "{accepted:?}"
    );

    let get =
        |k: &str| String::from_utf8_lossy(&Raw::connect(r.port).cmd(&["GET", k])).into_owned();
    net.partition(&[vec![Peer::Data(0)], vec![Peer::Data(1)]]);
    Raw::connect(m.port).cmd(&["SET", "k", "cut"]);
    // While cut, nothing reaches the replica (a bounded negative check).
    let until = std::time::Instant::now() + Duration::from_millis(1500);
    while std::time::Instant::now() < until {
        assert!(!get("k").contains("cut"), "a write crossed a cut link");
        std::thread::sleep(Duration::from_millis(100));
    }
    net.heal();
    wait_until(
        "the write replicated after healing",
        Duration::from_secs(15),
        || get("k").contains("cut"),
    );
    assert!(
        net.stats
            .blackholed
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );

    let mut c = Raw::connect(r0);
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    net.slow(Peer::Data(0), Some(Duration::from_millis(150)));
    let t = std::time::Instant::now();
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    net.slow(Peer::Data(0), None);
    let accepted = net.stats.accepted.lock().unwrap().clone();
    assert!(
        accepted.contains_key(&(Peer::Client, Peer::Data(0))),
        "{accepted:?}"
    );
}
