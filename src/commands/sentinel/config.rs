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

/// `CONFIG GET <pattern>` / `CONFIG SET <option> <value>` as in 7.0.15, plus Redis
/// 7.2's several patterns (`GET <pattern> [<pattern> ...]`) or pairs (`SET <option>
/// <value> [<option> <value> ...]`); the forms 7.0.15 accepts answer exactly as there,
/// and `GET`/`SET` with nothing or a lone option still get its usage error.
pub fn config(core: &mut Sentinel, now: u64, a: &[String]) -> Reply {
    match (a[0].to_ascii_lowercase().as_str(), a.len()) {
        ("get", n) if n >= 2 => config_get(core, &a[1..]),
        ("set", 3) => config_set(core, now, &a[1], &a[2]),
        ("set", n) if n > 3 => config_set_many(core, now, &a[1..]),
        _ => Reply::err(CONFIG_USAGE),
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// The options matching any of `patterns`, each once, in the order the patterns and
/// then the options come (Redis 7.2's order).
fn config_get(core: &Sentinel, patterns: &[String]) -> Reply {
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
    let mut out: Vec<(&str, String)> = Vec::new();
    for pattern in patterns {
        for (name, value) in &all {
            if glob_match(pattern.as_bytes(), name.as_bytes(), true)
                && !out.iter().any(|(n, _)| n == name)
            {
                out.push((name, value.clone()));
            }
        }
    }
    Reply::bulk_map(out)
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
    match parse_global(opt, val) {
        Ok(option) => {
            // Flushes; new sentinel credentials reconnect to the other sentinels.
            core.set_global_option(now, option);
            Reply::ok()
        }
        Err(e) => e,
    }
}

/// Redis 7.2's `SENTINEL CONFIG SET` with several pairs: every option is checked first
/// (unknown, repeated, missing value, bad value: the first problem is the reply and
/// nothing is applied), then all are applied.
fn config_set_many(core: &mut Sentinel, now: u64, a: &[String]) -> Reply {
    let mut options = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut i = 0;
    while i < a.len() {
        let opt = &a[i];
        let lower = opt.to_ascii_lowercase();
        if !GLOBAL_OPTIONS.contains(&lower.as_str()) {
            return err(format!(
                "ERR Invalid argument '{opt}' to SENTINEL CONFIG SET"
            ));
        }
        if seen.contains(&lower) {
            return err(format!(
                "ERR Duplicate argument '{opt}' to SENTINEL CONFIG SET"
            ));
        }
        seen.push(lower);
        let Some(val) = a.get(i + 1) else {
            return err(format!("ERR Missing argument '{opt}' value"));
        };
        match parse_global(opt, val) {
            Ok(o) => options.push(o),
            Err(e) => return e,
        }
        i += 2;
    }
    for option in options {
        core.set_global_option(now, option);
    }
    Reply::ok()
}

/// The options SENTINEL CONFIG SET knows.
const GLOBAL_OPTIONS: [&str; 6] = [
    "resolve-hostnames",
    "announce-hostnames",
    "announce-ip",
    "announce-port",
    "sentinel-user",
    "sentinel-pass",
];

/// One `<option> <value>` of SENTINEL CONFIG SET, validated.
fn parse_global(opt: &str, val: &str) -> Result<GlobalOption, Reply> {
    let bad = || {
        err(format!(
            "ERR Invalid value '{val}' to SENTINEL CONFIG SET '{opt}'"
        ))
    };
    let option = match opt.to_ascii_lowercase().as_str() {
        "resolve-hostnames" => match parse_yes_no(val) {
            Some(b) => GlobalOption::ResolveHostnames(b),
            None => return Err(bad()),
        },
        "announce-hostnames" => match parse_yes_no(val) {
            Some(b) => GlobalOption::AnnounceHostnames(b),
            None => return Err(bad()),
        },
        // 7.0.15 stores "" as an empty announce-ip; we treat it as unset (see
        // SentinelConfig::announce_ip), which CONFIG GET shows identically.
        "announce-ip" => GlobalOption::AnnounceIp(non_empty(val)),
        "announce-port" => match int_arg(val.as_bytes()) {
            Some(p) if (0..=65535).contains(&p) => GlobalOption::AnnouncePort(p as u16),
            _ => return Err(bad()),
        },
        "sentinel-user" => GlobalOption::SentinelUser(non_empty(val)),
        "sentinel-pass" => GlobalOption::SentinelPass(non_empty(val)),
        _ => {
            return Err(err(format!(
                "ERR Invalid argument '{opt}' to SENTINEL CONFIG SET"
            )));
        }
    };
    Ok(option)
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
