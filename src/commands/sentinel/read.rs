//! Read-only subcommands: descriptions, address lookup, CKQUORUM, INFO-CACHE, HELP, plus
//! the `# Sentinel` INFO section and the ROLE list, which render the same state.

use super::{master_index, no_such_master};
use crate::core::Sentinel;
use crate::core::instance::flags;
use crate::resp::{self, Reply};
use bytes::BytesMut;

pub fn masters(core: &Sentinel, now: u64) -> Reply {
    Reply::Array(
        (0..core.masters().len())
            .map(|m| core.describe_master(now, m))
            .collect(),
    )
}

pub fn master(core: &Sentinel, now: u64, name: &str) -> Reply {
    match master_index(core, name) {
        Some(m) => core.describe_master(now, m),
        None => no_such_master(),
    }
}

/// Replicas whose INFO said `replica-announced:0` are left out (they still count in
/// `num-slaves` and can still be promoted).
pub fn replicas(core: &Sentinel, now: u64, name: &str) -> Reply {
    let Some(m) = master_index(core, name) else {
        return no_such_master();
    };
    Reply::Array(
        core.masters()[m]
            .replicas
            .iter()
            .enumerate()
            .filter(|(_, r)| r.announced)
            .map(|(i, _)| core.describe_replica(now, m, i))
            .collect(),
    )
}

pub fn sentinels(core: &Sentinel, now: u64, name: &str) -> Reply {
    let Some(m) = master_index(core, name) else {
        return no_such_master();
    };
    Reply::Array(
        (0..core.masters()[m].sentinels.len())
            .map(|s| core.describe_sentinel(now, m, s))
            .collect(),
    )
}

/// Unknown names get a null array, not an error: clients probe with this command.
pub fn master_addr(core: &Sentinel, name: &str) -> Reply {
    let Some(m) = master_index(core, name) else {
        return Reply::NullArray;
    };
    let (host, port) = core.current_master_addr(m);
    Reply::Array(vec![Reply::bulk(host), Reply::bulk(port.to_string())])
}

/// [`master_addr`]'s reply encoded straight into `out` for protocol `proto`, with no
/// intermediate values: this is the query every client sends on connect, and the
/// allocations of a [`Reply`] cost more than the lookup.
pub fn encode_master_addr(core: &Sentinel, name: &str, proto: u8, out: &mut BytesMut) {
    let Some(m) = master_index(core, name) else {
        return Reply::NullArray.encode(proto, out);
    };
    let (host, port) = core.current_master_addr_ref(m);
    resp::put_array_len(out, 2);
    resp::put_bulk(out, host.as_bytes());
    resp::put_bulk_u64(out, u64::from(port));
}

/// Usable = this sentinel plus every known peer not SDOWN/ODOWN; a failover needs
/// `quorum` of them and a majority of all known sentinels.
pub fn ckquorum(core: &Sentinel, name: &str) -> Reply {
    let Some(m) = master_index(core, name) else {
        return no_such_master();
    };
    let master = &core.masters()[m];
    let voters = master.sentinels.len() + 1;
    let usable = 1 + master
        .sentinels
        .iter()
        .filter(|s| s.common.flags & (flags::S_DOWN | flags::O_DOWN) == 0)
        .count();
    let no_quorum = (usable as i64) < i64::from(master.quorum as i32);
    let no_majority = usable < voters / 2 + 1;
    if !no_quorum && !no_majority {
        return Reply::Status(format!(
            "OK {usable} usable Sentinels. Quorum and failover authorization can be reached"
        ));
    }
    let mut e = format!("NOQUORUM {usable} usable Sentinels. ");
    if no_quorum {
        e.push_str("Not enough available Sentinels to reach the specified quorum for this master");
    }
    if no_majority {
        if no_quorum {
            e.push_str(". ");
        }
        e.push_str("Not enough available Sentinels to reach the majority and authorize a failover");
    }
    Reply::Error(e)
}

/// `<name> [[age info] (master) [age info] (each replica)]` for each known name.
/// Replica ages are 0 while the *master* never answered INFO (a 7.0.15 quirk kept on
/// purpose).
pub fn info_cache(core: &Sentinel, now: u64, names: &[String]) -> Reply {
    let now = now as i64;
    let entry = |age: i64, info: &Option<String>| {
        Reply::Array(vec![
            Reply::Int(age),
            info.as_ref().map_or(Reply::Null, Reply::bulk),
        ])
    };
    let mut out = Vec::new();
    for master in core.masters() {
        if !names.contains(&master.common.name) {
            continue;
        }
        let c = &master.common;
        let known = c.info_refresh != 0;
        let mut list = vec![entry(
            if known {
                now - c.info_refresh as i64
            } else {
                0
            },
            &c.info,
        )];
        for r in &master.replicas {
            let age = if known {
                now - r.common.info_refresh as i64
            } else {
                0
            };
            list.push(entry(age, &r.common.info));
        }
        out.push(Reply::bulk(&c.name));
        out.push(Reply::Array(list));
    }
    Reply::Array(out)
}

const HELP: &[&str] = &[
    "CKQUORUM <master-name>",
    "    Check if the current Sentinel configuration is able to reach the quorum",
    "    needed to failover a master and the majority needed to authorize the",
    "    failover.",
    "CONFIG SET <param> <value>",
    "    Set a global Sentinel configuration parameter.",
    "CONFIG GET <param>",
    "    Get global Sentinel configuration parameter.",
    "DEBUG [<param> <value> ...]",
    "    Show a list of configurable time parameters and their values (milliseconds).",
    "    Or update current configurable parameters values (one or more).",
    "GET-MASTER-ADDR-BY-NAME <master-name>",
    "    Return the ip and port number of the master with that name.",
    "FAILOVER <master-name>",
    "    Manually failover a master node without asking for agreement from other",
    "    Sentinels",
    "FLUSHCONFIG",
    "    Force Sentinel to rewrite its configuration on disk, including the current",
    "    Sentinel state.",
    "INFO-CACHE <master-name>",
    "    Return last cached INFO output from masters and all its replicas.",
    "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
    "    Check if the master specified by ip:port is down from current Sentinel's",
    "    point of view.",
    "MASTER <master-name>",
    "    Show the state and info of the specified master.",
    "MASTERS",
    "    Show a list of monitored masters and their state.",
    "MONITOR <name> <ip> <port> <quorum>",
    "    Start monitoring a new master with the specified name, ip, port and quorum.",
    "MYID",
    "    Return the ID of the Sentinel instance.",
    "PENDING-SCRIPTS",
    "    Get pending scripts information.",
    "REMOVE <master-name>",
    "    Remove master from Sentinel's monitor list.",
    "REPLICAS <master-name>",
    "    Show a list of replicas for this master and their state.",
    "RESET <pattern>",
    "    Reset masters for specific master name matching this pattern.",
    "SENTINELS <master-name>",
    "    Show a list of Sentinel instances for this master and their state.",
    "SET <master-name> <option> <value> [<option> <value> ...]",
    "    Set configuration parameters for certain masters.",
    "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
    "    Simulate a Sentinel crash.",
];

/// Redis' standard help reply: a header naming the command as sent (upper-cased), the
/// subcommand lines, and the HELP entry, all as status replies.
pub fn help(cmd: &str) -> Reply {
    let mut lines = vec![format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        cmd.to_ascii_uppercase()
    )];
    lines.extend(HELP.iter().map(|s| s.to_string()));
    lines.push("HELP".into());
    lines.push("    Prints this help.".into());
    Reply::Array(lines.into_iter().map(Reply::Status).collect())
}

/// The `# Sentinel` section of INFO at time `now`, every line CRLF-terminated.
pub fn info_sentinel_section(core: &Sentinel, now: u64) -> String {
    let tilt_since = if core.tilt() {
        (now as i64 - core.tilt_start_time() as i64) / 1000
    } else {
        -1
    };
    // Redis 8 / Valkey's `sentinel_total_tilt`, only when asked for: 7.0.15's section
    // has no such line and stays byte-identical by default.
    let total_tilt = if core.info_total_tilt() {
        format!("sentinel_total_tilt:{}\r\n", core.total_tilt())
    } else {
        String::new()
    };
    let mut s = format!(
        "# Sentinel\r\nsentinel_masters:{}\r\nsentinel_tilt:{}\r\n\
         sentinel_tilt_since_seconds:{}\r\n{total_tilt}sentinel_running_scripts:{}\r\n\
         sentinel_scripts_queue_length:{}\r\nsentinel_simulate_failure_flags:{}\r\n",
        core.masters().len(),
        u8::from(core.tilt()),
        tilt_since,
        core.scripts().running_count(),
        core.scripts().queue_len(),
        core.simfailure_flags()
    );
    for (i, m) in core.masters().iter().enumerate() {
        let c = &m.common;
        let status = crate::core::instance::master_status(c.flags);
        s.push_str(&format!(
            "master{i}:name={},status={status},address={}:{},slaves={},sentinels={}\r\n",
            c.name,
            core.announced_addr(c),
            c.port,
            m.replicas.len(),
            m.sentinels.len() + 1
        ));
    }
    s
}

/// Monitored master names, for ROLE.
pub fn role_masters(core: &Sentinel) -> Vec<String> {
    core.masters()
        .iter()
        .map(|m| m.common.name.clone())
        .collect()
}
