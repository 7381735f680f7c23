//! State-changing SENTINEL subcommands, replaying golden/resp/06-admin on a core in the
//! same state as s1 was, and checking replies, events and config flushes.

use crate::support::fixture::*;
use crate::support::golden;
use crate::support::resp::*;
use rsentinel::config::LogLevel;
use rsentinel::core::instance::{ConnKind, FailoverState, flags};
use rsentinel::core::{Action, GlobalOption, Sentinel};

/// s1 at the start of 06-admin: master 41002 after three failovers (epoch 3).
fn admin_core() -> Sentinel {
    let mut cfg = s1_config(41002, &[41001, 41000]);
    cfg.current_epoch = 3;
    cfg.masters[0].config_epoch = 3;
    cfg.masters[0].leader_epoch = 3;
    let mut core = core_from(&cfg);
    set_clock(&mut core, 1_795_300_554_528);
    connect_all(&mut core);
    healthy_replicas(&mut core, 41002);
    core.test_access().masters[0].common.runid = "a800851fe08fcaed137c19df54a9f05b87d2a251".into();
    core
}

/// Events the golden s1 published in `[from, to]` (unix ms), as (channel, payload).
fn golden_events(from: u64, to: u64) -> Vec<(String, String)> {
    let text = golden::text("events/events-s1.log");
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ' ');
            let t: u64 = it.next()?.parse().ok()?;
            let ch = it.next()?.to_string();
            let payload = it.next().unwrap_or("").to_string();
            (t >= from && t <= to).then_some((ch, payload))
        })
        .collect()
}

/// Replay transcript entries `range` (1-based file numbers) of 06-admin, asserting each
/// reply byte for byte; returns the actions they produced.
fn replay(core: &mut Sentinel, first: usize, last: usize) -> Vec<Action> {
    let t = golden::transcript("06-admin");
    for (_, cmd, file) in &t[first - 1..last] {
        let got = resp2(&run(core, cmd));
        assert_eq!(show(&got), show(&golden::resp(file)), "{cmd}");
    }
    core.drain_actions()
}

fn flushes(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::PersistConfig))
        .count()
}

#[test]
fn set_applies_options_in_order_with_events_and_partial_application() {
    let mut core = admin_core();
    let actions = replay(&mut core, 1, 7);
    assert_eq!(
        events(&actions),
        golden_events(1_795_300_554_528, 1_795_300_554_534)
    );
    // One flush per SET command, including the one that failed after applying quorum.
    assert_eq!(flushes(&actions), 7);
    let m = &core.masters()[0];
    assert_eq!(m.failover_timeout_ms, 10000);
    assert_eq!(m.master_reboot_down_after_period_ms, 1000);
    assert_eq!(m.auth_pass.as_deref(), Some("secretpw"));
    assert_eq!(m.auth_user.as_deref(), Some("someuser"));
    assert_eq!(m.renamed("config"), "GUESSME");
    // auth-pass / auth-user drop the master and replica connections.
    assert!(actions.contains(&Action::Close {
        link: link_of_master(&core),
        conn: ConnKind::PubSub
    }));
    let master = pairs(&parse(&resp2(&run(&mut core, "SENTINEL MASTER mymaster"))));
    assert!(master.contains(&("flags".into(), "master,disconnected".into())));
    // The +set events run the notification script (warning level).
    assert!(actions.iter().all(|a| match a {
        Action::Event { level, script, .. } =>
            *level == LogLevel::Warning && script.as_deref() == Some("/tmp/sg/notify.sh"),
        _ => true,
    }));

    let actions = replay(&mut core, 17, 20);
    assert_eq!(
        events(&actions),
        golden_events(1_795_300_554_857, 1_795_300_554_860)
    );
    let m = &core.masters()[0];
    assert_eq!((m.auth_pass.clone(), m.auth_user.clone()), (None, None));
    assert!(m.rename_commands.is_empty());
}

#[test]
fn set_errors_after_changes_still_flush_but_reply_the_error() {
    let mut core = admin_core();
    let r = run(
        &mut core,
        "SENTINEL SET mymaster down-after-milliseconds 5000 quorum 0",
    );
    assert_eq!(
        show(&resp2(&r)),
        "-ERR Invalid argument '0' for SENTINEL SET 'quorum'\\r\\n "
    );
    let actions = core.drain_actions();
    assert_eq!(flushes(&actions), 1);
    assert_eq!(events(&actions).len(), 1);
    // down-after is propagated to every replica and sentinel of the master.
    let m = &core.masters()[0];
    assert!(m.replicas.iter().all(|r| r.common.down_after_ms == 5000));
    assert!(m.sentinels.iter().all(|s| s.common.down_after_ms == 5000));
    // An error on the first option flushes nothing.
    let r = run(&mut core, "SENTINEL SET mymaster rename-command \"\" X");
    assert_eq!(
        show(&resp2(&r)),
        "-ERR Invalid argument '' for SENTINEL SET 'rename-command'\\r\\n "
    );
    assert!(core.drain_actions().is_empty());
}

#[test]
fn config_set_and_get_round_trip() {
    let mut core = admin_core();
    let actions = replay(&mut core, 9, 16);
    // Six CONFIG SETs and FLUSHCONFIG flush; no event is published.
    assert_eq!(flushes(&actions), 7);
    assert!(events(&actions).is_empty());
    // sentinel-user / sentinel-pass drop the connections to the peer sentinels.
    let peer = core.masters()[0].sentinels[0].common.link;
    assert!(actions.contains(&Action::Close {
        link: peer,
        conn: ConnKind::Cmd
    }));
    let snap = core.config_snapshot();
    assert_eq!(snap.announce_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(snap.announce_port, 41100);
    assert_eq!(snap.sentinel_pass.as_deref(), Some("sentpass"));
    replay(&mut core, 21, 26);
    assert_eq!(core.sentinel_user(), None);
}

#[test]
fn monitor_and_remove_a_second_master() {
    let mut core = admin_core();
    let t = golden::transcript("06-admin");
    let (_, cmd, file) = &t[26];
    assert_eq!(resp2(&run(&mut core, cmd)), golden::resp(file));
    let actions = core.drain_actions();
    assert_eq!(actions[0], Action::PersistConfig, "flush before the event");
    assert_eq!(
        events(&actions),
        golden_events(1_795_300_555_166, 1_795_300_555_166)
    );
    // SENTINEL MASTER other 2 ms later: a fresh, never reached master.
    let now = clock(&mut core) + 2;
    set_clock(&mut core, now);
    replay(&mut core, 29, 31);
    let now = clock(&mut core);
    let info = rsentinel::commands::sentinel::info_sentinel_section(&core, now);
    assert_eq!(V::Bulk(Some(info)), parse(&golden::resp(&t[32].2)));
    replay(&mut core, 34, 35);

    let links_before = core.links().len();
    let actions = replay(&mut core, 37, 37);
    assert_eq!(
        events(&actions),
        golden_events(1_795_300_555_470, 1_795_300_555_470)
    );
    assert_eq!(flushes(&actions), 1);
    assert_eq!(core.links().len(), links_before - 1);
    assert_eq!(core.masters().len(), 1);
}

#[test]
fn monitor_uses_debug_defaults_and_validates_in_order() {
    let mut core = admin_core();
    run(
        &mut core,
        "SENTINEL DEBUG default-down-after 5000 DEFAULT-FAILOVER-TIMEOUT 7000",
    );
    assert_eq!(
        resp2(&run(&mut core, "SENTINEL MONITOR m2 ::1 7000 1")),
        b"+OK\r\n"
    );
    let m = core.master("m2").unwrap();
    assert_eq!(
        (m.common.down_after_ms, m.failover_timeout_ms),
        (5000, 7000)
    );
    // Quorum is checked before the port, the IP before the duplicate name.
    let r = run(&mut core, "SENTINEL MONITOR m2 bad-host x y");
    assert_eq!(resp2(&r), b"-ERR Invalid quorum\r\n");
    let r = run(&mut core, "SENTINEL MONITOR m2 bad-host 70000 1");
    assert_eq!(
        resp2(&r),
        b"-ERR Invalid IP address or hostname specified\r\n"
    );
    let r = run(&mut core, "SENTINEL MONITOR m2 127.0.0.1 70000 1");
    assert_eq!(resp2(&r), b"-ERR Invalid port number.\r\n");
    let now = clock(&mut core);
    core.set_global_option(now, GlobalOption::ResolveHostnames(true));
    let r = run(&mut core, "SENTINEL MONITOR m2 some-host 1 1");
    assert_eq!(resp2(&r), b"-ERR Duplicate master name.\r\n");
}

#[test]
fn votes_are_first_come_first_served_per_epoch() {
    let mut core = admin_core();
    set_clock(&mut core, 1_795_300_555_772);
    let actions = replay(&mut core, 39, 42);
    assert_eq!(
        events(&actions),
        golden_events(1_795_300_555_772, 1_795_300_555_772)
    );
    // Flush before each event.
    let kinds: Vec<&str> = actions
        .iter()
        .map(|a| match a {
            Action::PersistConfig => "flush",
            Action::Event { .. } => "event",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["flush", "event", "flush", "event"]);
    let now = clock(&mut core);
    let m = &core.masters()[0];
    assert_eq!(core.current_epoch(), 4);
    assert_eq!(m.leader_epoch, 4);
    // Voting for another sentinel pushes our own next attempt back.
    assert!(m.failover_start_time >= now && m.failover_start_time < now + 1000);
    // The epoch is persisted.
    assert_eq!(core.config_snapshot().current_epoch, 4);
    assert_eq!(core.config_snapshot().masters[0].leader_epoch, 4);
}

#[test]
fn voting_for_ourselves_does_not_delay_our_failover() {
    let mut core = admin_core();
    let now = clock(&mut core);
    let (_, leader, epoch) = core.is_master_down_by_addr(now, Some(0), 5, Some(MYID));
    assert_eq!((leader.as_deref(), epoch), (Some(MYID), 5));
    assert_eq!(core.masters()[0].failover_start_time, 0);
    // An old epoch does not move current-epoch and returns the existing vote.
    let (_, leader, epoch) = core.is_master_down_by_addr(now, Some(0), 2, Some(PEER1));
    assert_eq!((leader, epoch), (Some(MYID.to_string()), 5));
}

#[test]
fn reset_forgets_discovered_state_and_keeps_configuration() {
    let mut core = admin_core();
    set_clock(&mut core, 1_795_300_555_774);
    let t = golden::transcript("06-admin");
    let now = clock(&mut core);
    core.test_access().masters[0].common.info_refresh = now - 2082;
    core.test_access().masters[0].common.flags |= flags::S_DOWN;
    core.test_access().masters[0].leader = Some(PEER1.into());
    let replica_links: Vec<_> = core.masters()[0]
        .replicas
        .iter()
        .map(|r| r.common.link)
        .collect();
    let actions = replay(&mut core, 45, 47);
    assert_eq!(
        events(&actions),
        golden_events(1_795_300_555_774, 1_795_300_555_774)
    );
    assert_eq!(flushes(&actions), 0, "RESET does not flush");
    for l in replica_links {
        assert!(!core.links().contains_key(&l));
        assert!(actions.contains(&Action::Close {
            link: l,
            conn: ConnKind::Cmd
        }));
    }
    let m = &core.masters()[0];
    assert_eq!(m.leader, None);
    assert_eq!(m.leader_epoch, 3);
    assert_eq!(core.links().len(), 1, "only the master link is left");
    replay(&mut core, 48, 49);
    assert_eq!(resp2(&run(&mut core, &t[52].1)), golden::resp(&t[52].2));
}

#[test]
fn manual_failover_starts_a_forced_attempt() {
    // 04-manual-failover: master 41002 at epoch 1, replicas 41000 and 41001 healthy.
    let mut cfg = s1_config(41002, &[41000, 41001]);
    cfg.current_epoch = 1;
    cfg.masters[0].config_epoch = 1;
    let mut core = core_from(&cfg);
    set_clock(&mut core, 1_795_300_430_178);
    connect_all(&mut core);
    healthy_replicas(&mut core, 41002);
    core.test_access().masters[0].common.runid = "a800851fe08fcaed137c19df54a9f05b87d2a251".into();
    let t = golden::transcript("04-manual-failover");
    assert_eq!(resp2(&run(&mut core, &t[0].1)), golden::resp(&t[0].2));
    let actions = core.drain_actions();
    assert_eq!(
        actions[0],
        Action::Log {
            level: LogLevel::Warning,
            text: "Executing user requested FAILOVER of 'mymaster'".into()
        }
    );
    assert_eq!(
        events(&actions),
        golden_events(1_795_300_430_178, 1_795_300_430_178)
    );
    assert_eq!(flushes(&actions), 0, "starting an attempt does not flush");
    let now = clock(&mut core);
    let m = &core.masters()[0];
    assert_eq!(m.failover_state, FailoverState::WaitStart);
    assert_eq!(m.failover_epoch, 2);
    assert!(m.failover_start_time >= now && m.failover_start_time < now + 1000);
    assert_eq!(resp2(&run(&mut core, &t[1].1)), golden::resp(&t[1].2));
    let ours = parse(&resp2(&run(&mut core, &t[2].1)));
    assert_same_description(&ours, &parse(&golden::resp(&t[2].2)), &[]);
}

#[test]
fn replica_selection_prefers_priority_then_offset_then_runid() {
    let mut core = admin_core();
    core.test_access().masters[0].replicas[0].repl_offset = 10;
    core.test_access().masters[0].replicas[1].repl_offset = 20;
    assert_eq!(core.select_replica(0), Some(1));
    core.test_access().masters[0].replicas[0].priority = 50;
    assert_eq!(core.select_replica(0), Some(0));
    core.test_access().masters[0].replicas[0].priority = 100;
    core.test_access().masters[0].replicas[1].repl_offset = 10;
    core.test_access().masters[0].replicas[0].common.runid = "B".repeat(40);
    core.test_access().masters[0].replicas[1].common.runid = "a".repeat(40);
    assert_eq!(core.select_replica(0), Some(1));
    // Stale INFO disqualifies (30 s while the master is up, 5 s once it is SDOWN).
    let now = clock(&mut core) + 6000;
    set_clock(&mut core, now);
    let now = clock(&mut core);
    for l in core.test_access().links.values_mut() {
        l.last_avail_time = now;
    }
    assert_eq!(core.select_replica(0), Some(1));
    core.test_access().masters[0].common.flags |= flags::S_DOWN;
    core.test_access().masters[0].common.s_down_since = now;
    assert_eq!(core.select_replica(0), None);
}

#[test]
fn script_paths_need_permission_and_an_executable() {
    // 10-sim: deny-scripts-reconfig no; is_executable is faked to accept /tmp/sg/*.
    let mut cfg = s1_config(41220, &[]);
    cfg.masters[0].name = "sim".into();
    cfg.deny_scripts_reconfig = false;
    let mut core = core_from(&cfg);
    let t = golden::transcript("10-sim");
    for i in [1, 2, 3, 5, 6] {
        assert_eq!(
            resp2(&run(&mut core, &t[i].1)),
            golden::resp(&t[i].2),
            "{}",
            t[i].1
        );
    }
    let m = &core.masters()[0];
    assert_eq!(m.notification_script, None);
    assert_eq!(m.client_reconfig_script, None);
    let ev = events(&core.drain_actions());
    assert_eq!(
        ev[0].1,
        "master sim 127.0.0.1 41220 notification-script /tmp/sg/notify.sh"
    );
    assert_eq!(
        ev.last().unwrap().1,
        "master sim 127.0.0.1 41220 client-reconfig-script "
    );
    // CONFIG SET announce-ip "" reads back as "".
    for i in [7, 8] {
        assert_eq!(
            resp2(&run(&mut core, &t[i].1)),
            golden::resp(&t[i].2),
            "{}",
            t[i].1
        );
    }
}

#[test]
fn simulate_failure_and_debug_knobs() {
    let mut core = admin_core();
    let t = golden::transcript("11-simfail");
    for (_, cmd, file) in &t {
        let got = if cmd.starts_with("INFO") {
            let now = clock(&mut core);
            let info = rsentinel::commands::sentinel::info_sentinel_section(&core, now);
            let flags_line = |s: &str| {
                s.lines()
                    .find(|l| l.starts_with("sentinel_simulate_failure_flags"))
                    .unwrap()
                    .to_string()
            };
            let V::Bulk(Some(gold)) = parse(&golden::resp(file)) else {
                panic!()
            };
            assert_eq!(flags_line(&info), flags_line(&gold));
            continue;
        } else {
            resp2(&run(&mut core, cmd))
        };
        assert_eq!(got, golden::resp(file), "{cmd}");
    }
    assert_eq!(core.simfailure_flags(), 1);
    let r = run(
        &mut core,
        "SENTINEL SIMULATE-FAILURE crash-after-promotion bogus",
    );
    assert_eq!(resp2(&r), b"-ERR Unknown failure simulation specified\r\n");
    assert_eq!(
        core.simfailure_flags(),
        2,
        "flags set before the error stay"
    );

    let r = run(&mut core, "SENTINEL DEBUG ask-period 500 tilt-period 0");
    assert_eq!(
        resp2(&r),
        b"-ERR Invalid argument '0' for SENTINEL DEBUG 'tilt-period'\r\n"
    );
    assert_eq!(core.timing().ask_period, 500, "applied left to right");
    assert_eq!(core.timing().tilt_period, 30000);
    assert_eq!(
        resp2(&run(&mut core, "SENTINEL DEBUG script-retry-delay 2000")),
        b"+OK\r\n"
    );
    assert_eq!(core.timing().script_retry_delay, 2000);
    assert!(
        core.drain_actions()
            .iter()
            .all(|a| !matches!(a, Action::PersistConfig))
    );
}
