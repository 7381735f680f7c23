//! Instance descriptions: what SENTINEL MASTERS / MASTER / REPLICAS / SENTINELS print.
//!
//! One function per instance kind, each a list of `(field, value)` pairs in redis-sentinel's
//! exact field order (SENTINEL.md §3.2). Every value is a string because redis-sentinel
//! renders numbers as bulk strings too; the pairs become a [`Reply::Map`] so RESP3 clients
//! get a map and RESP2 clients the flat array. "ms since" fields are computed from
//! the `now` they are rendered at, with signed arithmetic, as the C code subtracts signed `mstime_t`s.

use super::Sentinel;
use super::instance::*;
use crate::resp::Reply;

type Pairs = Vec<(&'static str, String)>;

/// Milliseconds elapsed since `t` at `now`, signed like redis-sentinel's `mstime() - t`.
fn ms_since(now: u64, t: u64) -> String {
    (now as i64 - t as i64).to_string()
}

impl Sentinel {
    /// Fields 1-14 of §3.2, shared by all kinds (`failover-state` only for masters
    /// with a failover in progress).
    fn common_pairs(&self, now: u64, c: &Common, failover: Option<FailoverState>) -> Pairs {
        let link = self.links.get(&c.link);
        let disconnected = link.is_none_or(|l| l.disconnected());
        let mut fl = c.flags & !flags::DISCONNECTED;
        if disconnected {
            fl |= flags::DISCONNECTED;
        }
        let mut p: Pairs = vec![
            ("name", c.name.clone()),
            ("ip", self.announced_addr(c).to_string()),
            ("port", c.port.to_string()),
            ("runid", c.runid.clone()),
            ("flags", flags_string(fl)),
            (
                "link-pending-commands",
                link.map_or(0, |l| l.pending_commands).to_string(),
            ),
            ("link-refcount", link.map_or(0, |l| l.refcount).to_string()),
        ];
        if c.flags & flags::FAILOVER_IN_PROGRESS != 0 {
            let st = failover.unwrap_or_default();
            let name = if st == FailoverState::None {
                "unknown"
            } else {
                st.name()
            };
            p.push(("failover-state", name.to_string()));
        }
        let act = link.map_or(0, |l| l.act_ping_time);
        p.push((
            "last-ping-sent",
            if act != 0 {
                ms_since(now, act)
            } else {
                "0".into()
            },
        ));
        p.push((
            "last-ok-ping-reply",
            ms_since(now, link.map_or(now, |l| l.last_avail_time)),
        ));
        p.push((
            "last-ping-reply",
            ms_since(now, link.map_or(now, |l| l.last_pong_time)),
        ));
        if c.flags & flags::S_DOWN != 0 {
            p.push(("s-down-time", ms_since(now, c.s_down_since)));
        }
        if c.flags & flags::O_DOWN != 0 {
            p.push(("o-down-time", ms_since(now, c.o_down_since)));
        }
        p.push(("down-after-milliseconds", c.down_after_ms.to_string()));
        p
    }

    /// `info-refresh`, `role-reported`, `role-reported-time` (masters and replicas).
    fn role_pairs(&self, now: u64, c: &Common, p: &mut Pairs) {
        let refresh = if c.info_refresh != 0 {
            ms_since(now, c.info_refresh)
        } else {
            "0".into()
        };
        p.push(("info-refresh", refresh));
        p.push(("role-reported", c.role_reported.name().to_string()));
        p.push(("role-reported-time", ms_since(now, c.role_reported_time)));
    }

    /// The description of master `m` (index into `self.masters`).
    pub fn describe_master(&self, now: u64, m: usize) -> Reply {
        let master = &self.masters[m];
        let c = &master.common;
        let mut p = self.common_pairs(now, c, Some(master.failover_state));
        self.role_pairs(now, c, &mut p);
        p.push(("config-epoch", master.config_epoch.to_string()));
        p.push(("num-slaves", master.replicas.len().to_string()));
        p.push(("num-other-sentinels", master.sentinels.len().to_string()));
        p.push(("quorum", master.quorum.to_string()));
        p.push(("failover-timeout", master.failover_timeout_ms.to_string()));
        p.push(("parallel-syncs", master.parallel_syncs.to_string()));
        if let Some(s) = &master.notification_script {
            p.push(("notification-script", s.clone()));
        }
        if let Some(s) = &master.client_reconfig_script {
            p.push(("client-reconfig-script", s.clone()));
        }
        // rsentinel's proxy (issue #11), after every redis-sentinel field and only when
        // set, so replies without a proxy stay byte-identical.
        if master.proxy_port != 0 {
            p.push(("proxy", master.proxy_port.to_string()));
        }
        if master.proxy_replicas_port != 0 {
            p.push(("proxy-replicas", master.proxy_replicas_port.to_string()));
        }
        // Issue #10; only when on, so the reply is redis-sentinel's otherwise.
        if master.coordinated_failover {
            p.push(("coordinated-failover", "yes".into()));
        }
        describe(p)
    }

    /// The description of replica `r` of master `m`.
    pub fn describe_replica(&self, now: u64, m: usize, r: usize) -> Reply {
        let rep = &self.masters[m].replicas[r];
        let c = &rep.common;
        let mut p = self.common_pairs(now, c, None);
        self.role_pairs(now, c, &mut p);
        p.push((
            "master-link-down-time",
            rep.master_link_down_time.to_string(),
        ));
        let status = if rep.master_link_status_up {
            "ok"
        } else {
            "err"
        };
        p.push(("master-link-status", status.to_string()));
        p.push((
            "master-host",
            rep.slave_master_host.clone().unwrap_or_else(|| "?".into()),
        ));
        p.push(("master-port", rep.slave_master_port.to_string()));
        p.push(("slave-priority", rep.priority.to_string()));
        p.push(("slave-repl-offset", rep.repl_offset.to_string()));
        p.push(("replica-announced", u8::from(rep.announced).to_string()));
        describe(p)
    }

    /// The description of peer sentinel `s` of master `m`.
    pub fn describe_sentinel(&self, now: u64, m: usize, s: usize) -> Reply {
        let peer = &self.masters[m].sentinels[s];
        let mut p = self.common_pairs(now, &peer.common, None);
        p.push(("last-hello-message", ms_since(now, peer.last_hello_time)));
        p.push((
            "voted-leader",
            peer.leader.clone().unwrap_or_else(|| "?".into()),
        ));
        p.push(("voted-leader-epoch", peer.leader_epoch.to_string()));
        describe(p)
    }
}
