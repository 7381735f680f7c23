//! The built-in proxy at a coordinated failover (issue #11): connections open through
//! the proxy of the sentinel that runs `SENTINEL FAILOVER mymaster COORDINATED` see a
//! pause, not an error. They go on with the new master, with their session (database,
//! name, protocol, authentication) and with the request the fence held; connections
//! whose state cannot be carried (a WATCH, a subscription) are closed, as at any switch.

use crate::harness::*;
use crate::proxy::{Line, proxy_field, wait_healthy};
use std::time::Duration;

const PASS: &str = "s3cret";

/// A password-protected master and its replica.
fn authed_pair() -> (Proc, Proc) {
    let auth = ["--requirepass", PASS, "--masterauth", PASS];
    let master = redis_server(&auth);
    let mp = master.port.to_string();
    let mut replica_args = auth.to_vec();
    replica_args.extend(["--replicaof", "127.0.0.1", &mp]);
    let replica = redis_server(&replica_args);
    (master, replica)
}

/// `n` rsentinels (quorum `quorum`) on the master at `master_port`, each with a proxy
/// port: the sentinels and their proxy ports.
fn proxied_sentinels(master_port: u16, n: usize, quorum: u32) -> (Vec<Proc>, Vec<u16>) {
    let proxies: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let sentinels = proxies
        .iter()
        .map(|p| {
            sentinel(
                &rsentinel_bin(),
                &format!(
                    "sentinel monitor mymaster 127.0.0.1 {master_port} {quorum}\n\
                     sentinel auth-pass mymaster {PASS}\n\
                     sentinel failover-timeout mymaster 10000\n\
                     sentinel proxy mymaster {p}\n"
                ),
            )
        })
        .collect();
    (sentinels, proxies)
}

/// A proxied connection, authenticated.
fn open(proxy_port: u16) -> Line {
    let mut c = Line::connect(proxy_port, Duration::from_secs(15)).unwrap();
    assert_eq!(c.simple(&["AUTH", PASS]).unwrap(), "+OK");
    c
}

/// `SET` calls served by the (password-protected) server on `port`.
fn sets(port: u16) -> u64 {
    calls(port, "set")
}

/// Calls of `cmd` served by the (password-protected) server on `port`.
fn calls(port: u16, cmd: &str) -> u64 {
    let mut c = Line::connect(port, Duration::from_secs(5)).unwrap();
    assert_eq!(c.simple(&["AUTH", PASS]).unwrap(), "+OK");
    let info = c.bulk(&["INFO", "commandstats"]).unwrap().unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{cmd}:calls=")))
        .and_then(|v| v.split(',').next())
        .map_or(0, |v| v.parse().unwrap())
}

/// `key=value` of a CLIENT INFO line.
fn field(info: &str, key: &str) -> String {
    info.split_ascii_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn coordinated_failover_moves_open_proxied_connections_with_their_session() {
    require!("redis-server");
    let (master, replica) = authed_pair();
    let (mut sentinels, proxies) = proxied_sentinels(master.port, 1, 1);
    let (s, proxy_port) = (sentinels.remove(0), proxies[0]);
    wait_healthy(s.port, 1);

    // A RESP2 connection with a database and a name.
    let mut plain = open(proxy_port);
    assert_eq!(plain.simple(&["SELECT", "3"]).unwrap(), "+OK");
    assert_eq!(plain.simple(&["CLIENT", "SETNAME", "app"]).unwrap(), "+OK");
    assert_eq!(plain.simple(&["SET", "k", "before"]).unwrap(), "+OK");
    // A RESP3 connection, authenticated by HELLO.
    let mut resp3 = Line::connect(proxy_port, Duration::from_secs(15)).unwrap();
    resp3
        .send(&["HELLO", "3", "AUTH", "default", PASS])
        .unwrap();
    assert!(resp3.value().unwrap().contains("proto 3"));
    // State that cannot be carried: these are closed at the switch.
    let mut watching = open(proxy_port);
    assert_eq!(watching.simple(&["WATCH", "k"]).unwrap(), "+OK");
    let mut subscribed = open(proxy_port);
    subscribed.send(&["SUBSCRIBE", "news"]).unwrap();
    assert!(subscribed.value().unwrap().contains("subscribe news 1"));

    let mut admin = Line::connect(s.port, Duration::from_secs(5)).unwrap();
    let mut ev = Events::subscribe(s.port);
    let r = admin
        .simple(&["SENTINEL", "FAILOVER", "mymaster", "COORDINATED"])
        .unwrap();
    assert_eq!(r, "+OK");
    // Sent during the handover: held by the fence, then answered by the new master.
    // DBSIZE is not replicated: where it ran says where the held bytes went (the
    // old master, a replica now, also counts the SET it replicates).
    plain.send(&["SET", "k", "during"]).unwrap();
    plain.send(&["DBSIZE"]).unwrap();
    assert_eq!(plain.line().unwrap(), "+OK", "the held write must succeed");
    assert_eq!(plain.line().unwrap(), ":1");
    ev.wait_for("+switch-master", Duration::from_secs(20), |_| true);

    // The same connection now talks to the new master, same session.
    plain.send(&["CLIENT", "INFO"]).unwrap();
    let info = plain.value().unwrap();
    assert_eq!(field(&info, "laddr"), format!("127.0.0.1:{}", replica.port));
    assert_eq!(field(&info, "db"), "3");
    assert_eq!(field(&info, "name"), "app");
    assert_eq!(
        plain.bulk(&["GET", "k"]).unwrap().as_deref(),
        Some("during")
    );
    resp3.send(&["CLIENT", "INFO"]).unwrap();
    let info = resp3.value().unwrap();
    assert_eq!(field(&info, "laddr"), format!("127.0.0.1:{}", replica.port));
    assert_eq!(field(&info, "resp"), "3");
    // The held requests never reached the old master.
    assert_eq!(calls(master.port, "dbsize"), 0);
    assert_eq!(calls(replica.port, "dbsize"), 1);
    for (what, c) in [("watching", &mut watching), ("subscribed", &mut subscribed)] {
        c.send(&["PING"]).ok();
        assert!(c.line().is_err(), "the {what} connection must be closed");
    }
    assert_eq!(proxy_field(s.port, "connections_active"), "2");
    let info = Line::connect(s.port, Duration::from_secs(5))
        .and_then(|mut l| l.bulk(&["INFO", "proxy"]))
        .unwrap()
        .unwrap_or_default();
    assert!(info.contains("proxy_connections_moved:2\r\n"), "{info}");
}

/// What one looping writer saw: its last acknowledged value, its longest wait for a
/// reply, and the first reply that was not `+OK` (or the I/O error).
struct Looped {
    last: u64,
    longest: Duration,
    error: Option<String>,
}

/// A writer that never reconnects: `SET <key> <n>` in a loop on one proxied
/// connection until `stop`, or until a reply is not `+OK`.
fn spawn_writer(
    proxy_port: u16,
    key: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Looped> {
    let mut c = open(proxy_port);
    std::thread::spawn(move || {
        let mut w = Looped {
            last: 0,
            longest: Duration::ZERO,
            error: None,
        };
        for n in 1.. {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            let t = std::time::Instant::now();
            match c.simple(&["SET", &key, &n.to_string()]) {
                Ok(r) if r == "+OK" => w.last = n,
                Ok(r) => w.error = Some(r),
                Err(e) => w.error = Some(e.to_string()),
            }
            w.longest = w.longest.max(t.elapsed());
            if w.error.is_some() {
                break;
            }
        }
        w
    })
}

/// Writers that never reconnect: `SET w<i> <n>` in a loop on one proxied connection
/// each, through two coordinated failovers (there and back). Every reply must be
/// `+OK`, and the final master must hold each writer's last acknowledged value.
#[test]
fn coordinated_failover_is_a_pause_for_busy_proxied_writers() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    require!("redis-server");
    let (master, replica) = authed_pair();
    let (mut sentinels, proxies) = proxied_sentinels(master.port, 1, 1);
    let (s, proxy_port) = (sentinels.remove(0), proxies[0]);
    wait_healthy(s.port, 1);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|i| spawn_writer(proxy_port, format!("w{i}"), stop.clone()))
        .collect();
    wait_until("writes flowing", Duration::from_secs(10), || {
        sets(master.port) > 500
    });
    let mut admin = Line::connect(s.port, Duration::from_secs(5)).unwrap();
    let mut ev = Events::subscribe(s.port);
    // There and back: the second handover moves connections that were moved once.
    for (from, to) in [(master.port, replica.port), (replica.port, master.port)] {
        wait_healthy(s.port, 1);
        let r = admin
            .simple(&["SENTINEL", "FAILOVER", "mymaster", "COORDINATED"])
            .unwrap();
        assert_eq!(r, "+OK");
        let switch = format!("mymaster 127.0.0.1 {from} 127.0.0.1 {to}");
        ev.wait_for("+switch-master", Duration::from_secs(20), |p| p == switch);
        // Writes go on against the new master, on the same connections.
        let on_new = sets(to);
        wait_until("writes on the new master", Duration::from_secs(10), || {
            sets(to) > on_new + 500
        });
    }
    stop.store(true, Ordering::Relaxed);
    let mut new = Line::connect(master.port, Duration::from_secs(5)).unwrap();
    assert_eq!(new.simple(&["AUTH", PASS]).unwrap(), "+OK");
    for (i, h) in writers.into_iter().enumerate() {
        let w = h.join().unwrap();
        assert_eq!(w.error, None, "writer {i} got an error");
        println!(
            "writer {i}: {} writes, longest wait {:?}",
            w.last, w.longest
        );
        let held = new.bulk(&["GET", &format!("w{i}")]).unwrap();
        assert_eq!(held, Some(w.last.to_string()), "writer {i}'s last write");
    }
    let info = Line::connect(s.port, Duration::from_secs(5))
        .and_then(|mut l| l.bulk(&["INFO", "proxy"]))
        .unwrap()
        .unwrap_or_default();
    assert!(info.contains("proxy_connections_moved:16\r\n"), "{info}");
}

/// `proxy_connections_moved` of a sentinel.
fn moved(sentinel_port: u16) -> u64 {
    let info = Line::connect(sentinel_port, Duration::from_secs(5))
        .and_then(|mut l| l.bulk(&["INFO", "proxy"]))
        .unwrap()
        .unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("proxy_connections_moved:"))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// Three rsentinels, each with a proxy, clients writing through all three: the leader
/// announces the handover (`__rsentinel__:handover`) before pausing the master, so the
/// observers hold their clients' writes too and move their connections when the
/// leader's hello brings the switch. No writer on any proxy sees an error.
#[test]
fn coordinated_failover_is_a_pause_on_every_sentinels_proxy() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    require!("redis-server");
    let (master, replica) = authed_pair();
    let mp = master.port.to_string();
    let (sentinels, proxies) = proxied_sentinels(master.port, 3, 2);
    for s in &sentinels {
        wait_healthy(s.port, 1);
        wait_until("peers discovered", Duration::from_secs(20), || {
            let m = parse_pairs(&Raw::connect(s.port).cmd(&["SENTINEL", "MASTER", "mymaster"]));
            crate::harness::field(&m, "num-other-sentinels") == "2"
        });
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..9)
        .map(|i| spawn_writer(proxies[i % 3], format!("w{i}"), stop.clone()))
        .collect();
    wait_until("writes flowing", Duration::from_secs(10), || {
        sets(master.port) > 500
    });
    let mut ev = Events::subscribe(sentinels[1].port);
    let mut admin = Line::connect(sentinels[0].port, Duration::from_secs(5)).unwrap();
    let r = admin
        .simple(&["SENTINEL", "FAILOVER", "mymaster", "COORDINATED"])
        .unwrap();
    assert_eq!(r, "+OK");
    // An observer's switch, from the leader's hello.
    let switch = format!("mymaster 127.0.0.1 {mp} 127.0.0.1 {}", replica.port);
    ev.wait_for("+switch-master", Duration::from_secs(20), |p| p == switch);
    let on_new = sets(replica.port);
    wait_until("writes on the new master", Duration::from_secs(10), || {
        sets(replica.port) > on_new + 900
    });
    stop.store(true, Ordering::Relaxed);
    let mut new = Line::connect(replica.port, Duration::from_secs(5)).unwrap();
    assert_eq!(new.simple(&["AUTH", PASS]).unwrap(), "+OK");
    for (i, h) in writers.into_iter().enumerate() {
        let w = h.join().unwrap();
        println!(
            "writer {i} (proxy of sentinel {}): {} writes, longest wait {:?}",
            i % 3,
            w.last,
            w.longest
        );
        assert_eq!(
            w.error,
            None,
            "writer {i} (sentinel {}) got an error",
            i % 3
        );
        let held = new.bulk(&["GET", &format!("w{i}")]).unwrap();
        assert_eq!(held, Some(w.last.to_string()), "writer {i}'s last write");
    }
    for (k, s) in sentinels.iter().enumerate() {
        assert_eq!(moved(s.port), 3, "sentinel {k}'s proxy");
    }
}
