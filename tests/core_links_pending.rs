//! `link-pending-commands` as redis-sentinel counts it, and the hello queued in the very
//! timer run that (re)connects a link.

use crate::support::fixture::*;
use crate::support::golden;
use rsentinel::config::MasterConfig;
use rsentinel::core::instance::ConnKind;
use rsentinel::core::{Action, Event};

/// The `link-pending-commands` values of a golden SENTINEL MASTER/SENTINELS reply.
fn golden_pending(path: &str) -> Vec<u32> {
    let b = golden::bulks(path);
    b.iter()
        .enumerate()
        .filter(|(_, k)| *k == "link-pending-commands")
        .map(|(i, _)| b[i + 1].parse().unwrap())
        .collect()
}

/// Refuse every connection the core opens, like instances with nothing listening.
fn refuse_new_connects(sim: &mut Sim, from: &mut usize) {
    let connects: Vec<_> = sim.all[*from..]
        .iter()
        .filter_map(|a| match a {
            Action::Connect { link, conn, .. } => Some((*link, *conn)),
            _ => None,
        })
        .collect();
    *from = sim.all.len();
    for (link, conn) in connects {
        sim.feed(Event::Disconnected {
            link,
            conn,
            error: "Connection refused".into(),
        });
    }
}

#[test]
fn dead_master_and_sentinels_count_like_the_ckquorum_golden() {
    // golden/conf/ckq.0-initial.conf: nothing listens on 41311..41313.
    let mut m = MasterConfig::new("q", "127.0.0.1", 41313, 2);
    m.down_after_ms = 1000;
    m.known_sentinels = vec![
        ("127.0.0.1".into(), 41311, "1".repeat(40)),
        ("127.0.0.1".into(), 41312, "2".repeat(40)),
    ];
    let mut sim = Sim::new(config(vec![m]));
    sim.auto_connect = false;
    let mut seen = 0;
    // The golden replies were taken ~3.4 s after start.
    for _ in 0..34 {
        sim.tick_at(sim.now + 100);
        refuse_new_connects(&mut sim, &mut seen);
    }
    let master = sim.core.links()[&sim.master_link()].pending_commands;
    assert_eq!(
        vec![master],
        golden_pending("resp/15-ckquorum/006-sentinel-master-q.resp")
    );
    // PING, INFO and the hello stay counted; both CLIENT SETNAMEs were released.
    let sentinels: Vec<u32> = sim.core.masters()[0]
        .sentinels
        .iter()
        .map(|s| sim.core.links()[&s.common.link].pending_commands)
        .collect();
    assert_eq!(
        sentinels,
        golden_pending("resp/15-ckquorum/007-sentinel-sentinels-q.resp")
    );
}

#[test]
fn replies_release_every_counted_command_including_pubsub_handshake() {
    let mut m = master_cfg();
    m.auth_pass = Some("masterpw".into());
    let mut sim = Sim::new(config(vec![m]));
    sim.tick_at(sim.now + 100);
    let ml = sim.master_link();
    // AUTH + SETNAME on both connections, PING, INFO.
    assert_eq!(sim.core.links()[&ml].pending_commands, 6);
    for cmd in ["AUTH", "CLIENT"] {
        sim.answer_all(cmd, rsentinel::resp::Reply::ok());
    }
    sim.answer_all("PING", rsentinel::resp::Reply::Status("PONG".into()));
    assert_eq!(sim.core.links()[&ml].pending_commands, 1);
    // SUBSCRIBE is not counted and carries no request id.
    let sub = sim.sent.iter().find(|s| s.args[0] == "SUBSCRIBE").unwrap();
    assert!(sub.req.is_none());
}

#[test]
fn hello_of_a_reconnect_is_queued_in_the_same_run_like_the_golden_monitor() {
    let mut sim = Sim::standard();
    sim.run(1000, 100, true);
    let ml = sim.master_link();
    for conn in [ConnKind::Cmd, ConnKind::PubSub] {
        sim.feed(Event::Disconnected {
            link: ml,
            conn,
            error: "Server closed the connection".into(),
        });
    }
    // Down long enough for the hello to be due at the reconnect.
    sim.auto_connect = false;
    sim.tick_at(sim.now + 2100);
    let before = sim.sent.len();
    let pending_before = sim.core.links()[&ml].pending_commands;
    sim.feed(Event::Connected {
        link: ml,
        conn: ConnKind::Cmd,
        local_ip: "127.0.0.1".into(),
    });
    // The PUBLISH was counted before the address was known, then written after INFO.
    assert_eq!(sim.core.links()[&ml].pending_commands, pending_before);
    let after: Vec<&Sent> = sim.sent[before..].iter().collect();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].args[0], "PUBLISH");
    assert_eq!(
        after[0].args[2],
        format!("127.0.0.1,41100,{MYID},0,mymaster,127.0.0.1,41000,0")
    );
    let last_connect = sim
        .all
        .iter()
        .rposition(
            |a| matches!(a, Action::Connect { link, conn: ConnKind::Cmd, .. } if *link == ml),
        )
        .unwrap();
    let cmd_sends: Vec<String> = sim.all[last_connect..]
        .iter()
        .filter_map(|a| match a {
            Action::Send {
                link,
                conn: ConnKind::Cmd,
                args,
                ..
            } if *link == ml => Some(String::from_utf8_lossy(&args[0]).into_owned()),
            _ => None,
        })
        .collect();
    // golden/wire/monitor-on-restarted-old-master-41000.txt, sentinel-f9351bc3-cmd.
    let golden = golden::text("wire/monitor-on-restarted-old-master-41000.txt");
    let port = golden
        .lines()
        .find(|l| l.contains("sentinel-f9351bc3-cmd"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap()
        .to_string();
    let golden_cmds: Vec<String> = golden
        .lines()
        .filter(|l| l.contains(&port))
        .take(4)
        .map(|l| {
            l.split_whitespace()
                .nth(3)
                .unwrap()
                .trim_matches('"')
                .to_string()
        })
        .collect();
    assert_eq!(golden_cmds, ["CLIENT", "PING", "INFO", "PUBLISH"]);
    assert_eq!(cmd_sends, golden_cmds);
}

#[test]
fn requests_queued_behind_a_held_hello_keep_their_order() {
    let mut sim = Sim::standard();
    sim.auto_connect = false;
    sim.tick_at(sim.now + 2500); // first connect, hello already due
    let ml = sim.master_link();
    assert!(!sim.sent.iter().any(|s| s.args[0] == "PUBLISH"));
    // Another PING due before the connection reports in: held behind the hello.
    sim.tick_at(sim.now + 1100);
    let n = sim.sent.len();
    sim.feed(Event::Connected {
        link: ml,
        conn: ConnKind::Cmd,
        local_ip: "10.9.8.7".into(),
    });
    let released: Vec<&str> = sim.sent[n..].iter().map(|s| s.args[0].as_str()).collect();
    assert_eq!(released[0], "PUBLISH");
    assert!(released[1..].contains(&"PING"), "{released:?}");
    assert!(sim.sent[n].args[2].starts_with("10.9.8.7,41100,"));
}
