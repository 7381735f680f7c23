//! The `scale` benchmark (issue #14), query part: `redis-benchmark -c 50` on the query
//! path of both binaries in one run, alternating, reported as ratios (rsentinel /
//! redis-sentinel) with the median and spread of the rounds. Also checks the replies
//! are byte-identical. The idle cost at many masters is `bench_idle` (bench.rs).
//! Run: `cargo test --release --test integration bench_scale_query -- --ignored --nocapture --test-threads 1`
//! Knobs: `BENCH_ROUNDS` (5), `BENCH_REQUESTS` (200000 per run).

use crate::bench::env_or;
use crate::harness::*;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// (requests per second, p99 ms) of one `redis-benchmark` run.
fn run_benchmark(port: u16, pipeline: u64, n: u64, cmd: &[&str]) -> (f64, f64) {
    let out = Command::new("redis-benchmark")
        .args(["-p", &port.to_string(), "-c", "50", "-q", "--csv"])
        .args(["-n", &n.to_string(), "-P", &pipeline.to_string()])
        .args(cmd)
        .output()
        .expect("run redis-benchmark");
    let text = String::from_utf8_lossy(&out.stdout);
    // "test","rps","avg_latency_ms","min","p50","p95","p99","max"
    let line = text.lines().last().unwrap_or_default();
    let f: Vec<f64> = line
        .split(',')
        .map(|v| v.trim_matches('"').parse().unwrap_or(f64::NAN))
        .collect();
    (f[1], f[6])
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The raw reply bytes to a fixed pipeline of queries (no QUIT in sentinel mode: read
/// until the replies stop coming).
fn raw_replies(port: u16) -> Vec<u8> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(
        b"PING\r\nSENTINEL GET-MASTER-ADDR-BY-NAME mymaster\r\nsentinel get-master-addr-by-name nope\r\n\
          SENTINEL GET-MASTER-ADDR-BY-NAME\r\nPING hello\r\nCLIENT REPLY SKIP\r\nPING\r\nPING\r\n",
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = s.read(&mut chunk) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
    }
    out
}

#[test]
#[ignore]
fn bench_scale_query() {
    require!("redis-server");
    require!("redis-sentinel");
    require!("redis-benchmark");
    let rounds = env_or("BENCH_ROUNDS", 5) as usize;
    let n = env_or("BENCH_REQUESTS", 200_000);
    let master = redis_server(&[]);
    let body = format!("sentinel monitor mymaster 127.0.0.1 {} 2\n", master.port);
    let rs = sentinel(Path::new("redis-sentinel"), &body);
    let ru = sentinel(&rsentinel_bin(), &body);
    for s in [&rs, &ru] {
        let mut c = Raw::connect(s.port);
        wait_until("master known", Duration::from_secs(10), || {
            c.cmd(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"])
                .starts_with(b"*2")
        });
    }
    assert_eq!(
        raw_replies(rs.port),
        raw_replies(ru.port),
        "replies differ from redis-sentinel's"
    );
    let cases: [(&str, &[&str]); 3] = [
        ("PING", &["PING"]),
        (
            "GET-MASTER-ADDR-BY-NAME",
            &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"],
        ),
        ("SENTINEL MASTERS", &["SENTINEL", "MASTERS"]),
    ];
    println!("scale/query: redis-benchmark -c 50, {n} requests, {rounds} rounds, alternating");
    for pipeline in [1, 16] {
        for (label, cmd) in cases {
            let (mut tput, mut p99) = (Vec::new(), Vec::new());
            let (mut rs_rps, mut ru_rps) = (Vec::new(), Vec::new());
            for round in 0..rounds {
                // Alternate who goes first: the machine's noise drifts.
                let order = if round % 2 == 0 {
                    [&rs, &ru]
                } else {
                    [&ru, &rs]
                };
                let mut r = [(0.0, 0.0); 2];
                for s in order {
                    let i = usize::from(s.port == ru.port);
                    r[i] = run_benchmark(s.port, pipeline, n, cmd);
                }
                rs_rps.push(r[0].0);
                ru_rps.push(r[1].0);
                tput.push(r[1].0 / r[0].0);
                p99.push(r[1].1 / r[0].1.max(0.001));
            }
            let spread = |v: &[f64]| {
                let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
                let hi = v.iter().cloned().fold(0.0, f64::max);
                format!("{lo:.2}-{hi:.2}")
            };
            let (t_lo_hi, p_lo_hi) = (spread(&tput), spread(&p99));
            println!(
                "  -P {pipeline:<2} {label:<24} rps redis-sentinel {:>9.0} rsentinel {:>9.0} | throughput x{:.2} ({t_lo_hi}) p99 x{:.2} ({p_lo_hi})",
                median(&mut rs_rps),
                median(&mut ru_rps),
                median(&mut tput),
                median(&mut p99),
            );
        }
    }
}
