//! INFO parsing and its reactions: replica discovery from a real INFO text, run ids and
//! +reboot, role changes, +convert-to-slave, +fix-slave-config, the transaction bytes.

use crate::support::fixture::*;
use crate::support::golden;
use crate::support::resp::wire;
use rsentinel::core::MasterOption;
use rsentinel::core::info::parse_info;
use rsentinel::core::instance::Role;
use rsentinel::core::monitor::Inst;
use rsentinel::resp::Reply;

const AT: &str = "@ mymaster 127.0.0.1 41000";

/// The three INFO texts of golden INFO-CACHE (master 41000, replicas 41002, 41001).
fn golden_infos() -> Vec<String> {
    golden::bulks("resp/01-steady/021-sentinel-info-cache-mymaster.resp")
        .into_iter()
        .filter(|b| b.starts_with("# Server"))
        .collect()
}

/// Connected standard topology with the golden master INFO applied.
fn discovered() -> Sim {
    let mut sim = Sim::standard();
    sim.tick_at(sim.now + 100);
    let info = &golden_infos()[0];
    sim.answer_all("INFO", info_reply(info));
    sim
}

#[test]
fn replicas_discovered_from_real_master_info_with_flush_each() {
    let sim = discovered();
    assert_eq!(
        sim.events_since(0),
        vec![
            format!("+slave slave 127.0.0.1:41002 127.0.0.1 41002 {AT}"),
            format!("+slave slave 127.0.0.1:41001 127.0.0.1 41001 {AT}"),
        ]
    );
    assert_eq!(sim.persists, 2);
    let m = &sim.core.masters()[0];
    assert_eq!(m.common.runid, "5044831637e1482f35e442a2e3df00f9ef2ce376");
    assert_eq!(m.common.info.as_deref(), Some(golden_infos()[0].as_str()));
    // Known replicas are persisted.
    let snap = sim.core.config_snapshot();
    assert_eq!(
        snap.masters[0].known_replicas,
        vec![
            ("127.0.0.1".to_string(), 41002),
            ("127.0.0.1".to_string(), 41001)
        ]
    );
}

#[test]
fn repeated_info_adds_nothing_and_new_runid_is_a_reboot() {
    let mut sim = discovered();
    let n = sim.events.len();
    sim.core.test_access().masters[0].common.info_refresh = 0;
    sim.tick_at(sim.now + 100);
    sim.answer_on(sim.master_link(), "INFO", info_reply(&golden_infos()[0]));
    assert!(sim.events_since(n).is_empty());
    sim.core.test_access().masters[0].common.info_refresh = 0;
    sim.tick_at(sim.now + 100);
    let other = golden_infos()[0].replace("run_id:5044", "run_id:9999");
    sim.answer_on(sim.master_link(), "INFO", info_reply(&other));
    assert_eq!(
        sim.events_since(n),
        vec!["+reboot master mymaster 127.0.0.1 41000".to_string()]
    );
}

#[test]
fn replica_fields_parsed_from_real_replica_info() {
    let mut sim = discovered();
    sim.tick_at(sim.now + 100);
    let infos = golden_infos();
    sim.answer_on(
        sim.replica_link("127.0.0.1:41002"),
        "INFO",
        info_reply(&infos[1]),
    );
    let r = sim.core.masters()[0].replica("127.0.0.1:41002").unwrap();
    assert_eq!(r.common.runid, "a800851fe08fcaed137c19df54a9f05b87d2a251");
    assert_eq!(r.slave_master_host.as_deref(), Some("127.0.0.1"));
    assert_eq!(r.slave_master_port, 41000);
    assert!(r.master_link_status_up);
    assert_eq!(r.priority, 100);
    assert!(r.repl_offset > 0);
    assert_eq!(r.common.role_reported, Role::Slave);
    // Role matches the configured kind: nothing to report.
    assert!(!sim.events.iter().any(|(_, c, _)| c.contains("role-change")));
}

#[test]
fn parser_handles_old_slave_format_and_ignores_replication_fields_before_role() {
    let p = parse_info(
        "master_host:10.0.0.1\r\nslave0:10.0.0.2,6380,online\r\nrole:slave\r\nmaster_port:6379\r\nmaster_link_status:UP\r\nslave_priority:0\r\nreplica_announced:0\r\n",
    );
    assert_eq!(p.replicas, vec![("10.0.0.2".to_string(), 6380)]);
    assert_eq!(p.master_host, None);
    assert_eq!(p.master_port, Some(6379));
    assert_eq!(p.master_link_up, Some(true));
    assert_eq!(p.priority, Some(0));
    assert_eq!(p.announced, Some(false));
}

#[test]
fn hostname_replica_without_resolve_hostnames_is_skipped_with_log() {
    let mut sim = Sim::standard();
    sim.tick_at(sim.now + 100);
    let text = "run_id:0000000000000000000000000000000000000000\r\nrole:master\r\nslave0:ip=localhost,port=41211,state=online,offset=1,lag=0\r\n";
    sim.answer_all("INFO", info_reply(text));
    assert!(sim.core.masters()[0].replicas.is_empty());
    // Twice, as redis-sentinel 7.0.15 logs it: the lookup, then the creation attempt.
    assert_eq!(
        sim.logs,
        vec!["Failed to resolve hostname 'localhost'".to_string(); 2]
    );
}

/// Replica 41001 known, healthy and sane master; returns the sim after 20 s.
fn sane() -> Sim {
    let mut sim = Sim::standard();
    sim.tick_at(sim.now + 100);
    sim.answer_all("INFO", info_reply(&master_info(&"a".repeat(40), &[41001])));
    sim.tick_at(sim.now + 100);
    let rl = sim.replica_link("127.0.0.1:41001");
    sim.answer_on(
        rl,
        "INFO",
        info_reply(&replica_info(&"b".repeat(40), 41000, true)),
    );
    sim
}

/// Keep everything healthy; INFO of the master as master, of the replica as `rinfo`.
fn run_with_info(sim: &mut Sim, ms: u64, rinfo: &str) {
    let end = sim.now + ms;
    let master = master_info(&"a".repeat(40), &[41001]);
    while sim.now < end {
        sim.run(100, 100, true);
        sim.answer_on(sim.master_link(), "INFO", info_reply(&master));
        let rl = sim.replica_link("127.0.0.1:41001");
        sim.answer_on(rl, "INFO", info_reply(rinfo));
    }
}

#[test]
fn restarted_old_master_is_converted_after_8s() {
    let mut sim = sane();
    let n = sim.events.len();
    let t0 = sim.now;
    // The replica now says it is a master; polled every 10 s.
    sim.core.test_access().masters[0].replicas[0]
        .common
        .info_refresh = 0;
    run_with_info(&mut sim, 20_000, &master_info(&"b".repeat(40), &[]));
    let ev = sim.events_since(n);
    let id = format!("slave 127.0.0.1:41001 127.0.0.1 41001 {AT}");
    assert_eq!(
        ev[0],
        format!("-role-change {id} new reported role is master")
    );
    assert_eq!(ev[1], format!("+convert-to-slave {id}"));
    let at = sim
        .events
        .iter()
        .find(|e| e.1 == "+convert-to-slave")
        .unwrap()
        .0;
    // Role first seen at t0+100; next INFO (10 s later) is past the 8 s grace.
    assert!(at - t0 > 8000 && at - t0 <= 10_300, "{}", at - t0);
    let rl = sim.replica_link("127.0.0.1:41001");
    let tx: Vec<_> = sim
        .sends_on(rl)
        .into_iter()
        .skip_while(|a| a[0] != "MULTI")
        .take(6)
        .collect();
    let expect: Vec<Vec<&str>> = vec![
        vec!["MULTI"],
        vec!["SLAVEOF", "127.0.0.1", "41000"],
        vec!["CONFIG", "REWRITE"],
        vec!["CLIENT", "KILL", "TYPE", "normal"],
        vec!["CLIENT", "KILL", "TYPE", "pubsub"],
        vec!["EXEC"],
    ];
    assert_eq!(tx, expect);
}

#[test]
fn no_conversion_while_in_tilt_but_role_change_still_reported() {
    let mut sim = sane();
    let t = sim.core.test_access();
    *t.tilt = true;
    *t.tilt_start_time = sim.now;
    let n = sim.events.len();
    sim.core.test_access().masters[0].replicas[0]
        .common
        .info_refresh = 0;
    run_with_info(&mut sim, 20_000, &master_info(&"b".repeat(40), &[]));
    let ev = sim.events_since(n);
    assert!(ev.iter().any(|e| e.starts_with("-role-change")));
    assert!(!ev.iter().any(|e| e.starts_with("+convert-to-slave")));
}

#[test]
fn replica_following_wrong_master_is_fixed_after_failover_timeout() {
    let mut sim = sane();
    let n = sim.events.len();
    let t0 = sim.now;
    sim.core.test_access().masters[0].replicas[0]
        .common
        .info_refresh = 0;
    run_with_info(
        &mut sim,
        22_000,
        &replica_info(&"b".repeat(40), 41009, true),
    );
    let ev = sim.events_since(n);
    let fix = format!("+fix-slave-config slave 127.0.0.1:41001 127.0.0.1 41001 {AT}");
    // Re-sent on each INFO while the (fake) replica keeps ignoring it.
    assert!(!ev.is_empty() && ev.iter().all(|e| *e == fix), "{ev:?}");
    let at = sim
        .events
        .iter()
        .find(|e| e.1 == "+fix-slave-config")
        .unwrap()
        .0;
    assert!(
        at - t0 > 10_000,
        "failover-timeout 10000 since the config change"
    );
}

#[test]
fn promotion_transaction_matches_golden_bytes_through_rename_map() {
    let mut sim = sane();
    let rl = sim.replica_link("127.0.0.1:41001");
    let from = sim.sent.len();
    assert!(
        sim.core
            .test_send_slaveof(sim.now, Inst::Replica(0, 0), None)
    );
    let actions = sim.core.drain_actions();
    let bytes: Vec<u8> = actions
        .iter()
        .filter_map(|a| match a {
            rsentinel::core::Action::Send { link, args, .. } if *link == rl => Some(
                args.iter()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flat_map(|a| wire(&a))
        .collect();
    let golden = b"*1\r\n$5\r\nMULTI\r\n*3\r\n$7\r\nSLAVEOF\r\n$2\r\nNO\r\n$3\r\nONE\r\n*2\r\n$6\r\nCONFIG\r\n$7\r\nREWRITE\r\n*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$4\r\nTYPE\r\n$6\r\nnormal\r\n*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$4\r\nTYPE\r\n$6\r\npubsub\r\n*1\r\n$4\r\nEXEC\r\n";
    assert_eq!(bytes, golden.to_vec());
    assert_eq!(sim.sent.len(), from);
    // With a rename map every command name is mapped.
    let rename = MasterOption::RenameCommand("slaveof".into(), "SLV".into());
    let now = sim.now;
    sim.core
        .set_master_option(now, 0, rename, "rename-command slaveof SLV");
    sim.core
        .test_send_slaveof(sim.now, Inst::Replica(0, 0), Some(("127.0.0.1", 41000)));
    let renamed =
        sim.core.drain_actions().into_iter().any(
            |a| matches!(a, rsentinel::core::Action::Send { ref args, .. } if args[0] == "SLV"),
        );
    assert!(renamed);
    let _ = Reply::ok();
}

/// Fuzz finding (issue #15, target info_parse): an INFO reply with a multi-byte
/// character (or the U+FFFD of invalid bytes) across byte 47 of `run_id:`, or right
/// after `master_link_down_since_seconds`, panicked on a char boundary. Redis copies 40
/// raw bytes / atoi()s the rest; so do we, without panicking.
#[test]
fn info_with_multibyte_characters_at_the_cuts_does_not_panic() {
    let run_id = format!("run_id:{}\u{fffd}tail", "a".repeat(38));
    let p = rsentinel::core::info::parse_info(&format!("# Server\r\n{run_id}\r\nrole:master\r\n"));
    let got = p.run_id.expect("run_id");
    assert!(got.starts_with(&"a".repeat(38)), "{got:?}");
    let p = rsentinel::core::info::parse_info(
        "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_link_down_since_secondsé5\r\n",
    );
    assert_eq!(p.master_link_down_ms, 0);
    let p = rsentinel::core::info::parse_info("role:slave\r\nmaster_link_down_since_seconds:7\r\n");
    assert_eq!(p.master_link_down_ms, 7000);
    // Second finding: a huge number overflowed the conversion to milliseconds.
    let p = rsentinel::core::info::parse_info(
        "role:slave\r\nmaster_link_down_since_seconds:9223372036854775807\r\n",
    );
    assert_eq!(p.master_link_down_ms, i64::MAX as u64);
}
