//! Hostname resolution without blocking: the core asks, the shell answers later.
//!
//! redis-sentinel resolves synchronously (`anetResolve`) whenever it creates an address,
//! compares a reported host with a record, or reconnects with `resolve-hostnames yes`.
//! The pure core cannot, so it keeps the latest answer per name in [`Dns`], emits
//! [`Action::Resolve`] for names it has no answer for (and on every reconnect, §4.2 step
//! 1), and handles [`Event::Resolved`](super::Event::Resolved) by updating every record
//! with that name. Work that needs an answer to be exact (creating a replica from an
//! INFO `slaveN:` line, a hello announcing a name) waits for it and is replayed then.
//!
//! A record whose name has no answer yet shows the name as its `ip` (the shell answers
//! within a millisecond for `/etc/hosts` names); a name that failed to resolve at
//! creation leaves the `ip` empty, exactly like the real one.

use super::instance::*;
use super::{Action, Sentinel};
use crate::config::LogLevel;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Work waiting for a name to be resolved.
#[derive(Debug, Clone)]
enum Waiting {
    /// A `slaveN:` line of master `master`'s INFO.
    Replica {
        master: String,
        host: String,
        port: u16,
    },
    /// A hello announcing a sentinel by name.
    Hello(Vec<u8>),
}

/// What the core knows about names.
#[derive(Debug, Clone, Default)]
pub struct Dns {
    /// Latest successful answer per lowercased name.
    resolved: BTreeMap<String, String>,
    /// Names whose latest resolution failed.
    failed: BTreeSet<String>,
    /// Names with a resolution in flight.
    in_flight: BTreeSet<String>,
    waiting: Vec<(String, Waiting)>,
}

impl Dns {
    /// Record an answer obtained before the core existed (config load).
    pub(super) fn seed(&mut self, host: &str, ip: Option<String>) {
        let key = host.to_ascii_lowercase();
        match ip {
            Some(ip) => {
                self.resolved.insert(key, ip);
            }
            None => {
                self.failed.insert(key);
            }
        }
    }
}

/// What a host string resolves to, as far as the core knows right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// An IP (a literal, canonicalized, or a name's latest answer).
    Ip(String),
    /// A name whose latest resolution failed.
    Failed,
    /// A name not resolved yet (or names are not resolved: `resolve-hostnames no`).
    Unknown,
}

/// The textual form `inet_ntop` gives an IP literal (`::0001` -> `::1`).
pub fn ip_literal(host: &str) -> Option<String> {
    host.parse::<IpAddr>().ok().map(|ip| ip.to_string())
}

impl Sentinel {
    /// What `host` resolves to without asking anyone.
    pub fn lookup(&self, host: &str) -> Lookup {
        if let Some(ip) = ip_literal(host) {
            return Lookup::Ip(ip);
        }
        if !self.resolve_hostnames {
            return Lookup::Unknown;
        }
        let key = host.to_ascii_lowercase();
        match self.dns.resolved.get(&key) {
            Some(ip) => Lookup::Ip(ip.clone()),
            None if self.dns.failed.contains(&key) => Lookup::Failed,
            None => Lookup::Unknown,
        }
    }

    /// The `ip` a new record with address `host` starts with (see the module comment).
    /// Asks for a resolution when the name has no answer yet.
    pub(crate) fn initial_ip(&mut self, host: &str) -> String {
        match self.lookup(host) {
            Lookup::Ip(ip) => ip,
            Lookup::Failed => String::new(),
            Lookup::Unknown => {
                self.request_resolve(host);
                host.to_string()
            }
        }
    }

    /// `<announced addr>:<port>`, IPv6 bracketed: how replicas are named and looked up.
    pub fn replica_name(&self, host: &str, ip: &str, port: u16) -> String {
        let addr = if self.announce_hostnames { host } else { ip };
        if addr.contains(':') {
            format!("[{addr}]:{port}")
        } else {
            format!("{addr}:{port}")
        }
    }

    /// Ask the shell to resolve `host` (once at a time per name; IP literals and
    /// `resolve-hostnames no` need nothing).
    pub(super) fn request_resolve(&mut self, host: &str) {
        if !self.resolve_hostnames || ip_literal(host).is_some() || host.is_empty() {
            return;
        }
        if self.dns.in_flight.insert(host.to_ascii_lowercase()) {
            self.push(Action::Resolve {
                host: host.to_string(),
            });
        }
    }

    /// Does record `c` have the address `host` (§11.2)? A resolvable string compares by
    /// IP; one that cannot be resolved (yet) with the record's hostname when names are
    /// resolved, else with its IP.
    pub fn addr_matches_host(&self, c: &Common, host: &str) -> bool {
        match self.lookup(host) {
            Lookup::Ip(ip) => c.ip.eq_ignore_ascii_case(&ip),
            _ if self.resolve_hostnames => c.host.eq_ignore_ascii_case(host),
            _ => c.ip.eq_ignore_ascii_case(host),
        }
    }

    /// Make sure a name reported by an instance or a peer gets resolved, so the next
    /// comparison with it is by IP.
    pub(crate) fn want_resolved(&mut self, host: &str) {
        if self.lookup(host) == Lookup::Unknown {
            self.request_resolve(host);
        }
    }

    /// Park a `slaveN:` line until `host` is resolved.
    pub(crate) fn wait_replica(&mut self, mi: usize, host: &str, port: u16) {
        let master = self.masters[mi].common.name.clone();
        let w = Waiting::Replica {
            master,
            host: host.to_string(),
            port,
        };
        self.dns.waiting.push((host.to_ascii_lowercase(), w));
        self.request_resolve(host);
    }

    /// Park a hello until `host` (the announced sentinel address) is resolved.
    pub(crate) fn wait_hello(&mut self, host: &str, payload: &[u8]) {
        let w = Waiting::Hello(payload.to_vec());
        self.dns.waiting.push((host.to_ascii_lowercase(), w));
        self.request_resolve(host);
    }

    /// The shell's answer for `host`: remember it, update every record with that name
    /// (a failure keeps the previous IP, as a failed re-resolution does), then replay
    /// what was waiting for it.
    pub(crate) fn on_resolved(&mut self, host: &str, ip: Option<String>) {
        let key = host.to_ascii_lowercase();
        self.dns.in_flight.remove(&key);
        match &ip {
            Some(ip) => {
                self.dns.failed.remove(&key);
                self.dns.resolved.insert(key.clone(), ip.clone());
            }
            None => {
                self.dns.resolved.remove(&key);
                self.dns.failed.insert(key.clone());
                self.push(Action::Log {
                    level: LogLevel::Warning,
                    text: format!("Failed to resolve hostname '{host}'"),
                });
            }
        }
        self.apply_resolution(host, ip.as_deref());
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.dns.waiting)
            .into_iter()
            .partition(|(k, _)| *k == key);
        self.dns.waiting = later;
        for (_, w) in now {
            match w {
                Waiting::Replica { master, host, port } => {
                    if let Some(mi) = self.masters.iter().position(|m| m.common.name == master) {
                        self.discover_resolved_replica(mi, &host, port);
                    }
                }
                Waiting::Hello(payload) => self.process_hello_resolved(&payload),
            }
        }
    }

    /// Set the `ip` of every record named `host`. A failure only blanks records that
    /// never had an answer (they still show the name).
    fn apply_resolution(&mut self, host: &str, ip: Option<&str>) {
        let all = self.masters.iter_mut().flat_map(|m| {
            std::iter::once(&mut m.common)
                .chain(m.replicas.iter_mut().map(|r| &mut r.common))
                .chain(m.sentinels.iter_mut().map(|s| &mut s.common))
        });
        for c in all.filter(|c| c.host.eq_ignore_ascii_case(host)) {
            match ip {
                Some(ip) => c.ip = ip.to_string(),
                None if c.ip == c.host => c.ip.clear(),
                None => {}
            }
        }
    }
}
