//! The monitoring half of every timer run: connecting links (with the handshake),
//! the periodic PING / INFO / hello sends, and the bookkeeping of link health.
//!
//! Instances are addressed two ways. During a timer run the core walks its vectors and
//! uses positions ([`Inst`]); a request in flight outlives that walk (records can be
//! removed or re-created before its reply arrives), so it remembers its owner by name
//! ([`InstanceKey`]) and is resolved again when the reply comes back.

use super::events::Subject;
use super::instance::*;
use super::{Action, Sentinel};
use crate::config::LogLevel;
use bytes::Bytes;

/// The pub/sub channel sentinels announce themselves on.
pub const HELLO_CHANNEL: &str = "__sentinel__:hello";
/// rsentinel's own channel on masters: a leader announces a coordinated handover
/// there before it pauses the master (see `coordinated`). Subscribed only for masters
/// with a proxy port, the only thing that acts on it.
pub const HANDOVER_CHANNEL: &str = "__rsentinel__:handover";

/// A record by position, valid only until the record lists change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inst {
    Master(usize),
    Replica(usize, usize),
    Sentinel(usize, usize),
}

impl Inst {
    pub fn master(self) -> usize {
        match self {
            Inst::Master(m) | Inst::Replica(m, _) | Inst::Sentinel(m, _) => m,
        }
    }
}

/// A record by name: master name, plus replica name or sentinel run id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceKey {
    Master(String),
    Replica(String, String),
    Sentinel(String, String),
}

impl Sentinel {
    pub fn common(&self, i: Inst) -> &Common {
        match i {
            Inst::Master(m) => &self.masters[m].common,
            Inst::Replica(m, r) => &self.masters[m].replicas[r].common,
            Inst::Sentinel(m, s) => &self.masters[m].sentinels[s].common,
        }
    }

    pub(super) fn common_mut(&mut self, i: Inst) -> &mut Common {
        match i {
            Inst::Master(m) => &mut self.masters[m].common,
            Inst::Replica(m, r) => &mut self.masters[m].replicas[r].common,
            Inst::Sentinel(m, s) => &mut self.masters[m].sentinels[s].common,
        }
    }

    pub fn key_of(&self, i: Inst) -> InstanceKey {
        let m = self.masters[i.master()].common.name.clone();
        match i {
            Inst::Master(_) => InstanceKey::Master(m),
            Inst::Replica(..) => InstanceKey::Replica(m, self.common(i).name.clone()),
            Inst::Sentinel(..) => InstanceKey::Sentinel(m, self.common(i).name.clone()),
        }
    }

    pub fn resolve(&self, key: &InstanceKey) -> Option<Inst> {
        let find_m = |n: &str| self.master_index(n);
        Some(match key {
            InstanceKey::Master(m) => Inst::Master(find_m(m)?),
            InstanceKey::Replica(m, r) => {
                let mi = find_m(m)?;
                let ri = self.masters[mi]
                    .replicas
                    .iter()
                    .position(|x| x.common.name == *r)?;
                Inst::Replica(mi, ri)
            }
            InstanceKey::Sentinel(m, s) => {
                let mi = find_m(m)?;
                let si = self.masters[mi]
                    .sentinels
                    .iter()
                    .position(|x| x.common.name == *s)?;
                Inst::Sentinel(mi, si)
            }
        })
    }

    pub fn link_of(&self, i: Inst) -> &Link {
        &self.links[&self.common(i).link]
    }

    fn link_of_mut(&mut self, i: Inst) -> &mut Link {
        let id = self.common(i).link;
        self.links.get_mut(&id).expect("every record has a link")
    }

    /// Emit an event whose `%@` is instance `i`.
    pub(super) fn emit_inst(&mut self, level: LogLevel, channel: &str, i: Inst, rest: &str) {
        let m = self.masters[i.master()].common.name.clone();
        let n = self.common(i).name.clone();
        let subject = match i {
            Inst::Master(_) => Subject::Master(&m),
            Inst::Replica(..) => Subject::Replica(&m, &n),
            Inst::Sentinel(..) => Subject::Sentinel(&m, &n),
        };
        self.emit(level, channel, subject, rest);
    }

    /// Emit an event with a bare payload that still belongs to master `mi` (so a
    /// warning runs its notification script), like `+new-epoch` and `+switch-master`.
    pub(super) fn emit_for_master(
        &mut self,
        level: LogLevel,
        channel: &str,
        mi: usize,
        payload: String,
    ) {
        self.emit_bare(level, channel, mi, &payload);
    }

    /// `cmd` with its first word mapped through master `mi`'s rename table, as every
    /// command to a master, its replicas and its sentinels is.
    pub fn command(&self, mi: usize, name: &'static str, rest: &[&str]) -> Vec<Bytes> {
        let mut v = Vec::with_capacity(1 + rest.len());
        // The name is a literal: no copy unless the master renames the command.
        v.push(match self.masters[mi].renamed_as(name) {
            Some(renamed) => Bytes::copy_from_slice(renamed.as_bytes()),
            None => Bytes::from_static(name.as_bytes()),
        });
        v.extend(rest.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())));
        v
    }

    /// The monitoring half then (unless in TILT) the acting half for one record.
    pub(crate) fn handle_instance(&mut self, i: Inst) {
        self.reconnect(i);
        self.send_periodic(i);
        if !self.tilt_allows_acting() {
            return;
        }
        self.check_sdown(i);
        if let Inst::Master(mi) = i {
            self.check_odown(mi);
            // Same order as redis-sentinel: an attempt that starts now asks every peer
            // (with our vote request) before its first state-machine step.
            let started = self.start_failover_if_needed(mi);
            if started {
                self.ask_other_sentinels(mi, true);
            }
            self.failover_state_machine(mi);
            // Everyone was just asked; with the fast re-ask of an attempt waiting for
            // votes (see `ask`), a second round now would only duplicate it.
            if !(started && self.fast_failover()) {
                self.ask_other_sentinels(mi, false);
            }
        }
    }

    /// Re-open missing connections, at most once per ping period per link, and
    /// pipeline the handshake right behind the connect.
    pub(super) fn reconnect(&mut self, i: Inst) {
        let now = self.now;
        let ping_period = self.timing.ping_period;
        let is_sentinel = matches!(i, Inst::Sentinel(..));
        let link = self.link_of(i);
        if !link.disconnected() || self.common(i).port == 0 {
            return;
        }
        if now.saturating_sub(link.last_reconn_time) < ping_period {
            return;
        }
        let (id, host, port) = (link.id, link.host.clone(), link.port);
        let need_cc = !link.cc;
        let need_pc = !is_sentinel && !link.pc;
        let mi = i.master();
        self.link_of_mut(i).last_reconn_time = now;
        if need_cc {
            // §4.2 step 1: instances may come back with another IP.
            self.request_resolve(&host);
        }
        if self.common(i).ip.is_empty() {
            self.unresolved_connect_fails(i, need_cc, need_pc);
            return;
        }
        if need_cc {
            let l = self.link_of_mut(i);
            l.cc = true;
            l.pending_commands = 0;
            l.cc_conn_time = now;
            self.link_local_ip.remove(&id);
            self.push(Action::Connect {
                link: id,
                conn: ConnKind::Cmd,
                host: host.clone(),
                port,
            });
            self.send_auth(i, ConnKind::Cmd);
            let name = format!("sentinel-{}-cmd", &self.myid[..8.min(self.myid.len())]);
            let args = self.command(mi, "CLIENT", &["SETNAME", &name]);
            self.send_cmd(i, Request::Ignored, args);
            self.send_ping(i);
            self.unpause_old_master(i);
        }
        if need_pc {
            let l = self.link_of_mut(i);
            l.pc = true;
            l.pc_conn_time = now;
            self.push(Action::Connect {
                link: id,
                conn: ConnKind::PubSub,
                host,
                port,
            });
            self.send_auth(i, ConnKind::PubSub);
            let name = format!("sentinel-{}-pubsub", &self.myid[..8.min(self.myid.len())]);
            let args = self.command(mi, "CLIENT", &["SETNAME", &name]);
            self.send_pubsub(i, Some(Request::Ignored), args);
            let args = self.command(mi, "SUBSCRIBE", &[HELLO_CHANNEL]);
            self.send_pubsub(i, None, args);
            if matches!(i, Inst::Master(_)) {
                self.follow_handover(mi, true);
            }
        }
    }

    /// (Un)subscribe master `mi`'s pub/sub connection, if there is one, to
    /// [`HANDOVER_CHANNEL`]: listened to while the master has a proxy port (the
    /// notices matter only to a proxy). With a request id, unlike the hello SUBSCRIBE:
    /// a refusal (an ACL without that channel) is then an ignored reply, not the end of
    /// the hello subscription.
    pub(crate) fn follow_handover(&mut self, mi: usize, listen: bool) {
        let i = Inst::Master(mi);
        if (listen && self.masters[mi].proxy_port == 0) || !self.link_of(i).pc {
            return;
        }
        let cmd = if listen { "SUBSCRIBE" } else { "UNSUBSCRIBE" };
        let args = self.command(mi, cmd, &[HANDOVER_CHANNEL]);
        self.send_pubsub(i, Some(Request::Ignored), args);
    }

    /// A record whose name never resolved has no address: redis-sentinel's connect to
    /// the empty IP fails on the spot, which closes the connection (resetting the
    /// pending count) and logs the resolver's error at debug level.
    fn unresolved_connect_fails(&mut self, i: Inst, cc: bool, pc: bool) {
        const ERR: &str = "#Name or service not known";
        if cc {
            self.link_of_mut(i).pending_commands = 0;
            self.emit_inst(LogLevel::Debug, "-cmd-link-reconnection", i, ERR);
        }
        if pc {
            self.emit_inst(LogLevel::Debug, "-pubsub-link-reconnection", i, ERR);
        }
    }

    /// `AUTH` for a fresh connection: the master's auth-user/auth-pass for masters and
    /// replicas; sentinel-user/sentinel-pass (else requirepass) for peer sentinels.
    fn send_auth(&mut self, i: Inst, conn: ConnKind) {
        let mi = i.master();
        let (user, pass) = match i {
            Inst::Sentinel(..) => match &self.sentinel_pass {
                Some(p) => (self.sentinel_user.clone(), Some(p.clone())),
                None => (None, self.identity.requirepass.clone()),
            },
            _ => (
                self.masters[mi].auth_user.clone(),
                self.masters[mi].auth_pass.clone(),
            ),
        };
        let Some(pass) = pass else { return };
        let args = match &user {
            Some(u) => self.command(mi, "AUTH", &[u, &pass]),
            None => self.command(mi, "AUTH", &[&pass]),
        };
        match conn {
            ConnKind::Cmd => {
                self.send_cmd(i, Request::Ignored, args);
            }
            ConnKind::PubSub => self.send_pubsub(i, Some(Request::Ignored), args),
        }
    }

    /// INFO, PING and hello, each on its own period, unless the link is down or has
    /// too many unanswered requests.
    fn send_periodic(&mut self, i: Inst) {
        let now = self.now;
        let link = self.link_of(i);
        if link.disconnected() || link.pending_commands >= 100 * link.refcount {
            return;
        }
        let (last_pong, last_ping) = (link.last_pong_time, link.last_ping_time);
        let c = self.common(i);
        let fast_info = match i {
            Inst::Replica(mi, ri) => {
                let mf = self.masters[mi].common.flags;
                mf & (flags::O_DOWN | flags::FAILOVER_IN_PROGRESS) != 0
                    || self.masters[mi].replicas[ri].master_link_down_time != 0
            }
            _ => false,
        };
        let awaited = self.fast_failover() && self.awaited_by_failover(i);
        let info_period = if awaited {
            self.timing.failover_info_period
        } else if fast_info {
            1000
        } else {
            self.timing.info_period
        };
        let ping_period = c.down_after_ms.min(self.timing.ping_period);
        let info_due = c.info_refresh == 0 || now.saturating_sub(c.info_refresh) > info_period;
        // A replica our failover waits on is polled on every tick: its last INFO reply
        // came a round trip after the previous tick, so `>` a period would skip one.
        let info_due =
            info_due || (awaited && now.saturating_sub(c.info_refresh) >= info_period / 2);
        let pub_due = now.saturating_sub(c.last_pub_time) > self.timing.publish_period;
        // One INFO and one hello in flight at a time. redis-sentinel sends another on every
        // tick until the reply is in, which costs nothing while replies take a millisecond;
        // but when a burst delays them (1,000 masters' INFO replies arriving together) each
        // tick would add one more INFO and one more hello per master, and their replies
        // the next, longer burst. Bounded by down-after: a link silent that long is closed
        // and its requests forgotten anyway. The upstream rules (simulation) keep
        // redis-sentinel's schedule exactly.
        let guard = self.fast_failover();
        let in_flight =
            |sent: u64| guard && sent != 0 && now.saturating_sub(sent) < c.down_after_ms.max(1);
        let (info_due, pub_due) = (
            info_due && !in_flight(c.info_sent),
            pub_due && !in_flight(c.hello_sent),
        );
        let info = !matches!(i, Inst::Sentinel(..)) && info_due;
        if info {
            let args = self.command(i.master(), "INFO", &[]);
            self.send_cmd(i, Request::Info, args);
        }
        let hello = pub_due && !self.hello_would_stall(i);
        // A PING that would be due within half a period goes out with the hello or the
        // INFO: they leave in one write and come back in one read. Pings are never later
        // than redis-sentinel's, at most half a period earlier, and idle CPU at many
        // masters is mostly the kernel's cost per message (issue #14: a third fewer
        // `sendto` at 300 masters).
        let ping_due = now.saturating_sub(last_pong) > ping_period;
        let carrier = hello || info;
        let ping_soon = guard && carrier && now.saturating_sub(last_pong) > ping_period / 2;
        if (ping_due || ping_soon) && now.saturating_sub(last_ping) > ping_period / 2 {
            self.send_ping(i);
        }
        if hello {
            self.send_hello(i);
        }
    }

    /// Is `i` an instance whose INFO our own failover is waiting for: the promoted
    /// replica in `wait_promotion` (or, with the old master, in `coordinated_handover`), or one sent (or following) the reconfiguration in
    /// `reconf_slaves`? Those are polled every `failover_info_period` instead of every
    /// second (issue #9).
    fn awaited_by_failover(&self, i: Inst) -> bool {
        let m = &self.masters[i.master()];
        if m.common.flags & flags::FAILOVER_IN_PROGRESS == 0 {
            return false;
        }
        let in_handover = m.failover_state == FailoverState::CoordinatedHandover;
        let ri = match i {
            // The old master during a coordinated handover (issue #10).
            Inst::Master(_) => return in_handover,
            Inst::Replica(_, ri) => ri,
            Inst::Sentinel(..) => return false,
        };
        let f = m.replicas[ri].common.flags;
        match m.failover_state {
            FailoverState::WaitPromotion | FailoverState::CoordinatedHandover => {
                f & flags::PROMOTED != 0
            }
            FailoverState::ReconfSlaves => f & (flags::RECONF_SENT | flags::RECONF_INPROG) != 0,
            _ => false,
        }
    }

    /// PING; the SDOWN clock (`act_ping_time`) starts at the oldest unanswered one.
    pub(super) fn send_ping(&mut self, i: Inst) -> bool {
        let args = self.command(i.master(), "PING", &[]);
        if !self.send_cmd(i, Request::Ping, args) {
            return false;
        }
        let now = self.now;
        let l = self.link_of_mut(i);
        l.last_ping_time = now;
        if l.act_ping_time == 0 {
            l.act_ping_time = now;
        }
        true
    }

    /// A PING reply: any reply counts as "alive" for link health; only PONG, LOADING
    /// and MASTERDOWN count as "available". A BUSY instance that is already SDOWN gets
    /// one SCRIPT KILL.
    pub(crate) fn on_ping_reply(&mut self, i: Inst, reply: &crate::resp::Reply) {
        use crate::resp::Reply;
        let now = self.now;
        if let Reply::Status(t) | Reply::Error(t) = reply {
            if t.starts_with("PONG") || t.starts_with("LOADING") || t.starts_with("MASTERDOWN") {
                let l = self.link_of_mut(i);
                l.last_avail_time = now;
                l.act_ping_time = 0;
                if t.starts_with("PONG") {
                    self.common_mut(i).flags &= !flags::MASTER_REBOOT;
                }
            } else {
                let f = self.common(i).flags;
                if t.starts_with("BUSY")
                    && f & flags::S_DOWN != 0
                    && f & flags::SCRIPT_KILL_SENT == 0
                {
                    let args = self.command(i.master(), "SCRIPT", &["KILL"]);
                    self.send_cmd(i, Request::Ignored, args);
                    self.common_mut(i).flags |= flags::SCRIPT_KILL_SENT;
                }
            }
        }
        self.link_of_mut(i).last_pong_time = now;
    }

    /// The first record using link `id` (masters and replicas own theirs alone).
    pub fn any_inst_on_link(&self, id: LinkId) -> Option<Inst> {
        for (mi, m) in self.masters.iter().enumerate() {
            if m.common.link == id {
                return Some(Inst::Master(mi));
            }
            if let Some(ri) = m.replicas.iter().position(|r| r.common.link == id) {
                return Some(Inst::Replica(mi, ri));
            }
            if let Some(si) = m.sentinels.iter().position(|s| s.common.link == id) {
                return Some(Inst::Sentinel(mi, si));
            }
        }
        None
    }
}
