//! SDOWN (three rules), ODOWN with quorum, is-master-down-by-addr queries and replies.

use crate::support::fixture::*;
use crate::support::resp::wire;
use rsentinel::core::instance::flags;
use rsentinel::resp::Reply;

const MASTER_ID: &str = "master mymaster 127.0.0.1 41000";

#[test]
fn sdown_after_down_after_counted_from_oldest_unanswered_ping() {
    let mut sim = Sim::with_peers();
    let ml = sim.master_link();
    // From now on only the peers answer PINGs.
    let mut first_unanswered = None;
    let mut sdown_at = None;
    for _ in 0..40 {
        sim.tick_at(sim.now + 100);
        for s in sim.pending("PING") {
            if s.link == ml {
                first_unanswered.get_or_insert(s.at);
            } else {
                sim.answer(&s, Reply::Status("PONG".into()));
            }
        }
        if sdown_at.is_none() && sim.has_event(&format!("+sdown {MASTER_ID}")) {
            sdown_at = Some(sim.now);
        }
    }
    let (p, d) = (first_unanswered.unwrap(), sdown_at.unwrap());
    // elapsed > 2000 on a 100 ms tick grid.
    assert_eq!(d - p, 2100);
    assert!(sim.core.masters()[0].common.flags & flags::S_DOWN != 0);
    assert_eq!(sim.core.masters()[0].common.s_down_since, d);
}

#[test]
fn late_pong_after_deadline_clears_sdown_on_next_tick() {
    let mut sim = Sim::with_peers();
    let ml = sim.master_link();
    sim.run(2500, 100, false);
    assert!(sim.has_event(&format!("+sdown {MASTER_ID}")));
    // The reply to the old PING finally arrives: the instance is available again.
    let n = sim.events.len();
    sim.answer_on(ml, "PING", Reply::Status("PONG".into()));
    assert!(
        sim.events_since(n).is_empty(),
        "state changes only on ticks"
    );
    sim.tick_at(sim.now + 100);
    assert!(sim.has_event(&format!("-sdown {MASTER_ID}")));
}

#[test]
fn loading_and_masterdown_replies_count_as_available_but_noauth_does_not() {
    for (reply, down) in [
        (
            Reply::err("LOADING Redis is loading the dataset in memory"),
            false,
        ),
        (Reply::err("MASTERDOWN Link with MASTER is down"), false),
        (Reply::err("NOAUTH Authentication required."), true),
    ] {
        let mut sim = Sim::with_peers();
        for _ in 0..30 {
            sim.tick_at(sim.now + 100);
            sim.answer_all("PING", reply.clone());
        }
        assert_eq!(
            sim.has_event(&format!("+sdown {MASTER_ID}")),
            down,
            "{reply:?}"
        );
    }
}

#[test]
fn busy_instance_gets_one_script_kill_once_sdown() {
    let mut sim = Sim::with_peers();
    let ml = sim.master_link();
    for _ in 0..50 {
        sim.tick_at(sim.now + 100);
        sim.answer_all("PING", Reply::err("BUSY Redis is busy running a script."));
    }
    assert!(sim.has_event(&format!("+sdown {MASTER_ID}")));
    let kills: Vec<_> = sim
        .sends_on(ml)
        .into_iter()
        .filter(|a| a[0] == "SCRIPT")
        .collect();
    assert_eq!(kills, vec![vec!["SCRIPT".to_string(), "KILL".to_string()]]);
}

#[test]
fn master_reporting_slave_role_is_sdown_after_down_after_plus_two_info_periods() {
    let mut sim = Sim::with_peers();
    let ml = sim.master_link();
    sim.core.test_access().masters[0].common.info_refresh = 0; // make INFO due now
    sim.tick_at(sim.now + 100);
    let t0 = sim.now;
    sim.answer_on(
        ml,
        "INFO",
        info_reply(&replica_info(&"a".repeat(40), 41001, true)),
    );
    // Still PINGable; +sdown only after 2000 + 2 * 10000 ms.
    let mut at = None;
    while sim.now < t0 + 30_000 {
        sim.run(100, 100, true);
        if at.is_none() && sim.has_event(&format!("+sdown {MASTER_ID}")) {
            at = Some(sim.now - t0);
        }
    }
    assert_eq!(at, Some(22_100));
    assert!(sim.has_event(&format!(
        "-role-change {MASTER_ID} new reported role is slave"
    )));
}

#[test]
fn master_reboot_rule_needs_a_pong_to_clear() {
    let mut m = master_cfg();
    m.master_reboot_down_after_period_ms = 1000;
    let mut sim = Sim::new(config(vec![m]));
    sim.run(200, 100, true);
    sim.answer_all("INFO", info_reply(&master_info(&"a".repeat(40), &[])));
    sim.run(10_000, 100, true);
    sim.core.test_access().masters[0].common.info_refresh = 0; // make INFO due now
    sim.tick_at(sim.now + 100);
    sim.answer_all("INFO", info_reply(&master_info(&"b".repeat(40), &[])));
    assert!(sim.has_event(&format!("+reboot {MASTER_ID}")));
    // Only -LOADING from now on: down after 1000 ms although "available".
    for _ in 0..12 {
        sim.tick_at(sim.now + 100);
        sim.answer_all("PING", Reply::err("LOADING loading"));
    }
    assert!(sim.has_event(&format!("+sdown {MASTER_ID}")));
    sim.tick_at(sim.now + 100);
    sim.answer_all("PING", Reply::Status("PONG".into()));
    sim.run(1200, 100, true);
    assert!(sim.has_event(&format!("-sdown {MASTER_ID}")));
}

/// Drive the standard peers topology until the master is SDOWN; peers answer PINGs.
fn until_sdown(sim: &mut Sim) {
    let ml = sim.master_link();
    while !sim.has_event(&format!("+sdown {MASTER_ID}")) {
        sim.tick_at(sim.now + 100);
        for s in sim.pending("PING") {
            if s.link != ml {
                sim.answer(&s, Reply::Status("PONG".into()));
            }
        }
    }
}

#[test]
fn query_bytes_match_golden_and_odown_needs_quorum() {
    let mut sim = Sim::with_peers();
    *sim.core.test_access().current_epoch = 2;
    until_sdown(&mut sim);
    let q = sim.pending("SENTINEL");
    assert_eq!(q.len(), 2, "one query per connected peer");
    let golden = b"*6\r\n$8\r\nSENTINEL\r\n$22\r\nis-master-down-by-addr\r\n$9\r\n127.0.0.1\r\n$5\r\n41000\r\n$1\r\n2\r\n$1\r\n*\r\n";
    assert_eq!(wire(&q[0].args), golden.to_vec());
    assert!(!sim.events_since(0).iter().any(|e| e.starts_with("+odown")));
    // One peer agrees: 2/2.
    sim.answer(&q[0], ask_reply(1, "*", 0));
    sim.answer(&q[1], ask_reply(0, "*", 0));
    sim.tick_at(sim.now + 100);
    assert!(sim.has_event(&format!("+odown {MASTER_ID} #quorum 2/2")));
    // Answers expire after 5 s without fresh ones: ODOWN goes away while SDOWN stays.
    let n = sim.events.len();
    for _ in 0..52 {
        sim.tick_at(sim.now + 100);
        for s in sim.pending("PING") {
            if s.link != sim.master_link() {
                sim.answer(&s, Reply::Status("PONG".into()));
            }
        }
    }
    assert_eq!(sim.events_since(n), vec![format!("-odown {MASTER_ID}")]);
}

#[test]
fn unanswered_queries_repeat_every_tick_but_answered_ones_wait_ask_period() {
    let mut sim = Sim::with_peers();
    until_sdown(&mut sim);
    let l1 = sim.sentinel_link(PEER1);
    let count = |sim: &Sim| {
        sim.sends_on(l1)
            .iter()
            .filter(|a| a[0] == "SENTINEL")
            .count()
    };
    let c0 = count(&sim);
    sim.tick_at(sim.now + 100);
    sim.tick_at(sim.now + 100);
    assert_eq!(count(&sim), c0 + 2);
    // "Not down", so no ODOWN: a failover attempt would force an extra round.
    sim.answer_on(l1, "SENTINEL", ask_reply(0, "*", 0));
    let c1 = count(&sim);
    for _ in 0..9 {
        sim.tick_at(sim.now + 100);
    }
    assert_eq!(count(&sim), c1, "within ASK-PERIOD of the last reply");
    sim.tick_at(sim.now + 100);
    assert_eq!(count(&sim), c1 + 1);
}

#[test]
fn master_recovering_before_quorum_forms_gets_no_odown() {
    let mut sim = Sim::with_peers();
    until_sdown(&mut sim);
    let ml = sim.master_link();
    // The master answers just before the peers' "down" replies come in.
    sim.answer_on(ml, "PING", Reply::Status("PONG".into()));
    sim.tick_at(sim.now + 100);
    assert!(sim.has_event(&format!("-sdown {MASTER_ID}")));
    sim.answer_all("SENTINEL", ask_reply(1, "*", 0));
    sim.run(300, 100, true);
    assert!(!sim.events_since(0).iter().any(|e| e.starts_with("+odown")));
    // The peers' stale flags are not refreshed: no queries while not SDOWN.
    let before = sim.sent.len();
    sim.run(6000, 100, true);
    assert!(!sim.sent[before..].iter().any(|s| s.args[0] == "SENTINEL"));
}

#[test]
fn peer_votes_are_recorded_and_logged_only_when_epoch_changes() {
    let mut sim = Sim::with_peers();
    *sim.core.test_access().current_epoch = 3;
    until_sdown(&mut sim);
    let l1 = sim.sentinel_link(PEER1);
    sim.answer_on(l1, "SENTINEL", ask_reply(1, PEER2, 3));
    assert_eq!(sim.logs, vec![format!("{PEER1} voted for {PEER2} 3")]);
    let s = &sim.core.masters()[0].sentinels[0];
    assert_eq!((s.leader.as_deref(), s.leader_epoch), (Some(PEER2), 3));
    sim.run(1100, 100, false);
    sim.answer_on(l1, "SENTINEL", ask_reply(1, PEER2, 3));
    assert_eq!(sim.logs.len(), 1);
    // A peer answering with an older epoch: recorded as reported (and logged), so the
    // leader count, which wants the current epoch, ignores it.
    sim.run(1100, 100, false);
    sim.answer_on(l1, "SENTINEL", ask_reply(1, MYID, 2));
    assert_eq!(sim.logs[1], format!("{PEER1} voted for {MYID} 2"));
    assert_eq!(sim.core.masters()[0].sentinels[0].leader_epoch, 2);
}

#[test]
fn malformed_query_replies_are_ignored() {
    let mut sim = Sim::with_peers();
    until_sdown(&mut sim);
    let l1 = sim.sentinel_link(PEER1);
    // Starts at the record's creation; only a well-formed reply moves it.
    let created = sim.core.masters()[0].sentinels[0].last_master_down_reply_time;
    for bad in [
        Reply::err("ERR unknown command"),
        Reply::Array(vec![
            Reply::Int(1),
            Reply::Status("*".into()),
            Reply::Int(0),
        ]),
        Reply::Array(vec![Reply::Int(1), Reply::bulk("*")]),
    ] {
        sim.answer_on(l1, "SENTINEL", bad);
        sim.tick_at(sim.now + 100);
    }
    assert_eq!(
        sim.core.masters()[0].sentinels[0].last_master_down_reply_time,
        created
    );
    assert_eq!(
        sim.core.masters()[0].sentinels[0].common.flags & flags::MASTER_DOWN,
        0
    );
}

/// The down flag of `SENTINEL is-master-down-by-addr <ip> <port> 0 *` as a peer sees it.
fn answered_down(sim: &mut Sim, port: &str) -> i64 {
    let args: Vec<bytes::Bytes> = [
        "SENTINEL",
        "is-master-down-by-addr",
        "127.0.0.1",
        port,
        "0",
        "*",
    ]
    .iter()
    .map(|a| bytes::Bytes::copy_from_slice(a.as_bytes()))
    .collect();
    match rsentinel::commands::sentinel::sentinel_command(&mut sim.core, sim.now, &args) {
        rsentinel::resp::Reply::Array(v) => match v[0] {
            rsentinel::resp::Reply::Int(i) => i,
            ref other => panic!("not an int: {other:?}"),
        },
        other => panic!("not an array: {other:?}"),
    }
}

#[test]
fn answering_side_reports_sdown_by_address_and_zero_in_tilt() {
    let mut sim = Sim::with_peers();
    assert_eq!(answered_down(&mut sim, "41000"), 0);
    until_sdown(&mut sim);
    assert_eq!(answered_down(&mut sim, "41000"), 1);
    assert_eq!(answered_down(&mut sim, "41009"), 0);
    *sim.core.test_access().tilt = true;
    assert_eq!(answered_down(&mut sim, "41000"), 0);
}

#[test]
fn replicas_and_sentinels_go_sdown_too() {
    let mut sim = Sim::with_peers();
    let l2 = sim.sentinel_link(PEER2);
    for _ in 0..30 {
        sim.tick_at(sim.now + 100);
        for s in sim.pending("PING") {
            if s.link != l2 {
                sim.answer(&s, Reply::Status("PONG".into()));
            }
        }
    }
    assert!(sim.has_event(&format!(
        "+sdown sentinel {PEER2} 127.0.0.1 41102 @ {}",
        "mymaster 127.0.0.1 41000"
    )));
    assert!(!sim.has_event(&format!("+sdown {MASTER_ID}")));
}
