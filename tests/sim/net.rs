//! The simulated network: connections, partitions, delays and resets.
//!
//! A connection behaves like TCP as far as Sentinel can tell: each direction is an
//! ordered stream, a message is delivered after a random delay but never before the
//! one sent ahead of it, and a partition does not lose data, it stalls it (the stream
//! is retried until the partition heals or somebody closes the connection). Loss is
//! modelled the way TCP shows it to an application: the connection is reset.
//! One-way partitions block one direction only, so requests can arrive while their
//! replies hang, or the reverse.

use super::{NodeId, Time};
use bytes::Bytes;
use rsentinel::core::Event;
use rsentinel::core::instance::{ConnKind, LinkId, ReqId};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// What travels towards the connected-to node.
#[derive(Debug, Clone)]
pub enum Packet {
    /// The connection request itself (always first on a stream).
    Syn,
    Cmd(Option<ReqId>, Vec<Bytes>),
}

/// Which way a stream flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dir {
    ToTarget,
    ToOwner,
}

/// One connection opened by a sentinel core (`owner`) to a node (`target`).
#[derive(Debug)]
pub struct Conn {
    pub owner: usize,
    /// The owner's incarnation: a restarted core never sees its predecessor's traffic.
    pub owner_incarn: u64,
    pub link: LinkId,
    pub kind: ConnKind,
    /// `None` when nothing listens at the address.
    pub target: Option<NodeId>,
    /// The port dialled: where a test sees commands go, even when nothing listens.
    pub port: u16,
    /// The target's incarnation when the connection was accepted.
    pub target_incarn: u64,
    /// Accepted by the target (after the Syn arrived).
    pub open: bool,
    /// Broken (reset, killed, refused): nothing more reaches the target, and the
    /// owner gets the `Disconnected` already queued.
    pub dead: bool,
    pub subscribed: bool,
    /// Commands queued between MULTI and EXEC on a model Redis.
    pub multi: Option<Vec<Vec<Bytes>>>,
    pub to_target: VecDeque<(Time, Packet)>,
    pub to_owner: VecDeque<(Time, Event)>,
    /// A flush of that direction is already in the world queue.
    pub flush_target: bool,
    pub flush_owner: bool,
}

/// Connections plus the network conditions.
pub struct Net {
    pub conns: BTreeMap<u64, Conn>,
    by_owner: BTreeMap<(usize, u64, u8), u64>,
    next: u64,
    /// (from, to): data from `from` to `to` does not get through.
    pub blocked: BTreeSet<(NodeId, NodeId)>,
    /// Upper bound of the per-message delay in ms.
    pub max_delay: u64,
    /// Probability that sending a message resets its connection.
    pub reset_prob: f64,
}

fn kind_key(k: ConnKind) -> u8 {
    match k {
        ConnKind::Cmd => 0,
        ConnKind::PubSub => 1,
    }
}

impl Net {
    pub fn new() -> Net {
        Net {
            conns: BTreeMap::new(),
            by_owner: BTreeMap::new(),
            next: 1,
            blocked: BTreeSet::new(),
            max_delay: 20,
            reset_prob: 0.0,
        }
    }

    /// The connection a core means by (link, kind), if the network still has one.
    pub fn lookup(&self, owner: usize, link: LinkId, kind: ConnKind) -> Option<u64> {
        self.by_owner.get(&(owner, link.0, kind_key(kind))).copied()
    }

    /// Register a new connection; returns its id.
    pub fn open(
        &mut self,
        owner: usize,
        owner_incarn: u64,
        link: LinkId,
        kind: ConnKind,
        target: Option<NodeId>,
        port: u16,
    ) -> u64 {
        let id = self.next;
        self.next += 1;
        self.by_owner.insert((owner, link.0, kind_key(kind)), id);
        self.conns.insert(
            id,
            Conn {
                owner,
                owner_incarn,
                link,
                kind,
                target,
                port,
                target_incarn: 0,
                open: false,
                dead: false,
                subscribed: false,
                multi: None,
                to_target: VecDeque::new(),
                to_owner: VecDeque::new(),
                flush_target: false,
                flush_owner: false,
            },
        );
        id
    }

    /// Forget a connection entirely (closed by its owner, or its owner is gone).
    pub fn remove(&mut self, id: u64) {
        if let Some(c) = self.conns.remove(&id) {
            let key = (c.owner, c.link.0, kind_key(c.kind));
            if self.by_owner.get(&key) == Some(&id) {
                self.by_owner.remove(&key);
            }
        }
    }

    /// Is data from `from` to `to` blocked right now? A missing target (nothing
    /// listening) is reachable: the refusal comes back at once.
    pub fn is_blocked(&self, from: NodeId, to: Option<NodeId>) -> bool {
        to.is_some_and(|t| self.blocked.contains(&(from, t)))
    }

    /// The ends of a stream of `c` in direction `d`: (from, to).
    pub fn ends(c: &Conn, d: Dir) -> (NodeId, Option<NodeId>) {
        let owner = NodeId::Sentinel(c.owner);
        match d {
            Dir::ToTarget => (owner, c.target),
            Dir::ToOwner => (c.target.unwrap_or(owner), Some(owner)),
        }
    }

    /// Every connection id whose target is `node`.
    pub fn conns_to(&self, node: NodeId) -> Vec<u64> {
        self.conns
            .iter()
            .filter(|(_, c)| c.target == Some(node))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Every connection id owned by sentinel `s`.
    pub fn conns_of(&self, s: usize) -> Vec<u64> {
        self.conns
            .iter()
            .filter(|(_, c)| c.owner == s)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Block traffic; `both` blocks the reverse direction too.
    pub fn partition(&mut self, a: NodeId, b: NodeId, both: bool) {
        self.blocked.insert((a, b));
        if both {
            self.blocked.insert((b, a));
        }
    }

    pub fn heal(&mut self, a: NodeId, b: NodeId) {
        self.blocked.remove(&(a, b));
        self.blocked.remove(&(b, a));
    }
}
