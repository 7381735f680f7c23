//! SENTINEL SET `<master> <option> <value> [<option> <value> ...]`.
//!
//! Options are applied one by one, each emitting `+set` as soon as it is applied. An
//! error stops processing without undoing earlier options (redis-sentinel's partial
//! application): the config is then still flushed, but the client sees only the error.

use super::{err, master_index, no_such_master};
use crate::commands::int_arg;
use crate::core::{MasterOption, Sentinel};
use crate::resp::Reply;

const SCRIPTS_DENIED: &str = "ERR Reconfiguration of scripts path is denied for security \
     reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel \
     configuration";

pub fn set(core: &mut Sentinel, now: u64, a: &[String]) -> Reply {
    let Some(m) = master_index(core, &a[0]) else {
        return no_such_master();
    };
    let mut changes = 0;
    let mut j = 1;
    let mut failure = None;
    while j < a.len() {
        match parse_one(core, m, &a[j..]) {
            Ok((used, option, shown)) => {
                changes += 1;
                core.set_master_option(now, m, option, &shown);
                j += used;
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if changes > 0 {
        core.flush_config(now);
    }
    failure.unwrap_or_else(Reply::ok)
}

/// Validate the option at `a[0]` with its value(s). Returns how many arguments it used,
/// the option and the `+set` payload after `%@` (the option as typed, then its values;
/// auth-pass redacted).
fn parse_one(
    core: &Sentinel,
    m: usize,
    a: &[String],
) -> Result<(usize, MasterOption, String), Reply> {
    let opt = &a[0];
    let more = a.len() - 1;
    let lower = opt.to_ascii_lowercase();
    let unknown = || {
        err(format!(
            "ERR Unknown option or number of arguments for SENTINEL SET '{opt}'"
        ))
    };
    let invalid = |v: &str| {
        err(format!(
            "ERR Invalid argument '{v}' for SENTINEL SET '{opt}'"
        ))
    };
    if lower == "rename-command" {
        if more < 2 {
            return Err(unknown());
        }
        let (cmd, new) = (&a[1], &a[2]);
        if cmd.is_empty() || new.is_empty() {
            return Err(invalid(if new.is_empty() { new } else { cmd }));
        }
        let option = MasterOption::RenameCommand(cmd.clone(), new.clone());
        return Ok((3, option, format!("{opt} {cmd} {new}")));
    }
    if more < 1 {
        return Err(unknown());
    }
    let val = &a[1];
    // Numeric options: positive, except (master|primary)-reboot-down-after-period (>= 0).
    let number = |min: i64| match int_arg(val.as_bytes()) {
        Some(v) if v >= min => Ok(v),
        _ => Err(invalid(val)),
    };
    let mut shown = format!("{opt} {val}");
    let option = match lower.as_str() {
        "down-after-milliseconds" => MasterOption::DownAfter(number(1)? as u64),
        "failover-timeout" => MasterOption::FailoverTimeout(number(1)? as u64),
        "parallel-syncs" => MasterOption::ParallelSyncs(number(1)?),
        "quorum" => MasterOption::Quorum(number(1)? as u32),
        // `primary-...`: Valkey 8's spelling of the same option.
        "master-reboot-down-after-period" | "primary-reboot-down-after-period" => {
            MasterOption::MasterRebootDownAfterPeriod(number(0)? as u64)
        }
        "notification-script" | "client-reconfig-script" => {
            if core.deny_scripts_reconfig() {
                return Err(Reply::err(SCRIPTS_DENIED));
            }
            let notification = lower == "notification-script";
            if !val.is_empty() && !core.is_executable(val) {
                return Err(Reply::err(if notification {
                    "ERR Notification script seems non existing or non executable"
                } else {
                    "ERR Client reconfiguration script seems non existing or non executable"
                }));
            }
            let path = (!val.is_empty()).then(|| val.clone());
            if notification {
                MasterOption::NotificationScript(path)
            } else {
                MasterOption::ClientReconfigScript(path)
            }
        }
        "auth-pass" | "auth-user" => {
            let v = (!val.is_empty()).then(|| val.clone());
            // The core drops the connections to the master and its replicas, which
            // reconnect with the new credentials.
            if lower == "auth-pass" {
                shown = format!("{opt} ******");
                MasterOption::AuthPass(v)
            } else {
                MasterOption::AuthUser(v)
            }
        }
        // rsentinel's proxy (issue #11): a TCP port, 0 turns it off.
        "proxy" | "proxy-replicas" => {
            let port = match int_arg(val.as_bytes()) {
                Some(v) if (0..=65535).contains(&v) => v as u16,
                _ => return Err(invalid(val)),
            };
            if let Some(e) = proxy_port_taken(core, m, lower == "proxy", port) {
                return Err(err(e));
            }
            if lower == "proxy" {
                MasterOption::Proxy(port)
            } else {
                MasterOption::ProxyReplicas(port)
            }
        }
        // Issue #10 (an rsentinel extension).
        "coordinated-failover" => match val.to_ascii_lowercase().as_str() {
            "yes" => MasterOption::CoordinatedFailover(true),
            "no" => MasterOption::CoordinatedFailover(false),
            _ => return Err(invalid(val)),
        },
        _ => return Err(unknown()),
    };
    Ok((2, option, shown))
}

/// A proxy port this sentinel already listens on for something else: its own port,
/// another master's proxy, or the other proxy kind of the same master. Refused at
/// SENTINEL SET rather than left to a bind that fails in the background (a port taken
/// by another process is still only found then: logged and retried every second).
fn proxy_port_taken(core: &Sentinel, m: usize, write_port: bool, port: u16) -> Option<String> {
    if port == 0 {
        return None;
    }
    if port == core.identity().port || port == core.identity().tls_port {
        return Some(format!("ERR Proxy port {port} is this sentinel's own port"));
    }
    core.masters().iter().enumerate().find_map(|(i, other)| {
        let uses = |p: u16| p == port;
        let taken = (i != m || !write_port) && uses(other.proxy_port)
            || (i != m || write_port) && uses(other.proxy_replicas_port);
        taken.then(|| {
            format!(
                "ERR Proxy port {port} is already used by master '{}'",
                other.common.name
            )
        })
    })
}
