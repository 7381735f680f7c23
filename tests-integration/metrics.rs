//! `sentinel metrics-port` (issue #12) with real processes: `/metrics` checked by
//! promtool and against what redis_exporter derives from SENTINEL MASTERS / SLAVES /
//! SENTINELS / CKQUORUM and INFO for the same state, `/health` flipping on SDOWN and
//! TILT, `/masters` against SENTINEL MASTERS, the counters after a real failover.

use crate::harness::*;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// `method path` over HTTP/1.1 on 127.0.0.1:`port`: (status, body).
pub fn http(port: u16, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to metrics port");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

fn get(port: u16, path: &str) -> (u16, String) {
    http(port, "GET", path)
}

/// Sample values of a scrape by series (`name{labels}` exactly as printed).
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, v) = l.rsplit_once(' ')?;
            Some((series.to_string(), v.parse().ok()?))
        })
        .collect()
}

/// `promtool check metrics` on `text`, when promtool is installed. Its lint also flags
/// the `_milliseconds` unit of redis_exporter's own
/// `redis_sentinel_master_setting_down_after_milliseconds`, kept for compatibility; any
/// other complaint (or a parse error) fails.
fn promtool_check(text: &str) {
    if !have("promtool") {
        eprintln!(
            "SKIPPED promtool check: `promtool` is not installed (apt-get install prometheus)"
        );
        return;
    }
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let problems: Vec<&str> = report
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| {
            !l.starts_with("redis_sentinel_master_setting_down_after_milliseconds use base unit")
        })
        .collect();
    assert!(
        problems.is_empty() && matches!(out.status.code(), Some(0) | Some(3)),
        "promtool check metrics: {:?}: {report}",
        out.status
    );
}

fn field_of(reply: &[u8], key: &str) -> String {
    field(&parse_pairs(reply), key)
}

fn metrics_conf(master: u16, mport: u16, quorum: u32, down_after: u32) -> String {
    format!(
        "sentinel metrics-port {mport}\nsentinel monitor mymaster 127.0.0.1 {master} {quorum}\nsentinel down-after-milliseconds mymaster {down_after}\nsentinel failover-timeout mymaster 10000\n"
    )
}

#[test]
fn metrics_match_what_redis_exporter_derives_and_pass_promtool() {
    require!("redis-server");
    let master = redis_server(&[]);
    let mp = master.port.to_string();
    let _replica = redis_server(&["--replicaof", "127.0.0.1", &mp]);
    let bin = rsentinel_bin();
    let mport = free_port();
    let s1 = sentinel(&bin, &metrics_conf(master.port, mport, 2, 5000));
    let s2 = sentinel(&bin, &metrics_conf(master.port, free_port(), 2, 5000));
    let mut c = Raw::connect(s1.port);
    wait_until(
        "discovery of the replica and the peer, links up",
        Duration::from_secs(30),
        || {
            let r = c.cmd(&["SENTINEL", "MASTER", "mymaster"]);
            let linked = |c: &mut Raw, cmd: &str| {
                let l = parse_instances(&c.cmd(&["SENTINEL", cmd, "mymaster"]));
                l.len() == 1 && !field(&l[0], "flags").contains("disconnected")
            };
            field_of(&r, "num-slaves") == "1"
                && field_of(&r, "num-other-sentinels") == "1"
                && linked(&mut c, "SLAVES")
                && linked(&mut c, "SENTINELS")
        },
    );
    let _ = &s2;
    // What redis_exporter computes for a sentinel, from the RESP replies.
    let m = parse_pairs(&c.cmd(&["SENTINEL", "MASTER", "mymaster"]));
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "sentinel"])).into_owned();
    let ck = String::from_utf8_lossy(&c.cmd(&["SENTINEL", "CKQUORUM", "mymaster"])).into_owned();
    let slaves = parse_instances(&c.cmd(&["SENTINEL", "SLAVES", "mymaster"]));
    let peers = parse_instances(&c.cmd(&["SENTINEL", "SENTINELS", "mymaster"]));
    let (code, text) = get(mport, "/metrics");
    assert_eq!(code, 200);
    promtool_check(&text);
    let got = samples(&text);

    let info_fields: HashMap<&str, &str> = info
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .collect();
    for k in [
        "sentinel_masters",
        "sentinel_tilt",
        "sentinel_running_scripts",
        "sentinel_scripts_queue_length",
        "sentinel_simulate_failure_flags",
    ] {
        let want: f64 = info_fields[k].parse().unwrap();
        assert_eq!(got.get(&format!("redis_{k}")), Some(&want), "{k}");
    }
    // master0:name=...,status=...,address=...,slaves=...,sentinels=...
    let line: HashMap<&str, &str> = info_fields["master0"]
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let addr = format!("{}:{}", field(&m, "ip"), field(&m, "port"));
    assert_eq!(line["address"], addr);
    let ml = format!("master_name=\"mymaster\",master_address=\"{addr}\"");
    let want = |series: &str, v: f64| {
        assert_eq!(got.get(series), Some(&v), "{series} in\n{text}");
    };
    want(
        &format!(
            "redis_sentinel_master_status{{{ml},master_status=\"{}\"}}",
            line["status"]
        ),
        if line["status"] == "ok" { 1.0 } else { 0.0 },
    );
    want(
        &format!("redis_sentinel_master_slaves{{{ml}}}"),
        line["slaves"].parse().unwrap(),
    );
    want(
        &format!("redis_sentinel_master_sentinels{{{ml}}}"),
        line["sentinels"].parse().unwrap(),
    );
    let not_down = |f: &str| !f.contains("s_down") && !f.contains("o_down");
    let ok_slaves = slaves
        .iter()
        .filter(|s| not_down(&field(s, "flags")))
        .count();
    let ok_sentinels = 1 + peers
        .iter()
        .filter(|s| not_down(&field(s, "flags")))
        .count();
    want(
        &format!("redis_sentinel_master_ok_slaves{{{ml}}}"),
        ok_slaves as f64,
    );
    want(
        &format!("redis_sentinel_master_ok_sentinels{{{ml}}}"),
        ok_sentinels as f64,
    );
    // CKQUORUM's reply text (status without the `+`) is the label.
    let ck_msg = ck.trim_start_matches('+').trim_end();
    want(
        &format!(
            "redis_sentinel_master_ckquorum_status{{master_name=\"mymaster\",message=\"{ck_msg}\"}}"
        ),
        1.0,
    );
    for (metric, key) in [
        ("setting_ckquorum", "quorum"),
        ("setting_failover_timeout", "failover-timeout"),
        ("setting_parallel_syncs", "parallel-syncs"),
        ("setting_down_after_milliseconds", "down-after-milliseconds"),
        ("config_epoch", "config-epoch"),
    ] {
        want(
            &format!("redis_sentinel_master_{metric}{{{ml}}}"),
            field(&m, key).parse().unwrap(),
        );
    }
    let ping = got[&format!("redis_sentinel_master_last_ok_ping_reply_seconds{{{ml}}}")];
    assert!((0.0..2.0).contains(&ping), "last ok ping {ping}");
    // Link state of every instance this sentinel knows.
    let up = |role: &str, a: &str| {
        got.get(&format!(
            "rsentinel_link_up{{master_name=\"mymaster\",role=\"{role}\",address=\"{a}\"}}"
        ))
        .copied()
    };
    assert_eq!(up("master", &addr), Some(1.0));
    let r = &slaves[0];
    assert_eq!(
        up(
            "replica",
            &format!("{}:{}", field(r, "ip"), field(r, "port"))
        ),
        Some(1.0)
    );
    let p = &peers[0];
    assert_eq!(
        up(
            "sentinel",
            &format!("{}:{}", field(p, "ip"), field(p, "port"))
        ),
        Some(1.0)
    );
    assert_eq!(
        got.get("rsentinel_events_total{event=\"+monitor\"}"),
        Some(&1.0)
    );
    assert!(got["rsentinel_events_total{event=\"+sentinel\"}"] >= 1.0);
}

#[test]
fn health_flips_on_sdown_and_tilt_and_masters_json_matches() {
    require!("redis-server");
    let mut master = redis_server(&[]);
    let port = master.port;
    let bin = rsentinel_bin();
    let mport = free_port();
    // Quorum 2 with one sentinel: the dead master stays SDOWN (no ODOWN, no failover).
    let s = sentinel(&bin, &metrics_conf(port, mport, 2, 1000));
    let mut c = Raw::connect(s.port);
    wait_until("/health 200", Duration::from_secs(20), || {
        get(mport, "/health").0 == 200
    });

    // /masters against SENTINEL MASTERS.
    let (code, body) = get(mport, "/masters");
    assert_eq!(code, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let masters = parse_instances(&c.cmd(&["SENTINEL", "MASTERS"]));
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), masters.len());
    for (j, m) in list.iter().zip(&masters) {
        assert_eq!(j["name"], field(m, "name"));
        assert_eq!(j["ip"], field(m, "ip"));
        assert_eq!(j["port"].to_string(), field(m, "port"));
        assert_eq!(j["flags"], field(m, "flags"));
        assert_eq!(j["runid"], field(m, "runid"));
        assert_eq!(j["config_epoch"].to_string(), field(m, "config-epoch"));
        assert_eq!(j["quorum"].to_string(), field(m, "quorum"));
        assert_eq!(j["num_slaves"].to_string(), field(m, "num-slaves"));
        assert_eq!(
            j["num_other_sentinels"].to_string(),
            field(m, "num-other-sentinels")
        );
        assert_eq!(
            j["down_after_milliseconds"].to_string(),
            field(m, "down-after-milliseconds")
        );
        assert_eq!(
            j["failover_timeout"].to_string(),
            field(m, "failover-timeout")
        );
        assert_eq!(j["parallel_syncs"].to_string(), field(m, "parallel-syncs"));
        assert_eq!(j["current_address"], format!("127.0.0.1:{port}"));
        assert_eq!(j["failover"]["state"], "none");
    }
    let (code, one) = get(mport, "/masters/mymaster");
    assert_eq!(code, 200);
    let one: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(one["name"], "mymaster");
    assert_eq!(get(mport, "/masters/nope").0, 404);
    assert_eq!(get(mport, "/nope").0, 404);
    assert_eq!(http(mport, "POST", "/health").0, 405);
    assert_eq!(http(mport, "DELETE", "/masters/mymaster").0, 405);

    // SDOWN: kill the master, 503 with the reason; back to 200 when it returns.
    master.kill9();
    wait_until("/health 503 on sdown", Duration::from_secs(20), || {
        let (code, body) = get(mport, "/health");
        code == 503 && body.contains("is sdown")
    });
    let (_, body) = get(mport, "/health");
    let h: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(h["status"], "unavailable");
    assert_eq!(h["tilt"], false);
    assert_eq!(
        h["reasons"][0],
        format!("master mymaster at 127.0.0.1:{port} is sdown")
    );
    let _master = redis_server_on(port, &[]);
    wait_until(
        "/health 200 after the master returns",
        Duration::from_secs(20),
        || get(mport, "/health").0 == 200,
    );

    // TILT: a 1 ms TILT-TRIGGER makes the next timer run look like a stall.
    let ok = c.cmd(&[
        "SENTINEL",
        "DEBUG",
        "TILT-PERIOD",
        "1000",
        "TILT-TRIGGER",
        "1",
    ]);
    assert_eq!(ok, b"+OK\r\n");
    wait_until("/health 503 in TILT", Duration::from_secs(10), || {
        let (code, body) = get(mport, "/health");
        code == 503 && body.contains("\"tilt\": true")
    });
    let (_, m) = get(mport, "/metrics");
    assert_eq!(samples(&m).get("redis_sentinel_tilt"), Some(&1.0));
    assert!(samples(&m)["rsentinel_tilt_entries_total"] >= 1.0);
    let ok = c.cmd(&["SENTINEL", "DEBUG", "TILT-TRIGGER", "2000"]);
    assert_eq!(ok, b"+OK\r\n");
    wait_until("/health 200 after TILT", Duration::from_secs(10), || {
        get(mport, "/health").0 == 200
    });
    let (_, m) = get(mport, "/metrics");
    let m = samples(&m);
    assert_eq!(m.get("redis_sentinel_tilt"), Some(&0.0));
    assert!(m["rsentinel_tilt_seconds_total"] > 0.0);
    assert!(m["rsentinel_events_total{event=\"-tilt\"}"] >= 1.0);
}

#[test]
fn counters_and_histogram_show_a_real_failover() {
    require!("redis-server");
    let mut master = redis_server(&[]);
    let mp = master.port.to_string();
    let replica = redis_server(&["--replicaof", "127.0.0.1", &mp]);
    let bin = rsentinel_bin();
    let mport = free_port();
    let s = sentinel(&bin, &metrics_conf(master.port, mport, 1, 1000));
    let mut c = Raw::connect(s.port);
    wait_until("replica discovered", Duration::from_secs(30), || {
        field_of(&c.cmd(&["SENTINEL", "MASTER", "mymaster"]), "num-slaves") == "1"
    });
    let mut ev = Events::subscribe(s.port);
    master.kill9();
    ev.wait_for("+switch-master", Duration::from_secs(40), |_| true);
    wait_until("new master", Duration::from_secs(10), || {
        master_port_of(s.port) == replica.port
    });
    let (code, text) = get(mport, "/metrics");
    assert_eq!(code, 200);
    promtool_check(&text);
    let m = samples(&text);
    assert!(m["rsentinel_current_epoch"] >= 1.0, "{text}");
    // An attempt may be retried under load (aborted first); one succeeds.
    assert!(m["rsentinel_failovers_started_total"] >= 1.0);
    assert_eq!(m["rsentinel_failovers_succeeded_total"], 1.0);
    assert!(m["rsentinel_votes_given_total"] >= 1.0);
    assert_eq!(m["rsentinel_events_total{event=\"+switch-master\"}"], 1.0);
    assert_eq!(m["rsentinel_failover_duration_seconds_count"], 1.0);
    let sum = m["rsentinel_failover_duration_seconds_sum"];
    assert!(sum > 0.0 && sum < 40.0, "duration {sum}");
    assert_eq!(
        m["rsentinel_failover_duration_seconds_bucket{le=\"+Inf\"}"],
        1.0
    );
    // The new master is what /masters and the exporter-style series show.
    let addr = format!("127.0.0.1:{}", replica.port);
    assert_eq!(
        m.get(&format!(
            "redis_sentinel_master_config_epoch{{master_name=\"mymaster\",master_address=\"{addr}\"}}"
        )),
        Some(&m["rsentinel_current_epoch"])
    );
    let (_, body) = get(mport, "/masters/mymaster");
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["current_address"], addr);
}

/// utime + stime of a process, in clock ticks (1/100 s).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// Opt-in: sentinel CPU per `/metrics` scrape at 1,000 masters, measured on the real
/// process (HTTP included) as the CPU of a scrape loop minus the idle CPU of a window
/// as long. `cargo test --release --test integration bench_scrape -- --ignored --nocapture`
/// (`BENCH_MASTERS`, `BENCH_SECONDS`).
#[test]
#[ignore]
fn bench_scrape_cost_at_1000_masters() {
    require!("redis-server");
    let n = crate::bench::env_or("BENCH_MASTERS", 1000);
    let secs = crate::bench::env_or("BENCH_SECONDS", 10);
    let servers: Vec<Proc> = (0..10)
        .map(|_| redis_server(&["--maxclients", "20000"]))
        .collect();
    let mport = free_port();
    let mut body = format!("sentinel metrics-port {mport}\n");
    for i in 0..n {
        let port = servers[i as usize % servers.len()].port;
        body.push_str(&format!("sentinel monitor m{i} 127.0.0.1 {port} 2\n"));
    }
    let s = sentinel(&rsentinel_bin(), &body);
    wait_until("all masters monitored", Duration::from_secs(120), || {
        let (code, text) = get(mport, "/metrics");
        code == 200 && samples(&text).get("redis_sentinel_masters") == Some(&(n as f64))
    });
    std::thread::sleep(Duration::from_secs(5));
    let pid = s.child.id();
    let t0 = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(secs));
    let idle = cpu_ticks(pid) - t0;
    let t1 = cpu_ticks(pid);
    let start = std::time::Instant::now();
    let mut scrapes = 0u64;
    let mut bytes = 0;
    while start.elapsed() < Duration::from_secs(secs) {
        let (code, text) = get(mport, "/metrics");
        assert_eq!(code, 200);
        bytes = text.len();
        scrapes += 1;
    }
    let busy = cpu_ticks(pid) - t1;
    let per_ms = (busy.saturating_sub(idle)) as f64 * 10.0 / scrapes as f64;
    println!(
        "scrape of {n} masters over HTTP: {per_ms:.2} ms of sentinel CPU each ({scrapes} scrapes of {bytes} bytes in {secs} s; idle {idle} ticks, scraping {busy} ticks)"
    );
}

/// The built-in proxy's counters (issue #11) as `rsentinel_proxy_*` series: absent
/// without a proxy, then counting exactly the connection and bytes that went through
/// it, and accepted by promtool.
#[test]
fn proxy_counters_are_series_once_a_proxy_is_configured() {
    require!("redis-server");
    let master = redis_server(&[]);
    let mport = free_port();
    let s = sentinel(&rsentinel_bin(), &metrics_conf(master.port, mport, 1, 5000));
    let (_, before) = get(mport, "/metrics");
    assert!(
        !before.contains("rsentinel_proxy_"),
        "proxy series without a proxy"
    );
    let pport = free_port();
    let mut c = Raw::connect(s.port);
    let set = c.cmd(&["SENTINEL", "SET", "mymaster", "proxy", &pport.to_string()]);
    assert_eq!(set, b"+OK\r\n");
    let mut through = None;
    wait_until("the proxy answers PING", Duration::from_secs(10), || {
        through = std::net::TcpStream::connect(("127.0.0.1", pport)).ok();
        through.is_some()
    });
    let mut p = through.unwrap();
    p.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    p.write_all(b"PING\r\n").unwrap();
    let mut pong = [0u8; 7];
    p.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"+PONG\r\n");
    // Byte counts are kept per connection and added up when it closes (or every 64 KiB).
    drop(p);
    let m = "master_name=\"mymaster\"";
    let active = format!("rsentinel_proxy_connections_active{{{m}}}");
    let mut text = String::new();
    wait_until(
        "the proxied connection closed",
        Duration::from_secs(10),
        || {
            text = get(mport, "/metrics").1;
            samples(&text).get(&active) == Some(&0.0)
        },
    );
    promtool_check(&text);
    let v = samples(&text);
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "proxy"])).into_owned();
    assert!(info.contains("# Proxy"), "{info}");
    assert_eq!(
        v[&format!("rsentinel_proxy_connections_received_total{{{m}}}")],
        1.0
    );
    assert_eq!(
        v[&format!("rsentinel_proxy_connections_refused_total{{{m}}}")],
        0.0
    );
    assert_eq!(
        v[&format!("rsentinel_proxy_bytes_total{{{m},direction=\"to_server\"}}")],
        6.0
    );
    assert_eq!(
        v[&format!("rsentinel_proxy_bytes_total{{{m},direction=\"to_client\"}}")],
        7.0
    );
    assert_eq!(v[&format!("rsentinel_proxy_switches_total{{{m}}}")], 0.0);
}
