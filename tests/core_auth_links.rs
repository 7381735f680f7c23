//! Links that cannot authenticate, at the level of the pure core: a pub/sub connection
//! whose SUBSCRIBE is refused is dropped at once and re-dialled once per ping period,
//! the link reads `disconnected` meanwhile, SDOWN follows down-after after the first
//! re-dial's PING, and a working SUBSCRIBE ends it (see tests-integration/auth_links.rs
//! for the same against the real binary).

use crate::support::fixture::{MYID, Sim};
use bytes::Bytes;
use rsentinel::config::{MasterConfig, SentinelConfig};
use rsentinel::core::Event;
use rsentinel::core::instance::ConnKind;
use rsentinel::resp::Reply;

const DOWN_AFTER: u64 = 3000;

/// The fixture's core over `mymaster` with down-after [`DOWN_AFTER`].
fn world() -> Sim {
    let mut m = MasterConfig::new("mymaster", "127.0.0.1", 41000, 2);
    m.down_after_ms = DOWN_AFTER;
    Sim::new(SentinelConfig {
        myid: Some(MYID.into()),
        masters: vec![m],
        ..Default::default()
    })
}

/// The flags SENTINEL MASTER would show (s_down, master, disconnected).
fn flags(w: &Sim) -> String {
    let m = &w.core.masters()[0];
    let l = &w.core.links()[&m.common.link];
    let mut f = Vec::new();
    if m.common.flags & rsentinel::core::instance::flags::S_DOWN != 0 {
        f.push("s_down");
    }
    f.push("master");
    if l.disconnected() {
        f.push("disconnected");
    }
    f.join(",")
}

/// Has the core published an event on `channel`?
fn published(w: &Sim, channel: &str) -> bool {
    w.events.iter().any(|(_, c, _)| c == channel)
}

fn healthy(name: &str) -> Reply {
    match name {
        "PING" => Reply::Status("PONG".into()),
        "INFO" => Reply::Bulk(Bytes::from_static(b"# Replication\r\nrole:master\r\n")),
        "PUBLISH" => Reply::Int(1),
        _ => Reply::ok(),
    }
}

fn noauth(_: &str) -> Reply {
    Reply::Error("NOAUTH Authentication required.".into())
}

#[test]
fn refused_subscribe_keeps_the_link_disconnected_until_credentials_work() {
    let mut w = world();
    // A refused connect is silent; one that cannot even start (bind-source-addr) is
    // logged at debug level, as hiredis reports it from the connect call.
    w.auto_connect = false;
    w.now += 100;
    w.feed(Event::Tick);
    let link = w.master_link();
    w.feed(Event::Disconnected {
        link,
        conn: ConnKind::PubSub,
        error: "Connection refused".into(),
    });
    assert!(w.events.is_empty(), "{:?}", w.events);
    w.now += 1100;
    w.feed(Event::Tick);
    w.feed(Event::ConnectFailed {
        link,
        conn: ConnKind::PubSub,
        error: "Can't bind socket: Cannot assign requested address".into(),
    });
    w.auto_connect = true;
    w.feed(Event::Connected {
        link,
        conn: ConnKind::Cmd,
        local_ip: "127.0.0.1".into(),
    });
    assert!(published(&w, "-pubsub-link-reconnection"), "{:?}", w.events);
    w.events.clear();
    // Requests pending on the pub/sub connection stay unanswered.
    for s in w.sent.iter_mut().filter(|s| s.conn != ConnKind::Cmd) {
        s.answered = true;
    }
    for _ in 0..20 {
        w.now += 100;
        w.feed(Event::Tick);
        w.answer_each(healthy);
    }
    assert_eq!(flags(&w), "master");
    let link = w.master_link();
    // The server killed both connections; from now on nothing authenticates.
    for conn in [ConnKind::Cmd, ConnKind::PubSub] {
        w.feed(Event::Disconnected {
            link,
            conn,
            error: "Server closed the connection".into(),
        });
    }
    let killed = w.now;
    w.connects.clear();
    let mut subscribed_at = w.untracked("SUBSCRIBE");
    let mut sdown_at = None;
    let mut connected_polls = 0;
    while w.now < killed + DOWN_AFTER + 1500 {
        w.now += 100;
        w.feed(Event::Tick);
        w.answer_each(noauth);
        if w.untracked("SUBSCRIBE") > subscribed_at {
            subscribed_at = w.untracked("SUBSCRIBE");
            let closes = w.closes.len();
            w.feed(Event::UntrackedError {
                link,
                conn: ConnKind::PubSub,
                error: "NOAUTH Authentication required.".into(),
            });
            // Dropped on the spot, nothing logged or published for it.
            assert_eq!(w.closes.len(), closes + 1);
            assert_eq!(w.closes.last().unwrap().1, ConnKind::PubSub);
        }
        let f = flags(&w);
        if !f.contains("disconnected") {
            connected_polls += 1;
        }
        if sdown_at.is_none() && f.contains("s_down") {
            sdown_at = Some(w.now - killed);
        }
    }
    assert_eq!(connected_polls, 0, "the link never reads connected");
    // One command-connection re-dial; the pub/sub half once per second.
    let cc: Vec<u64> = w
        .connects
        .iter()
        .filter(|c| c.1 == ConnKind::Cmd)
        .map(|c| c.0)
        .collect();
    assert_eq!(cc.len(), 1, "{:?}", w.connects);
    let pc: Vec<u64> = w
        .connects
        .iter()
        .filter(|c| c.1 == ConnKind::PubSub)
        .map(|c| c.0)
        .collect();
    assert!(pc.len() >= 4, "{pc:?}");
    for pair in pc.windows(2) {
        assert!((1000..=1100).contains(&(pair[1] - pair[0])), "{pc:?}");
    }
    // SDOWN down-after after the first re-dial's PING (which went unanswered validly).
    let sd = sdown_at.expect("SDOWN");
    assert!(
        (DOWN_AFTER..=DOWN_AFTER + 300).contains(&sd),
        "SDOWN at {sd}"
    );
    assert!(published(&w, "+sdown"));
    // Neither the kill of established connections nor the refused SUBSCRIBEs are
    // logged (redis-sentinel's disconnect callback is silent).
    let reconn = w
        .events
        .iter()
        .filter(|(_, c, _)| c.contains("link-reconnection"))
        .count();
    assert_eq!(reconn, 0, "{:?}", w.events);

    // Credentials work again: the next re-dial subscribes (no error) and PINGs.
    let before = w.untracked("SUBSCRIBE");
    let mut recovered = None;
    let start = w.now;
    while w.now < start + 3000 && recovered.is_none() {
        w.now += 100;
        w.feed(Event::Tick);
        w.answer_each(healthy);
        if w.untracked("SUBSCRIBE") > before && flags(&w) == "master" {
            recovered = Some(w.now - start);
        }
    }
    let r = recovered.expect("recovered");
    assert!(r <= 1200, "recovered after {r} ms");
    assert!(published(&w, "-sdown"));
}
