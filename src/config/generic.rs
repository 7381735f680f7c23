//! Generic (non-`sentinel`) redis.conf directives: lookup by name or alias, validation
//! with the exact error texts of redis 7.0.15, and the canonical text the rewrite emits.
//!
//! Every value is kept as the *canonical rewrite form* (`yes`, `100mb`, `"quoted"`),
//! because that is all the rewrite needs and it makes "differs from the default" a plain
//! string comparison.

use super::generic_table::{ALIASES, SPECS};
pub(crate) use super::generic_value::{Kind, Spec};
use super::generic_value::{format_mem, parse_bool, parse_mem};
use crate::resp::request::parse_i64_strict;
use crate::resp::sds::repr;

/// String options for which an empty value means "unset": the rewrite then drops
/// their lines instead of writing `name ""` (observed on the real binary).
const NULL_IF_EMPTY: &[&str] = &[
    "pidfile",
    "masterauth",
    "masteruser",
    "unixsocket",
    "replica-announce-ip",
    "bind-source-addr",
    "requirepass",
    "server_cpulist",
    "bio_cpulist",
    "aof_rewrite_cpulist",
    "bgsave_cpulist",
    "cluster-announce-ip",
    "cluster-announce-hostname",
    "tls-cert-file",
    "tls-key-file",
    "tls-key-file-pass",
    "tls-client-cert-file",
    "tls-client-key-file",
    "tls-client-key-file-pass",
    "tls-dh-params-file",
    "tls-ca-cert-file",
    "tls-ca-cert-dir",
    "tls-protocols",
    "tls-ciphers",
    "tls-ciphersuites",
];

/// Options that take several arguments (all others need exactly one).
const MULTI_ARG: &[&str] = &[
    "save",
    "bind",
    "client-output-buffer-limit",
    "latency-tracking-info-percentiles",
    "oom-score-adj-values",
    "replicaof",
    "shutdown-on-sigint",
    "shutdown-on-sigterm",
];

/// Names accepted and ignored by 7.0.15 (it logs a deprecation warning).
pub(crate) const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// Finds the spec of a directive name or alias (case-insensitive).
pub(crate) fn lookup(name: &str) -> Option<&'static Spec> {
    let lower = name.to_ascii_lowercase();
    let canonical = ALIASES
        .iter()
        .find(|(a, _)| *a == lower)
        .map(|(_, c)| *c)
        .unwrap_or(lower.as_str());
    SPECS
        .binary_search_by(|s| s.name.cmp(canonical))
        .ok()
        .map(|i| &SPECS[i])
}

/// All canonical specs, for the rewrite.
pub(crate) fn all_specs() -> &'static [Spec] {
    SPECS
}

pub(crate) fn is_multi_arg(name: &str) -> bool {
    MULTI_ARG.contains(&name)
}

pub(crate) fn null_if_empty(name: &str) -> bool {
    NULL_IF_EMPTY.contains(&name)
}

/// Validates the arguments of a standard directive and returns its canonical value
/// text (what follows the name in a rewritten line), `None` for "unset". The error is
/// the exact message redis 7.0.15 prints. `dir` is the caller's business.
pub(crate) fn parse_value(spec: &Spec, args: &[String]) -> Result<Option<String>, String> {
    let one = || args[0].as_str();
    match spec.kind {
        Kind::Bool => parse_bool(one())
            .map(|b| Some(if b { "yes" } else { "no" }.to_string()))
            .ok_or_else(|| "argument must be 'yes' or 'no'".to_string()),
        Kind::Int(lo, hi) => {
            let v = parse_i64_strict(one().as_bytes())
                .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
            if v < lo || v > hi {
                return Err(format!("argument must be between {lo} and {hi} inclusive"));
            }
            Ok(Some(v.to_string()))
        }
        Kind::Mem(lo, hi) => {
            let v =
                parse_mem(one()).ok_or_else(|| "argument must be a memory value".to_string())?;
            if v < lo || v > hi {
                return Err(format!("argument must be between {lo} and {hi} inclusive"));
            }
            Ok(Some(format_mem(v)))
        }
        Kind::Enum(names) => {
            let mut out = Vec::new();
            for a in args {
                match names.iter().find(|n| n.eq_ignore_ascii_case(a)) {
                    Some(n) => out.push(*n),
                    None => {
                        return Err(format!(
                            "argument(s) must be one of the following: {}",
                            names.join(", ")
                        ));
                    }
                }
            }
            Ok(Some(out.join(" ")))
        }
        Kind::Str => {
            if one().is_empty() && null_if_empty(spec.name) {
                Ok(None)
            } else {
                Ok(Some(repr(one())))
            }
        }
        Kind::Special => super::generic_special::parse_special(spec.name, args),
    }
}

/// Canonical text of the built-in default of an option (`None` when unset).
pub(crate) fn default_value(spec: &Spec) -> Option<String> {
    if spec.default.is_empty() && matches!(spec.kind, Kind::Str) && null_if_empty(spec.name) {
        return None;
    }
    let args: Vec<String> = match spec.kind {
        Kind::Special | Kind::Enum(_) => spec.default.split(' ').map(String::from).collect(),
        _ => vec![spec.default.to_string()],
    };
    parse_value(spec, &args).ok().flatten()
}
