//! `rsentinel demo`: a first cluster in one command.
//!
//! Starts a master and two replicas (`redis-server` from PATH) and three rsentinels
//! (this very binary) on free local ports in a temporary directory, waits until the
//! sentinels have found every replica and each other, kills the master and prints the
//! failover as a timeline (event, sentinel, milliseconds since the kill), then the new
//! topology. `--keep` leaves everything running and prints commands to play with it;
//! Ctrl-C (or SIGTERM) at any point stops every process the demo started and removes
//! its directory.
//!
//! The sentinels are talked to over RESP2 with `redis-protocol`'s codec (commands out,
//! replies and pub/sub messages in), the same crate the links use.

use clap::Parser;
use redis_protocol::resp2::decode::decode;
use redis_protocol::resp2::encode::encode_borrowed;
use redis_protocol::resp2::types::{BorrowedFrame, OwnedFrame};
use std::io::{IsTerminal, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `rsentinel demo [--keep]`.
#[derive(Parser, Debug)]
#[command(
    name = "rsentinel demo",
    about = "Start a master, two replicas and three rsentinels on local ports, kill the \
             master and show the failover"
)]
pub struct DemoArgs {
    /// Leave the cluster running after the failover (Ctrl-C stops and cleans up).
    #[arg(long)]
    pub keep: bool,
    /// The redis-server binary to start the data nodes with.
    #[arg(long, default_value = "redis-server")]
    pub redis_server: String,
    /// down-after-milliseconds of the monitored master.
    #[arg(long, default_value_t = 2000)]
    pub down_after: u64,
}

const MASTER_NAME: &str = "demo-master";

/// Set by SIGINT/SIGTERM; every wait loop checks it.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    let handler = on_signal as extern "C" fn(libc::c_int);
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
    }
}

/// Whether `argv` (without the program name) asks for the demo: the first argument is
/// `demo` and no file of that name exists, so `redis-sentinel demo` with a config file
/// literally called `demo` keeps meaning that config file.
pub fn wanted(args: &[String]) -> bool {
    args.first().is_some_and(|a| a == "demo") && !Path::new("demo").exists()
}

/// Run the demo with `args` (those after `demo`); returns the exit code.
pub fn run(args: &[String]) -> i32 {
    let opts = DemoArgs::parse_from(
        std::iter::once("rsentinel demo".to_string()).chain(args.iter().cloned()),
    );
    install_signal_handlers();
    let mut demo = match Demo::new() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("demo: {e}");
            return 1;
        }
    };
    let code = match demo.play(&opts) {
        Ok(()) => 0,
        Err(Stop::Interrupted) => {
            println!("\nInterrupted: stopping every process the demo started.");
            130
        }
        Err(Stop::Failed(e)) => {
            eprintln!("demo failed: {e}");
            eprintln!("(logs were in {})", demo.dir.display());
            1
        }
    };
    demo.cleanup();
    code
}

enum Stop {
    Interrupted,
    Failed(String),
}

impl From<String> for Stop {
    fn from(e: String) -> Self {
        Stop::Failed(e)
    }
}

fn check_stop() -> Result<(), Stop> {
    if STOP.load(Ordering::SeqCst) {
        Err(Stop::Interrupted)
    } else {
        Ok(())
    }
}

/// One event seen on a sentinel's pub/sub.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    sentinel: usize,
    channel: String,
    payload: String,
}

struct Node {
    name: String,
    port: u16,
    child: Child,
}

struct Demo {
    dir: PathBuf,
    nodes: Vec<Node>,
    events: Arc<Mutex<Vec<Seen>>>,
    tty: bool,
}

impl Demo {
    fn new() -> Result<Demo, String> {
        let dir = std::env::temp_dir().join(format!("rsentinel-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Demo {
            dir,
            nodes: Vec::new(),
            events: Arc::new(Mutex::new(Vec::new())),
            tty: std::io::stdout().is_terminal(),
        })
    }

    fn play(&mut self, opts: &DemoArgs) -> Result<(), Stop> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        println!("rsentinel demo: files in {}", self.dir.display());
        let mut ports = PortPicker::new();

        // Data nodes.
        let master_port = ports.next();
        self.start_redis(&opts.redis_server, "master", master_port, None)?;
        for i in 1..=2 {
            let p = ports.next();
            self.start_redis(
                &opts.redis_server,
                &format!("replica{i}"),
                p,
                Some(master_port),
            )?;
        }
        // Sentinels.
        let mut sentinels = Vec::new();
        for i in 1..=3 {
            let port = ports.next();
            let mport = ports.next();
            let conf = self.dir.join(format!("sentinel{i}.conf"));
            let text = format!(
                "port {port}\nbind 127.0.0.1\ndir {dir}\nlogfile {log}\n\
                 sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 2\n\
                 sentinel down-after-milliseconds {MASTER_NAME} {down}\n\
                 sentinel failover-timeout {MASTER_NAME} 10000\n\
                 sentinel metrics-port {mport}\n",
                dir = self.dir.display(),
                log = self.dir.join(format!("sentinel{i}.log")).display(),
                down = opts.down_after,
            );
            std::fs::write(&conf, text)
                .map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
            let child = Command::new(&exe)
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
            self.nodes.push(Node {
                name: format!("s{i}"),
                port,
                child,
            });
            sentinels.push((port, mport));
        }
        for n in 0..self.nodes.len() {
            self.wait_listening(n)?;
        }
        println!(
            "started: master 127.0.0.1:{master_port}, replicas {}, sentinels {}",
            self.nodes[1..3]
                .iter()
                .map(|n| format!("127.0.0.1:{}", n.port))
                .collect::<Vec<_>>()
                .join(" "),
            sentinels
                .iter()
                .map(|(p, _)| format!("127.0.0.1:{p}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        for (i, (port, _)) in sentinels.iter().enumerate() {
            subscribe(*port, i + 1, self.events.clone())?;
        }

        // Convergence: every sentinel knows both replicas and both peers.
        let sports: Vec<u16> = sentinels.iter().map(|(p, _)| *p).collect();
        self.wait_for("converging", Duration::from_secs(90), || {
            let states: Vec<(usize, usize)> = sports.iter().map(|p| known(*p)).collect();
            let line = states
                .iter()
                .enumerate()
                .map(|(i, (r, s))| format!("s{}: {r}/2 replicas {s}/2 peers", i + 1))
                .collect::<Vec<_>>()
                .join(" | ");
            (states.iter().all(|&(r, s)| r >= 2 && s >= 2), line)
        })?;

        // The failover.
        let master = &mut self.nodes[0];
        let _ = master.child.kill();
        let _ = master.child.wait();
        let killed = Instant::now();
        println!("killed the master (127.0.0.1:{master_port}); waiting for the failover...");
        let events = self.events.clone();
        self.wait_for("failing over", Duration::from_secs(90), || {
            let seen = events.lock().unwrap_or_else(|e| e.into_inner());
            let switched: Vec<usize> = (1..=3)
                .filter(|s| {
                    seen.iter().any(|e| {
                        e.sentinel == *s && e.channel == "+switch-master" && e.at >= killed
                    })
                })
                .collect();
            let last = seen
                .iter()
                .rfind(|e| e.at >= killed)
                .map(|e| format!(", last: s{} {}", e.sentinel, e.channel))
                .unwrap_or_default();
            (
                switched.len() == 3,
                format!(
                    "{} ms since the kill, {}/3 sentinels switched{last}",
                    killed.elapsed().as_millis(),
                    switched.len()
                ),
            )
        })?;
        // Let the last reconfiguration events arrive.
        std::thread::sleep(Duration::from_millis(300));
        self.print_timeline(killed);
        let new_port = self.print_topology(sports[0])?;

        if opts.keep {
            let (s1, m1) = sentinels[0];
            println!("\nThe cluster keeps running. Try:");
            println!("  redis-cli -p {s1} sentinel masters");
            println!("  redis-cli -p {s1} sentinel get-master-addr-by-name {MASTER_NAME}");
            println!("  redis-cli -p {s1} psubscribe '*'");
            println!("  redis-cli -p {new_port} info replication");
            println!("  curl http://127.0.0.1:{m1}/metrics");
            println!("  curl http://127.0.0.1:{m1}/masters/{MASTER_NAME}");
            println!("  curl -i http://127.0.0.1:{m1}/health");
            for (i, (_, m)) in sentinels.iter().enumerate().skip(1) {
                println!(
                    "  (sentinel s{} metrics: http://127.0.0.1:{m}/metrics)",
                    i + 1
                );
            }
            println!(
                "Press Ctrl-C to stop everything and remove {}.",
                self.dir.display()
            );
            while !STOP.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
            }
            println!("\nStopping.");
        }
        Ok(())
    }

    fn start_redis(
        &mut self,
        bin: &str,
        name: &str,
        port: u16,
        master: Option<u16>,
    ) -> Result<(), Stop> {
        let mut cmd = Command::new(bin);
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(self.dir.join(format!("{name}.log")))
            .args(["--dbfilename", &format!("{name}.rdb")]);
        if let Some(m) = master {
            cmd.args(["--replicaof", "127.0.0.1", &m.to_string()]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot start {bin} (is redis-server installed and on PATH?): {e}")
            })?;
        self.nodes.push(Node {
            name: name.to_string(),
            port,
            child,
        });
        Ok(())
    }

    fn wait_listening(&mut self, n: usize) -> Result<(), Stop> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            check_stop()?;
            let node = &mut self.nodes[n];
            if TcpStream::connect(("127.0.0.1", node.port)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(st)) = node.child.try_wait() {
                return Err(format!("{} on port {} exited: {st}", node.name, node.port).into());
            }
            if Instant::now() > deadline {
                return Err(format!("{} did not listen on port {}", node.name, node.port).into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Poll `f` (done?, progress line) until done, showing progress.
    fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        mut f: impl FnMut() -> (bool, String),
    ) -> Result<(), Stop> {
        let start = Instant::now();
        let mut last = String::new();
        let spinner = ['|', '/', '-', '\\'];
        let mut tick = 0;
        let mut last_print = Instant::now();
        loop {
            check_stop()?;
            let (done, line) = f();
            if self.tty {
                print!("\r\x1b[2K{} {what}: {line}", spinner[tick % 4]);
                let _ = std::io::stdout().flush();
            } else if shape(&line) != shape(&last) || last_print.elapsed() >= Duration::from_secs(2)
            {
                // Not a terminal: a line when something other than a clock changed,
                // or every 2 s.
                println!("  {what}: {line}");
                last_print = Instant::now();
            }
            tick += 1;
            last = line;
            if done {
                if self.tty {
                    println!(
                        "\r\x1b[2K  {what}: {last} (done in {} ms)",
                        start.elapsed().as_millis()
                    );
                } else {
                    println!("  {what}: done in {} ms", start.elapsed().as_millis());
                }
                return Ok(());
            }
            if start.elapsed() > timeout {
                if self.tty {
                    println!();
                }
                return Err(format!("timed out {what} after {timeout:?} ({last})").into());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn print_timeline(&self, killed: Instant) {
        let seen = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let mut after: Vec<&Seen> = seen.iter().filter(|e| e.at >= killed).collect();
        after.sort_by_key(|e| e.at);
        println!("\nFailover timeline (ms since the kill, sentinel, event):");
        for e in after {
            println!(
                "  {:>6} ms  s{}  {} {}",
                e.at.duration_since(killed).as_millis(),
                e.sentinel,
                e.channel,
                e.payload
            );
        }
    }

    /// Print the topology one sentinel sees now; returns the new master's port.
    fn print_topology(&self, sentinel: u16) -> Result<u16, Stop> {
        let mut c = Client::connect(sentinel)?;
        let addr = c.call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME])?;
        let parts = strings(&addr);
        let new_port: u16 = parts.get(1).and_then(|p| p.parse().ok()).unwrap_or(0);
        println!(
            "\nNew topology (as s1 sees it):\n  master   {}:{}",
            parts.first().cloned().unwrap_or_default(),
            new_port
        );
        let replicas = c.call(&["SENTINEL", "REPLICAS", MASTER_NAME])?;
        if let OwnedFrame::Array(list) = replicas {
            for r in list {
                let pairs = pairs(&r);
                let get = |k: &str| {
                    pairs
                        .iter()
                        .find(|(a, _)| a == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                println!(
                    "  replica  {}:{}  flags={}",
                    get("ip"),
                    get("port"),
                    get("flags")
                );
            }
        }
        let sentinels = c.call(&["SENTINEL", "SENTINELS", MASTER_NAME])?;
        if let OwnedFrame::Array(list) = sentinels {
            println!("  sentinels: s1 and {} peers", list.len());
        }
        Ok(new_port)
    }

    /// Stop every process the demo started and remove its directory.
    fn cleanup(&mut self) {
        for n in &mut self.nodes {
            let _ = n.child.kill();
            let _ = n.child.wait();
        }
        self.nodes.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// A progress line without its digits (what changed beyond a counter or clock).
fn shape(line: &str) -> String {
    line.chars().filter(|c| !c.is_ascii_digit()).collect()
}

/// Free local ports below the ephemeral range, probed by binding.
struct PortPicker {
    next: u16,
}

impl PortPicker {
    fn new() -> Self {
        PortPicker {
            next: 21000 + (std::process::id() % 500) as u16 * 20,
        }
    }

    fn next(&mut self) -> u16 {
        loop {
            let p = self.next;
            self.next = if p >= 32000 { 21000 } else { p + 1 };
            if TcpListener::bind(("127.0.0.1", p)).is_ok() {
                return p;
            }
        }
    }
}

/// (replicas, peer sentinels) sentinel `port` knows for the demo master.
fn known(port: u16) -> (usize, usize) {
    let Ok(mut c) = Client::connect(port) else {
        return (0, 0);
    };
    let Ok(m) = c.call(&["SENTINEL", "MASTER", MASTER_NAME]) else {
        return (0, 0);
    };
    let p = pairs(&m);
    let get = |k: &str| {
        p.iter()
            .find(|(a, _)| a == k)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0)
    };
    (get("num-slaves"), get("num-other-sentinels"))
}

fn text(f: &OwnedFrame) -> String {
    match f {
        OwnedFrame::SimpleString(b) | OwnedFrame::BulkString(b) => {
            String::from_utf8_lossy(b).into_owned()
        }
        OwnedFrame::Error(e) => e.clone(),
        OwnedFrame::Integer(i) => i.to_string(),
        _ => String::new(),
    }
}

fn strings(f: &OwnedFrame) -> Vec<String> {
    match f {
        OwnedFrame::Array(a) => a.iter().map(text).collect(),
        _ => Vec::new(),
    }
}

fn pairs(f: &OwnedFrame) -> Vec<(String, String)> {
    strings(f)
        .chunks(2)
        .map(|c| (c[0].clone(), c.get(1).cloned().unwrap_or_default()))
        .collect()
}

/// A blocking RESP2 connection.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(port: u16) -> Result<Client, String> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .map_err(|e| format!("connect to {port}: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        Ok(Client {
            stream,
            buf: Vec::new(),
        })
    }

    fn send(&mut self, args: &[&str]) -> Result<(), String> {
        let parts: Vec<BorrowedFrame> = args
            .iter()
            .map(|a| BorrowedFrame::BulkString(a.as_bytes()))
            .collect();
        let frame = BorrowedFrame::Array(&parts);
        let mut out = vec![0u8; frame.encode_len(false)];
        encode_borrowed(&mut out, &frame, false).map_err(|e| e.to_string())?;
        self.stream.write_all(&out).map_err(|e| e.to_string())
    }

    /// The next frame; `Ok(None)` on a read timeout.
    fn read(&mut self) -> Result<Option<OwnedFrame>, String> {
        loop {
            if let Some((frame, used)) = decode(&self.buf).map_err(|e| e.to_string())? {
                self.buf.drain(..used);
                return Ok(Some(frame));
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err("connection closed".into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    fn call(&mut self, args: &[&str]) -> Result<OwnedFrame, String> {
        self.send(args)?;
        self.read()?
            .ok_or_else(|| format!("no reply to {}", args.join(" ")))
    }
}

/// A thread collecting every event sentinel `port` (number `idx`) publishes.
fn subscribe(port: u16, idx: usize, into: Arc<Mutex<Vec<Seen>>>) -> Result<(), String> {
    let mut c = Client::connect(port)?;
    c.stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    c.send(&["PSUBSCRIBE", "*"])?;
    std::thread::spawn(move || {
        while !STOP.load(Ordering::SeqCst) {
            match c.read() {
                Ok(Some(OwnedFrame::Array(parts)))
                    if parts.len() == 4 && text(&parts[0]) == "pmessage" =>
                {
                    let channel = text(&parts[2]);
                    if channel.starts_with("__sentinel__:") {
                        continue;
                    }
                    let seen = Seen {
                        at: Instant::now(),
                        sentinel: idx,
                        channel,
                        payload: text(&parts[3]),
                    };
                    into.lock().unwrap_or_else(|e| e.into_inner()).push(seen);
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    Ok(())
}
