//! Links that cannot authenticate, at the level of the pure core: a pub/sub connection
//! whose SUBSCRIBE is refused is dropped at once and re-dialled once per ping period,
//! the link reads `disconnected` meanwhile, SDOWN follows down-after after the first
//! re-dial's PING, and a working SUBSCRIBE ends it (see tests-integration/auth_links.rs
//! for the same against the real binary).

use bytes::Bytes;
use rsentinel::config::{MasterConfig, SentinelConfig};
use rsentinel::core::instance::{ConnKind, LinkId, ReqId};
use rsentinel::core::{Action, Event, Identity, Sentinel};
use rsentinel::resp::Reply;

const MYID: &str = "f9351bc32a024bcd4d518040ae807e61bcbe50b5";
const DOWN_AFTER: u64 = 3000;

struct World {
    core: Sentinel,
    now: u64,
    /// Unanswered tracked requests: (link, conn, req, command name).
    pending: Vec<(LinkId, ConnKind, ReqId, String)>,
    /// SUBSCRIBEs sent (untracked), with their send time.
    subscribes: Vec<u64>,
    connects: Vec<(u64, ConnKind)>,
    closes: Vec<(u64, ConnKind)>,
    events: Vec<(u64, String)>,
    /// Answer every Connect with Connected right away.
    auto_connect: bool,
}

impl World {
    fn new() -> World {
        let mut m = MasterConfig::new("mymaster", "127.0.0.1", 41000, 2);
        m.down_after_ms = DOWN_AFTER;
        let cfg = SentinelConfig {
            myid: Some(MYID.into()),
            masters: vec![m],
            ..Default::default()
        };
        let id = Identity {
            port: 41100,
            ..Default::default()
        };
        World {
            core: Sentinel::new(&cfg, id, 7, 1_000_000),
            now: 1_000_000,
            pending: Vec::new(),
            subscribes: Vec::new(),
            connects: Vec::new(),
            closes: Vec::new(),
            events: Vec::new(),
            auto_connect: true,
        }
    }

    fn link(&self) -> LinkId {
        self.core.masters()[0].common.link
    }

    fn feed(&mut self, ev: Event) {
        self.core.handle(self.now, ev);
        let mut connected = Vec::new();
        for a in self.core.drain_actions() {
            match a {
                Action::Send {
                    link,
                    conn,
                    req,
                    args,
                } => {
                    let name = String::from_utf8_lossy(&args[0]).into_owned();
                    match req {
                        Some(r) => self.pending.push((link, conn, r, name)),
                        None if name == "SUBSCRIBE" => self.subscribes.push(self.now),
                        None => {}
                    }
                }
                Action::Connect { link, conn, .. } => {
                    self.connects.push((self.now, conn));
                    if self.auto_connect {
                        connected.push((link, conn));
                    }
                }
                Action::Close { conn, .. } => self.closes.push((self.now, conn)),
                Action::Event { channel, .. } => self.events.push((self.now, channel)),
                _ => {}
            }
        }
        for (link, conn) in connected {
            self.feed(Event::Connected {
                link,
                conn,
                local_ip: "127.0.0.1".into(),
            });
        }
    }

    /// Answer every pending request: `ok` decides the reply per command name.
    fn answer(&mut self, reply: impl Fn(&str) -> Reply) {
        for (link, _, req, name) in std::mem::take(&mut self.pending) {
            let r = reply(&name);
            self.feed(Event::Reply {
                link,
                req,
                reply: r,
            });
        }
    }

    fn flags(&self) -> String {
        let m = &self.core.masters()[0];
        let l = &self.core.links()[&m.common.link];
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
    let mut w = World::new();
    // A refused connect is silent; one that cannot even start (bind-source-addr) is
    // logged at debug level, as hiredis reports it from the connect call.
    w.auto_connect = false;
    w.now += 100;
    w.feed(Event::Tick);
    let link = w.link();
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
    assert!(
        w.events
            .iter()
            .any(|(_, c)| c == "-pubsub-link-reconnection"),
        "{:?}",
        w.events
    );
    w.events.clear();
    w.pending.retain(|p| p.1 == ConnKind::Cmd);
    for _ in 0..20 {
        w.now += 100;
        w.feed(Event::Tick);
        w.answer(healthy);
    }
    assert_eq!(w.flags(), "master");
    let link = w.link();
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
    w.subscribes.clear();
    let mut subscribed_at = 0;
    let mut sdown_at = None;
    let mut connected_polls = 0;
    while w.now < killed + DOWN_AFTER + 1500 {
        w.now += 100;
        w.feed(Event::Tick);
        w.answer(noauth);
        if w.subscribes.len() > subscribed_at {
            subscribed_at = w.subscribes.len();
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
        let f = w.flags();
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
    assert!(w.events.iter().any(|(_, c)| c == "+sdown"));
    // Neither the kill of established connections nor the refused SUBSCRIBEs are
    // logged (redis-sentinel's disconnect callback is silent).
    let reconn = w
        .events
        .iter()
        .filter(|(_, c)| c.contains("link-reconnection"))
        .count();
    assert_eq!(reconn, 0, "{:?}", w.events);

    // Credentials work again: the next re-dial subscribes (no error) and PINGs.
    let before = w.subscribes.len();
    let mut recovered = None;
    let start = w.now;
    while w.now < start + 3000 && recovered.is_none() {
        w.now += 100;
        w.feed(Event::Tick);
        w.answer(healthy);
        if w.subscribes.len() > before && w.flags() == "master" {
            recovered = Some(w.now - start);
        }
    }
    let r = recovered.expect("recovered");
    assert!(r <= 1200, "recovered after {r} ms");
    assert!(w.events.iter().any(|(_, c)| c == "-sdown"));
}
