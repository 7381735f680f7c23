//! Monitoring with real processes: discovery, config persistence, SDOWN/ODOWN, and a mixed
//! cluster with real redis-sentinel peers.

use crate::harness::*;
use std::path::Path;
use std::time::Duration;

/// A master and two replicas that can never be promoted (`replica-priority 0`): these tests
/// watch every sentinel reach ODOWN, and a failover would end it first. rsentinel's leader
/// switches within a few hundred milliseconds of its own ODOWN (issue #9), before a slower
/// peer (a real redis-sentinel asks its peers once a second) has counted the answers it
/// needs; with no replica to promote, every attempt aborts and the master stays ODOWN.
fn topology() -> (Proc, Proc, Proc) {
    let master = redis_server(&[]);
    let mp = master.port.to_string();
    let replica = || redis_server(&["--replicaof", "127.0.0.1", &mp, "--replica-priority", "0"]);
    let (r1, r2) = (replica(), replica());
    (master, r1, r2)
}

fn conf(master: u16, quorum: u32) -> String {
    format!(
        "sentinel monitor mymaster 127.0.0.1 {master} {quorum}\nsentinel down-after-milliseconds mymaster 2000\nsentinel failover-timeout mymaster 60000\n"
    )
}

#[test]
fn three_rsentinels_discover_persist_and_agree_on_odown() {
    require!("redis-server");
    let (mut master, r1, r2) = topology();
    let bin = rsentinel_bin();
    let sentinels: Vec<Proc> = (0..3)
        .map(|_| sentinel(&bin, &conf(master.port, 2)))
        .collect();
    for s in &sentinels {
        let mut c = Raw::connect(s.port);
        // A just-discovered instance is `disconnected` until the next timer run connects
        // it (in redis-sentinel too), so wait for connected links as well.
        wait_until(
            "discovery of 2 connected replicas and 2 connected sentinels",
            Duration::from_secs(30),
            || {
                let replicas = parse_instances(&c.cmd(&["SENTINEL", "REPLICAS", "mymaster"]));
                let peers = parse_instances(&c.cmd(&["SENTINEL", "SENTINELS", "mymaster"]));
                replicas.len() == 2
                    && peers.len() == 2
                    && replicas.iter().all(|r| field(r, "flags") == "slave")
                    && peers.iter().all(|p| field(p, "flags") == "sentinel")
            },
        );
        let replicas = parse_instances(&c.cmd(&["SENTINEL", "REPLICAS", "mymaster"]));
        let mut ports: Vec<String> = replicas.iter().map(|r| field(r, "port")).collect();
        ports.sort();
        let mut want = vec![r1.port.to_string(), r2.port.to_string()];
        want.sort();
        assert_eq!(ports, want);
        for r in &replicas {
            assert_eq!(field(r, "flags"), "slave");
            assert_eq!(field(r, "master-port"), master.port.to_string());
        }
        let peers = parse_instances(&c.cmd(&["SENTINEL", "SENTINELS", "mymaster"]));
        assert_eq!(peers.len(), 2);
        for p in &peers {
            assert_eq!(field(p, "flags"), "sentinel");
            assert_eq!(field(p, "runid").len(), 40);
        }
        wait_until(
            "known-replica and known-sentinel lines in the config",
            Duration::from_secs(10),
            || {
                let t = s.conf_text();
                t.matches("sentinel known-replica mymaster").count() == 2
                    && t.matches("sentinel known-sentinel mymaster").count() == 2
            },
        );
    }
    let mut subs: Vec<Events> = sentinels
        .iter()
        .map(|s| Events::subscribe(s.port))
        .collect();
    master.kill9();
    let id = format!("master mymaster 127.0.0.1 {}", master.port);
    for ev in subs.iter_mut() {
        ev.wait_for("+sdown", Duration::from_secs(10), |p| p == id);
        let odown = ev.wait_for("+odown", Duration::from_secs(10), |p| p.starts_with(&id));
        let quorum = odown
            .strip_prefix(&format!("{id} #quorum "))
            .expect("quorum text");
        let (n, q) = quorum.split_once('/').unwrap();
        assert_eq!(q, "2");
        assert!(n.parse::<u32>().unwrap() >= 2, "{odown}");
        assert!(ev.position("+sdown") < ev.position("+odown"));
    }
}

#[test]
fn mixed_cluster_real_sentinels_count_rsentinel() {
    require!("redis-server");
    require!("redis-sentinel");
    let (mut master, _r1, _r2) = topology();
    let real1 = sentinel(Path::new("redis-sentinel"), &conf(master.port, 3));
    let real2 = sentinel(Path::new("redis-sentinel"), &conf(master.port, 3));
    let ours = sentinel(&rsentinel_bin(), &conf(master.port, 3));
    let our_id = String::from_utf8_lossy(&Raw::connect(ours.port).cmd(&["SENTINEL", "MYID"]))
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    for s in [&real1, &real2, &ours] {
        let mut c = Raw::connect(s.port);
        wait_until("mutual discovery", Duration::from_secs(30), || {
            let peers = parse_instances(&c.cmd(&["SENTINEL", "SENTINELS", "mymaster"]));
            peers.len() == 2
                && peers.iter().all(|p| {
                    field(p, "last-hello-message")
                        .parse::<u64>()
                        .unwrap_or(u64::MAX)
                        < 5000
                })
        });
    }
    for s in [&real1, &real2] {
        let peers =
            parse_instances(&Raw::connect(s.port).cmd(&["SENTINEL", "SENTINELS", "mymaster"]));
        assert!(
            peers.iter().any(|p| field(p, "runid") == our_id),
            "real sentinel does not list rsentinel"
        );
    }
    let mut evs = [Events::subscribe(real1.port), Events::subscribe(real2.port)];
    master.kill9();
    // Quorum 3 of 3: a real sentinel can only reach it by counting rsentinel's reply. The
    // first real one to get there starts a failover, and the other may then learn the new
    // master before its own ODOWN, so either may be the one that reports it.
    let want = format!("master mymaster 127.0.0.1 {} #quorum 3/3", master.port);
    wait_until(
        "a real sentinel's +odown #quorum 3/3",
        Duration::from_secs(15),
        || {
            evs.iter_mut().any(|e| {
                e.poll();
                e.seen.iter().any(|(c, p)| c == "+odown" && *p == want)
            })
        },
    );
}
