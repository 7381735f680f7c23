//! Byte-level helpers for outbound links: request encoding, reply decoding into
//! [`Reply`], and hiredis-style error texts.
//!
//! The sentinel only ever speaks RESP2 to the instances it monitors (it never sends
//! HELLO), so requests are plain multibulks and replies are decoded with the RESP2
//! decoder of `redis-protocol` (its range form: offsets into the bytes read).

use crate::resp::Reply;
use bytes::{BufMut, Bytes, BytesMut};
use redis_protocol::error::RedisProtocolError;
use redis_protocol::resp2::decode::decode_range;
use redis_protocol::resp2::types::RangeFrame;

/// Append `args` as a RESP2 multibulk (`*N\r\n$len\r\narg\r\n...`), the exact form
/// redis-sentinel writes.
pub fn encode_request(args: &[Bytes], out: &mut BytesMut) {
    let len: usize = args.iter().map(|a| a.len() + 16).sum();
    out.reserve(len + 16);
    put_line(out, b'*', args.len());
    for a in args {
        put_line(out, b'$', a.len());
        out.put_slice(a);
        out.put_slice(b"\r\n");
    }
}

fn put_line(out: &mut BytesMut, tag: u8, n: usize) {
    out.put_u8(tag);
    out.put_slice(n.to_string().as_bytes());
    out.put_slice(b"\r\n");
}

/// Why decoding the read buffer failed.
#[derive(Debug)]
pub struct ProtocolError(pub String);

/// Take one complete reply off the front of `buf`, if there is one.
pub fn decode_reply(buf: &mut BytesMut) -> Result<Option<Reply>, ProtocolError> {
    let Some(frame) = decode_frame(buf)? else {
        return Ok(None);
    };
    let raw = buf.split_to(frame.len).freeze();
    frame.reply(&raw, 0).map(Some)
}

/// Decode every complete reply at the front of `data` into `out`; the length they took.
/// Their strings are views into one copy of those bytes: the (shared) read buffer is free
/// again at once, for one allocation per read.
pub fn decode_replies(data: &[u8], out: &mut Vec<Reply>) -> Result<usize, ProtocolError> {
    let mut frames = Vec::new();
    let mut used = 0;
    let mut failed = None;
    loop {
        match decode_frame(&data[used..]) {
            Ok(Some(f)) => {
                let len = f.len;
                frames.push((used, f));
                used += len;
            }
            Ok(None) => break,
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    if !frames.is_empty() {
        let raw = Bytes::copy_from_slice(&data[..used]);
        for (at, f) in frames {
            out.push(f.reply(&raw, at)?);
        }
    }
    match failed {
        // The replies before the junk are delivered first; the caller meets it again.
        Some(e) if out.is_empty() => Err(e),
        _ => Ok(used),
    }
}

/// A complete reply located by the decoder: its offsets and its length.
struct Frame {
    range: RangeFrame,
    len: usize,
    /// RESP2 has two nulls; the decoder folds them together, the raw bytes don't.
    null_is_array: bool,
}

fn decode_frame(buf: &[u8]) -> Result<Option<Frame>, ProtocolError> {
    // hiredis' wording for the most common failure, a reply that starts with junk.
    if let Some(&b) = buf.first()
        && !b"+-:$*".contains(&b)
    {
        let shown = std::ascii::escape_default(b).to_string();
        return Err(ProtocolError(format!(
            "Protocol error, got \"{shown}\" as reply type byte"
        )));
    }
    Ok(decode_range(buf)
        .map_err(protocol)?
        .map(|(range, len)| Frame {
            range,
            len,
            null_is_array: buf.first() == Some(&b'*'),
        }))
}

fn protocol(e: RedisProtocolError) -> ProtocolError {
    ProtocolError(format!("Protocol error: {}", e.details()))
}

impl Frame {
    /// The reply, its strings sliced from `raw` where the frame starts at `at`.
    fn reply(self, raw: &Bytes, at: usize) -> Result<Reply, ProtocolError> {
        range_to_reply(raw, at, self.range, self.null_is_array).map_err(protocol)
    }
}

fn range_to_reply(
    raw: &Bytes,
    at: usize,
    frame: RangeFrame,
    null_is_array: bool,
) -> Result<Reply, RedisProtocolError> {
    let bytes = |(a, b): (usize, usize)| raw.slice(at + a..at + b);
    Ok(match frame {
        RangeFrame::SimpleString(r) => {
            Reply::Status(String::from_utf8_lossy(&bytes(r)).into_owned())
        }
        RangeFrame::Error(r) => Reply::Error(String::from_utf8(bytes(r).to_vec())?),
        RangeFrame::Integer(i) => Reply::Int(i),
        RangeFrame::BulkString(r) => Reply::Bulk(bytes(r)),
        RangeFrame::Null if null_is_array => Reply::NullArray,
        RangeFrame::Null => Reply::Null,
        RangeFrame::Array(items) => Reply::Array(
            items
                .into_iter()
                .map(|f| range_to_reply(raw, at, f, false))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// If `reply` is a pub/sub `message` frame, its channel and payload.
pub fn as_message(reply: &Reply) -> Option<(Bytes, Bytes)> {
    match reply {
        Reply::Array(items) if items.len() == 3 => match (&items[0], &items[1], &items[2]) {
            (Reply::Bulk(kind), Reply::Bulk(ch), Reply::Bulk(payload))
                if kind.eq_ignore_ascii_case(b"message") =>
            {
                Some((ch.clone(), payload.clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Subscription confirmations (`subscribe`, `unsubscribe`, ...) that answer a
/// (P)(UN)SUBSCRIBE request on a pub/sub connection.
pub fn is_subscription_ack(reply: &Reply) -> bool {
    match reply {
        Reply::Array(items) if items.len() == 3 => match &items[0] {
            Reply::Bulk(kind) => {
                let k = kind.to_ascii_lowercase();
                matches!(
                    k.as_slice(),
                    b"subscribe" | b"unsubscribe" | b"psubscribe" | b"punsubscribe"
                )
            }
            _ => false,
        },
        _ => false,
    }
}

/// The error text hiredis would report for an I/O error, which ends up in
/// `-cmd-link-reconnection` payloads: the bare `strerror` string, as the config loader
/// prints it too.
pub use crate::config::strerror as io_error_text;
