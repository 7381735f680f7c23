//! The model Redis' coordinated handover (issue #10): `CLIENT PAUSE <ms> WRITE`,
//! `CLIENT UNPAUSE` and `FAILOVER TO <host> <port> TIMEOUT <ms>` / `FAILOVER ABORT`, in
//! the steps redis-server 7.0 takes:
//!
//! 1. `waiting-for-sync`: writes paused (the master's offset stops), until the target
//!    (a linked replica of this node) has the master's offset, or the timeout ends it
//!    (`no-failover`, master again).
//! 2. `failover-in-progress`: the master demoted itself (replica of the target) and
//!    sends `PSYNC FAILOVER`; on a replication step where the target is reachable the
//!    target becomes a master, otherwise the old master rolls back to master.
//! 3. The old master learns the target accepted (one replication step later) and
//!    leaves the failover state.
//!
//! `FAILOVER ABORT` in step 2 or between 2 and 3 makes the old master a master again,
//! as redis-server does, which is a second master once the target was promoted: the
//! checker's `TwoWritableMasters` is raised whenever a handover transition leaves both
//! ends writable.

use super::check::Kind;
use super::world::World;
use super::{NodeId, Time};
use bytes::Bytes;
use rsentinel::resp::Reply;

/// A `FAILOVER TO` running on a model Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failover {
    pub target: (String, u16),
    pub end: Time,
    /// Step 2 reached: demoted, telling the target.
    pub demoted: bool,
    /// The target accepted (it is a master); step 3 is pending.
    pub accepted: bool,
}

impl Failover {
    pub fn state(&self) -> &'static str {
        if self.demoted {
            "failover-in-progress"
        } else {
            "waiting-for-sync"
        }
    }
}

fn text(b: Option<&Bytes>) -> String {
    b.map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

impl World {
    /// Redis `r` accepts writes: alive, a master, not paused, no handover running.
    pub fn writable(&self, r: usize) -> bool {
        let n = &self.redis[r];
        n.alive && n.master.is_none() && n.failover.is_none() && n.pause_until <= self.now
    }

    /// `CLIENT PAUSE <ms> [WRITE]` and `CLIENT UNPAUSE` on Redis `r`.
    pub fn redis_client_pause(&mut self, r: usize, args: &[Bytes]) -> Reply {
        let sub = text(args.get(1)).to_ascii_uppercase();
        if sub == "UNPAUSE" {
            self.redis[r].pause_until = 0;
            return Reply::ok();
        }
        match text(args.get(2)).parse::<u64>() {
            Ok(ms) => {
                self.redis[r].pause_until = self.now + ms;
                Reply::ok()
            }
            Err(_) => Reply::err("ERR timeout is not an integer or out of range"),
        }
    }

    /// `FAILOVER TO <host> <port> TIMEOUT <ms>` or `FAILOVER ABORT` on Redis `r`.
    pub fn redis_failover(&mut self, r: usize, args: &[Bytes]) -> Reply {
        let sub = text(args.get(1)).to_ascii_uppercase();
        if sub == "ABORT" {
            let Some(f) = self.redis[r].failover.take() else {
                return Reply::err("ERR No failover in progress.");
            };
            self.trace
                .note(self.now, format!("redis{r} failover abort"));
            if f.demoted {
                self.redis[r].master = None;
                self.redis[r].link_up = false;
                self.redis[r].sync_at = None;
                self.check_handover_pair(r, &f.target, "FAILOVER ABORT after the demotion");
            }
            return Reply::ok();
        }
        if self.redis[r].master.is_some() {
            return Reply::err("ERR FAILOVER is not valid when server is a replica.");
        }
        if self.redis[r].failover.is_some() {
            return Reply::err("ERR FAILOVER already in progress.");
        }
        let host = text(args.get(2)).to_ascii_lowercase();
        let port: u16 = text(args.get(3)).parse().unwrap_or(0);
        let timeout: u64 = text(args.get(5)).parse().unwrap_or(0);
        let me = (self.redis[r].ip.clone(), self.redis[r].port);
        let online = match self.resolve(&host, port) {
            Some(NodeId::Redis(t)) => {
                let n = &self.redis[t];
                n.alive && n.link_up && n.master.as_ref() == Some(&me)
            }
            _ => false,
        };
        if !online {
            return Reply::err("ERR FAILOVER target replica is not online.");
        }
        let end = if timeout == 0 {
            Time::MAX
        } else {
            self.now + timeout
        };
        self.redis[r].failover = Some(Failover {
            target: (host.clone(), port),
            end,
            demoted: false,
            accepted: false,
        });
        self.trace
            .note(self.now, format!("redis{r} failover to {host}:{port}"));
        Reply::ok()
    }

    /// One replication step of every running handover (before the offsets move).
    pub fn handover_step(&mut self) {
        for r in 0..self.redis.len() {
            let Some(f) = self.redis[r].failover.clone() else {
                continue;
            };
            if !self.redis[r].alive {
                self.redis[r].failover = None;
                continue;
            }
            let me = NodeId::Redis(r);
            let target = match self.resolve(&f.target.0, f.target.1) {
                Some(NodeId::Redis(t)) if t != r => Some(t),
                _ => None,
            };
            let reachable = target.is_some_and(|t| {
                self.redis[t].alive
                    && !self.net.is_blocked(me, Some(NodeId::Redis(t)))
                    && !self.net.is_blocked(NodeId::Redis(t), Some(me))
            });
            if f.accepted {
                // Step 3: the target's answer arrived.
                self.redis[r].failover = None;
                continue;
            }
            if f.demoted {
                let t = target.expect("a demoted handover has a target");
                if reachable {
                    self.redis[t].master = None;
                    self.redis[t].link_up = false;
                    self.redis[t].sync_at = None;
                    self.trace.note(
                        self.now,
                        format!("redis{t} promoted by redis{r}'s FAILOVER"),
                    );
                    if let Some(f) = self.redis[r].failover.as_mut() {
                        f.accepted = true;
                    }
                    if self.writable(r) {
                        let text = format!("redis{r} and redis{t} after PSYNC FAILOVER");
                        self.check.fail_at(Kind::TwoWritableMasters, self.now, text);
                    }
                } else {
                    self.trace
                        .note(self.now, format!("redis{r} failover rolled back"));
                    self.redis[r].failover = None;
                    self.redis[r].master = None;
                    self.redis[r].link_up = false;
                    self.check_handover_pair(r, &f.target, "rollback");
                }
                continue;
            }
            let me_addr = (self.redis[r].ip.clone(), self.redis[r].port);
            let synced = reachable
                && target.is_some_and(|t| {
                    let n = &self.redis[t];
                    n.link_up
                        && n.master.as_ref() == Some(&me_addr)
                        && n.offset == self.redis[r].offset
                });
            if synced {
                let now = self.now;
                let sync = self.sync_ms;
                let (h, p) = f.target.clone();
                self.redis[r].slaveof(&h, &p.to_string(), now, sync);
                if let Some(f) = self.redis[r].failover.as_mut() {
                    f.demoted = true;
                }
                self.trace
                    .note(now, format!("redis{r} demoted for {h}:{p}"));
            } else if self.now >= f.end {
                self.trace
                    .note(self.now, format!("redis{r} failover timeout"));
                self.redis[r].failover = None;
                self.check_handover_pair(r, &f.target, "timeout");
            }
        }
    }

    /// A handover end went back to being a master: the other end must not be one.
    fn check_handover_pair(&mut self, r: usize, target: &(String, u16), how: &str) {
        if let Some(NodeId::Redis(t)) = self.resolve(&target.0, target.1)
            && t != r
            && self.writable(t)
            && self.redis[r].alive
            && self.redis[r].master.is_none()
        {
            let text = format!("redis{r} master again ({how}) while redis{t} is one");
            self.check.fail_at(Kind::TwoWritableMasters, self.now, text);
        }
    }
}
