//! Incremental request parser: RESP multibulk arrays and inline commands, with the limits
//! and the exact error texts of redis-server 7.0.15 (`processMultibulkBuffer` /
//! `processInlineBuffer`).
//!
//! The parser is fed whatever bytes arrived; it consumes complete requests from the front
//! of the buffer and keeps the state of a half-received multibulk between calls, so a
//! request split across any number of TCP segments parses the same as one in a single
//! segment. Every protocol error is fatal for the connection: the caller writes the error
//! reply and closes, as Redis does.
//!
//! Memory stays bounded even against hostile lengths: argument vectors and bulk buffers
//! are never preallocated from a client-provided length beyond a small cap, and a bulk is
//! only copied out once all of its bytes are in the buffer.

use bytes::{Buf, Bytes, BytesMut};

/// Longest inline request, and longest count line (`*N` / `$N`) without a CR.
pub const INLINE_MAX_SIZE: usize = 64 * 1024;
/// `proto-max-bulk-len` default.
pub const PROTO_MAX_BULK_LEN: i64 = 512 * 1024 * 1024;
/// Limits applied while the client still has to authenticate.
pub const UNAUTH_MAX_MULTIBULK: i64 = 10;
pub const UNAUTH_MAX_BULK: i64 = 16384;
/// Cap on what we reserve up front from a client-provided length.
const PREALLOC_CAP: usize = 1024;

/// A fatal protocol error; `message()` is the error reply text (without `-`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtoError {
    InvalidMultibulkLength,
    InvalidBulkLength,
    ExpectedDollar(u8),
    TooBigInline,
    TooBigMbulkCount,
    TooBigBulkCount,
    UnbalancedQuotes,
    UnauthenticatedMultibulk,
    UnauthenticatedBulk,
}

impl ProtoError {
    /// The reason Redis' `setProtocolError` logs (not the reply's wording).
    pub fn log_reason(&self) -> &'static str {
        match self {
            ProtoError::InvalidMultibulkLength => "invalid mbulk count",
            ProtoError::InvalidBulkLength => "invalid bulk length",
            ProtoError::ExpectedDollar(_) => "expected $ but got something else",
            ProtoError::TooBigInline => "too big inline request",
            ProtoError::TooBigMbulkCount => "too big mbulk count string",
            ProtoError::TooBigBulkCount => "too big bulk count string",
            ProtoError::UnbalancedQuotes => "unbalanced quotes in inline request",
            ProtoError::UnauthenticatedMultibulk => "unauth mbulk count",
            ProtoError::UnauthenticatedBulk => "unauth bulk length",
        }
    }

    /// `Query buffer during protocol error: ...` of Redis' log line, from the bytes
    /// not parsed yet: up to 127 of them whole, else the first and last 64 around a
    /// count; `%s` stops at a NUL and anything not printable shows as `.`.
    pub fn query_dump(rest: &[u8]) -> String {
        const DUMP: usize = 128;
        let cstr = super::until_nul;
        let mut text = b"Query buffer during protocol error: '".to_vec();
        if rest.len() < DUMP {
            text.extend(cstr(rest));
        } else {
            text.extend(cstr(&rest[..DUMP / 2]));
            text.extend(format!("' (... more {} bytes ...) '", rest.len() - DUMP).bytes());
            text.extend(cstr(&rest[rest.len() - DUMP / 2..]));
        }
        text.push(b'\'');
        text.iter()
            .map(|&c| {
                if (0x20..0x7f).contains(&c) {
                    c as char
                } else {
                    '.'
                }
            })
            .collect()
    }

    pub fn message(&self) -> String {
        let what = match self {
            ProtoError::InvalidMultibulkLength => "invalid multibulk length".to_string(),
            ProtoError::InvalidBulkLength => "invalid bulk length".to_string(),
            ProtoError::ExpectedDollar(c) => format!("expected '$', got '{}'", *c as char),
            ProtoError::TooBigInline => "too big inline request".to_string(),
            ProtoError::TooBigMbulkCount => "too big mbulk count string".to_string(),
            ProtoError::TooBigBulkCount => "too big bulk count string".to_string(),
            ProtoError::UnbalancedQuotes => "unbalanced quotes in request".to_string(),
            ProtoError::UnauthenticatedMultibulk => "unauthenticated multibulk length".to_string(),
            ProtoError::UnauthenticatedBulk => "unauthenticated bulk length".to_string(),
        };
        format!("ERR Protocol error: {what}")
    }

    /// The complete error reply as Redis writes it: the offending byte of
    /// `expected '$', got 'c'` raw (not UTF-8 encoded), and CR/LF turned into spaces
    /// (Redis' `addReplyErrorFormat` does that so the reply stays one protocol line).
    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = b"-".to_vec();
        match self {
            ProtoError::ExpectedDollar(c) => {
                let c = if matches!(c, b'\r' | b'\n') { b' ' } else { *c };
                out.extend_from_slice(b"ERR Protocol error: expected '$', got '");
                out.extend_from_slice(&[c, b'\'']);
            }
            other => out.extend_from_slice(other.message().as_bytes()),
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// A multibulk whose header has been read but not all of its bulks.
#[derive(Debug, Default)]
struct Partial {
    remaining: usize,
    /// Length of the bulk being received, once its `$N` line has been read.
    bulk_len: Option<usize>,
}

/// Parser state for one connection.
#[derive(Debug, Default)]
pub struct RequestParser {
    partial: Option<Partial>,
    /// The arguments of the multibulk being received. Handed out by swapping with the
    /// caller's (emptied) vector, so a connection's two vectors take turns and a request
    /// costs no allocation for its argument list.
    args: Vec<Bytes>,
}

impl RequestParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Take the next complete request from `buf`. `Ok(None)` means more bytes are needed.
    /// Empty requests (`*0`, `*-1`, blank inline lines) are skipped silently.
    /// `need_auth` applies the stricter limits for unauthenticated clients.
    pub fn next(
        &mut self,
        buf: &mut BytesMut,
        need_auth: bool,
    ) -> Result<Option<Vec<Bytes>>, ProtoError> {
        let mut args = Vec::new();
        Ok(self.next_into(buf, need_auth, &mut args)?.then_some(args))
    }

    /// [`Self::next`] into `out`, which must be empty: true when it holds a request.
    pub fn next_into(
        &mut self,
        buf: &mut BytesMut,
        need_auth: bool,
        out: &mut Vec<Bytes>,
    ) -> Result<bool, ProtoError> {
        debug_assert!(out.is_empty());
        loop {
            if self.partial.is_none() {
                if buf.is_empty() {
                    return Ok(false);
                }
                if buf[0] != b'*' {
                    match parse_inline(buf)? {
                        None => return Ok(false),
                        Some(args) if args.is_empty() => continue,
                        Some(args) => {
                            *out = args;
                            return Ok(true);
                        }
                    }
                }
                let Some((n, used)) = read_count_line(buf, ProtoError::TooBigMbulkCount)? else {
                    return Ok(false);
                };
                let n = n.ok_or(ProtoError::InvalidMultibulkLength)?;
                if n > i32::MAX as i64 {
                    return Err(ProtoError::InvalidMultibulkLength);
                }
                if n > UNAUTH_MAX_MULTIBULK && need_auth {
                    return Err(ProtoError::UnauthenticatedMultibulk);
                }
                buf.advance(used);
                if n <= 0 {
                    continue;
                }
                self.args.clear();
                self.args.reserve((n as usize).min(PREALLOC_CAP));
                self.partial = Some(Partial {
                    remaining: n as usize,
                    bulk_len: None,
                });
            }
            let p = self.partial.as_mut().expect("partial set");
            while p.remaining > 0 {
                let len = match p.bulk_len {
                    Some(l) => l,
                    None => {
                        if buf.is_empty() {
                            return Ok(false);
                        }
                        // Redis looks for the line's end before it checks the `$`.
                        let Some((l, used)) = read_count_line(buf, ProtoError::TooBigBulkCount)?
                        else {
                            return Ok(false);
                        };
                        if buf[0] != b'$' {
                            return Err(ProtoError::ExpectedDollar(buf[0]));
                        }
                        let l = match l {
                            Some(l) if (0..=PROTO_MAX_BULK_LEN).contains(&l) => l,
                            _ => return Err(ProtoError::InvalidBulkLength),
                        };
                        if l > UNAUTH_MAX_BULK && need_auth {
                            return Err(ProtoError::UnauthenticatedBulk);
                        }
                        buf.advance(used);
                        p.bulk_len = Some(l as usize);
                        l as usize
                    }
                };
                // Redis skips the two bytes after the payload without checking them.
                if buf.len() < len + 2 {
                    return Ok(false);
                }
                // One split for the payload and its two trailing bytes, which are then cut
                // off the argument (cheaper than a split and an advance).
                let mut arg = buf.split_to(len + 2);
                arg.truncate(len);
                self.args.push(arg.freeze());
                p.bulk_len = None;
                p.remaining -= 1;
            }
            self.partial = None;
            std::mem::swap(out, &mut self.args);
            return Ok(true);
        }
    }
}

/// Read a `*N` / `$N` line (first byte is the type). `Ok(None)`: incomplete;
/// `Ok(Some(None))`: not a valid integer. The line ends at the first CR, which must be
/// followed by one more byte (Redis requires the full CRLF to be buffered).
///
/// The line is left in `buf` (its length is returned with the value): the caller takes
/// it once the value is accepted, so after a protocol error the buffer still starts at
/// the offending line, as Redis' query buffer does for its log.
fn read_count_line(
    buf: &BytesMut,
    too_big: ProtoError,
) -> Result<Option<(Option<i64>, usize)>, ProtoError> {
    if let Some((value, used)) = short_count_line(buf) {
        return Ok(Some((Some(value), used)));
    }
    let Some(cr) = find_line_end(buf, too_big)? else {
        return Ok(None);
    };
    // An empty line (CR first) is no number; the caller's `$` check names it.
    let value = buf.get(1..cr).and_then(parse_i64_strict);
    Ok(Some((value, cr + 2)))
}

/// The common count line, read without searching: one to three digits (no leading
/// zero) then CR and one more byte, `*3\r\n` or `$23\r\n`. Returns the value and the
/// bytes the line takes; `None` for anything else, which the general path reads (the
/// first CR is the one found here, so both agree wherever this answers).
fn short_count_line(buf: &[u8]) -> Option<(i64, usize)> {
    let first = *buf.get(1)?;
    if !first.is_ascii_digit() {
        return None;
    }
    let mut value = i64::from(first - b'0');
    for k in 2..5 {
        match *buf.get(k)? {
            b'\r' if k + 2 <= buf.len() && (k == 2 || first != b'0') => {
                return Some((value, k + 2));
            }
            d if d.is_ascii_digit() && k < 4 => value = value * 10 + i64::from(d - b'0'),
            _ => return None,
        }
    }
    None
}

/// Position of the CR ending the count line at the front of `buf`, once the byte after
/// it is buffered too. A line longer than `INLINE_MAX_SIZE` is an error whether or not
/// its CR has arrived yet, so the outcome does not depend on how the bytes were split
/// into reads (Redis only notices when a read leaves no CR in the buffer).
fn find_line_end(buf: &BytesMut, too_big: ProtoError) -> Result<Option<usize>, ProtoError> {
    let limit = buf.len().min(INLINE_MAX_SIZE + 1);
    // strchr() as in Redis: a NUL byte before the CR hides it (the line never
    // completes until it grows past the limit), as for inline requests.
    let cr = buf[..limit]
        .iter()
        .position(|&b| b == b'\r' || b == 0)
        .filter(|&i| buf[i] == b'\r');
    match cr {
        Some(cr) if cr + 2 > buf.len() => Ok(None),
        Some(cr) => Ok(Some(cr)),
        None if buf.len() > INLINE_MAX_SIZE => Err(too_big),
        None => Ok(None),
    }
}

/// Redis' `string2ll`: optional `-`, digits, no leading zeros, no `+`, no spaces.
pub fn parse_i64_strict(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits[0] == b'0' || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i128 = 0;
    for d in digits {
        v = v * 10 + (d - b'0') as i128;
    }
    if neg {
        v = -v;
    }
    i64::try_from(v).ok()
}

/// One inline line, split with `sdssplitargs` rules. `Ok(Some(vec![]))` for blank lines.
fn parse_inline(buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtoError> {
    // Same split-independence rule as `find_line_end`. Redis looks for the newline with
    // strchr(): a NUL byte before it hides it, so such a line never completes (until it
    // grows past the inline limit).
    let limit = buf.len().min(INLINE_MAX_SIZE + 1);
    let nl = buf[..limit]
        .iter()
        .position(|&b| b == b'\n' || b == 0)
        .filter(|&i| buf[i] == b'\n');
    let Some(nl) = nl else {
        if buf.len() > INLINE_MAX_SIZE {
            return Err(ProtoError::TooBigInline);
        }
        return Ok(None);
    };
    let mut line = &buf[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    let args = split_args(line).ok_or(ProtoError::UnbalancedQuotes)?;
    buf.advance(nl + 1);
    Ok(Some(args.into_iter().map(Bytes::from).collect()))
}

/// `sdssplitargs`: whitespace-separated words; `"..."` with C escapes (`\n`, `\xHH`, ...),
/// `'...'` with only `\'`. A closing quote must be followed by whitespace or the end.
/// `None` on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // Inline commands use the same tokenizer as redis.conf lines (`sdssplitargs`).
    super::sds::split_args_bytes(line)
}
