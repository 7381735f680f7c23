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
    // The peer's cached "down" answer about the old master.
    sim.core.test_access().masters[0].sentinels[0].common.flags |= flags::MASTER_DOWN;
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

const SDOWN: &str = "+sdown master mymaster 127.0.0.1 41000";

/// Two peers, steady state, then the master stops answering until our attempt starts
/// (both peers said "down").
fn attempt_started() -> Sim {
    drive_to_attempt(Sim::with_peers(), false)
}

/// Tick every 100 ms, the master silent, everything else answering (replicas' INFO too
/// when `replicas`), both peers saying "down" once we are SDOWN, until our attempt starts.
fn drive_to_attempt(mut sim: Sim, replicas: bool) -> Sim {
    let ml = sim.master_link();
    while !sim.has_event("+try-failover master mymaster 127.0.0.1 41000") {
        sim.tick_at(sim.now + 100);
        for s in sim.pending("PING") {
            if s.link != ml {
                sim.answer(&s, Reply::Status("PONG".into()));
            }
        }
        for s in sim.pending("INFO").into_iter().filter(|_| replicas) {
            if s.link != ml {
                sim.answer(&s, info_reply(&replica_info(&"b".repeat(40), 41000, false)));
            }
        }
        if sim.has_event(SDOWN) {
            for s in sim.pending("SENTINEL") {
                if s.args.last().map(String::as_str) == Some("*") {
                    sim.answer(&s, ask_reply(1, "*", 0));
                }
            }
        }
    }
    sim
}

/// Our vote request (is-master-down-by-addr with our run id) pending on `peer`'s link.
fn vote_request_to(sim: &Sim, peer: &str) -> Sent {
    let link = sim.sentinel_link(peer);
    sim.pending("SENTINEL")
        .into_iter()
        .find(|s| s.link == link && s.args.last().map(String::as_str) == Some(MYID))
        .expect("a vote request to the peer")
}

/// The deciding vote is counted when it arrives: `+elected-leader` in the same input,
/// not on the next tick.
#[test]
fn elected_leader_as_soon_as_the_deciding_vote_arrives() {
    let mut sim = attempt_started();
    assert!(!sim.has_event("+elected-leader master mymaster 127.0.0.1 41000"));
    let ask = vote_request_to(&sim, PEER1);
    let before = sim.events.len();
    sim.answer(&ask, ask_reply(1, MYID, 1));
    assert_eq!(
        sim.events_since(before),
        vec![
            "+elected-leader master mymaster 127.0.0.1 41000".to_string(),
            "+failover-state-select-slave master mymaster 127.0.0.1 41000".to_string(),
        ]
    );
}

/// While our attempt waits for votes, a peer that answered is asked again after
/// 100 ms (redis-sentinel: ASK-PERIOD, 1 s), with the same request.
#[test]
fn vote_requests_repeat_every_100_ms_while_waiting_for_the_election() {
    let mut sim = attempt_started();
    let l1 = sim.sentinel_link(PEER1);
    let asks = |sim: &Sim| -> Vec<Vec<String>> {
        sim.sends_on(l1)
            .into_iter()
            .filter(|a| a[0] == "SENTINEL")
            .collect()
    };
    // Peer 1 voted for peer 2 in our epoch: no majority for anyone yet.
    sim.answer_on(l1, "SENTINEL", ask_reply(1, PEER2, 1));
    let n = asks(&sim).len();
    sim.tick_at(sim.now + 50);
    assert_eq!(asks(&sim).len(), n, "not within 100 ms of the answer");
    sim.tick_at(sim.now + 50);
    let after = asks(&sim);
    assert_eq!(after.len(), n + 1, "asked again 100 ms after the answer");
    assert_eq!(after.last().unwrap()[5], MYID);
    assert_eq!(after.last().unwrap()[4], "1");
}

/// `attempt_started` with one replica (41001) that answers INFO as a healthy replica.
fn attempt_started_with_replica() -> Sim {
    let mut m = master_cfg();
    m.known_sentinels = vec![
        ("127.0.0.1".into(), 41101, PEER1.into()),
        ("127.0.0.1".into(), 41102, PEER2.into()),
    ];
    let mut sim = Sim::new(config(vec![m]));
    sim.run(200, 100, true);
    sim.answer_all("INFO", info_reply(&master_info(&"a".repeat(40), &[41001])));
    sim.run(3000, 100, true);
    sim.clear();
    drive_to_attempt(sim, true)
}

/// From the deciding vote to `SLAVEOF NO ONE` in one input, then the promoted replica
/// is polled with INFO every ~100 ms (redis-sentinel: one state per tick, INFO every
/// second).
#[test]
fn slaveof_no_one_in_the_same_input_as_the_election_then_info_every_100_ms() {
    let mut sim = attempt_started_with_replica();
    let ask = vote_request_to(&sim, PEER1);
    let before = sim.sent.len();
    sim.answer(&ask, ask_reply(1, MYID, 1));
    assert!(sim.has_event("+elected-leader master mymaster 127.0.0.1 41000"));
    let rl = sim.replica_link("127.0.0.1:41001");
    assert!(
        sim.sent[before..]
            .iter()
            .any(|s| s.link == rl && s.args == ["SLAVEOF", "NO", "ONE"]),
        "SLAVEOF NO ONE in the same input"
    );
    let infos = |sim: &Sim| sim.sends_on(rl).iter().filter(|a| a[0] == "INFO").count();
    let n = infos(&sim);
    for _ in 0..10 {
        sim.tick_at(sim.now + 100);
        sim.answer_on(
            rl,
            "INFO",
            info_reply(&replica_info(&"b".repeat(40), 41000, false)),
        );
        sim.answer_on(rl, "PING", Reply::Status("PONG".into()));
    }
    assert!(infos(&sim) - n >= 4, "{} INFOs in 1 s", infos(&sim) - n);
}

/// The promotion carries an INFO right behind `EXEC`, so the replica's own answer after
/// `SLAVEOF NO ONE` brings `+promoted-slave`; in that same input the leader publishes its
/// hello (the promoted address under the new config epoch) to every peer, instead of on
/// the next tick, and starts reconfiguring the other replicas.
#[test]
fn promotion_seen_on_the_info_behind_exec_and_hello_sent_in_the_same_input() {
    let mut sim = attempt_started_with_replica();
    let ask = vote_request_to(&sim, PEER1);
    sim.answer(&ask, ask_reply(1, MYID, 1));
    let rl = sim.replica_link("127.0.0.1:41001");
    let after_exec: Vec<String> = sim
        .sends_on(rl)
        .iter()
        .skip_while(|a| a[0] != "EXEC")
        .map(|a| a[0].clone())
        .collect();
    assert_eq!(
        after_exec,
        ["EXEC", "INFO"],
        "INFO right behind the transaction"
    );
    let before = sim.sent.len();
    let at = sim.now;
    sim.answer_on(rl, "INFO", info_reply(&master_info(&"b".repeat(40), &[])));
    assert!(sim.has_event(
        "+promoted-slave slave 127.0.0.1:41001 127.0.0.1 41001 @ mymaster 127.0.0.1 41000"
    ));
    assert_eq!(sim.now, at, "no tick in between");
    let hello_to = |peer: &str| {
        let l = sim.sentinel_link(peer);
        sim.sent[before..].iter().any(|s| {
            s.link == l
                && s.args[0] == "PUBLISH"
                && s.args[1] == "__sentinel__:hello"
                && s.args[2].ends_with(",mymaster,127.0.0.1,41001,1")
        })
    };
    assert!(
        hello_to(PEER1) && hello_to(PEER2),
        "hello with the promoted address to both peers"
    );
}
