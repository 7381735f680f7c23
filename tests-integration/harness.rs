//! Process harness for the integration tests: free ports, real `redis-server` nodes,
//! rsentinel and real `redis-sentinel` processes, and a raw RESP client.
//!
//! Every process started here is killed when its handle drops, so a failing test never
//! leaves strays behind, and only processes this harness started are ever killed.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

/// Ports below the kernel's ephemeral range (32768+), so a server never collides with
/// the local port of an outgoing connection. Each test process walks its own slice,
/// starting at a pid-derived offset, and probes by binding.
static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

pub fn free_port() -> u16 {
    if NEXT_PORT.load(Ordering::SeqCst) == 0 {
        let base = 20000 + (std::process::id() % 400) as u16 * 30;
        let _ = NEXT_PORT.compare_exchange(0, base, Ordering::SeqCst, Ordering::SeqCst);
    }
    loop {
        let p = NEXT_PORT.fetch_add(1, Ordering::SeqCst);
        let p = if p >= 32000 { 20000 + p % 12000 } else { p };
        if TcpListener::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

pub fn have(binary: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {binary}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Skip (loudly) when a required external binary is missing. CI installs them.
#[macro_export]
macro_rules! require {
    ($bin:expr) => {
        if !$crate::harness::have($bin) {
            eprintln!("SKIPPED: `{}` is not installed (run .ci/run or apt-get install redis-server redis-sentinel redis-tools)", $bin);
            return;
        }
    };
}

pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

pub struct Proc {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
    pub name: String,
}

impl Drop for Proc {
    /// Kill the process and remove its directory, unless the test is failing: then the
    /// config file and log stay behind for the post-mortem.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Proc {
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
    pub fn conf_path(&self) -> PathBuf {
        self.dir.join("sentinel.conf")
    }
    pub fn conf_text(&self) -> String {
        std::fs::read_to_string(self.conf_path()).unwrap_or_default()
    }
}

pub fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "rsentinel-it-{}-{}-{}",
        tag,
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn wait_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("{what} on port {port} exited early: {st}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not listen on {port}");
}

/// The command line of every test data node: loopback only, no persistence, files in
/// `dir`.
pub fn redis_server_command(port: u16, dir: &Path) -> Command {
    let mut cmd = Command::new("redis-server");
    cmd.arg("--port")
        .arg(port.to_string())
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir);
    cmd
}

/// A real redis-server on a free port; `extra` are additional `--name value` args.
pub fn redis_server(extra: &[&str]) -> Proc {
    for _ in 0..5 {
        let port = free_port();
        let dir = tempdir("redis");
        let mut cmd = redis_server_command(port, &dir);
        cmd.args(extra).stdout(Stdio::null()).stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn redis-server");
        std::thread::sleep(Duration::from_millis(30));
        if let Ok(Some(_)) = child.try_wait() {
            continue; // port taken meanwhile: retry on another one
        }
        wait_port(port, &mut child, "redis-server");
        return Proc {
            child,
            port,
            dir,
            name: "redis-server".into(),
        };
    }
    panic!("could not start redis-server");
}

pub fn rsentinel_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rsentinel"))
}

/// What a side-by-side test runs: rsentinel, then redis-sentinel 7.0.15 when installed.
pub fn both_sentinels() -> Vec<PathBuf> {
    let mut bins = vec![rsentinel_bin()];
    if have("redis-sentinel") {
        bins.push("redis-sentinel".into());
    }
    bins
}

/// Where `bin` is on the `PATH` (empty when it is not there).
pub fn which(bin: &str) -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .output()
        .unwrap();
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Spawn `bin` on the config file `conf`, its output discarded; the handle kills it on
/// drop and removes `dir`. The caller waits for whatever readiness it needs.
pub fn spawn_on(bin: &Path, conf: &Path, port: u16, dir: PathBuf) -> Proc {
    let child = Command::new(bin)
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
    Proc {
        child,
        port,
        dir,
        name: bin.display().to_string(),
    }
}

/// Start a sentinel (`bin` = rsentinel or redis-sentinel) with `conf_body` written to
/// `<dir>/sentinel.conf`, with `port` and `dir` lines prepended.
pub fn sentinel(bin: &Path, conf_body: &str) -> Proc {
    for _ in 0..5 {
        let port = free_port();
        let dir = tempdir("sentinel");
        let conf = dir.join("sentinel.conf");
        let text = format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nlogfile {}\n{conf_body}",
            dir.display(),
            dir.join("sentinel.log").display()
        );
        std::fs::write(&conf, text).unwrap();
        let mut child = Command::new(bin)
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sentinel");
        std::thread::sleep(Duration::from_millis(30));
        if let Ok(Some(_)) = child.try_wait() {
            continue;
        }
        wait_port(port, &mut child, &bin.display().to_string());
        return Proc {
            child,
            port,
            dir,
            name: bin.display().to_string(),
        };
    }
    panic!("could not start {}", bin.display());
}

/// A minimal raw RESP client: sends commands as multibulk and returns the exact reply
/// bytes, so tests can compare byte-for-byte with the real server.
pub struct Raw {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        }
    }
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).unwrap();
    }
    pub fn cmd(&mut self, args: &[&str]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        self.send_raw(&out);
        self.read_reply()
    }
    /// Read one complete RESP2/RESP3 value; returns its raw bytes (empty on EOF).
    pub fn read_reply(&mut self) -> Vec<u8> {
        let mut buf = Vec::new();
        self.read_value(&mut buf);
        buf
    }
    fn read_value(&mut self, buf: &mut Vec<u8>) {
        let mut line = Vec::new();
        if self.r.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            return;
        }
        buf.extend_from_slice(&line);
        let body = String::from_utf8_lossy(&line[1..line.len().saturating_sub(2)]).to_string();
        match line[0] {
            b'$' | b'=' | b'!' => {
                let n: i64 = body.parse().unwrap();
                if n >= 0 {
                    let mut data = vec![0u8; n as usize + 2];
                    self.r.read_exact(&mut data).unwrap();
                    buf.extend_from_slice(&data);
                }
            }
            b'*' | b'~' | b'>' => {
                let n: i64 = body.parse().unwrap();
                for _ in 0..n.max(0) {
                    self.read_value(buf);
                }
            }
            b'%' => {
                let n: i64 = body.parse().unwrap();
                for _ in 0..n * 2 {
                    self.read_value(buf);
                }
            }
            _ => {}
        }
    }
}

/// Split a RESP2 flat array of bulk strings (an instance description) into pairs.
pub fn parse_pairs(reply: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(reply);
    let mut lines = text.split("\r\n");
    let head = lines.next().unwrap_or("");
    assert!(head.starts_with('*'), "not an array: {text}");
    let mut vals = Vec::new();
    while let Some(l) = lines.next() {
        if l.starts_with('$') {
            vals.push(lines.next().unwrap_or("").to_string());
        }
    }
    vals.chunks(2)
        .map(|c| (c[0].clone(), c.get(1).cloned().unwrap_or_default()))
        .collect()
}

/// Field names of an INFO reply, section headers included, in order.
pub fn info_fields(reply: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(reply)
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            if l.starts_with('#') {
                l.to_string()
            } else {
                l.split(':').next().unwrap().to_string()
            }
        })
        .collect()
}

/// A `PSUBSCRIBE *` connection collecting `(channel, payload)` events.
pub struct Events {
    raw: Raw,
    pub seen: Vec<(String, String)>,
}

impl Events {
    pub fn subscribe(port: u16) -> Events {
        let mut raw = Raw::connect(port);
        let r = raw.cmd(&["PSUBSCRIBE", "*"]);
        assert!(
            String::from_utf8_lossy(&r).contains("psubscribe"),
            "psubscribe failed: {r:?}"
        );
        raw.r
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Events {
            raw,
            seen: Vec::new(),
        }
    }

    /// Read whatever arrived (up to ~200 ms of silence).
    pub fn poll(&mut self) {
        loop {
            let mut line = Vec::new();
            match self.raw.r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if !line.starts_with(b"*4") {
                continue;
            }
            let mut parts = Vec::new();
            for _ in 0..4 {
                let mut len = Vec::new();
                self.raw
                    .r
                    .get_ref()
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                self.raw.r.read_until(b'\n', &mut len).unwrap();
                let n: usize = String::from_utf8_lossy(&len[1..len.len() - 2])
                    .parse()
                    .unwrap();
                let mut data = vec![0u8; n + 2];
                self.raw.r.read_exact(&mut data).unwrap();
                parts.push(String::from_utf8_lossy(&data[..n]).to_string());
            }
            self.raw
                .r
                .get_ref()
                .set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            self.seen.push((parts[2].clone(), parts[3].clone()));
        }
    }

    /// Wait until an event on `channel` whose payload satisfies `pred` has been seen.
    pub fn wait_for(
        &mut self,
        channel: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some((_, p)) = self.seen.iter().find(|(c, p)| c == channel && pred(p)) {
                return p.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no {channel} event within {timeout:?}; saw {:?}",
                self.seen
            );
            self.poll();
        }
    }

    pub fn position(&self, channel: &str) -> Option<usize> {
        self.seen.iter().position(|(c, _)| c == channel)
    }
}

/// Field `key` of a flat-array instance description.
pub fn field(pairs: &[(String, String)], key: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Split a RESP2 array of instance descriptions into one pair-list per instance.
pub fn parse_instances(reply: &[u8]) -> Vec<Vec<(String, String)>> {
    let text = String::from_utf8_lossy(reply).to_string();
    let mut lines = text.split("\r\n").peekable();
    let head = lines.next().unwrap_or("");
    let n: usize = head.trim_start_matches('*').parse().unwrap_or(0);
    let mut out = Vec::new();
    for _ in 0..n {
        let inner = lines.next().unwrap_or("");
        let k: usize = inner.trim_start_matches('*').parse().unwrap_or(0);
        let mut vals = Vec::new();
        for _ in 0..k {
            let _len = lines.next();
            vals.push(lines.next().unwrap_or("").to_string());
        }
        out.push(
            vals.chunks(2)
                .map(|c| (c[0].clone(), c[1].clone()))
                .collect(),
        );
    }
    out
}

/// Restart a redis-server on a known port (after `kill9`), e.g. an old master coming back.
pub fn redis_server_on(port: u16, extra: &[&str]) -> Proc {
    let dir = tempdir("redis");
    let mut child = redis_server_command(port, &dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    wait_port(port, &mut child, "redis-server");
    Proc {
        child,
        port,
        dir,
        name: "redis-server".into(),
    }
}

/// `INFO replication` of a redis-server as `key -> value`.
pub fn replication(port: u16) -> std::collections::HashMap<String, String> {
    let mut c = Raw::connect(port);
    let r = c.cmd(&["INFO", "replication"]);
    String::from_utf8_lossy(&r)
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The master port a sentinel reports for `mymaster`.
pub fn master_port_of(sentinel_port: u16) -> u16 {
    let r = Raw::connect(sentinel_port).cmd(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]);
    let text = String::from_utf8_lossy(&r).into_owned();
    text.split("\r\n")
        .nth(4)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}
