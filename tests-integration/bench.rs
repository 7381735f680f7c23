//! Benchmarks against real redis-sentinel, measured in the same run and reported as
//! ratios (the machines are shared and noisy, so these are not pass/fail tests).
//! Run: `cargo test --release --test integration bench -- --ignored --nocapture --test-threads 1`
//! Knobs: `BENCH_MASTERS` (default 1000), `BENCH_SERVERS` (100), `BENCH_SECONDS` (20).

use crate::harness::*;
use std::path::Path;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
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

/// Kill the master of a 3-sentinel cluster and time how long until the promoted replica
/// answers `role:master`, and until every sentinel names it.
fn failover_times(bin: &Path) -> (Duration, Duration) {
    let m = redis_server(&[]);
    let mp = m.port.to_string();
    let mut nodes = [
        m,
        redis_server(&["--replicaof", "127.0.0.1", &mp]),
        redis_server(&["--replicaof", "127.0.0.1", &mp]),
    ];
    let body = format!(
        "sentinel monitor mymaster 127.0.0.1 {mp} 2\nsentinel down-after-milliseconds mymaster 2000\nsentinel failover-timeout mymaster 10000\n"
    );
    let sentinels: Vec<Proc> = (0..3).map(|_| sentinel(bin, &body)).collect();
    for s in &sentinels {
        let mut c = Raw::connect(s.port);
        wait_until("discovery", Duration::from_secs(30), || {
            let m = parse_pairs(&c.cmd(&["SENTINEL", "MASTER", "mymaster"]));
            field(&m, "num-slaves") == "2" && field(&m, "num-other-sentinels") == "2"
        });
    }
    let old = nodes[0].port;
    let replicas = [nodes[1].port, nodes[2].port];
    let t0 = Instant::now();
    nodes[0].kill9();
    let mut promoted = None;
    wait_until("a replica promoted", Duration::from_secs(60), || {
        promoted = replicas
            .iter()
            .map(|p| (t0.elapsed(), *p))
            .find(|(_, p)| replication(*p).get("role").map(String::as_str) == Some("master"));
        promoted.is_some()
    });
    let (writable, new) = promoted.unwrap();
    wait_until("all sentinels switched", Duration::from_secs(60), || {
        sentinels
            .iter()
            .all(|s| master_port_of(s.port) == new && new != old)
    });
    (writable, t0.elapsed())
}

#[test]
#[ignore]
fn bench_failover_latency() {
    require!("redis-server");
    require!("redis-sentinel");
    let real = failover_times(Path::new("redis-sentinel"));
    let ours = failover_times(&rsentinel_bin());
    println!("down-after-milliseconds 2000; times from SIGKILL of the master:");
    println!(
        "  redis-sentinel: new master writable {:?}, all sentinels switched {:?}",
        real.0, real.1
    );
    println!(
        "  rsentinel:      new master writable {:?}, all sentinels switched {:?}",
        ours.0, ours.1
    );
    println!(
        "rsentinel / redis-sentinel: writable x{:.2}, switched x{:.2}",
        ours.0.as_secs_f64() / real.0.as_secs_f64(),
        ours.1.as_secs_f64() / real.1.as_secs_f64()
    );
}
