//! Byte-level helpers for outbound links: request encoding, reply decoding into
//! [`Reply`], and hiredis-style error texts.
//!
//! The sentinel only ever speaks RESP2 to the instances it monitors (it never sends
//! HELLO), so requests are plain multibulks and replies are decoded with the RESP2
//! decoder of `redis-protocol`.

use crate::resp::Reply;
use bytes::{BufMut, Bytes, BytesMut};
use redis_protocol::resp2::decode::decode_bytes_mut;
use redis_protocol::resp2::types::BytesFrame;

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
    // hiredis' wording for the most common failure, a reply that starts with junk.
    if let Some(&b) = buf.first()
        && !b"+-:$*".contains(&b)
    {
        let shown = std::ascii::escape_default(b).to_string();
        return Err(ProtocolError(format!(
            "Protocol error, got \"{shown}\" as reply type byte"
        )));
    }
    match decode_bytes_mut(buf) {
        Ok(None) => Ok(None),
        Ok(Some((frame, _, raw))) => {
            // RESP2 has two nulls; the decoder folds them together, the raw bytes don't.
            let top_null_array = raw.first() == Some(&b'*');
            Ok(Some(frame_to_reply(frame, top_null_array)))
        }
        Err(e) => Err(ProtocolError(format!("Protocol error: {}", e.details()))),
    }
}

fn frame_to_reply(frame: BytesFrame, null_is_array: bool) -> Reply {
    match frame {
        BytesFrame::SimpleString(b) => Reply::Status(String::from_utf8_lossy(&b).into_owned()),
        BytesFrame::Error(s) => Reply::Error(s.to_string()),
        BytesFrame::Integer(i) => Reply::Int(i),
        BytesFrame::BulkString(b) => Reply::Bulk(b),
        BytesFrame::Null if null_is_array => Reply::NullArray,
        BytesFrame::Null => Reply::Null,
        BytesFrame::Array(items) => Reply::Array(
            items
                .into_iter()
                .map(|f| frame_to_reply(f, false))
                .collect(),
        ),
    }
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
