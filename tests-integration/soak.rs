//! Real-process soak of the leader election (issue #16), opt-in:
//!
//! ```sh
//! SOAK_SEEDS=20 SOAK_SECS=60 cargo test --release --test integration soak -- --ignored --nocapture --test-threads 1
//! ```
//!
//! A real redis-server master with two replicas, three sentinels (quorum 2, down-after
//! 1000, failover-timeout 3000): rsentinel only, or mixed with real redis-sentinel peers
//! (two of them for odd seeds, one for even seeds). Every 2-5 s a seeded schedule
//! SIGKILLs the current master or a sentinel (restarted 0.5-4 s later on the same
//! port and files), or SIGSTOPs a sentinel or a data node for 1-4 s; half of the
//! master kills also pause a sentinel for 1-4 s while the election runs.
//!
//! What is recorded and checked:
//! - Every sentinel's (master address, config epoch) is sampled continuously (config
//!   epoch read before and after the address, kept only when both agree), so every
//!   `+switch-master` is seen with the epoch it switched under. No config epoch may
//!   ever name two addresses across sentinels.
//! - The sentinels' log files give every attempt (`+try-failover` and the `+new-epoch`
//!   before it) and every `+elected-leader`: at most one leader per epoch, and no
//!   leader elected after its attempt's epoch was overtaken (redis-sentinel's flaw).
//! - After the chaos every process is resumed or restarted; within 30 s all sentinels
//!   name the same address at the same config epoch, and it is a real master.
//!
//! In the mixed variant, real redis-sentinel keeps its flaw: an election it wins after
//! its attempt was overtaken is reported, and a conflict in that epoch (and the
//! convergence of that run, which redis-sentinel may never reach) is reported instead
//! of failing. rsentinel must never be elected after being overtaken, and two leaders
//! in one epoch must always involve such a flawed redis-sentinel election.
//!
//! Issue #15 adds: a Sentinel-aware client INCRs on the master all along (it must write
//! again after healing; acknowledged writes and failed attempts are reported), every
//! config file must load after each fault, and no rsentinel may exceed 256 MiB RSS or
//! 512 fds (peaks reported).
//!
//! Issue #15 also puts every process behind its own fault-injecting relay
//! (`relay.rs`): data nodes announce their relay address (`replica-announce-*`) and
//! replicate from the master's relay, sentinels announce theirs (`sentinel
//! announce-*`) and monitor the master's relay, and the writer goes through relays too,
//! so processes reach each other only through relays (the test's own probes connect
//! directly). The schedule adds network faults (`soak/netfaults.rs`): one process cut
//! off from all others, a split of the six processes into two sides (the client with
//! the side holding more sentinels), 2-8 s each, and 20-200 ms of latency on one
//! process's links. And it checks what sentinels advertise (`soak/advert.rs`): the
//! address `SENTINEL GET-MASTER-ADDR-BY-NAME` gives is judged every sample by the
//! node's real role over a direct connection; a sentinel that can take part in a
//! failover (with another sentinel out of TILT, and a live data node they reach) may
//! not advertise a non-master (dead or frozen node, a master it is cut off from, a
//! stale master) for longer than down-after + 3 x failover-timeout + 3 s (13 s), nor a
//! replica for longer than that + 2 INFO periods (33 s: Sentinel sees a master
//! reporting role:slave as down only then); time in a minority is reported, not
//! failed. The maximum of both is reported per seed, and a failing seed keeps its
//! sentinels' logs.
//!
//! Env: `SOAK_SEEDS` (how many seeds, default 2, from `SOAK_SEED_FROM`, default 0),
//! `SOAK_SEED` (one seed), `SOAK_SECS` (chaos duration per seed, default 30),
//! `SOAK_RSENTINEL_BIN` (a copy of the binary to run, so that rebuilding during a long
//! soak does not swap it mid-run), `SOAK_VERBOSE` (print the timed faults, every
//! advertised-non-master period over 1 s, and any relay source left unidentified).

mod advert;
mod client;
mod netfaults;
mod report;

use crate::harness::*;
use crate::relay::{Net, Peer};
use advert::Advert;
use client::{Conn, Writer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use report::Report;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CONVERGE: Duration = Duration::from_secs(30);

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

fn seeds() -> Vec<u64> {
    if let Some(s) = env_u64("SOAK_SEED") {
        return vec![s];
    }
    let from = env_u64("SOAK_SEED_FROM").unwrap_or(0);
    (from..from + env_u64("SOAK_SEEDS").unwrap_or(2).min(1000)).collect()
}

fn chaos_secs() -> u64 {
    env_u64("SOAK_SECS").unwrap_or(30).clamp(5, 3600)
}

#[test]
#[ignore = "soak: minutes of real processes; run with --ignored"]
fn soak_three_rsentinels() {
    require!("redis-server");
    run_seeds(false);
}

#[test]
#[ignore = "soak: minutes of real processes; run with --ignored"]
fn soak_mixed_with_redis_sentinel() {
    require!("redis-server");
    require!("redis-sentinel");
    run_seeds(true);
}

fn run_seeds(mixed: bool) {
    let secs = chaos_secs();
    let mut failures = Vec::new();
    for seed in seeds() {
        let started = Instant::now();
        let report = Soak::new(seed, mixed).run(Duration::from_secs(secs));
        println!(
            "soak {} seed {seed} ({secs} s chaos, {:.0} s total): {}",
            if mixed { "mixed" } else { "rsentinel" },
            started.elapsed().as_secs_f64(),
            report.summary()
        );
        if std::env::var_os("SOAK_VERBOSE").is_some() {
            println!("  faults: {:#?}", report.faults);
            println!(
                "  advertised-address periods over 1 s: {:#?}",
                report.periods
            );
        }
        if let Some(f) = report.failure() {
            failures.push(format!("seed {seed}: {f}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// One sentinel or data node of the soak, with what it takes to restart it.
struct Node {
    proc_: Proc,
    /// `Some(bin)` for a sentinel.
    bin: Option<PathBuf>,
    /// A data node's extra arguments on restart (its announced relay address).
    args: Vec<String>,
    dead: bool,
    stopped: bool,
}

impl Node {
    fn pid(&self) -> i32 {
        self.proc_.child.id() as i32
    }

    fn signal(&mut self, sig: i32) {
        if !self.dead {
            // SAFETY: plain kill(2) on a child this test spawned and has not reaped.
            unsafe {
                libc::kill(self.pid(), sig);
            }
        }
    }

    fn stop(&mut self) {
        self.signal(libc::SIGSTOP);
        self.stopped = true;
    }

    fn cont(&mut self) {
        self.signal(libc::SIGCONT);
        self.stopped = false;
    }

    fn kill(&mut self) {
        self.proc_.kill9();
        self.dead = true;
        self.stopped = false;
    }

    /// Start again on the same port (and, for a sentinel, the same config file, which
    /// holds its id, epochs and votes). The port was just freed by SIGKILL: retry a
    /// bounded number of times if it is still busy.
    fn restart(&mut self) {
        if !self.dead {
            return;
        }
        let port = self.proc_.port;
        for _ in 0..25 {
            let mut cmd = match &self.bin {
                Some(bin) => {
                    let mut c = Command::new(bin);
                    c.arg(self.proc_.conf_path());
                    c
                }
                None => {
                    let mut c = redis_server_command(port, &self.proc_.dir);
                    c.args(&self.args);
                    c
                }
            };
            let mut child = cmd
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn");
            if listening(port, &mut child) {
                self.proc_.child = child;
                self.dead = false;
                return;
            }
            let _ = child.kill();
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("could not restart {} on {port}", self.proc_.name);
    }
}

/// Wait (bounded) until `child` listens on `port`; false if it exited first.
fn listening(port: u16, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

struct Soak {
    rng: StdRng,
    /// Variant and seed, naming the kept logs of a failing run.
    tag: String,
    data: Vec<Node>,
    sentinels: Vec<Node>,
    /// Direct (never relayed) probe connections to the sentinels and the data nodes.
    conns: Vec<Conn>,
    dconns: Vec<Conn>,
    /// (due, action) of pending resumes and restarts.
    pending: Vec<(Instant, Resume)>,
    /// The relays every process reaches the others through, and the current cut and
    /// slow-link generations (a newer fault of the kind supersedes a pending heal).
    net: Net,
    cut_gen: u64,
    slow_gen: u64,
    advert: Advert,
    report: Report,
}

#[derive(Clone, Copy, Debug)]
enum Resume {
    Cont(bool, usize),
    Restart(bool, usize),
    /// Pause sentinel `usize` for the duration (a pause timed into an election).
    Stop(usize, Duration),
    /// Heal the partition of this generation (if still current).
    Heal(u64),
    /// Remove the latency of this generation (if still current) from a peer's links.
    Fast(Peer, u64),
}

const DOWN_AFTER: Duration = Duration::from_millis(1000);
const FAILOVER_TIMEOUT: Duration = Duration::from_millis(3000);

/// Sentinel's INFO period towards a master it does not see down: a master reporting
/// role:slave is seen down after down-after + 2 of them.
const INFO_PERIOD: Duration = Duration::from_secs(10);

/// How long a sentinel on the failing-over side may advertise a non-master: the
/// master is seen down after `down-after`; one attempt may be wasted (its leader
/// frozen, killed or cut off, or the votes split), and the next may start only
/// 2 x `failover-timeout` after it; the successful attempt promotes and reconfigures
/// within one `failover-timeout`; plus 3 s of margin for odown polling (1 s), the
/// leader's desync delay (up to 1 s) and the hello period spreading the new address
/// (2 s, partly overlapping).
fn advert_bound() -> Duration {
    DOWN_AFTER + 3 * FAILOVER_TIMEOUT + Duration::from_secs(3)
}

fn peer(sentinel: bool, i: usize) -> Peer {
    if sentinel {
        Peer::Sentinel(i)
    } else {
        Peer::Data(i)
    }
}

fn peer_name(p: Peer) -> String {
    match p {
        Peer::Data(i) => format!("D{i}"),
        Peer::Sentinel(i) => format!("S{i}"),
        Peer::Client => "client".into(),
    }
}

impl Soak {
    /// Three data nodes and three sentinels, each behind its relay: data nodes announce
    /// their relay address (`replica-announce-*`) and replicate from the master's relay,
    /// sentinels announce theirs (`sentinel announce-*`) and monitor the master's relay.
    fn new(seed: u64, mixed: bool) -> Soak {
        let mut net = Net::new();
        let drelay: Vec<u16> = (0..3).map(|i| net.relay(Peer::Data(i))).collect();
        let srelay: Vec<u16> = (0..3).map(|i| net.relay(Peer::Sentinel(i))).collect();
        let mut data = Vec::new();
        for (i, rp) in drelay.iter().enumerate() {
            let args: Vec<String> = ["--replica-announce-ip", "127.0.0.1"]
                .map(String::from)
                .into_iter()
                .chain(["--replica-announce-port".into(), rp.to_string()])
                .collect();
            let mut first = args.clone();
            if i > 0 {
                first.extend([
                    "--replicaof".into(),
                    "127.0.0.1".into(),
                    drelay[0].to_string(),
                ]);
            }
            let first: Vec<&str> = first.iter().map(String::as_str).collect();
            let p = redis_server(&first);
            net.attach(Peer::Data(i), p.port, p.child.id() as i32);
            data.push(Node {
                proc_: p,
                bin: None,
                args,
                dead: false,
                stopped: false,
            });
        }
        let real: Vec<bool> = (0..3)
            .map(|i| mixed && (i == 0 || (seed % 2 == 1 && i == 2)))
            .collect();
        let mut sentinels = Vec::new();
        for (i, &r) in real.iter().enumerate() {
            let bin = if r {
                Path::new("redis-sentinel").to_path_buf()
            } else {
                std::env::var_os("SOAK_RSENTINEL_BIN").map_or_else(rsentinel_bin, PathBuf::from)
            };
            let conf = format!(
                "sentinel monitor mymaster 127.0.0.1 {} 2\n\
                 sentinel down-after-milliseconds mymaster {}\n\
                 sentinel failover-timeout mymaster {}\n\
                 sentinel announce-ip 127.0.0.1\nsentinel announce-port {}\n",
                drelay[0],
                DOWN_AFTER.as_millis(),
                FAILOVER_TIMEOUT.as_millis(),
                srelay[i]
            );
            let p = sentinel(&bin, &conf);
            net.attach(Peer::Sentinel(i), p.port, p.child.id() as i32);
            sentinels.push(Node {
                proc_: p,
                bin: Some(bin),
                args: Vec::new(),
                dead: false,
                stopped: false,
            });
        }
        let conns = sentinels.iter().map(|s| Conn::new(s.proc_.port)).collect();
        let dconns = data.iter().map(|d| Conn::new(d.proc_.port)).collect();
        Soak {
            rng: StdRng::seed_from_u64(seed),
            tag: format!("{}-seed{seed}", if mixed { "mixed" } else { "rsentinel" }),
            data,
            sentinels,
            conns,
            dconns,
            pending: Vec::new(),
            net,
            cut_gen: 0,
            slow_gen: 0,
            advert: Advert::new(3, advert_bound(), 2 * INFO_PERIOD),
            report: Report {
                real,
                ..Report::default()
            },
        }
    }

    fn run(mut self, chaos: Duration) -> Report {
        self.wait_discovery();
        // The writer is the soak's client: it reaches sentinels and nodes through relays.
        let writer = Writer::start(
            (0..3)
                .map(|i| self.net.relay_port(Peer::Sentinel(i)))
                .collect(),
        );
        self.advert.t0 = Instant::now();
        let end = Instant::now() + chaos;
        let mut next_fault = Instant::now() + self.pause(2000, 5000);
        while Instant::now() < end {
            self.sample();
            self.resume_due(false);
            if Instant::now() >= next_fault {
                self.inject();
                self.check_files_and_resources();
                next_fault = Instant::now() + self.pause(2000, 5000);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.resume_due(true);
        let healed = Instant::now();
        while healed.elapsed() < CONVERGE {
            self.sample();
            if self.agreed_real_master().is_some() {
                self.report.converged = Some(healed.elapsed());
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // A few more samples, so a late conflicting switch is seen too.
        for _ in 0..10 {
            self.sample();
            std::thread::sleep(Duration::from_millis(100));
        }
        // Writes resume on the converged master.
        if self.report.converged.is_some() {
            let before = writer.acked();
            let since = Instant::now();
            while writer.acked() <= before && since.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(50));
            }
            if writer.acked() <= before {
                self.report
                    .problems
                    .push("the Sentinel-aware writer did not resume after healing".into());
            }
        }
        (self.report.writes_acked, self.report.write_errors) = writer.finish();
        self.report.final_view = format!("{:?}", self.views());
        self.check_files_and_resources();
        self.read_logs();
        self.finish_advert();
        if self.report.failure().is_some() {
            self.keep_logs();
        }
        self.report
    }

    /// The process directories go with the run: keep the sentinels' logs and configs of
    /// a failing seed for the post-mortem (path in the summary).
    fn keep_logs(&mut self) {
        let dir = std::env::temp_dir().join(format!(
            "rsentinel-soak-{}-{}",
            self.tag,
            std::process::id()
        ));
        let _ = std::fs::create_dir_all(&dir);
        for (i, s) in self.sentinels.iter().enumerate() {
            for f in ["sentinel.log", "sentinel.conf"] {
                let _ = std::fs::copy(s.proc_.dir.join(f), dir.join(format!("S{i}-{f}")));
            }
        }
        let _ = std::fs::write(dir.join("faults.txt"), self.report.faults.join("\n"));
        self.report.kept = Some(dir);
    }

    /// Close the advertised-address periods: an rsentinel over the bound fails the run,
    /// a real redis-sentinel over it is reported. Also fail a run whose relays never
    /// identified a sentinel or a replica (partitions would have cut nothing).
    fn finish_advert(&mut self) {
        use std::sync::atomic::Ordering::Relaxed;
        self.advert.finish();
        for (i, v) in std::mem::take(&mut self.advert.violations) {
            if self.report.real[i] {
                self.report.reported.push(format!("redis-sentinel: {v}"));
            } else {
                self.report.problems.push(v);
            }
        }
        self.report.advert = self.advert.summary();
        self.report.periods = std::mem::take(&mut self.advert.log);
        let accepted = self.net.stats.accepted.lock().unwrap().clone();
        let count = |f: &dyn Fn(Peer, Peer) -> bool| -> u64 {
            accepted
                .iter()
                .filter(|((s, d), _)| f(*s, *d))
                .map(|(_, n)| n)
                .sum()
        };
        let s2d = count(&|s, d| matches!((s, d), (Peer::Sentinel(_), Peer::Data(_))));
        let s2s = count(&|s, d| matches!((s, d), (Peer::Sentinel(_), Peer::Sentinel(_))));
        let d2d = count(&|s, d| matches!((s, d), (Peer::Data(_), Peer::Data(_))));
        let cl = count(&|s, _| s == Peer::Client);
        self.report.links = format!(
            "relayed connections: sentinel->node {s2d}, sentinel->sentinel {s2s}, \
             replica->master {d2d}, client {cl} (unidentified {}), black-holed {}",
            self.net.stats.unidentified.load(Relaxed),
            self.net.stats.blackholed.load(Relaxed)
        );
        if s2d == 0 || s2s == 0 || d2d == 0 {
            self.report.problems.push(format!(
                "relays did not identify sources: {}",
                self.report.links
            ));
        }
    }

    /// Issue #15: every sentinel's config file loads at any moment (the atomic rewrite
    /// never shows a torn file, whoever wrote it), and no rsentinel process grows without
    /// bound (RSS under 256 MiB, fewer than 512 fds: a handful of links and clients).
    fn check_files_and_resources(&mut self) {
        for (i, s) in self.sentinels.iter().enumerate() {
            if let Err(e) = rsentinel::config::load(&s.proc_.conf_path(), &[]) {
                self.report
                    .problems
                    .push(format!("sentinel {i}: config file does not load: {e}"));
            }
            if self.report.real[i] || s.dead {
                continue;
            }
            let pid = s.proc_.child.id();
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let rss: u64 = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0);
            let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
                .map(|d| d.count())
                .unwrap_or(0);
            self.report.peak_rss_kib = self.report.peak_rss_kib.max(rss);
            self.report.peak_fds = self.report.peak_fds.max(fds);
            if rss > 256 * 1024 || fds >= 512 {
                self.report
                    .problems
                    .push(format!("sentinel {i}: RSS {rss} KiB, {fds} fds"));
            }
        }
    }

    fn pause(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(self.rng.gen_range(lo..=hi))
    }

    /// Every sentinel knows the two replicas and the two other sentinels.
    fn wait_discovery(&mut self) {
        for i in 0..self.sentinels.len() {
            let c = &mut self.conns[i];
            wait_until("soak discovery", Duration::from_secs(30), || {
                let m: Option<Vec<String>> =
                    c.query(redis::cmd("SENTINEL").arg("MASTER").arg("mymaster"));
                let m = m.unwrap_or_default();
                let get = |k: &str| {
                    m.iter()
                        .position(|x| x == k)
                        .and_then(|p| m.get(p + 1).cloned())
                        .unwrap_or_default()
                };
                get("num-slaves") == "2" && get("num-other-sentinels") == "2"
            });
        }
    }

    /// Sentinel `i`'s (master address, config epoch), if it answers consistently.
    fn view(&mut self, i: usize) -> Option<(String, u64)> {
        let c = &mut self.conns[i];
        let mut epoch = || -> Option<u64> {
            let m: Vec<String> = c.query(redis::cmd("SENTINEL").arg("MASTER").arg("mymaster"))?;
            let p = m.iter().position(|x| x == "config-epoch")?;
            m.get(p + 1)?.parse().ok()
        };
        let before = epoch()?;
        let addr: Vec<String> = self.conns[i].query(
            redis::cmd("SENTINEL")
                .arg("GET-MASTER-ADDR-BY-NAME")
                .arg("mymaster"),
        )?;
        let c = &mut self.conns[i];
        let m: Vec<String> = c.query(redis::cmd("SENTINEL").arg("MASTER").arg("mymaster"))?;
        let p = m.iter().position(|x| x == "config-epoch")?;
        let after: u64 = m.get(p + 1)?.parse().ok()?;
        (before == after && addr.len() == 2).then(|| (format!("{}:{}", addr[0], addr[1]), after))
    }

    fn views(&mut self) -> Vec<Option<(String, u64)>> {
        (0..self.sentinels.len())
            .map(|i| {
                let s = &self.sentinels[i];
                if s.dead || s.stopped {
                    None
                } else {
                    self.view(i)
                }
            })
            .collect()
    }

    /// One sample round: every sentinel's view (epochs and addresses), and the
    /// advertised-address check on the same answers.
    fn sample(&mut self) {
        let views = self.views();
        for (i, v) in views.iter().enumerate() {
            if let Some((addr, epoch)) = v {
                self.report
                    .views
                    .entry(*epoch)
                    .or_default()
                    .entry(addr.clone())
                    .or_default()
                    .insert(i);
            }
        }
        self.check_advertised(&views);
    }

    /// The address all sentinels name at one config epoch, if that node (asked directly,
    /// not through its relay) answers role:master.
    fn agreed_real_master(&mut self) -> Option<String> {
        let views = self.views();
        let first = views.first()?.clone()?;
        if !views.iter().all(|v| v.as_ref() == Some(&first)) {
            return None;
        }
        let d = self.data_at(&first.0)?;
        (self.role(d).as_deref() == Some("master")).then_some(first.0)
    }

    fn node(&mut self, sentinel: bool, i: usize) -> &mut Node {
        if sentinel {
            &mut self.sentinels[i]
        } else {
            &mut self.data[i]
        }
    }

    /// Perform due resumes and restarts (all of them when healing).
    fn resume_due(&mut self, all: bool) {
        let now = Instant::now();
        let (due, rest): (Vec<_>, Vec<_>) =
            self.pending.drain(..).partition(|(t, _)| all || *t <= now);
        self.pending = rest;
        for (_, r) in due {
            match r {
                Resume::Stop(..) if all => {}
                Resume::Stop(i, d) => {
                    if !(self.sentinels[i].dead || self.sentinels[i].stopped) {
                        self.sentinels[i].stop();
                        self.pending.push((now + d, Resume::Cont(true, i)));
                        self.fault(format!("SIGSTOP sentinel S{i} (in the election)"));
                    }
                }
                Resume::Cont(s, i) => self.node(s, i).cont(),
                Resume::Restart(s, i) => self.restart(s, i),
                Resume::Heal(g) if all || g == self.cut_gen => self.net.heal(),
                Resume::Fast(p, g) if all || g == self.slow_gen => self.net.slow(p, None),
                Resume::Heal(_) | Resume::Fast(..) => {}
            }
        }
        if all {
            self.net.heal();
            self.net.clear_slow();
            for s in [true, false] {
                for i in 0..3 {
                    self.restart(s, i);
                    let n = self.node(s, i);
                    if n.stopped {
                        n.cont();
                    }
                }
            }
        }
    }

    /// Restart a killed process on its port, behind the same relay (which learns its
    /// new pid), with fresh probe connections.
    fn restart(&mut self, s: bool, i: usize) {
        let n = self.node(s, i);
        if !n.dead {
            return;
        }
        n.restart();
        let (port, pid) = (n.proc_.port, n.pid());
        self.net.attach(peer(s, i), port, pid);
        if s {
            self.conns[i].conn = None;
        } else {
            self.dconns[i].conn = None;
        }
    }

    /// The data node that answers role:master (the one most sentinels name if several).
    fn current_master(&mut self) -> Option<usize> {
        let masters: Vec<usize> = (0..self.data.len())
            .filter(|&i| {
                let n = &self.data[i];
                if n.dead || n.stopped {
                    return false;
                }
                let info: Option<String> =
                    Conn::new(n.proc_.port).query(redis::cmd("INFO").arg("replication"));
                info.is_some_and(|s| s.contains("role:master"))
            })
            .collect();
        match masters.len() {
            0 => None,
            1 => Some(masters[0]),
            n => Some(masters[self.rng.gen_range(0..n)]),
        }
    }

    fn inject(&mut self) {
        let busy = |n: &Node| n.dead || n.stopped;
        // Master kills start elections; half of them also get a sentinel paused while
        // the election runs (0.8-2.5 s later, down-after being 1 s), which is when
        // attempts overtake each other.
        // Partitions and slow links (issue #15) come from the same seeded schedule.
        let kind = match self.rng.gen_range(0..30) {
            0..=6 => 0,
            7..=9 => 1,
            10..=13 => 2,
            14..=16 => 3,
            k => {
                if let Some(f) = self.inject_net(k) {
                    self.fault(f);
                }
                return;
            }
        };
        let d = self.pause(1000, 4000);
        let (what, sentinel, i) = match kind {
            0 => {
                let d = self.pause(500, 4000);
                let Some(m) = self.current_master() else {
                    return;
                };
                self.data[m].kill();
                self.pending
                    .push((Instant::now() + d, Resume::Restart(false, m)));
                if self.rng.gen_bool(0.5) {
                    let s = self.rng.gen_range(0..3);
                    let at = Instant::now() + self.pause(800, 2500);
                    let len = self.pause(1000, 4000);
                    self.pending.push((at, Resume::Stop(s, len)));
                }
                ("SIGKILL master", false, m)
            }
            1 => {
                let i = self.rng.gen_range(0..3);
                let d = self.pause(500, 4000);
                if busy(&self.sentinels[i]) {
                    return;
                }
                self.sentinels[i].kill();
                self.pending
                    .push((Instant::now() + d, Resume::Restart(true, i)));
                ("SIGKILL sentinel", true, i)
            }
            2 => {
                let i = self.rng.gen_range(0..3);
                if busy(&self.sentinels[i]) {
                    return;
                }
                self.sentinels[i].stop();
                self.pending
                    .push((Instant::now() + d, Resume::Cont(true, i)));
                ("SIGSTOP sentinel", true, i)
            }
            _ => {
                let i = self.rng.gen_range(0..3);
                if busy(&self.data[i]) {
                    return;
                }
                self.data[i].stop();
                self.pending
                    .push((Instant::now() + d, Resume::Cont(false, i)));
                ("SIGSTOP data node", false, i)
            }
        };
        self.fault(format!("{what} {}", peer_name(peer(sentinel, i))));
    }

    /// Record a fault, with its time since the start of the chaos.
    fn fault(&mut self, what: String) {
        let t = self.advert.t0.elapsed().as_secs_f64();
        self.report.faults.push(format!("{t:.1}s {what}"));
    }
}
