//! Request parser: Redis 7.0.15 limits and protocol error texts (checked against the
//! real redis-sentinel), partial frames, inline splitting.

use bytes::BytesMut;
use rsentinel::resp::request::{ProtoError, RequestParser, split_args};

fn parse_all(input: &[u8], need_auth: bool) -> (Vec<Vec<String>>, Option<String>) {
    let mut p = RequestParser::new();
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    loop {
        match p.next(&mut buf, need_auth) {
            Ok(Some(args)) => out.push(
                args.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
            ),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e.message())),
        }
    }
}

fn err(input: &[u8]) -> String {
    parse_all(input, false).1.expect("an error")
}

#[test]
fn error_texts() {
    assert_eq!(
        err(b"*abc\r\n"),
        "ERR Protocol error: invalid multibulk length"
    );
    assert_eq!(
        err(b"*+1\r\n"),
        "ERR Protocol error: invalid multibulk length"
    );
    assert_eq!(
        err(b"*2147483648\r\n"),
        "ERR Protocol error: invalid multibulk length"
    );
    assert_eq!(
        err(b"*1\n$4\r\nPING\r\n"),
        "ERR Protocol error: invalid multibulk length"
    );
    assert_eq!(
        err(b"*1\r\n:4\r\n"),
        "ERR Protocol error: expected '$', got ':'"
    );
    assert_eq!(
        err(b"*1\r\n$4294967296\r\n"),
        "ERR Protocol error: invalid bulk length"
    );
    assert_eq!(
        err(b"*1\r\n$-1\r\n"),
        "ERR Protocol error: invalid bulk length"
    );
    assert_eq!(
        err(b"*1\r\n$536870913\r\n"),
        "ERR Protocol error: invalid bulk length"
    );
    assert_eq!(
        err(b"\"abc\r\n"),
        "ERR Protocol error: unbalanced quotes in request"
    );
    assert_eq!(
        err(b"PING \"a\"b\r\n"),
        "ERR Protocol error: unbalanced quotes in request"
    );
    assert_eq!(
        err(&vec![b'x'; 70_000]),
        "ERR Protocol error: too big inline request"
    );
    let mut big = b"*".to_vec();
    big.extend(vec![b'1'; 70_000]);
    assert_eq!(err(&big), "ERR Protocol error: too big mbulk count string");
    let mut big = b"*1\r\n$".to_vec();
    big.extend(vec![b'1'; 70_000]);
    assert_eq!(err(&big), "ERR Protocol error: too big bulk count string");
}

#[test]
fn limits_that_are_accepted() {
    // 512 MB exactly is allowed (the parser waits for the payload, allocating nothing).
    assert_eq!(parse_all(b"*1\r\n$536870912\r\n", false), (vec![], None));
    // No 1M cap on the element count in 7.0.15 (only INT_MAX).
    assert_eq!(parse_all(b"*1048577\r\n", false), (vec![], None));
}

#[test]
fn unauthenticated_limits() {
    assert_eq!(
        parse_all(b"*11\r\n", true).1.unwrap(),
        "ERR Protocol error: unauthenticated multibulk length"
    );
    assert_eq!(
        parse_all(b"*10\r\n$16385\r\n", true).1.unwrap(),
        "ERR Protocol error: unauthenticated bulk length"
    );
    assert_eq!(parse_all(b"*1\r\n$16384\r\n", true), (vec![], None));
    assert_eq!(parse_all(b"*11\r\n", false), (vec![], None));
}

#[test]
fn empty_and_negative_counts_are_skipped() {
    let (cmds, e) = parse_all(b"*-5\r\n*0\r\nPING\r\n\r\n\r\n*1\r\n$4\r\nPING\r\n", false);
    assert_eq!(e, None);
    assert_eq!(cmds, vec![vec!["PING"], vec!["PING"]]);
}

#[test]
fn bulk_terminator_is_not_checked() {
    // Redis skips the two bytes after a payload without looking at them.
    let (cmds, _) = parse_all(b"*1\r\n$4\r\nPINGx\r\nPING\r\n", false);
    assert_eq!(cmds, vec![vec!["PING"], vec!["PING"]]);
}

#[test]
fn partial_frames_byte_by_byte() {
    let input = b"*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\nPING x\r\n*1\r\n$4\r\nPING\r\n";
    let mut p = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for b in input.iter() {
        buf.extend_from_slice(&[*b]);
        while let Some(args) = p.next(&mut buf, false).unwrap() {
            got.push(args);
        }
    }
    assert_eq!(got.len(), 3);
    assert_eq!(got[0], vec!["SET", "foo", "bar"]);
    assert_eq!(got[1], vec!["PING", "x"]);
    assert_eq!(got[2], vec!["PING"]);
    assert!(buf.is_empty());
}

#[test]
fn inline_splitting() {
    assert_eq!(
        split_args(b"  PING   x  ").unwrap(),
        vec![b"PING".to_vec(), b"x".to_vec()]
    );
    assert_eq!(
        split_args(br#"a "b c\x41\n" 'd\'e'"#).unwrap(),
        vec![b"a".to_vec(), b"b cA\n".to_vec(), b"d'e".to_vec()]
    );
    assert!(split_args(b"'abc").is_none());
    assert_eq!(parse_all(b"PING\n", false).0, vec![vec!["PING"]]);
}

#[test]
fn binary_garbage_never_panics() {
    let mut seed = 12345u64;
    for _ in 0..2000 {
        let len = (seed % 64) as usize;
        let mut v = Vec::with_capacity(len);
        for _ in 0..len {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            v.push((seed >> 56) as u8);
        }
        let _ = parse_all(&v, seed.is_multiple_of(2));
    }
    assert_eq!(
        ProtoError::ExpectedDollar(b'x').message(),
        "ERR Protocol error: expected '$', got 'x'"
    );
}

/// Count lines of one to three digits are read without a search: leading zeros, a CR
/// without its next byte, longer counts and the bytes after the CR behave as on the
/// general path.
#[test]
fn short_count_lines_follow_the_general_rules() {
    let multibulk = "ERR Protocol error: invalid multibulk length";
    let bulk = "ERR Protocol error: invalid bulk length";
    assert_eq!(err(b"*01\r\n$1\r\na\r\n"), multibulk);
    assert_eq!(err(b"*00\r\n"), multibulk);
    assert_eq!(err(b"*1\r\n$01\r\na\r\n"), bulk);
    assert_eq!(err(b"*1\r\n$007\r\nabcdefg\r\n"), bulk);
    // `*0` is skipped; a `$0` bulk is an empty argument.
    assert_eq!(
        parse_all(b"*0\r\n*1\r\n$0\r\n\r\n", false).0,
        vec![vec![String::new()]]
    );
    // The byte after the CR is not checked, but it must have arrived.
    assert_eq!(
        parse_all(b"*1\rx$1\rxa\r\n", false).0,
        vec![vec!["a".to_string()]]
    );
    assert_eq!(parse_all(b"*1\r", false), (vec![], None));
    assert_eq!(parse_all(b"*1\r\n$3\r", false), (vec![], None));
    // Two, three and four digits.
    let ten: String = (0..10).map(|_| "$1\r\nx\r\n").collect();
    assert_eq!(
        parse_all(format!("*10\r\n{ten}").as_bytes(), false).0.len(),
        1
    );
    let long = "y".repeat(999);
    let r = parse_all(format!("*1\r\n$999\r\n{long}\r\n").as_bytes(), false).0;
    assert_eq!(r, vec![vec![long]]);
    let long = "z".repeat(1000);
    let r = parse_all(format!("*1\r\n$1000\r\n{long}\r\n").as_bytes(), false).0;
    assert_eq!(r, vec![vec![long]]);
    assert_eq!(parse_all(b"*1000\r\n", false), (vec![], None));
    assert_eq!(err(b"*1\r\n$-1\r\n"), bulk);
}

/// The query-buffer sample of Redis' protocol-error log line (`setProtocolError`).
#[test]
fn protocol_error_log_samples_the_buffer_like_redis() {
    use rsentinel::resp::request::ProtoError;
    assert_eq!(
        ProtoError::query_dump(b"$x\r\n"),
        "Query buffer during protocol error: '$x..'"
    );
    // `%s` stops at a NUL.
    assert_eq!(
        ProtoError::query_dump(b":a\x00b\r\n"),
        "Query buffer during protocol error: ':a'"
    );
    // 128 bytes or more: the first and last 64 around the count of the rest.
    let long = [b"$".as_slice(), &[b'9'; 300]].concat();
    let dump = ProtoError::query_dump(&long);
    let expect = format!(
        "Query buffer during protocol error: '${}' (... more 173 bytes ...) '{}'",
        "9".repeat(63),
        "9".repeat(64)
    );
    assert_eq!(dump, expect);
    assert_eq!(
        ProtoError::InvalidMultibulkLength.log_reason(),
        "invalid mbulk count"
    );
}
