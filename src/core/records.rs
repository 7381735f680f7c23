//! Creating and releasing instance records and their links: masters from the config,
//! replicas from INFO, peer sentinels from hellos (sharing one link per run id, as
//! redis-sentinel does).

use super::instance::*;
use super::{Action, Sentinel};
use crate::config::MasterConfig;

impl Sentinel {
    /// Create a master record (and its known replicas and sentinels) from config.
    pub(super) fn add_master_from_config(&mut self, m: &MasterConfig) {
        let link = self.new_link(&m.host, m.port, false);
        let mut common =
            self.new_common(&m.name, &m.host, m.port, link, flags::MASTER, Role::Master);
        common.down_after_ms = m.down_after_ms;
        let mut master = Master {
            common,
            quorum: m.quorum,
            failover_timeout_ms: m.failover_timeout_ms,
            parallel_syncs: m.parallel_syncs,
            notification_script: m.notification_script.clone(),
            client_reconfig_script: m.client_reconfig_script.clone(),
            auth_pass: m.auth_pass.clone(),
            auth_user: m.auth_user.clone(),
            master_reboot_down_after_period_ms: m.master_reboot_down_after_period_ms,
            master_reboot_since: 0,
            rename_commands: m.rename_commands.clone(),
            proxy_port: m.proxy_port,
            proxy_replicas_port: m.proxy_replicas_port,
            config_epoch: m.config_epoch,
            leader: None,
            leader_epoch: m.leader_epoch,
            leader_vote_time: 0,
            failover_state: FailoverState::None,
            failover_epoch: 0,
            failover_start_time: 0,
            failover_state_change_time: 0,
            failover_delay_logged: 0,
            promoted: None,
            coordinated_failover: m.coordinated_failover,
            handover: None,
            unpause_after_switch: None,
            handed_over_from: None,
            peer_handover: None,
            handover_notice: None,
            replicas: Vec::new(),
            sentinels: Vec::new(),
        };
        for (h, p) in &m.known_replicas {
            let r = self.new_replica(h, *p, m.down_after_ms);
            master.replicas.push(r);
        }
        for (h, p, runid) in &m.known_sentinels {
            let s = self.new_sentinel_peer(h, *p, runid, m.down_after_ms);
            master.sentinels.push(s);
        }
        if m.config_epoch > self.current_epoch {
            self.current_epoch = m.config_epoch;
        }
        // Appended: the other masters keep their positions, so the name index takes one
        // entry (rebuilding it per master made loading 10,000 masters quadratic).
        self.master_names
            .insert(master.common.name.clone(), self.masters.len());
        self.masters.push(master);
    }

    /// A replica record, named `<announced addr>:<port>` once and for all (the IP form
    /// without announce-hostnames, as redis-sentinel keys its replicas).
    pub(super) fn new_replica(&mut self, host: &str, port: u16, down_after_ms: u64) -> Replica {
        let ip = self.initial_ip(host);
        let name = self.replica_name(host, &ip, port);
        let link = self.new_link(host, port, false);
        let mut common = self.new_common(&name, host, port, link, flags::SLAVE, Role::Slave);
        common.ip = ip;
        common.down_after_ms = down_after_ms;
        Replica {
            common,
            master_link_down_time: 0,
            master_link_status_up: false,
            slave_master_host: None,
            slave_master_port: 0,
            priority: 100,
            repl_offset: 0,
            announced: true,
            reconf_sent_time: 0,
        }
    }

    /// A peer-sentinel record. Shares an existing link to the same run id if any master
    /// already has one (redis-sentinel's link sharing).
    pub(super) fn new_sentinel_peer(
        &mut self,
        host: &str,
        port: u16,
        runid: &str,
        down_after_ms: u64,
    ) -> SentinelPeer {
        let shared = self
            .masters
            .iter()
            .flat_map(|m| m.sentinels.iter())
            .find(|s| s.common.runid == runid && s.common.host == host && s.common.port == port)
            .map(|s| s.common.link);
        let link = match shared {
            Some(l) => {
                if let Some(link) = self.links.get_mut(&l) {
                    link.refcount += 1;
                }
                l
            }
            None => self.new_link(host, port, true),
        };
        let mut common = self.new_common(runid, host, port, link, flags::SENTINEL, Role::Master);
        common.runid = runid.to_string();
        common.down_after_ms = down_after_ms;
        // Both clocks start at creation, as in redis-sentinel: a freshly loaded peer shows
        // `last-hello-message` as the time since load, and is not asked before ASK-PERIOD.
        SentinelPeer {
            common,
            last_hello_time: self.now,
            last_master_down_reply_time: self.now,
            leader: None,
            leader_epoch: 0,
        }
    }

    fn new_common(
        &mut self,
        name: &str,
        host: &str,
        port: u16,
        link: LinkId,
        flags: u32,
        role: Role,
    ) -> Common {
        let ip = self.initial_ip(host);
        Common {
            flags,
            name: name.to_string(),
            host: host.to_string(),
            ip,
            port,
            runid: String::new(),
            link,
            down_after_ms: self.timing.default_down_after,
            last_pub_time: self.now,
            info_sent: 0,
            hello_sent: 0,
            s_down_since: 0,
            o_down_since: 0,
            info_refresh: 0,
            info: None,
            role_reported: role,
            role_reported_time: self.now,
            slave_conf_change_time: self.now,
        }
    }

    pub(super) fn new_link(&mut self, host: &str, port: u16, to_sentinel: bool) -> LinkId {
        let id = LinkId(self.next_link);
        self.next_link += 1;
        self.links
            .insert(id, Link::new(id, host, port, to_sentinel, self.now));
        id
    }

    /// Drop one reference to a link; closes and forgets it when unused.
    pub(super) fn release_link(&mut self, id: LinkId) {
        let gone = match self.links.get_mut(&id) {
            Some(l) => {
                l.refcount = l.refcount.saturating_sub(1);
                l.refcount == 0
            }
            None => false,
        };
        if gone {
            let l = self.links.remove(&id).expect("link present");
            if l.cc {
                self.push(Action::Close {
                    link: id,
                    conn: ConnKind::Cmd,
                });
            }
            if l.pc {
                self.push(Action::Close {
                    link: id,
                    conn: ConnKind::PubSub,
                });
            }
        }
    }
}
