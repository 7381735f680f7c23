//! Hello intake (discovery, address switch, invalid address, epochs, config updates with
//! the master switch) and TILT.

use crate::support::fixture::*;
use rsentinel::core::instance::ConnKind;
use rsentinel::core::{Action, Event};

const AT: &str = "@ mymaster 127.0.0.1 41000";
const NEW_ID: &str = "26b28267c6166d32b3c08967b9db0c1592778eb4";

fn hello(ip: &str, port: u16, id: &str, epoch: u64, maddr: &str, mport: u16, cfg: u64) -> String {
    format!("{ip},{port},{id},{epoch},mymaster,{maddr},{mport},{cfg}")
}

fn connected() -> Sim {
    let mut sim = Sim::standard();
    sim.tick_at(sim.now + 100);
    sim.clear();
    sim
}

#[test]
fn new_sentinel_is_added_flushed_and_connected_cmd_only() {
    let mut sim = connected();
    sim.hello_on_master(&hello("127.0.0.1", 41101, PEER1, 0, "127.0.0.1", 41000, 0));
    assert_eq!(
        sim.events_since(0),
        vec![format!("+sentinel sentinel {PEER1} 127.0.0.1 41101 {AT}")]
    );
    assert_eq!(sim.persists, 1);
    let s = &sim.core.masters()[0].sentinels[0];
    assert_eq!((s.common.runid.as_str(), s.common.port), (PEER1, 41101));
    assert_eq!(s.last_hello_time, sim.now);
    let snap = sim.core.config_snapshot();
    assert_eq!(
        snap.masters[0].known_sentinels,
        vec![("127.0.0.1".to_string(), 41101, PEER1.to_string())]
    );
    // Same hello again: nothing new.
    sim.hello_on_master(&hello("127.0.0.1", 41101, PEER1, 0, "127.0.0.1", 41000, 0));
    assert_eq!(sim.events.len(), 1);
    sim.tick_at(sim.now + 100);
    let l = sim.sentinel_link(PEER1);
    let conns: Vec<_> = sim
        .all
        .iter()
        .filter_map(|a| match a {
            Action::Connect {
                link, conn, port, ..
            } if *link == l => Some((*conn, *port)),
            _ => None,
        })
        .collect();
    assert_eq!(conns, vec![(ConnKind::Cmd, 41101)]);
}

#[test]
fn own_hellos_and_malformed_ones_are_ignored() {
    let mut sim = connected();
    sim.hello_on_master(&hello("127.0.0.1", 41100, MYID, 5, "127.0.0.1", 41000, 5));
    sim.hello_on_master(&format!(
        "127.0.0.1,41101,{PEER1},0,mymaster,127.0.0.1,41000"
    ));
    sim.hello_on_master(
        &hello("127.0.0.1", 41101, PEER1, 0, "127.0.0.1", 41000, 0).replace("mymaster", "other"),
    );
    assert!(sim.events.is_empty());
    assert_eq!(sim.core.current_epoch(), 0);
    assert!(sim.core.masters()[0].sentinels.is_empty());
}

#[test]
fn address_switch_and_invalid_addr_like_golden_events() {
    let mut sim = connected();
    sim.hello_on_master(&hello("127.0.0.1", 41102, PEER2, 0, "127.0.0.1", 41000, 0));
    sim.clear();
    // s3 moved to 41103 (golden events-s1.log line 79).
    sim.hello_on_master(&hello("127.0.0.1", 41103, PEER2, 0, "127.0.0.1", 41000, 0));
    assert_eq!(
        sim.events_since(0),
        vec![format!(
            "+sentinel-address-switch master mymaster 127.0.0.1 41000 ip 127.0.0.1 port 41103 for {PEER2}"
        )]
    );
    assert_eq!(sim.core.masters()[0].sentinels.len(), 1);
    assert_eq!(sim.core.masters()[0].sentinels[0].common.port, 41103);
    assert_eq!(sim.persists, 1);
    sim.clear();
    // s3 restarted there with a new id (golden lines 80-81).
    sim.hello_on_master(&hello("127.0.0.1", 41103, NEW_ID, 0, "127.0.0.1", 41000, 0));
    assert_eq!(
        sim.events_since(0),
        vec![
            format!("+sentinel-invalid-addr sentinel {PEER2} 127.0.0.1 41103 {AT}"),
            format!("+sentinel sentinel {NEW_ID} 127.0.0.1 41103 {AT}"),
        ]
    );
    let ids: Vec<_> = sim.core.masters()[0]
        .sentinels
        .iter()
        .map(|s| s.common.runid.clone())
        .collect();
    assert_eq!(ids, vec![NEW_ID.to_string()]);
}

#[test]
fn higher_epoch_is_adopted_flushed_and_runs_the_script() {
    let mut m = master_cfg();
    m.notification_script = Some("/bin/notify.sh".into());
    let mut sim = Sim::new(config(vec![m]));
    sim.tick_at(sim.now + 100);
    sim.clear();
    sim.hello_on_master(&hello("127.0.0.1", 41101, PEER1, 2, "127.0.0.1", 41000, 0));
    assert_eq!(sim.core.current_epoch(), 2);
    let tail: Vec<_> = sim.all.iter().skip(1).cloned().collect();
    assert_eq!(
        tail,
        vec![
            Action::PersistConfig,
            Action::PersistConfig,
            Action::Event {
                level: rsentinel::config::LogLevel::Warning,
                channel: "+new-epoch".into(),
                payload: "2".into(),
                script: Some("/bin/notify.sh".into()),
            }
        ]
    );
    // An older epoch changes nothing.
    sim.clear();
    sim.hello_on_master(&hello("127.0.0.1", 41101, PEER1, 1, "127.0.0.1", 41000, 0));
    assert!(sim.all.is_empty());
}

#[test]
fn newer_config_switches_master_and_rebuilds_replicas() {
    let mut m = master_cfg();
    m.client_reconfig_script = Some("/bin/reconf.sh".into());
    m.known_replicas = vec![("127.0.0.1".into(), 41001), ("127.0.0.1".into(), 41002)];
    m.known_sentinels = vec![("127.0.0.1".into(), 41101, PEER1.into())];
    let mut sim = Sim::new(config(vec![m]));
    sim.tick_at(sim.now + 100);
    sim.clear();
    // The leader's hello after promoting 41002 at epoch 1 (golden failover #1).
    sim.hello_on_master(&hello("127.0.0.1", 41101, PEER1, 1, "127.0.0.1", 41002, 1));
    let at2 = "@ mymaster 127.0.0.1 41002";
    assert_eq!(
        sim.events_since(0),
        vec![
            "+new-epoch 1".to_string(),
            format!("+config-update-from sentinel {PEER1} 127.0.0.1 41101 {AT}"),
            "+switch-master mymaster 127.0.0.1 41000 127.0.0.1 41002".to_string(),
            format!("+slave slave 127.0.0.1:41001 127.0.0.1 41001 {at2}"),
            format!("+slave slave 127.0.0.1:41000 127.0.0.1 41000 {at2}"),
        ]
    );
    let m = &sim.core.masters()[0];
    assert_eq!((m.common.port, m.config_epoch), (41002, 1));
    assert_eq!(m.sentinels.len(), 1, "sentinels are kept");
    // The observer's client-reconfig script is queued with the real arguments.
    let pending = sim.core.scripts().pending_reply(sim.now).to_bytes(2);
    let pending = String::from_utf8_lossy(&pending);
    let argv = "$14\r\n/bin/reconf.sh\r\n$8\r\nmymaster\r\n$8\r\nobserver\r\n$5\r\nstart\r\n\
                $9\r\n127.0.0.1\r\n$5\r\n41000\r\n$9\r\n127.0.0.1\r\n$5\r\n41002\r\n";
    assert!(pending.contains(argv), "{pending}");
    // Flushed by the reset.
    assert_eq!(sim.all.last(), Some(&Action::PersistConfig));
    // The master link now points at the new address.
    sim.tick_at(sim.now + 1100);
    let ml = sim.master_link();
    assert!(sim.all.iter().any(|a| matches!(a,
        Action::Connect { link, port: 41002, .. } if *link == ml)));
    // A hello with the same epoch but another address is ignored.
    sim.clear();
    sim.hello_on_master(&hello("127.0.0.1", 41101, PEER1, 1, "127.0.0.1", 41000, 1));
    assert!(sim.events.is_empty());
}

#[test]
fn hello_via_publish_command_path_is_processed() {
    let mut sim = connected();
    let payload = hello("127.0.0.1", 41101, PEER1, 0, "127.0.0.1", 41000, 0);
    sim.feed(Event::Hello {
        payload: payload.into(),
    });
    assert_eq!(sim.core.masters()[0].sentinels.len(), 1);
}

#[test]
fn sentinel_known_under_two_masters_shares_one_link() {
    let mut a = master_cfg();
    a.known_sentinels = vec![("127.0.0.1".into(), 41101, PEER1.into())];
    let mut b = rsentinel::config::MasterConfig::new("other", "127.0.0.1", 42000, 1);
    b.known_sentinels = vec![("127.0.0.1".into(), 41101, PEER1.into())];
    let mut sim = Sim::new(config(vec![a, b]));
    let la = sim.core.masters()[0].sentinels[0].common.link;
    let lb = sim.core.masters()[1].sentinels[0].common.link;
    assert_eq!(la, lb);
    assert_eq!(sim.core.links()[&la].refcount, 2);
    sim.tick_at(sim.now + 100);
    let n = sim
        .all
        .iter()
        .filter(|a| matches!(a, Action::Connect { link, .. } if *link == la))
        .count();
    assert_eq!(n, 1);
}

#[test]
fn tilt_on_forward_jump_suppresses_sdown_and_ends_after_30s() {
    let mut sim = connected();
    sim.run(1000, 100, true);
    sim.clear();
    // The process was stopped for 3.5 s.
    sim.tick_at(sim.now + 3500);
    assert_eq!(
        sim.events_since(0),
        vec!["+tilt #tilt mode entered".to_string()]
    );
    assert_eq!(
        sim.logs,
        vec!["TILT triggered: 3500 ms passed between two timer runs (limit 2000 ms)".to_string()]
    );
    let t0 = sim.now;
    // The master stops answering: no +sdown while in TILT, but monitoring continues.
    sim.run(29_900, 100, false);
    assert_eq!(sim.events.len(), 1);
    assert!(sim.sent.iter().any(|s| s.at > t0 && s.args[0] == "PING"));
    sim.tick_at(sim.now + 100);
    let ev = sim.events_since(1);
    assert_eq!(
        ev,
        vec![
            "-tilt #tilt mode exited".to_string(),
            "+sdown master mymaster 127.0.0.1 41000".to_string()
        ]
    );
}

#[test]
fn tilt_on_backward_jump_and_retrigger_restarts_period() {
    let mut sim = connected();
    sim.run(500, 100, true);
    sim.clear();
    sim.tick_at(sim.now - 1000);
    assert_eq!(
        sim.events_since(0),
        vec!["+tilt #tilt mode entered".to_string()]
    );
    assert_eq!(
        sim.logs,
        vec!["TILT triggered: the clock jumped backwards by 1000 ms".to_string()]
    );
    sim.run(20_000, 100, true);
    sim.tick_at(sim.now + 2500); // re-trigger while in TILT
    assert_eq!(sim.events.len(), 2);
    let t = sim.now;
    sim.run(29_900, 100, true);
    assert!(sim.core.tilt());
    sim.run(100, 100, true);
    assert!(!sim.core.tilt());
    assert_eq!(sim.events.last().unwrap().0, t + 30_000);
}
