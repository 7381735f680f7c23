//! Moving data over connections: queueing each direction in order, delivering what
//! is due (retrying while a partition blocks the path, as TCP retransmits), and
//! breaking connections (resets, refusals, killed processes).

use super::NodeId;
use super::Time;
use super::net::{Dir, Net, Packet};
use super::world::{Msg, World};
use rand::Rng;
use rsentinel::core::Event;

impl World {
    /// Queue a packet towards the target; a message may instead reset the connection.
    /// Without latency (golden-timed mode) the target acts at once, so a peer's answer
    /// is decided in the same step as the request, as on one machine in the captures.
    pub fn enqueue_target(&mut self, id: u64, p: Packet) {
        if self.golden {
            if self.net.conns.contains_key(&id) {
                self.deliver_to_target(id, p);
            }
            return;
        }
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
        if self.golden {
            return self.schedule(self.now, Msg::Deliver(id, ev));
        }
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
    pub fn flush(&mut self, id: u64, d: Dir) {
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
                    Some(NodeId::Sentinel(j)) if self.nodes[j].running => {
                        Some(self.nodes[j].incarn)
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
                    local_ip: self.nodes[c.owner].ip.clone(),
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

    pub(super) fn deliver_to_owner(&mut self, id: u64, ev: Event) {
        let c = &self.net.conns[&id];
        let owner = c.owner;
        if self.nodes[owner].incarn != c.owner_incarn || !self.nodes[owner].running {
            self.net.remove(id);
            return;
        }
        if matches!(ev, Event::Disconnected { .. }) {
            self.net.remove(id);
        }
        self.core_event(owner, ev);
    }
}
