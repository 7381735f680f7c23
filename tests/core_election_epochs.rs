//! Issue #16, set up directly on one core: the current epoch moves past a running
//! attempt's epoch, and peers then report votes for us in the newer epoch.
//!
//! redis-sentinel counts those votes for its failover of the older epoch (which another
//! sentinel may already have won): two leaders in one epoch. rsentinel counts only the
//! votes cast for the attempt's own epoch and gives the attempt up once overtaken. The
//! same core with `upstream_election` set shows the flawed rule, so the setup really is
//! the race.

use crate::support::bytes_args;
use crate::support::fixture::Sim;
use rsentinel::commands::sentinel::sentinel_command;
use rsentinel::config::{MasterConfig, SentinelConfig};
use rsentinel::core::instance::{FailoverState, flags};
use rsentinel::core::{Event, Identity};
use rsentinel::resp::Reply;

const ME: &str = "a000000000000000000000000000000000000000";
const PEERS: [&str; 4] = [
    "b000000000000000000000000000000000000000",
    "c000000000000000000000000000000000000000",
    "d000000000000000000000000000000000000000",
    "e000000000000000000000000000000000000000",
];
const T0: u64 = 1_700_000_000_000;

/// Five sentinels (us and four known peers), quorum 3, current epoch 2; the fixture's
/// clock starts at `T0`.
fn core() -> Sim {
    let mut m = MasterConfig::new("mymaster", "127.0.0.1", 6379, 3);
    m.known_sentinels = PEERS
        .iter()
        .enumerate()
        .map(|(k, id)| ("127.0.0.1".to_string(), 26380 + k as u16, id.to_string()))
        .collect();
    let cfg = SentinelConfig {
        myid: Some(ME.into()),
        current_epoch: 2,
        masters: vec![m],
        ..Default::default()
    };
    let id = Identity {
        port: 26379,
        ..Default::default()
    };
    Sim::with_identity(cfg, id, T0)
}

/// A hello of peer 0 announcing current epoch `epoch` (and the unchanged master).
fn hello_with_epoch(s: &mut Sim, epoch: u64) {
    let hello = format!(
        "127.0.0.1,26380,{},{epoch},mymaster,127.0.0.1,6379,0",
        PEERS[0]
    );
    s.feed(Event::Hello {
        payload: hello.into(),
    });
}

/// Peer `k` reports (in an is-master-down-by-addr reply) its vote for `leader`.
fn peer_reports_vote(s: &mut Sim, k: usize, leader: &str, epoch: u64) {
    let t = s.core.test_access();
    let s = t.masters[0]
        .sentinels
        .iter_mut()
        .find(|s| s.common.runid == PEERS[k])
        .expect("known peer");
    s.leader = Some(leader.into());
    s.leader_epoch = epoch;
}

/// The channels of the events published since the fixture was last cleared.
fn events(s: &Sim) -> Vec<String> {
    s.events.iter().map(|(_, c, _)| c.clone()).collect()
}

/// The race of seed 807: our attempt runs at epoch 3 and we voted for ourselves in it;
/// a hello moves us to epoch 4; two peers report votes for us in epoch 4 (peers asked
/// at our current epoch). 1 vote for epoch 3 + 2 for epoch 4 makes the majority of 5
/// only if epochs are mixed.
fn raced(upstream: bool) -> Sim {
    let mut c = core();
    c.core.set_upstream_election(upstream);
    c.core.test_start_failover(T0, 0);
    assert_eq!(c.core.masters()[0].failover_epoch, 3);
    assert_eq!(c.core.test_get_leader(T0, 0, 3), None, "one vote only");
    assert_eq!(c.core.masters()[0].leader.as_deref(), Some(ME));
    assert_eq!(c.core.masters()[0].leader_epoch, 3);
    hello_with_epoch(&mut c, 4);
    assert_eq!(c.core.current_epoch(), 4);
    peer_reports_vote(&mut c, 1, ME, 4);
    peer_reports_vote(&mut c, 2, ME, 4);
    // Peer 0 won epoch 3 with peers 1, 2 and 3: it is the leader of epoch 3.
    peer_reports_vote(&mut c, 3, PEERS[0], 3);
    c.core.drain_actions();
    c.clear();
    c
}

#[test]
fn votes_of_a_newer_epoch_do_not_elect_an_older_attempt() {
    let mut c = raced(false);
    assert_eq!(c.core.test_get_leader(T0, 0, 3), None);
    // The flawed rule: elected for epoch 3 with votes of epoch 4.
    let mut u = raced(true);
    assert_eq!(u.core.test_get_leader(T0, 0, 3).as_deref(), Some(ME));
}

/// Per-master elections (issue #14): a newer epoch (here from a hello; in a mass
/// failover, from other masters' attempts) does not end the attempt, as peers still
/// grant votes for its own epoch; without them it ends at the election timeout.
#[test]
fn an_overtaken_attempt_waits_for_votes_of_its_own_epoch() {
    let mut c = raced(false);
    c.tick_at(T0 + 100);
    let ev = events(&c);
    assert!(!ev.contains(&"+elected-leader".to_string()), "{ev:?}");
    assert!(
        !ev.contains(&"-failover-abort-not-elected".to_string()),
        "{ev:?}"
    );
    assert_eq!(c.core.masters()[0].failover_state, FailoverState::WaitStart);
    let mut t = T0 + 100;
    while t < T0 + 11_000 {
        t += 100;
        c.tick_at(t);
    }
    let ev = events(&c);
    assert!(!ev.contains(&"+elected-leader".to_string()), "{ev:?}");
    assert!(
        ev.contains(&"-failover-abort-not-elected".to_string()),
        "{ev:?}"
    );
    let m = &c.core.masters()[0];
    assert_eq!(m.failover_state, FailoverState::None);
    assert_eq!(m.common.flags & flags::FAILOVER_IN_PROGRESS, 0);
    // The start time stays: the next attempt waits 2 x failover-timeout.
    assert!(m.failover_start_time >= T0);
    // The same tick with the flawed rule goes on with the stale attempt.
    let mut u = raced(true);
    u.tick_at(T0 + 100);
    assert!(events(&u).contains(&"+elected-leader".to_string()));
}

#[test]
fn votes_for_the_attempts_own_epoch_still_elect_after_it_was_overtaken() {
    // Replies to requests made at epoch 3 that arrive after the epoch moved are real
    // epoch-3 votes: they count.
    let mut c = raced(false);
    peer_reports_vote(&mut c, 1, ME, 3);
    peer_reports_vote(&mut c, 2, ME, 3);
    assert_eq!(c.core.test_get_leader(T0, 0, 3).as_deref(), Some(ME));
}

#[test]
fn a_forced_failover_keeps_its_epochs_vote() {
    let mut c = core();
    c.core.test_start_failover(T0, 0);
    c.core.test_access().masters[0].common.flags |= flags::FORCE_FAILOVER;
    // A peer asks for our vote in the forced failover's epoch before our next tick.
    let reply = sentinel_command(
        &mut c.core,
        T0,
        &bytes_args(&[
            "SENTINEL",
            "is-master-down-by-addr",
            "127.0.0.1",
            "6379",
            "3",
            PEERS[0],
        ]),
    );
    let Reply::Array(items) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(items[1], Reply::bulk(ME));
    assert_eq!(items[2], Reply::Int(3));
    // Peers' records of votes in epoch 3 for somebody else do not draw our vote either.
    let mut c = core();
    c.core.test_start_failover(T0, 0);
    c.core.test_access().masters[0].common.flags |= flags::FORCE_FAILOVER;
    peer_reports_vote(&mut c, 1, PEERS[0], 3);
    peer_reports_vote(&mut c, 2, PEERS[0], 3);
    c.core.test_get_leader(T0, 0, 3);
    assert_eq!(c.core.masters()[0].leader.as_deref(), Some(ME));
    assert_eq!(c.core.masters()[0].leader_epoch, 3);
}

#[test]
fn a_vote_request_in_a_newer_epoch_is_granted_and_overtakes_our_attempt() {
    // Unchanged from redis-sentinel: we vote for the newer epoch's candidate; our own
    // attempt then gives up instead of collecting votes it cannot use.
    let mut c = core();
    c.core.test_start_failover(T0, 0);
    let reply = sentinel_command(
        &mut c.core,
        T0,
        &bytes_args(&[
            "SENTINEL",
            "is-master-down-by-addr",
            "127.0.0.1",
            "6379",
            "4",
            PEERS[0],
        ]),
    );
    let Reply::Array(items) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(items[1], Reply::bulk(PEERS[0]));
    assert_eq!(items[2], Reply::Int(4));
    c.core.drain_actions();
    c.tick_at(T0 + 100);
    let ev = events(&c);
    assert!(
        ev.contains(&"-failover-abort-not-elected".to_string()),
        "{ev:?}"
    );
}

/// A failover of ours at epoch 3 past the promotion (reconf_slaves, the promoted
/// replica 127.0.0.1:6380 already announced as the master), then a hello with config
/// epoch 4 naming the pre-failover master 127.0.0.1:6379.
fn superseded(upstream: bool, state: FailoverState) -> (Sim, Vec<String>) {
    let mut m = MasterConfig::new("mymaster", "127.0.0.1", 6379, 3);
    m.known_sentinels = vec![("127.0.0.1".into(), 26380, PEERS[0].into())];
    m.known_replicas = vec![("127.0.0.1".into(), 6380), ("127.0.0.1".into(), 6381)];
    let cfg = SentinelConfig {
        myid: Some(ME.into()),
        current_epoch: 3,
        masters: vec![m],
        ..Default::default()
    };
    let mut c = Sim::with_identity(cfg, Identity::default(), T0);
    c.core.set_upstream_election(upstream);
    let t = c.core.test_access();
    let m = &mut t.masters[0];
    m.common.flags |= flags::FAILOVER_IN_PROGRESS;
    m.failover_state = state;
    m.failover_epoch = 3;
    m.config_epoch = if state == FailoverState::ReconfSlaves {
        3
    } else {
        0
    };
    m.promoted = Some("127.0.0.1:6380".into());
    m.replicas[0].common.flags |= flags::PROMOTED;
    if state == FailoverState::ReconfSlaves {
        assert_eq!(c.core.current_master_addr(0), ("127.0.0.1".into(), 6380));
    }
    c.core.drain_actions();
    let hello = format!("127.0.0.1,26380,{},4,mymaster,127.0.0.1,6379,4", PEERS[0]);
    c.feed(Event::Hello {
        payload: hello.into(),
    });
    let ev = c.events_since(0);
    (c, ev)
}

#[test]
fn a_newer_config_naming_the_old_master_ends_our_failover_after_promotion() {
    let (c, ev) = superseded(false, FailoverState::ReconfSlaves);
    assert!(
        ev.iter()
            .any(|e| e == "+switch-master mymaster 127.0.0.1 6380 127.0.0.1 6379"),
        "{ev:?}"
    );
    let m = &c.core.masters()[0];
    assert_eq!(m.failover_state, FailoverState::None);
    assert_eq!(m.config_epoch, 4);
    assert_eq!(c.core.current_master_addr(0), ("127.0.0.1".into(), 6379));
    // redis-sentinel keeps the failover, which later switches to 6380 under epoch 4.
    let (u, ev) = superseded(true, FailoverState::ReconfSlaves);
    assert!(
        !ev.iter().any(|e| e.starts_with("+switch-master")),
        "{ev:?}"
    );
    assert_eq!(
        u.core.masters()[0].failover_state,
        FailoverState::ReconfSlaves
    );
    assert_eq!(u.core.masters()[0].config_epoch, 4);
    assert_eq!(u.core.current_master_addr(0), ("127.0.0.1".into(), 6380));
}

#[test]
fn a_newer_config_naming_the_old_master_aborts_our_failover_before_promotion() {
    for state in [
        FailoverState::SelectSlave,
        FailoverState::SendSlaveofNoone,
        FailoverState::WaitPromotion,
    ] {
        let (c, ev) = superseded(false, state);
        assert!(
            ev.iter()
                .any(|e| e.starts_with("-failover-abort-superseded master mymaster")),
            "{state:?}: {ev:?}"
        );
        let m = &c.core.masters()[0];
        assert_eq!(m.failover_state, FailoverState::None, "{state:?}");
        assert_eq!(m.common.flags & flags::FAILOVER_IN_PROGRESS, 0);
        assert_eq!(m.config_epoch, 4);
        assert_eq!(c.core.current_master_addr(0), ("127.0.0.1".into(), 6379));
        let (u, _) = superseded(true, state);
        assert_eq!(u.core.masters()[0].failover_state, state);
    }
}

/// Ask for a vote for master `mymaster` in `epoch` on behalf of peer 1; the reply's
/// (leader, epoch).
fn ask_vote(c: &mut Sim, epoch: u64) -> (Reply, Reply) {
    ask_vote_at(c, T0, epoch, PEERS[1])
}

/// Per-master elections (issue #14) grant a vote for an epoch older than the current
/// one (other masters' failovers took the newer ones), but never for an epoch older
/// than the configuration this master already has: that attempt is stale, and winning
/// it would promote a second time. redis-sentinel refuses both.
#[test]
fn per_master_votes_never_go_to_an_epoch_older_than_the_masters_config() {
    for upstream in [false, true] {
        let mut c = core();
        c.core.set_upstream_election(upstream);
        let t = c.core.test_access();
        *t.current_epoch = 9;
        t.masters[0].config_epoch = 5;
        let stale = ask_vote(&mut c, 4);
        assert_eq!(stale.0, Reply::bulk("*"), "upstream={upstream}");
        let older_than_current = ask_vote(&mut c, 7);
        if upstream {
            assert_eq!(older_than_current.0, Reply::bulk("*"));
        } else {
            assert_eq!(older_than_current, (Reply::bulk(PEERS[1]), Reply::Int(7)));
        }
    }
}

/// Ask for a vote for `mymaster` in `epoch` on behalf of `who` at time `now`.
fn ask_vote_at(c: &mut Sim, now: u64, epoch: u64, who: &str) -> (Reply, Reply) {
    let e = epoch.to_string();
    let reply = sentinel_command(
        &mut c.core,
        now,
        &bytes_args(&[
            "SENTINEL",
            "is-master-down-by-addr",
            "127.0.0.1",
            "6379",
            &e,
            who,
        ]),
    );
    let Reply::Array(items) = reply else {
        panic!("{reply:?}")
    };
    (items[1].clone(), items[2].clone())
}

/// The vote hold (issue #14): right after voting for one candidate, a newer epoch's
/// request from another is refused for as long as the first election can run (the
/// election timeout, 10 s here), so two leaders cannot promote two replicas in a row;
/// the same candidate's newer epoch is granted, and after the hold anyone's is (also
/// when the clock went back).
/// redis-sentinel's rules grant the second candidate at once.
#[test]
fn a_vote_binds_for_the_election_timeout_to_its_candidate() {
    for upstream in [false, true] {
        let mut c = core();
        c.core.set_upstream_election(upstream);
        let first = ask_vote_at(&mut c, T0, 3, PEERS[0]);
        assert_eq!(first, (Reply::bulk(PEERS[0]), Reply::Int(3)));
        let second = ask_vote_at(&mut c, T0 + 5, 4, PEERS[1]);
        if upstream {
            assert_eq!(second, (Reply::bulk(PEERS[1]), Reply::Int(4)));
            continue;
        }
        assert_eq!(second, (Reply::bulk(PEERS[0]), Reply::Int(3)));
        let again = ask_vote_at(&mut c, T0 + 9_000, 5, PEERS[0]);
        assert_eq!(again, (Reply::bulk(PEERS[0]), Reply::Int(5)));
        let still = ask_vote_at(&mut c, T0 + 18_999, 6, PEERS[1]);
        assert_eq!(still, (Reply::bulk(PEERS[0]), Reply::Int(5)));
        let later = ask_vote_at(&mut c, T0 + 19_000, 6, PEERS[1]);
        assert_eq!(later, (Reply::bulk(PEERS[1]), Reply::Int(6)));
        // A clock set back an hour ends the hold instead of stretching it by an hour.
        let back = ask_vote_at(&mut c, T0 + 19_000 - 3_600_000, 7, PEERS[0]);
        assert_eq!(back, (Reply::bulk(PEERS[0]), Reply::Int(7)));
    }
}

/// A split election (every vote of epoch 3 known, nobody with a majority) is retried
/// within a second of the abort (rsentinel's rules, issue #14), instead of after 2 x
/// failover-timeout: candidates that aborted together would otherwise retry together,
/// minutes later, and can split again. An election that was merely not won (votes
/// missing: unreachable peers) keeps redis-sentinel's pacing.
#[test]
fn a_split_election_is_retried_within_a_second() {
    for split in [true, false] {
        let mut c = core();
        c.core.test_start_failover(T0, 0);
        assert_eq!(c.core.test_get_leader(T0, 0, 3), None);
        // The peers' answers, renewed as their replies keep coming.
        let report = |c: &mut Sim, now: u64| {
            peer_reports_vote(c, 0, PEERS[0], 3);
            peer_reports_vote(c, 2, PEERS[0], 3);
            if split {
                peer_reports_vote(c, 1, PEERS[1], 3);
                peer_reports_vote(c, 3, PEERS[3], 3);
            }
            for s in c.core.test_access().masters[0].sentinels.iter_mut() {
                s.last_master_down_reply_time = now;
            }
        };
        let started = c.core.masters()[0].failover_start_time;
        let mut t = T0;
        while c.core.masters()[0].failover_state != FailoverState::None {
            assert!(t < T0 + 12_000, "no abort");
            report(&mut c, t);
            t += 100;
            c.tick_at(t);
        }
        let abort_at = t;
        let ev = events(&c);
        assert!(
            ev.contains(&"-failover-abort-not-elected".to_string()),
            "{ev:?}"
        );
        let m = &c.core.masters()[0];
        assert_eq!(m.failover_state, FailoverState::None);
        let throttle = m.failover_timeout_ms * 2;
        let next_attempt = m.failover_start_time + throttle;
        if split {
            assert!(
                (abort_at..abort_at + 1000).contains(&next_attempt),
                "next attempt at +{} ms",
                next_attempt as i64 - abort_at as i64
            );
        } else {
            assert_eq!(m.failover_start_time, started);
        }
    }
}
