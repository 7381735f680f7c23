//! The generic directives with their own syntax (redis `createSpecialConfig` and the
//! multi-argument ones). Same contract as `generic::parse_value`: canonical rewrite
//! text or the exact 7.0.15 error message.

use super::generic_value::{format_mem, parse_mem};
use crate::resp::request::parse_i64_strict;
use crate::resp::sds::{bare_or_repr, repr};

pub(crate) fn parse_special(name: &str, args: &[String]) -> Result<Option<String>, String> {
    match name {
        "bind" => {
            if args.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            Ok(Some(args.join(" ")))
        }
        "save" => {
            if args.len() == 1 && args[0].is_empty() {
                return Ok(None);
            }
            if !args.len().is_multiple_of(2)
                || args
                    .iter()
                    .any(|a| parse_i64_strict(a.as_bytes()).is_none())
            {
                return Err("Invalid save parameters".into());
            }
            Ok(Some(args.join(" ")))
        }
        "client-output-buffer-limit" => parse_cobl(args).map(|v| {
            Some(
                v.iter()
                    .map(|(c, (h, s, t))| format!("{} {} {} {}", COBL_CLASSES[*c], h, s, t))
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        }),
        "latency-tracking-info-percentiles" => {
            let mut out = Vec::new();
            // One empty argument is the empty list; an empty one among others is not.
            let args = if args.len() == 1 && args[0].is_empty() {
                &[][..]
            } else {
                args
            };
            for a in args {
                let v =
                    string2d(a).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&v) {
                    return Err(
                        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                            .into(),
                    );
                }
                out.push(v.to_string());
            }
            Ok(Some(out.join(" ")))
        }
        "replicaof" => {
            if args.len() != 2 {
                return Err("wrong number of arguments".into());
            }
            if args[0].eq_ignore_ascii_case("no") && args[1].eq_ignore_ascii_case("one") {
                return Ok(None);
            }
            let port = parse_i64_strict(args[1].as_bytes()).filter(|p| (0..=65535).contains(p));
            match port {
                Some(p) => Ok(Some(format!("{} {}", bare_or_repr(&args[0]), p))),
                None => Err("Invalid master port".into()),
            }
        }
        "unixsocketperm" => match u32::from_str_radix(&args[0], 8) {
            Ok(v) if v <= 0o777 => Ok(Some(format!("{v:o}"))),
            Ok(_) => Err("argument must be between 0 and 777 inclusive".into()),
            Err(_) => Err("argument couldn't be parsed as an octal number".into()),
        },
        "oom-score-adj-values" => {
            if args.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let mut out = Vec::new();
            for a in args {
                match strtoll_whole(a) {
                    Some(v) if (-2000..=2000).contains(&v) => out.push(v.to_string()),
                    _ => {
                        return Err(
                            "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
                                .into(),
                        );
                    }
                }
            }
            Ok(Some(out.join(" ")))
        }
        "notify-keyspace-events" => notify_flags(&args[0]).map(|s| Some(repr(&s))),
        "maxmemory-clients" => {
            let a = &args[0];
            if let Some(pct) = a.strip_suffix('%') {
                let v = parse_i64_strict(pct.as_bytes())
                    .filter(|v| *v >= 0)
                    .ok_or("argument must be a memory or percent value")?;
                if v > 100 {
                    return Err("percentage argument must be less or equal to 100".into());
                }
                return Ok(Some(format!("{v}%")));
            }
            parse_mem(a)
                .map(|v| Some(format_mem(v)))
                .ok_or_else(|| "argument must be a memory or percent value".into())
        }
        _ => Ok(Some(args.join(" "))),
    }
}

/// Class names in the order the rewrite emits them.
pub(crate) const COBL_CLASSES: [&str; 3] = ["normal", "replica", "pubsub"];

/// One `(hard, soft, soft_seconds)` limit per class index of [`COBL_CLASSES`].
pub(crate) type CoblLimit = (u64, u64, u64);

/// Parses `client-output-buffer-limit <class> <hard> <soft> <secs> ...`.
pub(crate) fn parse_cobl(args: &[String]) -> Result<Vec<(usize, CoblLimit)>, String> {
    // No argument at all is accepted and changes nothing (Redis only asks for a
    // multiple of four).
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut out = Vec::new();
    for chunk in args.chunks(4) {
        let class = match chunk[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into());
            }
        };
        let bad = || "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        let hard = parse_mem(&chunk[1]).ok_or_else(bad)?;
        let soft = parse_mem(&chunk[2]).ok_or_else(bad)?;
        let secs = parse_i64_strict(chunk[3].as_bytes())
            .filter(|s| *s >= 0)
            .ok_or_else(bad)?;
        out.push((class, (hard, soft, secs as u64)));
    }
    Ok(out)
}

/// Rewrite line of one output buffer class.
pub(crate) fn cobl_line(class: usize, l: CoblLimit) -> String {
    format!(
        "client-output-buffer-limit {} {} {} {}",
        COBL_CLASSES[class],
        format_mem(l.0),
        format_mem(l.1),
        l.2
    )
}

/// Parses keyspace notification classes and returns them in Redis' canonical order.
fn notify_flags(s: &str) -> Result<String, String> {
    const ALL: &str = "g$lshzxetd";
    let mut set = String::new();
    for c in s.chars() {
        match c {
            'A' => set.push_str(ALL),
            'g' | '$' | 'l' | 's' | 'h' | 'z' | 'x' | 'e' | 't' | 'd' | 'n' | 'K' | 'E' | 'm' => {
                set.push(c)
            }
            _ => return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
        }
    }
    let mut out = String::new();
    if ALL.chars().all(|c| set.contains(c)) {
        out.push('A');
    } else {
        out.extend("g$lshzxetdn".chars().filter(|c| set.contains(*c)));
    }
    out.extend("KEm".chars().filter(|c| set.contains(*c)));
    Ok(out)
}

/// Redis' `string2d`: strtod(3) over the whole string, no leading space, no NaN, no
/// overflow (so hex floats and `inf` parse as they do in Redis, unlike `f64::from_str`).
fn string2d(s: &str) -> Option<f64> {
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace() || c == '\x0b') {
        return None;
    }
    let c = std::ffi::CString::new(s).ok()?;
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: strtod reads the NUL-terminated string and sets `end` inside it.
    let v = unsafe {
        *libc::__errno_location() = 0;
        libc::strtod(c.as_ptr(), &mut end)
    };
    // SAFETY: `end` points into `c`'s buffer (or at its start).
    let used = unsafe { end.offset_from(c.as_ptr()) } as usize;
    let erange = unsafe { *libc::__errno_location() } == libc::ERANGE;
    let overflow = erange && (v.is_infinite() || v == 0.0);
    (used == s.len() && !overflow && !v.is_nan()).then_some(v)
}

/// C's `strtoll(s, &end, 10)` with `*end == '\0'` required, as Redis reads
/// `oom-score-adj-values`: leading blanks and a `+` are fine, an empty string is 0,
/// out-of-range values saturate (and then fail the caller's range check).
pub(crate) fn strtoll_whole(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return Some(0);
    }
    let mut i = b
        .iter()
        .take_while(|c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count();
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = &b[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = digits
        .iter()
        .fold(0i128, |v, d| (v * 10 + i128::from(d - b'0')).min(1 << 70));
    let v = if neg { -v } else { v };
    Some(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}
