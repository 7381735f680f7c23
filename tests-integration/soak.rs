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
//! Env: `SOAK_SEEDS` (how many seeds, default 2), `SOAK_SEED` (one seed), `SOAK_SECS`
//! (chaos duration per seed, default 30), `SOAK_RSENTINEL_BIN` (a copy of the binary
//! to run, so that rebuilding during a long soak does not swap it mid-run).

use crate::harness::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
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
    (0..env_u64("SOAK_SEEDS").unwrap_or(2).min(1000)).collect()
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
                None => redis_server_command(port, &self.proc_.dir),
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

/// A synchronous connection with short timeouts (a stopped process must not hang
/// the soak), reopened on demand.
struct Conn {
    port: u16,
    conn: Option<redis::Connection>,
}

impl Conn {
    fn new(port: u16) -> Conn {
        Conn { port, conn: None }
    }

    fn query<T: redis::FromRedisValue>(&mut self, cmd: &redis::Cmd) -> Option<T> {
        if self.conn.is_none() {
            let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).ok()?;
            let c = client
                .get_connection_with_timeout(Duration::from_millis(300))
                .ok()?;
            c.set_read_timeout(Some(Duration::from_millis(300))).ok()?;
            c.set_write_timeout(Some(Duration::from_millis(300))).ok()?;
            self.conn = Some(c);
        }
        let r = cmd.query(self.conn.as_mut()?);
        if r.is_err() {
            // A timeout may leave a reply in flight: never reuse the connection.
            self.conn = None;
        }
        r.ok()
    }
}

/// What one seed produced.
#[derive(Default)]
struct Report {
    /// config epoch -> address -> sentinels seen holding it.
    views: BTreeMap<u64, BTreeMap<String, BTreeSet<usize>>>,
    /// epoch -> (sentinel, elected after its attempt was overtaken).
    leaders: BTreeMap<u64, Vec<(usize, bool)>>,
    switches: usize,
    faults: Vec<String>,
    converged: Option<Duration>,
    final_view: String,
    real: Vec<bool>,
    problems: Vec<String>,
    /// Peak RSS (KiB) and fd count seen on any rsentinel process (issue #15).
    peak_rss_kib: u64,
    peak_fds: usize,
    /// The Sentinel-aware writer: INCRs acknowledged, and failed attempts.
    writes_acked: u64,
    write_errors: u64,
}

/// A Sentinel-aware client writing all along (issue #15): asks a sentinel for the
/// master's address, INCRs a counter there (short timeouts), and on any error asks
/// again, rotating over the sentinels.
struct Writer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    acked: std::sync::Arc<std::sync::atomic::AtomicU64>,
    errors: std::sync::Arc<std::sync::atomic::AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(sentinel_ports: Vec<u16>) -> Writer {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let (st, ack, err) = (stop.clone(), acked.clone(), errors.clone());
        let thread = std::thread::spawn(move || {
            let t = Duration::from_millis(300);
            let conn = |port: u16| -> Option<redis::Connection> {
                let c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).ok()?;
                let c = c.get_connection_with_timeout(t).ok()?;
                c.set_read_timeout(Some(t)).ok()?;
                c.set_write_timeout(Some(t)).ok()?;
                Some(c)
            };
            let mut turn = 0;
            while !st.load(Ordering::SeqCst) {
                turn += 1;
                let port = sentinel_ports[turn % sentinel_ports.len()];
                let addr: Option<Vec<String>> = conn(port).and_then(|mut c| {
                    redis::cmd("SENTINEL")
                        .arg("GET-MASTER-ADDR-BY-NAME")
                        .arg("mymaster")
                        .query(&mut c)
                        .ok()
                });
                let master = addr
                    .filter(|a| a.len() == 2)
                    .and_then(|a| a[1].parse::<u16>().ok())
                    .and_then(conn);
                let Some(mut m) = master else {
                    err.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                while !st.load(Ordering::SeqCst) {
                    let r: redis::RedisResult<i64> =
                        redis::cmd("INCR").arg("soak-writes").query(&mut m);
                    if r.is_err() {
                        // READONLY after a demotion, a timeout while frozen, a reset...
                        err.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    ack.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        });
        Writer {
            stop,
            acked,
            errors,
            thread: Some(thread),
        }
    }

    fn acked(&self) -> u64 {
        self.acked.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn finish(mut self) -> (u64, u64) {
        use std::sync::atomic::Ordering;
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        (
            self.acked.load(Ordering::SeqCst),
            self.errors.load(Ordering::SeqCst),
        )
    }
}

impl Report {
    /// Epochs whose election a redis-sentinel won after being overtaken.
    fn flawed_epochs(&self) -> BTreeSet<u64> {
        self.leaders
            .iter()
            .filter(|(_, ls)| ls.iter().any(|&(s, over)| over && self.real[s]))
            .map(|(e, _)| *e)
            .collect()
    }

    fn conflicts(&self) -> Vec<(u64, &BTreeMap<String, BTreeSet<usize>>)> {
        self.views
            .iter()
            .filter(|(e, addrs)| **e > 0 && addrs.len() > 1)
            .map(|(e, a)| (*e, a))
            .collect()
    }

    fn failure(&self) -> Option<String> {
        let flawed = self.flawed_epochs();
        let mut out = self.problems.clone();
        for (e, ls) in &self.leaders {
            for &(s, over) in ls {
                if over && !self.real[s] {
                    out.push(format!(
                        "rsentinel {s} elected in epoch {e} after being overtaken"
                    ));
                }
            }
            if ls.len() > 1 && !flawed.contains(e) {
                out.push(format!("two leaders in epoch {e}: {ls:?}"));
            }
        }
        for (e, addrs) in self.conflicts() {
            if !flawed.contains(&e) {
                out.push(format!("config epoch {e} names {addrs:?}"));
            }
        }
        if self.converged.is_none() && flawed.is_empty() {
            out.push(format!(
                "no convergence within {CONVERGE:?} of healing: {}",
                self.final_view
            ));
        }
        (!out.is_empty()).then(|| out.join("; "))
    }

    fn summary(&self) -> String {
        let flawed = self.flawed_epochs();
        format!(
            "{} faults, {} +switch-master, epochs {:?}, leaders {:?}, conflicts {}, {}{}{}",
            self.faults.len(),
            self.switches,
            self.views.keys().collect::<Vec<_>>(),
            self.leaders,
            self.conflicts().len(),
            match self.converged {
                Some(d) => format!("converged {:.1} s after healing", d.as_secs_f64()),
                None => format!("NOT converged: {}", self.final_view),
            },
            if flawed.is_empty() {
                String::new()
            } else {
                format!(", redis-sentinel flaw in epochs {flawed:?}")
            } + &format!(
                ", rsentinel peak RSS {} KiB, peak fds {}, writes acked {} (failed attempts {})",
                self.peak_rss_kib, self.peak_fds, self.writes_acked, self.write_errors
            ),
            match self.failure() {
                Some(f) => format!(" => FAIL: {f}"),
                None => " => ok".into(),
            }
        )
    }
}

struct Soak {
    rng: StdRng,
    data: Vec<Node>,
    sentinels: Vec<Node>,
    conns: Vec<Conn>,
    /// (due, action) of pending resumes and restarts.
    pending: Vec<(Instant, Resume)>,
    report: Report,
}

#[derive(Clone, Copy, Debug)]
enum Resume {
    Cont(bool, usize),
    Restart(bool, usize),
    /// Pause sentinel `usize` for the duration (a pause timed into an election).
    Stop(usize, Duration),
}

impl Soak {
    fn new(seed: u64, mixed: bool) -> Soak {
        let master = redis_server(&[]);
        let mp = master.port.to_string();
        let mut data = vec![master];
        for _ in 0..2 {
            data.push(redis_server(&["--replicaof", "127.0.0.1", &mp]));
        }
        let conf = format!(
            "sentinel monitor mymaster 127.0.0.1 {mp} 2\nsentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 3000\n"
        );
        let real: Vec<bool> = (0..3)
            .map(|i| mixed && (i == 0 || (seed % 2 == 1 && i == 2)))
            .collect();
        let sentinels: Vec<Node> = real
            .iter()
            .map(|&r| {
                let bin = if r {
                    Path::new("redis-sentinel").to_path_buf()
                } else {
                    std::env::var_os("SOAK_RSENTINEL_BIN").map_or_else(rsentinel_bin, PathBuf::from)
                };
                Node {
                    proc_: sentinel(&bin, &conf),
                    bin: Some(bin),
                    dead: false,
                    stopped: false,
                }
            })
            .collect();
        let data = data
            .into_iter()
            .map(|p| Node {
                proc_: p,
                bin: None,
                dead: false,
                stopped: false,
            })
            .collect();
        let conns = sentinels.iter().map(|s| Conn::new(s.proc_.port)).collect();
        Soak {
            rng: StdRng::seed_from_u64(seed),
            data,
            sentinels,
            conns,
            pending: Vec::new(),
            report: Report {
                real,
                ..Report::default()
            },
        }
    }

    fn run(mut self, chaos: Duration) -> Report {
        self.wait_discovery();
        let writer = Writer::start(self.sentinels.iter().map(|s| s.proc_.port).collect());
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
        self.report
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

    fn sample(&mut self) {
        for (i, v) in self.views().into_iter().enumerate() {
            if let Some((addr, epoch)) = v {
                self.report
                    .views
                    .entry(epoch)
                    .or_default()
                    .entry(addr)
                    .or_default()
                    .insert(i);
            }
        }
    }

    /// The address all sentinels name at one config epoch, if it answers role:master.
    fn agreed_real_master(&mut self) -> Option<String> {
        let views = self.views();
        let first = views.first()?.clone()?;
        if !views.iter().all(|v| v.as_ref() == Some(&first)) {
            return None;
        }
        let port: u16 = first.0.rsplit(':').next()?.parse().ok()?;
        let role: Option<String> =
            Conn::new(port)
                .query(&redis::cmd("ROLE"))
                .and_then(|v: Vec<redis::Value>| match v.first() {
                    Some(redis::Value::BulkString(b)) => Some(String::from_utf8_lossy(b).into()),
                    _ => None,
                });
        (role.as_deref() == Some("master")).then_some(first.0)
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
                        let port = self.sentinels[i].proc_.port;
                        self.report
                            .faults
                            .push(format!("SIGSTOP sentinel {port} (in the election)"));
                    }
                }
                Resume::Cont(s, i) => self.node(s, i).cont(),
                Resume::Restart(s, i) => {
                    self.node(s, i).restart();
                    if s {
                        self.conns[i].conn = None;
                    }
                }
            }
        }
        if all {
            for s in [true, false] {
                for i in 0..3 {
                    let n = self.node(s, i);
                    n.restart();
                    if n.stopped {
                        n.cont();
                    }
                }
            }
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
        let kind = match self.rng.gen_range(0..20) {
            0..=6 => 0,
            7..=10 => 1,
            11..=15 => 2,
            _ => 3,
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
        let port = self.node(sentinel, i).proc_.port;
        self.report.faults.push(format!("{what} {port}"));
    }

    /// Attempts, elections and switches from every sentinel's log file (appended to
    /// across restarts).
    fn read_logs(&mut self) {
        for (i, s) in self.sentinels.iter().enumerate() {
            let log = std::fs::read_to_string(s.proc_.dir.join("sentinel.log")).unwrap_or_default();
            let mut last_epoch = 0u64;
            // (attempt epoch, overtaken since)
            let mut attempt: Option<(u64, bool)> = None;
            for line in log.lines() {
                if line.contains("Redis is starting") {
                    attempt = None;
                    continue;
                }
                let mut toks = line
                    .split_whitespace()
                    .skip_while(|t| !(t.starts_with('+') || t.starts_with('-')) || t.len() < 2);
                let Some(ev) = toks.next() else { continue };
                match ev {
                    "+new-epoch" => {
                        last_epoch = toks.next().and_then(|t| t.parse().ok()).unwrap_or(0);
                        if let Some((e, over)) = attempt.as_mut() {
                            *over |= last_epoch > *e;
                        }
                    }
                    "+try-failover" => attempt = Some((last_epoch, false)),
                    "+elected-leader" => {
                        if let Some((e, over)) = attempt {
                            self.report.leaders.entry(e).or_default().push((i, over));
                        } else {
                            self.report
                                .problems
                                .push(format!("sentinel {i}: +elected-leader without attempt"));
                        }
                    }
                    "+failover-end" => attempt = None,
                    "+switch-master" => self.report.switches += 1,
                    e if e.starts_with("-failover-abort") => attempt = None,
                    _ => {}
                }
            }
        }
    }
}
