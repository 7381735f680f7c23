//! Failover with real processes: rsentinel-only clusters and mixed clusters with real
//! redis-sentinel peers, a Sentinel-aware client, and the old master coming back.

use crate::harness::*;
use redis::Commands;
use std::path::Path;
use std::time::Duration;

const LEADER_SEQUENCE: &[&str] = &[
    "+new-epoch",
    "+try-failover",
    "+vote-for-leader",
    "+elected-leader",
    "+failover-state-select-slave",
    "+selected-slave",
    "+failover-state-send-slaveof-noone",
    "+failover-state-wait-promotion",
    "+promoted-slave",
    "+failover-state-reconf-slaves",
    "+slave-reconf-sent",
    "+slave-reconf-inprog",
    "+slave-reconf-done",
    "+failover-end",
    "+switch-master",
];

fn conf(master: u16, quorum: u32) -> String {
    format!(
        "sentinel monitor mymaster 127.0.0.1 {master} {quorum}\nsentinel down-after-milliseconds mymaster 2000\nsentinel failover-timeout mymaster 10000\n"
    )
}

/// Channels of `ev`, in order, restricted to those in `want`: must equal `want`.
fn assert_subsequence(seen: &[(String, String)], want: &[&str]) {
    let mut it = seen.iter().map(|(c, _)| c.as_str());
    for w in want {
        assert!(
            it.any(|c| c == *w),
            "missing {w} in order; saw {:?}",
            seen.iter().map(|(c, _)| c).collect::<Vec<_>>()
        );
    }
}

fn wait_all_agree(sentinels: &[Proc], port: u16) {
    for s in sentinels {
        wait_until(
            &format!("sentinel {} names master {port}", s.port),
            Duration::from_secs(30),
            || master_port_of(s.port) == port,
        );
    }
}

fn wait_replica_of(node: u16, master: u16) {
    wait_until(
        &format!("{node} replicating from {master}"),
        Duration::from_secs(40),
        || {
            let r = replication(node);
            r.get("role").map(String::as_str) == Some("slave")
                && r.get("master_port").map(String::as_str) == Some(&*master.to_string())
                && r.get("master_link_status").map(String::as_str) == Some("up")
        },
    );
}

#[test]
fn three_rsentinels_fail_over_three_rounds_in_a_row() {
    require!("redis-server");
    let mut nodes = vec![redis_server(&[])];
    let mp = nodes[0].port.to_string();
    nodes.push(redis_server(&["--replicaof", "127.0.0.1", &mp]));
    nodes.push(redis_server(&["--replicaof", "127.0.0.1", &mp]));
    let ports: Vec<u16> = nodes.iter().map(|n| n.port).collect();
    let bin = rsentinel_bin();
    let sentinels: Vec<Proc> = (0..3).map(|_| sentinel(&bin, &conf(ports[0], 2))).collect();
    for s in &sentinels {
        let mut c = Raw::connect(s.port);
        wait_until("full discovery", Duration::from_secs(30), || {
            let m = parse_pairs(&c.cmd(&["SENTINEL", "MASTER", "mymaster"]));
            field(&m, "num-slaves") == "2" && field(&m, "num-other-sentinels") == "2"
        });
    }
    let mut master = ports[0];
    for round in 1..=3 {
        let mut subs: Vec<Events> = sentinels
            .iter()
            .map(|s| Events::subscribe(s.port))
            .collect();
        let idx = ports.iter().position(|p| *p == master).unwrap();
        nodes[idx].kill9();
        for ev in subs.iter_mut() {
            ev.wait_for("+switch-master", Duration::from_secs(30), |p| {
                p.starts_with(&format!("mymaster 127.0.0.1 {master} "))
            });
        }
        let new_master = master_port_of(sentinels[0].port);
        assert_ne!(new_master, master, "round {round}");
        wait_all_agree(&sentinels, new_master);
        assert_eq!(
            replication(new_master).get("role").map(String::as_str),
            Some("master")
        );
        let other = *ports
            .iter()
            .find(|p| **p != master && **p != new_master)
            .unwrap();
        wait_replica_of(other, new_master);
        // Exactly one leader, with the real event sequence; observers switch via hellos.
        let leaders: Vec<&Events> = subs
            .iter()
            .filter(|e| e.position("+elected-leader").is_some())
            .collect();
        assert_eq!(leaders.len(), 1, "round {round}: one leader");
        assert_subsequence(&leaders[0].seen, LEADER_SEQUENCE);
        assert_subsequence(&leaders[0].seen, &["+sdown", "+odown", "+try-failover"]);
        // The quorum (2) judged the master down before the switch. The third sentinel may
        // learn the switch from a hello before its own down-after has run out (its last PING
        // reply can be up to a period later than the others'): redis-sentinel does the same,
        // so only the quorum is required to have its own +sdown first.
        let judged_down = subs
            .iter()
            .filter(|ev| {
                let sdown = ev
                    .seen
                    .iter()
                    .position(|(c, p)| c == "+sdown" && p.starts_with("master mymaster "));
                matches!((sdown, ev.position("+switch-master")), (Some(a), Some(b)) if a < b)
            })
            .count();
        assert!(
            judged_down >= 2,
            "round {round}: {judged_down} sentinels saw +sdown first"
        );
        for ev in &subs {
            if ev.position("+elected-leader").is_none() {
                assert_subsequence(&ev.seen, &["+config-update-from", "+switch-master"]);
            }
        }
        // Every config file names the new master, with the same config epoch.
        for s in &sentinels {
            wait_until("config rewritten", Duration::from_secs(5), || {
                let t = s.conf_text();
                t.contains(&format!(
                    "sentinel monitor mymaster 127.0.0.1 {new_master} 2\n"
                )) && t.contains(&format!("sentinel config-epoch mymaster {round}\n"))
            });
        }
        // A Sentinel-aware client writes to the new master.
        let urls: Vec<String> = sentinels
            .iter()
            .map(|s| format!("redis://127.0.0.1:{}/", s.port))
            .collect();
        let mut client = redis::sentinel::SentinelClient::build(
            urls,
            "mymaster".to_string(),
            None,
            redis::sentinel::SentinelServerType::Master,
        )
        .unwrap();
        let mut con = client.get_connection().unwrap();
        let _: () = con.set("round", round).unwrap();
        let direct: i64 = redis::Client::open(format!("redis://127.0.0.1:{new_master}/"))
            .unwrap()
            .get_connection()
            .unwrap()
            .get("round")
            .unwrap();
        assert_eq!(direct, round);
        // The old master comes back and is turned into a replica of the new one.
        nodes[idx] = redis_server_on(master, &[]);
        wait_replica_of(master, new_master);
        master = new_master;
    }
}

/// A cluster of `real` redis-sentinel and `ours` rsentinel processes over one master
/// and two replicas.
fn mixed(real: usize, ours: usize) -> (Vec<Proc>, Vec<Proc>) {
    let m = redis_server(&[]);
    let mp = m.port.to_string();
    let nodes = vec![
        m,
        redis_server(&["--replicaof", "127.0.0.1", &mp]),
        redis_server(&["--replicaof", "127.0.0.1", &mp]),
    ];
    let mut sentinels = Vec::new();
    for i in 0..real + ours {
        let bin = if i < real {
            Path::new("redis-sentinel").to_path_buf()
        } else {
            rsentinel_bin()
        };
        sentinels.push(sentinel(&bin, &conf(nodes[0].port, 2)));
    }
    for s in &sentinels {
        let mut c = Raw::connect(s.port);
        wait_until("full discovery", Duration::from_secs(30), || {
            let m = parse_pairs(&c.cmd(&["SENTINEL", "MASTER", "mymaster"]));
            let want_peers = (real + ours - 1).to_string();
            field(&m, "num-slaves") == "2"
                && field(&m, "num-other-sentinels") == want_peers
                && field(&m, "flags") == "master"
        });
    }
    (nodes, sentinels)
}

/// Force a failover on `leader` and check that everybody agrees and persists.
fn forced_failover_agrees(nodes: &[Proc], sentinels: &[Proc], leader: usize, epoch: u64) {
    let before = master_port_of(sentinels[0].port);
    // Every sentinel must have a settled view first: all replicas seen as replicas of the
    // current master. Forcing a failover while a peer still holds a stale INFO of the old
    // master (it reported `role:master` until it was converted) lets that peer's
    // +convert-to-slave undo our promotion; redis-sentinel has the same race.
    for s in sentinels {
        let mut c = Raw::connect(s.port);
        wait_until(
            "a settled view of the replicas",
            Duration::from_secs(30),
            || {
                let replicas = parse_instances(&c.cmd(&["SENTINEL", "REPLICAS", "mymaster"]));
                replicas.len() == 2
                    && replicas.iter().all(|r| {
                        field(r, "flags") == "slave"
                            && field(r, "role-reported") == "slave"
                            && field(r, "master-port") == before.to_string()
                            && field(r, "master-link-status") == "ok"
                    })
            },
        );
    }
    let mut c = Raw::connect(sentinels[leader].port);
    // Replicas must be known and healthy for a forced failover to be possible.
    wait_until(
        "SENTINEL FAILOVER accepted",
        Duration::from_secs(20),
        || c.cmd(&["SENTINEL", "FAILOVER", "mymaster"]) == b"+OK\r\n",
    );
    wait_until("leader switched", Duration::from_secs(30), || {
        master_port_of(sentinels[leader].port) != before
    });
    let new_master = master_port_of(sentinels[leader].port);
    wait_all_agree(sentinels, new_master);
    for s in sentinels {
        let mut c = Raw::connect(s.port);
        wait_until(
            "same config epoch everywhere",
            Duration::from_secs(20),
            || {
                let m = parse_pairs(&c.cmd(&["SENTINEL", "MASTER", "mymaster"]));
                field(&m, "config-epoch") == epoch.to_string()
            },
        );
        wait_until("config persisted", Duration::from_secs(10), || {
            let t = s.conf_text();
            t.contains(&format!(
                "sentinel monitor mymaster 127.0.0.1 {new_master} 2\n"
            )) && t.contains(&format!("sentinel config-epoch mymaster {epoch}\n"))
        });
    }
    for n in nodes.iter().filter(|n| n.port != new_master) {
        wait_replica_of(n.port, new_master);
    }
}

#[test]
fn mixed_two_real_one_rsentinel() {
    require!("redis-server");
    require!("redis-sentinel");
    let (nodes, sentinels) = mixed(2, 1);
    forced_failover_agrees(&nodes, &sentinels, 2, 1); // rsentinel leads
    forced_failover_agrees(&nodes, &sentinels, 0, 2); // a real one leads
}

#[test]
fn mixed_one_real_two_rsentinels() {
    require!("redis-server");
    require!("redis-sentinel");
    let (nodes, sentinels) = mixed(1, 2);
    forced_failover_agrees(&nodes, &sentinels, 1, 1); // rsentinel leads
    forced_failover_agrees(&nodes, &sentinels, 0, 2); // the real one leads
}

#[test]
fn mixed_cluster_elects_on_a_real_crash() {
    require!("redis-server");
    require!("redis-sentinel");
    let (mut nodes, sentinels) = mixed(1, 2);
    let old = nodes[0].port;
    nodes[0].kill9();
    wait_until("a new master", Duration::from_secs(30), || {
        master_port_of(sentinels[0].port) != old
    });
    let new_master = master_port_of(sentinels[0].port);
    wait_all_agree(&sentinels, new_master);
    let other = nodes
        .iter()
        .map(|n| n.port)
        .find(|p| *p != old && *p != new_master)
        .unwrap();
    wait_replica_of(other, new_master);
}

#[test]
fn simulate_failure_crash_after_election_exits_99() {
    require!("redis-server");
    let m = redis_server(&[]);
    let mp = m.port.to_string();
    let _r = redis_server(&["--replicaof", "127.0.0.1", &mp]);
    let mut s = sentinel(&rsentinel_bin(), &conf(m.port, 1));
    let mut c = Raw::connect(s.port);
    assert_eq!(
        c.cmd(&["SENTINEL", "SIMULATE-FAILURE", "crash-after-election"]),
        b"+OK\r\n"
    );
    wait_until(
        "SENTINEL FAILOVER accepted",
        Duration::from_secs(20),
        || c.cmd(&["SENTINEL", "FAILOVER", "mymaster"]) == b"+OK\r\n",
    );
    wait_until("the simulated crash", Duration::from_secs(10), || {
        matches!(s.child.try_wait(), Ok(Some(_)))
    });
    assert_eq!(s.child.try_wait().unwrap().unwrap().code(), Some(99));
    let log = std::fs::read_to_string(s.dir.join("sentinel.log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let elected = lines
        .iter()
        .position(|l| l.contains("+elected-leader"))
        .expect("elected");
    assert!(
        lines[elected + 1].ends_with("# Sentinel CRASH because of SENTINEL simulate-failure"),
        "{log}"
    );
}
