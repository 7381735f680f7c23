//! Process-wide settings: SENTINEL CONFIG GET/SET (persisted), DEBUG (timing knobs,
//! not persisted) and SIMULATE-FAILURE.

use super::err;
use crate::commands::int_arg;
use crate::config::LogLevel;
use crate::core::{
    Action, SIMFAILURE_CRASH_AFTER_ELECTION, SIMFAILURE_CRASH_AFTER_PROMOTION, Sentinel, Timing,
};
use crate::glob::glob_match;
use crate::resp::Reply;

const CONFIG_USAGE: &str =
    "ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.";

/// `CONFIG GET <pattern>` / `CONFIG SET <option> <value>`; 7.0.15 takes exactly one
/// pattern or one pair.
pub fn config(core: &mut Sentinel, a: &[String]) -> Reply {
    match (a[0].to_ascii_lowercase().as_str(), a.len()) {
        ("get", 2) => config_get(core, &a[1]),
        ("set", 3) => config_set(core, &a[1], &a[2]),
        _ => Reply::err(CONFIG_USAGE),
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

fn config_get(core: &Sentinel, pattern: &str) -> Reply {
    let all = [
        ("resolve-hostnames", yes_no(core.resolve_hostnames)),
        ("announce-hostnames", yes_no(core.announce_hostnames)),
        ("announce-ip", core.announce_ip.clone().unwrap_or_default()),
        ("announce-port", core.announce_port.to_string()),
        (
            "sentinel-user",
            core.sentinel_user.clone().unwrap_or_default(),
        ),
        (
            "sentinel-pass",
            core.sentinel_pass.clone().unwrap_or_default(),
        ),
    ];
    Reply::bulk_map(
        all.into_iter()
            .filter(|(name, _)| glob_match(pattern.as_bytes(), name.as_bytes(), true)),
    )
}

/// Redis' `yesnotoi`.
fn parse_yes_no(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if v.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

fn non_empty(v: &str) -> Option<String> {
    (!v.is_empty()).then(|| v.to_string())
}

fn config_set(core: &mut Sentinel, opt: &str, val: &str) -> Reply {
    let bad = || {
        err(format!(
            "ERR Invalid value '{val}' to SENTINEL CONFIG SET '{opt}'"
        ))
    };
    let mut drop_conns = false;
    match opt.to_ascii_lowercase().as_str() {
        "resolve-hostnames" => match parse_yes_no(val) {
            Some(b) => core.resolve_hostnames = b,
            None => return bad(),
        },
        "announce-hostnames" => match parse_yes_no(val) {
            Some(b) => core.announce_hostnames = b,
            None => return bad(),
        },
        // 7.0.15 stores "" as an empty announce-ip; we treat it as unset (see
        // SentinelConfig::announce_ip), which CONFIG GET shows identically.
        "announce-ip" => core.announce_ip = non_empty(val),
        "announce-port" => match int_arg(val.as_bytes()) {
            Some(p) if (0..=65535).contains(&p) => core.announce_port = p as u16,
            _ => return bad(),
        },
        "sentinel-user" => {
            core.sentinel_user = non_empty(val);
            drop_conns = true;
        }
        "sentinel-pass" => {
            core.sentinel_pass = non_empty(val);
            drop_conns = true;
        }
        _ => {
            return err(format!(
                "ERR Invalid argument '{opt}' to SENTINEL CONFIG SET"
            ));
        }
    }
    core.push(Action::PersistConfig);
    // Reconnect to the other sentinels with the new credentials.
    if drop_conns {
        core.drop_sentinel_connections();
    }
    Reply::ok()
}

/// Accessor of one DEBUG knob inside [`Timing`].
type Knob = fn(&mut Timing) -> &mut u64;

/// The DEBUG knobs in reply order.
const KNOBS: [(&str, Knob); 13] = [
    ("INFO-PERIOD", |t| &mut t.info_period),
    ("PING-PERIOD", |t| &mut t.ping_period),
    ("ASK-PERIOD", |t| &mut t.ask_period),
    ("PUBLISH-PERIOD", |t| &mut t.publish_period),
    ("DEFAULT-DOWN-AFTER", |t| &mut t.default_down_after),
    ("DEFAULT-FAILOVER-TIMEOUT", |t| {
        &mut t.default_failover_timeout
    }),
    ("TILT-TRIGGER", |t| &mut t.tilt_trigger),
    ("TILT-PERIOD", |t| &mut t.tilt_period),
    ("SLAVE-RECONF-TIMEOUT", |t| &mut t.slave_reconf_timeout),
    ("MIN-LINK-RECONNECT-PERIOD", |t| {
        &mut t.min_link_reconnect_period
    }),
    ("ELECTION-TIMEOUT", |t| &mut t.election_timeout),
    ("SCRIPT-MAX-RUNTIME", |t| &mut t.script_max_runtime),
    ("SCRIPT-RETRY-DELAY", |t| &mut t.script_retry_delay),
];

/// No arguments: show the knobs. Otherwise `<name> <ms>` pairs applied left to right;
/// an error stops processing but keeps what was already applied.
pub fn debug(core: &mut Sentinel, a: &[String]) -> Reply {
    if a.is_empty() {
        let mut t = core.timing.clone();
        return Reply::bulk_map(KNOBS.iter().map(|(n, f)| (*n, f(&mut t).to_string())));
    }
    let mut j = 0;
    while j < a.len() {
        let opt = &a[j];
        let knob = KNOBS.iter().find(|(n, _)| n.eq_ignore_ascii_case(opt));
        let (Some((_, field)), Some(val)) = (knob, a.get(j + 1)) else {
            return err(format!(
                "ERR Unknown option or number of arguments for SENTINEL DEBUG '{opt}'"
            ));
        };
        match int_arg(val.as_bytes()) {
            Some(v) if v > 0 => *field(&mut core.timing) = v as u64,
            _ => {
                return err(format!(
                    "ERR Invalid argument '{val}' for SENTINEL DEBUG '{opt}'"
                ));
            }
        }
        j += 2;
    }
    Reply::ok()
}

/// Clears the simulation flags, then sets them left to right; `help` lists them.
pub fn simulate_failure(core: &mut Sentinel, a: &[String]) -> Reply {
    core.simfailure_flags = 0;
    for arg in a {
        let (bit, what) = match arg.to_ascii_lowercase().as_str() {
            "crash-after-election" => (
                SIMFAILURE_CRASH_AFTER_ELECTION,
                "crash after being successfully elected as failover leader",
            ),
            "crash-after-promotion" => (
                SIMFAILURE_CRASH_AFTER_PROMOTION,
                "crash after promoting the selected replica to master",
            ),
            "help" => {
                return Reply::Array(vec![
                    Reply::bulk("crash-after-election"),
                    Reply::bulk("crash-after-promotion"),
                ]);
            }
            _ => return Reply::err("ERR Unknown failure simulation specified"),
        };
        core.simfailure_flags |= bit;
        core.push(Action::Log {
            level: LogLevel::Warning,
            text: format!("Failure simulation: this Sentinel will {what}"),
        });
    }
    Reply::ok()
}
