//! Sentinel-aware client libraries other than Rust's, against rsentinel: the library does
//! its own discovery (SENTINEL GET-MASTER-ADDR-BY-NAME, SENTINEL REPLICAS, its ROLE
//! check) and must follow a failover after the master is SIGKILLed.
//!
//! redis-py (`pip install redis`) and ioredis (`npm install --prefix target/node ioredis`),
//! both installed by `.ci/run`; a missing library is a loud `SKIPPED`, as for a missing
//! binary.

use crate::harness::{
    Proc, Raw, field, parse_pairs, redis_server, rsentinel_bin, sentinel, wait_until,
};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The client's script: discover, write, kill the master itself (by the pid its INFO
/// names), keep writing until a write lands on another master, check a replica read.
/// Prints one `RESULT ...` line; exits non-zero on any failed expectation.
const REDIS_PY: &str = r#"
import os, signal, sys, time
from redis.sentinel import Sentinel
ports = [int(p) for p in sys.argv[1:]]
s = Sentinel([('127.0.0.1', p) for p in ports], socket_timeout=0.5)
old = s.discover_master('mymaster')
replicas = s.discover_slaves('mymaster')
assert replicas, 'no replica discovered'
m = s.master_for('mymaster', socket_timeout=0.5)
m.set('k', 'v')
pid = int(m.info('server')['process_id'])
os.kill(pid, signal.SIGKILL)
killed = time.time()
first = None
while time.time() - killed < 40:
    try:
        m.incr('n')
        first = time.time() - killed
        break
    except Exception:
        time.sleep(0.05)
assert first is not None, 'no write accepted within 40 s of the kill'
new = s.discover_master('mymaster')
assert new != old, f'master still {old}'
assert m.connection_pool.get_master_address() == new
r = s.slave_for('mymaster', socket_timeout=0.5)
r.ping()
print(f'RESULT old={old} new={new} first_write_after_kill={first:.2f}s')
"#;

fn have_python_module(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .is_ok_and(|s| s.success())
}

/// The same for ioredis: writes through a client with `failoverDetector`, the master
/// killed by the script, the first write accepted afterwards must be on the new master.
///
/// ioredis 5 has a race of its own here: when its failover detector sees `+switch-master`
/// while a reconnect is resolving the master through a sentinel, the connector's
/// `disconnect()` makes that reconnect reject with "Connection is closed." and the client
/// ends for good (status `end`; SentinelConnector.connect checks `this.connecting` after
/// `resolve`). The odds are the share of the reconnect loop spent resolving. redis-sentinel
/// peers hit it less: they learn the switch from the leader's next hello, up to 2 s after
/// the leader already answers with the new master, so the client has usually reconnected
/// before their `+switch-master`; rsentinel's peers learn it within milliseconds (#7),
/// while the client still loops (about one run in ten here with a 50 ms retry, every run
/// with 1 ms, against none of two with redis-sentinel). An application calls `connect()`
/// again on `end`; so does the script, once, and says so on its result line: the test
/// still fails if the client cannot reach the new master afterwards.
const IOREDIS: &str = r#"
const Redis = require('ioredis');
const { execSync } = require('child_process');
const ports = process.argv.slice(1).map(Number);
const sentinels = ports.map(port => ({ host: '127.0.0.1', port }));
const r = new Redis({ sentinels, name: 'mymaster', failoverDetector: true,
  sentinelRetryStrategy: () => 100, retryStrategy: () => 50, maxRetriesPerRequest: null });
r.on('error', () => {});
const sleep = ms => new Promise(res => setTimeout(res, ms));
(async () => {
  await r.set('k', 'v');
  const old = r.stream.remotePort;
  const pid = (await r.info('server')).match(/process_id:(\d+)/)[1];
  process.kill(Number(pid), 'SIGKILL');
  const killed = Date.now();
  let first = null, lastErr = null, restarted = 0;
  while (Date.now() - killed < 40000) {
    if (r.status === 'end' && restarted === 0) { restarted = 1; r.connect().catch(() => {}); }
    try { await r.incr('n'); first = (Date.now() - killed) / 1000; break; }
    catch (e) { lastErr = e; await sleep(50); }
  }
  if (first === null) {
    const port = r.stream ? r.stream.remotePort : 'none';
    console.log(`no write accepted within 40 s (status ${r.status}, connected to ${port}, restarted ${restarted}, last error: ${lastErr})`);
    process.exit(1);
  }
  const now = r.stream.remotePort;
  if (now === old) { console.log('still on the old master ' + old); process.exit(1); }
  console.log(`RESULT old=${old} new=${now} first_write_after_kill=${first.toFixed(2)}s restarted_after_end=${restarted}`);
  process.exit(0);
})().catch(e => { console.log('error ' + e); process.exit(1); });
"#;

/// The same for node-redis 5 (`redis` on npm), whose `createSentinel` discovers through
/// SENTINEL SENTINELS / MASTER / REPLICAS and follows the sentinels' pub/sub events.
const NODE_REDIS: &str = r#"
const { createSentinel } = require('redis');
const ports = process.argv.slice(1).map(Number);
const sleep = ms => new Promise(res => setTimeout(res, ms));
(async () => {
  const s = createSentinel({ name: 'mymaster',
    sentinelRootNodes: ports.map(port => ({ host: '127.0.0.1', port })) });
  s.on('error', () => {});
  await s.connect();
  await s.set('k', 'v');
  const info = await s.info('server');
  const old = info.match(/tcp_port:(\d+)/)[1];
  process.kill(Number(info.match(/process_id:(\d+)/)[1]), 'SIGKILL');
  const killed = Date.now();
  let first = null, lastErr = null;
  while (Date.now() - killed < 40000) {
    try { await s.incr('n'); first = (Date.now() - killed) / 1000; break; }
    catch (e) { lastErr = e; await sleep(50); }
  }
  if (first === null) {
    console.log(`no write accepted within 40 s (last error: ${lastErr})`);
    process.exit(1);
  }
  const now = (await s.info('server')).match(/tcp_port:(\d+)/)[1];
  if (now === old) { console.log('still on the old master ' + old); process.exit(1); }
  console.log(`RESULT old=${old} new=${now} first_write_after_kill=${first.toFixed(2)}s`);
  process.exit(0);
})().catch(e => { console.log('error ' + e); process.exit(1); });
"#;

/// Where `.ci/run` installs node modules, unless `NODE_PATH` says otherwise.
fn node_path() -> PathBuf {
    std::env::var_os("NODE_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/node/node_modules")
        })
}

/// A master, two replicas and three rsentinels (quorum 2, down-after 1 s) that know each
/// other; the client script gets the sentinel ports as arguments.
fn run_client_against_cluster(program: &str, args: &[&str], env: &[(&str, PathBuf)]) {
    let master = redis_server(&[]);
    let mport = master.port.to_string();
    let _replicas: Vec<Proc> = (0..2)
        .map(|_| redis_server(&["--replicaof", "127.0.0.1", &mport]))
        .collect();
    let conf = format!(
        "sentinel monitor mymaster 127.0.0.1 {} 2\nsentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 10000\n",
        master.port
    );
    let sentinels: Vec<Proc> = (0..3).map(|_| sentinel(&rsentinel_bin(), &conf)).collect();
    for s in &sentinels {
        let mut c = Raw::connect(s.port);
        wait_until("replicas and peers known", Duration::from_secs(30), || {
            let m = parse_pairs(&c.cmd(&["SENTINEL", "MASTER", "mymaster"]));
            field(&m, "num-slaves") == "2" && field(&m, "num-other-sentinels") == "2"
        });
    }
    let mut cmd = Command::new("timeout");
    cmd.arg("90").arg(program).args(args);
    cmd.args(sentinels.iter().map(|s| s.port.to_string()));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    if !(out.status.success() && stdout.contains("RESULT ")) {
        // What the sentinels did, to tell a client problem from a failover that did
        // not happen.
        for s in &sentinels {
            let log = std::fs::read_to_string(s.dir.join("sentinel.log")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            println!("--- sentinel {} log tail ---\n{tail}", s.port);
        }
    }
    assert!(
        out.status.success() && stdout.contains("RESULT "),
        "{program} client failed"
    );
}

#[test]
fn redis_py_follows_a_failover() {
    require!("redis-server");
    require!("python3");
    if !have_python_module("redis") {
        eprintln!("SKIPPED: the python `redis` module is not installed (pip install redis)");
        return;
    }
    run_client_against_cluster("python3", &["-c", REDIS_PY], &[]);
}

#[test]
fn ioredis_follows_a_failover() {
    require!("redis-server");
    require!("node");
    let modules = node_path();
    if !modules.join("ioredis").exists() {
        eprintln!(
            "SKIPPED: ioredis is not installed in {} (npm install --prefix target/node ioredis@5)",
            modules.display()
        );
        return;
    }
    run_client_against_cluster("node", &["-e", IOREDIS], &[("NODE_PATH", modules)]);
}

#[test]
fn node_redis_follows_a_failover() {
    require!("redis-server");
    require!("node");
    let modules = node_path();
    if !modules.join("redis").join("package.json").exists() {
        eprintln!(
            "SKIPPED: node-redis is not installed in {} (npm install --prefix target/node redis@5)",
            modules.display()
        );
        return;
    }
    run_client_against_cluster("node", &["-e", NODE_REDIS], &[("NODE_PATH", modules)]);
}
