//! The SENTINEL command family, as pure functions over the core.
//!
//! [`sentinel_command`] does what Redis' command table does for a container command
//! (unknown-subcommand and arity errors, in that order) and then dispatches to one
//! handler per subcommand. Handlers never perform I/O: they parse and validate the
//! arguments, read the core through its accessors and change it only through its
//! operations (each stamped with the command's `now`), which queue events and config
//! flushes as actions.
//!
//! Flush failures: a subcommand that redis-sentinel answers with
//! `sentinelFlushConfigAndReply` (MONITOR, REMOVE, SET, FLUSHCONFIG, CONFIG SET) returns
//! `+OK` after queueing [`crate::core::Action::PersistConfig`]. The shell must replace a
//! `+OK` reply with [`FLUSH_FAILED`] when a flush requested during the same call failed.
//! No other reply is affected (a vote's flush failure, or SET's flush after an error,
//! only gets logged in redis-sentinel too).

mod admin;
mod config;

mod read;
mod set;

use crate::core::Sentinel;
use crate::resp::Reply;
use bytes::Bytes;

pub use read::{
    ckquorum, encode_master_addr, info_sentinel_section, master_addr, masters, role_masters,
};

/// The reply that replaces `+OK` when the config flush of the same call failed.
pub const FLUSH_FAILED: &str = "ERR Failed to save config file. Check server logs.";

/// Subcommands with their command-table arity (negative: at least that many arguments,
/// counting `SENTINEL` and the subcommand).
const SUBCOMMANDS: &[(&str, i32)] = &[
    ("ckquorum", 3),
    ("config", -3),
    ("debug", -2),
    // 3 in redis-sentinel's table; a 4th argument is COORDINATED (see `admin`).
    ("failover", -3),
    ("flushconfig", 2),
    ("get-master-addr-by-name", 3),
    ("get-primary-addr-by-name", 3),
    ("help", 2),
    ("info-cache", -3),
    ("is-master-down-by-addr", 6),
    ("is-primary-down-by-addr", 6),
    ("master", 3),
    ("masters", 2),
    ("monitor", 6),
    ("myid", 2),
    ("pending-scripts", 2),
    ("primaries", 2),
    ("primary", 3),
    ("remove", 3),
    ("replicas", 3),
    ("reset", 3),
    ("sentinels", 3),
    ("set", -5),
    ("simulate-failure", -3),
    ("slaves", 3),
];

/// Execute `SENTINEL <sub> ...` arriving at time `now` (the core's clock, see
/// [`crate::core`]). `args[0]` is the command name as sent.
pub fn sentinel_command(core: &mut Sentinel, now: u64, args: &[Bytes]) -> Reply {
    if args.len() < 2 {
        return Reply::err("ERR wrong number of arguments for 'sentinel' command");
    }
    let sub = text(&args[1]).to_ascii_lowercase();
    let Some(&(name, arity)) = SUBCOMMANDS.iter().find(|(n, _)| *n == sub) else {
        let shown: String = text(&args[1]).chars().take(128).collect();
        return err(format!(
            "ERR unknown subcommand '{shown}'. Try {} HELP.",
            text(&args[0]).to_ascii_uppercase()
        ));
    };
    let argc = args.len() as i32;
    if (arity > 0 && argc != arity) || (arity < 0 && argc < -arity) {
        return Reply::err(format!(
            "ERR wrong number of arguments for 'sentinel|{name}' command"
        ));
    }
    let a: Vec<String> = args.iter().map(text).collect();
    match name {
        "help" => read::help(&a[0]),
        // Valkey 8 spells master "primary" and keeps the old names; same replies.
        "masters" | "primaries" => read::masters(core, now),
        "master" | "primary" => read::master(core, now, &a[2]),
        "replicas" | "slaves" => read::replicas(core, now, &a[2]),
        "sentinels" => read::sentinels(core, now, &a[2]),
        "myid" => Reply::bulk(core.myid()),
        "get-master-addr-by-name" | "get-primary-addr-by-name" => read::master_addr(core, &a[2]),
        "ckquorum" => read::ckquorum(core, &a[2]),
        "info-cache" => read::info_cache(core, now, &a[2..]),
        "pending-scripts" => core.scripts().pending_reply(now),
        "is-master-down-by-addr" | "is-primary-down-by-addr" => {
            admin::is_master_down_by_addr(core, now, &a[2..])
        }
        "reset" => admin::reset(core, now, &a[2]),
        "failover" => admin::failover(core, now, &a[2..]),
        "monitor" => admin::monitor(core, now, &a[2..]),
        "remove" => admin::remove(core, now, &a[2]),
        "flushconfig" => {
            core.flush_config(now);
            Reply::ok()
        }
        "set" => set::set(core, now, &a[2..]),
        "config" => config::config(core, now, &a[2..]),
        "simulate-failure" => config::simulate_failure(core, now, &a[2..]),
        _ => config::debug(core, now, &a[2..]),
    }
}

/// Arguments as text. Sentinel arguments are names, addresses and numbers; invalid
/// UTF-8 is replaced rather than rejected, as nothing here needs raw bytes.
fn text(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An error reply with user-provided fragments made protocol-safe: Redis replaces CR and
/// LF in error texts with spaces.
fn err(s: String) -> Reply {
    Reply::Error(crate::resp::one_line(&s).into_owned())
}

fn no_such_master() -> Reply {
    Reply::err("ERR No such master with that name")
}

/// Index of the master called `name`.
fn master_index(core: &Sentinel, name: &str) -> Option<usize> {
    core.master_index(name)
}
