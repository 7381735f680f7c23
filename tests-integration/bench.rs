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
pub(crate) fn usage(pid: u32) -> (u64, u64) {
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
    // Two links a master on the sentinel's side (10,000 masters: 20,000 sockets).
    crate::hostile::raise_nofile(2 * n + 1024);
    // `BENCH_SERVERS` real servers (100), each monitored under n/servers names: every name
    // has its own links, as if they were different masters. Not quite: every hello
    // published to a server reaches the pub/sub links of all its names, so k names per
    // server cost k x the hello traffic of k real masters (10 servers for 1,000 masters made
    // hello fan-in, not monitoring, the cost measured). `hz 1` keeps 100 idle servers quiet.
    let nservers = env_or("BENCH_SERVERS", 100).clamp(1, n);
    let servers: Vec<Proc> = (0..nservers)
        .map(|_| redis_server(&["--maxclients", "20000", "--hz", "1"]))
        .collect();
    let mut body = String::new();
    for i in 0..n {
        let port = servers[i as usize % servers.len()].port;
        body.push_str(&format!("sentinel monitor m{i} 127.0.0.1 {port} 2\n"));
    }
    println!("idle: {n} masters on {nservers} redis-server processes, {secs} s each");
    let mut results = Vec::new();
    for (name, bin) in [
        ("redis-sentinel", Path::new("redis-sentinel").to_path_buf()),
        ("rsentinel", rsentinel_bin()),
    ] {
        let s = sentinel(&bin, &body);
        let mut c = Raw::connect(s.port);
        let connected = Instant::now();
        wait_until("all masters connected", Duration::from_secs(300), || {
            let info = String::from_utf8_lossy(&c.cmd(&["INFO", "sentinel"])).into_owned();
            info.contains(&format!("sentinel_masters:{n}\r\n"))
        });
        let connected = connected.elapsed();
        std::thread::sleep(Duration::from_secs(5)); // warm-up: links and first INFO rounds
        let pid = s.child.id();
        let (t0, _) = usage(pid);
        let start = Instant::now();
        std::thread::sleep(Duration::from_secs(secs));
        let (t1, rss) = usage(pid);
        // Two links a master when all are up (plus a few for listeners and logs).
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
        let cpu_pct = (t1 - t0) as f64 / 100.0 / start.elapsed().as_secs_f64() * 100.0;
        println!(
            "{name:>15}: {n} masters, CPU {cpu_pct:.1}% of one core, RSS {} MiB, {fds} fds (all masters loaded after {:.1} s)",
            rss / 1024,
            connected.as_secs_f64()
        );
        results.push((cpu_pct, rss));
    }
    println!(
        "rsentinel / redis-sentinel: CPU x{:.2}, RSS x{:.2}",
        results[1].0 / results[0].0.max(0.01),
        results[1].1 as f64 / results[0].1.max(1) as f64
    );
}

/// How many masters of `SENTINEL MASTERS` have a run id, i.e. got their first INFO reply.
fn masters_with_runid(port: u16) -> usize {
    // Not listening yet: no panic (and no panic message) from `Raw::connect`.
    if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        return 0;
    }
    let Ok(reply) = std::panic::catch_unwind(|| Raw::connect(port).cmd(&["SENTINEL", "MASTERS"]))
    else {
        return 0;
    };
    let text = String::from_utf8_lossy(&reply);
    let lines: Vec<&str> = text.split("\r\n").collect();
    lines
        .windows(3)
        .filter(|w| w[0] == "runid" && w[1] != "$0")
        .count()
}

/// Start-up (issue #14): spawn → every master's first INFO received (its run id known),
/// at 1, 100 and 1,000 masters (on ten real servers), both binaries alternating, medians.
/// Run: `cargo test --release --test integration bench_startup -- --ignored --nocapture --test-threads 1`
/// Knobs: `BENCH_ROUNDS` (5).
#[test]
#[ignore]
fn bench_startup() {
    require!("redis-server");
    require!("redis-sentinel");
    let rounds = env_or("BENCH_ROUNDS", 5) as usize;
    let servers: Vec<Proc> = (0..10)
        .map(|_| redis_server(&["--maxclients", "20000"]))
        .collect();
    for n in [1usize, 100, 1000] {
        let mut body = String::new();
        for i in 0..n {
            let port = servers[i % servers.len()].port;
            body.push_str(&format!("sentinel monitor m{i} 127.0.0.1 {port} 2\n"));
        }
        let mut ms: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..rounds {
            for (k, bin) in [Path::new("redis-sentinel").to_path_buf(), rsentinel_bin()]
                .iter()
                .enumerate()
            {
                // Spawned here, not with `sentinel()`: its settling sleep would hide the
                // milliseconds this measures. Polled every millisecond.
                let (port, dir) = (free_port(), tempdir("startup"));
                let conf = dir.join("sentinel.conf");
                std::fs::write(&conf, format!("port {port}\nbind 127.0.0.1\n{body}")).unwrap();
                let start = Instant::now();
                let mut child = std::process::Command::new(bin)
                    .arg(&conf)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("spawn sentinel");
                while masters_with_runid(port) < n {
                    assert!(
                        start.elapsed() < Duration::from_secs(120),
                        "{n} masters not connected"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
                ms[k].push(start.elapsed().as_secs_f64() * 1000.0);
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        };
        let (real, ours) = (median(&mut ms[0]), median(&mut ms[1]));
        println!(
            "{n:>5} masters: redis-sentinel {real:.0} ms, rsentinel {ours:.0} ms (x{:.2})",
            ours / real
        );
    }
}
