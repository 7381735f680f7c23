//! Counters of rsentinel's built-in proxy (issue #11), per proxied master: the proxy
//! tasks add to them, `INFO proxy` reads them. Here rather than in the proxy module
//! because the commands (INFO) sit below the shell layer the proxy lives in.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One master's proxy counters. Connections and bytes cover the write and read ports.
#[derive(Debug, Default)]
pub struct MasterProxyStats {
    /// Client connections accepted.
    pub connections_received: AtomicU64,
    /// Client connections open now (waiting or forwarding).
    pub connections_active: AtomicU64,
    /// Client connections closed without reaching a server: the wait for the end of a
    /// failover ran out, or the server refused the dial.
    pub connections_refused: AtomicU64,
    /// Client connections waiting for a failover to end right now.
    pub connections_waiting: AtomicU64,
    /// Forwarded connections closed because their server stopped being a valid target
    /// (a switch, a replica gone unhealthy, the port turned off).
    pub connections_rerouted: AtomicU64,
    /// Open connections moved to the new master after our own coordinated failover
    /// (a pause for their clients, see `proxy::handover`).
    pub connections_moved: AtomicU64,
    /// Bytes forwarded client to server, and server to client.
    pub bytes_to_server: AtomicU64,
    pub bytes_to_client: AtomicU64,
    /// Master address changes the proxy followed.
    pub switches: AtomicU64,
}

/// A plain copy of one master's counters, for renderers that run without locks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyValues {
    pub connections_received: u64,
    pub connections_active: u64,
    pub connections_refused: u64,
    pub connections_waiting: u64,
    pub connections_rerouted: u64,
    pub connections_moved: u64,
    pub bytes_to_server: u64,
    pub bytes_to_client: u64,
    pub switches: u64,
}

impl MasterProxyStats {
    /// The counters now.
    pub fn values(&self) -> ProxyValues {
        let g = Self::get;
        ProxyValues {
            connections_received: g(&self.connections_received),
            connections_active: g(&self.connections_active),
            connections_refused: g(&self.connections_refused),
            connections_waiting: g(&self.connections_waiting),
            connections_rerouted: g(&self.connections_rerouted),
            connections_moved: g(&self.connections_moved),
            bytes_to_server: g(&self.bytes_to_server),
            bytes_to_client: g(&self.bytes_to_client),
            switches: g(&self.switches),
        }
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
    pub fn sub(counter: &AtomicU64, n: u64) {
        counter.fetch_sub(n, Ordering::Relaxed);
    }
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// The counters of every master that ever had a proxy, by name.
#[derive(Debug, Default)]
pub struct ProxyStats {
    masters: Mutex<Vec<(String, Arc<MasterProxyStats>)>>,
}

impl ProxyStats {
    /// The counters of master `name`, created on first use.
    pub fn master(&self, name: &str) -> Arc<MasterProxyStats> {
        let mut g = self.masters.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, s)) = g.iter().find(|(n, _)| n == name) {
            return s.clone();
        }
        let s = Arc::new(MasterProxyStats::default());
        g.push((name.to_string(), s.clone()));
        s
    }

    /// The counters of master `name`, if it ever had any.
    pub fn get(&self, name: &str) -> Option<Arc<MasterProxyStats>> {
        let g = self.masters.lock().unwrap_or_else(|e| e.into_inner());
        g.iter().find(|(n, _)| n == name).map(|(_, s)| s.clone())
    }

    /// Every master that ever had a proxy, with its counters now, in first-use order.
    pub fn all(&self) -> Vec<(String, ProxyValues)> {
        let g = self.masters.lock().unwrap_or_else(|e| e.into_inner());
        g.iter().map(|(n, s)| (n.clone(), s.values())).collect()
    }
}
