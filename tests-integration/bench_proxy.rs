//! Benchmark of the built-in proxy (issue #11): `redis-benchmark -c 50` SET/GET at `-P 1`
//! and `-P 16` directly against redis-server, through the rsentinel proxy and through
//! HAProxy (TCP mode, the `role:master` check of HAProxy's Redis example), all in one run;
//! then one SIGKILL of the master with a writer through each proxy, reporting the time
//! from the kill to the first write each accepts. The machines are shared and noisy: this
//! is an instrument that prints ratios, not a pass/fail test.
//!
//! Fair by construction: the same 50 connections everywhere, HAProxy given as many
//! threads (`nbthread`) as the proxy has shards (one per core, at most four), rounds
//! interleaved with the order of the targets rotated each round, medians kept. Besides
//! throughput and p99 it prints the CPU time each target process spent per request
//! (`/proc/<pid>/stat`): on a shared box that figure moves much less than throughput, and
//! it is what a proxy takes away from Redis and its clients.
//!
//! Run: `cargo test --release --test integration bench_proxy -- --ignored --nocapture --test-threads 1`
//!
//! Knobs: `BENCH_ROUNDS` (default 5), `BENCH_REQUESTS` (default 200000 per test at
//! `-P 1`, five times that at `-P 16`), `BENCH_PROXY_BASELINE` (the path of another
//! rsentinel binary, e.g. a build of the previous commit: its proxy is measured too, as
//! `baseline proxy`, for a before/after from one run).

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
    /// CPU time of the target's process per request, in microseconds.
    cpu_us: f64,
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
                    cpu_us: 0.0,
                },
            ))
        })
        .collect()
}

/// CPU time (user + system, all threads) process `pid` has used so far, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the parenthesised command name; utime and stime are the 12th and
    // 13th of them.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (ticks(11) + ticks(12)) / hz
}

/// The proxy's shard count: one per core, at most four (as `rsentinel::proxy` does).
fn proxy_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
}

/// HAProxy in TCP mode in front of `servers`, routing to the one whose INFO says
/// `role:master`, with the check settings of HAProxy's own Redis example (every 1 s,
/// default rise 2 / fall 3), and as many threads as the rsentinel proxy has. Killed with
/// the returned handle.
fn haproxy(servers: &[u16]) -> Proc {
    let port = free_port();
    let dir = tempdir("haproxy");
    let mut cfg = format!(
        "global\n  maxconn 4096\n  nbthread {}\n\
         defaults\n  mode tcp\n  timeout connect 3s\n  timeout client 1h\n  timeout server 1h\n\
         frontend redis_front\n  bind 127.0.0.1:{port}\n  default_backend redis_master\n\
         backend redis_master\n  option tcp-check\n\
         \x20 tcp-check send PING\\r\\n\n  tcp-check expect string +PONG\n\
         \x20 tcp-check send info\\ replication\\r\\n\n  tcp-check expect string role:master\n\
         \x20 tcp-check send QUIT\\r\\n\n  tcp-check expect string +OK\n",
        proxy_threads()
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
    let rounds = env_or("BENCH_ROUNDS", 5);
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
    // Monitored under another name, so the two sentinels do not count each other (the
    // failover below must not need its vote); stopped before that failover.
    let baseline = std::env::var("BENCH_PROXY_BASELINE").ok().map(|bin| {
        let port = free_port();
        let p = sentinel(
            std::path::Path::new(&bin),
            &format!(
                "sentinel monitor basemaster 127.0.0.1 {} 1\n\
                 sentinel down-after-milliseconds basemaster 60000\n\
                 sentinel proxy basemaster {port}\n",
                master.port
            ),
        );
        (p, port)
    });
    let proxies: Vec<u16> = [proxy_port, ha.port]
        .into_iter()
        .chain(baseline.as_ref().map(|b| b.1))
        .collect();
    wait_until(
        "the proxies reach the master",
        Duration::from_secs(30),
        || {
            proxies.iter().all(|&p| {
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

    // (name, port, pid of the process whose CPU time is counted)
    let mut targets = vec![
        ("direct", master.port, master.child.id()),
        ("rsentinel proxy", proxy_port, s.child.id()),
        ("haproxy", ha.port, ha.child.id()),
    ];
    if let Some((b, port)) = &baseline {
        targets.push(("baseline proxy", *port, b.child.id()));
    }
    // (target, pipeline, test) -> samples
    let mut results: Vec<((usize, u32, String), Vec<Sample>)> = Vec::new();
    for round in 0..rounds {
        for pipeline in [1u32, 16] {
            let n = if pipeline == 1 { n1 } else { n1 * 5 };
            for k in 0..targets.len() {
                let ti = (round as usize + k) % targets.len();
                let (_, port, pid) = targets[ti];
                let cpu = cpu_seconds(pid);
                let samples = redis_benchmark(port, pipeline, n);
                // One figure for the SET and GET runs together.
                let per_req = (cpu_seconds(pid) - cpu) * 1e6 / (n as f64 * samples.len() as f64);
                for (test, mut sample) in samples {
                    sample.cpu_us = per_req;
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
            cpu_us: median(v.iter().map(|s| s.cpu_us).collect()),
        }
    };
    eprintln!(
        "\nredis-benchmark -c 50, medians of {rounds} rounds (haproxy nbthread {}; \
         cpu us/req: CPU time of the target's process per request, SET and GET together):",
        proxy_threads()
    );
    eprintln!(
        "{:<6} {:<4} {:<16} {:>12} {:>9} {:>11} {:>12} {:>12}",
        "test", "-P", "target", "req/s", "p99 ms", "x direct", "x haproxy", "cpu us/req"
    );
    for p in [1u32, 16] {
        for test in ["SET", "GET"] {
            let direct = med(0, p, test);
            let ha = med(2, p, test);
            for (ti, (name, _, _)) in targets.iter().enumerate() {
                let m = med(ti, p, test);
                eprintln!(
                    "{test:<6} {p:<4} {name:<16} {:>12.0} {:>9.3} {:>11.2} {:>12.2} {:>12.2}",
                    m.rps,
                    m.p99_ms,
                    m.rps / direct.rps,
                    m.rps / ha.rps,
                    m.cpu_us
                );
            }
        }
    }

    drop(baseline);
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
