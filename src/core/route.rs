//! The routing view of a master for rsentinel's built-in proxy (issue #11).
//!
//! The proxy is a shell concern (sockets), but *where* a proxied byte may go is a
//! Sentinel decision, so it is derived here from the core's own state and nothing else:
//! the shell reads it after every batch of core inputs and hands it to the proxy tasks.
//! No event strings are parsed; the view changes exactly when the state does.

use super::Sentinel;
use super::instance::{FailoverState, Master, Role, flags};

/// Where the proxy of one master may send new connections, and whether it must hold
/// traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteView {
    pub name: String,
    /// The proxy's listening port (0 = no write port).
    pub port: u16,
    /// The read port balancing over healthy replicas (0 = none).
    pub replicas_port: u16,
    /// The address this sentinel holds for the master: the master of the highest
    /// configuration epoch it knows (the promoted replica once our own failover has
    /// seen it accept the role, see [`Sentinel::current_master_addr`]).
    pub master: (String, u16),
    /// The configuration epoch the address belongs to.
    pub config_epoch: u64,
    /// The master is objectively down or being failed over and no new master is known
    /// yet: nothing may be forwarded to `master` (fencing), new connections wait.
    pub fenced: bool,
    /// Replicas that are up (not SDOWN, links connected), report the replica role and
    /// `master-link-status:ok`, in the core's stable order.
    pub replicas: Vec<(String, u16)>,
    /// The old master of our own coordinated failover, once the new one is confirmed:
    /// it handed every acknowledged write over and demoted itself, so connections
    /// open to it may be moved to `master` (a pause for their clients) instead of
    /// being closed. `None` after any other kind of switch.
    pub handover_from: Option<(String, u16)>,
    /// The master's `auth-user` / `auth-pass`: the proxy authenticates a moved
    /// connection as the same user only when it is the one these name.
    pub auth_user: Option<String>,
    pub auth_pass: Option<String>,
}

impl Sentinel {
    /// The routing views of every master with a proxy port (write or read), in the
    /// core's master order.
    pub fn proxy_routes(&self) -> Vec<RouteView> {
        (0..self.masters.len())
            .filter(|&m| {
                let master = &self.masters[m];
                master.proxy_port != 0 || master.proxy_replicas_port != 0
            })
            .map(|m| self.route_view(m))
            .collect()
    }

    /// The routing view of master `m`.
    pub fn route_view(&self, m: usize) -> RouteView {
        let master = &self.masters[m];
        let switching = promotion_confirmed(master);
        let peer_handover = master.peer_handover.is_some_and(|h| self.now < h.until);
        let down = master.common.flags & (flags::O_DOWN | flags::FAILOVER_IN_PROGRESS) != 0
            || peer_handover;
        let (host, port) = self.current_master_addr(m);
        let promoted = master.promoted.as_deref().filter(|_| switching);
        let replicas = master
            .replicas
            .iter()
            .filter(|r| Some(r.common.name.as_str()) != promoted)
            .filter(|r| {
                r.common.flags & (flags::S_DOWN | flags::O_DOWN) == 0
                    && r.common.role_reported == Role::Slave
                    && r.master_link_status_up
                    && self
                        .links
                        .get(&r.common.link)
                        .is_some_and(|l| !l.disconnected())
            })
            .map(|r| (self.announced_addr(&r.common).to_string(), r.common.port))
            .filter(|(h, _)| !h.is_empty())
            .collect();
        RouteView {
            name: master.common.name.clone(),
            port: master.proxy_port,
            replicas_port: master.proxy_replicas_port,
            master: (host, port),
            // Set to the failover epoch at the promotion, so it goes with the address.
            config_epoch: master.config_epoch,
            fenced: down && !switching,
            replicas,
            handover_from: match &master.handover {
                Some(_) if switching => Some((
                    self.announced_addr(&master.common).to_string(),
                    master.common.port,
                )),
                _ => master.handed_over_from.clone(),
            },
            auth_user: master.auth_user.clone(),
            auth_pass: master.auth_pass.clone(),
        }
    }
}

/// Our own failover has seen the promoted replica report the master role (states
/// `reconf_slaves` and `update_config`): it is the master of the new epoch, the same
/// moment [`Sentinel::current_master_addr`] starts giving its address.
fn promotion_confirmed(master: &Master) -> bool {
    master.common.flags & flags::FAILOVER_IN_PROGRESS != 0
        && matches!(
            master.failover_state,
            FailoverState::ReconfSlaves | FailoverState::UpdateConfig
        )
        && master.promoted.is_some()
}
