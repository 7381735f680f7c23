//! The built-in proxy (issue #11) against real processes: writes through the proxy
//! across a SIGKILL of the master, the ≤ 100 ms bound from `+switch-master` to the first
//! write (also on observer sentinels that learn the switch from a hello), fencing of the
//! restarted old master and of a live one during `SENTINEL FAILOVER`, connections opened
//! during the failover, and the read port over healthy replicas.
//!
//! A leader's proxy may write before its own `+switch-master`: it follows the promoted
//! replica as soon as that replica confirmed its new role (negative delays printed).

use crate::harness::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One RESP request, then `replies` reply lines read back (simple replies and the two
/// lines of a short bulk). Any I/O error or timeout is an `Err`.
pub(crate) struct Line {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Line {
    pub(crate) fn connect(port: u16, timeout: Duration) -> std::io::Result<Line> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(timeout))?;
        s.set_nodelay(true)?;
        Ok(Line {
            r: BufReader::new(s.try_clone()?),
            w: s,
        })
    }

    pub(crate) fn send(&mut self, args: &[&str]) -> std::io::Result<()> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        self.w.write_all(&out)
    }

    pub(crate) fn line(&mut self) -> std::io::Result<String> {
        let mut l = String::new();
        if self.r.read_line(&mut l)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(l.trim_end().to_string())
    }

    /// One whole reply of any RESP2/RESP3 type, flattened: aggregates as their
    /// elements joined by spaces, strings and numbers as their text (errors keep `-`).
    pub(crate) fn value(&mut self) -> std::io::Result<String> {
        let head = self.line()?;
        let n = || -> std::io::Result<i64> {
            head[1..]
                .parse()
                .map_err(|_| std::io::Error::other(head.clone()))
        };
        match head.as_bytes().first() {
            Some(b'$' | b'=' | b'!') if n()? >= 0 => {
                let mut body = vec![0u8; n()? as usize + 2];
                std::io::Read::read_exact(&mut self.r, &mut body)?;
                Ok(String::from_utf8_lossy(&body[..body.len() - 2]).into_owned())
            }
            Some(b'*' | b'~' | b'>' | b'%') if n()? >= 0 => {
                let count = n()? * if head.starts_with('%') { 2 } else { 1 };
                let parts = (0..count).map(|_| self.value());
                Ok(parts.collect::<std::io::Result<Vec<_>>>()?.join(" "))
            }
            Some(b'+' | b':' | b',' | b'#' | b'(') => Ok(head[1..].to_string()),
            _ => Ok(head),
        }
    }

    /// A command whose reply is one line (`+OK`, `:1`, `-ERR ...`).
    pub(crate) fn simple(&mut self, args: &[&str]) -> std::io::Result<String> {
        self.send(args)?;
        self.line()
    }

    /// A command whose reply is a bulk string (its body, `None` for a null).
    pub(crate) fn bulk(&mut self, args: &[&str]) -> std::io::Result<Option<String>> {
        self.send(args)?;
        let head = self.line()?;
        let n: i64 = head[1..]
            .parse()
            .map_err(|_| std::io::Error::other(head.clone()))?;
        if n < 0 {
            return Ok(None);
        }
        let mut body = vec![0u8; n as usize + 2];
        std::io::Read::read_exact(&mut self.r, &mut body)?;
        Ok(Some(
            String::from_utf8_lossy(&body[..n as usize]).into_owned(),
        ))
    }
}

/// `+switch-master` arrivals on a sentinel, stamped by a reader thread.
struct Switches {
    at: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Switches {
    fn start(sentinel_port: u16) -> Switches {
        let mut l = Line::connect(sentinel_port, Duration::from_secs(120)).unwrap();
        l.send(&["SUBSCRIBE", "+switch-master"]).unwrap();
        for _ in 0..6 {
            l.line().unwrap();
        }
        let at = Arc::new(Mutex::new(Vec::new()));
        let sink = at.clone();
        std::thread::spawn(move || {
            // *3 $7 message $14 +switch-master $n payload
            while let Ok(head) = l.line() {
                if head != "*3" {
                    continue;
                }
                let mut parts = Vec::new();
                for _ in 0..6 {
                    match l.line() {
                        Ok(p) => parts.push(p),
                        Err(_) => return,
                    }
                }
                sink.lock()
                    .unwrap()
                    .push((Instant::now(), parts[5].clone()));
            }
        });
        Switches { at }
    }

    fn first(&self) -> Option<(Instant, String)> {
        self.at.lock().unwrap().first().cloned()
    }
}

/// Field `key` of `INFO proxy`'s per-master line `proxy0:...`.
pub(crate) fn proxy_field(sentinel_port: u16, key: &str) -> String {
    let info = Line::connect(sentinel_port, Duration::from_secs(5))
        .and_then(|mut l| l.bulk(&["INFO", "proxy"]))
        .ok()
        .flatten()
        .unwrap_or_default();
    info.lines()
        .find(|l| l.starts_with("proxy0:"))
        .and_then(|l| {
            l["proxy0:".len()..]
                .split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_string))
        })
        .unwrap_or_default()
}

/// Wait until the sentinel sees `n` healthy replicas of `mymaster` (the read port's set,
/// which also means the failover has a replica to promote).
pub(crate) fn wait_healthy(sentinel_port: u16, n: usize) {
    wait_until(
        &format!("{n} healthy replicas in INFO proxy"),
        Duration::from_secs(20),
        || proxy_field(sentinel_port, "healthy_replicas") == n.to_string(),
    );
}

/// A writer through the proxy: on each (re)connected connection `ECHO proxied` once (the
/// marker the old master must never see), then `SET k <n>` in a loop; errors re-dial,
/// and so does every 64th write.
struct Writer {
    stop: Arc<AtomicBool>,
    /// (request sent, `+OK` read, n) of every successful write.
    oks: Arc<Mutex<Vec<(Instant, Instant, u64)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(proxy_port: u16) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let oks = Arc::new(Mutex::new(Vec::new()));
        let (s, o) = (stop.clone(), oks.clone());
        let thread = std::thread::spawn(move || {
            let mut n = 0u64;
            let mut conn: Option<Line> = None;
            while !s.load(Ordering::Relaxed) {
                let c = match conn.as_mut() {
                    Some(c) => c,
                    None => {
                        let fresh = Line::connect(proxy_port, Duration::from_secs(15))
                            .and_then(|mut c| c.bulk(&["ECHO", "proxied"]).map(|_| c));
                        match fresh {
                            Ok(c) => conn.insert(c),
                            Err(_) => {
                                std::thread::sleep(Duration::from_millis(2));
                                continue;
                            }
                        }
                    }
                };
                n += 1;
                let sent = Instant::now();
                match c.simple(&["SET", "k", &n.to_string()]) {
                    Ok(r) if r == "+OK" => {
                        o.lock().unwrap().push((sent, Instant::now(), n));
                        // New connections now and then, so routing is checked again.
                        if n.is_multiple_of(64) {
                            conn = None;
                        }
                    }
                    _ => {
                        conn = None;
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        Writer {
            stop,
            oks,
            thread: Some(thread),
        }
    }

    /// The first write sent after `t` that succeeded: when its `+OK` came, and its n.
    fn first_ok_after(&self, t: Instant) -> Option<(Instant, u64)> {
        self.oks
            .lock()
            .unwrap()
            .iter()
            .find(|(sent, _, _)| *sent > t)
            .map(|&(_, ok, n)| (ok, n))
    }

    fn finish(mut self) -> Vec<(Instant, Instant, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.oks.lock().unwrap().clone()
    }
}

pub(crate) fn cmdstat_calls(port: u16, cmd: &str) -> u64 {
    let info = Line::connect(port, Duration::from_secs(5))
        .and_then(|mut l| l.bulk(&["INFO", "commandstats"]))
        .ok()
        .flatten()
        .unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{cmd}:calls=")))
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn proxy_writes_follow_a_sigkill_failover_and_fence_the_old_master() {
    require!("redis-server");
    let mut master = redis_server(&[]);
    let old_port = master.port;
    let replica = redis_server(&["--replicaof", "127.0.0.1", &old_port.to_string()]);
    let proxy_port = free_port();
    let s = sentinel(
        &rsentinel_bin(),
        &format!(
            "sentinel monitor mymaster 127.0.0.1 {old_port} 1\n\
             sentinel down-after-milliseconds mymaster 500\n\
             sentinel failover-timeout mymaster 10000\n\
             sentinel proxy mymaster {proxy_port}\n"
        ),
    );
    wait_healthy(s.port, 1);
    let switches = Switches::start(s.port);
    let writer = Writer::start(proxy_port);
    wait_until("writes through the proxy", Duration::from_secs(10), || {
        writer
            .first_ok_after(Instant::now() - Duration::from_secs(60))
            .is_some()
    });

    // Reaped when kill9 returns: a write sent after this can only succeed elsewhere.
    master.kill9();
    let killed = Instant::now();
    // A connection opened in the outage (the master is dead, this sentinel has not judged
    // it yet, then fences it) waits, then lands on the new master. Opened right after the
    // kill: the fenced window itself lasts only milliseconds once the failover runs.
    let mut waiter = Line::connect(proxy_port, Duration::from_secs(15)).unwrap();
    waiter.send(&["SET", "waiter", "landed"]).unwrap();
    let sent_in_outage = Instant::now();
    assert_eq!(
        waiter.line().unwrap(),
        "+OK",
        "the waiting connection's write"
    );
    let waited = sent_in_outage.elapsed();

    wait_until("+switch-master", Duration::from_secs(20), || {
        switches.first().is_some()
    });
    let (switched, payload) = switches.first().unwrap();
    assert!(
        payload.contains(&replica.port.to_string()),
        "switched to {payload}"
    );
    wait_until("a write after the switch", Duration::from_secs(5), || {
        writer.first_ok_after(switched).is_some()
    });
    let (first_ok, _) = writer.first_ok_after(killed).unwrap();
    let after_switch_ms = first_ok.duration_since(switched).as_secs_f64() * 1000.0
        - switched.duration_since(first_ok).as_secs_f64() * 1000.0;
    eprintln!(
        "proxy: kill -> switch {:?}, first write {after_switch_ms:.1} ms after the switch, \
         connection opened in the outage waited {waited:?}",
        switched.duration_since(killed)
    );
    assert!(
        after_switch_ms <= 100.0,
        "first proxied write {after_switch_ms:.1} ms after +switch-master"
    );

    // The old master comes back (empty, no persistence) while writes go on: not one
    // proxied byte may reach it (the writer's ECHO marker is counted nowhere else).
    let old = redis_server_on(old_port, &[]);
    let back = Instant::now();
    wait_until(
        "writes after the old master is back",
        Duration::from_secs(10),
        || {
            writer
                .first_ok_after(back + Duration::from_millis(1500))
                .is_some()
        },
    );
    let oks = writer.finish();
    assert_eq!(
        cmdstat_calls(old.port, "echo"),
        0,
        "the old master saw a proxied ECHO"
    );
    assert_eq!(
        cmdstat_calls(old.port, "set"),
        0,
        "the old master saw a proxied SET"
    );
    let last = oks.last().unwrap().2;
    let mut direct = Line::connect(replica.port, Duration::from_secs(5)).unwrap();
    assert_eq!(direct.bulk(&["GET", "k"]).unwrap(), Some(last.to_string()));
    assert_eq!(
        direct.bulk(&["GET", "waiter"]).unwrap().as_deref(),
        Some("landed")
    );
    assert_eq!(proxy_field(s.port, "switches"), "1");
}

/// The port a connection through the read proxy lands on (`INFO server`'s `tcp_port`).
fn landed_port(read_port: u16) -> u16 {
    let mut l = Line::connect(read_port, Duration::from_secs(15)).unwrap();
    let info = l.bulk(&["INFO", "server"]).unwrap().unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("tcp_port:"))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn proxy_read_port_spreads_over_healthy_replicas_and_skips_a_killed_one() {
    require!("redis-server");
    let master = redis_server(&[]);
    let mp = master.port.to_string();
    let r1 = redis_server(&["--replicaof", "127.0.0.1", &mp]);
    let mut r2 = redis_server(&["--replicaof", "127.0.0.1", &mp]);
    let read_port = free_port();
    let s = sentinel(
        &rsentinel_bin(),
        &format!(
            "sentinel monitor mymaster 127.0.0.1 {mp} 1\n\
             sentinel down-after-milliseconds mymaster 1000\n\
             sentinel proxy-replicas mymaster {read_port}\n"
        ),
    );
    wait_healthy(s.port, 2);
    let mut seen: Vec<u16> = (0..8).map(|_| landed_port(read_port)).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen, {
        let mut v = vec![r1.port, r2.port];
        v.sort_unstable();
        v
    });

    r2.kill9();
    wait_healthy(s.port, 1);
    for _ in 0..6 {
        assert_eq!(landed_port(read_port), r1.port);
    }
    // No healthy replica left: the read port falls back to the master.
    drop(r1);
    wait_healthy(s.port, 0);
    assert_eq!(landed_port(read_port), master.port);
}

#[test]
fn proxy_fences_a_live_master_during_sentinel_failover() {
    require!("redis-server");
    let master = redis_server(&[]);
    let replica = redis_server(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let proxy_port = free_port();
    let s = sentinel(
        &rsentinel_bin(),
        &format!(
            "sentinel monitor mymaster 127.0.0.1 {} 1\n\
             sentinel failover-timeout mymaster 10000\n\
             sentinel proxy mymaster {proxy_port}\n",
            master.port
        ),
    );
    wait_healthy(s.port, 1);
    let switches = Switches::start(s.port);
    let mut before = Line::connect(proxy_port, Duration::from_secs(15)).unwrap();
    assert_eq!(before.simple(&["SET", "before", "1"]).unwrap(), "+OK");

    let mut admin = Line::connect(s.port, Duration::from_secs(5)).unwrap();
    assert_eq!(
        admin.simple(&["SENTINEL", "FAILOVER", "mymaster"]).unwrap(),
        "+OK"
    );
    // The fence is up before the reply: the old master is alive, but a write on an
    // open proxied connection must not reach it. The connection is closed at the switch.
    before.send(&["SET", "fenced", "1"]).unwrap();
    let mut during = Line::connect(proxy_port, Duration::from_secs(15)).unwrap();
    during.send(&["SET", "during", "1"]).unwrap();
    assert!(
        before.line().is_err(),
        "the fenced connection must close without a reply"
    );
    // A connection opened during the failover is a pause, not an error.
    assert_eq!(during.line().unwrap(), "+OK");
    wait_until("+switch-master", Duration::from_secs(20), || {
        switches.first().is_some()
    });
    let mut new_master = Line::connect(replica.port, Duration::from_secs(5)).unwrap();
    assert_eq!(
        new_master.bulk(&["GET", "during"]).unwrap().as_deref(),
        Some("1")
    );
    assert_eq!(
        new_master.bulk(&["GET", "before"]).unwrap().as_deref(),
        Some("1")
    );
    assert_eq!(new_master.bulk(&["GET", "fenced"]).unwrap(), None);
    let mut old = Line::connect(master.port, Duration::from_secs(5)).unwrap();
    assert_eq!(old.bulk(&["GET", "fenced"]).unwrap(), None);
    assert_eq!(
        cmdstat_calls(master.port, "set"),
        1,
        "only the write before the failover"
    );
}

#[test]
fn proxies_of_observer_sentinels_follow_the_switch_from_hellos() {
    require!("redis-server");
    let mut master = redis_server(&[]);
    let mp = master.port.to_string();
    let r1 = redis_server(&["--replicaof", "127.0.0.1", &mp]);
    let r2 = redis_server(&["--replicaof", "127.0.0.1", &mp]);
    let proxies: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let sentinels: Vec<Proc> = proxies
        .iter()
        .map(|p| {
            sentinel(
                &rsentinel_bin(),
                &format!(
                    "sentinel monitor mymaster 127.0.0.1 {mp} 2\n\
                     sentinel down-after-milliseconds mymaster 1000\n\
                     sentinel failover-timeout mymaster 10000\n\
                     sentinel proxy mymaster {p}\n"
                ),
            )
        })
        .collect();
    for s in &sentinels {
        let mut c = Raw::connect(s.port);
        wait_until("full discovery", Duration::from_secs(30), || {
            let m = parse_pairs(&c.cmd(&["SENTINEL", "MASTER", "mymaster"]));
            field(&m, "num-slaves") == "2" && field(&m, "num-other-sentinels") == "2"
        });
        wait_healthy(s.port, 2);
    }
    let switches: Vec<Switches> = sentinels.iter().map(|s| Switches::start(s.port)).collect();
    let writers: Vec<Writer> = proxies.iter().map(|p| Writer::start(*p)).collect();
    for w in &writers {
        wait_until("writes through the proxy", Duration::from_secs(10), || {
            w.first_ok_after(Instant::now() - Duration::from_secs(60))
                .is_some()
        });
    }
    // Reaped when kill9 returns: a write sent after this can only succeed elsewhere.
    master.kill9();
    let killed = Instant::now();
    for sw in &switches {
        wait_until("+switch-master", Duration::from_secs(30), || {
            sw.first().is_some()
        });
    }
    for (i, (sw, w)) in switches.iter().zip(&writers).enumerate() {
        let (switched, _) = sw.first().unwrap();
        wait_until("a write after the switch", Duration::from_secs(5), || {
            w.first_ok_after(switched).is_some()
        });
        let (first_ok, _) = w.first_ok_after(killed).unwrap();
        let ms = first_ok.duration_since(switched).as_secs_f64() * 1000.0
            - switched.duration_since(first_ok).as_secs_f64() * 1000.0;
        eprintln!("proxy of sentinel {i}: first write {ms:.1} ms after its +switch-master");
        assert!(
            ms <= 100.0,
            "sentinel {i}: first write {ms:.1} ms after its switch"
        );
    }
    let new_port = master_port_of(sentinels[0].port);
    assert!(new_port == r1.port || new_port == r2.port);
    for w in writers {
        w.finish();
    }
}

#[test]
fn sentinel_set_opens_and_closes_the_proxy_port_at_run_time() {
    require!("redis-server");
    let master = redis_server(&[]);
    let s = sentinel(
        &rsentinel_bin(),
        &format!("sentinel monitor mymaster 127.0.0.1 {} 1\n", master.port),
    );
    let port = free_port();
    let mut admin = Line::connect(s.port, Duration::from_secs(5)).unwrap();
    let set = |admin: &mut Line, p: u16| {
        admin
            .simple(&["SENTINEL", "SET", "mymaster", "proxy", &p.to_string()])
            .unwrap()
    };
    assert_eq!(set(&mut admin, port), "+OK");
    assert!(
        s.conf_text()
            .contains(&format!("sentinel proxy mymaster {port}\n"))
    );
    let mut c = None;
    wait_until("the proxy port is open", Duration::from_secs(5), || {
        c = Line::connect(port, Duration::from_secs(5)).ok();
        c.is_some()
    });
    let mut c = c.unwrap();
    assert_eq!(c.simple(&["SET", "x", "1"]).unwrap(), "+OK");

    assert_eq!(set(&mut admin, 0), "+OK");
    assert!(!s.conf_text().contains("sentinel proxy "));
    // The open connection is closed and the port no longer accepts.
    assert!(c.line().is_err());
    wait_until("the proxy port is closed", Duration::from_secs(5), || {
        TcpStream::connect(("127.0.0.1", port)).is_err()
    });
}
