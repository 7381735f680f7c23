//! Issue #15's check on what sentinels advertise: no sentinel may answer
//! `SENTINEL GET-MASTER-ADDR-BY-NAME` with an address that is not the master (a
//! replica, a dead or frozen node, a stale master the others demoted, or a master the
//! sentinel itself is cut off from, which it must fail over) for longer than a
//! failover takes.
//!
//! Every sample round gives, per sentinel, a [`Verdict`] on its advertised address
//! (judged by the node's real role, read over a direct connection, never through a
//! relay) and whether the sentinel's clock runs: it runs only while the sentinel is up
//! and on the side of a partition that can fail over (at least two sentinels that
//! reach each other, and a live data node besides the advertised one that they all
//! reach). Time spent advertising a non-master while the clock is stopped is a
//! minority's (or a crippled cluster's) legitimately stale view: reported, not failed.

use crate::relay::Peer;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The advertised address is the master.
    Good,
    /// The advertised address is not the master: why.
    Bad(String),
    /// The advertised address is a replica (a master demoted behind this sentinel's
    /// back, e.g. converted by a peer that had not yet learnt a newer epoch). Sentinel
    /// sees such a master as down only after down-after + 2 INFO periods (20 s): the
    /// bound grows by those 20 s.
    Replica(String),
    /// No answer (sentinel down or slow, role unknown): the clock stops, the period
    /// (if any) stays open.
    Unknown,
}

#[derive(Default)]
struct Period {
    since: Option<Instant>,
    what: String,
    counted: Duration,
    minority: Duration,
    replica: bool,
}

pub struct Advert {
    pub bound: Duration,
    /// Added to the bound of a period in which a replica was advertised.
    pub replica_extra: Duration,
    last: Option<Instant>,
    open: Vec<Period>,
    /// Longest counted time of one period (sentinel, what it advertised).
    pub max_counted: (Duration, usize, String),
    /// Longest time of one period spent in a minority (or while no failover could run).
    pub max_minority: Duration,
    pub periods: usize,
    /// (sentinel, what happened) of each period over the bound.
    pub violations: Vec<(usize, String)>,
    /// The periods over 1 s, described, and the time base of their descriptions.
    pub log: Vec<String>,
    pub t0: Instant,
}

impl Advert {
    pub fn new(sentinels: usize, bound: Duration, replica_extra: Duration) -> Advert {
        Advert {
            bound,
            replica_extra,
            last: None,
            open: (0..sentinels).map(|_| Period::default()).collect(),
            max_counted: (Duration::ZERO, 0, String::new()),
            max_minority: Duration::ZERO,
            periods: 0,
            violations: Vec::new(),
            log: Vec::new(),
            t0: Instant::now(),
        }
    }

    /// One sample round: `seen[i]` is sentinel i's verdict, `clocked[i]` whether its
    /// clock runs.
    pub fn observe(&mut self, now: Instant, seen: &[Verdict], clocked: &[bool]) {
        let dt = self.last.map_or(Duration::ZERO, |l| now - l);
        self.last = Some(now);
        for (i, v) in seen.iter().enumerate() {
            match v {
                Verdict::Good => self.close(i),
                Verdict::Unknown => {}
                Verdict::Bad(what) | Verdict::Replica(what) => {
                    let p = &mut self.open[i];
                    p.replica |= matches!(v, Verdict::Replica(_));
                    if p.since.is_none() {
                        p.since = Some(now);
                        p.what = what.clone();
                    } else if clocked[i] {
                        p.counted += dt;
                    } else {
                        p.minority += dt;
                    }
                }
            }
        }
    }

    fn close(&mut self, i: usize) {
        let p = std::mem::take(&mut self.open[i]);
        let Some(since) = p.since else { return };
        self.periods += 1;
        if p.counted > self.max_counted.0 {
            self.max_counted = (p.counted, i, p.what.clone());
        }
        self.max_minority = self.max_minority.max(p.minority);
        if p.counted + p.minority > Duration::from_secs(1) {
            let t = since.saturating_duration_since(self.t0).as_secs_f64();
            self.log.push(format!(
                "{t:.1}s S{i} {}: {:.1} s counted, {:.1} s in a minority",
                p.what,
                p.counted.as_secs_f64(),
                p.minority.as_secs_f64()
            ));
        }
        let bound = self.bound
            + if p.replica {
                self.replica_extra
            } else {
                Duration::ZERO
            };
        if p.counted > bound {
            self.violations.push((
                i,
                format!(
                    "sentinel {i} advertised {} for {:.1} s with a majority able to fail over \
                 (+{:.1} s in a minority; period of {:.1} s), bound {:.1} s",
                    p.what,
                    p.counted.as_secs_f64(),
                    p.minority.as_secs_f64(),
                    since.elapsed().as_secs_f64(),
                    bound.as_secs_f64()
                ),
            ));
        }
    }

    /// Close every open period (end of the run).
    pub fn finish(&mut self) {
        for i in 0..self.open.len() {
            self.close(i);
        }
    }

    pub fn summary(&self) -> String {
        format!(
            "advertised non-master max {:.1} s (sentinel {}: {}; bound {:.1} s, +{:.0} s for \
             a replica, {} periods), in a minority max {:.1} s",
            self.max_counted.0.as_secs_f64(),
            self.max_counted.1,
            if self.max_counted.2.is_empty() {
                "-"
            } else {
                &self.max_counted.2
            },
            self.bound.as_secs_f64(),
            self.replica_extra.as_secs_f64(),
            self.periods,
            self.max_minority.as_secs_f64()
        )
    }
}

#[test]
fn advert_counts_only_clocked_time() {
    let t0 = Instant::now();
    let mut a = Advert::new(1, Duration::from_secs(5), Duration::from_secs(20));
    let bad = || vec![Verdict::Bad("x".into())];
    let s = Duration::from_secs(1);
    a.observe(t0, &bad(), &[true]);
    a.observe(t0 + 3 * s, &bad(), &[false]);
    a.observe(t0 + 4 * s, &[Verdict::Unknown], &[true]);
    a.observe(t0 + 8 * s, &bad(), &[true]);
    a.observe(t0 + 9 * s, &[Verdict::Good], &[true]);
    assert_eq!(a.max_counted.0, 4 * s);
    assert_eq!(a.max_minority, 3 * s);
    assert!(a.violations.is_empty());
    a.observe(t0 + 10 * s, &bad(), &[true]);
    a.observe(t0 + 16 * s, &bad(), &[true]);
    a.finish();
    assert_eq!(a.violations.len(), 1, "{:?}", a.violations);
}

impl super::Soak {
    /// The data node whose relay address `addr` ("127.0.0.1:port") is.
    pub(super) fn data_at(&self, addr: &str) -> Option<usize> {
        let port: u16 = addr.strip_prefix("127.0.0.1:")?.parse().ok()?;
        match self.net.peer_at(port)? {
            Peer::Data(d) => Some(d),
            _ => None,
        }
    }

    /// Data node `d`'s role over a direct connection (None: down, frozen or no answer).
    pub(super) fn role(&mut self, d: usize) -> Option<String> {
        if self.data[d].dead || self.data[d].stopped {
            return None;
        }
        let v: Vec<redis::Value> = self.dconns[d].query(&redis::cmd("ROLE"))?;
        match v.first() {
            Some(redis::Value::BulkString(b)) => Some(String::from_utf8_lossy(b).into()),
            _ => None,
        }
    }

    /// Judge every sentinel's advertised address against the data nodes' real roles.
    /// When two nodes answer role:master (a demoted master not yet reconfigured, or one
    /// cut off with a minority), the master is the one named at the highest config epoch
    /// any sentinel was seen to hold; the other is a stale master.
    pub(super) fn check_advertised(&mut self, views: &[Option<(String, u64)>]) {
        let roles: Vec<Option<String>> = (0..self.data.len()).map(|d| self.role(d)).collect();
        let masters: Vec<usize> = (0..roles.len())
            .filter(|&d| roles[d].as_deref() == Some("master"))
            .collect();
        let named_at = |d: usize| -> Option<u64> {
            let addr = format!("127.0.0.1:{}", self.net.relay_port(Peer::Data(d)));
            self.report
                .views
                .iter()
                .rev()
                .find(|(_, addrs)| addrs.contains_key(&addr))
                .map(|(e, _)| *e)
        };
        let epochs: Vec<Option<u64>> = masters.iter().map(|&m| named_at(m)).collect();
        let top = epochs.iter().max().copied().flatten();
        // Several masters, none named at a unique highest epoch: no stale one is known.
        let unique = top.is_some() && epochs.iter().filter(|&&e| e == top).count() == 1;
        let is_master = |d: usize| -> bool {
            let Some(k) = masters.iter().position(|&m| m == d) else {
                return false;
            };
            masters.len() == 1 || !unique || epochs[k] == top
        };
        // A sentinel in TILT (after a pause of 2 s or more, for 30 s) takes no action:
        // it does not count towards a group able to fail over.
        let tilted: Vec<bool> = (0..self.sentinels.len())
            .map(|i| {
                let s = &self.sentinels[i];
                !(s.dead || s.stopped)
                    && self.conns[i]
                        .query::<String>(redis::cmd("INFO").arg("sentinel"))
                        .is_some_and(|s| s.contains("sentinel_tilt:1"))
            })
            .collect();
        let mut seen = Vec::new();
        let mut clocked = Vec::new();
        for (i, v) in views.iter().enumerate() {
            let Some((addr, _)) = v else {
                seen.push(Verdict::Unknown);
                clocked.push(false);
                continue;
            };
            let d = self.data_at(addr);
            clocked.push(self.clocked(i, d, &tilted));
            seen.push(match d {
                None => Verdict::Bad(format!("{addr} (no data node)")),
                Some(d) if self.data[d].dead => Verdict::Bad(format!("D{d} (dead)")),
                Some(d) if self.data[d].stopped => Verdict::Bad(format!("D{d} (frozen)")),
                Some(d) => match &roles[d] {
                    None => Verdict::Unknown,
                    Some(_) if self.net.is_cut(Peer::Sentinel(i), Peer::Data(d)) => {
                        Verdict::Bad(format!("D{d} (cut off from S{i})"))
                    }
                    Some(_) if is_master(d) => Verdict::Good,
                    Some(r) if r == "master" => Verdict::Bad(format!("D{d} (a stale master)")),
                    Some(r) => Verdict::Replica(format!("D{d} (a {r})")),
                },
            });
        }
        self.advert.observe(Instant::now(), &seen, &clocked);
    }

    /// Whether sentinel `i`'s clock runs: it is up, it belongs with at least two
    /// sentinels able to act (up, not in TILT, itself or reaching it), and some live
    /// data node other than the advertised one (`adv`) is reached by all of them (a
    /// failover could promote it).
    fn clocked(&self, i: usize, adv: Option<usize>, tilted: &[bool]) -> bool {
        let up = |n: &super::Node| !n.dead && !n.stopped;
        if !up(&self.sentinels[i]) {
            return false;
        }
        let group: Vec<usize> = (0..self.sentinels.len())
            .filter(|&j| {
                up(&self.sentinels[j])
                    && !tilted[j]
                    && (j == i || !self.net.is_cut(Peer::Sentinel(i), Peer::Sentinel(j)))
            })
            .collect();
        group.len() >= 2
            && (0..self.data.len()).any(|d| {
                Some(d) != adv
                    && up(&self.data[d])
                    && group
                        .iter()
                        .all(|&j| !self.net.is_cut(Peer::Sentinel(j), Peer::Data(d)))
            })
    }
}
