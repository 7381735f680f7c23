//! The client request parser (RESP2/RESP3 multibulk and inline): never panics, and the
//! result does not depend on how the bytes are split (every split point for short
//! inputs, a few for long ones). The first byte picks authenticated or not.
#![no_main]
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rsentinel::resp::request::RequestParser;

/// Every request (or the error) parsed from `chunks` fed one after the other.
fn run(chunks: &[&[u8]], need_auth: bool) -> (Vec<Vec<bytes::Bytes>>, Option<String>) {
    let mut p = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for c in chunks {
        buf.extend_from_slice(c);
        loop {
            match p.next(&mut buf, need_auth) {
                Ok(Some(req)) => out.push(req),
                Ok(None) => break,
                Err(e) => return (out, Some(e.message())),
            }
        }
    }
    (out, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&flag, data)) = data.split_first() else {
        return;
    };
    let need_auth = flag & 1 == 1;
    let whole = run(&[data], need_auth);
    let splits: Vec<usize> = if data.len() <= 128 {
        (1..data.len()).collect()
    } else {
        (1..8).map(|k| data.len() * k / 8).collect()
    };
    for s in splits {
        let (a, b) = data.split_at(s);
        assert_eq!(run(&[a, b], need_auth), whole, "split at {s}");
    }
    // Byte by byte.
    if data.len() <= 64 {
        let bytes: Vec<&[u8]> = data.chunks(1).collect();
        assert_eq!(run(&bytes, need_auth), whole, "byte by byte");
    }
});
