//! Benchmark of the built-in proxy (issue #11): `redis-benchmark -c 50` SET/GET at `-P 1`
//! and `-P 16` directly against redis-server, through the rsentinel proxy and through
//! HAProxy (TCP mode, the `role:master` check of HAProxy's Redis example), all in one run;
//! then one SIGKILL of the master with a writer through each proxy, reporting the time
//! from the kill to the first write each accepts. The machines are shared and noisy: this
//! is an instrument that prints ratios, not a pass/fail test.
//!
//! Run: `cargo test --release --test integration bench_proxy -- --ignored --nocapture --test-threads 1`
//!
//! Knobs: `BENCH_ROUNDS` (default 3: every target is measured that many times, rounds
//! interleaved, the median kept), `BENCH_REQUESTS` (default 200000 per test at `-P 1`,
//! eight times that at `-P 16`).

use crate::bench::env_or;
use crate::harness::*;
use crate::proxy::Line;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One redis-benchmark result line.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    rps: f64,
    p99_ms: f64,
}

/// `redis-benchmark --csv` against `port`: (test name, sample) per test.
fn redis_benchmark(port: u16, pipeline: u32, requests: u64) -> Vec<(String, Sample)> {
    let out = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-c", "50"])
        .args(["-P", &pipeline.to_string(), "-n", &requests.to_string()])
        .args(["-t", "set,get", "--csv"])
        .stderr(Stdio::null())
        .output()
        .expect("redis-benchmark");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("\"test\""))
        .filter_map(|l| {
            let f: Vec<String> = l
                .split(',')
                .map(|v| v.trim_matches('"').to_string())
                .collect();
            Some((
                f.first()?.clone(),
                Sample {
                    rps: f.get(1)?.parse().ok()?,
                    p99_ms: f.get(6)?.parse().ok()?,
                },
            ))
        })
        .collect()
}

/// HAProxy in TCP mode in front of `servers`, routing to the one whose INFO says
/// `role:master`, with the check settings of HAProxy's own Redis example (every 1 s,
/// default rise 2 / fall 3). Killed with the returned handle.
fn haproxy(servers: &[u16]) -> Proc {
    let port = free_port();
    let dir = tempdir("haproxy");
    let mut cfg = format!(
        "global\n  maxconn 4096\n\
         defaults\n  mode tcp\n  timeout connect 3s\n  timeout client 1h\n  timeout server 1h\n\
         frontend redis_front\n  bind 127.0.0.1:{port}\n  default_backend redis_master\n\
         backend redis_master\n  option tcp-check\n\
         \x20 tcp-check send PING\\r\\n\n  tcp-check expect string +PONG\n\
         \x20 tcp-check send info\\ replication\\r\\n\n  tcp-check expect string role:master\n\
         \x20 tcp-check send QUIT\\r\\n\n  tcp-check expect string +OK\n"
    );
    for (i, p) in servers.iter().enumerate() {
        cfg.push_str(&format!("  server r{i} 127.0.0.1:{p} check inter 1s\n"));
    }
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, cfg).unwrap();
    let child = Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn haproxy");
    Proc {
        child,
        port,
        dir,
        name: "haproxy".into(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Writes `SET k n` through `port` in a loop, re-dialing on any error, and stamps the
/// first `+OK` of a request sent after the time put in `armed`.
fn first_write_after(
    port: u16,
    armed: Arc<Mutex<Option<Instant>>>,
    stop: Arc<AtomicBool>,
) -> Arc<Mutex<Option<Instant>>> {
    let first = Arc::new(Mutex::new(None));
    let sink = first.clone();
    std::thread::spawn(move || {
        let mut conn: Option<Line> = None;
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            if conn.is_none() {
                conn = Line::connect(port, Duration::from_secs(30)).ok();
            }
            let sent = Instant::now();
            let ok = match conn.as_mut() {
                Some(c) => {
                    n += 1;
                    c.simple(&["SET", "k", &n.to_string()]).ok().as_deref() == Some("+OK")
                }
                None => false,
            };
            if ok && armed.lock().unwrap().is_some_and(|t| sent > t) {
                sink.lock().unwrap().get_or_insert(Instant::now());
            }
            if !ok {
                conn = None;
                std::thread::sleep(Duration::from_millis(2));
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    });
    first
}

#[test]
#[ignore]
fn bench_proxy_throughput_and_kill_to_first_write() {
    require!("redis-server");
    require!("redis-benchmark");
    require!("haproxy");
    let rounds = env_or("BENCH_ROUNDS", 3);
    let n1 = env_or("BENCH_REQUESTS", 200_000);
    let mut master = redis_server(&[]);
    let replica = redis_server(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let proxy_port = free_port();
    let s = sentinel(
        &rsentinel_bin(),
        &format!(
            "sentinel monitor mymaster 127.0.0.1 {} 1\n\
             sentinel down-after-milliseconds mymaster 1000\n\
             sentinel failover-timeout mymaster 10000\n\
             sentinel proxy mymaster {proxy_port}\n",
            master.port
        ),
    );
    let ha = haproxy(&[master.port, replica.port]);
    wait_until(
        "both proxies reach the master",
        Duration::from_secs(30),
        || {
            [proxy_port, ha.port].iter().all(|&p| {
                Line::connect(p, Duration::from_secs(2))
                    .and_then(|mut l| l.simple(&["SET", "ready", "1"]))
                    .is_ok_and(|r| r == "+OK")
            })
        },
    );
    // Wait for the replica to be known healthy, so the failover below has a candidate.
    wait_until(
        "the sentinel knows the replica",
        Duration::from_secs(20),
        || {
            Line::connect(s.port, Duration::from_secs(2))
                .and_then(|mut l| l.bulk(&["INFO", "proxy"]))
                .ok()
                .flatten()
                .is_some_and(|t| t.contains("healthy_replicas=1"))
        },
    );

    let targets = [
        ("direct", master.port),
        ("rsentinel proxy", proxy_port),
        ("haproxy", ha.port),
    ];
    // (target, pipeline, test) -> samples
    let mut results: Vec<((usize, u32, String), Vec<Sample>)> = Vec::new();
    for _ in 0..rounds {
        for pipeline in [1u32, 16] {
            let n = if pipeline == 1 { n1 } else { n1 * 8 };
            for (ti, (_, port)) in targets.iter().enumerate() {
                for (test, sample) in redis_benchmark(*port, pipeline, n) {
                    let key = (ti, pipeline, test);
                    match results.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, v)) => v.push(sample),
                        None => results.push((key, vec![sample])),
                    }
                }
            }
        }
    }
    let med = |ti: usize, p: u32, test: &str| -> Sample {
        let v = results
            .iter()
            .find(|(k, _)| k.0 == ti && k.1 == p && k.2 == test)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        Sample {
            rps: median(v.iter().map(|s| s.rps).collect()),
            p99_ms: median(v.iter().map(|s| s.p99_ms).collect()),
        }
    };
    eprintln!("\nredis-benchmark -c 50, medians of {rounds} rounds:");
    eprintln!(
        "{:<6} {:<4} {:<16} {:>12} {:>9} {:>11} {:>12}",
        "test", "-P", "target", "req/s", "p99 ms", "x direct", "x haproxy"
    );
    for p in [1u32, 16] {
        for test in ["SET", "GET"] {
            let direct = med(0, p, test);
            let ha = med(2, p, test);
            for (ti, (name, _)) in targets.iter().enumerate() {
                let m = med(ti, p, test);
                eprintln!(
                    "{test:<6} {p:<4} {name:<16} {:>12.0} {:>9.3} {:>11.2} {:>12.2}",
                    m.rps,
                    m.p99_ms,
                    m.rps / direct.rps,
                    m.rps / ha.rps
                );
            }
        }
    }

    // One SIGKILL of the master, a writer through each proxy.
    let armed = Arc::new(Mutex::new(None));
    let stop = Arc::new(AtomicBool::new(false));
    let via_proxy = first_write_after(proxy_port, armed.clone(), stop.clone());
    let via_ha = first_write_after(ha.port, armed.clone(), stop.clone());
    std::thread::sleep(Duration::from_millis(200));
    // Reaped when kill9 returns: a write sent after this can only succeed elsewhere.
    master.kill9();
    let killed = Instant::now();
    *armed.lock().unwrap() = Some(killed);
    let mut ha = ha;
    wait_until(
        "writes through both proxies",
        Duration::from_secs(60),
        || via_proxy.lock().unwrap().is_some() && via_ha.lock().unwrap().is_some(),
    );
    stop.store(true, Ordering::Relaxed);
    let since = |t: &Arc<Mutex<Option<Instant>>>| t.lock().unwrap().unwrap().duration_since(killed);
    eprintln!(
        "\nkill -> first accepted write (down-after-milliseconds 1000; haproxy check inter 1s, \
         rise 2, fall 3):\n  rsentinel proxy {:?}\n  haproxy         {:?}",
        since(&via_proxy),
        since(&via_ha)
    );
    ha.kill9();
}
