//! The proxy's byte path in-process (issue #11), driven by hand-made routing views and
//! two fake servers: forwarding, the fence holding an open connection's bytes and
//! releasing them when the fence lifts without a switch (an aborted failover), closing
//! at a switch, and a new connection waiting through the fence.

use rsentinel::config::{LogLevel, ServerConfig};
use rsentinel::core::route::RouteView;
use rsentinel::log::Logger;
use rsentinel::proxy::{self, Proxy, Routes};
use rsentinel::state::{ProcessInfo, State};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

fn view(proxy_port: u16, master: u16, fenced: bool) -> Routes {
    Arc::new(vec![RouteView {
        name: "mymaster".into(),
        port: proxy_port,
        replicas_port: 0,
        master: ("127.0.0.1".into(), master),
        config_epoch: 0,
        fenced,
        replicas: Vec::new(),
        handover_from: None,
        auth_user: None,
        auth_pass: None,
    }])
}

/// A free port on 127.0.0.1 (bound, then released for the proxy to take).
async fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

/// Run the proxy supervisor on this test's runtime (one shard).
async fn start(rx: watch::Receiver<Routes>) {
    let (logger, _) = Logger::memory(LogLevel::Warning);
    let p = Proxy {
        routes: rx,
        state: State::new(ServerConfig::default(), ProcessInfo::default()),
        logger: Arc::new(logger),
        binds: vec!["127.0.0.1".into()],
    };
    let shards = Arc::new(vec![tokio::runtime::Handle::current()]);
    tokio::spawn(p.run(shards));
}

async fn connect(port: u16) -> TcpStream {
    for _ in 0..200 {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)).await {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("proxy port {port} never opened");
}

/// Read exactly `n` bytes within 5 s.
async fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut buf))
        .await
        .expect("timed out")
        .unwrap();
    buf
}

/// Nothing arrives on `s` for `ms` milliseconds.
async fn silent(s: &mut TcpStream, ms: u64) -> bool {
    let mut b = [0u8; 1];
    tokio::time::timeout(Duration::from_millis(ms), s.read(&mut b))
        .await
        .is_err()
}

#[tokio::test]
async fn fence_holds_bytes_releases_them_on_abort_and_a_switch_closes() {
    let old = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let new = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (old_port, new_port) = (
        old.local_addr().unwrap().port(),
        new.local_addr().unwrap().port(),
    );
    let port = free_port().await;
    let (tx, rx) = proxy::channel();
    tx.send_replace(view(port, old_port, false));
    start(rx).await;

    let mut client = connect(port).await;
    let (mut server, _) = old.accept().await.unwrap();
    client.write_all(b"ping").await.unwrap();
    assert_eq!(read_n(&mut server, 4).await, b"ping");
    server.write_all(b"pong").await.unwrap();
    assert_eq!(read_n(&mut client, 4).await, b"pong");

    // Fenced: the client's bytes stay in the proxy; replies still flow back.
    tx.send_replace(view(port, old_port, true));
    client.write_all(b"held").await.unwrap();
    assert!(silent(&mut server, 300).await, "a byte crossed the fence");
    server.write_all(b"late").await.unwrap();
    assert_eq!(read_n(&mut client, 4).await, b"late");

    // The failover aborts: the fence lifts without a switch, the held bytes go on.
    tx.send_replace(view(port, old_port, false));
    assert_eq!(read_n(&mut server, 4).await, b"held");

    // Fenced again, a new connection waits; the switch closes the old one and lands the
    // waiting one on the new master.
    tx.send_replace(view(port, old_port, true));
    let mut waiting = connect(port).await;
    waiting.write_all(b"wait").await.unwrap();
    client.write_all(b"lost").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    tx.send_replace(view(port, new_port, false));
    let (mut new_server, _) = tokio::time::timeout(Duration::from_secs(5), new.accept())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read_n(&mut new_server, 4).await, b"wait");
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), server.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "the old master got {rest:?}");
    let mut b = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(5), client.read(&mut b))
        .await
        .unwrap();
    assert!(
        matches!(closed, Ok(0) | Err(_)),
        "the old connection stays open"
    );
}

/// Back-pressure and half-close: 4 MB each way through a server that echoes, with a
/// client that starts reading late (so the sockets on both sides fill and the proxy's
/// writes go partial) and shuts its side down after writing; the echo of every byte
/// comes back in order, then the server's end reaches the client.
#[tokio::test]
async fn bulk_both_ways_with_half_close() {
    let srv = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let srv_port = srv.local_addr().unwrap().port();
    let port = free_port().await;
    let (tx, rx) = proxy::channel();
    tx.send_replace(view(port, srv_port, false));
    start(rx).await;
    tokio::spawn(async move {
        let (mut s, _) = srv.accept().await.unwrap();
        let (mut r, mut w) = s.split();
        tokio::io::copy(&mut r, &mut w).await.unwrap();
        w.shutdown().await.unwrap();
    });
    let data: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
    let client = connect(port).await;
    let (mut r, mut w) = client.into_split();
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        w.write_all(&sent).await.unwrap();
        w.shutdown().await.unwrap();
    });
    // Not reading for a while fills every socket on the way.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut back = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), r.read_to_end(&mut back))
        .await
        .expect("timed out")
        .unwrap();
    writer.await.unwrap();
    assert!(back == data, "the echo differs ({} bytes back)", back.len());
}
