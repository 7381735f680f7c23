//! `SENTINEL FAILOVER` (forced, SENTINEL.md §7.3) among three in-process sentinels,
//! replaying golden failover #2: master 41002, replicas 41000/41001, config epoch 1,
//! s1 asked to fail over; 41001 gets promoted.

use crate::sim::golden_mode::*;
use crate::support::golden;
use rsentinel::core::instance::{FailoverState, flags};
use rsentinel::resp::Reply;

fn manual() -> (World, u64) {
    let mut w = World::three(&[41002, 41000, 41001], |m| {
        m.config_epoch = 1;
        m.leader_epoch = 1;
    });
    w.run_for(5000);
    let at = w.now + 13;
    w.run_until(at);
    assert_eq!(
        w.command(0, &["SENTINEL", "FAILOVER", "mymaster"]),
        Reply::ok()
    );
    assert!(w.run_while_not(20_000, |w| {
        (0..3).all(|n| w.nodes[n].core.masters()[0].common.port == 41001)
            && w.nodes[0].core.masters()[0].failover_state == FailoverState::None
    }));
    (w, at)
}

/// Golden events of sentinel `file` from `+new-epoch 2` through the `+slave` lines
/// that follow the second `+switch-master`, without role-change events (which depend
/// on when each observer's 10 s INFO happened to run).
fn golden_manual(file: &str) -> Vec<String> {
    let all = golden::events(file);
    let start = all.iter().position(|e| e == "+new-epoch 2").unwrap();
    let sw = all
        .iter()
        .position(|e| e == "+switch-master mymaster 127.0.0.1 41002 127.0.0.1 41001")
        .unwrap();
    all[start..sw + 3].to_vec()
}

fn ours(w: &World, n: usize, from: u64) -> Vec<String> {
    let v = w.events_from(n, from);
    let sw = v
        .iter()
        .position(|e| e.starts_with("+switch-master"))
        .unwrap();
    v[..sw + 3].to_vec()
}

fn no_role_change(v: Vec<String>) -> Vec<String> {
    v.into_iter()
        .filter(|e| !e.contains("role-change"))
        .collect()
}

#[test]
fn leader_replays_golden_failover_two() {
    let (w, at) = manual();
    assert_eq!(ours(&w, 0, at), golden_manual("events/events-s1.log"));
    assert!(
        w.nodes[0]
            .logs
            .iter()
            .any(|(t, l)| *t == at && l == "Executing user requested FAILOVER of 'mymaster'")
    );
    // The self-vote and the election happen on the next tick, not in the command.
    assert_eq!(w.event_time(0, "+try-failover").unwrap(), at);
    let voted = w.event_time(0, "+vote-for-leader").unwrap();
    assert!(voted > at && voted <= at + 100);
    assert_eq!(w.event_time(0, "+elected-leader").unwrap(), voted);
}

#[test]
fn observers_learn_the_new_configuration_from_hellos() {
    let (w, at) = manual();
    for (n, file) in [(1, "events/events-s2.log"), (2, "events/events-s3.log")] {
        assert_eq!(
            no_role_change(ours(&w, n, at)),
            no_role_change(golden_manual(file)),
            "s{}",
            n + 1
        );
        assert_eq!(w.nodes[n].core.masters()[0].config_epoch, 2);
        // They never voted in epoch 2.
        assert_eq!(w.nodes[n].core.masters()[0].leader_epoch, 1);
    }
}

#[test]
fn no_peer_is_asked_and_no_majority_is_needed() {
    let (w, at) = manual();
    assert!(
        !w.nodes[0]
            .sent
            .iter()
            .any(|(t, _, a)| *t >= at && a.len() > 1 && a[1] == "is-master-down-by-addr")
    );
    let m = &w.nodes[0].core.masters()[0];
    assert_eq!(
        m.common.flags & (flags::FORCE_FAILOVER | flags::FAILOVER_IN_PROGRESS),
        0
    );
    assert_eq!((m.config_epoch, w.nodes[0].core.current_epoch()), (2, 2));
}

#[test]
fn second_request_while_running_is_refused() {
    let mut w = World::three(&[41002, 41000, 41001], |_| {});
    w.run_for(5000);
    assert_eq!(
        w.command(0, &["SENTINEL", "FAILOVER", "mymaster"]),
        Reply::ok()
    );
    w.run_for(300);
    assert_eq!(
        w.command(0, &["SENTINEL", "FAILOVER", "mymaster"]),
        Reply::err("INPROG Failover already in progress")
    );
}

#[test]
fn old_master_is_turned_into_a_replica_of_the_promoted_one() {
    let (mut w, _) = manual();
    assert!(w.run_while_not(30_000, |w| {
        let r = w.redis.iter().find(|r| r.port == 41002).unwrap();
        !r.is_master() && r.master_port() == Some(41001)
    }));
    assert!((0..3).any(|n| w.has_event(
        n,
        "+convert-to-slave slave 127.0.0.1:41002 127.0.0.1 41002 @ mymaster 127.0.0.1 41001"
    )));
}
