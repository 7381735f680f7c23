//! Subcommands that change which masters are monitored or start something:
//! MONITOR, REMOVE, RESET, FAILOVER and the peer-facing IS-MASTER-DOWN-BY-ADDR.

use super::{err, master_index, no_such_master};
use crate::commands::int_arg;
use crate::core::{FailoverError, Sentinel};
use crate::glob::glob_match;
use crate::resp::Reply;
use std::net::IpAddr;

const NOT_INTEGER: &str = "ERR value is not an integer or out of range";

/// `<ip> <port> <epoch> <runid|*>`: our SDOWN view of the master at that address and,
/// when a run id is given, our vote for that epoch (possibly an older one).
pub fn is_master_down_by_addr(core: &mut Sentinel, now: u64, a: &[String]) -> Reply {
    let (Some(port), Some(epoch)) = (int_arg(a[1].as_bytes()), int_arg(a[2].as_bytes())) else {
        return Reply::err(NOT_INTEGER);
    };
    let m = lookup_addr(core, &a[0], port);
    let runid = (a[3] != "*").then_some(a[3].as_str());
    let (down, leader, leader_epoch) = core.is_master_down_by_addr(now, m, epoch as u64, runid);
    Reply::Array(vec![
        Reply::Int(i64::from(down)),
        Reply::bulk(leader.as_deref().unwrap_or("*")),
        Reply::Int(leader_epoch as i64),
    ])
}

/// Find a master by address the way redis-sentinel builds a comparable address: the
/// port must be valid and, without `resolve-hostnames`, the host must be an IP literal.
fn lookup_addr(core: &Sentinel, host: &str, port: i64) -> Option<usize> {
    let port = u16::try_from(port).ok()?;
    let host = match host.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) if core.resolve_hostnames() => host.to_string(),
        Err(_) => return None,
    };
    core.master_by_addr(&host, port)
}

/// Reset every master whose name matches the glob (case-sensitive); reply the count.
pub fn reset(core: &mut Sentinel, now: u64, pattern: &str) -> Reply {
    let matching: Vec<usize> = (0..core.masters().len())
        .filter(|&m| {
            glob_match(
                pattern.as_bytes(),
                core.masters()[m].common.name.as_bytes(),
                false,
            )
        })
        .collect();
    for &m in &matching {
        core.reset(now, m);
    }
    Reply::Int(matching.len() as i64)
}

/// Manual failover: refused while one runs or when no replica qualifies now; otherwise
/// a forced attempt starts (it skips the majority requirement of the election).
///
/// `<name> COORDINATED` (Valkey 9.0's syntax, issue #10) hands over through the
/// master's `FAILOVER TO`. Any other extra argument gets redis-sentinel's arity error,
/// which is what it answers for every call with more than one argument.
pub fn failover(core: &mut Sentinel, now: u64, a: &[String]) -> Reply {
    let coordinated = match a {
        [_] => false,
        [_, mode] if mode.eq_ignore_ascii_case("coordinated") => true,
        _ => {
            return Reply::err("ERR wrong number of arguments for 'sentinel|failover' command");
        }
    };
    let Some(m) = master_index(core, &a[0]) else {
        return no_such_master();
    };
    let result = if coordinated {
        core.failover_coordinated(now, m)
    } else {
        core.failover(now, m)
    };
    match result {
        Err(FailoverError::MasterUnreachable) => {
            Reply::err("ERR master is down or unreachable, a coordinated failover is not possible")
        }
        Ok(()) => Reply::ok(),
        Err(FailoverError::InProgress) => Reply::err("INPROG Failover already in progress"),
        Err(FailoverError::NoGoodReplica) => {
            Reply::err("NOGOODSLAVE No suitable replica to promote")
        }
    }
}

/// `<name> <ip> <port> <quorum>`, validated in redis-sentinel's order.
pub fn monitor(core: &mut Sentinel, now: u64, a: &[String]) -> Reply {
    let Some(quorum) = int_arg(a[3].as_bytes()) else {
        return Reply::err("ERR Invalid quorum");
    };
    let Some(port) = int_arg(a[2].as_bytes()) else {
        return Reply::err("ERR Invalid port");
    };
    if quorum <= 0 {
        return Reply::err("ERR Quorum must be 1 or greater.");
    }
    if !valid_host(&a[1], core.resolve_hostnames()) {
        return Reply::err("ERR Invalid IP address or hostname specified");
    }
    match core.monitor(now, &a[0], &a[1], port, quorum as u32) {
        Ok(_) => Reply::ok(),
        Err(e) => err(format!("ERR {}", e.text())),
    }
}

/// An IP literal, or with `resolve-hostnames yes` something that can be a hostname. The
/// core does no DNS; an unresolvable name is found out when the shell connects.
fn valid_host(host: &str, resolve: bool) -> bool {
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    resolve
        && !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

pub fn remove(core: &mut Sentinel, now: u64, name: &str) -> Reply {
    let Some(m) = master_index(core, name) else {
        return no_such_master();
    };
    core.remove(now, m);
    Reply::ok()
}
