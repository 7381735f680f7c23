//! The redis.conf tokenizer (Redis' `sdssplitargs`) and its inverse (`sdscatrepr`).
//! Redis uses the same tokenizer for inline commands, so it sits in the RESP layer, below
//! the config code that also uses it.
//!
//! Both directions must match Redis byte for byte: the loader reports the exact same
//! "Unbalanced quotes" failures, and the rewrite writes string values in the quoted form
//! a real redis-sentinel reads back identically.

/// Splits one config line into arguments the way Redis does.
///
/// Double quotes allow `\n \r \t \b \a \\ \"` and `\xHH` escapes; single quotes only
/// `\'`. A closing quote must be followed by whitespace or the end of the line. Returns
/// `None` for unbalanced quotes (the caller turns that into "Unbalanced quotes in
/// configuration line").
pub fn split_args(line: &str) -> Option<Vec<String>> {
    split_args_bytes(line.as_bytes()).map(|v| {
        v.into_iter()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect()
    })
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Byte-level version of [`split_args`] (values may hold any byte after `\x` escapes).
pub fn split_args_bytes(p: &[u8]) -> Option<Vec<Vec<u8>>> {
    let at = |i: usize| -> u8 { p.get(i).copied().unwrap_or(0) };
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < p.len() && is_space(p[i]) {
            i += 1;
        }
        if i >= p.len() {
            return Some(out);
        }
        let (mut inq, mut insq) = (false, false);
        let mut cur = Vec::new();
        loop {
            let c = at(i);
            if inq {
                if c == b'\\'
                    && at(i + 1) == b'x'
                    && let (Some(h), Some(l)) = (hex_val(at(i + 2)), hex_val(at(i + 3)))
                {
                    cur.push(h * 16 + l);
                    i += 4;
                    continue;
                }
                if c == b'\\' && i + 1 < p.len() {
                    i += 1;
                    cur.push(match p[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < p.len() && !is_space(p[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else if i >= p.len() {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(i + 1) == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < p.len() && !is_space(p[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else if i >= p.len() {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    _ if i >= p.len() => break,
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    _ => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

/// Redis' `sdscatrepr`: the value in double quotes with C-style escapes, non-printable
/// bytes as `\xHH`. Used for string options and `sentinel announce-ip` in the rewrite,
/// and for command-line overrides turned into config lines.
pub fn repr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{:02x}", b)),
        }
    }
    out.push('"');
    out
}

/// A string value written bare like Redis does (`sentinel` lines, `bind`, `replicaof`),
/// unless that would not read back as the same single argument (empty, blanks, quotes,
/// control bytes): then it is quoted with [`repr`]. Redis writes those bare too and
/// produces a file it cannot load again; an odd master name or password is enough.
pub fn bare_or_repr(s: &str) -> String {
    let plain = |b: u8| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\'' || b >= 0x80;
    if !s.is_empty() && s.bytes().all(plain) {
        s.to_string()
    } else {
        repr(s)
    }
}

/// Trims the characters Redis strips from both ends of every config line.
pub fn trim_line(line: &str) -> &str {
    line.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}
