//! The `sentinel ...` directives: queued during the file read, then applied in three
//! passes (global settings, `monitor`, everything else), each in file order, with the
//! exact validation and messages of redis-sentinel 7.0.15 (`sentinelHandleConfiguration`).

use std::net::{IpAddr, ToSocketAddrs};
use std::path::Path;

use super::errors::ConfigError;
use super::{MasterConfig, SentinelConfig};

/// One queued `sentinel` line (arguments after the word `sentinel`).
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    pub args: Vec<String>,
    pub line_no: usize,
    pub line: String,
}

/// Directives applied before any `monitor` line.
const PRE_MONITOR: &[&str] = &[
    "announce-ip",
    "announce-port",
    "deny-scripts-reconfig",
    "sentinel-user",
    "sentinel-pass",
    "current-epoch",
    "myid",
    "resolve-hostnames",
    "announce-hostnames",
    "metrics-port",
    "info-total-tilt",
];

fn pass_of(q: &Queued) -> usize {
    let name = q.args[0].to_ascii_lowercase();
    if PRE_MONITOR.contains(&name.as_str()) {
        0
    } else if name == "monitor" {
        1
    } else {
        2
    }
}

/// Per-master bookkeeping used only for duplicate detection (resolved addresses).
#[derive(Default)]
struct Seen {
    replicas: Vec<String>,
    sentinels: Vec<String>,
}

struct Applier<'a> {
    cfg: SentinelConfig,
    seen: Vec<Seen>,
    cwd: &'a Path,
    /// Set when a hostname fails to resolve (logged before the error block).
    log: Option<String>,
}

pub(crate) fn apply_queue(queue: &[Queued], cwd: &Path) -> Result<SentinelConfig, ConfigError> {
    let mut ap = Applier {
        cfg: SentinelConfig {
            deny_scripts_reconfig: true,
            ..SentinelConfig::default()
        },
        seen: Vec::new(),
        cwd,
        log: None,
    };
    for pass in 0..3 {
        for q in queue.iter().filter(|q| pass_of(q) == pass) {
            if let Err(msg) = ap.handle(&q.args) {
                return Err(ConfigError::BadLine {
                    line_no: q.line_no,
                    line: q.line.clone(),
                    message: msg.to_string(),
                    log_before: ap.log.take(),
                });
            }
        }
    }
    Ok(ap.cfg)
}

/// C `atoi` (via `strtol`, truncated to int): leading blanks, sign, digits, stops at
/// the first other character, 0 when nothing parses.
pub(crate) fn atoi(s: &str) -> i32 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for c in digits.bytes().take_while(|c| c.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add((c - b'0') as i64);
    }
    (if neg { v.saturating_neg() } else { v }) as i32
}

/// C `strtoull(s, NULL, 10)`: negative values wrap, overflow saturates.
pub(crate) fn strtoull(s: &str) -> u64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: u64 = 0;
    for c in digits.bytes().take_while(|c| c.is_ascii_digit()) {
        match v
            .checked_mul(10)
            .and_then(|x| x.checked_add((c - b'0') as u64))
        {
            Some(n) => v = n,
            None => return u64::MAX,
        }
    }
    if neg { v.wrapping_neg() } else { v }
}

fn yes_no(s: &str) -> Option<bool> {
    super::generic_value::parse_bool(s)
}

/// `access(path, X_OK)` relative to the directory the loader is in.
fn executable(cwd: &Path, p: &str) -> bool {
    let full = cwd.join(p);
    let Ok(c) = std::ffi::CString::new(full.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
}

impl Applier<'_> {
    fn master(&self, name: &str) -> Result<usize, &'static str> {
        self.cfg
            .masters
            .iter()
            .position(|m| m.name == name)
            .ok_or("No such master with specified name.")
    }

    /// `createSentinelAddr`: port range, then IP (or hostname when allowed) resolution.
    fn resolve(&mut self, host: &str, port: i32) -> Result<String, &'static str> {
        if !(0..=65535).contains(&port) {
            return Err("Invalid port number.");
        }
        let ip = if let Ok(ip) = host.parse::<IpAddr>() {
            Some(ip)
        } else if self.cfg.resolve_hostnames {
            (host, 0u16)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .map(|a| a.ip())
        } else {
            None
        };
        match ip {
            Some(ip) => Ok(ip.to_string()),
            None => {
                self.log = Some(format!("Failed to resolve hostname '{host}'"));
                Err("Can't resolve instance hostname.")
            }
        }
    }

    fn handle(&mut self, a: &[String]) -> Result<(), &'static str> {
        let n = a.len();
        let name = a[0].to_ascii_lowercase();
        match (name.as_str(), n) {
            ("monitor", 5) => {
                let quorum = atoi(&a[4]);
                if quorum <= 0 {
                    return Err("Quorum must be 1 or greater.");
                }
                let port = atoi(&a[3]);
                self.resolve(&a[2], port)?;
                if self.cfg.masters.iter().any(|m| m.name == a[1]) {
                    return Err("Duplicate master name.");
                }
                let m = MasterConfig::new(&a[1], &a[2], port as u16, quorum as u32);
                self.cfg.masters.push(m);
                self.seen.push(Seen::default());
            }
            ("down-after-milliseconds", 3) | ("failover-timeout", 3) => {
                let i = self.master(&a[1])?;
                let v = atoi(&a[2]);
                if v <= 0 {
                    return Err("negative or zero time parameter.");
                }
                let m = &mut self.cfg.masters[i];
                if name == "failover-timeout" {
                    m.failover_timeout_ms = v as u64;
                } else {
                    m.down_after_ms = v as u64;
                }
            }
            ("parallel-syncs", 3) => {
                let i = self.master(&a[1])?;
                self.cfg.masters[i].parallel_syncs = atoi(&a[2]) as i64;
            }
            ("notification-script", 3) | ("client-reconfig-script", 3) => {
                let i = self.master(&a[1])?;
                let notif = name == "notification-script";
                if !executable(self.cwd, &a[2]) {
                    return Err(if notif {
                        "Notification script seems non existing or non executable."
                    } else {
                        "Client reconfiguration script seems non existing or non executable."
                    });
                }
                let m = &mut self.cfg.masters[i];
                let slot = if notif {
                    &mut m.notification_script
                } else {
                    &mut m.client_reconfig_script
                };
                *slot = Some(a[2].clone());
            }
            ("auth-pass", 3) => {
                let i = self.master(&a[1])?;
                self.cfg.masters[i].auth_pass = Some(a[2].clone());
            }
            ("auth-user", 3) => {
                let i = self.master(&a[1])?;
                self.cfg.masters[i].auth_user = Some(a[2].clone());
            }
            ("current-epoch", 2) => {
                let e = strtoull(&a[1]);
                self.cfg.current_epoch = self.cfg.current_epoch.max(e);
            }
            ("myid", 2) => {
                if a[1].len() != 40 {
                    return Err("Malformed Sentinel id in myid option.");
                }
                self.cfg.myid = Some(a[1].clone());
            }
            ("config-epoch", 3) => {
                let i = self.master(&a[1])?;
                let e = strtoull(&a[2]);
                self.cfg.masters[i].config_epoch = e;
                self.cfg.current_epoch = self.cfg.current_epoch.max(e);
            }
            ("leader-epoch", 3) => {
                let i = self.master(&a[1])?;
                self.cfg.masters[i].leader_epoch = strtoull(&a[2]);
            }
            ("known-slave", 4) | ("known-replica", 4) => {
                let i = self.master(&a[1])?;
                let port = atoi(&a[3]);
                let ip = self.resolve(&a[2], port)?;
                let key = format!("{ip}:{port}");
                if self.seen[i].replicas.contains(&key) {
                    return Err("Duplicate hostname and port for replica.");
                }
                self.seen[i].replicas.push(key);
                let m = &mut self.cfg.masters[i];
                m.known_replicas.push((a[2].clone(), port as u16));
            }
            ("known-sentinel", 4) => {} // old form without run id: ignored
            ("known-sentinel", 5) => {
                let i = self.master(&a[1])?;
                let port = atoi(&a[3]);
                self.resolve(&a[2], port)?;
                if self.seen[i].sentinels.contains(&a[4]) {
                    return Err("Duplicate runid for sentinel.");
                }
                self.seen[i].sentinels.push(a[4].clone());
                let m = &mut self.cfg.masters[i];
                m.known_sentinels
                    .push((a[2].clone(), port as u16, a[4].clone()));
            }
            ("rename-command", 4) => {
                let i = self.master(&a[1])?;
                let m = &mut self.cfg.masters[i];
                if m.rename_commands
                    .iter()
                    .any(|(c, _)| c.eq_ignore_ascii_case(&a[2]))
                {
                    return Err("Same command renamed multiple times with rename-command.");
                }
                m.rename_commands.push((a[2].clone(), a[3].clone()));
            }
            ("announce-ip", 2) => {
                if !a[1].is_empty() {
                    self.cfg.announce_ip = Some(a[1].clone());
                }
            }
            ("announce-port", 2) => self.cfg.announce_port = atoi(&a[1]) as u16,
            // rsentinel extension (issue #12): 0 turns the HTTP endpoint off.
            ("metrics-port", 2) => {
                let port = a[1].parse::<u32>().ok().filter(|p| *p <= 65535);
                self.cfg.metrics_port = port.ok_or("Invalid metrics port number.")? as u16;
            }
            ("deny-scripts-reconfig", 2) => {
                self.cfg.deny_scripts_reconfig = yes_no(&a[1])
                    .ok_or("Please specify yes or no for the deny-scripts-reconfig options.")?;
            }
            ("sentinel-user", 2) => {
                if !a[1].is_empty() {
                    self.cfg.sentinel_user = Some(a[1].clone());
                }
            }
            ("sentinel-pass", 2) => {
                if !a[1].is_empty() {
                    self.cfg.sentinel_pass = Some(a[1].clone());
                }
            }
            ("resolve-hostnames", 2) => {
                self.cfg.resolve_hostnames = yes_no(&a[1])
                    .ok_or("Please specify yes or no for the resolve-hostnames option.")?;
            }
            ("info-total-tilt", 2) => {
                self.cfg.info_total_tilt = yes_no(&a[1])
                    .ok_or("Please specify yes or no for the info-total-tilt option.")?;
            }
            ("announce-hostnames", 2) => {
                self.cfg.announce_hostnames = yes_no(&a[1])
                    .ok_or("Please specify yes or no for the announce-hostnames option.")?;
            }
            // rsentinel's own (issue #11); redis-sentinel refuses these lines.
            ("proxy", 3) | ("proxy-replicas", 3) => {
                let i = self.master(&a[1])?;
                let port = atoi(&a[2]);
                if !(0..=65535).contains(&port) {
                    return Err("Invalid port number.");
                }
                let m = &mut self.cfg.masters[i];
                if name == "proxy" {
                    m.proxy_port = port as u16;
                } else {
                    m.proxy_replicas_port = port as u16;
                }
            }
            // Valkey 8's spelling of the same setting.
            ("master-reboot-down-after-period", 3) | ("primary-reboot-down-after-period", 3) => {
                let i = self.master(&a[1])?;
                let v = atoi(&a[2]);
                if v < 0 {
                    return Err("negative time parameter.");
                }
                self.cfg.masters[i].master_reboot_down_after_period_ms = v as u64;
            }
            ("coordinated-failover", 3) => {
                let i = self.master(&a[1])?;
                self.cfg.masters[i].coordinated_failover = yes_no(&a[2])
                    .ok_or("Please specify yes or no for the coordinated-failover option.")?;
            }
            _ => return Err("Unrecognized sentinel configuration statement."),
        }
        Ok(())
    }
}
