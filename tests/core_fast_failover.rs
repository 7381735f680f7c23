//! Issue #9: the failover's speed-only deviations from redis-sentinel's timing (same
//! events, same commands, shorter gaps), on a fake clock.

use crate::support::fixture::*;
use rsentinel::core::Action;
use rsentinel::core::instance::{ConnKind, flags};
use rsentinel::resp::Reply;

fn hello(ip: &str, port: u16, id: &str, epoch: u64, maddr: &str, mport: u16, cfg: u64) -> String {
    format!("{ip},{port},{id},{epoch},mymaster,{maddr},{mport},{cfg}")
}

/// An observer switched by a peer's hello while the old master was dead (its link
/// re-dialed on every tick): the new master is dialed in the same input, not after the
/// reconnect throttle, the switch does not carry the old master's silence or the peers'
/// "down" answers about it, and the new master cannot go +sdown before down-after
/// counted from the switch.
#[test]
fn after_switch_master_the_new_master_is_dialled_at_once_and_judged_afresh() {
    let mut m = master_cfg();
    m.known_replicas = vec![("127.0.0.1".into(), 41001), ("127.0.0.1".into(), 41002)];
    m.known_sentinels = vec![("127.0.0.1".into(), 41101, PEER1.into())];
    let down_after = m.down_after_ms;
    let mut sim = Sim::new(config(vec![m]));
    sim.tick_at(sim.now + 100);
    // Steady state.
    sim.answer_all("PING", Reply::Status("PONG".into()));
    sim.clear();
    // The old master's connection breaks and is re-dialed right away (throttle spent).
    let ml = sim.master_link();
    sim.feed(rsentinel::core::Event::Disconnected {
        link: ml,
        conn: ConnKind::Cmd,
        error: "refused".into(),
    });
    sim.auto_connect = false;
    sim.tick_at(sim.now + 1000);
    assert!(
        sim.all
            .iter()
            .any(|a| matches!(a, Action::Connect { port: 41000, .. }))
    );
    sim.clear();
    sim.now += 50;
    sim.hello_on_master(&hello("127.0.0.1", 41101, PEER1, 1, "127.0.0.1", 41002, 1));
    assert!(sim.has_event("+switch-master mymaster 127.0.0.1 41000 127.0.0.1 41002"));
    let switch_at = sim.now;
    // Dialed in the same input, both connections, before the flush.
    let connects: Vec<_> = sim
        .all
        .iter()
        .filter(|a| matches!(a, Action::Connect { link, port: 41002, .. } if *link == ml))
        .collect();
    assert_eq!(connects.len(), 2, "{:?}", sim.all);
    assert_eq!(sim.all.last(), Some(&Action::PersistConfig));
    let m = &sim.core.masters()[0];
    assert!(
        m.sentinels
            .iter()
            .all(|s| s.common.flags & flags::MASTER_DOWN == 0)
    );
    // Nobody answers: still not +sdown until down-after has passed since the switch.
    sim.auto_connect = true;
    while sim.now < switch_at + down_after {
        sim.tick_at(sim.now + 100);
        if sim.now <= switch_at + down_after {
            assert!(
                !sim.has_event("+sdown master mymaster 127.0.0.1 41002"),
                "+sdown {} ms after the switch",
                sim.now - switch_at
            );
        }
    }
}
