//! Links: handshake bytes, periodic PING/INFO/hello cadence, link health, the pending
//! command budget and reconnection throttling.

use crate::support::fixture::*;
use crate::support::golden;
use crate::support::resp::wire;
use rsentinel::core::instance::ConnKind;
use rsentinel::core::{Action, Event, GlobalOption};
use rsentinel::resp::Reply;

fn golden_line(file: &str, n: usize) -> Vec<u8> {
    // The n-th quoted sendto payload of a strace excerpt, unescaped.
    let text = golden::text(&format!("wire/{file}"));
    let line = text
        .lines()
        .filter(|l| l.contains("sendto("))
        .nth(n)
        .unwrap();
    let start = line.find('"').unwrap() + 1;
    let end = line.rfind('"').unwrap();
    line[start..end]
        .replace("\\r", "\r")
        .replace("\\n", "\n")
        .into_bytes()
}

fn bytes_of(sim: &Sim, link: rsentinel::core::instance::LinkId, conn: ConnKind) -> Vec<u8> {
    sim.sent
        .iter()
        .filter(|s| s.link == link && s.conn == conn)
        .flat_map(|s| wire(&s.args))
        .collect()
}

#[test]
fn master_handshake_with_auth_matches_golden_bytes() {
    let mut m = master_cfg();
    m.auth_pass = Some("masterpw".into());
    let mut cfg = config(vec![m]);
    cfg.myid = Some(format!("8d81fafb{}", "0".repeat(32)));
    let mut sim = Sim::new(cfg);
    sim.auto_connect = false;
    sim.tick_at(sim.now + 100);
    let link = sim.master_link();
    // One tick: connect both halves, handshake, then INFO on the command connection.
    assert_eq!(
        bytes_of(&sim, link, ConnKind::Cmd),
        golden_line("strace-auth-handshakes.txt", 0)
    );
    assert_eq!(
        bytes_of(&sim, link, ConnKind::PubSub),
        golden_line("strace-auth-handshakes.txt", 1)
    );
    let connects: Vec<_> = sim
        .all
        .iter()
        .filter(|a| matches!(a, Action::Connect { .. }))
        .collect();
    assert_eq!(connects.len(), 2);
    // No hello before our local address is known.
    assert!(sim.pending("PUBLISH").is_empty());
}

#[test]
fn sentinel_peer_handshake_uses_sentinel_credentials() {
    let mut m = master_cfg();
    m.known_sentinels = vec![("127.0.0.1".into(), 41201, PEER1.into())];
    let mut cfg = config(vec![m]);
    cfg.myid = Some(format!("8f4cd2ea{}", "0".repeat(32)));
    cfg.sentinel_user = Some("admin".into());
    cfg.sentinel_pass = Some("adminpw".into());
    let mut sim = Sim::new(cfg);
    sim.auto_connect = false;
    sim.tick_at(sim.now + 100);
    let link = sim.sentinel_link(PEER1);
    // Spec §4.2 (observed on the ACL-user sentinel of the sec-* topology).
    let expected = b"*3\r\n$4\r\nAUTH\r\n$5\r\nadmin\r\n$7\r\nadminpw\r\n*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$21\r\nsentinel-8f4cd2ea-cmd\r\n*1\r\n$4\r\nPING\r\n";
    assert_eq!(bytes_of(&sim, link, ConnKind::Cmd), expected.to_vec());
    // Sentinels get no pub/sub connection and never INFO.
    assert!(bytes_of(&sim, link, ConnKind::PubSub).is_empty());
    assert!(sim.sends_on(link).iter().all(|a| a[0] != "INFO"));
}

#[test]
fn sentinel_peer_falls_back_to_requirepass() {
    let mut m = master_cfg();
    m.known_sentinels = vec![("127.0.0.1".into(), 41201, PEER1.into())];
    let cfg = config(vec![m]);
    let id = rsentinel::core::Identity {
        port: 41200,
        requirepass: Some("sentpw".into()),
        ..Default::default()
    };
    let mut cfg = cfg;
    cfg.myid = Some(format!("8d81fafb{}", "0".repeat(32)));
    let mut core = rsentinel::core::Sentinel::new(&cfg, id, 1, 1000);
    core.handle(1100, Event::Tick);
    let link = core.masters()[0].sentinels[0].common.link;
    let bytes: Vec<u8> = core
        .drain_actions()
        .into_iter()
        .filter_map(|a| match a {
            Action::Send { link: l, args, .. } if l == link => Some(args),
            _ => None,
        })
        .flat_map(|args| {
            wire(
                &args
                    .iter()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(bytes, golden_line("strace-auth-handshakes.txt", 4));
}

#[test]
fn hello_goes_out_after_connect_with_local_ip_and_golden_shape() {
    let mut sim = Sim::standard();
    // A new record counts as "just published": the first hello waits > 2000 ms.
    sim.run(2000, 100, true);
    assert!(!sim.sent.iter().any(|s| s.args[0] == "PUBLISH"));
    sim.tick_at(sim.now + 100);
    let p = sim.pending("PUBLISH");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].args[1], "__sentinel__:hello");
    assert_eq!(
        p[0].args[2],
        format!("127.0.0.1,41100,{MYID},0,mymaster,127.0.0.1,41000,0")
    );
    // announce-ip / announce-port take precedence.
    // (as SENTINEL CONFIG SET announce-ip / announce-port set them)
    let now = sim.now;
    sim.core
        .set_global_option(now, GlobalOption::AnnounceIp(Some("10.0.0.9".into())));
    sim.core
        .set_global_option(now, GlobalOption::AnnouncePort(5000));
    sim.answer_all("PUBLISH", Reply::Int(1));
    sim.run(2000, 100, true);
    sim.tick_at(sim.now + 100);
    let p = sim.pending("PUBLISH");
    assert_eq!(p.len(), 1);
    assert!(p[0].args[2].starts_with("10.0.0.9,5000,"));
}

#[test]
fn failed_publish_is_retried_next_tick() {
    let mut sim = Sim::standard();
    sim.run(2000, 100, true);
    sim.tick_at(sim.now + 100);
    sim.answer_all("PUBLISH", Reply::err("NOPERM no permission"));
    let before = sim.sent.iter().filter(|s| s.args[0] == "PUBLISH").count();
    sim.tick_at(sim.now + 100);
    let after = sim.sent.iter().filter(|s| s.args[0] == "PUBLISH").count();
    assert_eq!(after, before + 1);
}

#[test]
fn ping_cadence_is_about_once_per_second_and_half_period_rule() {
    // redis-sentinel's rule (the upstream rules of the simulation): a PING each time the
    // last PONG is > 1000 ms old, so every 1100 ms on a 100 ms tick.
    let mut sim = Sim::standard();
    sim.core.set_upstream_election(true);
    let start = sim.now;
    sim.run(10_000, 100, true);
    let pings = |sim: &Sim| -> Vec<u64> {
        sim.sent
            .iter()
            .filter(|s| s.args[0] == "PING" && s.link == sim.master_link())
            .map(|s| s.at - start)
            .collect()
    };
    let upstream = pings(&sim);
    assert_eq!(upstream[0], 100);
    for w in upstream.windows(2) {
        assert_eq!(w[1] - w[0], 1100, "{upstream:?}");
    }
    // rsentinel's (issue #14): a PING due within half a period rides with the hello or
    // INFO of the same tick, so no PING comes later than redis-sentinel's, none sooner
    // than half a period after the last, and about half of them share a write.
    let mut sim = Sim::standard();
    sim.run(10_000, 100, true);
    let ours = pings(&sim);
    assert_eq!(ours[0], 100);
    let carried_at = |t: u64| {
        sim.sent.iter().any(|s| {
            s.link == sim.master_link()
                && s.at - start == t
                && (s.args[0] == "PUBLISH" || s.args[0] == "INFO")
        })
    };
    let mut carried = 0;
    for w in ours.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap > 500 && gap <= 1100, "{ours:?}");
        if gap < 1100 {
            assert!(carried_at(w[1]), "early PING alone at {}: {ours:?}", w[1]);
            carried += 1;
        }
    }
    assert!(carried >= ours.len() / 3, "{ours:?}");
    // Without replies the resend waits for half the period after the last PING.
    let mut m = master_cfg();
    m.down_after_ms = 400; // effective period = min(400, 1000) = 400
    let mut sim = Sim::new(config(vec![m]));
    sim.tick_at(sim.now + 100);
    let t0 = sim.now;
    sim.run(1000, 100, false);
    let pings: Vec<u64> = sim
        .sent
        .iter()
        .filter(|s| s.args[0] == "PING")
        .map(|s| s.at - t0)
        .collect();
    // last_pong = creation time (t0-100): due when > 400 ms old and last ping > 200.
    assert_eq!(pings, vec![0, 400, 700, 1000]);
}

#[test]
fn info_every_10s_and_every_1s_when_replica_link_down() {
    let mut sim = Sim::standard();
    sim.run(100, 100, true);
    sim.answer_all("INFO", info_reply(&master_info(&"a".repeat(40), &[41001])));
    let t0 = sim.now;
    sim.run(25_000, 100, true);
    let ml = sim.master_link();
    let infos: Vec<u64> = sim
        .sent
        .iter()
        .filter(|s| s.args[0] == "INFO" && s.link == ml && s.at > t0)
        .map(|s| s.at - t0)
        .collect();
    // No reply to the later INFOs: re-sent every tick once 10 s passed.
    assert_eq!(infos[0], 10_100);
    // A replica reporting its master link down is polled every second.
    let rl = sim.replica_link("127.0.0.1:41001");
    let mut text = replica_info(&"b".repeat(40), 41000, false);
    text.push_str("master_link_down_since_seconds:5\r\n");
    sim.answer_on(rl, "INFO", info_reply(&text));
    assert_eq!(
        sim.core.masters()[0].replicas[0].master_link_down_time,
        5000
    );
    let t1 = sim.now;
    sim.run(1100, 100, true);
    let sent: Vec<u64> = sim
        .pending("INFO")
        .iter()
        .filter(|s| s.link == rl)
        .map(|s| s.at - t1)
        .collect();
    assert_eq!(sent, vec![1100]);
}

#[test]
fn pending_budget_stops_sends_at_100_per_link_ref() {
    let mut sim = Sim::standard();
    // redis-sentinel's schedule, which sends INFO and hellos again on every tick while
    // unanswered: rsentinel keeps one of each in flight, so only its PINGs would pile up,
    // and the link is closed for silence long before they reach the budget.
    sim.core.set_upstream_election(true);
    sim.tick_at(sim.now + 100);
    // Nobody ever answers: INFO/PUBLISH/PING pile up until the budget is spent.
    sim.run(60_000, 100, false);
    let ml = sim.master_link();
    // Checked once per tick before INFO/PING/PUBLISH, so it may overshoot by a few.
    let n = sim.core.links()[&ml].pending_commands;
    assert!((100..103).contains(&n), "{n}");
    let before = sim.sent.len();
    sim.tick_at(sim.now + 100);
    assert!(sim.sent[before..].iter().all(|s| s.link != ml));
}

#[test]
fn disconnect_keeps_pending_count_until_reconnect_throttled_by_ping_period() {
    let mut sim = Sim::standard();
    sim.tick_at(sim.now + 100);
    let ml = sim.master_link();
    // CLIENT SETNAME (cmd), PING, INFO, CLIENT SETNAME (pubsub); the first hello waits 2 s.
    assert_eq!(sim.core.links()[&ml].pending_commands, 4);
    sim.feed(Event::Disconnected {
        link: ml,
        conn: ConnKind::Cmd,
        error: "Connection refused".into(),
    });
    assert!(sim.core.links()[&ml].disconnected());
    // The SETNAME's discard callback still decrements; PING and INFO stay counted.
    assert_eq!(sim.core.links()[&ml].pending_commands, 3);
    sim.feed(Event::Disconnected {
        link: ml,
        conn: ConnKind::PubSub,
        error: "Connection refused".into(),
    });
    assert_eq!(sim.core.links()[&ml].pending_commands, 2);
    let connects = |sim: &Sim| {
        sim.all
            .iter()
            .filter(
                |a| matches!(a, Action::Connect { link, conn: ConnKind::Cmd, .. } if *link == ml),
            )
            .count()
    };
    let c0 = connects(&sim);
    sim.tick_at(sim.now + 500);
    assert_eq!(connects(&sim), c0, "reconnect throttled for 1000 ms");
    sim.tick_at(sim.now + 600);
    assert_eq!(connects(&sim), c0 + 1);
    // Re-created: counting restarts (SETNAME x2, PING, and INFO: none received yet).
    assert_eq!(sim.core.links()[&ml].pending_commands, 4);
}

#[test]
fn dead_but_open_command_connection_is_closed_after_15s() {
    let mut m = master_cfg();
    m.down_after_ms = 30_000;
    let mut sim = Sim::new(config(vec![m]));
    sim.tick_at(sim.now + 100);
    let ml = sim.master_link();
    let t0 = sim.now;
    // PINGs go unanswered; close when conn age > 15 s and ping pending > 15 s.
    sim.run(15_000, 100, false);
    assert!(!sim.all.iter().any(|a| matches!(a, Action::Close { .. })));
    sim.run(200, 100, false);
    let close = sim.all.iter().position(|a| {
        *a == Action::Close {
            link: ml,
            conn: ConnKind::Cmd,
        }
    });
    assert!(close.is_some(), "closed by {}", sim.now - t0);
}

#[test]
fn silent_pubsub_connection_is_closed() {
    let mut sim = Sim::standard();
    sim.run(15_200, 100, true);
    // No hello arrived on the subscription for > 6 s after 15 s of age.
    let ml = sim.master_link();
    assert!(sim.all.iter().any(|a| *a
        == Action::Close {
            link: ml,
            conn: ConnKind::PubSub
        }));
}

#[test]
fn pubsub_activity_keeps_subscription_open_and_rename_applies() {
    let mut m = master_cfg();
    m.rename_commands = vec![("ping".into(), "MYPING".into())];
    let mut sim = Sim::new(config(vec![m]));
    for _ in 0..40 {
        sim.run(500, 100, false);
        sim.answer_all("MYPING", Reply::Status("PONG".into()));
        sim.hello_on_master(&format!(
            "127.0.0.1,41101,{PEER1},0,mymaster,127.0.0.1,41000,0"
        ));
    }
    let ml = sim.master_link();
    assert!(
        !sim.all
            .iter()
            .any(|a| matches!(a, Action::Close { link, .. } if *link == ml))
    );
    assert!(sim.sent.iter().any(|s| s.args[0] == "MYPING"));
    assert!(!sim.sent.iter().any(|s| s.args[0] == "PING" && s.link == ml));
}

/// One INFO and one hello in flight per instance (issue #14). redis-sentinel sends another
/// on every tick until the reply is in; when a burst of replies is late (1,000 masters'
/// INFO arriving together) that turned into more INFO and more hellos per tick, longer
/// bursts, and links seconds behind.
#[test]
fn an_unanswered_info_or_hello_is_not_sent_again_until_answered_or_the_link_drops() {
    let mut sim = Sim::standard();
    let ml = sim.master_link();
    let sent = |sim: &Sim, cmd: &str| {
        sim.sent
            .iter()
            .filter(|s| s.link == ml && s.args[0] == cmd)
            .count()
    };
    // The first INFO is never answered: it is sent again only once it has been in flight
    // for down-after (2 s here; a link silent that long is closed anyway), not on every
    // tick (redis-sentinel: 120 in these 12 s).
    sim.run(12_000, 100, true);
    let at: Vec<u64> = sim
        .sent
        .iter()
        .filter(|s| s.link == ml && s.args[0] == "INFO")
        .map(|s| s.at - 1_000_000)
        .collect();
    assert_eq!(at, [100, 2100, 4100, 6100, 8100, 10100]);
    // Answered: the next one a period later, as before.
    sim.answer_on(ml, "INFO", info_reply(&master_info(&"a".repeat(40), &[])));
    sim.run(10_200, 100, true);
    assert_eq!(sent(&sim, "INFO"), 7);
    // A hello nobody answers (PINGs are) is not repeated either until down-after.
    let hellos = sent(&sim, "PUBLISH");
    for _ in 0..15 {
        sim.tick_at(sim.now + 100);
        sim.answer_all("PING", Reply::Status("PONG".into()));
    }
    assert_eq!(sent(&sim, "PUBLISH"), hellos + 1);
    // The connection drops: what was in flight is forgotten, and the hello goes out again
    // on the new connection.
    sim.feed(Event::Disconnected {
        link: ml,
        conn: ConnKind::Cmd,
        error: "Connection reset by peer".into(),
    });
    sim.tick_at(sim.now + 100);
    assert_eq!(sent(&sim, "PUBLISH"), hellos + 2);
}
