//! The built-in proxy at a coordinated failover (issue #11): connections open through
//! the proxy of the sentinel that runs `SENTINEL FAILOVER mymaster COORDINATED` see a
//! pause, not an error. They go on with the new master, with their session (database,
//! name, protocol, authentication) and with the request the fence held; connections
//! whose state cannot be carried (a WATCH, a subscription) are closed, as at any switch.

use crate::harness::*;
use crate::proxy::{Line, cmdstat_calls, proxy_field, wait_healthy};
use std::time::Duration;

const PASS: &str = "s3cret";

/// A proxied connection, authenticated.
fn open(proxy_port: u16) -> Line {
    let mut c = Line::connect(proxy_port, Duration::from_secs(15)).unwrap();
    assert_eq!(c.simple(&["AUTH", PASS]).unwrap(), "+OK");
    c
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
    let auth = ["--requirepass", PASS, "--masterauth", PASS];
    let master = redis_server(&auth);
    let mp = master.port.to_string();
    let mut replica_args = auth.to_vec();
    replica_args.extend(["--replicaof", "127.0.0.1", &mp]);
    let replica = redis_server(&replica_args);
    let proxy_port = free_port();
    let s = sentinel(
        &rsentinel_bin(),
        &format!(
            "sentinel monitor mymaster 127.0.0.1 {mp} 1\n\
             sentinel auth-pass mymaster {PASS}\n\
             sentinel failover-timeout mymaster 10000\n\
             sentinel proxy mymaster {proxy_port}\n"
        ),
    );
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
    let sets_before = cmdstat_calls(master.port, "set");

    let mut admin = Line::connect(s.port, Duration::from_secs(5)).unwrap();
    let mut ev = Events::subscribe(s.port);
    let r = admin
        .simple(&["SENTINEL", "FAILOVER", "mymaster", "COORDINATED"])
        .unwrap();
    assert_eq!(r, "+OK");
    // Sent during the handover: held by the fence, then answered by the new master.
    plain.send(&["SET", "k", "during"]).unwrap();
    assert_eq!(plain.line().unwrap(), "+OK", "the held write must succeed");
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
    // The write never reached the old master.
    assert_eq!(cmdstat_calls(master.port, "set"), sets_before);
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
