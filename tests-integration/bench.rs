//! Benchmarks against real redis-sentinel, measured in the same run and reported as
//! ratios (the machines are shared and noisy, so these are not pass/fail tests).
//! Run: `cargo test --release --test integration bench_idle -- --ignored --nocapture --test-threads 1`
//! Knobs: `BENCH_MASTERS` (default 1000), `BENCH_SECONDS` (20).
//! The failover latency benchmark (issue #9) lives in bench_failover.rs.

use crate::harness::*;
use std::path::Path;
use std::time::{Duration, Instant};

pub(crate) fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// (utime + stime in clock ticks, RSS in KiB) of a process.
fn usage(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    let ticks = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (ticks, rss)
}

#[test]
#[ignore]
fn bench_idle_cost_at_many_masters() {
    require!("redis-server");
    require!("redis-sentinel");
    let n = env_or("BENCH_MASTERS", 1000);
    let secs = env_or("BENCH_SECONDS", 20);
    // Ten real servers, each monitored under n/10 names: every name has its own links,
    // exactly as if they were different masters.
    let servers: Vec<Proc> = (0..10)
        .map(|_| redis_server(&["--maxclients", "20000"]))
        .collect();
    let mut body = String::new();
    for i in 0..n {
        let port = servers[i as usize % servers.len()].port;
        body.push_str(&format!("sentinel monitor m{i} 127.0.0.1 {port} 2\n"));
    }
    let mut results = Vec::new();
    for (name, bin) in [
        ("redis-sentinel", Path::new("redis-sentinel").to_path_buf()),
        ("rsentinel", rsentinel_bin()),
    ] {
        let s = sentinel(&bin, &body);
        let mut c = Raw::connect(s.port);
        wait_until("all masters connected", Duration::from_secs(120), || {
            let info = String::from_utf8_lossy(&c.cmd(&["INFO", "sentinel"])).into_owned();
            info.contains(&format!("sentinel_masters:{n}\r\n"))
        });
        std::thread::sleep(Duration::from_secs(5)); // warm-up: links and first INFO rounds
        let pid = s.child.id();
        let (t0, _) = usage(pid);
        let start = Instant::now();
        std::thread::sleep(Duration::from_secs(secs));
        let (t1, rss) = usage(pid);
        let cpu_pct = (t1 - t0) as f64 / 100.0 / start.elapsed().as_secs_f64() * 100.0;
        println!(
            "{name:>15}: {n} masters, CPU {cpu_pct:.1}% of one core, RSS {} MiB",
            rss / 1024
        );
        results.push((cpu_pct, rss));
    }
    println!(
        "rsentinel / redis-sentinel: CPU x{:.2}, RSS x{:.2}",
        results[1].0 / results[0].0.max(0.01),
        results[1].1 as f64 / results[0].1.max(1) as f64
    );
}
