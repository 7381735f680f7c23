//! Read-only SENTINEL subcommands against golden/resp/01-steady, 07-priority,
//! 09-hostnames, 14-final and 15-ckquorum.

use crate::support::fixture::*;
use crate::support::golden;
use crate::support::resp::*;
use rsentinel::commands::sentinel::{info_sentinel_section, role_masters};
use rsentinel::core::Sentinel;
use rsentinel::core::instance::flags;

const MASTER_RUNID: &str = "5044831637e1482f35e442a2e3df00f9ef2ce376";
const R41002: &str = "a800851fe08fcaed137c19df54a9f05b87d2a251";
const R41001: &str = "ddee11067803543f9a34cb45f4f3f8abbf94e017";

/// s1 in the 01-steady state: everything discovered and connected.
pub(crate) fn steady() -> Sentinel {
    let mut core = core_from(&s1_config(41000, &[41002, 41001]));
    set_clock(&mut core, T0 + 60_000);
    connect_all(&mut core);
    healthy_replicas(&mut core, 41000);
    let now = clock(&mut core);
    let t = core.test_access();
    let m = &mut t.masters[0];
    m.common.runid = MASTER_RUNID.into();
    m.common.info_refresh = now - 7228;
    m.replicas[0].common.runid = R41002.into();
    m.replicas[1].common.runid = R41001.into();
    for r in &mut m.replicas {
        r.repl_offset = 7731;
    }
    for s in &mut m.sentinels {
        s.last_hello_time = now - 400;
    }
    core
}

fn steady_file(prefix: &str) -> V {
    parse(&golden::resp_file("01-steady", prefix))
}

#[test]
fn descriptions_match_steady_state_field_for_field() {
    let mut core = steady();
    let masters = parse(&resp2(&run(&mut core, "SENTINEL MASTERS")));
    let V::Array(Some(ours)) = masters else {
        panic!()
    };
    let V::Array(Some(gold)) = steady_file("005-") else {
        panic!()
    };
    assert_eq!(ours.len(), 1);
    assert_same_description(&ours[0], &gold[0], &[]);

    let ours = parse(&resp2(&run(&mut core, "SENTINEL MASTER mymaster")));
    assert_same_description(&ours, &steady_file("006-"), &[]);

    for (cmd, file) in [
        ("SENTINEL REPLICAS mymaster", "007-"),
        ("SENTINEL SLAVES mymaster", "008-"),
        ("SENTINEL SENTINELS mymaster", "009-"),
    ] {
        let V::Array(Some(ours)) = parse(&resp2(&run(&mut core, cmd))) else {
            panic!()
        };
        let V::Array(Some(gold)) = steady_file(file) else {
            panic!()
        };
        assert_eq!(ours.len(), gold.len(), "{cmd}");
        for (o, g) in ours.iter().zip(&gold) {
            assert_same_description(o, g, &[]);
        }
    }
}

#[test]
fn resp3_descriptions_are_maps() {
    let mut core = steady();
    let b = run(&mut core, "SENTINEL MASTER mymaster").to_bytes(3);
    assert!(b.starts_with(b"%22\r\n$4\r\nname\r\n$8\r\nmymaster\r\n"));
    let b = run(&mut core, "SENTINEL SENTINELS mymaster").to_bytes(3);
    assert!(b.starts_with(b"*2\r\n%14\r\n"), "{}", show(&b));
    let b = run(&mut core, "SENTINEL REPLICAS mymaster").to_bytes(3);
    assert!(b.starts_with(b"*2\r\n%21\r\n"), "{}", show(&b));
}

#[test]
fn fixed_replies_of_the_steady_phase_are_byte_exact() {
    let mut core = steady();
    for (cmd, file) in [
        ("SENTINEL MYID", "004-"),
        ("SENTINEL GET-MASTER-ADDR-BY-NAME mymaster", "010-"),
        ("SENTINEL GET-MASTER-ADDR-BY-NAME nosuch", "011-"),
        ("SENTINEL CKQUORUM mymaster", "012-"),
        ("SENTINEL PENDING-SCRIPTS", "013-"),
        ("SENTINEL DEBUG", "014-"),
        ("SENTINEL CONFIG GET *", "015-"),
        ("SENTINEL CONFIG GET announce-ip", "016-"),
        ("SENTINEL CONFIG GET announce-*", "017-"),
        ("SENTINEL CONFIG GET nosuch", "018-"),
        (
            "SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 41000 0 *",
            "019-",
        ),
        (
            "SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 40999 0 *",
            "020-",
        ),
        ("SENTINEL INFO-CACHE nosuch", "022-"),
        ("sentinel help", "023-"),
        ("SENTINEL SIMULATE-FAILURE HELP", "024-"),
    ] {
        let got = resp2(&run(&mut core, cmd));
        assert_eq!(
            show(&got),
            show(&golden::resp_file("01-steady", file)),
            "{cmd}"
        );
    }
    assert!(core.drain_actions().is_empty(), "read-only commands act");
}

#[test]
fn info_cache_reports_ages_and_cached_info_exactly() {
    let mut core = steady();
    let V::Array(Some(top)) = steady_file("021-") else {
        panic!()
    };
    let V::Array(Some(entries)) = &top[1] else {
        panic!()
    };
    let now = clock(&mut core);
    for e in entries {
        let V::Array(Some(pair)) = e else { panic!() };
        let (V::Int(age), V::Bulk(Some(info))) = (&pair[0], &pair[1]) else {
            panic!()
        };
        let port: u16 = info
            .split("tcp_port:")
            .nth(1)
            .unwrap()
            .split('\r')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let t = core.test_access();
        let m = &mut t.masters[0];
        let c = if port == 41000 {
            &mut m.common
        } else {
            &mut m
                .replicas
                .iter_mut()
                .find(|r| r.common.port == port)
                .unwrap()
                .common
        };
        c.info = Some(info.clone());
        c.info_refresh = now - *age as u64;
    }
    let got = resp2(&run(
        &mut core,
        "SENTINEL INFO-CACHE mymaster nosuch mymaster",
    ));
    assert_eq!(got, golden::resp_file("01-steady", "021-"));
}

#[test]
fn info_cache_of_a_never_polled_master_has_null_text_and_zero_ages() {
    let mut core = core_from(&s1_config(41000, &[41001]));
    let now = clock(&mut core) + 5000;
    set_clock(&mut core, now);
    let now = clock(&mut core);
    core.test_access().masters[0].replicas[0]
        .common
        .info_refresh = now - 100;
    let got = resp2(&run(&mut core, "SENTINEL INFO-CACHE mymaster"));
    assert_eq!(
        show(&got),
        show(b"*2\r\n$8\r\nmymaster\r\n*2\r\n*2\r\n:0\r\n$-1\r\n*2\r\n:0\r\n$-1\r\n")
    );
}

#[test]
fn is_master_down_reflects_sdown_but_not_in_tilt() {
    let mut core = steady();
    core.test_access().masters[0].common.flags |= flags::S_DOWN;
    let r = resp2(&run(
        &mut core,
        "SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 41000 0 *",
    ));
    assert_eq!(r, b"*3\r\n:1\r\n$1\r\n*\r\n:0\r\n");
    // Address lookup normalizes IPs and rejects hostnames without resolve-hostnames.
    let r = resp2(&run(
        &mut core,
        "SENTINEL IS-MASTER-DOWN-BY-ADDR localhost 41000 0 *",
    ));
    assert_eq!(r, b"*3\r\n:0\r\n$1\r\n*\r\n:0\r\n");
    *core.test_access().tilt = true;
    let r = resp2(&run(
        &mut core,
        "SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 41000 0 *",
    ));
    assert_eq!(r, b"*3\r\n:0\r\n$1\r\n*\r\n:0\r\n");
}

#[test]
fn info_section_and_role_list() {
    let mut core = steady();
    let now = clock(&mut core);
    let info = info_sentinel_section(&core, now);
    let gold = parse(&golden::resp_file("01-steady", "030-"));
    assert_eq!(V::Bulk(Some(info)), gold);
    core.test_access().masters[0].common.flags |= flags::S_DOWN;
    let now = clock(&mut core);
    assert!(info_sentinel_section(&core, now).contains("status=sdown,"));
    core.test_access().masters[0].common.flags |= flags::O_DOWN;
    *core.test_access().tilt = true;
    let now = clock(&mut core);
    *core.test_access().tilt_start_time = now - 1500;
    let now = clock(&mut core);
    let info = info_sentinel_section(&core, now);
    assert!(info.contains("status=odown,"));
    assert!(info.contains("sentinel_tilt:1\r\nsentinel_tilt_since_seconds:1\r\n"));
    assert_eq!(role_masters(&core), vec!["mymaster".to_string()]);
}

#[test]
fn unannounced_replicas_are_hidden_and_priority_zero_blocks_failover() {
    // 07-priority: master 41002, replicas 41001 and 41000 at priority 0, 41000 unannounced.
    let mut core = core_from(&s1_config(41002, &[41001, 41000]));
    let now = clock(&mut core) + 60_000;
    set_clock(&mut core, now);
    connect_all(&mut core);
    healthy_replicas(&mut core, 41002);
    for r in &mut core.test_access().masters[0].replicas {
        r.priority = 0;
        r.announced = r.common.port != 41000;
    }
    core.test_access().masters[0].replicas[0].common.runid =
        "a638e13bbe0f11f9d9564b65bc345b009f64d312".into();
    let V::Array(Some(ours)) = parse(&resp2(&run(&mut core, "SENTINEL REPLICAS mymaster"))) else {
        panic!()
    };
    let V::Array(Some(gold)) = parse(&golden::resp_file("07-priority", "001-")) else {
        panic!()
    };
    assert_eq!(ours.len(), 1);
    assert_same_description(&ours[0], &gold[0], &[]);
    let master = pairs(&parse(&resp2(&run(&mut core, "SENTINEL MASTER mymaster"))));
    assert!(master.contains(&("num-slaves".into(), "2".into())));
    let r = resp2(&run(&mut core, "SENTINEL FAILOVER mymaster"));
    assert_eq!(r, golden::resp_file("07-priority", "003-"));
    assert!(core.drain_actions().is_empty());
    // An unannounced replica is still a candidate.
    core.test_access().masters[0].replicas[1].priority = 100;
    assert_eq!(core.select_replica(0), Some(1));
}

#[test]
fn ckquorum_texts_follow_usable_peers() {
    // 15-ckquorum: master q, quorum 2, two known sentinels that never answer.
    let mut cfg = s1_config(41313, &[]);
    cfg.masters[0].name = "q".into();
    cfg.masters[0].notification_script = None;
    cfg.masters[0].client_reconfig_script = None;
    let mut core = core_from(&cfg);
    let transcript = golden::transcript("15-ckquorum");
    let check = |core: &mut Sentinel, i: usize| {
        let (_, cmd, file) = &transcript[i];
        assert_eq!(
            show(&resp2(&run(core, cmd))),
            show(&golden::resp(file)),
            "{cmd}"
        );
    };
    check(&mut core, 0);
    for s in &mut core.test_access().masters[0].sentinels {
        s.common.flags |= flags::S_DOWN;
    }
    check(&mut core, 1);
    check(&mut core, 2);
    check(&mut core, 3);
    check(&mut core, 4);
}

#[test]
fn down_instances_show_their_sdown_time_and_flags() {
    let mut cfg = s1_config(41313, &[]);
    cfg.masters[0].name = "q".into();
    cfg.masters[0].down_after_ms = 1000;
    cfg.masters[0].failover_timeout_ms = 180_000;
    cfg.masters[0].quorum = 3;
    cfg.masters[0].notification_script = None;
    cfg.masters[0].client_reconfig_script = None;
    cfg.masters[0].known_sentinels = vec![
        ("127.0.0.1".into(), 41311, "1".repeat(40)),
        ("127.0.0.1".into(), 41312, "2".repeat(40)),
    ];
    let mut core = core_from(&cfg);
    let now = clock(&mut core) + 3430;
    set_clock(&mut core, now);
    let now = clock(&mut core);
    core.test_access().masters[0].common.flags |= flags::S_DOWN;
    core.test_access().masters[0].common.s_down_since = now - 2400;
    for s in &mut core.test_access().masters[0].sentinels {
        s.common.flags |= flags::S_DOWN;
        s.common.s_down_since = now - 2400;
        s.last_hello_time = now - 3430;
    }
    let ours = parse(&resp2(&run(&mut core, "SENTINEL MASTER q")));
    let gold = parse(&golden::resp_file("15-ckquorum", "006-"));
    assert_same_description(&ours, &gold, &[]);
    // Fresh links of a never-reached instance: counters run from creation.
    assert_eq!(
        pairs(&ours),
        pairs(&gold)
            .into_iter()
            .map(|(k, v)| {
                if k == "link-pending-commands" {
                    (k, "0".into())
                } else {
                    (k, v)
                }
            })
            .collect::<Vec<_>>()
    );
    let V::Array(Some(ours)) = parse(&resp2(&run(&mut core, "SENTINEL SENTINELS q"))) else {
        panic!()
    };
    let V::Array(Some(gold)) = parse(&golden::resp_file("15-ckquorum", "007-")) else {
        panic!()
    };
    for (o, g) in ours.iter().zip(&gold) {
        assert_same_description(o, g, &[]);
    }
    let now = clock(&mut core);
    let info = info_sentinel_section(&core, now);
    let gold = parse(&golden::resp_file("15-ckquorum", "008-"));
    assert_eq!(V::Bulk(Some(info)), gold);
}

#[test]
fn hostname_mode_shows_hostnames() {
    let mut cfg = s1_config(41210, &[]);
    cfg.masters[0].name = "mh".into();
    cfg.masters[0].host = "localhost".into();
    cfg.announce_hostnames = true;
    cfg.resolve_hostnames = true;
    let mut core = core_from(&cfg);
    core.test_access().masters[0].common.ip = "127.0.0.1".into();
    let r = resp2(&run(&mut core, "SENTINEL GET-MASTER-ADDR-BY-NAME mh"));
    assert_eq!(r, golden::resp_file("09-hostnames", "003-"));
    run(&mut core, "SENTINEL CONFIG SET announce-hostnames no");
    let r = resp2(&run(&mut core, "SENTINEL GET-MASTER-ADDR-BY-NAME mh"));
    assert_eq!(show(&r), show(b"*2\r\n$9\r\n127.0.0.1\r\n$5\r\n41210\r\n"));
    // With resolve-hostnames, a peer may name the master by hostname.
    let r = resp2(&run(
        &mut core,
        "SENTINEL IS-MASTER-DOWN-BY-ADDR LOCALHOST 41210 0 *",
    ));
    assert_eq!(r, b"*3\r\n:0\r\n$1\r\n*\r\n:0\r\n");
}

/// The client query path encodes GET-MASTER-ADDR-BY-NAME in place: the same bytes as the
/// reply the SENTINEL command builds, in both protocols, known master or not, and with
/// hostnames announced or not.
#[test]
fn master_addr_encoded_in_place_matches_the_reply() {
    use rsentinel::commands::sentinel::{encode_master_addr, master_addr};
    let mut cfg = s1_config(41211, &[]);
    cfg.masters[0].host = "localhost".into();
    cfg.announce_hostnames = true;
    let mut core = core_from(&cfg);
    core.test_access().masters[0].common.ip = "127.0.0.1".into();
    for announce in ["yes", "no"] {
        run(
            &mut core,
            &format!("SENTINEL CONFIG SET announce-hostnames {announce}"),
        );
        for name in ["mymaster", "nosuch", ""] {
            for proto in [2, 3] {
                let mut ours = bytes::BytesMut::new();
                encode_master_addr(&core, name, proto, &mut ours);
                let want = master_addr(&core, name).to_bytes(proto);
                assert_eq!(show(&ours), show(&want), "{name} RESP{proto} {announce}");
            }
        }
    }
}
