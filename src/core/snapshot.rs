//! The persisted state: what the core hands the config rewrite.

use super::Sentinel;
use crate::config::{MasterConfig, SentinelConfig};

impl Sentinel {
    /// The persisted state, in the shape the config rewrite wants.
    pub fn config_snapshot(&self) -> SentinelConfig {
        SentinelConfig {
            myid: Some(self.myid.clone()),
            current_epoch: self.current_epoch,
            announce_ip: self.announce_ip.clone(),
            announce_port: self.announce_port,
            deny_scripts_reconfig: self.deny_scripts_reconfig,
            resolve_hostnames: self.resolve_hostnames,
            announce_hostnames: self.announce_hostnames,
            sentinel_user: self.sentinel_user.clone(),
            sentinel_pass: self.sentinel_pass.clone(),
            // Owned by the shell (the HTTP server), filled in before a rewrite.
            metrics_port: 0,
            info_total_tilt: self.info_total_tilt,
            masters: (0..self.masters.len())
                .map(|mi| self.master_snapshot(mi))
                .collect(),
        }
    }

    /// Master `mi` as persisted. The `monitor` line carries the *current* master address
    /// (the promoted replica's once the failover reached `reconf_slaves`), and a replica
    /// at that address is written with the old master's address instead, as
    /// redis-sentinel does: a leader that crashes right after the promotion then restarts
    /// on the new master instead of holding the new config epoch with the old address.
    fn master_snapshot(&self, mi: usize) -> MasterConfig {
        let m = &self.masters[mi];
        let (host, port) = self.current_master_addr(mi);
        let own = (self.announced_addr(&m.common).to_string(), m.common.port);
        MasterConfig {
            name: m.common.name.clone(),
            host: host.clone(),
            port,
            quorum: m.quorum,
            down_after_ms: m.common.down_after_ms,
            failover_timeout_ms: m.failover_timeout_ms,
            parallel_syncs: m.parallel_syncs,
            notification_script: m.notification_script.clone(),
            client_reconfig_script: m.client_reconfig_script.clone(),
            auth_pass: m.auth_pass.clone(),
            auth_user: m.auth_user.clone(),
            master_reboot_down_after_period_ms: m.master_reboot_down_after_period_ms,
            config_epoch: m.config_epoch,
            leader_epoch: m.leader_epoch,
            // A replica whose name never resolved has an empty address (as in 7.0.15);
            // it is not persisted, since `known-replica` with an empty host would make
            // the file unloadable.
            known_replicas: m
                .replicas
                .iter()
                .filter(|r| !self.announced_addr(&r.common).is_empty())
                .map(|r| {
                    let addr = (self.announced_addr(&r.common).to_string(), r.common.port);
                    if addr.0 == host && addr.1 == port {
                        own.clone()
                    } else {
                        addr
                    }
                })
                .collect(),
            known_sentinels: m
                .sentinels
                .iter()
                .filter(|s| !s.common.runid.is_empty())
                .map(|s| (s.common.ip.clone(), s.common.port, s.common.runid.clone()))
                .collect(),
            rename_commands: m.rename_commands.clone(),
            proxy_port: m.proxy_port,
            proxy_replicas_port: m.proxy_replicas_port,
            coordinated_failover: m.coordinated_failover,
        }
    }
}
