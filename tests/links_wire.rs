//! LinkManager against a scripted fake server: the exact bytes written (compared with
//! redis-sentinel's observed pipelines) and the memory bounds.

use crate::support::{bytes_args, next_link_event};
use rsentinel::core::Event;
use rsentinel::core::instance::{ConnKind, LinkId, ReqId};
use rsentinel::links::{LinkManager, LinkOptions};
use rsentinel::resp::Reply;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

async fn listener() -> (TcpListener, u16) {
    let base = 21000 + (std::process::id() % 9000) as u16;
    for p in base..base + 500 {
        if let Ok(l) = TcpListener::bind(("127.0.0.1", p)).await {
            return (l, p);
        }
    }
    panic!("no free port");
}

/// Read until `want` bytes arrived; returns them and how many reads it took.
async fn read_exact_counting(s: &mut tokio::net::TcpStream, want: usize) -> (Vec<u8>, usize) {
    let mut got = Vec::new();
    let mut reads = 0;
    while got.len() < want {
        let mut chunk = vec![0u8; 65536];
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0);
        reads += 1;
        got.extend_from_slice(&chunk[..n]);
    }
    (got, reads)
}

#[tokio::test]
async fn handshake_is_pipelined_in_one_write_with_the_observed_bytes() {
    let (l, port) = listener().await;
    let (links, mut events) = LinkManager::new(LinkOptions::default());
    links.connect(LinkId(1), ConnKind::PubSub, "127.0.0.1", port);
    let setname = bytes_args(&["CLIENT", "SETNAME", "sentinel-f9351bc3-pubsub"]);
    links.send(LinkId(1), ConnKind::PubSub, None, &setname);
    let subscribe = bytes_args(&["SUBSCRIBE", "__sentinel__:hello"]);
    links.send(LinkId(1), ConnKind::PubSub, None, &subscribe);
    let (mut s, _) = l.accept().await.unwrap();
    // golden/wire + SENTINEL.md §4.2: a fresh replica pub/sub link without auth.
    let expected: &[u8] = b"*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$24\r\nsentinel-f9351bc3-pubsub\r\n*2\r\n$9\r\nSUBSCRIBE\r\n$18\r\n__sentinel__:hello\r\n";
    let (got, reads) = read_exact_counting(&mut s, expected.len()).await;
    assert_eq!(got, expected);
    assert_eq!(reads, 1, "queued requests must leave in one write");
    assert!(matches!(
        next_link_event(&mut events).await,
        Event::Connected { .. }
    ));

    // Replies to SETNAME (+OK) and SUBSCRIBE (the confirmation) are dropped; a message
    // is delivered; a reply split across packets is reassembled.
    s.write_all(b"+OK\r\n*3\r\n$9\r\nsubscribe\r\n$18\r\n__sentinel__:hello\r\n:1\r\n")
        .await
        .unwrap();
    s.write_all(b"*3\r\n$7\r\nmessage\r\n$18\r\n__sentinel__:hello\r\n$5\r\nhe")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    s.write_all(b"llo\r\n").await.unwrap();
    match next_link_event(&mut events).await {
        Event::Message {
            channel, payload, ..
        } => {
            assert_eq!(channel.as_ref(), b"__sentinel__:hello");
            assert_eq!(payload.as_ref(), b"hello");
        }
        other => panic!("expected Message, got {other:?}"),
    }
}

#[tokio::test]
async fn command_connection_with_auth_matches_observed_bytes() {
    let (l, port) = listener().await;
    let (links, mut events) = LinkManager::new(LinkOptions::default());
    let link = LinkId(3);
    links.connect(link, ConnKind::Cmd, "127.0.0.1", port);
    links.send(
        link,
        ConnKind::Cmd,
        None,
        &bytes_args(&["AUTH", "masterpw"]),
    );
    let setname = bytes_args(&["CLIENT", "SETNAME", "sentinel-8d81fafb-cmd"]);
    links.send(link, ConnKind::Cmd, None, &setname);
    links.send(link, ConnKind::Cmd, Some(ReqId(10)), &bytes_args(&["PING"]));
    links.send(link, ConnKind::Cmd, Some(ReqId(11)), &bytes_args(&["INFO"]));
    let (mut s, _) = l.accept().await.unwrap();
    let expected: &[u8] = b"*2\r\n$4\r\nAUTH\r\n$8\r\nmasterpw\r\n*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$21\r\nsentinel-8d81fafb-cmd\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nINFO\r\n";
    let (got, _) = read_exact_counting(&mut s, expected.len()).await;
    assert_eq!(got, expected);
    assert!(matches!(
        next_link_event(&mut events).await,
        Event::Connected { .. }
    ));
    s.write_all(b"-ERR AUTH failed\r\n+OK\r\n+PONG\r\n$3\r\nabc\r\n")
        .await
        .unwrap();
    for (want_req, want_bytes) in [(10, &b"+PONG\r\n"[..]), (11, b"$3\r\nabc\r\n")] {
        match next_link_event(&mut events).await {
            Event::Reply { req, reply, .. } => {
                assert_eq!(req, ReqId(want_req));
                assert_eq!(reply.to_bytes(2).as_ref(), want_bytes);
            }
            other => panic!("expected Reply, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn oversized_reply_drops_the_connection() {
    let (l, port) = listener().await;
    let opts = LinkOptions {
        max_reply_bytes: 1024,
        ..LinkOptions::default()
    };
    let (links, mut events) = LinkManager::new(opts);
    links.connect(LinkId(1), ConnKind::Cmd, "127.0.0.1", port);
    links.send(
        LinkId(1),
        ConnKind::Cmd,
        Some(ReqId(1)),
        &bytes_args(&["INFO"]),
    );
    let (mut s, _) = l.accept().await.unwrap();
    assert!(matches!(
        next_link_event(&mut events).await,
        Event::Connected { .. }
    ));
    s.write_all(b"$1000000\r\n").await.unwrap();
    s.write_all(&vec![b'x'; 4096]).await.unwrap();
    match next_link_event(&mut events).await {
        Event::Disconnected { error, .. } => assert_eq!(error, "Reply too large"),
        other => panic!("expected Disconnected, got {other:?}"),
    }
}

/// Queue `n` PINGs on link 1's command connection, request ids 0..n.
fn queue_pings(links: &LinkManager, n: u64) {
    for i in 0..n {
        links.send(
            LinkId(1),
            ConnKind::Cmd,
            Some(ReqId(i)),
            &bytes_args(&["PING"]),
        );
    }
}

#[tokio::test]
async fn request_queue_overflow_drops_the_connection() {
    let (l, port) = listener().await;
    let opts = LinkOptions {
        max_queued_requests: 2,
        ..LinkOptions::default()
    };
    let (links, mut events) = LinkManager::new(opts);
    links.connect(LinkId(1), ConnKind::Cmd, "127.0.0.1", port);
    queue_pings(&links, 5);
    let (_s, _) = l.accept().await.unwrap();
    let mut saw_disconnect = false;
    for _ in 0..2 {
        if let Event::Disconnected { error, .. } = next_link_event(&mut events).await {
            assert_eq!(error, "Output buffer limit reached");
            saw_disconnect = true;
            break;
        }
    }
    assert!(saw_disconnect);
}

#[tokio::test]
async fn protocol_error_is_reported() {
    let (l, port) = listener().await;
    let (links, mut events) = LinkManager::new(LinkOptions::default());
    links.connect(LinkId(1), ConnKind::Cmd, "127.0.0.1", port);
    let (mut s, _) = l.accept().await.unwrap();
    assert!(matches!(
        next_link_event(&mut events).await,
        Event::Connected { .. }
    ));
    s.write_all(b"?garbage\r\n").await.unwrap();
    match next_link_event(&mut events).await {
        Event::Disconnected { error, .. } => {
            assert_eq!(error, "Protocol error, got \"?\" as reply type byte")
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
}

/// Replies are cut anywhere by TCP: several in one read, one over several reads (an
/// INFO larger than the scratch read), a reply split inside its length line. Each
/// request gets its own reply, in order, and junk after good replies is reported only
/// after those replies were delivered.
#[tokio::test]
async fn replies_split_and_joined_anywhere_reach_their_requests_in_order() {
    let (l, port) = listener().await;
    let (links, mut events) = LinkManager::new(LinkOptions::default());
    links.connect(LinkId(1), ConnKind::Cmd, "127.0.0.1", port);
    queue_pings(&links, 5);
    let (mut s, _) = l.accept().await.unwrap();
    assert!(matches!(
        next_link_event(&mut events).await,
        Event::Connected { .. }
    ));
    let big = "x".repeat(40 * 1024);
    let stream = format!(
        "+PONG\r\n:7\r\n${}\r\n{big}\r\n*2\r\n$1\r\na\r\n$-1\r\n*-1\r\n?junk\r\n",
        big.len()
    );
    // Two whole replies and the start of the big one, the rest of it in pieces, then a
    // cut inside the array's first element header.
    let cuts = [16, 9000, 30000, stream.len() - 30, stream.len() - 22];
    let mut at = 0;
    for cut in cuts.into_iter().chain([stream.len()]) {
        s.write_all(&stream.as_bytes()[at..cut]).await.unwrap();
        s.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        at = cut;
    }
    let want = [
        Reply::Status("PONG".into()),
        Reply::Int(7),
        Reply::Bulk(big.clone().into()),
        Reply::Array(vec![Reply::Bulk("a".into()), Reply::Null]),
        Reply::NullArray,
    ];
    for (i, want) in want.into_iter().enumerate() {
        match next_link_event(&mut events).await {
            Event::Reply { req, reply, .. } => {
                assert_eq!(req, ReqId(i as u64));
                assert_eq!(reply, want, "reply {i}");
            }
            other => panic!("reply {i}: expected a reply, got {other:?}"),
        }
    }
    match next_link_event(&mut events).await {
        Event::Disconnected { error, .. } => {
            assert_eq!(error, "Protocol error, got \"?\" as reply type byte")
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
}
