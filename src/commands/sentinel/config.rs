//! Process-wide settings: SENTINEL CONFIG GET/SET (persisted), DEBUG (timing knobs,
//! not persisted) and SIMULATE-FAILURE.

use super::err;
use crate::commands::int_arg;
use crate::core::{
    GlobalOption, SIMFAILURE_CRASH_AFTER_ELECTION, SIMFAILURE_CRASH_AFTER_PROMOTION, Sentinel,
    Timing,
};
use crate::glob::glob_match;
use crate::resp::Reply;

const CONFIG_USAGE: &str =
    "ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.";

/// `CONFIG GET <pattern>` / `CONFIG SET <option> <value>`; 7.0.15 takes exactly one
/// pattern or one pair.
pub fn config(core: &mut Sentinel, now: u64, a: &[String]) -> Reply {
    match (a[0].to_ascii_lowercase().as_str(), a.len()) {
        ("get", 2) => config_get(core, &a[1]),
        ("set", 3) => config_set(core, now, &a[1], &a[2]),
        _ => Reply::err(CONFIG_USAGE),
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

fn config_get(core: &Sentinel, pattern: &str) -> Reply {
    let all = [
        ("resolve-hostnames", yes_no(core.resolve_hostnames())),
        ("announce-hostnames", yes_no(core.announce_hostnames())),
        (
            "announce-ip",
            core.announce_ip().unwrap_or_default().to_string(),
        ),
        ("announce-port", core.announce_port().to_string()),
        (
            "sentinel-user",
            core.sentinel_user().unwrap_or_default().to_string(),
        ),
        (
            "sentinel-pass",
            core.sentinel_pass().unwrap_or_default().to_string(),
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

fn config_set(core: &mut Sentinel, now: u64, opt: &str, val: &str) -> Reply {
    let bad = || {
        err(format!(
            "ERR Invalid value '{val}' to SENTINEL CONFIG SET '{opt}'"
        ))
    };
    let option = match opt.to_ascii_lowercase().as_str() {
        "resolve-hostnames" => match parse_yes_no(val) {
            Some(b) => GlobalOption::ResolveHostnames(b),
            None => return bad(),
        },
        "announce-hostnames" => match parse_yes_no(val) {
            Some(b) => GlobalOption::AnnounceHostnames(b),
            None => return bad(),
        },
        // 7.0.15 stores "" as an empty announce-ip; we treat it as unset (see
        // SentinelConfig::announce_ip), which CONFIG GET shows identically.
        "announce-ip" => GlobalOption::AnnounceIp(non_empty(val)),
        "announce-port" => match int_arg(val.as_bytes()) {
            Some(p) if (0..=65535).contains(&p) => GlobalOption::AnnouncePort(p as u16),
            _ => return bad(),
        },
        "sentinel-user" => GlobalOption::SentinelUser(non_empty(val)),
        "sentinel-pass" => GlobalOption::SentinelPass(non_empty(val)),
        _ => {
            return err(format!(
                "ERR Invalid argument '{opt}' to SENTINEL CONFIG SET"
            ));
        }
    };
    // Flushes; new sentinel credentials reconnect to the other sentinels.
    core.set_global_option(now, option);
    Reply::ok()
}

/// No arguments: show the knobs. Otherwise `<name> <ms>` pairs applied left to right;
/// an error stops processing but keeps what was already applied.
pub fn debug(core: &mut Sentinel, now: u64, a: &[String]) -> Reply {
    if a.is_empty() {
        let t = core.timing();
        return Reply::bulk_map(
            Timing::KNOBS
                .iter()
                .map(|n| (*n, t.knob(n).unwrap_or_default().to_string())),
        );
    }
    let mut j = 0;
    while j < a.len() {
        let opt = &a[j];
        let known = Timing::KNOBS.iter().any(|n| n.eq_ignore_ascii_case(opt));
        let (true, Some(val)) = (known, a.get(j + 1)) else {
            return err(format!(
                "ERR Unknown option or number of arguments for SENTINEL DEBUG '{opt}'"
            ));
        };
        match int_arg(val.as_bytes()) {
            Some(v) if v > 0 => {
                core.set_debug_knob(now, opt, v as u64);
            }
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
pub fn simulate_failure(core: &mut Sentinel, now: u64, a: &[String]) -> Reply {
    core.clear_simulated_failures(now);
    for arg in a {
        let bit = match arg.to_ascii_lowercase().as_str() {
            "crash-after-election" => SIMFAILURE_CRASH_AFTER_ELECTION,
            "crash-after-promotion" => SIMFAILURE_CRASH_AFTER_PROMOTION,
            "help" => {
                return Reply::Array(vec![
                    Reply::bulk("crash-after-election"),
                    Reply::bulk("crash-after-promotion"),
                ]);
            }
            _ => return Reply::err("ERR Unknown failure simulation specified"),
        };
        core.simulate_failure(now, bit);
    }
    Reply::ok()
}
