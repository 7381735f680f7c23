//! Issue #10: `SENTINEL FAILOVER <name> COORDINATED` and `coordinated-failover`: the
//! handover through the master's `FAILOVER TO`, its aborts, the command's and the
//! option's parsing and errors, the config line.

use crate::support::fixture::*;
use bytes::Bytes;
use rsentinel::commands::sentinel::sentinel_command;
use rsentinel::config::{load, rewrite_text};
use rsentinel::core::Event;
use rsentinel::core::instance::{FailoverState, flags};
use rsentinel::resp::Reply;

const MASTER_ID: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const REPLICA_ID: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// Master 41000 with replica 41001 and peer PEER1, failover-timeout 3000, healthy and
/// answered.
fn ready() -> Sim {
    let mut m = master_cfg();
    m.known_replicas = vec![("127.0.0.1".into(), 41001)];
    m.known_sentinels = vec![("127.0.0.1".into(), 41101, PEER1.into())];
    m.failover_timeout_ms = 3000;
    let mut sim = Sim::new(config(vec![m]));
    sim.run(2000, 100, true);
    sim.answer_on(
        sim.master_link(),
        "INFO",
        info_reply(&master_info(MASTER_ID, &[41001])),
    );
    let rl = sim.replica_link("127.0.0.1:41001");
    sim.answer_on(
        rl,
        "INFO",
        info_reply(&replica_info(REPLICA_ID, 41000, true)),
    );
    sim.run(200, 100, true);
    sim.clear();
    sim
}

fn command(sim: &mut Sim, line: &str) -> Reply {
    let args: Vec<Bytes> = split_args(line).into_iter().map(Bytes::from).collect();
    sentinel_command(&mut sim.core, sim.now, &args)
}

fn master_handover_info(role_master: bool, state: &str) -> Reply {
    let role = if role_master {
        "role:master\r\nslave0:ip=127.0.0.1,port=41001,state=online,offset=1,lag=0".to_string()
    } else {
        "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:41001\r\nmaster_link_status:up"
            .to_string()
    };
    info_reply(&format!(
        "# Server\r\nrun_id:{MASTER_ID}\r\n# Replication\r\n{role}\r\nmaster_failover_state:{state}\r\n"
    ))
}

fn state(sim: &Sim) -> FailoverState {
    sim.core.masters()[0].failover_state
}

/// The command, then one tick: elected (forced), selected, the handover announced;
/// nobody heard the notice, so the transaction goes at once.
fn start(sim: &mut Sim) {
    assert_eq!(
        command(sim, "SENTINEL FAILOVER mymaster COORDINATED"),
        Reply::ok()
    );
    let t = sim.now + 100;
    sim.tick_at(t);
    answer_notice(sim, 0);
}

/// Answer the handover notice (`PUBLISH __rsentinel__:handover ...`) with `heard`.
fn answer_notice(sim: &mut Sim, heard: i64) {
    let notice = sim
        .pending("PUBLISH")
        .into_iter()
        .find(|s| s.args[1] == "__rsentinel__:handover")
        .expect("the handover notice");
    sim.answer(&notice, Reply::Int(heard));
}

fn master_sends(sim: &Sim) -> Vec<String> {
    sim.sends_on(sim.master_link())
        .into_iter()
        .map(|a| a.join(" "))
        .collect()
}

#[test]
fn handover_transaction_then_promotion_ends_like_any_failover() {
    let mut sim = ready();
    start(&mut sim);
    let ev = sim.events_since(0);
    let want = [
        "+new-epoch 1",
        "+try-failover master mymaster 127.0.0.1 41000",
        "+elected-leader master mymaster 127.0.0.1 41000",
        "+failover-state-select-slave master mymaster 127.0.0.1 41000",
        "+selected-slave slave 127.0.0.1:41001 127.0.0.1 41001 @ mymaster 127.0.0.1 41000",
        "+failover-state-send-failover-to slave 127.0.0.1:41001 127.0.0.1 41001 @ mymaster 127.0.0.1 41000",
        "+failover-state-coordinated-handover slave 127.0.0.1:41001 127.0.0.1 41001 @ mymaster 127.0.0.1 41000",
    ];
    for w in want {
        assert!(ev.iter().any(|e| e == w), "{w} not in {ev:#?}");
    }
    assert_eq!(state(&sim), FailoverState::CoordinatedHandover);
    let sends = master_sends(&sim);
    let tx = sends.iter().position(|s| s == "MULTI").expect("MULTI");
    assert_eq!(
        sends[tx..tx + 5],
        [
            "MULTI",
            "CLIENT PAUSE 4000 WRITE",
            "FAILOVER TO 127.0.0.1 41001 TIMEOUT 3000",
            "EXEC",
            "INFO"
        ]
    );
    // No SLAVEOF NO ONE anywhere.
    assert!(
        !sim.sent
            .iter()
            .any(|s| s.args.join(" ") == "SLAVEOF NO ONE")
    );
    // The master reports the handover running.
    sim.now += 5;
    sim.answer_on(
        sim.master_link(),
        "INFO",
        master_handover_info(true, "waiting-for-sync"),
    );
    assert!(
        sim.has_event("+master-failover-state master mymaster 127.0.0.1 41000 waiting-for-sync")
    );
    assert_eq!(state(&sim), FailoverState::CoordinatedHandover);
    // Both the old master and the target are polled on every tick meanwhile, each as
    // soon as its last INFO is answered (one INFO in flight per instance).
    // (The transaction left on the notice's reply, between two ticks.)
    let rl = sim.replica_link("127.0.0.1:41001");
    assert!(sim.pending("INFO").is_empty());
    sim.tick_at(sim.now + 100);
    let infos = sim.pending("INFO");
    assert_eq!(infos.len(), 2, "both polled: {infos:?}");
    sim.tick_at(sim.now + 100);
    let infos = sim.pending("INFO");
    assert_eq!(infos.len(), 2, "not sent again while unanswered: {infos:?}");
    assert_eq!(
        infos.iter().filter(|s| s.link == rl).count(),
        1,
        "the target's INFO is not sent again while unanswered"
    );
    sim.answer_on(
        rl,
        "INFO",
        info_reply(&replica_info(REPLICA_ID, 41000, true)),
    );
    sim.answer_on(
        sim.master_link(),
        "INFO",
        master_handover_info(true, "waiting-for-sync"),
    );
    sim.clear();
    sim.tick_at(sim.now + 100);
    assert_eq!(sim.pending("INFO").len(), 2, "{:?}", sim.pending("INFO"));
    sim.answer_on(
        sim.master_link(),
        "INFO",
        master_handover_info(false, "no-failover"),
    );
    assert_eq!(state(&sim), FailoverState::CoordinatedHandover);
    // The target is a master: promoted, unpaused, switched.
    let rl = sim.replica_link("127.0.0.1:41001");
    sim.answer_on(rl, "INFO", info_reply(&master_info(REPLICA_ID, &[41000])));
    for e in [
        "+promoted-slave slave 127.0.0.1:41001 127.0.0.1 41001 @ mymaster 127.0.0.1 41000",
        "+failover-end master mymaster 127.0.0.1 41000",
        "+switch-master mymaster 127.0.0.1 41000 127.0.0.1 41001",
    ] {
        assert!(sim.has_event(e), "{e} not in {:#?}", sim.events_since(0));
    }
    assert!(
        sim.sent
            .iter()
            .any(|s| s.link == sim.master_link() && s.args.join(" ") == "CLIENT UNPAUSE")
    );
    let m = &sim.core.masters()[0];
    assert_eq!(m.common.port, 41001);
    assert_eq!(m.config_epoch, 1);
    assert!(m.handover.is_none());
    assert_eq!(m.failover_state, FailoverState::None);
    // The switch closed the old master's connection, maybe before that CLIENT UNPAUSE
    // went out: its replica record's first connection sends it again.
    sim.tick_at(sim.now + 100);
    let old = sim.replica_link("127.0.0.1:41000");
    let sends: Vec<String> = sim.sends_on(old).iter().map(|a| a.join(" ")).collect();
    assert!(sends.iter().any(|s| s == "CLIENT UNPAUSE"), "{sends:?}");
    assert!(sim.core.masters()[0].unpause_after_switch.is_none());
}

fn assert_aborted(sim: &Sim, event: &str) {
    assert!(
        sim.has_event(&format!("{event} master mymaster 127.0.0.1 41000")),
        "{:#?}",
        sim.events_since(0)
    );
    let sends = master_sends(sim);
    let n = sends.len();
    assert_eq!(sends[n - 2..], ["FAILOVER ABORT", "CLIENT UNPAUSE"]);
    let m = &sim.core.masters()[0];
    assert_eq!(m.failover_state, FailoverState::None);
    assert_eq!(m.common.port, 41000);
    assert_eq!(m.common.flags & flags::FAILOVER_IN_PROGRESS, 0);
    assert!(m.handover.is_none());
    assert!(m.replicas[0].common.flags & flags::PROMOTED == 0);
}

#[test]
fn refused_handover_aborts_at_once_and_unpauses() {
    let mut sim = ready();
    start(&mut sim);
    sim.now += 5;
    sim.answer_on(
        sim.master_link(),
        "INFO",
        master_handover_info(true, "no-failover"),
    );
    assert_aborted(&sim, "-failover-abort-coordinated-refused");
}

#[test]
fn an_info_sent_before_the_transaction_is_not_taken_for_its_outcome() {
    let mut sim = ready();
    // An INFO in flight from before the command.
    sim.core.test_access().masters[0].common.info_refresh = 0;
    sim.tick_at(sim.now + 100);
    let early = sim.pending("INFO");
    assert_eq!(early.len(), 1);
    start(&mut sim);
    sim.answer(&early[0], master_handover_info(true, "no-failover"));
    assert_eq!(state(&sim), FailoverState::CoordinatedHandover);
    assert!(
        !sim.events_since(0)
            .iter()
            .any(|e| e.starts_with("-failover-abort"))
    );
}

#[test]
fn redis_giving_up_at_its_timeout_is_a_timeout_abort() {
    let mut sim = ready();
    start(&mut sim);
    let info = sim.pending("INFO");
    sim.now += 3000;
    let ml = sim.master_link();
    for s in info.iter().filter(|s| s.link == ml) {
        sim.answer(s, master_handover_info(true, "no-failover"));
    }
    assert_aborted(&sim, "-failover-abort-coordinated-timeout");
}

#[test]
fn a_silent_master_is_given_up_after_the_grace_period() {
    let mut sim = ready();
    start(&mut sim);
    let t0 = sim.now;
    sim.run(3900, 100, false);
    assert_eq!(state(&sim), FailoverState::CoordinatedHandover);
    // No hello to the paused master: PUBLISH would stall its connection.
    let sends = master_sends(&sim);
    let tx = sends.iter().position(|s| s == "MULTI").unwrap();
    assert!(
        !sends[tx..].iter().any(|s| s.starts_with("PUBLISH")),
        "{sends:?}"
    );
    assert!(sends[tx..].iter().any(|s| s == "PING"), "{sends:?}");
    sim.tick_at(t0 + 4100);
    assert_aborted(&sim, "-failover-abort-coordinated-timeout");
}

/// A master that demoted itself is not told `FAILOVER ABORT` (that would make it a
/// master next to a target that may already be one): the attempt waits for Redis.
#[test]
fn a_demoted_master_is_not_aborted_at_the_handover_deadline() {
    let mut sim = ready();
    start(&mut sim);
    sim.now += 5;
    sim.answer_on(
        sim.master_link(),
        "INFO",
        master_handover_info(false, "failover-in-progress"),
    );
    sim.run(5000, 100, false);
    assert_eq!(state(&sim), FailoverState::CoordinatedHandover);
    assert!(!master_sends(&sim).iter().any(|s| s == "FAILOVER ABORT"));
    // Redis rolls back (the target refused): abort, now safe.
    sim.answer_on(
        sim.master_link(),
        "INFO",
        master_handover_info(true, "no-failover"),
    );
    assert_aborted(&sim, "-failover-abort-coordinated-timeout");
}

#[test]
fn plain_failover_is_coordinated_with_the_option_and_unchanged_without() {
    let mut sim = ready();
    assert_eq!(command(&mut sim, "SENTINEL FAILOVER mymaster"), Reply::ok());
    sim.tick_at(sim.now + 100);
    assert_eq!(state(&sim), FailoverState::WaitPromotion);
    assert!(
        sim.sent
            .iter()
            .any(|s| s.args.join(" ") == "SLAVEOF NO ONE")
    );

    let mut sim = ready();
    assert_eq!(
        command(&mut sim, "SENTINEL SET mymaster coordinated-failover yes"),
        Reply::ok()
    );
    assert!(sim.core.masters()[0].coordinated_failover);
    assert_eq!(command(&mut sim, "SENTINEL FAILOVER mymaster"), Reply::ok());
    sim.tick_at(sim.now + 100);
    answer_notice(&mut sim, 0);
    assert_eq!(state(&sim), FailoverState::CoordinatedHandover);
}

#[test]
fn command_and_option_errors() {
    let mut sim = ready();
    let arity = Reply::err("ERR wrong number of arguments for 'sentinel|failover' command");
    assert_eq!(command(&mut sim, "SENTINEL FAILOVER mymaster now"), arity);
    assert_eq!(
        command(&mut sim, "SENTINEL FAILOVER mymaster COORDINATED x"),
        arity
    );
    assert_eq!(command(&mut sim, "SENTINEL FAILOVER"), arity);
    assert_eq!(
        command(&mut sim, "SENTINEL FAILOVER nosuch coordinated"),
        Reply::err("ERR No such master with that name")
    );
    assert_eq!(
        command(&mut sim, "SENTINEL SET mymaster coordinated-failover maybe"),
        Reply::err("ERR Invalid argument 'maybe' for SENTINEL SET 'coordinated-failover'")
    );
    assert_eq!(
        command(&mut sim, "SENTINEL SET mymaster coordinated-failover"),
        Reply::err("ERR wrong number of arguments for 'sentinel|set' command")
    );
    // The master is down: COORDINATED is refused, a plain FAILOVER with the option on
    // falls back to an ordinary one.
    sim.core.test_access().masters[0].common.flags |= flags::S_DOWN;
    assert_eq!(
        command(&mut sim, "SENTINEL FAILOVER mymaster coordinated"),
        Reply::err("ERR master is down or unreachable, a coordinated failover is not possible")
    );
    assert_eq!(
        command(&mut sim, "SENTINEL SET mymaster coordinated-failover YES"),
        Reply::ok()
    );
    assert_eq!(command(&mut sim, "SENTINEL FAILOVER mymaster"), Reply::ok());
    assert!(sim.core.masters()[0].handover.is_none());
    assert_eq!(
        command(&mut sim, "SENTINEL FAILOVER mymaster COORDINATED"),
        Reply::err("INPROG Failover already in progress")
    );
}

#[test]
fn sentinel_master_shows_the_option_and_the_state() {
    let mut sim = ready();
    let shown = |sim: &mut Sim| format!("{:?}", command(sim, "SENTINEL MASTER mymaster"));
    assert!(!shown(&mut sim).contains("coordinated-failover"));
    command(&mut sim, "SENTINEL SET mymaster coordinated-failover yes");
    start(&mut sim);
    let s = shown(&mut sim);
    assert!(s.contains("coordinated-failover"), "{s}");
    assert!(s.contains("coordinated_handover"), "{s}");
}

#[test]
fn config_line_loads_and_is_rewritten_only_when_on() {
    let t = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(t.path()).unwrap();
    let d = dir.to_str().unwrap();
    let p = dir.join("s.conf");
    let body = "sentinel monitor m 127.0.0.1 30099 2\nsentinel coordinated-failover m yes\n";
    std::fs::write(&p, body).unwrap();
    let mut l = load(&p, &[]).unwrap();
    assert!(l.sentinel.masters[0].coordinated_failover);
    l.server.dir = Some(d.to_string());
    l.sentinel.myid = Some("0d895fc96ed31d52975923deeab2f9fa53969e77".into());
    let on = rewrite_text(body, &l.generic, &l.server, &l.sentinel);
    assert!(on.contains("sentinel coordinated-failover m yes\n"), "{on}");
    l.sentinel.masters[0].coordinated_failover = false;
    let off = rewrite_text(&on, &l.generic, &l.server, &l.sentinel);
    assert!(!off.contains("coordinated-failover"), "{off}");

    std::fs::write(&p, "sentinel monitor m 127.0.0.1 30099 2\n").unwrap();
    let plain = load(&p, &[]).unwrap();
    assert!(!plain.sentinel.masters[0].coordinated_failover);

    let bad = "sentinel monitor m 127.0.0.1 30099 2\nsentinel coordinated-failover m maybe\n";
    std::fs::write(&p, bad).unwrap();
    let e = load(&p, &[]).unwrap_err().to_string();
    assert!(
        e.contains("Please specify yes or no for the coordinated-failover option."),
        "{e}"
    );
}

/// A newer configuration from a peer stops the handover: the master is told to stay.
#[test]
fn a_newer_epoch_from_a_peer_stops_the_handover_and_releases_the_master() {
    for other_address in [false, true] {
        let mut sim = ready();
        start(&mut sim);
        sim.now += 5;
        sim.answer_on(
            sim.master_link(),
            "INFO",
            master_handover_info(true, "waiting-for-sync"),
        );
        let port = if other_address { 41002 } else { 41000 };
        sim.hello_on_master(&format!(
            "127.0.0.1,41101,{PEER1},5,mymaster,127.0.0.1,{port},5"
        ));
        let sends: Vec<String> = sim
            .sent
            .iter()
            .filter(|s| s.args[0] == "FAILOVER" || s.args.get(1).is_some_and(|a| a == "UNPAUSE"))
            .map(|s| s.args.join(" "))
            .collect();
        assert!(
            sends.ends_with(&["FAILOVER ABORT".to_string(), "CLIENT UNPAUSE".to_string()]),
            "{sends:?}"
        );
        let m = &sim.core.masters()[0];
        assert_eq!(m.failover_state, FailoverState::None);
        assert!(m.handover.is_none());
        if other_address {
            // The switch closed the old master's connection: its replica record's
            // first connection says it again.
            sim.tick_at(sim.now + 100);
            let old = sim.replica_link("127.0.0.1:41000");
            let sends: Vec<String> = sim.sends_on(old).iter().map(|a| a.join(" ")).collect();
            let i = sends
                .iter()
                .position(|s| s == "FAILOVER ABORT")
                .expect("abort");
            assert_eq!(sends[i + 1], "CLIENT UNPAUSE");
        } else {
            assert!(sim.has_event("-failover-abort-superseded master mymaster 127.0.0.1 41000"));
        }
    }
}

/// Issue #11: the handover is announced on `__rsentinel__:handover` before the pause;
/// when an rsentinel heard it, the transaction waits `NOTICE_LEAD_MS` for its proxies to
/// stop forwarding.
#[test]
fn the_handover_is_announced_first_and_waits_for_listeners() {
    let mut sim = ready();
    assert_eq!(
        command(&mut sim, "SENTINEL FAILOVER mymaster COORDINATED"),
        Reply::ok()
    );
    let t0 = sim.now + 100;
    sim.tick_at(t0);
    let sends = master_sends(&sim);
    let notice = sends
        .iter()
        .find(|s| s.starts_with("PUBLISH __rsentinel__:handover "))
        .expect("notice");
    let myid = sim.core.myid().to_string();
    assert_eq!(
        *notice,
        format!("PUBLISH __rsentinel__:handover {myid},mymaster,1,127.0.0.1,41000,4000")
    );
    assert!(!sends.iter().any(|s| s == "MULTI"), "{sends:?}");
    answer_notice(&mut sim, 2);
    assert!(!master_sends(&sim).iter().any(|s| s == "MULTI"));
    sim.tick_at(t0 + 100);
    assert!(master_sends(&sim).iter().any(|s| s == "MULTI"));
    assert_eq!(state(&sim), FailoverState::CoordinatedHandover);
}

/// Issue #11, the observer's side: a peer's notice fences this sentinel's proxy view,
/// and the peer's hello with the new address under the notice's epoch lets it move
/// connections (a switch under another epoch does not).
#[test]
fn an_observer_fences_on_a_peer_notice_and_moves_at_its_switch() {
    for same_epoch in [true, false] {
        let mut sim = ready();
        assert_eq!(
            command(&mut sim, "SENTINEL SET mymaster proxy 6380"),
            Reply::ok()
        );
        sim.tick_at(sim.now + 100);
        // The pub/sub connection subscribes to the notices once a proxy is set.
        assert!(
            sim.sent
                .iter()
                .any(|s| s.args.join(" ") == "SUBSCRIBE __rsentinel__:handover")
        );
        let link = sim.master_link();
        let old = ("127.0.0.1".to_string(), 41000);
        assert!(!sim.core.route_view(0).fenced);
        sim.feed(Event::Message {
            link,
            channel: Bytes::from_static(b"__rsentinel__:handover"),
            payload: Bytes::from(format!("{PEER1},mymaster,7,127.0.0.1,41000,4000")),
        });
        assert!(sim.core.route_view(0).fenced);
        let epoch = if same_epoch { 7 } else { 8 };
        sim.hello_on_master(&format!(
            "127.0.0.1,41101,{PEER1},{epoch},mymaster,127.0.0.1,41001,{epoch}"
        ));
        let v = sim.core.route_view(0);
        assert_eq!(v.master, ("127.0.0.1".to_string(), 41001));
        assert!(!v.fenced);
        assert_eq!(v.handover_from, same_epoch.then_some(old));
    }
    // A notice that ends without a switch stops fencing when its pause would have.
    let mut sim = ready();
    assert_eq!(
        command(&mut sim, "SENTINEL SET mymaster proxy 6380"),
        Reply::ok()
    );
    let link = sim.master_link();
    sim.feed(Event::Message {
        link,
        channel: Bytes::from_static(b"__rsentinel__:handover"),
        payload: Bytes::from(format!("{PEER1},mymaster,7,127.0.0.1,41000,1000")),
    });
    assert!(sim.core.route_view(0).fenced);
    sim.tick_at(sim.now + 1100);
    assert!(!sim.core.route_view(0).fenced);
}

/// Issue #11: the notices are listened to only while a proxy is on: turning it off
/// unsubscribes, changing its port does not touch the subscription.
#[test]
fn the_handover_channel_follows_the_proxy_port() {
    let mut sim = ready();
    let count = |sim: &Sim, cmd: &str| {
        sim.sent
            .iter()
            .filter(|s| s.args.join(" ") == format!("{cmd} __rsentinel__:handover"))
            .count()
    };
    for (port, subscribes, unsubscribes) in [("6380", 1, 0), ("6381", 1, 0), ("0", 1, 1)] {
        let line = format!("SENTINEL SET mymaster proxy {port}");
        assert_eq!(command(&mut sim, &line), Reply::ok());
        sim.tick_at(sim.now + 100); // the actions are drained with the next event
        assert_eq!(count(&sim, "SUBSCRIBE"), subscribes, "{line}");
        assert_eq!(count(&sim, "UNSUBSCRIBE"), unsubscribes, "{line}");
    }
}
