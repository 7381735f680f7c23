//! Replies read on the links to monitored instances and peers: decoding never panics,
//! and the replies decoded do not depend on how the bytes arrive, nor on whether they
//! are decoded one at a time or a whole read at once (the links' scratch-buffer path).
#![no_main]
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rsentinel::links::wire::{decode_replies, decode_reply};

fn run(chunks: &[&[u8]]) -> (Vec<String>, bool) {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for c in chunks {
        buf.extend_from_slice(c);
        loop {
            match decode_reply(&mut buf) {
                Ok(Some(r)) => out.push(format!("{r:?}")),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

fuzz_target!(|data: &[u8]| {
    let whole = run(&[data]);
    let mut batch = Vec::new();
    let _ = decode_replies(data, &mut batch);
    let batch: Vec<String> = batch.iter().map(|r| format!("{r:?}")).collect();
    assert_eq!(batch, whole.0, "a whole read at once");
    for k in 1..4 {
        let s = data.len() * k / 4;
        let (a, b) = data.split_at(s);
        let split = run(&[a, b]);
        // An error may surface earlier or later, but the replies before it agree.
        if !whole.1 && !split.1 {
            assert_eq!(split.0, whole.0, "split at {s}");
        }
    }
});
