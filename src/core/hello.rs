//! Hello messages: how sentinels find each other and spread the newest master address.
//!
//! Every PUBLISH-PERIOD each master, replica and peer sentinel gets
//! `PUBLISH __sentinel__:hello <ip>,<port>,<myid>,<epoch>,<master>,<addr>,<port>,<cfg-epoch>`.
//! Hellos read back (from the pub/sub subscription or a peer's PUBLISH) add peers, raise
//! the current epoch and, when they carry a newer config epoch with another address,
//! switch the master record (`+switch-master`).

use super::instance::*;
use super::monitor::Inst;
use super::{Action, Sentinel};
use crate::config::LogLevel;

impl Sentinel {
    /// The hello payload as sent on the link of `i`, or None when our own address is
    /// not known yet (no announce-ip and the command connection is not established).
    pub fn hello_payload(&self, i: Inst) -> Option<String> {
        let ip = match &self.announce_ip {
            Some(ip) => ip.clone(),
            None => self.link_local_ip.get(&self.common(i).link)?.clone(),
        };
        Some(format!("{ip}{}", self.hello_tail(i)))
    }

    /// Everything of the hello after our own IP: `,<port>,<myid>,<epoch>,<master>,...`.
    fn hello_tail(&self, i: Inst) -> String {
        let port = if self.announce_port != 0 {
            self.announce_port
        } else if self.identity.tls_replication && self.identity.tls_port != 0 {
            self.identity.tls_port
        } else {
            self.identity.port
        };
        let mi = i.master();
        let (maddr, mport) = self.current_master_addr(mi);
        let m = &self.masters[mi];
        format!(
            ",{port},{},{},{},{maddr},{mport},{}",
            self.myid, self.current_epoch, m.common.name, m.config_epoch
        )
    }

    /// PUBLISH our hello on the command connection of `i`. Right after a (re)connect
    /// the local address is not known yet: the hello is queued anyway, as redis-sentinel
    /// does in the timer run that connected, and completed when the address arrives.
    pub(crate) fn send_hello(&mut self, i: Inst) -> bool {
        if self.link_of(i).disconnected() {
            return false;
        }
        match self.hello_payload(i) {
            Some(payload) => {
                let channel = super::monitor::HELLO_CHANNEL;
                let args = self.command(i.master(), "PUBLISH", &[channel, &payload]);
                self.send_cmd(i, Request::Publish, args)
            }
            None => {
                let publish = self.command(i.master(), "PUBLISH", &[]).remove(0);
                let tail = self.hello_tail(i);
                self.send_hello_pending_ip(i, publish, tail)
            }
        }
    }

    /// Process one hello payload (from the pub/sub subscription, or a peer's
    /// `PUBLISH __sentinel__:hello`). Our own hellos are recognised by our run id.
    pub(super) fn process_hello(&mut self, payload: &[u8]) {
        self.hello_inner(payload, true);
    }

    /// A hello that waited for its sentinel address to be resolved.
    pub(crate) fn process_hello_resolved(&mut self, payload: &[u8]) {
        self.hello_inner(payload, false);
    }

    /// A sentinel announcing itself by a name not resolved yet waits for the answer
    /// (when `may_wait`) so its record is created with the right IP.
    fn hello_inner(&mut self, payload: &[u8], may_wait: bool) {
        // Our own hellos come back on every pub/sub link. redis-sentinel drops a hello
        // that contains our id anywhere. An id without a comma can only sit inside one
        // field, and only fields at least as long are searched: ours carry it as the run
        // id, found with one comparison, and others cost a few length checks.
        let me = self.myid.as_bytes();
        let contains = |hay: &[u8]| hay.len() >= me.len() && hay.windows(me.len()).any(|w| w == me);
        let ours = if me.contains(&b',') {
            contains(payload)
        } else {
            payload.split(|&b| b == b',').any(contains)
        };
        if !me.is_empty() && ours {
            return;
        }
        let text = String::from_utf8_lossy(payload);
        let mut t = [""; 8];
        let mut n = 0;
        for f in text.split(',') {
            if n == t.len() {
                return;
            }
            t[n] = f;
            n += 1;
        }
        if n != t.len() {
            return;
        }
        let Some(mi) = self.master_index(t[4]) else {
            return;
        };
        let (ip, runid, maddr) = (t[0], t[2], t[5]);
        let port = atoi(t[1]) as u16;
        let mport = atoi(t[6]) as u16;
        let epoch = strtoull(t[3]);
        let cfg_epoch = strtoull(t[7]);

        let mut si = self.masters[mi]
            .sentinels
            .iter()
            .position(|s| s.common.runid == runid && same_addr(&s.common, ip, port));
        if si.is_none() {
            if may_wait && self.lookup(ip) == super::dns::Lookup::Unknown && self.resolve_hostnames
            {
                self.wait_hello(ip, payload);
                return;
            }
            si = self.add_sentinel_from_hello(mi, ip, port, runid);
        }
        self.want_resolved(maddr);
        if epoch > self.current_epoch {
            self.current_epoch = epoch;
            self.push(Action::PersistConfig);
            self.emit_for_master(LogLevel::Warning, "+new-epoch", mi, epoch.to_string());
        }
        let Some(si) = si else { return };
        if self.masters[mi].config_epoch < cfg_epoch {
            self.masters[mi].config_epoch = cfg_epoch;
            let m = &self.masters[mi];
            let superseded = !self.upstream_election
                && m.common.flags & flags::FAILOVER_IN_PROGRESS != 0
                && m.failover_epoch < cfg_epoch;
            let mc = &m.common;
            if mport != mc.port || !self.addr_matches_host(mc, maddr) {
                let (old_addr, old_port) = (self.announced_addr(mc).to_string(), mc.port);
                self.switch_from_hello(mi, si, (old_addr, old_port), maddr, mport);
            } else if superseded {
                self.failover_superseded(mi, si, maddr, mport);
            }
        }
        // The reset above keeps sentinels, so `si` still names this sentinel's entry.
        if let Some(s) = self.masters[mi].sentinels.get_mut(si) {
            s.last_hello_time = self.now;
        }
    }

    /// Adopt the master address of a hello with a newer config epoch: announce the
    /// switch from `old`, reset the master record (which also drops a failover of
    /// ours) and run the client-reconfig script as an observer.
    fn switch_from_hello(
        &mut self,
        mi: usize,
        si: usize,
        old: (String, u16),
        maddr: &str,
        mport: u16,
    ) {
        let (old_addr, old_port) = old;
        // A coordinated handover of ours is dropped with the reset: release the master.
        self.undo_handover_before_switch(mi);
        let name = self.masters[mi].common.name.clone();
        self.emit_inst(
            LogLevel::Warning,
            "+config-update-from",
            Inst::Sentinel(mi, si),
            "",
        );
        self.emit_for_master(
            LogLevel::Warning,
            "+switch-master",
            mi,
            format!("{name} {old_addr} {old_port} {maddr} {mport}"),
        );
        // A peer's coordinated handover ending in its own epoch: the old master handed
        // every write over, the proxy may move its connections (issue #11).
        let handed_over = self.masters[mi]
            .peer_handover
            .filter(|h| h.epoch == self.masters[mi].config_epoch)
            .map(|_| (old_addr.clone(), old_port));
        self.reset_master_and_change_address(mi, maddr, mport);
        self.masters[mi].handed_over_from = handed_over;
        if let Some(path) = self.masters[mi].client_reconfig_script.clone() {
            let (new_addr, new_port) = self.current_master_addr(mi);
            let args = [&name, "observer", "start", &old_addr]
                .iter()
                .map(|s| s.to_string())
                .chain([old_port.to_string(), new_addr, new_port.to_string()])
                .collect();
            self.run_script(&path, args);
        }
    }

    /// A hello names the master we had before our failover, under a config epoch newer
    /// than the failover's: a later leader decided, and our failover must not go on.
    ///
    /// Deliberate deviation: redis-sentinel only compares the hello's address with the
    /// pre-failover one, finds nothing to switch, keeps the newer epoch and lets its
    /// failover finish; it then switches to its own promoted replica *under the newer
    /// epoch*, which another sentinel holds with another address, and no hello can
    /// ever settle two addresses at one epoch (its promotion also moves the config
    /// epoch back to the failover's). Here the failover stops: before the promotion was
    /// seen it is aborted (`-failover-abort-superseded`); after it (the promoted replica
    /// is already announced as the master) we switch back to the hello's address.
    /// The replica we may have promoted is then turned back into a replica by the
    /// usual `+convert-to-slave`.
    fn failover_superseded(&mut self, mi: usize, si: usize, maddr: &str, mport: u16) {
        match self.masters[mi].failover_state {
            FailoverState::ReconfSlaves | FailoverState::UpdateConfig => {
                let old = self.current_master_addr(mi);
                self.switch_from_hello(mi, si, old, maddr, mport);
            }
            // Not elected yet: the attempt's epoch has been overtaken, so the next
            // state-machine step gives it up.
            FailoverState::None | FailoverState::WaitStart => {}
            FailoverState::SelectSlave
            | FailoverState::SendSlaveofNoone
            | FailoverState::WaitPromotion
            | FailoverState::SendFailoverTo
            | FailoverState::CoordinatedHandover => {
                self.undo_handover(mi);
                self.emit_inst(
                    LogLevel::Warning,
                    "+config-update-from",
                    Inst::Sentinel(mi, si),
                    "",
                );
                self.emit_inst(
                    LogLevel::Warning,
                    "-failover-abort-superseded",
                    Inst::Master(mi),
                    "",
                );
                self.abort_failover(mi);
                self.push(Action::PersistConfig);
            }
        }
    }

    /// A hello from a sentinel we do not know at this address: handle an address switch
    /// or a stale entry at the same address, then add it. Returns its position.
    fn add_sentinel_from_hello(
        &mut self,
        mi: usize,
        ip: &str,
        port: u16,
        runid: &str,
    ) -> Option<usize> {
        let removed = self.remove_sentinel_runid(mi, runid);
        if removed > 0 {
            let rest = format!("ip {ip} port {port} for {runid}");
            self.emit_inst(
                LogLevel::Notice,
                "+sentinel-address-switch",
                Inst::Master(mi),
                &rest,
            );
        } else if let Some(other) = self.masters[mi]
            .sentinels
            .iter()
            .position(|s| same_addr(&s.common, ip, port))
        {
            self.emit_inst(
                LogLevel::Notice,
                "+sentinel-invalid-addr",
                Inst::Sentinel(mi, other),
                "",
            );
            let obsolete = self.masters[mi].sentinels[other].common.runid.clone();
            for m in 0..self.masters.len() {
                self.remove_sentinel_runid(m, &obsolete);
            }
        }
        if port == 0 || ip.is_empty() || !self.usable_host(ip) {
            return None;
        }
        let down_after = self.masters[mi].common.down_after_ms;
        let peer = self.new_sentinel_peer(ip, port, runid, down_after);
        self.masters[mi].sentinels.push(peer);
        let si = self.masters[mi].sentinels.len() - 1;
        if removed == 0 {
            self.emit_inst(LogLevel::Notice, "+sentinel", Inst::Sentinel(mi, si), "");
        } else {
            self.update_sentinel_address_everywhere(mi, si);
        }
        self.push(Action::PersistConfig);
        Some(si)
    }

    /// Remove every sentinel entry of master `mi` with this run id; returns how many.
    fn remove_sentinel_runid(&mut self, mi: usize, runid: &str) -> usize {
        let (gone, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.masters[mi].sentinels)
            .into_iter()
            .partition(|s| !s.common.runid.is_empty() && s.common.runid == runid);
        self.masters[mi].sentinels = keep;
        for s in &gone {
            self.release_link(s.common.link);
        }
        gone.len()
    }

    /// After an address switch, copy the new address to the same run id under every
    /// other master and drop their connections so they reconnect there.
    fn update_sentinel_address_everywhere(&mut self, mi: usize, si: usize) {
        let src = self.masters[mi].sentinels[si].common.clone();
        let mut updated = 0;
        for m in 0..self.masters.len() {
            let Some(x) = self.masters[m]
                .sentinels
                .iter()
                .position(|s| s.common.runid == src.runid)
            else {
                continue;
            };
            let link = self.masters[m].sentinels[x].common.link;
            self.close_conn(link, ConnKind::Cmd);
            self.close_conn(link, ConnKind::PubSub);
            if m == mi && x == si {
                continue;
            }
            let c = &mut self.masters[m].sentinels[x].common;
            c.host = src.host.clone();
            c.ip = src.ip.clone();
            c.port = src.port;
            if let Some(l) = self.links.get_mut(&link) {
                l.host = src.host.clone();
                l.port = src.port;
            }
            updated += 1;
        }
        if updated > 0 {
            let rest = format!("{updated} additional matching instances");
            self.emit_inst(
                LogLevel::Notice,
                "+sentinel-address-update",
                Inst::Sentinel(mi, si),
                &rest,
            );
        }
    }

    /// Point master `mi` at a new address (§7.9): keep the sentinels, rebuild the
    /// replica list from the known replicas (minus the new address, plus the old master
    /// address), reset the record, announce each replica with `+slave`, flush.
    /// Used by observers on a newer hello and by the failover leader at its end.
    pub(super) fn reset_master_and_change_address(&mut self, mi: usize, host: &str, port: u16) {
        // Like `sentinelResetMasterAndChangeAddress` failing on an unusable address.
        if !self.usable_host(host) {
            return;
        }
        let m = &self.masters[mi];
        let mut addrs: Vec<(String, u16)> = m
            .replicas
            .iter()
            .filter(|r| !(r.common.port == port && self.addr_matches_host(&r.common, host)))
            .map(|r| (r.common.host.clone(), r.common.port))
            .collect();
        if !(m.common.port == port && self.addr_matches_host(&m.common, host)) {
            addrs.push((m.common.host.clone(), m.common.port));
        }
        self.reset_master(mi, true, false);
        let link = self.masters[mi].common.link;
        if let Some(l) = self.links.get_mut(&link) {
            l.host = host.to_string();
            l.port = port;
        }
        let fast = self.fast_failover();
        if fast {
            // Dial the new address at once (below): the reconnect throttle was spent
            // re-dialing the old (dead) master, and waiting it out let the new master
            // go SDOWN before its first PONG (issue #9's spurious second failover).
            if let Some(l) = self.links.get_mut(&link) {
                l.last_reconn_time = 0;
            }
            // Peers' "master down" answers were about the old master: a new
            // configuration must earn its own ODOWN.
            for s in &mut self.masters[mi].sentinels {
                s.common.flags &= !flags::MASTER_DOWN;
            }
        }
        let c = &mut self.masters[mi].common;
        c.host = host.to_string();
        c.port = port;
        let ip = self.initial_ip(host);
        let c = &mut self.masters[mi].common;
        c.ip = ip;
        c.s_down_since = 0;
        c.o_down_since = 0;
        let down_after = c.down_after_ms;
        for (h, p) in addrs {
            let r = self.new_replica(&h, p, down_after);
            self.masters[mi].replicas.push(r);
            let ri = self.masters[mi].replicas.len() - 1;
            self.emit_inst(LogLevel::Notice, "+slave", Inst::Replica(mi, ri), "");
        }
        // Tell the peers the new configuration on the next tick rather than up to
        // PUBLISH-PERIOD later, and connect to the new master now (issue #9).
        if fast {
            self.force_hello_update(mi);
            self.reconnect(Inst::Master(mi));
        }
        self.push(Action::PersistConfig);
    }

    /// Would redis-sentinel's `createSentinelAddr` accept `host` from a peer? An IP
    /// always; a name only with resolve-hostnames, and (the pure core cannot resolve)
    /// only if it could be a DNS name at all. Anything else is refused with Redis' log
    /// line, so a hostile hello can never put an unloadable address in the config.
    pub(super) fn usable_host(&mut self, host: &str) -> bool {
        let name_like = !host.is_empty()
            && host.len() <= 255
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._:%".contains(&b));
        let ok = host.parse::<std::net::IpAddr>().is_ok() || (self.resolve_hostnames && name_like);
        if !ok {
            self.push(Action::Log {
                level: LogLevel::Warning,
                text: format!("Failed to resolve hostname '{host}'"),
            });
        }
        ok
    }
}

/// Same address as redis-sentinel compares sentinel entries: port, and IP or hostname.
fn same_addr(c: &Common, host: &str, port: u16) -> bool {
    c.port == port && (c.ip.eq_ignore_ascii_case(host) || c.host.eq_ignore_ascii_case(host))
}

/// C `atoi`: leading digits (with sign), 0 when none.
pub fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add((d - b'0') as i64)
        });
    if neg { -n } else { n }
}

/// C `strtoull` for epochs: leading digits, 0 when none.
pub fn strtoull(s: &str) -> u64 {
    atoi(s).max(0) as u64
}
