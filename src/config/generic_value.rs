//! The value kinds of the generic directives and redis' number formats for them. The
//! bottom of the generic-config files: the table (`generic_table`) and the special
//! syntaxes (`generic_special`) build on it, and `generic` puts them together, so the
//! imports go one way.

/// How a directive's value is parsed and written back.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Bool,
    /// Integer with an inclusive range.
    Int(i64, i64),
    /// Memory value (`1gb`, `100mb`, `4096`), inclusive range in bytes.
    Mem(u64, u64),
    Enum(&'static [&'static str]),
    /// String, written back quoted.
    Str,
    /// Handled by name (bind, save, dir, client-output-buffer-limit, ...).
    Special,
}

#[derive(Debug)]
pub(crate) struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    pub default: &'static str,
}

/// Redis `memtoull`: a number with an optional b/k/kb/m/mb/g/gb unit (case-insensitive).
pub(crate) fn parse_mem(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    // Redis' memtoull: no digit at all is 0 (`maxmemory ''`, `maxmemory m`), the
    // digits go through strtoull (which saturates on overflow) and the product wraps.
    if num.len() >= 128 {
        return None;
    }
    let val = if num.is_empty() {
        0
    } else {
        num.parse::<u64>().unwrap_or(u64::MAX)
    };
    Some(val.wrapping_mul(mul))
}

/// Redis `rewriteConfigFormatMemory`: the largest exact unit among gb/mb/kb.
pub(crate) fn format_mem(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = KB * 1024;
    const GB: u64 = MB * 1024;
    match bytes {
        0 => "0".into(),
        b if b % GB == 0 => format!("{}gb", b / GB),
        b if b % MB == 0 => format!("{}mb", b / MB),
        b if b % KB == 0 => format!("{}kb", b / KB),
        b => b.to_string(),
    }
}

pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if s.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}
