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
