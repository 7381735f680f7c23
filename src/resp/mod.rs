//! The client protocol: request parsing and reply encoding.
//!
//! Replies are built protocol-agnostic as [`Reply`] values and encoded for the
//! connection's protocol version at write time, because Redis renders the same logical
//! reply differently in RESP2 (flat arrays, `$-1`/`*-1`) and RESP3 (maps, `_`).

pub mod request;
pub mod sds;

use bytes::{BufMut, Bytes, BytesMut};
use std::borrow::Cow;

/// A logical reply. Maps become flat arrays in RESP2; `Null` is `$-1` and `NullArray`
/// is `*-1` in RESP2, both `_` in RESP3; `Push` is `>` in RESP3 and `*` in RESP2.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Status(String),
    /// Error text without the leading `-`, e.g. `ERR unknown command ...`.
    Error(String),
    Int(i64),
    Bulk(Bytes),
    Null,
    NullArray,
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Push(Vec<Reply>),
    /// A double as Redis' `addReplyDouble` writes it (`%.17g`): a bulk string in RESP2,
    /// `,` in RESP3.
    Double(f64),
    /// Plain text (`CLIENT INFO`/`CLIENT LIST`): a bulk string in RESP2, a `txt`
    /// verbatim string (`=N\r\ntxt:...`) in RESP3.
    Verbatim(String),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Status("OK".into())
    }
    pub fn err(text: impl Into<String>) -> Reply {
        Reply::Error(text.into())
    }
    pub fn bulk(s: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(s.as_ref()))
    }
    /// A map whose keys and values are all bulk strings: the shape of every instance
    /// description and of `SENTINEL DEBUG`.
    pub fn bulk_map<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Reply {
        Reply::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Reply::bulk(k), Reply::bulk(v)))
                .collect(),
        )
    }

    /// Append the wire form of this reply for protocol version `proto` (2 or 3).
    pub fn encode(&self, proto: u8, out: &mut BytesMut) {
        match self {
            Reply::Status(s) => line(out, b'+', one_line(s).as_bytes()),
            Reply::Error(s) => line(out, b'-', one_line(s).as_bytes()),
            Reply::Int(i) => num(out, b':', *i),
            Reply::Bulk(b) => put_bulk(out, b),
            Reply::Double(d) => {
                let text = format_g17(*d);
                if proto >= 3 {
                    line(out, b',', text.as_bytes());
                } else {
                    put_bulk(out, text.as_bytes());
                }
            }
            Reply::Verbatim(s) => {
                if proto >= 3 {
                    num(out, b'=', (s.len() + 4) as i64);
                    out.put_slice(b"txt:");
                } else {
                    num(out, b'$', s.len() as i64);
                }
                out.put_slice(s.as_bytes());
                out.put_slice(b"\r\n");
            }
            Reply::Null => out.put_slice(if proto >= 3 { b"_\r\n" } else { b"$-1\r\n" }),
            Reply::NullArray => out.put_slice(if proto >= 3 { b"_\r\n" } else { b"*-1\r\n" }),
            Reply::Array(items) => {
                put_array_len(out, items.len());
                items.iter().for_each(|r| r.encode(proto, out));
            }
            Reply::Set(items) => {
                let t = if proto >= 3 { b'~' } else { b'*' };
                num(out, t, items.len() as i64);
                items.iter().for_each(|r| r.encode(proto, out));
            }
            Reply::Push(items) => {
                let t = if proto >= 3 { b'>' } else { b'*' };
                num(out, t, items.len() as i64);
                items.iter().for_each(|r| r.encode(proto, out));
            }
            Reply::Map(pairs) => {
                if proto >= 3 {
                    num(out, b'%', pairs.len() as i64);
                } else {
                    num(out, b'*', (pairs.len() * 2) as i64);
                }
                for (k, v) in pairs {
                    k.encode(proto, out);
                    v.encode(proto, out);
                }
            }
        }
    }

    pub fn to_bytes(&self, proto: u8) -> BytesMut {
        let mut b = BytesMut::new();
        self.encode(proto, &mut b);
        b
    }
}

/// A byte string as C's `%s` prints it: up to its first NUL.
pub fn until_nul(b: &[u8]) -> &[u8] {
    b.split(|&c| c == 0).next().unwrap_or_default()
}

/// C's `%.17g`: 17 significant digits, trailing zeros dropped, exponent form below
/// 1e-4 or from 1e17 (`inf`, `-inf` and `nan` as glibc prints them).
pub fn format_g17(d: f64) -> String {
    const P: i32 = 17;
    if !d.is_finite() {
        return if d.is_nan() {
            "nan"
        } else if d > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // The exponent of the value rounded to 17 digits decides the style, as in C.
    let sci = format!("{:.*e}", (P - 1) as usize, d);
    let (mantissa, exp) = sci.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent");
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..P).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.abs())
    } else {
        trim(&format!("{:.*}", (P - 1 - exp) as usize, d))
    }
}

/// A text made safe for a one-line reply: CR and LF become spaces, as Redis'
/// `addReplyErrorFormat` does. An error echoing a client-sent argument would otherwise
/// end the line early and desynchronise the client. The one place this rule lives: the
/// encoder applies it to every status and error, and the command layer to the error
/// values it builds, so in-process callers see the same text as the wire.
pub fn one_line(s: &str) -> Cow<'_, str> {
    if s.contains(['\r', '\n']) {
        Cow::Owned(s.replace(['\r', '\n'], " "))
    } else {
        Cow::Borrowed(s)
    }
}

/// The wire form of a bulk string (the same in RESP2 and RESP3), for replies encoded in
/// place rather than built as a [`Reply`].
pub fn put_bulk(out: &mut BytesMut, b: &[u8]) {
    out.reserve(b.len() + 16);
    num(out, b'$', b.len() as i64);
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// The header of an array of `n` elements (the same in RESP2 and RESP3).
pub fn put_array_len(out: &mut BytesMut, n: usize) {
    num(out, b'*', n as i64);
}

/// A bulk string holding the decimal form of `n` (a port, a count), formatted on the
/// stack and appended in one copy.
pub fn put_bulk_u64(out: &mut BytesMut, n: u64) {
    // `$`, up to 2 length digits, CRLF, up to 20 digits, CRLF.
    let mut digits = [0u8; 20];
    let i = digits_before(&mut digits, 20, n);
    let digits = &digits[i..];
    let mut bulk = [0u8; 29];
    let len = digits.len();
    let mut at = 0;
    bulk[at] = b'$';
    at += 1;
    if len >= 10 {
        bulk[at] = b'0' + (len / 10) as u8;
        at += 1;
    }
    bulk[at] = b'0' + (len % 10) as u8;
    at += 1;
    bulk[at..at + 2].copy_from_slice(b"\r\n");
    at += 2;
    bulk[at..at + len].copy_from_slice(digits);
    at += len;
    bulk[at..at + 2].copy_from_slice(b"\r\n");
    at += 2;
    out.extend_from_slice(&bulk[..at]);
}

/// A protocol line whose body is a decimal number, formatted on the stack and appended
/// in one copy (lengths and counts are in every reply).
fn num(out: &mut BytesMut, tag: u8, n: i64) {
    // Tag, sign, up to 19 digits, CRLF (u64 arithmetic: i128 division is a library call).
    let mut line = [0u8; 24];
    let mut i = line.len() - 2;
    line[i..].copy_from_slice(b"\r\n");
    i = digits_before(&mut line, i, n.unsigned_abs());
    if n < 0 {
        i -= 1;
        line[i] = b'-';
    }
    i -= 1;
    line[i] = tag;
    out.extend_from_slice(&line[i..]);
}

/// Write the decimal digits of `v` into `buf` so that they end just before `end`; returns
/// where they start. `buf` has room for them (20 bytes before `end` hold any `u64`).
fn digits_before(buf: &mut [u8], end: usize, mut v: u64) -> usize {
    let mut i = end;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return i;
        }
    }
}

/// One protocol line (the body is already free of CR/LF: see [`one_line`]).
fn line(out: &mut BytesMut, tag: u8, body: &[u8]) {
    out.put_u8(tag);
    out.put_slice(body);
    out.put_slice(b"\r\n");
}
