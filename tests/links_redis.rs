//! LinkManager against a real redis-server: connect, pipelined requests queued before
//! the connect, reply ordering, pub/sub messages, disconnection and reconnection.

use crate::support::{bytes_args, next_link_event};
use bytes::{Bytes, BytesMut};
use rsentinel::core::Event;
use rsentinel::core::instance::{ConnKind, LinkId, ReqId};
use rsentinel::links::wire::{decode_reply, encode_request};
use rsentinel::links::{LinkManager, LinkOptions};
use rsentinel::resp::Reply;
use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port below 32768 that is free right now (spread by pid so parallel runs differ).
fn free_port(salt: u16) -> u16 {
    let base = 20000 + ((std::process::id() as u16).wrapping_mul(7) % 9000) + salt * 97;
    (0..500)
        .map(|i| base + i)
        .find(|p| *p < 32768 && TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port")
}

fn start_server(salt: u16) -> Option<Server> {
    if !std::path::Path::new("/usr/bin/redis-server").exists() {
        println!("redis-server missing: skipping");
        return None;
    }
    let port = free_port(salt);
    let child = Command::new("/usr/bin/redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(server);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("redis-server did not start on {port}");
}

/// A blocking side client for setting things up and checking on the server.
fn call(port: u16, args: &[&str]) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let args: Vec<Bytes> = args
        .iter()
        .map(|a| Bytes::copy_from_slice(a.as_bytes()))
        .collect();
    let mut out = BytesMut::new();
    encode_request(&args, &mut out);
    s.write_all(&out).unwrap();
    let mut buf = BytesMut::new();
    loop {
        if let Some(r) = decode_reply(&mut buf).unwrap() {
            return r;
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "server closed");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Client id of the connection named `name`, from CLIENT LIST.
fn client_id(port: u16, name: &str) -> Option<String> {
    let Reply::Bulk(list) = call(port, &["CLIENT", "LIST"]) else {
        panic!("CLIENT LIST")
    };
    let list = String::from_utf8_lossy(&list).into_owned();
    list.lines()
        .find(|l| l.contains(&format!(" name={name} ")))
        .and_then(|l| l.split(' ').find_map(|f| f.strip_prefix("id=")))
        .map(str::to_string)
}

const L: LinkId = LinkId(7);

#[tokio::test]
async fn command_connection_orders_replies_and_reconnects() {
    let Some(server) = start_server(0) else {
        return;
    };
    let (links, mut events) = LinkManager::new(LinkOptions::default());
    links.connect(L, ConnKind::Cmd, "127.0.0.1", server.port);
    // Queued before the connection is up: must go out right after connect, in order.
    links.send(
        L,
        ConnKind::Cmd,
        None,
        &bytes_args(&["CLIENT", "SETNAME", "sentinel-t-cmd"]),
    );
    links.send(L, ConnKind::Cmd, Some(ReqId(1)), &bytes_args(&["PING"]));
    links.send(L, ConnKind::Cmd, Some(ReqId(2)), &bytes_args(&["INFO"]));
    links.send(
        L,
        ConnKind::Cmd,
        Some(ReqId(3)),
        &bytes_args(&["GET", "nokey"]),
    );
    links.send(
        L,
        ConnKind::Cmd,
        Some(ReqId(4)),
        &bytes_args(&["BLPOP", "nokey", "0.01"]),
    );
    links.send(
        L,
        ConnKind::Cmd,
        Some(ReqId(5)),
        &bytes_args(&["NOSUCHCMD"]),
    );

    match next_link_event(&mut events).await {
        Event::Connected {
            link,
            conn,
            local_ip,
        } => {
            assert_eq!((link, conn), (L, ConnKind::Cmd));
            assert_eq!(local_ip, "127.0.0.1");
        }
        other => panic!("expected Connected, got {other:?}"),
    }
    let mut replies = Vec::new();
    for _ in 0..5 {
        match next_link_event(&mut events).await {
            Event::Reply { link, req, reply } => {
                assert_eq!(link, L);
                replies.push((req, reply));
            }
            other => panic!("expected Reply, got {other:?}"),
        }
    }
    let reqs: Vec<u64> = replies.iter().map(|(r, _)| r.0).collect();
    assert_eq!(reqs, vec![1, 2, 3, 4, 5]);
    assert_eq!(replies[0].1.to_bytes(2).as_ref(), b"+PONG\r\n");
    match &replies[1].1 {
        Reply::Bulk(b) => assert!(String::from_utf8_lossy(b).contains("redis_version:")),
        other => panic!("INFO reply {other:?}"),
    }
    // Both RESP2 nulls survive decoding distinctly.
    assert_eq!(replies[2].1.to_bytes(2).as_ref(), b"$-1\r\n");
    assert_eq!(replies[3].1.to_bytes(2).as_ref(), b"*-1\r\n");
    match &replies[4].1 {
        Reply::Error(e) => assert!(e.starts_with("ERR unknown command 'NOSUCHCMD'"), "{e}"),
        other => panic!("error reply {other:?}"),
    }

    // The name set by the unanswered CLIENT SETNAME is visible server-side.
    let id = client_id(server.port, "sentinel-t-cmd").expect("named client");
    assert_eq!(
        call(server.port, &["CLIENT", "KILL", "ID", &id]),
        Reply::Int(1)
    );
    match next_link_event(&mut events).await {
        Event::Disconnected { link, conn, error } => {
            assert_eq!((link, conn), (L, ConnKind::Cmd));
            assert_eq!(error, "Server closed the connection");
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    assert!(!links.contains(L, ConnKind::Cmd));

    // A new Connect starts a fresh connection.
    links.connect(L, ConnKind::Cmd, "127.0.0.1", server.port);
    links.send(L, ConnKind::Cmd, Some(ReqId(9)), &bytes_args(&["PING"]));
    assert!(matches!(
        next_link_event(&mut events).await,
        Event::Connected { .. }
    ));
    match next_link_event(&mut events).await {
        Event::Reply { req, reply, .. } => {
            assert_eq!(req, ReqId(9));
            assert_eq!(reply, Reply::Status("PONG".into()));
        }
        other => panic!("expected Reply, got {other:?}"),
    }

    // An explicit Close reports nothing; closing again (or something unknown) is a no-op.
    links.close(L, ConnKind::Cmd);
    links.close(L, ConnKind::Cmd);
    links.close(LinkId(999), ConnKind::PubSub);
    assert!(links.is_empty());
    let quiet = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            let ev = events.recv().await.unwrap();
            if let Some(ev) = events.accept(ev) {
                return ev;
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "no event after Close: {quiet:?}");
}

#[tokio::test]
async fn pubsub_connection_delivers_messages_and_reports_server_stop() {
    let Some(mut server) = start_server(1) else {
        return;
    };
    let port = server.port;
    let (links, mut events) = LinkManager::new(LinkOptions::default());
    links.connect(L, ConnKind::PubSub, "localhost", port);
    links.send(
        L,
        ConnKind::PubSub,
        None,
        &bytes_args(&["CLIENT", "SETNAME", "sentinel-t-pubsub"]),
    );
    links.send(
        L,
        ConnKind::PubSub,
        None,
        &bytes_args(&["SUBSCRIBE", "__sentinel__:hello"]),
    );
    match next_link_event(&mut events).await {
        Event::Connected { conn, local_ip, .. } => {
            assert_eq!(conn, ConnKind::PubSub);
            assert!(local_ip.parse::<IpAddr>().unwrap().is_loopback());
        }
        other => panic!("expected Connected, got {other:?}"),
    }
    // Wait for the subscription to be live, then publish from another client.
    let deadline = Instant::now() + Duration::from_secs(5);
    while call(port, &["PUBSUB", "NUMSUB", "__sentinel__:hello"])
        != Reply::Array(vec![Reply::bulk("__sentinel__:hello"), Reply::Int(1)])
    {
        assert!(
            Instant::now() < deadline,
            "subscription never became active"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let hello = "127.0.0.1,26379,abc,0,mymaster,127.0.0.1,6379,0";
    assert_eq!(
        call(port, &["PUBLISH", "__sentinel__:hello", hello]),
        Reply::Int(1)
    );
    // The SETNAME and SUBSCRIBE confirmations were dropped: the next event is the message.
    match next_link_event(&mut events).await {
        Event::Message {
            link,
            channel,
            payload,
        } => {
            assert_eq!(link, L);
            assert_eq!(channel.as_ref(), b"__sentinel__:hello");
            assert_eq!(payload.as_ref(), hello.as_bytes());
        }
        other => panic!("expected Message, got {other:?}"),
    }

    let _ = server.child.kill();
    let _ = server.child.wait();
    match next_link_event(&mut events).await {
        Event::Disconnected { conn, error, .. } => {
            assert_eq!(conn, ConnKind::PubSub);
            assert!(!error.is_empty());
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    // Reconnecting while the server is down fails cleanly with the strerror text.
    links.connect(L, ConnKind::PubSub, "127.0.0.1", port);
    match next_link_event(&mut events).await {
        Event::Disconnected { error, .. } => assert_eq!(error, "Connection refused"),
        other => panic!("expected Disconnected, got {other:?}"),
    }
}

#[tokio::test]
async fn bind_source_addr_and_unresolvable_hosts() {
    let Some(server) = start_server(2) else {
        return;
    };
    let opts = LinkOptions {
        bind_source_addr: Some("127.0.0.1".parse().unwrap()),
        ..LinkOptions::default()
    };
    let (links, mut events) = LinkManager::new(opts);
    links.connect(LinkId(1), ConnKind::Cmd, "127.0.0.1", server.port);
    match next_link_event(&mut events).await {
        Event::Connected { local_ip, .. } => assert_eq!(local_ip, "127.0.0.1"),
        other => panic!("expected Connected, got {other:?}"),
    }
    links.connect(
        LinkId(2),
        ConnKind::Cmd,
        "no-such-host.invalid",
        server.port,
    );
    match next_link_event(&mut events).await {
        Event::Disconnected { link, error, .. } => {
            assert_eq!(link, LinkId(2));
            assert!(!error.is_empty() && !error.contains("os error"), "{error}");
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    // A Connect for an existing connection is ignored: no second Connected.
    links.connect(LinkId(1), ConnKind::Cmd, "127.0.0.1", server.port);
    links.send(
        LinkId(1),
        ConnKind::Cmd,
        Some(ReqId(1)),
        &bytes_args(&["PING"]),
    );
    match next_link_event(&mut events).await {
        Event::Reply { req, .. } => assert_eq!(req, ReqId(1)),
        other => panic!("expected Reply, got {other:?}"),
    }
}

#[tokio::test]
async fn stale_events_of_a_replaced_connection_are_filtered() {
    let Some(server) = start_server(3) else {
        return;
    };
    let (links, mut events) = LinkManager::new(LinkOptions::default());
    links.connect(L, ConnKind::Cmd, "127.0.0.1", server.port);
    // Let the first connection's Connected sit in the queue unaccepted...
    let first = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(first.event, Event::Connected { .. }));
    // ...while the core closes and reopens the connection.
    links.close(L, ConnKind::Cmd);
    links.connect(L, ConnKind::Cmd, "127.0.0.1", server.port);
    assert!(
        events.accept(first).is_none(),
        "stale event must be dropped"
    );
    assert!(matches!(
        next_link_event(&mut events).await,
        Event::Connected { .. }
    ));
}
