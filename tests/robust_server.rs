//! The client server under hostile input, end to end on 127.0.0.1: many concurrent
//! connections sending seeded garbage (random bytes, mutated frames, huge claimed
//! lengths, half-sent requests). Afterwards the server still answers a fresh PING, every
//! connection is gone, and the process memory grew by a bounded amount.

use crate::support::resp::encode;
use crate::support::server::start;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rsentinel::config::ServerConfig;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Resident set size of this process in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Harmless commands the garbage is built from (nothing that pauses, kills or exits).
const COMMANDS: &[&[&str]] = &[
    &["PING"],
    &["PING", "hello"],
    &["SENTINEL", "MASTERS"],
    &["SENTINEL", "MASTER", "mymaster"],
    &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"],
    &["INFO"],
    &["ROLE"],
    &["HELLO", "3"],
    &["SUBSCRIBE", "x"],
    &["PSUBSCRIBE", "*"],
    &["NOSUCH", "a", "b"],
    &["CLIENT", "LIST"],
    &["COMMAND", "COUNT"],
];

fn garbage(rng: &mut StdRng) -> Vec<u8> {
    match rng.gen_range(0..6) {
        0 => (0..rng.gen_range(1..4096)).map(|_| rng.r#gen()).collect(),
        1 => {
            let mut v = Vec::new();
            for _ in 0..rng.gen_range(1..20) {
                v.extend(encode(COMMANDS.choose(rng).unwrap()));
            }
            for _ in 0..rng.gen_range(1..8) {
                let i = rng.gen_range(0..v.len());
                v[i] = rng.r#gen();
            }
            v
        }
        2 => {
            // A huge claimed bulk, then a little of it.
            let mut v = b"*1\r\n$536870912\r\n".to_vec();
            v.extend(vec![b'x'; rng.gen_range(0..200_000)]);
            v
        }
        3 => {
            let mut v = b"*2147483647\r\n".to_vec();
            for _ in 0..rng.gen_range(0..5000) {
                v.extend(b"$0\r\n\r\n");
            }
            v
        }
        4 => vec![b'a'; rng.gen_range(60_000..80_000)],
        _ => {
            let mut v = Vec::new();
            for _ in 0..rng.gen_range(1..50) {
                let c = COMMANDS.choose(rng).unwrap();
                v.extend(c.join(" ").into_bytes());
                v.extend(if rng.gen_bool(0.5) {
                    &b"\r\n"[..]
                } else {
                    b"\n"
                });
            }
            v
        }
    }
}

/// Sends the garbage in random chunks, reads whatever comes back for a short while,
/// then closes (or just drops mid-request).
async fn abuse(addr: SocketAddr, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return;
    };
    let data = garbage(&mut rng);
    let mut pos = 0;
    while pos < data.len() {
        let n = rng.gen_range(1..=(data.len() - pos).min(65536));
        if s.write_all(&data[pos..pos + n]).await.is_err() {
            break;
        }
        pos += n;
    }
    let mut buf = vec![0u8; 65536];
    let deadline = tokio::time::Instant::now() + Duration::from_millis(rng.gen_range(0..300));
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
        if n == 0 {
            break;
        }
    }
}

async fn ping(addr: SocketAddr) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"*1\r\n$4\r\nPING\r\n").await.unwrap();
    let mut buf = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("PING answered in time")
        .unwrap();
    buf[..n].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_many_connections() {
    let (server, addr) = start(ServerConfig::default()).await;
    assert_eq!(ping(addr).await, b"+PONG\r\n");
    let before = rss();
    for round in 0..4u64 {
        let tasks: Vec<_> = (0..60)
            .map(|i| tokio::spawn(abuse(addr, round * 1000 + i)))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(ping(addr).await, b"+PONG\r\n", "round {round}");
    }
    // Every abusive connection is eventually dropped by the server.
    let mut left = usize::MAX;
    for _ in 0..100 {
        left = server.clients.len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "connections left open");
    let grown = rss().saturating_sub(before);
    assert!(grown < 96 << 20, "RSS grew by {} MB", grown >> 20);
}

/// Request parsing is bounded by what was received, not by what was claimed: a client
/// announcing 512 MB and sending 1 MB costs about 1 MB while it is connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claimed_lengths_cost_nothing() {
    let (server, addr) = start(ServerConfig::default()).await;
    let before = rss();
    let mut conns = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"*2147483647\r\n$536870912\r\n").await.unwrap();
        s.write_all(&vec![b'y'; 1 << 20]).await.unwrap();
        conns.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let grown = rss().saturating_sub(before);
    assert!(grown < 128 << 20, "RSS grew by {} MB", grown >> 20);
    assert_eq!(ping(addr).await, b"+PONG\r\n");
    drop(conns);
    for _ in 0..100 {
        if server.clients.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(server.clients.len(), 0);
}
