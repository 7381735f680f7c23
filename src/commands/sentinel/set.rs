//! SENTINEL SET `<master> <option> <value> [<option> <value> ...]`.
//!
//! Options are applied one by one, each emitting `+set` as soon as it is applied. An
//! error stops processing without undoing earlier options (redis-sentinel's partial
//! application): the config is then still flushed, but the client sees only the error.

use super::{err, master_index, no_such_master};
use crate::commands::int_arg;
use crate::config::LogLevel;
use crate::core::events::Subject;
use crate::core::{Action, Sentinel};
use crate::resp::Reply;

const SCRIPTS_DENIED: &str = "ERR Reconfiguration of scripts path is denied for security \
     reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel \
     configuration";

pub fn set(core: &mut Sentinel, a: &[String]) -> Reply {
    let Some(m) = master_index(core, &a[0]) else {
        return no_such_master();
    };
    let name = a[0].clone();
    let mut changes = 0;
    let mut j = 1;
    let mut failure = None;
    while j < a.len() {
        match apply_one(core, m, &a[j..]) {
            Ok((used, shown)) => {
                changes += 1;
                core.emit(LogLevel::Warning, "+set", Subject::Master(&name), &shown);
                j += used;
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if changes > 0 {
        core.push(Action::PersistConfig);
    }
    failure.unwrap_or_else(Reply::ok)
}

/// Apply the option at `a[0]` with its value(s). Returns how many arguments it used and
/// the `+set` payload after `%@` (the option as typed, then its values; auth-pass
/// redacted).
fn apply_one(core: &mut Sentinel, m: usize, a: &[String]) -> Result<(usize, String), Reply> {
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
        core.set_rename_command(m, cmd, new);
        return Ok((3, format!("{opt} {cmd} {new}")));
    }
    if more < 1 {
        return Err(unknown());
    }
    let val = &a[1];
    // Numeric options: positive, except master-reboot-down-after-period (>= 0).
    let number = |min: i64| match int_arg(val.as_bytes()) {
        Some(v) if v >= min => Ok(v),
        _ => Err(invalid(val)),
    };
    let mut shown = format!("{opt} {val}");
    match lower.as_str() {
        "down-after-milliseconds" => {
            let v = number(1)?;
            core.set_down_after(m, v as u64);
        }
        "failover-timeout" => core.masters[m].failover_timeout_ms = number(1)? as u64,
        "parallel-syncs" => core.masters[m].parallel_syncs = number(1)?,
        "quorum" => core.masters[m].quorum = number(1)? as u32,
        "master-reboot-down-after-period" => {
            core.masters[m].master_reboot_down_after_period_ms = number(0)? as u64
        }
        "notification-script" | "client-reconfig-script" => {
            if core.deny_scripts_reconfig {
                return Err(Reply::err(SCRIPTS_DENIED));
            }
            let notification = lower == "notification-script";
            if !val.is_empty() && !(core.is_executable)(val) {
                return Err(Reply::err(if notification {
                    "ERR Notification script seems non existing or non executable"
                } else {
                    "ERR Client reconfiguration script seems non existing or non executable"
                }));
            }
            let path = (!val.is_empty()).then(|| val.clone());
            if notification {
                core.masters[m].notification_script = path;
            } else {
                core.masters[m].client_reconfig_script = path;
            }
        }
        "auth-pass" | "auth-user" => {
            let v = (!val.is_empty()).then(|| val.clone());
            if lower == "auth-pass" {
                core.masters[m].auth_pass = v;
                shown = format!("{opt} ******");
            } else {
                core.masters[m].auth_user = v;
            }
            // Reconnect to the master and its replicas with the new credentials.
            core.drop_master_connections(m);
        }
        _ => return Err(unknown()),
    }
    Ok((2, shown))
}
