//! Seeded fuzzing of the request parser: random bytes, mutated valid frames, random
//! splits and hostile lengths. The parser must never panic, must give the same result
//! however the input is split into reads, must only ever fail with one of Redis' protocol
//! error texts, and must never allocate in proportion to a client-claimed length.

use crate::support::resp::encode;
use crate::support::robust_seed;
use bytes::BytesMut;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rsentinel::resp::Reply;
use rsentinel::resp::request::{INLINE_MAX_SIZE, ProtoError, RequestParser};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Tracks the largest single allocation made by the current thread, so a test can
/// prove a claimed length of 512 MB reserved nothing of that size.
struct Tracking;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = LARGEST.try_with(|c| c.set(c.get().max(l.size())));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let _ = LARGEST.try_with(|c| c.set(c.get().max(new)));
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Tracking = Tracking;

/// Every text a request can fail with (the `expected '$'` one is checked by prefix).
const ERRORS: &[&str] = &[
    "ERR Protocol error: invalid multibulk length",
    "ERR Protocol error: invalid bulk length",
    "ERR Protocol error: too big inline request",
    "ERR Protocol error: too big mbulk count string",
    "ERR Protocol error: too big bulk count string",
    "ERR Protocol error: unbalanced quotes in request",
    "ERR Protocol error: unauthenticated multibulk length",
    "ERR Protocol error: unauthenticated bulk length",
];

/// What a connection sees: the requests parsed, then an error or "need more".
type Outcome = (Vec<Vec<Vec<u8>>>, Option<ProtoError>);

/// Feeds `input` in chunks ending at the given cut points, parsing after each chunk.
fn feed(input: &[u8], cuts: &[usize], need_auth: bool) -> Outcome {
    let mut p = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&input.len())) {
        buf.extend_from_slice(&input[start..end]);
        start = end;
        loop {
            match p.next(&mut buf, need_auth) {
                Ok(Some(args)) => out.push(args.iter().map(|a| a.to_vec()).collect()),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

fn check_error(e: &ProtoError) {
    let m = e.message();
    assert!(
        ERRORS.contains(&m.as_str()) || m.starts_with("ERR Protocol error: expected '$', got '"),
        "unexpected error text {m:?}"
    );
    let wire = e.to_wire();
    assert!(wire.starts_with(b"-ERR Protocol error: ") && wire.ends_with(b"\r\n"));
    assert!(
        !wire[..wire.len() - 2].contains(&b'\r') && !wire[..wire.len() - 2].contains(&b'\n'),
        "error reply must be one line: {wire:?}"
    );
}

/// All at once, byte by byte and at random cuts must agree.
fn check_split_invariance(rng: &mut StdRng, input: &[u8], need_auth: bool) {
    let whole = feed(input, &[], need_auth);
    if let Some(e) = &whole.1 {
        check_error(e);
    }
    let bytewise: Vec<usize> = (1..input.len()).collect();
    assert_eq!(
        feed(input, &bytewise, need_auth),
        whole,
        "byte by byte differs for {input:?}"
    );
    let mut cuts: Vec<usize> = (0..rng.gen_range(0..4))
        .map(|_| rng.gen_range(0..=input.len()))
        .collect();
    cuts.sort();
    assert_eq!(
        feed(input, &cuts, need_auth),
        whole,
        "split at {cuts:?} differs"
    );
}

const ALPHABET: &[u8] = b"*$:+-\r\n 0123456789\"'\\xabPINGping\t\x00\xff";

fn random_frame(rng: &mut StdRng) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..rng.gen_range(1..4) {
        if rng.gen_bool(0.6) {
            let args: Vec<Vec<u8>> = (0..rng.gen_range(0..4))
                .map(|_| {
                    (0..rng.gen_range(0..6))
                        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())])
                        .collect()
                })
                .collect();
            v.extend(encode(&args));
        } else {
            let words = [
                "PING",
                "\"a b\"",
                "'x\\'y'",
                "\"\\x41\\n\"",
                "sentinel",
                "masters",
            ];
            for _ in 0..rng.gen_range(0..4) {
                v.extend(words[rng.gen_range(0..words.len())].as_bytes());
                v.push(b' ');
            }
            v.extend(if rng.gen_bool(0.5) {
                &b"\r\n"[..]
            } else {
                b"\n"
            });
        }
    }
    v
}

fn mutate(rng: &mut StdRng, v: &mut Vec<u8>) {
    for _ in 0..rng.gen_range(1..4) {
        let pos = rng.gen_range(0..=v.len());
        match rng.gen_range(0..5) {
            0 if pos < v.len() => v[pos] = rng.r#gen(),
            1 if pos < v.len() => {
                v.remove(pos);
            }
            2 => v.insert(pos, ALPHABET[rng.gen_range(0..ALPHABET.len())]),
            3 => {
                let digits = ["-1", "0", "99999999999999999999", "2147483648", "536870913"];
                let d = digits[rng.gen_range(0..digits.len())];
                v.splice(pos..pos, d.bytes());
            }
            _ => v.truncate(pos),
        }
    }
}

#[test]
fn random_bytes_never_panic_and_split_invariant() {
    let mut rng = StdRng::seed_from_u64(robust_seed(1));
    for _ in 0..3000 {
        let len = rng.gen_range(0..40);
        let input: Vec<u8> = (0..len)
            .map(|_| {
                if rng.gen_bool(0.7) {
                    ALPHABET[rng.gen_range(0..ALPHABET.len())]
                } else {
                    rng.r#gen()
                }
            })
            .collect();
        let auth = rng.gen_bool(0.3);
        check_split_invariance(&mut rng, &input, auth);
    }
}

#[test]
fn valid_frames_parse_back_and_mutations_are_safe() {
    let mut rng = StdRng::seed_from_u64(robust_seed(2));
    for _ in 0..3000 {
        let args: Vec<Vec<u8>> = (0..rng.gen_range(1..5))
            .map(|_| (0..rng.gen_range(0..20)).map(|_| rng.r#gen()).collect())
            .collect();
        let frame = encode(&args);
        assert_eq!(feed(&frame, &[], false), (vec![args.clone()], None));
        let mut m = frame.clone();
        mutate(&mut rng, &mut m);
        check_split_invariance(&mut rng, &m, false);
        let mut f = random_frame(&mut rng);
        check_split_invariance(&mut rng, &f, false);
        mutate(&mut rng, &mut f);
        let auth = rng.gen_bool(0.2);
        check_split_invariance(&mut rng, &f, auth);
    }
}

/// Lines longer than the inline limit fail the same way whether the terminator is
/// already buffered or not (it used to depend on the read size).
#[test]
fn long_lines_fail_independently_of_reads() {
    for (prefix, err) in [
        (&b""[..], ProtoError::TooBigInline),
        (b"*", ProtoError::TooBigMbulkCount),
    ] {
        for extra in [0usize, 1, 2, 100] {
            let mut v = prefix.to_vec();
            v.resize(INLINE_MAX_SIZE + extra, b'1');
            v.extend(b"\r\n");
            let whole = feed(&v, &[], false);
            let cuts: Vec<usize> = (1..v.len()).step_by(4096).collect();
            assert_eq!(feed(&v, &cuts, false), whole, "extra {extra}");
            let too_long = if prefix.is_empty() {
                v.len() - 1 > INLINE_MAX_SIZE
            } else {
                v.len() - 2 > INLINE_MAX_SIZE
            };
            if too_long {
                assert_eq!(whole.1, Some(err), "extra {extra}");
            } else {
                assert_ne!(whole.1, Some(err), "extra {extra}");
            }
        }
    }
}

#[test]
fn huge_claimed_lengths_allocate_nothing_big() {
    let cases: &[&[u8]] = &[
        b"*2147483647\r\n",
        b"*2147483647\r\n$536870912\r\nabc",
        b"*1000000\r\n$1\r\na\r\n$1\r\nb\r\n",
        b"*1\r\n$536870912\r\n",
        b"*3\r\n$100000000\r\nxxxxxxxx",
    ];
    for input in cases {
        LARGEST.with(|c| c.set(0));
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&input[..]);
        assert_eq!(p.next(&mut buf, false), Ok(None));
        // Keep feeding small chunks of payload: still nothing proportional to the claim.
        for _ in 0..100 {
            buf.extend_from_slice(&[b'z'; 100]);
            let _ = p.next(&mut buf, false);
        }
        let largest = LARGEST.with(|c| c.get());
        assert!(largest < 256 * 1024, "{input:?} allocated {largest} bytes");
    }
}

#[test]
fn error_replies_are_single_lines_with_raw_bytes() {
    assert_eq!(
        ProtoError::ExpectedDollar(b'\r').to_wire(),
        b"-ERR Protocol error: expected '$', got ' '\r\n"
    );
    assert_eq!(
        ProtoError::ExpectedDollar(0x80).to_wire(),
        b"-ERR Protocol error: expected '$', got '\x80'\r\n"
    );
    // Any error reply that echoes client bytes stays one line.
    let r = Reply::err("ERR unknown command 'f\ro', with args beginning with: 'a\nb' ");
    assert_eq!(
        &r.to_bytes(2)[..],
        b"-ERR unknown command 'f o', with args beginning with: 'a b' \r\n"
    );
}

/// Redis prints the command name and arguments with `%s`: they stop at a NUL byte
/// (checked against redis-sentinel 7.0.15).
#[test]
fn unknown_command_text_stops_at_nul() {
    use bytes::Bytes;
    let args = [Bytes::from_static(b"f\0o"), Bytes::from_static(b"a\0b")];
    assert_eq!(
        rsentinel::commands::unknown_command(&args),
        "ERR unknown command 'f', with args beginning with: 'a' "
    );
}

/// Numbers are formatted on the stack: the extremes of an integer reply, and bulk
/// lengths of one and several digits, keep their exact wire form.
#[test]
fn numbers_encode_at_their_extremes() {
    for (n, want) in [
        (0i64, ":0\r\n".to_string()),
        (-1, ":-1\r\n".to_string()),
        (i64::MAX, format!(":{}\r\n", i64::MAX)),
        (i64::MIN, format!(":{}\r\n", i64::MIN)),
    ] {
        assert_eq!(&Reply::Int(n).to_bytes(2)[..], want.as_bytes());
    }
    for len in [0usize, 9, 10, 12345] {
        let body = "x".repeat(len);
        let want = format!("${len}\r\n{body}\r\n");
        assert_eq!(&Reply::bulk(&body).to_bytes(3)[..], want.as_bytes());
    }
    let mut out = bytes::BytesMut::new();
    for port in [0u64, 7, 6379, 65535, u64::MAX] {
        out.clear();
        rsentinel::resp::put_bulk_u64(&mut out, port);
        let text = port.to_string();
        assert_eq!(
            &out[..],
            format!("${}\r\n{text}\r\n", text.len()).as_bytes()
        );
    }
}
