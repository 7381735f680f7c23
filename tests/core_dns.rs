//! resolve-hostnames without blocking: the core asks (`Action::Resolve`), the shell
//! answers (`Event::Resolved`), records get their IP, names wait for their answer.
//! Expected lines are the real 7.0.15 ones (golden `logs/hostnames-sh.log`, and a run
//! of the real binary with `announce-hostnames no` for the IP forms).

use crate::support::fixture::*;
use crate::support::golden;
use rsentinel::config::{MasterConfig, SentinelConfig};
use rsentinel::core::instance::ConnKind;
use rsentinel::core::{Action, Event, Identity, Sentinel};

/// The golden hostnames topology: `mh` at localhost:41210, quorum 1.
fn hostnames_sim(announce_hostnames: bool, answers: Vec<(String, Option<String>)>) -> Sim {
    let mut m = MasterConfig::new("mh", "localhost", 41210, 1);
    m.down_after_ms = 2000;
    m.failover_timeout_ms = 10000;
    let cfg = SentinelConfig {
        resolve_hostnames: true,
        announce_hostnames,
        ..config(vec![m])
    };
    let mut sim = Sim::new(cfg.clone());
    let id = Identity {
        port: 41202,
        ..Default::default()
    };
    sim.core = Sentinel::new_with_dns(&cfg, id, 7, sim.now, answers);
    sim
}

fn localhost() -> Vec<(String, Option<String>)> {
    vec![("localhost".into(), Some("127.0.0.1".into()))]
}

fn master_info_with(lines: &[&str]) -> String {
    let mut s = format!(
        "# Server\r\nrun_id:{}\r\n# Replication\r\nrole:master\r\n",
        "a".repeat(40)
    );
    for (n, l) in lines.iter().enumerate() {
        s.push_str(&format!("slave{n}:{l}\r\n"));
    }
    s
}

fn resolves(sim: &Sim) -> Vec<String> {
    sim.all
        .iter()
        .filter_map(|a| match a {
            Action::Resolve { host } => Some(host.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn announce_hostnames_keeps_names_like_the_golden_log() {
    let mut sim = hostnames_sim(true, localhost());
    sim.core.announce_monitors(sim.now);
    sim.tick_at(sim.now + 100);
    let info = master_info_with(&["ip=localhost,port=41211,state=online,offset=1,lag=0"]);
    sim.answer_all("INFO", info_reply(&info));
    let golden = golden::log_lines("logs/hostnames-sh.log");
    for e in [
        "+monitor master mh localhost 41210 quorum 1",
        "+slave slave localhost:41211 localhost 41211 @ mh localhost 41210",
    ] {
        assert!(golden.iter().any(|g| g == e), "{e} not in golden");
        assert!(sim.has_event(e), "{e} missing: {:?}", sim.events);
    }
    // Known from config load: only the connect re-resolves it.
    assert_eq!(resolves(&sim), vec!["localhost".to_string()]);
    let r = &sim.core.masters()[0].replicas[0].common;
    assert_eq!(
        (r.name.as_str(), r.ip.as_str()),
        ("localhost:41211", "127.0.0.1")
    );
}

#[test]
fn without_announce_hostnames_records_show_the_resolved_ip() {
    let mut sim = hostnames_sim(false, localhost());
    sim.core.announce_monitors(sim.now);
    sim.tick_at(sim.now + 100);
    assert!(sim.has_event("+monitor master mh 127.0.0.1 41210 quorum 1"));
    let info = master_info_with(&["ip=localhost,port=41211,state=online,offset=1,lag=0"]);
    sim.answer_all("INFO", info_reply(&info));
    let r = &sim.core.masters()[0].replicas[0].common;
    // Named by the IP form at creation, as the real one keys replicas.
    assert_eq!(
        (r.name.as_str(), r.ip.as_str()),
        ("127.0.0.1:41211", "127.0.0.1")
    );
    assert!(sim.has_event("+slave slave 127.0.0.1:41211 127.0.0.1 41211 @ mh 127.0.0.1 41210"));
    let snap = sim.core.config_snapshot();
    assert_eq!(snap.masters[0].host, "127.0.0.1");
    assert_eq!(
        snap.masters[0].known_replicas,
        vec![("127.0.0.1".into(), 41211)]
    );
}

#[test]
fn unknown_name_in_info_waits_for_the_answer() {
    let mut sim = hostnames_sim(false, localhost());
    sim.tick_at(sim.now + 100);
    let info = master_info_with(&["ip=replica-b,port=41212,state=online,offset=1,lag=0"]);
    sim.answer_all("INFO", info_reply(&info));
    assert!(sim.core.masters()[0].replicas.is_empty());
    // (localhost is re-resolved by the connect itself, §4.2 step 1.)
    assert_eq!(
        resolves(&sim),
        vec!["localhost".to_string(), "replica-b".to_string()]
    );
    sim.feed(Event::Resolved {
        host: "replica-b".into(),
        ip: Some("10.1.2.3".into()),
    });
    let r = &sim.core.masters()[0].replicas[0].common;
    assert_eq!(
        (r.name.as_str(), r.ip.as_str(), r.host.as_str()),
        ("10.1.2.3:41212", "10.1.2.3", "replica-b")
    );
    assert!(sim.has_event("+slave slave 10.1.2.3:41212 10.1.2.3 41212 @ mh 127.0.0.1 41210"));
    // The next INFO finds it by its IP form: no second record, no new question (the
    // only other one is the replica's own first connect).
    sim.run(10_100, 100, true);
    sim.answer_all("INFO", info_reply(&info));
    assert_eq!(sim.core.masters()[0].replicas.len(), 1);
    let asked = resolves(&sim).iter().filter(|h| *h == "replica-b").count();
    assert_eq!(asked, 2);
}

#[test]
fn unresolvable_replica_is_created_without_ip_like_the_real_one() {
    // Real 7.0.15 (resolve yes, announce no, replica-announce-ip nonexistent.invalid):
    //   # Failed to resolve hostname 'nonexistent.invalid'   (twice)
    //   * +slave slave :27412  27412 @ mh 127.0.0.1 27410
    //   then once per reconnect attempt; link-pending-commands stays 0.
    let mut sim = hostnames_sim(false, localhost());
    sim.tick_at(sim.now + 100);
    let info = master_info_with(&["ip=nonexistent.invalid,port=41212,state=online,offset=1,lag=0"]);
    sim.answer_all("INFO", info_reply(&info));
    sim.feed(Event::Resolved {
        host: "nonexistent.invalid".into(),
        ip: None,
    });
    let failed = "Failed to resolve hostname 'nonexistent.invalid'".to_string();
    assert_eq!(sim.logs, vec![failed.clone(); 2]);
    assert!(sim.has_event("+slave slave :41212  41212 @ mh 127.0.0.1 41210"));
    let link = sim.replica_link(":41212");
    // No address: reconnecting fails on the spot, nothing is sent or counted.
    sim.run(3000, 100, true);
    assert!(
        !sim.all
            .iter()
            .any(|a| matches!(a, Action::Connect { link: l, .. } if *l == link))
    );
    assert!(sim.sent.iter().all(|s| s.link != link));
    assert_eq!(sim.core.links()[&link].pending_commands, 0);
    // ...but the name is asked again on every attempt.
    assert!(
        resolves(&sim)
            .iter()
            .filter(|h| *h == "nonexistent.invalid")
            .count()
            >= 2
    );
    // 7.0.15 would persist it as `known-replica mh  41212`, which the next start cannot
    // load; rsentinel keeps the record in memory but never writes an empty address.
    let known = &sim.core.config_snapshot().masters[0].known_replicas;
    assert!(known.iter().all(|(h, _)| !h.is_empty()), "{known:?}");
}

#[test]
fn reconnect_re_resolves_and_the_answer_updates_every_record() {
    let mut sim = hostnames_sim(false, localhost());
    sim.tick_at(sim.now + 100);
    let ml = sim.master_link();
    assert_eq!(resolves(&sim), vec!["localhost".to_string()]);
    sim.feed(Event::Resolved {
        host: "localhost".into(),
        ip: Some("127.0.0.1".into()),
    });
    sim.feed(Event::Disconnected {
        link: ml,
        conn: ConnKind::Cmd,
        error: "Connection refused".into(),
    });
    sim.tick_at(sim.now + 1000);
    assert_eq!(resolves(&sim).len(), 2);
    // The instance came back elsewhere: the new IP shows and is what matches now.
    sim.feed(Event::Resolved {
        host: "LOCALHOST".into(),
        ip: Some("127.0.0.2".into()),
    });
    let c = &sim.core.masters()[0].common;
    assert_eq!(c.ip, "127.0.0.2");
    assert!(sim.core.addr_matches_host(c, "127.0.0.2"));
    assert!(sim.core.addr_matches_host(c, "localhost"));
    assert!(!sim.core.addr_matches_host(c, "127.0.0.1"));
    // A failed re-resolution keeps the last address.
    sim.feed(Event::Resolved {
        host: "localhost".into(),
        ip: None,
    });
    assert_eq!(sim.core.masters()[0].common.ip, "127.0.0.2");
}

#[test]
fn matching_an_unresolved_name_falls_back_to_the_hostname_then_asks() {
    let mut sim = hostnames_sim(false, localhost());
    let c = sim.core.masters()[0].common.clone();
    // Not resolved yet: compared with the stored hostname (§11.2).
    assert!(sim.core.addr_matches_host(&c, "LocalHost"));
    assert!(!sim.core.addr_matches_host(&c, "other-name"));
    // A replica reporting its master by a name gets that name resolved.
    sim.tick_at(sim.now + 100);
    let info = master_info_with(&["ip=127.0.0.1,port=41211,state=online,offset=1,lag=0"]);
    sim.answer_all("INFO", info_reply(&info));
    sim.tick_at(sim.now + 100);
    let rl = sim.replica_link("127.0.0.1:41211");
    let text = "run_id:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\nrole:slave\r\nmaster_host:mh-alias\r\nmaster_port:41210\r\nmaster_link_status:up\r\n";
    sim.answer_on(rl, "INFO", info_reply(text));
    assert!(resolves(&sim).contains(&"mh-alias".to_string()));
    sim.feed(Event::Resolved {
        host: "mh-alias".into(),
        ip: Some("127.0.0.1".into()),
    });
    let c = sim.core.masters()[0].common.clone();
    assert!(sim.core.addr_matches_host(&c, "mh-alias"));
}

#[test]
fn hello_from_a_sentinel_announcing_a_name_waits_for_its_ip() {
    let mut sim = hostnames_sim(false, localhost());
    sim.tick_at(sim.now + 100);
    let hello = format!("sentinel-b,26379,{PEER1},0,mh,127.0.0.1,41210,0");
    sim.hello_on_master(&hello);
    assert!(sim.core.masters()[0].sentinels.is_empty());
    sim.feed(Event::Resolved {
        host: "sentinel-b".into(),
        ip: Some("10.0.0.7".into()),
    });
    let s = &sim.core.masters()[0].sentinels[0].common;
    assert_eq!((s.host.as_str(), s.ip.as_str()), ("sentinel-b", "10.0.0.7"));
    let e = format!("+sentinel sentinel {PEER1} 10.0.0.7 26379 @ mh 127.0.0.1 41210");
    assert!(sim.has_event(&e), "{:?}", sim.events);
    // Later hellos find it (by name) without waiting.
    let n = sim.events.len();
    sim.hello_on_master(&hello);
    assert_eq!(sim.core.masters()[0].sentinels.len(), 1);
    assert_eq!(sim.events.len(), n);
}

#[test]
fn without_resolve_hostnames_nothing_is_ever_resolved() {
    let mut sim = Sim::standard();
    sim.tick_at(sim.now + 100);
    let info = master_info(&"a".repeat(40), &[41001]);
    sim.answer_all("INFO", info_reply(&info));
    sim.run(5000, 100, true);
    assert!(resolves(&sim).is_empty());
    assert_eq!(sim.core.masters()[0].replicas[0].common.ip, "127.0.0.1");
}
