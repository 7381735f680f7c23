//! The `scale` benchmark (issue #14), fan-out part: 1,000 `PSUBSCRIBE *` subscribers on
//! each binary, one event at a time (`SENTINEL SET mymaster quorum N` publishes `+set` to
//! every subscriber), and the time each subscriber gets it. Both binaries run side by side
//! with their own subscribers; the rounds alternate which goes first.
//!
//! Two latencies per (event, subscriber): since the command was sent (what a watcher of the
//! events sees; includes the config write that redis-sentinel and rsentinel both do before
//! replying) and since the event's first delivery (the fan-out alone).
//! Run: `cargo test --release --test integration bench_scale_fanout -- --ignored --nocapture --test-threads 1`
//! Knobs: `BENCH_SUBSCRIBERS` (1000), `BENCH_EVENTS` (40 per round), `BENCH_ROUNDS` (5),
//! `BENCH_BASELINE=<binary>` to compare with another rsentinel build instead of redis-sentinel.

use crate::bench::env_or;
use crate::harness::*;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The `+set` event's channel as it appears in a `pmessage` frame.
const MARK: &[u8] = b"$4\r\n+set\r\n";

/// Arrival times of the `+set` events, per subscriber, in order.
type Arrivals = Arc<Mutex<Vec<Vec<Instant>>>>;

/// `n` subscribers of `port`, each a task that timestamps every `+set` it reads.
async fn subscribe_all(port: u16, n: usize) -> Arrivals {
    let arrivals: Arrivals = Arc::new(Mutex::new(vec![Vec::new(); n]));
    for i in 0..n {
        let mut s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect subscriber");
        s.set_nodelay(true).unwrap();
        s.write_all(b"PSUBSCRIBE *\r\n").await.unwrap();
        // The confirmation: *3 $10 psubscribe $1 * :1.
        let want = b"*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n".len();
        let mut got = vec![0u8; want];
        s.read_exact(&mut got)
            .await
            .expect("psubscribe confirmation");
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            // The tail of the previous read, so a mark split across reads is still seen.
            let mut carry: Vec<u8> = Vec::new();
            loop {
                let n = match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let now = Instant::now();
                carry.extend_from_slice(&buf[..n]);
                let hits = carry.windows(MARK.len()).filter(|w| *w == MARK).count();
                if hits > 0 {
                    let mut a = arrivals.lock().unwrap();
                    a[i].extend(std::iter::repeat_n(now, hits));
                }
                let keep = carry.len().min(MARK.len() - 1);
                carry.drain(..carry.len() - keep);
            }
        });
    }
    arrivals
}

/// Send `events` `+set` events through `port` one at a time (the next once every subscriber
/// got the last); (latencies since sent, latencies since first delivery), in ms.
async fn run_events(port: u16, arrivals: &Arrivals, events: usize) -> (Vec<f64>, Vec<f64>) {
    let mut admin = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    admin.set_nodelay(true).unwrap();
    let base = arrivals.lock().unwrap().iter().map(Vec::len).min().unwrap();
    let (mut since_sent, mut since_first) = (Vec::new(), Vec::new());
    let mut reply = [0u8; 5];
    for k in 0..events {
        let cmd = format!(
            "*5\r\n$8\r\nSENTINEL\r\n$3\r\nSET\r\n$8\r\nmymaster\r\n$6\r\nquorum\r\n$1\r\n{}\r\n",
            1 + k % 2
        );
        let sent = Instant::now();
        admin.write_all(cmd.as_bytes()).await.unwrap();
        admin.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"+OK\r\n", "SENTINEL SET on {port}");
        let deadline = sent + Duration::from_secs(10);
        let idx = base + k;
        loop {
            let done = arrivals.lock().unwrap().iter().all(|a| a.len() > idx);
            if done {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "event {k} not delivered to all in 10 s"
            );
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        let a = arrivals.lock().unwrap();
        let first = a.iter().map(|v| v[idx]).min().unwrap();
        for v in a.iter() {
            since_sent.push(ms(v[idx] - sent));
            since_first.push(ms(v[idx] - first));
        }
    }
    (since_sent, since_first)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[test]
#[ignore]
fn bench_scale_fanout() {
    require!("redis-server");
    require!("redis-sentinel");
    let subs = env_or("BENCH_SUBSCRIBERS", 1000) as usize;
    let events = env_or("BENCH_EVENTS", 40) as usize;
    let rounds = env_or("BENCH_ROUNDS", 5) as usize;
    crate::hostile::raise_nofile(2 * subs as u64 + 512);
    let master = redis_server(&[]);
    let body = format!("sentinel monitor mymaster 127.0.0.1 {} 2\n", master.port);
    let baseline = std::env::var("BENCH_BASELINE").unwrap_or("redis-sentinel".into());
    let rs = sentinel(Path::new(&baseline), &body);
    let ru = sentinel(&rsentinel_bin(), &body);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ports = [rs.port, ru.port];
    let subs_of = rt.block_on(async {
        [
            subscribe_all(ports[0], subs).await,
            subscribe_all(ports[1], subs).await,
        ]
    });
    println!(
        "scale/fan-out: {subs} PSUBSCRIBE * subscribers each, {events} events a round, {rounds} rounds, alternating; reference: {baseline}"
    );
    // [binary][metric: p50 sent, p99 sent, p50 first, p99 first] per round.
    let mut per_round = [Vec::new(), Vec::new()];
    let pids = [rs.child.id(), ru.child.id()];
    // Server CPU (clock ticks) over all rounds: less noisy than latency on a shared box.
    let mut ticks = [0u64; 2];
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let before = crate::bench::usage(pids[i]).0;
            let (mut sent, mut first) = rt.block_on(run_events(ports[i], &subs_of[i], events));
            ticks[i] += crate::bench::usage(pids[i]).0 - before;
            per_round[i].push([
                percentile(&mut sent, 0.5),
                percentile(&mut sent, 0.99),
                percentile(&mut first, 0.5),
                percentile(&mut first, 0.99),
            ]);
        }
    }
    let labels = [
        "p50 since sent",
        "p99 since sent",
        "p50 since first delivery",
        "p99 since first delivery",
    ];
    for (m, label) in labels.iter().enumerate() {
        let mut rs_v: Vec<f64> = per_round[0].iter().map(|r| r[m]).collect();
        let mut ru_v: Vec<f64> = per_round[1].iter().map(|r| r[m]).collect();
        let mut ratio: Vec<f64> = rs_v
            .iter()
            .zip(&ru_v)
            .map(|(a, b)| b / a.max(1e-3))
            .collect();
        let lo = ratio.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = ratio.iter().cloned().fold(0.0, f64::max);
        println!(
            "  {label:<26} redis-sentinel {:>7.3} ms rsentinel {:>7.3} ms | x{:.2} ({lo:.2}-{hi:.2})",
            percentile(&mut rs_v, 0.5),
            percentile(&mut ru_v, 0.5),
            percentile(&mut ratio, 0.5),
        );
    }
    // Clock ticks are 10 ms; per delivered message in µs.
    let per_msg = |t: u64| t as f64 * 10_000.0 / (rounds * events * subs) as f64;
    println!(
        "  server CPU per delivery     redis-sentinel {:>7.3} µs rsentinel {:>7.3} µs | x{:.2}",
        per_msg(ticks[0]),
        per_msg(ticks[1]),
        ticks[1] as f64 / ticks[0].max(1) as f64
    );
}
