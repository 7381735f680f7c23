//! Reply canonicalisation for the conformance tests: parse RESP, mask what differs
//! between two processes, and reorder what Redis emits in per-process dict order.

/// A parsed RESP2/RESP3 value.
#[derive(Debug, Clone)]
enum V {
    Line(u8, String),
    Bulk(u8, Option<Vec<u8>>),
    Agg(u8, Option<Vec<V>>),
}

fn parse(b: &[u8], pos: &mut usize) -> Option<V> {
    let end = b[*pos..].windows(2).position(|w| w == b"\r\n")? + *pos;
    let t = b[*pos];
    let body = String::from_utf8_lossy(&b[*pos + 1..end]).to_string();
    *pos = end + 2;
    let n = || body.parse::<i64>().unwrap_or(-1);
    Some(match t {
        b'$' | b'=' | b'!' => {
            if n() < 0 {
                V::Bulk(t, None)
            } else {
                let d = b[*pos..*pos + n() as usize].to_vec();
                *pos += n() as usize + 2;
                V::Bulk(t, Some(d))
            }
        }
        b'*' | b'~' | b'>' | b'%' => {
            if n() < 0 {
                V::Agg(t, None)
            } else {
                let k = if t == b'%' { n() * 2 } else { n() };
                let items = (0..k).map(|_| parse(b, pos)).collect::<Option<Vec<_>>>()?;
                V::Agg(t, Some(items))
            }
        }
        _ => V::Line(t, body),
    })
}

fn parse_all(b: &[u8]) -> Vec<V> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < b.len() {
        match parse(b, &mut pos) {
            Some(v) => out.push(v),
            None => break,
        }
    }
    out
}

/// Mask volatile text: 40-hex ids, then every run of digits.
pub fn mask(s: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let hex = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if hex == 40 {
            out.push_str("<ID>");
            i += 40;
        } else if chars[i].is_ascii_digit()
            || (chars[i] == '-' && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()))
        {
            i += 1;
            out.push('N');
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// INFO-style text reduced to section headers and field names.
fn info_names(text: &str) -> String {
    text.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(",")
}

/// CLIENT LIST / INFO text reduced to field names (plus the values that are stable).
fn client_fields(text: &str) -> String {
    let (prefix, text) = match text.strip_prefix("txt:") {
        Some(t) => ("txt:", t),
        None => ("", text),
    };
    const KEEP: [&str; 9] = [
        "db", "sub", "psub", "multi", "flags", "cmd", "user", "resp", "redir",
    ];
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| {
            // The caller's own line is deterministic apart from ids, times and `rbp`
            // (the read-buffer peak, which Redis' client cron resets on its own clock, so
            // a loaded machine sees other values).
            let me = l.contains(" cmd=client|");
            l.split(' ')
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    let volatile = ["id", "addr", "laddr", "fd", "age", "idle", "rbp"].contains(&k);
                    if KEEP.contains(&k) || (me && !volatile) {
                        format!("{k}={v}")
                    } else {
                        k.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    lines.sort();
    format!("{prefix}{}", lines.join("\n"))
}

/// ACL text with its single-command rules sorted in place.
fn acl_canon(s: &str) -> String {
    let mut toks: Vec<&str> = s.split(' ').collect();
    let single =
        |t: &str| (t.starts_with('+') || t.starts_with('-')) && !t.contains(['@', '(', ')']);
    let mut singles: Vec<&str> = toks.iter().copied().filter(|t| single(t)).collect();
    singles.sort();
    let mut it = singles.into_iter();
    for t in toks.iter_mut() {
        if single(t) {
            *t = it.next().unwrap();
        }
    }
    toks.join(" ")
}

/// How a command's reply is compared.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Masked,
    Exact,
    /// Exact, but top-level elements as a sorted multiset (dict iteration order).
    ExactUnordered,
    Info,
    Clients,
    /// Exact, except that single-command rules (`+cmd`, `-cmd|sub`), which Redis emits
    /// in per-process dict order, are sorted among themselves.
    Acl,
    /// Masked, top-level elements as a sorted multiset (replica/sentinel dicts).
    MaskedUnordered,
}

fn mode_for(cmd: &str) -> Mode {
    let u = cmd.to_ascii_uppercase();
    if u.starts_with("INFO") || u.starts_with("SENTINEL INFO-CACHE") {
        Mode::Info
    } else if u.starts_with("CLIENT LIST") || u.starts_with("CLIENT INFO") {
        Mode::Clients
    } else if u == "COMMAND"
        || u == "COMMAND LIST"
        || u.starts_with("COMMAND INFO")
        || u.starts_with("ACL CAT ")
    {
        Mode::ExactUnordered
    } else if u.starts_with("ACL LIST") || u.starts_with("ACL GETUSER") {
        Mode::Acl
    } else if u.starts_with("COMMAND") || u.starts_with("ACL CAT") {
        Mode::Exact
    } else if u.starts_with("SENTINEL SENTINELS")
        || u == "UNSUBSCRIBE"
        || u == "PUNSUBSCRIBE"
        || u.ends_with(" UNSUBSCRIBE")
        || u.ends_with(" PUNSUBSCRIBE")
        || u.starts_with("SENTINEL REPLICAS")
        || u.starts_with("SENTINEL SLAVES")
        || u.starts_with("SENTINEL MASTERS")
    {
        Mode::MaskedUnordered
    } else {
        Mode::Masked
    }
}

fn render(v: &V, mode: Mode, out: &mut String) {
    match v {
        V::Line(t, s) => {
            let s = if mode == Mode::Exact || *t == b'-' || *t == b'+' {
                s.clone()
            } else {
                mask(s)
            };
            out.push_str(&format!("{}{s}|", *t as char));
        }
        V::Bulk(t, None) => out.push_str(&format!("{}nil|", *t as char)),
        V::Bulk(t, Some(d)) => {
            let s = String::from_utf8_lossy(d);
            let s = match mode {
                Mode::Exact | Mode::ExactUnordered => s.to_string(),
                Mode::Acl => acl_canon(&s),
                Mode::Info if s.contains(':') => info_names(&s),
                Mode::Clients => client_fields(&s),
                _ => mask(&s),
            };
            out.push_str(&format!("{}{s}|", *t as char));
        }
        V::Agg(t, None) => out.push_str(&format!("{}nil|", *t as char)),
        V::Agg(t, Some(items)) => {
            out.push_str(&format!("{}{}[", *t as char, items.len()));
            for i in items {
                render(i, mode, out);
            }
            out.push(']');
        }
    }
}

/// COMMAND family rendering: exact bytes, but sub-command lists (a per-process random
/// dict order in Redis) and the top level sorted.
fn render_cmd(v: &V) -> String {
    let V::Agg(t, Some(items)) = v else {
        let mut s = String::new();
        render(v, Mode::Exact, &mut s);
        return s;
    };
    let is_info = |i: &V| matches!(i, V::Agg(b'*', Some(x)) if x.len() == 10);
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    let mut sorted = items.iter().all(is_info);
    while i < items.len() {
        let after_subs =
            i > 0 && matches!(&items[i - 1], V::Bulk(_, Some(d)) if d == b"subcommands");
        match (&items[i], after_subs) {
            (V::Agg(t2, Some(subs)), true) => {
                let mut pairs: Vec<String> = subs
                    .chunks(2)
                    .map(|c| c.iter().map(render_cmd).collect())
                    .collect();
                pairs.sort();
                parts.push(format!("{}{}[{}]", *t2 as char, subs.len(), pairs.concat()));
            }
            (x, _) => parts.push(render_cmd(x)),
        }
        i += 1;
    }
    if v_is_top_list(items) {
        sorted = true;
    }
    if sorted {
        parts.sort();
    }
    format!("{}{}[{}]", *t as char, items.len(), parts.concat())
}

/// COMMAND LIST: a flat list of names.
fn v_is_top_list(items: &[V]) -> bool {
    items.len() > 10 && items.iter().all(|i| matches!(i, V::Bulk(..)))
}

/// Canonical text of the replies of one command.
pub fn canon(cmd: &str, bytes: &[u8]) -> String {
    let mode = mode_for(cmd);
    let mut out = String::new();
    let all = parse_all(bytes);
    if cmd.to_ascii_uppercase().starts_with("COMMAND") {
        return all.iter().map(render_cmd).collect();
    }
    if mode == Mode::MaskedUnordered && all.len() > 1 {
        let mut parts: Vec<String> = all
            .iter()
            .map(|v| {
                let mut s = String::new();
                render(v, Mode::Masked, &mut s);
                s
            })
            .collect();
        parts.sort();
        return parts.join("");
    }
    for v in all {
        match (&v, mode) {
            (V::Agg(t, Some(items)), Mode::ExactUnordered | Mode::MaskedUnordered) => {
                let inner = if mode == Mode::ExactUnordered {
                    Mode::Exact
                } else {
                    Mode::Masked
                };
                let mut parts: Vec<String> = items
                    .iter()
                    .map(|i| {
                        let mut s = String::new();
                        render(i, inner, &mut s);
                        s
                    })
                    .collect();
                parts.sort();
                out.push_str(&format!(
                    "{}{}[{}]",
                    *t as char,
                    items.len(),
                    parts.join("")
                ));
            }
            _ => render(&v, mode, &mut out),
        }
    }
    out
}

pub fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut cur, mut quoted, mut any) = (String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' | '\'' => (quoted, any) = (!quoted, true),
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            _ => (cur.push(c), any = true).1,
        }
    }
    if any {
        out.push(cur);
    }
    out
}
